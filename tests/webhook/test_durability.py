"""R4 and the spool: database outages, SIGKILL, replay in order, exactly once, torn writes."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from alphapulse_webhook import Settings, create_app
from alphapulse_webhook.schema import validate_alert
from alphapulse_webhook.spool import CURRENT, REFUSED, Spool, SpoolError, read_records
from alphapulse_webhook.store import AlertRecord, insert_batch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import ServerProcess, TcpProxy, alert_message, proxied_url, tradingview_values


def stored(url: str, tickers: Sequence[str]) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return [(int(r[0]), str(r[1])) for r in conn.execute(
            "SELECT id, ticker FROM alerts WHERE ticker = ANY(%s) ORDER BY id", (list(tickers),))]


def wait_for_rows(url: str, tickers: Sequence[str], seconds: float = 30) -> list[tuple[int, str]]:
    deadline = time.monotonic() + seconds
    rows = stored(url, tickers)
    while len(rows) < len(tickers) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = stored(url, tickers)
    return rows


def test_outage_sigkill_restart_loses_nothing(
    make_settings: Callable[..., Settings], start_server: Callable[..., ServerProcess],
    db_proxy: TcpProxy, alerts_db: str,
) -> None:
    settings = make_settings(database_url=proxied_url(alerts_db, db_proxy), db_timeout_seconds=0.5)
    server = start_server(settings)
    url = f"{server.url}/webhook/tradingview"
    sent: list[str] = []
    acknowledged: list[str] = []
    with httpx.Client(timeout=10) as client:
        for _ in range(3):  # database up: stored
            values = tradingview_values()
            sent.append(values["ticker"])
            response = client.post(url, content=alert_message(**values))
            assert response.status_code == 200 and response.json()["status"] == "stored"
            acknowledged.append(values["ticker"])

        db_proxy.down()  # PostgreSQL unreachable from the service
        resend = None
        for number in range(8):  # all acknowledged from the spool
            values = tradingview_values(**{"strategy.order.action": ("buy", "sell", "close")[number % 3]})
            response = client.post(url, content=alert_message(**values))
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "spooled"
            acknowledged.append(values["ticker"])
            resend = values
        assert resend is not None
        assert client.post(url, content=alert_message(**resend)).status_code == 202  # a resend while down
        ready = client.get(f"{server.url}/readyz").json()
        assert ready["status"] == "degraded" and ready["database"] is False and ready["spooled"] == 9

    server.kill()  # SIGKILL: nothing flushed at exit
    assert stored(alerts_db, acknowledged[3:]) == []
    db_proxy.up()
    restarted = start_server(settings)

    rows = wait_for_rows(alerts_db, acknowledged)
    assert [ticker for _, ticker in rows] == acknowledged  # every acknowledged alert, once, in order
    with httpx.Client(timeout=10) as client:
        deadline = time.monotonic() + 10
        while client.get(f"{restarted.url}/readyz").json()["status"] != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get(f"{restarted.url}/readyz").json()["status"] == "ready"
        after = tradingview_values()
        assert client.post(f"{restarted.url}/webhook/tradingview",
                           content=alert_message(**after)).json()["status"] == "stored"
    assert [t for _, t in stored(alerts_db, [*acknowledged, after["ticker"]])] == [*acknowledged, after["ticker"]]
    assert not any(Path(settings.spool_dir).glob("sealed-*"))


def record(ticker: str | None = None, **changes: object) -> AlertRecord:
    alert = validate_alert(json.loads(alert_message(**tradingview_values(**({"ticker": ticker} if ticker else {})))))
    base = AlertRecord.from_alert(alert, "127.0.0.1", datetime.now(UTC))
    return AlertRecord(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def test_crash_in_the_middle_of_a_replay_duplicates_nothing(tmp_path: Path, alerts_db: str) -> None:
    spool = Spool(tmp_path)
    records = [record() for _ in range(7)]
    for item in records:
        spool.append(item)
    assert spool.pending == 7
    calls = 0

    with psycopg.connect(alerts_db, autocommit=True) as conn:

        def crash_after_two_batches(batch: Sequence[AlertRecord]) -> list[AlertRecord]:
            nonlocal calls
            calls += 1
            if calls > 2:
                raise psycopg.OperationalError("connection lost")
            return insert_batch(conn, batch)

        with pytest.raises(psycopg.OperationalError):
            spool.drain(crash_after_two_batches, batch_size=2)
        assert len(stored(alerts_db, [r.ticker for r in records])) == 4
        spool.close()

        reopened = Spool(tmp_path)  # as after a restart
        assert reopened.pending == 7
        assert reopened.drain(lambda batch: insert_batch(conn, batch), batch_size=2) == 7
    rows = stored(alerts_db, [r.ticker for r in records])
    assert [t for _, t in rows] == [r.ticker for r in records]
    assert reopened.pending == 0 and not any(tmp_path.glob("sealed-*"))


def test_torn_last_line_is_ignored_and_appends_continue_cleanly(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = record()
    spool.append(first)
    spool.close()
    with (tmp_path / CURRENT).open("ab") as handle:  # a crash in the middle of a write
        handle.write(first.to_json().encode()[:30])
    reopened = Spool(tmp_path)
    second = record()
    reopened.append(second)
    replayed: list[AlertRecord] = []
    reopened.drain(lambda batch: replayed.extend(batch) or [])
    assert [r.ticker for r in replayed] == [first.ticker, second.ticker]


def test_records_the_database_refuses_are_kept_aside(tmp_path: Path, alerts_db: str) -> None:
    spool = Spool(tmp_path)
    good, bad, after = record(), record(comment="nul \x00 inside"), record()
    for item in (good, bad, after):
        spool.append(item)
    with psycopg.connect(alerts_db, autocommit=True) as conn:
        assert spool.drain(lambda batch: insert_batch(conn, batch)) == 3
    assert [t for _, t in stored(alerts_db, [good.ticker, bad.ticker, after.ticker])] == [good.ticker, after.ticker]
    assert [r.ticker for r in read_records(tmp_path / REFUSED)] == [bad.ticker]


def test_spool_record_round_trip() -> None:
    item = record(comment="ünïcode ✓")
    assert AlertRecord.from_json(item.to_json()) == item


def test_503_when_neither_database_nor_spool_can_accept(make_settings: Callable[..., Settings],
                                                         tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    settings = make_settings(database_url="postgresql://postgres@127.0.0.1:1/none", db_timeout_seconds=0.3,
                             spool_dir=spool_dir)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["status"] == "degraded"  # database away, spool fine
        shutil.rmtree(spool_dir)
        spool_dir.write_text("not a folder")  # the spool cannot take anything now
        response = client.post("/webhook/tradingview", content=alert_message())
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.json()["status"] == "unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"


def test_spool_refuses_a_folder_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpoolError, match="ALPHAPULSE_SPOOL_DIR"):
        Spool(blocker / "spool")
