"""The journal's one JSON form for signals and fills: round trips and strict reading."""

from __future__ import annotations

import json

import pytest

from alphapulse.errors import DataError
from alphapulse.journal import Direction, Fill, PatternHit, Signal, read_record


def signal() -> Signal:
    return Signal(strategy="pattern-confluence", symbol="BTCUSDT", market="binance", interval="1h",
                  time=1_704_067_200_000_000_000, direction=Direction.LONG, entry=42000.5, stop=41500.0,
                  target=43001.5, score=0.72, factors={"pattern": 1.0, "volume": 0.4},
                  patterns=(PatternHit("CDLENGULFING", 100, 0.8),), reason="bullish engulfing", max_bars=48)


def test_signal_json_round_trip_and_fields() -> None:
    original = signal()
    data = json.loads(original.to_json())
    assert data["schema"] == "alphapulse.signal/1"
    assert data["time"] == "2024-01-01T00:00:00Z"
    assert data["direction"] == "long"
    # risk:reward = (43001.5 - 42000.5) / (42000.5 - 41500) = 1001 / 500.5 = 2
    assert data["risk_reward"] == 2.0
    assert Signal.from_json(original.to_json()) == original
    assert read_record(original.to_json()) == original


def test_signal_id_is_stable_and_content_checked() -> None:
    data = json.loads(signal().to_json())
    assert data["id"] == signal().id
    data["time"] = "2024-01-01T01:00:00Z"
    with pytest.raises(DataError, match="does not match its content"):
        Signal.from_dict(data)


def test_flat_signal_has_no_levels() -> None:
    flat = Signal("rsi-mean-reversion", "ETHUSDT", "binance", "1h", 0, Direction.FLAT)
    assert flat.risk_reward is None
    assert Signal.from_json(flat.to_json()) == flat


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("symbol"), "misses the field 'symbol'"),
        (lambda d: d.update(direction="up"), "direction 'up'"),
        (lambda d: d.update(entry=-1), "entry must be positive"),
        (lambda d: d.update(schema="alphapulse.signal/9"), "expected 'alphapulse.signal/1'"),
        (lambda d: d.update(time="yesterday"), "malformed field"),
    ],
)
def test_malformed_signal_records_are_rejected(mutate, message: str) -> None:
    data = json.loads(signal().to_json())
    data.pop("id")
    mutate(data)
    with pytest.raises(DataError, match=message):
        Signal.from_dict(data)


def test_fill_round_trip_and_unknown_schema() -> None:
    fill = Fill("PatternConfluence", 7, "BTCUSDT", "binance", 1_704_070_800_000_000_000, -0.25, 42100.0,
                10.525, "USDT", "stop_market", signal_id="abc")
    assert fill.direction == "sell"
    assert Fill.from_json(fill.to_json()) == fill
    assert read_record(fill.to_json()) == fill
    with pytest.raises(DataError, match="unknown record schema"):
        read_record('{"schema": "other/1"}')
    with pytest.raises(DataError, match="not valid JSON"):
        read_record("{oops")
    with pytest.raises(DataError, match="must be a JSON object"):
        read_record("[1, 2]")


def test_a_time_exit_before_the_first_bar_after_entry_is_refused() -> None:
    from alphapulse.errors import StrategyError
    from alphapulse.journal import Direction, Signal

    with pytest.raises(StrategyError, match="max_bars=0"):
        Signal("probe", "BTCUSDT", "binance", "1h", 0, Direction.LONG, 100.0, 90.0, 120.0, max_bars=0)
    assert Signal("probe", "BTCUSDT", "binance", "1h", 0, Direction.LONG, 100.0, 90.0, 120.0, max_bars=1).max_bars == 1
