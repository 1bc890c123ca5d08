"""Indicators: batch = TA-Lib, streaming = batch (exactly or to the documented tolerance) on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from alphapulse import indicators as ind
from alphapulse.bars import Bar, Bars
from alphapulse.errors import BarError, ConfigError
from tests.core.datasets import DATASET_NAMES, load_dataset

TOLERANCE = 1e-9  # the module's documented relative tolerance


def _stream(indicator: ind.StreamingIndicator, bars: Bars) -> np.ndarray:
    out = []
    for bar in bars:
        indicator.update(bar)
        value = indicator.value
        out.append(tuple(value) if isinstance(value, tuple) else value)  # type: ignore[arg-type]
    return np.array(out, dtype=float)


def _cases(bars: Bars) -> list[tuple[str, np.ndarray, ind.StreamingIndicator, float | None]]:
    """(name, batch values, fresh streaming indicator, tolerance scale or None for exact)."""
    price = float(np.median(bars.close))
    h, lo, c, v = bars.high, bars.low, bars.close, bars.volume
    return [
        ("sma", ind.sma(c, 20), ind.Sma(20), None),
        ("ema", ind.ema(c, 20), ind.Ema(20), price),
        ("ema200", ind.ema(c, 200), ind.Ema(200), price),
        ("rsi", ind.rsi(c, 14), ind.Rsi(14), 100.0),
        ("rsi5", ind.rsi(c, 5), ind.Rsi(5), 100.0),
        ("atr", ind.atr(h, lo, c, 14), ind.Atr(14), price),
        ("macd", np.column_stack(ind.macd(c)), ind.Macd(), price),
        ("macd_5_35_5", np.column_stack(ind.macd(c, 5, 35, 5)), ind.Macd(5, 35, 5), price),
        ("bollinger", np.column_stack(ind.bollinger(c)), ind.Bollinger(), price),
        ("stochastic", np.column_stack(ind.stochastic(h, lo, c)), ind.Stochastic(), 100.0),
        ("obv", ind.obv(c, v), ind.Obv(), None),
        ("vwap", ind.vwap(bars.time, h, lo, c, v), ind.Vwap(), None),
        ("volume_ratio", ind.volume_ratio(v, 20), ind.VolumeRatio(20), None),
    ]


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_streaming_equals_batch_on_real_data(shared_data, name):
    bars = load_dataset(shared_data, name).bars
    for label, batch, indicator, scale in _cases(bars):
        streamed = _stream(indicator, bars)
        first = batch if batch.ndim == 1 else batch[:, 0]
        defined = np.flatnonzero(~np.isnan(first))
        # the warm-up is what the indicator says it is
        if len(bars) >= indicator.warm_up_period and label != "volume_ratio":
            assert defined[0] == indicator.warm_up_period - 1, label
        assert np.array_equal(np.isnan(streamed), np.isnan(batch)), f"{label}: NaN positions differ"
        if scale is None:
            assert np.array_equal(streamed, batch, equal_nan=True), f"{label} is not bit-equal"
        elif label == "bollinger":
            np.testing.assert_allclose(streamed[:, 1], batch[:, 1], rtol=TOLERANCE, atol=TOLERANCE * scale,
                                       equal_nan=True, err_msg="middle band")
            band = 2.0 * math.sqrt(20 * 2.0**-52) * scale  # deviations x cancellation bound
            np.testing.assert_allclose(streamed[:, [0, 2]], batch[:, [0, 2]], rtol=0, atol=band,
                                       equal_nan=True, err_msg="upper/lower band")
        else:
            np.testing.assert_allclose(streamed, batch, rtol=TOLERANCE, atol=TOLERANCE * scale,
                                       equal_nan=True, err_msg=label)


def test_batch_functions_are_talib(shared_data):
    bars = load_dataset(shared_data, "lean/binance/minute/btcbusd").bars
    c = bars.close
    assert np.array_equal(ind.rsi(c, 14), talib.RSI(c, 14), equal_nan=True)
    assert np.array_equal(ind.ema(c, 50), talib.EMA(c, 50), equal_nan=True)
    assert np.array_equal(ind.atr(bars.high, bars.low, c, 10), talib.ATR(bars.high, bars.low, c, 10),
                          equal_nan=True)
    line, signal, hist = talib.MACD(c, 12, 26, 9)
    got = ind.macd(c)
    for a, b in zip(got, (line, signal, hist), strict=True):
        assert np.array_equal(a, b, equal_nan=True)


def test_vwap_restarts_each_utc_day_and_matches_a_direct_computation(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    frame = bars.to_frame()
    typical = (frame.high + frame.low + frame.close) / 3
    day = frame.index.floor("D")
    expected = (typical * frame.volume).groupby(day).cumsum() / frame.volume.groupby(day).cumsum()
    got = ind.vwap(bars.time, bars.high, bars.low, bars.close, bars.volume)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-12)
    starts = ind.session_starts(bars.time)
    np.testing.assert_allclose(got[starts], typical.to_numpy()[starts], rtol=1e-15)


def test_vwap_session_offset_moves_the_anchor(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    shifted = ind.session_starts(bars.time, session_offset=4 * 3600)
    contiguous = np.flatnonzero(np.diff(bars.time) == 60_000_000_000) + 1
    at_four = bars.time[contiguous] % 86_400_000_000_000 == 4 * 3_600_000_000_000
    assert shifted[0] and at_four.any()
    assert np.array_equal(shifted[contiguous], at_four)


def test_volume_ratio_is_volume_over_its_average(shared_data):
    bars = load_dataset(shared_data, "lean/binance/hour/btcusdt").bars
    ratio = ind.volume_ratio(bars.volume, 10)
    expected = bars.volume / talib.SMA(bars.volume, 10)
    assert np.array_equal(ratio, expected, equal_nan=True)


def test_volume_ratio_of_zero_average_is_nan():
    ratio = ind.volume_ratio(np.zeros(5), 3)
    assert np.isnan(ratio).all()


def test_streaming_refuses_older_or_repeated_bars():
    rsi = ind.Rsi(3)
    rsi.update(Bar(2_000, 1, 1, 1, 1, 1))
    for stale in (1_000, 2_000):
        with pytest.raises(BarError, match="not after the last bar"):
            rsi.update(Bar(stale, 1, 1, 1, 1, 1))


def test_streaming_refuses_nan_and_plain_values_where_bars_are_needed():
    with pytest.raises(BarError, match="not a finite number"):
        ind.Ema(3).update(float("nan"))
    with pytest.raises(BarError, match="NaN or infinite"):
        ind.Ema(3).update(Bar(1, 1, 1, 1, math.inf, 1))
    with pytest.raises(BarError, match="needs bars"):
        ind.Atr(3).update(1.0)


def test_reset_forgets_everything(shared_data):
    bars = load_dataset(shared_data, "lean/binance/hour/btcusdt").bars
    macd = ind.Macd()
    first = _stream(macd, bars)
    macd.reset()
    assert not macd.is_ready and macd.samples == 0 and all(math.isnan(x) for x in macd.value)
    assert np.array_equal(first, _stream(macd, bars), equal_nan=True)


def test_lean_like_surface():
    ema = ind.Ema(3)
    assert ema.name == "EMA(3)" and ema.warm_up_period == 3
    assert ema.update(1.0) is False and math.isnan(ema.value)
    ema.update(2.0)
    assert ema.update(Bar(5, 3, 3, 3, 3, 1)) is True
    assert ema.value == 2.0 and ema.current == ind.IndicatorPoint(5, 2.0)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ind.Rsi(1), "rsi: period 1 must be an integer >= 2"),
    (lambda: ind.ema(np.ones(3), 0), "ema: period 0"),
    (lambda: ind.Sma(2.5), "sma: period 2.5"),  # type: ignore[arg-type]
    (lambda: ind.Macd(26, 12), "fast period 26 must be shorter than slow period 12"),
    (lambda: ind.bollinger(np.ones(30), 20, -1.0), "deviations -1.0"),
])
def test_bad_parameters_name_the_indicator(call, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call()
