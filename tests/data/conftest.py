"""Fixtures of the data-layer tests: the loopback Binance double and real candles to serve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alphapulse.bars import Bars
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.data.binance import BinanceSettings
from tests.data.binance_double import BinanceDouble, serving


@pytest.fixture
def binance() -> Iterator[BinanceDouble]:
    """A Binance stand-in on 127.0.0.1 (random port), empty until a test adds what it serves."""
    with serving(BinanceDouble()) as double:
        yield double


@pytest.fixture
def settings(binance: BinanceDouble) -> BinanceSettings:
    """Settings pointing at the double, with tiny backoff so retries take milliseconds."""
    return BinanceSettings(data_url=binance.url, api_url=binance.url, retries=3, backoff_base=0.001,
                           max_wait=0.01, timeout=5)


@pytest.fixture(scope="session")
def btcusdt_hours(lean_data: Path) -> Bars:
    """Binance BTCUSDT hour bars 2018-05-01..05 (120 real bars, Lean's sample)."""
    return read_trade_bars(lean_data, "binance", "BTCUSDT", "hour")


@pytest.fixture(scope="session")
def btcbusd_minutes(lean_data: Path) -> Bars:
    """Binance BTCBUSD minute bars of 2022-12-13 (1440 real bars, Lean's sample)."""
    return read_trade_bars(lean_data, "binance", "BTCBUSD", "minute")


@pytest.fixture(scope="session")
def unittest_minutes(shared_data: Path) -> Bars:
    """freqtrade's UNITTEST/BTC 1m candles 2017-11-04 23:02 .. 11-14 22:59 (13,681 real bars)."""
    import pandas as pd

    frame = pd.read_feather(shared_data / "freqtrade" / "UNITTEST_BTC-1m.feather")
    return Bars.from_frame(frame, period=60, symbol="UNITTESTBTC")
