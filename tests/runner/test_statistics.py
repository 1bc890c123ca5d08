"""Statistics on a small fixed case whose numbers are worked out by hand below."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alphapulse.bars import Bars, parse_time
from alphapulse.journal import Direction, Signal
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import PercentOfValueFee
from alphapulse_tools.runner.statistics import (
    daily_equity,
    daily_traded_value,
    portfolio_statistics,
    summary,
)
from alphapulse_tools.runner.trades import Instrument

DAY = 86_400 * 1_000_000_000
T0 = parse_time("2024-01-01T00:00:00Z")
#            open  high  low  close
ROWS = [(100, 101, 99, 100),   # day 0
        (100, 101, 99, 100),   # day 1: LONG 10 @ 100, stop 90, target 130, time exit after 2 bars
        (100, 111, 99, 110),   # day 2
        (110, 111, 104, 105),  # day 3: time exit @ close 105
        (105, 106, 104, 105),  # day 4: LONG 10 @ 105, stop 101, target 125
        (104, 104, 95, 100),   # day 5: low reaches the stop, opened above it: stop fills @ 101
        (100, 121, 99, 120),   # day 6: LONG 10 @ 120, stop 110, target 140
        (120, 121, 119, 120)]  # day 7: FLAT: exit @ close 120


def _case():
    o, h, low, c = (np.array(col, dtype=float) for col in zip(*ROWS, strict=True))
    times = T0 + DAY * np.arange(len(ROWS))
    bars = Bars(times, o, h, low, c, np.ones(len(ROWS)), period=86_400, symbol="TEST")

    def sig(day: int, direction: Direction, **levels: float | int) -> Signal:
        return Signal("hand", "TEST", "binance", "1d", int(times[day]), direction, **levels)  # type: ignore[arg-type]

    signals = [sig(1, Direction.LONG, entry=100.0, stop=90.0, target=130.0, max_bars=2),
               sig(4, Direction.LONG, entry=105.0, stop=101.0, target=125.0),
               sig(6, Direction.LONG, entry=120.0, stop=110.0, target=140.0),
               sig(7, Direction.FLAT)]
    inst = Instrument("TEST", "binance", bars, signals, PercentOfValueFee(0.001), lot_size=1.0)
    return simulate([inst], cash=10_000.0, sizer=lambda signal, price, context: 10.0)


def test_trades_fees_and_equity_by_hand() -> None:
    result = _case()
    # trade 1: +10*(105-100) - 0.1% of 1000 - 0.1% of 1050 = 50 - 1.00 - 1.05
    # trade 2: 10*(101-105) - 1.05 - 1.01 ; trade 3: 0 - 1.20 - 1.20
    assert [round(t.profit, 10) for t in result.trades] == [47.95, -42.06, -2.4]
    assert [t.exit_reason for t in result.trades] == ["time", "stop", "flat"]
    assert round(result.total_fees, 10) == 6.51
    daily = daily_equity(result)
    expected = [10_000, 10_000, 9_999, 10_099, 10_047.95, 10_046.90, 10_005.89, 10_004.69, 10_003.49]
    assert np.allclose(daily.value, expected, rtol=0, atol=1e-9)


def test_statistics_by_hand() -> None:
    result = _case()
    daily = daily_equity(result)
    stats = portfolio_statistics([t.profit for t in result.trades], daily, None, start_equity=10_000.0,
                                 trading_days=365,
                                 daily_traded_value=daily_traded_value(result, daily.day))
    text = summary(stats, total_orders=len(result.orders), total_fees=result.total_fees)

    equity = [10_000, 10_000, 9_999, 10_099, 10_047.95, 10_046.90, 10_005.89, 10_004.69, 10_003.49]
    returns = [equity[k + 1] / equity[k] - 1 for k in range(8)]
    mean = sum(returns) / 8
    variance = sum((r - mean) ** 2 for r in returns) / 7
    annual_std = math.sqrt(variance * 365)
    sharpe = ((1 + mean) ** 365 - 1) / annual_std
    downs = [r for r in returns if r < 0]
    down_mean = sum(downs) / len(downs)
    sortino = ((1 + mean) ** 365 - 1) / math.sqrt(sum((r - down_mean) ** 2 for r in downs)
                                                  / (len(downs) - 1) * 365)
    assert stats.sharpe_ratio == pytest.approx(sharpe, rel=1e-9)
    assert stats.sortino_ratio == pytest.approx(sortino, rel=1e-9)
    assert stats.annual_variance == pytest.approx(variance * 365, rel=1e-9)
    # peak 10,099 (day 2), lowest after it 10,003.49: 0.946 %, rounded to 0.1 % like Lean
    assert text["Drawdown"] == "0.900%"
    assert text["Win Rate"] == "33%" and text["Loss Rate"] == "67%"
    # average win: 47.95 / 10,000; average loss: mean of -42.06 / 10,047.95 and -2.4 / 10,005.89
    avg_win = 47.95 / 10_000
    avg_loss = (-42.06 / 10_047.95 - 2.4 / 10_005.89) / 2
    assert text["Average Win"] == "0.48%" and text["Average Loss"] == "-0.22%"
    assert text["Profit-Loss Ratio"] == f"{avg_win / abs(avg_loss):.2f}" == "2.17"
    assert text["Expectancy"] == f"{avg_win / abs(avg_loss) / 3 - 2 / 3:.3f}"
    assert text["Net Profit"] == "0.035%"
    assert text["Start Equity"] == "10000" and text["End Equity"] == "10003.49"
    assert text["Total Fees"] == "$6.51"
    # orders: per trade an entry and a stop and a limit; market exits for the time and FLAT exits
    assert text["Total Orders"] == "11"
    car = (10_003.49 / 10_000) ** (365 / 8) - 1
    assert text["Compounding Annual Return"] == f"{car * 100:.3f}%"
    assert text["Sharpe Ratio"] == str(round(sharpe, 3))
    # turnover: traded value per day / end-of-day equity, averaged over the 8 days
    traded = [0, 1000, 0, 1050, 1050, 1010, 1200, 1200]
    turnover = sum(v / e for v, e in zip(traded, equity[1:], strict=True)) / 8
    assert stats.portfolio_turnover == pytest.approx(turnover, rel=1e-12)


def test_too_few_days_gives_zero_statistics() -> None:
    from alphapulse_tools.runner.statistics import DailySeries

    one = DailySeries(np.array([0, 1]), np.array([100.0, 101.0]))
    stats = portfolio_statistics([], one, None, start_equity=100.0, trading_days=365)
    assert stats.sharpe_ratio == 0 and stats.end_equity == 101.0


def test_probabilistic_sharpe_ratio_against_pandas_moments(shared_data) -> None:
    """Lean's PSR formula with pandas' sample skewness and excess kurtosis (MathNet's estimators)
    and the standard normal CDF of :mod:`statistics`, on real daily returns."""
    from statistics import NormalDist

    import pandas as pd

    from alphapulse.lean_data import read_trade_bars
    from alphapulse_tools.runner.statistics import probabilistic_sharpe_ratio

    close = read_trade_bars(shared_data / "lean", "usa", "SPY", "daily").close[-300:]
    returns = pd.Series(close[1:] / close[:-1] - 1)
    sharpe = returns.mean() / returns.std()
    benchmark = 1 / math.sqrt(252)
    inner = 1 - returns.skew() * sharpe + (returns.kurt() - 1) / 4 * sharpe**2
    expected = NormalDist().cdf((sharpe - benchmark) / math.sqrt(inner / (len(returns) - 1)))
    assert probabilistic_sharpe_ratio(returns.to_numpy(), benchmark) == pytest.approx(expected, rel=1e-9)
