"""Backtest statistics with Lean's names, definitions and text formatting.

Definitions follow Lean's ``PortfolioStatistics`` / ``StatisticsBuilder``:

* the *daily performance* series is the daily change of end-of-day equity (UTC days), the first day
  measured against the starting cash; the *benchmark* series is the daily change of the benchmark's
  end-of-day close (the runner uses buy-and-hold of the first symbol);
* ``N`` trading days per year: 365 for crypto markets, 252 for US equities (Lean's settings);
* annual performance = (1 + mean daily return)^N - 1; annual variance = sample variance x N;
  **Sharpe Ratio** = (annual performance - risk-free rate) / annual standard deviation;
  **Sortino Ratio** uses the annualised standard deviation of the negative daily returns only;
  the risk-free rate is the average of Lean's interest-rate file over the backtest's days when the
  data folder has one (``alternative/interest-rate/usa/interest-rate.csv``), else 0;
* Beta = cov(performance, benchmark) / var(benchmark); Alpha = annual performance - (rf + Beta x
  (benchmark annual performance - rf)); Tracking Error = annualised std of the difference;
  Information Ratio = (annual performance - benchmark annual performance) / Tracking Error;
  Treynor = (annual performance - rf) / Beta;
* Probabilistic Sharpe Ratio against a benchmark Sharpe of 1/sqrt(N) per day, with the sample
  skewness and excess kurtosis of the daily returns (Lean's formula);
* trade figures from closed trades' *net* profit (after both fees): Average Win/Loss are the mean
  of profit / running capital, Win Rate counts profits > 0 (a zero-profit trade counts as a loss,
  as in Lean), Expectancy = WinRate x ProfitLossRatio - LossRate;
* Drawdown = the largest fall of daily equity from its running peak (rounded to 0.1 %, as Lean);
* Compounding Annual Return = (end / start)^(365 / days) - 1 over the daily equity's time span;
* Portfolio Turnover = the mean over days of traded value / end-of-day equity;
* the capacity estimate is not modelled: "Estimated Strategy Capacity" is "$0" and
  "Lowest Capacity Asset" empty.

Formatting mirrors Lean's C# (decimal rounding half to even): percentages such as ``"12.345%"``,
ratios such as ``"1.97"``, money such as ``"$123.40"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np

from alphapulse_tools.runner.trades import SimulationResult, Trade

NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class DailySeries:
    """End-of-day values: ``day`` (int days since the epoch) and ``value``; the first entry is the
    starting value, stamped the day before the first bar."""

    day: np.ndarray
    value: np.ndarray


def daily_last(times_ns: np.ndarray, values: np.ndarray, start_value: float) -> DailySeries:
    """The last value of each UTC day of ``times_ns`` (a time exactly at midnight closes the previous
    day), preceded by ``start_value``."""
    if len(times_ns) == 0:
        return DailySeries(np.empty(0, dtype=np.int64), np.empty(0))
    day = (np.asarray(times_ns, dtype=np.int64) - 1) // NS_PER_DAY
    last = np.flatnonzero(np.diff(day, append=day[-1] + 1))
    days = np.concatenate([[day[0] - 1], day[last]])
    vals = np.concatenate([[start_value], np.asarray(values, dtype=float)[last]])
    return DailySeries(days, vals)


def risk_free_rate(data_dir: str | Path | None, first_day: int, last_day: int) -> float:
    """Average annual risk-free rate (fraction) over ``[first_day, last_day]`` (days since the epoch)
    from Lean's interest-rate file in ``data_dir`` (rates in percent, carried forward); 0 without it."""
    if data_dir is None:
        return 0.0
    path = Path(data_dir) / "alternative" / "interest-rate" / "usa" / "interest-rate.csv"
    if not path.is_file():
        return 0.0
    import pandas as pd

    frame = pd.read_csv(path)
    if frame.empty:
        return 0.0
    days = (pd.to_datetime(frame.iloc[:, 0]).to_numpy().astype("datetime64[D]").astype(np.int64))
    rates = frame.iloc[:, 1].to_numpy(dtype=float) / 100.0
    span = np.arange(first_day, last_day + 1)
    idx = np.searchsorted(days, span, side="right") - 1
    known = idx >= 0
    if not known.any():
        return 0.0
    return float(np.mean(np.where(known, rates[np.maximum(idx, 0)], 0.0)))


