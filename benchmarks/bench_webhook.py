"""P4: sustained TradingView alerts/s through the webhook, p50/p99 latency, durable commits.

Creates a throwaway database (from ``TEST_DATABASE_URL``, default the local server's ``postgres``
database), migrates it, starts ``alphapulse webhook serve`` (uvicorn, one process) on 127.0.0.1,
and drives it from a loopback load generator (asyncio, a minimal HTTP/1.1 keep-alive client, 64
connections) on the same machine — so the generator and the service share the CPU:

1. open loop at the goal rate (``--rate``, default 500 alerts/s) for ``--seconds`` (default 10):
   every alert is new (a distinct idempotency key) and committed before its answer; latency is
   measured from the scheduled send time, so a server that falls behind shows it;
2. closed loop, ``--concurrency`` senders as fast as they can, for the same time: the ceiling;
3. reference in the same run: the same rows inserted straight into PostgreSQL through a psycopg
   connection pool (one autocommit INSERT ... ON CONFLICT per alert, the same concurrency): what the
   database allows without HTTP, parsing or validation.

Prints alerts/s and p50/p99 latency for each, the ratios to the goal (>= 500 alerts/s at
p99 <= 50 ms), the p99 as a share of TradingView's 3 s limit, and webhook ÷ reference; medians of
``--repeat`` (default 3) repetitions, run back to back so the machine's load is shared alike.

    .venv/bin/python benchmarks/bench_webhook.py [--seconds 10] [--rate 500] [--concurrency 32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool

from alphapulse_tools.store.migrations import migrate
from alphapulse_webhook import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, fill_placeholders, validate_alert
from alphapulse_webhook.store import INSERT_ALERT, AlertRecord

SECRET = "bench-secret-" + uuid.uuid4().hex
TOKEN = "bench-token-" + uuid.uuid4().hex
GOAL_RATE = 500.0
GOAL_P99_MS = 50.0
TRADINGVIEW_LIMIT_MS = 3000.0


def message(number: int, run: str) -> str:
    values = {"ticker": f"B{run}{number}", "exchange": "BINANCE", "interval": "60",
              "strategy.order.action": "buy", "strategy.order.price": "42000.5",
              "time": "2024-01-31T13:00:00Z", "strategy.order.contracts": "0.1",
              "strategy.position_size": "0.1", "strategy.order.id": "Long",
              "strategy.order.comment": "bench"}
    return fill_placeholders(MESSAGE_TEMPLATE.replace(SECRET_PLACEHOLDER, SECRET), values)


class Connection:
    """A minimal HTTP/1.1 keep-alive client for loopback load (httpx itself would be the bottleneck)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for header in head.split(b"\r\n"):
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def open_loop(port: int, rate: float, seconds: float, run: str,
                    connections: int = 64) -> tuple[float, list[float], int]:
    """Send at ``rate``/s on schedule over a pool of connections; (achieved rate, latencies ms, failures)."""
    latencies: list[float] = []
    failures = 0
    total = int(rate * seconds)
    bodies = [message(n, run).encode() for n in range(total)]
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(Connection(port))
    start = time.perf_counter()

    async def one(number: int) -> None:
        nonlocal failures
        scheduled = start + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await idle.get()
        try:
            status, answer = await connection.post("/webhook/tradingview", bodies[number])
            ok = status == 200 and json.loads(answer)["status"] == "stored"
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            connection = Connection(port)
            ok = False
        idle.put_nowait(connection)
        if ok:
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            failures += 1

    await asyncio.gather(*(one(n) for n in range(total)))
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return len(latencies) / elapsed, latencies, failures


async def closed_loop(port: int, concurrency: int, seconds: float, run: str) -> tuple[float, list[float], int]:
    """``concurrency`` senders, each on its own connection, as fast as answers come."""
    latencies: list[float] = []
    failures = 0
    counter = 0
    start = time.perf_counter()
    stop = start + seconds

    async def sender() -> None:
        nonlocal failures, counter
        connection = Connection(port)
        while time.perf_counter() < stop:
            counter += 1
            body = message(counter, run).encode()
            sent = time.perf_counter()
            try:
                status, _ = await connection.post("/webhook/tradingview", body)
                ok = status == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                connection.close()
                connection = Connection(port)
                ok = False
            if ok:
                latencies.append((time.perf_counter() - sent) * 1000)
            else:
                failures += 1
        connection.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, failures


