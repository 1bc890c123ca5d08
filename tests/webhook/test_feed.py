"""GET /alerts: bearer token, cursor paging (safe under late commits), JSON and CSV rows."""

from __future__ import annotations

import csv
import io
import json
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from alphapulse_tools.cli import main
from alphapulse_webhook import Settings, create_app, get_settings
from alphapulse_webhook.schema import validate_alert
from alphapulse_webhook.store import INSERT_ALERT, AlertRecord

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import FEED_TOKEN, ServerProcess, alert_message, tradingview_values

AUTH = {"Authorization": f"Bearer {FEED_TOKEN}"}


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


def read_all(client: TestClient, limit: int, fmt: str = "json") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = "0"
    for _ in range(10_000):
        response = client.get("/alerts", params={"since": cursor, "limit": limit, "format": fmt}, headers=AUTH)
        assert response.status_code == 200, response.text
        if fmt == "csv":
            page = list(csv.DictReader(io.StringIO(response.text)))
            more = response.headers["X-Has-More"] == "true"
            next_cursor = response.headers["X-Next-Cursor"]
        else:
            data = response.json()
            page, more, next_cursor = data["alerts"], data["has_more"], data["next_cursor"]
        assert len(page) <= limit
        rows.extend(page)
        if page:
            assert next_cursor == page[-1]["cursor"]
        if not more:
            return rows
        cursor = next_cursor
    raise AssertionError("feed did not end")


def table_size(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return int(row[0]) if row else 0


def settled(read: Callable[[], list[dict[str, Any]]], url: str) -> list[dict[str, Any]]:
    """The feed once it serves every stored row.

    The feed holds rows back while any older transaction on the server is still open (another
    test process, say); this test's own writes are done, so the wait is bounded.
    """
    deadline = time.monotonic() + 60
    rows = read()
    while len(rows) < table_size(url) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = read()
    assert len(rows) == table_size(url)
    return rows


def database_url(client: TestClient) -> str:
    return client.app.state.settings.database_url  # type: ignore[attr-defined]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0000000000"},
                                     {"Authorization": f"Basic {FEED_TOKEN}"},
                                     {"Authorization": f"Bearer {FEED_TOKEN[:-1]}"}])
def test_feed_needs_the_bearer_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/alerts", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "alerts" not in response.json()


@pytest.mark.parametrize(("params", "field"), [({"since": "abc"}, "since"), ({"since": "1.2.3"}, "since"),
                                               ({"since": "-1"}, "since"), ({"limit": 0}, "limit"),
                                               ({"limit": 5000}, "limit"), ({"limit": "x"}, "limit"),
                                               ({"format": "xml"}, "format")])
