"""POST /webhook/tradingview in-process: stored/duplicate, raw bodies, limits, hooks after the answer."""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from alphapulse_webhook import Settings, create_app
from alphapulse_webhook.ratelimit import RateLimiter
from alphapulse_webhook.store import AlertRecord

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import alert_message, rows_for, tradingview_values

URL = "/webhook/tradingview"


@contextmanager
def running(settings: Settings, client: tuple[str, int] = ("203.0.113.7", 40000),
            **kwargs: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, **kwargs), client=client) as test_client:
        yield test_client


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def test_stored_then_duplicate(settings: Settings) -> None:
    values = tradingview_values()
    message = alert_message(**values)
    with running(settings) as client:
        first = client.post(URL, content=message, headers={"Content-Type": "application/json"})
        second = client.post(URL, content=message, headers={"Content-Type": "application/json"})
    assert first.status_code == 200 and first.json()["status"] == "stored"
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert first.json()["idempotency_key"] == second.json()["idempotency_key"]
    rows = rows_for(settings.database_url, values["ticker"])
    assert len(rows) == 1
    assert rows[0][2:] == ("buy", float(values["strategy.order.price"]))


def test_columns_and_payload_match_the_alert(settings: Settings) -> None:
    values = tradingview_values(**{"strategy.order.action": "sell", "strategy.position_size": "-2"})
    message = json.loads(alert_message(**values))
    message["signal_score"] = 0.7
    with running(settings) as client:
        assert client.post(URL, content=json.dumps(message)).status_code == 200
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT schema_version, exchange, interval, action, bar_time, strategy, order_id, contracts, "
            "position_size, comment, source_ip, payload FROM alerts WHERE ticker = %s",
            (values["ticker"],)).fetchone()
    assert row is not None
    assert row[:4] == (1, "BINANCE", "60", "sell")
    assert row[4].isoformat() == "2024-01-31T13:00:00+00:00"
    assert row[5:10] == ("AlphaPulse", "Long", 0.25, -2.0, "engulfing")
    assert row[10] == "203.0.113.7"
    assert row[11]["signal_score"] == 0.7 and "secret" not in row[11]


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", None,
                                          "application/x-www-form-urlencoded", "application/octet-stream"])
def test_raw_body_read_whatever_the_content_type(settings: Settings, content_type: str | None) -> None:
    values = tradingview_values()
    headers = {"Content-Type": content_type} if content_type else {}
    with running(settings) as client:
        response = client.post(URL, content=alert_message(**values).encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert len(rows_for(settings.database_url, values["ticker"])) == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"hello TradingView", 400, None),
    (b"", 400, None),
    (b'{"secret": "x"', 400, None),
    (b"[]", 400, None),
])
def test_bad_bodies_are_4xx_and_store_nothing(settings: Settings, body: bytes, status: int,
                                              field: str | None) -> None:
    with running(settings) as client:
        response = client.post(URL, content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == status
    assert response.json()["status"] == "rejected" and response.json()["error"]


def test_invalid_field_is_422_naming_it(settings: Settings) -> None:
    values = tradingview_values(**{"strategy.order.price": '"n/a"'})
    with running(settings) as client:
        response = client.post(URL, content=alert_message(**values))
    assert response.status_code == 422
    assert response.json()["field"] == "price" and "'price'" in response.json()["error"]
    assert rows_for(settings.database_url, values["ticker"]) == []


def test_body_over_the_limit_is_413(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_body_bytes=1024)
    message = json.loads(alert_message())
    message["comment_extra"] = "x" * 2000
    raw = json.dumps(message).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for start in range(0, len(raw), 100):
            yield raw[start : start + 100]

    with running(settings) as client:
        declared = client.post(URL, content=raw)
        streamed = client.post(URL, content=chunks())
    assert declared.status_code == 413 and "1024" in declared.json()["error"]
    assert streamed.status_code == 413
    assert rows_for(settings.database_url, message["ticker"]) == []


def test_rate_limit_is_429_with_retry_after_per_source(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_minute=6, rate_limit_burst=3, forwarded_header="X-Forwarded-For")
    first = {"X-Forwarded-For": "198.51.100.1"}
    other = {"X-Forwarded-For": "198.51.100.2"}
    with TestClient(create_app(settings), client=("127.0.0.1", 1)) as client:  # behind a trusted proxy
        answers = [client.post(URL, content=alert_message(), headers=first).status_code for _ in range(5)]
        assert answers == [200, 200, 200, 429, 429]
        limited = client.post(URL, content=alert_message(), headers=first)
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.post(URL, content=alert_message(), headers=other).status_code == 200


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    now[0] = 1.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, max_sources=100)
    for number in range(1000):
        limiter.acquire(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter._buckets) <= 100


def test_hooks_run_after_the_answer(settings: Settings) -> None:
    release = threading.Event()
    seen: list[str] = []

    async def slow_hook(record: AlertRecord) -> None:
        await asyncio.to_thread(release.wait, 10)
        seen.append(record.ticker)

    async def failing_hook(record: AlertRecord) -> None:
        raise RuntimeError("notification service down")

    values = tradingview_values()
    with running(settings, hooks=[failing_hook, slow_hook]) as client:
        response = client.post(URL, content=alert_message(**values))
        assert response.status_code == 200  # answered while the hook still waits
        assert seen == []
        release.set()
        for _ in range(100):
            if seen:
                break
            threading.Event().wait(0.05)
    assert seen == [values["ticker"]]


def test_health_and_openapi(settings: Settings) -> None:
    with running(settings) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        spec = client.get("/openapi.json").json()
        assert {"/webhook/tradingview", "/alerts", "/healthz", "/readyz"} <= set(spec["paths"])
        body = spec["paths"]["/webhook/tradingview"]["post"]["requestBody"]["content"]
        assert {"application/json", "text/plain"} <= set(body)
        assert client.get("/docs").status_code == 200


def test_app_can_be_started_again(settings: Settings) -> None:
    app = create_app(settings)
    for _ in range(2):
        with TestClient(app) as client:
            assert client.post(URL, content=alert_message()).json()["status"] == "stored"
