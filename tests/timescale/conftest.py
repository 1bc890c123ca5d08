"""A real TimescaleDB for the tests: PGlite + TimescaleDB (WebAssembly) served on 127.0.0.1.

The npm project beside this file pins it (package-lock.json); ``npm ci`` runs when node_modules
is missing. PGlite serves ONE connection and has no COPY FROM STDIN and no background jobs, so the
tests share one connection and run policies by hand (``CALL run_job``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import missing

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _install() -> None:
    if (HERE / "node_modules" / "@electric-sql" / "pglite-socket").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        missing("npm is not installed: cannot install PGlite + TimescaleDB")
    done = subprocess.run([str(npm), "ci", "--legacy-peer-deps", "--no-audit", "--no-fund"], cwd=HERE,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        missing(f"npm ci failed in {HERE}: {done.stderr.strip()[-500:]}")


@pytest.fixture(scope="session")
def timescale_url() -> Iterator[str]:
    """URL of a fresh PGlite + TimescaleDB server on 127.0.0.1 (stopped after the session)."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed: cannot start PGlite + TimescaleDB")
    _install()
    port = _free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen([str(node), "server.mjs", str(port)], cwd=HERE, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=log, text=True,
                                  env={**os.environ, "NODE_NO_WARNINGS": "1"})
        try:
            if not _started(server):
                server.kill()
                server.wait(timeout=10)
                log.seek(0)
                pytest.fail(f"PGlite + TimescaleDB did not start on port {port}: {log.read().strip()[-500:]}")
            yield f"postgresql://postgres:pglite@127.0.0.1:{port}/postgres?sslmode=disable"
        finally:
            _stop(server)


def _started(server: subprocess.Popen[str]) -> bool:
    """Wait (at most 120 s) for "ready <port>", then keep draining stdout so the server never blocks."""
    ready: list[str] = []
    started = threading.Event()

    def drain() -> None:
        assert server.stdout is not None
        ready.append(server.stdout.readline())
        started.set()
        for _ in server.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()
    started.wait(timeout=120)
    return bool(ready) and ready[0].startswith("ready")


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is not None:
        return
    if server.stdin:
        server.stdin.close()  # the server stops when its stdin closes
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def timescale(timescale_url: str) -> Iterator[psycopg.Connection]:
    """The one connection PGlite allows (autocommit, no server-side prepared statements)."""
    with psycopg.connect(timescale_url, autocommit=True, prepare_threshold=None, connect_timeout=30) as conn:
        yield conn