@dataclass(frozen=True, slots=True)
class PortfolioStatistics:
    """Lean's portfolio statistics as numbers (fractions, not percent)."""

    average_win_rate: float = 0.0
    average_loss_rate: float = 0.0
    profit_loss_ratio: float = 0.0
    win_rate: float = 0.0
    loss_rate: float = 0.0
    expectancy: float = 0.0
    start_equity: float = 0.0
    end_equity: float = 0.0
    compounding_annual_return: float = 0.0
    drawdown: float = 0.0
    total_net_profit: float = 0.0
    sharpe_ratio: float = 0.0
    probabilistic_sharpe_ratio: float = 0.0
    sortino_ratio: float = 0.0
    alpha: float = 0.0
    beta: float = 0.0
    annual_standard_deviation: float = 0.0
    annual_variance: float = 0.0
    information_ratio: float = 0.0
    tracking_error: float = 0.0
    treynor_ratio: float = 0.0
    portfolio_turnover: float = 0.0
    value_at_risk_99: float = 0.0
    value_at_risk_95: float = 0.0

    def to_json(self) -> dict[str, float]:
        """camelCase keys as in Lean's ``portfolioStatistics``."""
        return {_camel(name): float(getattr(self, name)) for name in self.__dataclass_fields__}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _annual_performance(returns: np.ndarray, n: int) -> float:
    return float((returns.mean() + 1.0) ** n - 1.0)


def _annual_variance(returns: np.ndarray, n: int) -> float:
    if len(returns) < 2:
        return 0.0
    variance = float(np.var(returns, ddof=1))
    return 0.0 if not math.isfinite(variance) or variance == 0 else variance * n


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark_sharpe: float) -> float:
    """Lean's PSR: P(true per-period Sharpe > ``benchmark_sharpe``) from the observed daily returns."""
    if len(returns) < 4:
        return 0.0
    std = float(np.std(returns, ddof=1))
    if std == 0 or not math.isfinite(std):
        return 0.0
    sharpe = float(returns.mean()) / std
    skew = _skewness(returns)
    kurt = _excess_kurtosis(returns)
    inner = 1.0 - skew * sharpe + (kurt - 1.0) / 4.0 * sharpe * sharpe
    if inner <= 0 or not math.isfinite(inner):
        return 0.0
    return _normal_cdf((sharpe - benchmark_sharpe) * math.sqrt(len(returns) - 1) / math.sqrt(inner))


def _skewness(x: np.ndarray) -> float:
    n = len(x)
    d = x - x.mean()
    s = math.sqrt(float((d * d).sum()) / (n - 1))
    if s == 0:
        return 0.0
    return n / ((n - 1) * (n - 2)) * float(((d / s) ** 3).sum())


