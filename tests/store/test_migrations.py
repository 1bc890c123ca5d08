"""The schema: migrations on real PostgreSQL (plain mode), idempotent and safe when concurrent."""

from __future__ import annotations

import threading

import psycopg
import pytest

from alphapulse.errors import StoreError
from alphapulse_tools.store.migrations import latest_version, migrate, migrations, schema_state
from alphapulse_tools.store.mode import StoreMode

TABLES = {"instruments", "runs", "alerts", "follow_offsets", "signals", "signal_patterns",
          "order_events", "fills", "equity", "trades"}


def relations(conn: psycopg.Connection, kind: str) -> set[str]:
    rows = conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = %s", (kind,)).fetchall()
    return {row[0] for row in rows}


def test_migrate_creates_the_schema_in_plain_mode(conn: psycopg.Connection) -> None:
    report = migrate(conn)
    assert report.mode is StoreMode.PLAIN  # this server has no timescaledb
    assert report.version == latest_version() == len(migrations())
    assert report.applied == tuple(range(1, latest_version() + 1))
    assert "plain mode, schema version" in str(report)
    partitioned = relations(conn, "p")
    assert partitioned == {"signals", "signal_patterns", "order_events", "fills", "equity", "trades"}
    assert TABLES - partitioned <= relations(conn, "r")
    assert {"daily_pnl", "daily_pattern_signals"} <= relations(conn, "m")
    brin = conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND indexdef LIKE '%USING brin%' AND tablename = 'signals'").fetchone()
    assert brin is not None and brin[0] == 1


def test_migrate_again_applies_nothing(conn: psycopg.Connection) -> None:
    first = migrate(conn)
    second = migrate(conn)
    assert second.applied == ()
    assert (second.mode, second.version) == (first.mode, first.version)
    assert "already up to date" in str(second)
    rows = conn.execute("SELECT version, mode FROM alphapulse_schema ORDER BY version").fetchall()
    assert rows == [(v, "plain") for v in range(1, latest_version() + 1)]


def test_concurrent_migrations_apply_each_version_once(schema_url: str) -> None:
    reports: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(schema_url) as connection:
                reports.append(migrate(connection))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(reports) == 4
    with psycopg.connect(schema_url) as connection:
        assert schema_state(connection) == (StoreMode.PLAIN, latest_version())
        count = connection.execute("SELECT count(*) FROM alphapulse_schema").fetchone()
        assert count is not None and count[0] == latest_version()


def test_asking_for_timescale_without_the_extension_is_a_clear_error(conn: psycopg.Connection) -> None:
    with pytest.raises(StoreError, match="timescaledb"):
        migrate(conn, StoreMode.TIMESCALE)
    assert schema_state(conn) == (None, 0)


def test_a_schema_keeps_its_mode(conn: psycopg.Connection) -> None:
    migrate(conn, StoreMode.PLAIN)
    with pytest.raises(StoreError, match="cannot switch"):
        migrate(conn, StoreMode.TIMESCALE)


def test_migrate_inside_an_open_transaction_is_refused(schema_url: str) -> None:
    with psycopg.connect(schema_url) as connection:
        connection.execute("SELECT 1")
        with pytest.raises(StoreError, match="outside a transaction"):
            migrate(connection)


def test_migrate_restores_autocommit(schema_url: str) -> None:
    with psycopg.connect(schema_url) as connection:
        migrate(connection)
        assert connection.autocommit is False


def test_alerts_table_matches_the_webhook_contract(conn: psycopg.Connection) -> None:
    migrate(conn)
    columns = dict(conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'alerts'").fetchall())
    assert columns == {
        "id": "bigint", "received_at": "timestamp with time zone", "idempotency_key": "text",
        "schema_version": "integer", "ticker": "text", "exchange": "text", "interval": "text",
        "action": "text", "price": "double precision", "bar_time": "timestamp with time zone",
        "strategy": "text", "order_id": "text", "contracts": "double precision",
        "position_size": "double precision", "comment": "text", "source_ip": "text", "payload": "jsonb",
        "txid": "xid8",
    }
    insert = ("INSERT INTO alerts (idempotency_key, schema_version, ticker, action, payload) "
              "VALUES ('k1', 1, 'BTCUSDT', 'buy', '{}') ON CONFLICT (idempotency_key) DO NOTHING")
    conn.execute(insert)
    conn.execute(insert)
    count = conn.execute("SELECT count(*) FROM alerts").fetchone()
    assert count is not None and count[0] == 1
