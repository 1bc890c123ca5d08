"""Lean's TradingViewFollower reads exactly what the webhook's feed serves.

Alerts go in through the real webhook (real PostgreSQL); the CSV feed comes out of ``GET /alerts``
and every row is read by the algorithm's own ``PythonData`` reader (``algorithms/TradingViewFollower``,
loaded on the recording double of Lean's API) and by :func:`alphapulse.alerts.parse_feed_line`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from alphapulse.alerts import FEED_COLUMNS, parse_feed_line
from alphapulse.bars import parse_time
from alphapulse_webhook import Settings, create_app
from tests.lean.qc_double import SubscriptionDataConfig, SubscriptionTransportMedium, load_algorithm

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import FEED_TOKEN, alert_message

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {FEED_TOKEN}"}


def test_follower_reader_parses_the_webhook_csv_feed(make_settings: Callable[..., Settings]) -> None:
    load_algorithm(ROOT / "algorithms" / "TradingViewFollower" / "main.py")
    module = __import__("algorithm_TradingViewFollower")
    data_type = module.TradingViewAlertData
    sent = [("buy", "42000.5", "2024-01-31T13:00:00Z"), ("close", "42100", "2024-01-31T14:00:00Z"),
            ("sell", "41999.99", "2024-01-31T15:00:00Z"), ("flat", "41000", "2024-01-31T16:00:00Z")]
    with TestClient(create_app(make_settings())) as client:
        ticker = None
        for action, price, bar_time in sent:
            message = alert_message(**{"strategy.order.action": action, "strategy.order.price": price, "time": bar_time,
                                       **({"ticker": ticker} if ticker else {})})
            if ticker is None:
                ticker = message.split('"ticker"')[1].split('"')[1]
            response = client.post("/webhook/tradingview", content=message, headers={"Content-Type": "text/plain"})
            assert response.status_code == 200, response.text
        json_rows: list[dict] = []
        csv_lines: list[str] = []
        cursor = "0"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # page through the feed until our four alerts are visible
            page = client.get("/alerts", params={"since": cursor, "limit": 500}, headers=AUTH).json()
            text = client.get("/alerts", params={"since": cursor, "limit": 500, "format": "csv"}, headers=AUTH).text
            json_rows += [r for r in page["alerts"] if r["ticker"] == ticker]
            csv_lines += text.splitlines()[0 if not csv_lines else 1:]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                if len(json_rows) == len(sent):
                    break
                time.sleep(0.1)  # rows wait until older transactions on the server end

    lines = csv_lines
    assert lines[0] == ",".join(FEED_COLUMNS)
    parsed = [a for a in (parse_feed_line(line) for line in lines) if a is not None and a.ticker == ticker]
    assert [(a.action, a.price, a.bar_time) for a in parsed] == \
        [(action, float(price), parse_time(bar_time)) for action, price, bar_time in sent]
    assert [(a.id, a.cursor) for a in parsed] == [(r["id"], r["cursor"]) for r in json_rows]

    config = SubscriptionDataConfig("TVALERTS")
    reader = data_type()
    assert data_type().get_source(config, datetime(2024, 1, 1), False).transport_medium == \
        SubscriptionTransportMedium.LOCAL_FILE
    data_type.feed_url, data_type.feed_token = "http://127.0.0.1:8000", FEED_TOKEN
    live = data_type().get_source(config, datetime(2024, 1, 1), True)
    assert live.transport_medium == SubscriptionTransportMedium.REST
    assert live.headers == {"Authorization": f"Bearer {FEED_TOKEN}"}
    read = [reader.reader(config, line, datetime(2024, 1, 1), True) for line in lines]
    rows = [d for d in read if d is not None and parse_feed_line(d["line"]).ticker == ticker]
    assert [d.value for d in rows] == [float(price) for _, price, _ in sent]
    assert data_type.cursor == lines[-1].split(",")[0]
    assert reader.reader(config, "garbage,row", datetime(2024, 1, 1), True) is None
    assert any("2 columns" in message for message in data_type.rejected)