def _excess_kurtosis(x: np.ndarray) -> float:
    n = len(x)
    d = x - x.mean()
    s2 = float((d * d).sum()) / (n - 1)
    if s2 == 0:
        return 0.0
    m4 = float((d**4).sum())
    return (n * (n + 1) * m4 / ((n - 1) * (n - 2) * (n - 3) * s2 * s2)
            - 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def portfolio_statistics(net_profits: list[float], equity: DailySeries, benchmark: DailySeries | None,
                         *, start_equity: float, trading_days: int, risk_free: float = 0.0,
                         daily_traded_value: np.ndarray | None = None) -> PortfolioStatistics:
    """Lean's portfolio statistics from closed trades' net profits (in exit order) and daily series.

    ``benchmark`` must have the same days as ``equity`` (or be None: no benchmark figures).
    ``daily_traded_value`` (one per day of ``equity``, first entry the start) gives the turnover.
    """
    end_equity = float(equity.value[-1]) if len(equity.value) else start_equity
    if start_equity == 0 or len(equity.value) < 3:
        return PortfolioStatistics(start_equity=start_equity, end_equity=end_equity)
    running = start_equity
    total_profit = total_loss = 0.0
    wins = losses = 0
    for pnl in net_profits:
        if pnl > 0:
            total_profit += pnl / running
            wins += 1
        else:
            total_loss += pnl / running
            losses += 1
        running += pnl
    average_win = total_profit / wins if wins else 0.0
    average_loss = total_loss / losses if losses else 0.0
    pl_ratio = average_win / abs(average_loss) if average_loss else 0.0
    count = len(net_profits)
    win_rate = wins / count if count else 0.0
    loss_rate = losses / count if count else 0.0
    expectancy = win_rate * pl_ratio - loss_rate

    values = equity.value
    years = (int(equity.day[-1]) - int(equity.day[0])) / 365.0
    car = (end_equity / start_equity) ** (1.0 / years) - 1.0 if years > 0 and end_equity > 0 else 0.0
    peaks = np.maximum.accumulate(values)
    drawdown = round(float(np.max(1.0 - values / peaks)), 3)

    returns = values[1:] / values[:-1] - 1.0
    n = trading_days
    annual_variance = _annual_variance(returns, n)
    annual_std = math.sqrt(annual_variance)
    annual_perf = _annual_performance(returns, n)
    sharpe = (annual_perf - risk_free) / annual_std if annual_std else 0.0
    downside = math.sqrt(_annual_variance(returns[returns < 0], n))
    sortino = (annual_perf - risk_free) / downside if downside else 0.0
    psr = probabilistic_sharpe_ratio(returns, 1.0 / math.sqrt(n))

    alpha = beta = tracking = information = treynor = 0.0
    if benchmark is not None and len(benchmark.value) == len(values):
        bench = benchmark.value[1:] / benchmark.value[:-1] - 1.0
        bench_variance = float(np.var(bench, ddof=1)) if len(bench) > 1 else 0.0
        if bench_variance and math.isfinite(bench_variance):
            beta = float(np.cov(returns, bench, ddof=1)[0, 1]) / bench_variance
        bench_perf = _annual_performance(bench, n)
        alpha = annual_perf - (risk_free + beta * (bench_perf - risk_free)) if beta else 0.0
        tracking = math.sqrt(_annual_variance(returns - bench, n))
        information = (annual_perf - bench_perf) / tracking if tracking else 0.0
        treynor = (annual_perf - risk_free) / beta if beta else 0.0

    turnover = 0.0
    if daily_traded_value is not None and len(daily_traded_value) == len(values):
        turnover = float(np.mean(np.asarray(daily_traded_value[1:]) / values[1:]))

    var99, var95 = _value_at_risk(returns, annual_std / math.sqrt(n) if n else 0.0)
    return PortfolioStatistics(
        average_win_rate=average_win, average_loss_rate=average_loss, profit_loss_ratio=pl_ratio,
        win_rate=win_rate, loss_rate=loss_rate, expectancy=expectancy, start_equity=start_equity,
        end_equity=end_equity, compounding_annual_return=car, drawdown=drawdown,
        total_net_profit=end_equity / start_equity - 1.0, sharpe_ratio=sharpe,
        probabilistic_sharpe_ratio=psr, sortino_ratio=sortino, alpha=alpha, beta=beta,
        annual_standard_deviation=annual_std, annual_variance=annual_variance,
        information_ratio=information, tracking_error=tracking, treynor_ratio=treynor,
        portfolio_turnover=turnover, value_at_risk_99=var99, value_at_risk_95=var95)


def _value_at_risk(returns: np.ndarray, daily_std: float) -> tuple[float, float]:
    """One-day parametric value at risk (normal), as a fraction, at 99 % and 95 %."""
    if len(returns) < 2 or daily_std == 0:
        return 0.0, 0.0
    mean = float(returns.mean())
    return round(mean - 2.3263478740408408 * daily_std, 3), round(mean - 1.6448536269514722 * daily_std, 3)


# -- formatting -------------------------------------------------------------------------------------
def _decimal(value: float, digits: int) -> str:
    """C# ``Math.Round(decimal, digits).ToString()`` for a computed decimal: '0' for zero."""
    if value == 0 or not math.isfinite(value):
        return "0"
    quantum = Decimal(1).scaleb(-digits)
    text = str(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_EVEN))
    return "0" if Decimal(text) == 0 and digits == 0 else text