def test_bad_feed_parameters_are_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    response = client.get("/alerts", params=params, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_paging_returns_every_row_once_in_order(client: TestClient) -> None:
    tickers = []
    for action in ("buy", "sell", "close", "flat", "buy", "sell", "buy"):
        values = tradingview_values(**{"strategy.order.action": action})
        tickers.append(values["ticker"])
        assert client.post("/webhook/tradingview", content=alert_message(**values)).status_code == 200
    whole = settled(lambda: read_all(client, limit=1000), database_url(client))
    paged = read_all(client, limit=2)
    assert [r["id"] for r in paged] == [r["id"] for r in whole]
    assert len({r["id"] for r in whole}) == len(whole)
    mine = [r for r in whole if r["ticker"] in tickers]
    assert [r["ticker"] for r in mine] == tickers  # the order they were received in
    assert [r["action"] for r in mine] == ["buy", "sell", "close", "flat", "buy", "sell", "buy"]
    first = mine[0]
    assert first["bar_time"] == "2024-01-31T13:00:00Z" and first["received_at"].endswith("Z")
    assert first["payload"]["ticker"] == first["ticker"] and "secret" not in first["payload"]


def test_csv_rows_match_json_rows(client: TestClient) -> None:
    values = tradingview_values(**{"strategy.order.comment": "with, comma"})
    message = json.loads(alert_message(**values))
    message["comment"] = 'with, comma and "quotes"'
    assert client.post("/webhook/tradingview", content=json.dumps(message)).status_code == 200
    as_json = settled(lambda: read_all(client, limit=3), database_url(client))
    as_csv = read_all(client, limit=3, fmt="csv")
    assert len(as_csv) == len(as_json)
    for j, c in zip(as_json, as_csv, strict=True):
        assert c["cursor"] == j["cursor"] and int(c["id"]) == j["id"]
        for name in ("received_at", "bar_time", "ticker", "exchange", "interval", "action", "order_id",
                     "strategy", "comment"):
            assert c[name] == ("" if j[name] is None else j[name])
        for name in ("price", "contracts", "position_size"):
            assert (float(c[name]) if c[name] else None) == j[name]
    mine = [c for c in as_csv if c["ticker"] == values["ticker"]]
    assert mine[0]["comment"] == 'with, comma and "quotes"'


def test_a_row_committed_late_is_not_skipped(client: TestClient) -> None:
    """An id taken by a transaction that commits after a later id must still reach the reader."""
    url = database_url(client)
    start = settled(lambda: read_all(client, limit=1000), url)
    cursor = start[-1]["cursor"] if start else "0"
    late_values = tradingview_values()
    late = AlertRecord.from_alert(validate_alert(json.loads(alert_message(**late_values))), "127.0.0.1",
                                  datetime.now(UTC))
    with psycopg.connect(url) as slow:
        slow.execute(INSERT_ALERT, late.params())
        # the slow transaction holds the lower id; a later alert commits first through the webhook
        early = tradingview_values()
        assert client.post("/webhook/tradingview", content=alert_message(**early)).status_code == 200
        page = client.get("/alerts", params={"since": cursor}, headers=AUTH).json()
        assert all(r["ticker"] != early["ticker"] for r in page["alerts"])  # held back, not skipped
        slow.commit()
    rows = settled(lambda: read_all(client, limit=1000), url)
    tickers = [r["ticker"] for r in rows]
    assert late_values["ticker"] in tickers and early["ticker"] in tickers
    assert tickers.index(late_values["ticker"]) < tickers.index(early["ticker"])


def test_feed_is_503_when_the_database_is_away(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(database_url="postgresql://postgres@127.0.0.1:1/none", db_timeout_seconds=0.3)
    with TestClient(create_app(settings)) as test_client:
        response = test_client.get("/alerts", headers=AUTH)
        assert response.status_code == 503 and response.headers["Retry-After"]
        ready = test_client.get("/readyz").json()
        assert ready["database"] is False


def test_cli_export_writes_the_whole_feed_as_one_csv(
    make_settings: Callable[..., Settings], start_server: Callable[..., ServerProcess], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    server = start_server(settings)
    values = tradingview_values(**{"strategy.order.comment": "line one"})
    message = json.loads(alert_message(**values))
    message["comment"] = 'two\nlines,\u2028 "quoted"'
    assert httpx.post(f"{server.url}/webhook/tradingview", content=json.dumps(message)).status_code == 200
    monkeypatch.setenv("ALPHAPULSE_FEED_TOKEN", FEED_TOKEN)
    settled(lambda: httpx.get(f"{server.url}/alerts", params={"limit": 1000}, headers=AUTH).json()["alerts"],
            settings.database_url)
    target = tmp_path / "alerts.csv"
    assert main(["webhook", "export", "--url", server.url, "--output", str(target), "--page", "7"]) == 0
    exported = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    pages = httpx.get(f"{server.url}/alerts", params={"limit": 1000}, headers=AUTH).json()
    assert [int(r["id"]) for r in exported] == [r["id"] for r in pages["alerts"]]
    mine = [r for r in exported if r["ticker"] == values["ticker"]]
    assert mine[0]["comment"] == 'two lines,  "quoted"'  # one alert per line, for line-based readers
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(exported) + 1

    monkeypatch.setenv("ALPHAPULSE_FEED_TOKEN", "wrong-token-000000000000")
    assert main(["webhook", "export", "--url", server.url, "--output", str(target)]) == 2
    monkeypatch.delenv("ALPHAPULSE_FEED_TOKEN")
    assert main(["webhook", "export", "--url", server.url, "--output", str(target)]) == 2


def test_settings_dependency_can_be_overridden(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    other = make_settings(feed_token="another-feed-token-0123456789")
    app.dependency_overrides[get_settings] = lambda: other
    with TestClient(app) as test_client:
        assert test_client.get("/alerts", headers=AUTH).status_code == 401
        assert test_client.get("/alerts", headers={"Authorization": "Bearer another-feed-token-0123456789"}
                               ).status_code == 200
