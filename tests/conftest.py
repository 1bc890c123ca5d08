"""Shared fixtures: the real market data in ../shared/data and a throwaway PostgreSQL database.

Tests that need ../shared/data or PostgreSQL fail in CI (``CI`` set) when it is missing and skip
with a clear reason on a developer machine that lacks it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("ALPHAPULSE_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = bool(os.environ.get("CI"))


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real market data (``../shared/data``)."""
    if not (SHARED_DATA / "lean").is_dir():
        missing(f"real market data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def lean_data(shared_data: Path) -> Path:
    """Lean's sample data folder, usable as a Lean data folder."""
    return shared_data / "lean"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the service extra is part of the test install
        missing("psycopg is not installed")
        raise
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"alphapulse_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL is not reachable at {admin_url}: {exc}")
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