def _double(value: float, digits: int = 3) -> str:
    """C# ``Math.Round(double, digits).ToString()``: the shortest text of the rounded number."""
    if not math.isfinite(value):
        return "0"
    rounded = float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))
    if rounded == 0:
        return "0"
    if rounded == int(rounded):
        return str(int(rounded))
    return repr(rounded)


def _percent(value: float, digits: int) -> str:
    return _decimal(value * 100.0, digits) + "%"


def _money(value: float) -> str:
    rounded = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return str(int(rounded)) if rounded == rounded.to_integral() else str(rounded)


def summary(stats: PortfolioStatistics, *, total_orders: int, total_fees: float,
            currency_symbol: str = "$") -> dict[str, str]:
    """Lean's ``statistics`` dictionary: names and formatted text, in Lean's order."""
    return {
        "Total Orders": str(total_orders),
        "Average Win": _percent(stats.average_win_rate, 2),
        "Average Loss": _percent(stats.average_loss_rate, 2),
        "Compounding Annual Return": _percent(stats.compounding_annual_return, 3),
        "Drawdown": _percent(stats.drawdown, 3),
        "Expectancy": _decimal(stats.expectancy, 3),
        "Start Equity": _money(stats.start_equity),
        "End Equity": _money(stats.end_equity),
        "Net Profit": _percent(stats.total_net_profit, 3),
        "Sharpe Ratio": _double(stats.sharpe_ratio),
        "Sortino Ratio": _double(stats.sortino_ratio),
        "Probabilistic Sharpe Ratio": _percent(stats.probabilistic_sharpe_ratio, 3),
        "Loss Rate": _percent(stats.loss_rate, 0),
        "Win Rate": _percent(stats.win_rate, 0),
        "Profit-Loss Ratio": _decimal(stats.profit_loss_ratio, 2),
        "Alpha": _double(stats.alpha),
        "Beta": _double(stats.beta),
        "Annual Standard Deviation": _double(stats.annual_standard_deviation),
        "Annual Variance": _double(stats.annual_variance),
        "Information Ratio": _double(stats.information_ratio),
        "Tracking Error": _double(stats.tracking_error),
        "Treynor Ratio": _double(stats.treynor_ratio),
        "Total Fees": currency_symbol + str(Decimal(repr(total_fees)).quantize(Decimal("0.01"),
                                                                               ROUND_HALF_EVEN)),
        "Estimated Strategy Capacity": f"{currency_symbol}0",
        "Lowest Capacity Asset": "",
        "Portfolio Turnover": _percent(stats.portfolio_turnover, 2),
    }


