"""Fixtures for the webhook: a migrated database, settings, alert messages, a real server process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from alphapulse_tools.store.migrations import migrate
from alphapulse_webhook import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, Settings, fill_placeholders, load_settings

SECRET = "test-secret-0123456789abcdef"
FEED_TOKEN = "test-feed-token-0123456789"


@pytest.fixture(scope="session")
def alerts_db(database_url: str) -> str:
    """The session's database with the project's schema (``alerts`` included)."""
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    return database_url


@pytest.fixture
def make_settings(alerts_db: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: its own spool folder, generous rate limits unless overridden."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": alerts_db, "webhook_secret": SECRET, "feed_token": FEED_TOKEN,
            "spool_dir": tmp_path / "spool", "rate_limit_per_minute": 1_000_000, "rate_limit_burst": 100_000,
            "pool_min_size": 1, "pool_max_size": 4, "replay_interval_seconds": 0.2,
        }
        values.update(overrides)
        return load_settings(**values)

    return build


def tradingview_values(**fields: str) -> dict[str, str]:
    """Placeholder values as TradingView fills them for one strategy order (a fresh ticker)."""
    values = {
        "ticker": f"T{uuid.uuid4().hex[:10].upper()}", "exchange": "BINANCE", "interval": "60",
        "strategy.order.action": "buy", "strategy.order.price": "42000.5", "time": "2024-01-31T13:00:00Z",
        "strategy.order.contracts": "0.25", "strategy.position_size": "0.25",
        "strategy.order.id": "Long", "strategy.order.comment": "engulfing",
    }
    values.update(fields)
    return values


def alert_message(secret: str = SECRET, **fields: str) -> str:
    """The README's message template, filled the way TradingView fills it."""
    return fill_placeholders(MESSAGE_TEMPLATE.replace(SECRET_PLACEHOLDER, secret), tradingview_values(**fields))


def rows_for(url: str, ticker: str) -> list[tuple[Any, ...]]:
    """``(id, idempotency_key, action, price)`` of the stored alerts for ``ticker``, by id."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, idempotency_key, action, price FROM alerts WHERE ticker = %s "
                            "ORDER BY id", (ticker,)).fetchall()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``alphapulse webhook serve`` as a child process on 127.0.0.1."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "ALPHAPULSE_DATABASE_URL": settings.database_url,
            "ALPHAPULSE_WEBHOOK_SECRET": settings.webhook_secret.get_secret_value(),
            "ALPHAPULSE_FEED_TOKEN": settings.feed_token.get_secret_value(),
            "ALPHAPULSE_SPOOL_DIR": str(settings.spool_dir),
            "ALPHAPULSE_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute),
            "ALPHAPULSE_RATE_LIMIT_BURST": str(settings.rate_limit_burst),
            "ALPHAPULSE_REPLAY_INTERVAL_SECONDS": str(settings.replay_interval_seconds),
            "ALPHAPULSE_POOL_MIN_SIZE": str(settings.pool_min_size),
            "ALPHAPULSE_POOL_MAX_SIZE": str(settings.pool_max_size),
        })
        self.process = subprocess.Popen(
            [sys.executable, "-m", "alphapulse_tools.cli", "webhook", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"webhook server exited with {self.process.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("webhook server did not start within 30 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start webhook server processes; each is stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(settings: Settings, port: int | None = None) -> ServerProcess:
        server = ServerProcess(settings, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class TcpProxy:
    """A loopback TCP proxy in front of PostgreSQL that can be taken away (refuses, cuts links)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Stop listening and cut every open connection: the database is unreachable."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        with self._lock:
            for link in self._links:
                with contextlib.suppress(OSError):
                    link.shutdown(socket.SHUT_RDWR)
                link.close()
            self._links.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # taken down meanwhile
                    client.close()
                    server.close()
                    return
                self._links.extend((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def proxied_url(url: str, proxy: TcpProxy) -> str:
    """``url`` (postgresql://user@host:port/db) rewritten to go through ``proxy``."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["host"] = "127.0.0.1"
    info["port"] = str(proxy.port)
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture
def db_proxy(alerts_db: str) -> Iterator[TcpProxy]:
    info = psycopg.conninfo.conninfo_to_dict(alerts_db)
    proxy = TcpProxy(str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432))
    yield proxy
    proxy.down()
