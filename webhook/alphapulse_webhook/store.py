"""Queries on the ``alerts`` table (created by ``alphapulse_tools.store.migrations.migrate``).

Inserts are ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING``: the unique index decides which
of several racing resends is stored, the others see no row returned and are answered "duplicate".
Each webhook insert is one autocommit statement, so it is committed (durable under PostgreSQL's
default ``synchronous_commit``) before the handler answers.

The feed (:func:`fetch_feed`) pages by ``(txid, id)``: ``txid`` is the inserting transaction and
only rows of transactions older than every transaction still running are served
(``txid < pg_snapshot_xmin(pg_current_snapshot())``), so a row that commits late can never fall
behind a cursor that was already handed out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from alphapulse.errors import DataError
from alphapulse_webhook.schema import TradingViewAlert

_COLUMNS = ("idempotency_key", "schema_version", "ticker", "exchange", "interval", "action", "price",
            "bar_time", "strategy", "order_id", "contracts", "position_size", "comment", "source_ip",
            "payload", "received_at")

INSERT_ALERT = (
    f"INSERT INTO alerts ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)}) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)

FEED_COLUMNS = ("id", "received_at", "bar_time", "ticker", "exchange", "interval", "action", "price",
                "contracts", "position_size", "order_id", "strategy", "comment", "payload")

_FEED = (
    f"SELECT txid::text, {', '.join(FEED_COLUMNS)} FROM alerts "
    "WHERE (txid, id) > (%(txid)s::xid8, %(id)s) AND txid < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY txid, id LIMIT %(limit)s"
)

_CURSOR = re.compile(r"^(\d{1,20})\.(\d{1,19})$")


def format_utc(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC text ending in ``Z`` (microseconds only when non-zero)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One accepted alert as it is stored: the ``alerts`` row without the database's own columns."""

    idempotency_key: str
    schema_version: int
    ticker: str
    exchange: str
    interval: str
    action: str
    price: float
    bar_time: datetime
    strategy: str | None
    order_id: str | None
    contracts: float | None
    position_size: float | None
    comment: str | None
    source_ip: str
    payload: dict[str, Any]
    received_at: datetime

    @classmethod
    def from_alert(cls, alert: TradingViewAlert, source_ip: str, received_at: datetime) -> AlertRecord:
        return cls(
            idempotency_key=alert.idempotency_key, schema_version=alert.schema_version,
            ticker=alert.ticker, exchange=alert.exchange, interval=alert.interval, action=alert.action,
            price=alert.price, bar_time=alert.time, strategy=alert.strategy, order_id=alert.order_id,
            contracts=alert.contracts, position_size=alert.position_size, comment=alert.comment,
            source_ip=source_ip, payload=alert.payload(), received_at=received_at,
        )

    def params(self) -> dict[str, Any]:
        """Query parameters for :data:`INSERT_ALERT`."""
        values = {name: getattr(self, name) for name in _COLUMNS}
        values["payload"] = Jsonb(self.payload)
        return values

    def to_json(self) -> str:
        """One line of the spool (no newline inside)."""
        data = {name: getattr(self, name) for name in _COLUMNS}
        data["bar_time"] = format_utc(self.bar_time)
        data["received_at"] = format_utc(self.received_at)
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> AlertRecord:
        """Read a spool line written by :meth:`to_json`; raise :class:`DataError` if it is not one."""
        try:
            data = json.loads(line)
            data["bar_time"] = datetime.fromisoformat(data["bar_time"])
            data["received_at"] = datetime.fromisoformat(data["received_at"])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"spool line is not an alert record: {exc}") from None


async def insert_alert(pool: AsyncConnectionPool, record: AlertRecord, timeout: float) -> bool:
    """Insert and commit one alert; True when stored, False when its key was already there."""
    async with pool.connection(timeout=timeout) as conn:
        cursor = await conn.execute(INSERT_ALERT, record.params())
        return cursor.rowcount == 1


async def ping(pool: AsyncConnectionPool, timeout: float) -> bool:
    """Whether the database answers ``SELECT 1`` within ``timeout`` seconds."""
    try:
        async with pool.connection(timeout=timeout) as conn:
            await conn.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not ready"; the reason is not needed here
        return False


def insert_batch(conn: psycopg.Connection, records: Sequence[AlertRecord]) -> list[AlertRecord]:
    """Insert ``records`` in order in one transaction (duplicates skipped) and commit.

    Returns the records the database refused as data (invalid values, which validation should
    have caught): they are left out and the rest is stored. Connection failures raise.
    """
    try:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(INSERT_ALERT, [record.params() for record in records])
        return []
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError):
        pass
    refused: list[AlertRecord] = []
    with conn.transaction():
        for record in records:
            try:
                with conn.transaction():
                    conn.execute(INSERT_ALERT, record.params())
            except (psycopg.errors.DataError, psycopg.errors.IntegrityError):
                refused.append(record)
    return refused


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """A position in the feed: the ``(txid, id)`` of the last alert served. ``0`` is the start."""

    txid: int
    id: int

    @classmethod
    def parse(cls, text: str) -> FeedCursor:
        """Read ``"0"`` or ``"<txid>.<id>"``; raise :class:`DataError` naming ``since``."""
        text = text.strip()
        if text in ("", "0"):
            return cls(0, 0)
        match = _CURSOR.match(text)
        if match is None or int(match.group(1)) >= 2**64 or int(match.group(2)) >= 2**63:
            raise DataError(f"since={text[:40]!r} is not a feed cursor; pass 0 or a next_cursor value")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return "0" if self.txid == 0 and self.id == 0 else f"{self.txid}.{self.id}"


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Alerts after a cursor: rows as dicts (``FEED_COLUMNS`` plus ``cursor``) and the next cursor."""

    alerts: list[dict[str, Any]]
    next_cursor: FeedCursor
    has_more: bool


async def fetch_feed(pool: AsyncConnectionPool, since: FeedCursor, limit: int, timeout: float) -> FeedPage:
    """Up to ``limit`` alerts after ``since`` in feed order (see the module docstring)."""
    async with pool.connection(timeout=timeout) as conn:
        cursor = await conn.execute(_FEED, {"txid": str(since.txid), "id": since.id, "limit": limit + 1})
        rows = await cursor.fetchall()
    has_more = len(rows) > limit
    alerts: list[dict[str, Any]] = []
    position = since
    for row in rows[:limit]:
        position = FeedCursor(int(row[0]), int(row[1]))
        item: dict[str, Any] = dict(zip(FEED_COLUMNS, row[1:], strict=True))
        item["received_at"] = format_utc(item["received_at"])
        item["bar_time"] = format_utc(item["bar_time"]) if item["bar_time"] is not None else None
        item["cursor"] = str(position)
        alerts.append(item)
    return FeedPage(alerts, position, has_more)