async def reference(url: str, concurrency: int, seconds: float, run: str) -> tuple[float, list[float], int]:
    """The same rows straight into PostgreSQL: one autocommit INSERT per alert, same concurrency."""
    received = datetime.now(UTC)
    latencies: list[float] = []
    counter = 0
    async with AsyncConnectionPool(url, min_size=concurrency, max_size=concurrency,
                                   kwargs={"autocommit": True}) as pool:
        await pool.wait()
        start = time.perf_counter()
        stop = start + seconds

        async def writer() -> None:
            nonlocal counter
            while time.perf_counter() < stop:
                counter += 1
                alert = validate_alert(json.loads(message(counter, run)))
                params = AlertRecord.from_alert(alert, "127.0.0.1", received).params()
                sent = time.perf_counter()
                async with pool.connection() as conn:
                    await conn.execute(INSERT_ALERT, params)
                latencies.append((time.perf_counter() - sent) * 1000)

        await asyncio.gather(*(writer() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, 0


@dataclass(frozen=True, slots=True)
class Run:
    """One phase of one repetition: achieved alerts/s, latency p50/p99 (ms), failed requests."""

    rate: float
    p50: float
    p99: float
    failures: int

    @classmethod
    def of(cls, result: tuple[float, list[float], int]) -> Run:
        rate, latencies, failures = result
        return cls(rate, percentile(latencies, 0.5), percentile(latencies, 0.99), failures)


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.rate for r in runs), statistics.median(r.p50 for r in runs),
               statistics.median(r.p99 for r in runs), sum(r.failures for r in runs))


def line(name: str, runs: list[Run]) -> str:
    m = median_run(runs)
    each = " / ".join(f"{r.p99:.0f}" for r in runs)
    return f"{name:<34} {m.rate:>9.0f} {m.p50:>9.1f} {m.p99:>9.1f} {m.failures:>7}   {each}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="open-loop rate (alerts/s)")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop senders")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (medians are reported)")
    args = parser.parse_args()
    pool = min(args.concurrency, 16)

    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"alphapulse_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        commit_mode = admin.execute("SHOW synchronous_commit").fetchone()
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    server: subprocess.Popen[bytes] | None = None
    runs: dict[str, list[Run]] = {"open": [], "closed": [], "reference": []}
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        port = free_port()
        env = {**os.environ, "ALPHAPULSE_DATABASE_URL": url, "ALPHAPULSE_WEBHOOK_SECRET": SECRET,
               "ALPHAPULSE_FEED_TOKEN": TOKEN, "ALPHAPULSE_SPOOL_DIR": tempfile.mkdtemp(prefix="bench-spool-"),
               "ALPHAPULSE_RATE_LIMIT_PER_MINUTE": "1e9", "ALPHAPULSE_RATE_LIMIT_BURST": "1000000",
               "ALPHAPULSE_POOL_MIN_SIZE": str(pool), "ALPHAPULSE_POOL_MAX_SIZE": str(pool)}
        server = subprocess.Popen([sys.executable, "-m", "alphapulse_tools.cli", "webhook", "serve",
                                   "--port", str(port), "--log-level", "warning"], env=env)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).json().get("status") == "ready":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        asyncio.run(closed_loop(port, 4, 1.0, "warm"))  # warm-up: connections, pool, imports
        for number in range(args.repeat):
            runs["open"].append(Run.of(asyncio.run(open_loop(port, args.rate, args.seconds, f"o{number}-"))))
            runs["closed"].append(Run.of(asyncio.run(
                closed_loop(port, args.concurrency, args.seconds, f"c{number}-"))))
            runs["reference"].append(Run.of(asyncio.run(reference(url, pool, args.seconds, f"r{number}-"))))
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM alerts").fetchone()
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=15)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]

    load = os.getloadavg()[0]
    print(f"webhook P4 — {os.cpu_count()} CPUs (load average {load:.1f}), synchronous_commit="
          f"{commit_mode[0] if commit_mode else '?'}, {args.seconds:.0f} s per phase, median of {args.repeat}, "
          "load generator on the same machine")
    print(f"{'phase':<34} {'alerts/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'failed':>7}   p99 of each run")
    print(line(f"webhook, open loop at {args.rate:.0f}/s", runs["open"]))
    print(line(f"webhook, closed loop x{args.concurrency}", runs["closed"]))
    print(line(f"reference: psycopg INSERT x{pool}", runs["reference"]))
    opened, closed, ref = (median_run(runs[k]) for k in ("open", "closed", "reference"))
    met = opened.p99 <= GOAL_P99_MS and opened.rate >= 0.98 * GOAL_RATE
    print()
    print(f"goal rate:  open loop achieved {opened.rate:.0f}/s = {opened.rate / GOAL_RATE:.2f} x 500/s; "
          f"closed-loop ceiling {closed.rate:.0f}/s = {closed.rate / GOAL_RATE:.2f} x 500/s")
    print(f"goal p99:   {opened.p99:.1f} ms at {args.rate:.0f}/s = {opened.p99 / GOAL_P99_MS:.2f} x 50 ms "
          f"({'met' if met else 'NOT met'})")
    print(f"3 s limit:  p99 is {opened.p99 / TRADINGVIEW_LIMIT_MS:.4f} of TradingView's 3 s "
          f"(closed-loop p99 {closed.p99 / TRADINGVIEW_LIMIT_MS:.4f})")
    print(f"vs reference: webhook ceiling / direct INSERT rate = {closed.rate / ref.rate:.2f}")
    if row is not None:
        print(f"rows stored: {row[0]} ({row[1]} distinct keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
