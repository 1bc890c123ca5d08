"""Fixtures of the store tests: a fresh schema per test inside the session's throwaway database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest


@pytest.fixture
def schema_url(database_url: str) -> Iterator[str]:
    """A database URL whose search_path is a new, empty schema (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    separator = "&" if "?" in database_url else "?"
    yield f"{database_url}{separator}options={quote(f'-c search_path={name}')}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def conn(schema_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the fresh schema."""
    with psycopg.connect(schema_url, autocommit=True) as connection:
        yield connection
