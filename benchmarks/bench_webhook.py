"""P4: sustained TradingView alerts/s through the webhook, p50/p99 latency, durable commits.

Creates a throwaway database (from ``TEST_DATABASE_URL``, default the local server's ``postgres``
database), migrates it, starts ``alphapulse webhook serve`` (uvicorn, one process) on 127.0.0.1,
and drives it from a loopback load generator (httpx, asyncio, keep-alive connections) on the same
machine — so the generator and the service share the CPU:

1. open loop at the goal rate (``--rate``, default 500 alerts/s) for ``--seconds`` (default 10):
   every alert is new (a distinct idempotency key) and committed before its answer; latency is
   measured from the scheduled send time, so a server that falls behind shows it;
2. closed loop, ``--concurrency`` senders as fast as they can, for the same time: the ceiling;
3. reference in the same run: the same rows inserted straight into PostgreSQL through a psycopg
   connection pool (one autocommit INSERT ... ON CONFLICT per alert, the same concurrency): what the
   database allows without HTTP, parsing or validation.

Prints alerts/s and p50/p99 latency for each, the ratios to the goal (>= 500 alerts/s at
p99 <= 50 ms), the p99 as a share of TradingView's 3 s limit, and webhook ÷ reference.

    .venv/bin/python benchmarks/bench_webhook.py [--seconds 10] [--rate 500] [--concurrency 32]
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
from datetime import UTC, datetime

import httpx
import psycopg
from alphapulse_tools.store.migrations import migrate
from alphapulse_webhook import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, fill_placeholders, validate_alert
from alphapulse_webhook.store import INSERT_ALERT, AlertRecord
from psycopg_pool import AsyncConnectionPool

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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def open_loop(base: str, rate: float, seconds: float, run: str) -> tuple[float, list[float], int]:
    """Send at ``rate``/s on schedule; returns (achieved rate, latencies in ms, failures)."""
    latencies: list[float] = []
    failures = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:
        start = time.perf_counter()

        async def one(number: int) -> None:
            nonlocal failures
            scheduled = start + number / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                response = await client.post("/webhook/tradingview", content=message(number, run))
                ok = response.status_code == 200 and response.json()["status"] == "stored"
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - scheduled) * 1000)
            else:
                failures += 1

        await asyncio.gather(*(one(n) for n in range(total)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, failures


async def closed_loop(base: str, concurrency: int, seconds: float, run: str) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = 0
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:
        start = time.perf_counter()
        stop = start + seconds

        async def sender() -> None:
            nonlocal failures, counter
            while time.perf_counter() < stop:
                counter += 1
                sent = time.perf_counter()
                try:
                    response = await client.post("/webhook/tradingview", content=message(counter, run))
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    failures += 1

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


def line(name: str, rate: float, latencies: list[float], failures: int) -> str:
    return (f"{name:<34} {rate:>9.0f} {statistics.median(latencies) if latencies else float('nan'):>9.1f} "
            f"{percentile(latencies, 0.99):>9.1f} {failures:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=GOAL_RATE)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"alphapulse_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        commit_mode = admin.execute("SHOW synchronous_commit").fetchone()
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    server: subprocess.Popen[bytes] | None = None
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        port = free_port()
        env = {**os.environ, "ALPHAPULSE_DATABASE_URL": url, "ALPHAPULSE_WEBHOOK_SECRET": SECRET,
               "ALPHAPULSE_FEED_TOKEN": TOKEN, "ALPHAPULSE_SPOOL_DIR": tempfile.mkdtemp(prefix="bench-spool-"),
               "ALPHAPULSE_RATE_LIMIT_PER_MINUTE": "1e9", "ALPHAPULSE_RATE_LIMIT_BURST": "1000000",
               "ALPHAPULSE_POOL_MIN_SIZE": str(min(args.concurrency, 16)),
               "ALPHAPULSE_POOL_MAX_SIZE": str(min(args.concurrency, 16))}
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
        asyncio.run(closed_loop(base, 4, 1.0, "warm"))  # warm-up: connections, pool, imports

        results = {
            "open": asyncio.run(open_loop(base, args.rate, args.seconds, "open")),
            "closed": asyncio.run(closed_loop(base, args.concurrency, args.seconds, "closed")),
            "reference": asyncio.run(reference(url, min(args.concurrency, 16), args.seconds, "ref")),
        }
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM alerts").fetchone()
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=15)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"webhook P4 — {os.cpu_count()} CPUs, synchronous_commit={commit_mode[0] if commit_mode else '?'}, "
          f"{args.seconds:.0f} s per phase, load generator on the same machine")
    print(f"{'phase':<34} {'alerts/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'failed':>8}")
    print(line(f"webhook, open loop at {args.rate:.0f}/s", *results["open"]))
    print(line(f"webhook, closed loop x{args.concurrency}", *results["closed"]))
    print(line(f"reference: psycopg INSERT x{min(args.concurrency, 16)}", *results["reference"]))
    open_rate, open_lat, _ = results["open"]
    closed_rate, closed_lat, _ = results["closed"]
    ref_rate = results["reference"][0]
    p99 = percentile(open_lat, 0.99)
    print()
    print(f"goal rate:  open-loop achieved {open_rate:.0f}/s = {open_rate / GOAL_RATE:.2f} x 500/s; "
          f"closed-loop ceiling {closed_rate:.0f}/s = {closed_rate / GOAL_RATE:.2f} x 500/s")
    print(f"goal p99:   {p99:.1f} ms at {args.rate:.0f}/s = {p99 / GOAL_P99_MS:.2f} x 50 ms "
          f"({'met' if p99 <= GOAL_P99_MS and open_rate >= 0.98 * GOAL_RATE else 'NOT met'})")
    print(f"3 s limit:  p99 is {p99 / TRADINGVIEW_LIMIT_MS:.4f} of TradingView's 3 s "
          f"(closed-loop p99 {percentile(closed_lat, 0.99) / TRADINGVIEW_LIMIT_MS:.4f})")
    print(f"vs reference: webhook ceiling / direct INSERT rate = {closed_rate / ref_rate:.2f}")
    if row is not None:
        print(f"rows stored: {row[0]} ({row[1]} distinct keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
