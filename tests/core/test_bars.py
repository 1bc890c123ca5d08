"""Bars: construction, validation at the edge, slicing and frame round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.bars import Bar, Bars, format_time, parse_time, to_ns
from alphapulse.errors import BarError

HOUR = 3_600_000_000_000


def make(n: int = 5) -> Bars:
    close = 100 + np.arange(n, dtype=float)
    return Bars(np.arange(n) * HOUR, close - 0.5, close + 1, close - 1, close, np.full(n, 10.0),
                period=3600, symbol="TEST")


def test_columns_are_read_only_and_slices_keep_period() -> None:
    bars = make()
    with pytest.raises(ValueError):
        bars.close[0] = 1.0
    part = bars[1:3]
    assert len(part) == 2 and part.period == 3600 and part.time[0] == HOUR
    with pytest.raises(AttributeError):
        bars.symbol = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("close", np.nan, "NaN"),
        ("low", -1.0, "zero or negative"),
        ("volume", -5.0, "volume is negative"),
        ("high", 50.0, "high is below low"),
        ("open", 200.0, "outside the high-low range"),
    ],
)
def test_invalid_bar_names_row_and_problem(column: str, value: float, message: str) -> None:
    bars = make()
    columns = {name: getattr(bars, name).copy() for name in ("open", "high", "low", "close", "volume")}
    columns[column][3] = value
    with pytest.raises(BarError, match=rf"row 3 \(1970-01-01T03:00:00Z\).*{message}"):
        Bars(bars.time, **columns)


def test_times_out_of_order_are_rejected() -> None:
    bars = make()
    times = bars.time.copy()
    times[[2, 3]] = times[[3, 2]]
    with pytest.raises(BarError, match=r"row 3 .* earlier than the previous bar"):
        Bars(times, bars.open, bars.high, bars.low, bars.close, bars.volume)
    times = bars.time.copy()
    times[2] = times[1]
    with pytest.raises(BarError, match=r"row 2 .* repeats"):
        Bars(times, bars.open, bars.high, bars.low, bars.close, bars.volume)


def test_single_bar_check() -> None:
    Bar(0, 1.0, 2.0, 0.5, 1.5, 0.0).check()
    with pytest.raises(BarError, match="high is below low"):
        Bar(0, 1.0, 0.4, 0.5, 1.0, 1.0).check("BTCUSDT")


def test_frame_round_trip_and_iteration() -> None:
    bars = make()
    frame = bars.to_frame()
    assert str(frame.index.tz) == "UTC"
    assert Bars.from_frame(frame, period=3600) == bars
    assert Bars.from_bars(list(bars), period=3600) == bars
    assert bars.bar(-1) == list(bars)[-1]


def test_from_frame_converts_time_zones() -> None:
    index = pd.DatetimeIndex(["2024-01-02 09:30"]).tz_localize("America/New_York")
    frame = pd.DataFrame({"Open": [1.0], "High": [2.0], "Low": [0.5], "Close": [1.5], "Volume": [3.0]},
                         index=index)
    bars = Bars.from_frame(frame)
    assert format_time(int(bars.time[0])) == "2024-01-02T14:30:00Z"


def test_between_selects_half_open_range() -> None:
    bars = make(10)
    assert list(bars.between(2 * HOUR, 5 * HOUR).time) == [2 * HOUR, 3 * HOUR, 4 * HOUR]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-2_000_000_000, max_value=4_000_000_000), st.integers(0, 999_999))
def test_time_text_round_trip(seconds: int, micros: int) -> None:
    ns = seconds * 1_000_000_000 + micros * 1_000
    assert parse_time(format_time(ns)) == ns


def test_to_ns_matches_pandas() -> None:
    stamp = pd.Timestamp("2024-03-10 12:34:56.789", tz="UTC")
    assert to_ns(stamp.to_pydatetime()) == stamp.value
