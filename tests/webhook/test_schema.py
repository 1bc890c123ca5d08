"""The alert schema: the README's template as TradingView fills it, field errors, idempotency keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from alphapulse_webhook import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, TradingViewAlert, parse_alert
from alphapulse_webhook.schema import AlertInvalid, MalformedBody, SecretRejected, parse_body, validate_alert
from alphapulse_webhook.template import fill_placeholders, placeholders

from .conftest import SECRET, alert_message, tradingview_values

KEY = SecretStr(SECRET)


def body(**changes: object) -> dict[str, object]:
    data = json.loads(alert_message())
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_filled_template_is_a_valid_alert() -> None:
    values = tradingview_values(ticker="BTCUSDT")
    alert = parse_alert(alert_message(ticker="BTCUSDT").encode(), KEY)
    assert alert.ticker == "BTCUSDT"
    assert alert.exchange == values["exchange"]
    assert alert.action == "buy"
    assert alert.price == float(values["strategy.order.price"])
    assert alert.time == datetime(2024, 1, 31, 13, tzinfo=UTC)
    assert alert.contracts == float(values["strategy.order.contracts"])
    assert alert.order_id == "Long" and alert.strategy == "AlphaPulse" and alert.comment == "engulfing"


def test_template_uses_only_tradingview_placeholders_and_the_secret_marker() -> None:
    known = {"ticker", "exchange", "interval", "time", "strategy.order.action", "strategy.order.price",
             "strategy.order.contracts", "strategy.position_size", "strategy.order.id",
             "strategy.order.comment"}
    assert set(placeholders()) <= known
    assert SECRET_PLACEHOLDER in MESSAGE_TEMPLATE
    assert "{{" not in fill_placeholders(MESSAGE_TEMPLATE, tradingview_values())


def test_secret_is_never_in_the_payload_and_extra_fields_are_kept() -> None:
    alert = validate_alert(body(signal_score=0.82, tags=["a", "b"], nested={"k": 1}))
    payload = alert.payload()
    assert "secret" not in payload and SECRET not in json.dumps(payload)
    assert payload["signal_score"] == 0.82 and payload["tags"] == ["a", "b"] and payload["nested"] == {"k": 1}
    assert payload["time"] == "2024-01-31T13:00:00Z"


@pytest.mark.parametrize("action", ["buy", "sell", "close", "flat", "BUY", " Sell "])
def test_actions(action: str) -> None:
    assert validate_alert(body(action=action)).action == action.strip().lower()


@pytest.mark.parametrize(("change", "field"), [
    ({"ticker": ...}, "ticker"),
    ({"ticker": ""}, "ticker"),
    ({"ticker": "X" * 65}, "ticker"),
    ({"exchange": 5}, "exchange"),
    ({"interval": None}, "interval"),
    ({"action": "hold"}, "action"),
    ({"action": ...}, "action"),
    ({"price": ...}, "price"),
    ({"price": 0}, "price"),
    ({"price": -1.5}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": True}, "price"),
    ({"price": "{{strategy.order.price}}"}, "price"),
    ({"time": ...}, "time"),
    ({"time": "2024-01-31 13:00"}, "time"),
    ({"time": "2024-01-31T13:00:00"}, "time"),
    ({"time": 1706706000}, "time"),
    ({"time": "{{time}}"}, "time"),
    ({"contracts": -1}, "contracts"),
    ({"contracts": "many"}, "contracts"),
    ({"position_size": [1]}, "position_size"),
    ({"order_id": "x" * 129}, "order_id"),
    ({"comment": "x" * 1001}, "comment"),
    ({"schema": "alphapulse.alert/2"}, "schema"),
])
def test_invalid_fields_are_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(AlertInvalid) as caught:
        validate_alert(body(**change))
    assert caught.value.field == field
    assert repr(field) in str(caught.value)


@pytest.mark.parametrize("raw", [b"", b"   ", b"not json", b"[1, 2]", b'"text"', b"{'a': 1}",
                                 b'{"price": NaN}', b'{"price": Infinity}', b'{"price": 1e999}',
                                 b'{"a": "\\u0000"}', b'{"\\u0000": 1}', b'{"a": "\\ud800"}',
                                 b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b'{"a":' * 40 + b"1" + b"}" * 40])
def test_unreadable_bodies_are_400(raw: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_body(raw)


def test_secret_checked_before_fields() -> None:
    with pytest.raises(SecretRejected):
        parse_alert(json.dumps(body(secret="wrong", price="bad")).encode(), KEY)


def test_time_with_offset_and_fraction_is_converted_to_utc() -> None:
    alert = validate_alert(body(time="2024-01-31T15:00:00.5+02:00"))
    assert alert.time == datetime(2024, 1, 31, 13, 0, 0, 500_000, tzinfo=UTC)


def test_empty_optional_placeholders_count_as_absent() -> None:
    alert = validate_alert(body(order_id="", comment=" ", contracts="", position_size=""))
    assert alert.order_id is None and alert.comment is None
    assert alert.contracts is None and alert.position_size is None


def test_idempotency_key_same_for_resend_and_different_for_other_orders() -> None:
    base = body()
    first = validate_alert(base).idempotency_key
    assert validate_alert(dict(base)).idempotency_key == first
    assert validate_alert({**base, "comment": "other comment", "contracts": 9}).idempotency_key == first
    for change in ({"action": "sell"}, {"time": "2024-01-31T14:00:00Z"}, {"strategy": "Other"},
                   {"ticker": "ETHUSDT"}, {"order_id": "Exit"}, {"interval": "240"}):
        assert validate_alert({**base, **change}).idempotency_key != first
    assert validate_alert({**base, "alert_id": "a-1"}).idempotency_key == "alert:a-1"


def test_model_is_versioned_and_documented() -> None:
    schema = TradingViewAlert.model_json_schema(by_alias=True)
    assert schema["properties"]["schema"]["const"] == "alphapulse.alert/1"
    assert {"secret", "ticker", "exchange", "interval", "action", "price", "time"} <= set(schema["required"])