def trade_statistics(trades: list[Trade]) -> dict[str, object]:
    """Lean's ``tradeStatistics`` (camelCase) from closed trades (profits net of fees)."""
    closed = sorted((t for t in trades if t.is_closed), key=lambda t: t.exit_time)
    if not closed:
        return {"totalNumberOfTrades": 0}
    profits = np.array([t.profit for t in closed])
    durations = np.array([(t.exit_time - t.entry_time) / 1e9 for t in closed])
    wins = profits > 0
    streak_win = streak_loss = best_win = best_loss = 0
    for w in wins:
        streak_win, streak_loss = (streak_win + 1, 0) if w else (0, streak_loss + 1)
        best_win, best_loss = max(best_win, streak_win), max(best_loss, streak_loss)
    cumulative = np.cumsum(profits)
    peak = np.maximum.accumulate(np.concatenate([[0.0], cumulative]))[1:]
    total_profit = float(profits[wins].sum())
    total_loss = float(profits[~wins].sum())
    std = float(np.std(profits, ddof=1)) if len(profits) > 1 else 0.0
    downside = profits[profits < 0]
    down_std = float(np.std(downside, ddof=1)) if len(downside) > 1 else 0.0
    max_closed_dd = float(np.min(cumulative - peak))
    return {
        "startDateTime": _iso(closed[0].entry_time),
        "endDateTime": _iso(closed[-1].exit_time),
        "totalNumberOfTrades": len(closed),
        "numberOfWinningTrades": int(wins.sum()),
        "numberOfLosingTrades": int((~wins).sum()),
        "totalProfitLoss": float(profits.sum()),
        "totalProfit": total_profit,
        "totalLoss": total_loss,
        "largestProfit": float(profits.max()),
        "largestLoss": float(profits.min()),
        "averageProfitLoss": float(profits.mean()),
        "averageProfit": float(profits[wins].mean()) if wins.any() else 0.0,
        "averageLoss": float(profits[~wins].mean()) if (~wins).any() else 0.0,
        "averageTradeDuration": _span(float(durations.mean())),
        "averageWinningTradeDuration": _span(float(durations[wins].mean())) if wins.any() else _span(0),
        "averageLosingTradeDuration": _span(float(durations[~wins].mean())) if (~wins).any() else _span(0),
        "medianTradeDuration": _span(float(np.median(durations))),
        "maxConsecutiveWinningTrades": best_win,
        "maxConsecutiveLosingTrades": best_loss,
        "profitLossRatio": (float(profits[wins].mean()) / abs(float(profits[~wins].mean()))
                            if wins.any() and (~wins).any() else 0.0),
        "winLossRatio": float(wins.sum()) / float((~wins).sum()) if (~wins).any() else 0.0,
        "winRate": float(wins.mean()),
        "lossRate": float((~wins).mean()),
        "maximumClosedTradeDrawdown": max_closed_dd,
        "profitLossStandardDeviation": std,
        "profitLossDownsideDeviation": down_std,
        "profitFactor": total_profit / abs(total_loss) if total_loss else 0.0,
        "sharpeRatio": float(profits.mean()) / std if std else 0.0,
        "sortinoRatio": float(profits.mean()) / down_std if down_std else 0.0,
        "profitToMaxDrawdownRatio": float(profits.sum()) / abs(max_closed_dd) if max_closed_dd else 0.0,
        "totalFees": float(sum(t.fees for t in closed)),
    }


def _iso(time_ns: int) -> str:
    from alphapulse.bars import format_time

    return format_time(time_ns).rstrip("Z")


def _span(seconds: float) -> str:
    """A .NET TimeSpan text: ``d.hh:mm:ss`` (days omitted when 0)."""
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def daily_equity(result: SimulationResult) -> DailySeries:
    """End-of-day equity of a simulation, preceded by the starting cash."""
    return daily_last(result.equity_time, result.equity, result.start_cash)


def daily_traded_value(result: SimulationResult, days: np.ndarray) -> np.ndarray:
    """Value traded (entry and exit fills, absolute) per day of ``days`` (vectorised over trades)."""
    trades = result.trades
    if not trades or len(days) == 0:
        return np.zeros(len(days))
    times = np.array([t.entry_time for t in trades] + [t.exit_time for t in trades if t.is_closed],
                     dtype=np.int64)
    values = np.array([t.quantity * t.entry_price for t in trades]
                      + [t.quantity * t.exit_price for t in trades if t.is_closed])
    where = np.searchsorted(days, (times - 1) // NS_PER_DAY)
    known = (where < len(days)) & (days[np.minimum(where, len(days) - 1)] == (times - 1) // NS_PER_DAY)
    return np.bincount(where[known], weights=values[known], minlength=len(days))[: len(days)]
