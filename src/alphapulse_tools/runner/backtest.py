"""A whole local backtest: load bars, compute signals, simulate, compute statistics, write results.

:func:`run_backtest` is what ``alphapulse backtest`` and the main job call. Data comes from a Lean
data folder (:func:`alphapulse.lean_data.read_trade_bars`; intervals that are not a Lean resolution
are consolidated with :func:`alphapulse.timeframes.resample`). Warm-up: bars before ``start`` are
loaded (as many as the strategy's ``warm_up_period`` needs) so that signals can occur from the first
bar of the range; the simulation, the equity curve and the statistics cover ``start``..``end`` only.
When the data cannot provide the warm-up, the run stops with a :class:`StrategyError`.

Configuration: ``--config``, else ``config/contracts.default.json`` when present, else the built-in
defaults; the command line's interval replaces each contract's ``timeframe``.

Trading rules per symbol come from Lean's ``symbol-properties/symbol-properties-database.csv`` in
the data folder (lot size, price tick, minimum order: a quote-currency value on Binance, units
elsewhere); when the file or the row is absent the documented defaults of :data:`DEFAULT_RULES`
apply. Sizing follows the contracts' risk settings through :class:`alphapulse.risk.RiskBook` (see
:func:`risk_sizer`; the first symbol's settings give the account-wide limits). Several symbols share
one cash book; their quote currencies must match (the account currency).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from alphapulse.bars import Bars, format_time, to_ns
from alphapulse.config import STRATEGY_NAMES, ContractConfig, RiskSettings
from alphapulse.errors import ConfigError, NoDataError, StrategyError
from alphapulse.intervals import interval_seconds, warm_up_days
from alphapulse.journal import Signal
from alphapulse.risk import RiskBook, read_symbol_properties
from alphapulse_tools.contract_files import config_file, load_configured
from alphapulse_tools.data.loading import load_bars as load_data
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import fee_model_for
from alphapulse_tools.runner.results import RunInfo, atomic_folder, write_results
from alphapulse_tools.runner.statistics import (
    DailySeries,
    PortfolioStatistics,
    daily_equity,
    daily_last,
    daily_traded_value,
    portfolio_statistics,
    risk_free_rate,
    summary,
    trade_statistics,
)
from alphapulse_tools.runner.trades import Instrument, SimulationResult, Sizer, SizingContext

MARKETS = ("binance", "coinbase", "usa")
#: the per-contract configuration used when no --config is given (relative to the working folder)
#: trading days per year used by the statistics, per market (Lean's settings for crypto / equities)
TRADING_DAYS = {"binance": 365, "coinbase": 365, "usa": 252}


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Trading rules of a symbol (see :class:`~alphapulse_tools.runner.trades.Instrument`)."""

    lot_size: float
    tick_size: float
    min_order_size: float
    min_order_value: float
    quote_currency: str


#: rules used when the data folder has no symbol-properties row for the symbol
DEFAULT_RULES = {
    "binance": SymbolRules(lot_size=1e-5, tick_size=0.01, min_order_size=0.0, min_order_value=5.0,
                           quote_currency="USDT"),
    "coinbase": SymbolRules(lot_size=1e-8, tick_size=0.01, min_order_size=1e-8, min_order_value=0.0,
                            quote_currency="USD"),
    "usa": SymbolRules(lot_size=1.0, tick_size=0.01, min_order_size=1.0, min_order_value=0.0,
                       quote_currency="USD"),
}


@dataclass(frozen=True)
class BacktestRequest:
    """One backtest as asked on the command line (dates inclusive, UTC for crypto)."""

    strategy: str
    symbols: tuple[str, ...]
    interval: str
    start: date
    end: date
    market: str = "binance"
    data_dir: Path = Path("data")
    config: Path | None = None
    cash: float = 100_000.0
    out: Path | None = None
    report: bool = True


@dataclass
class BacktestOutcome:
    """What a run produced (``folder`` is None when nothing was written)."""

    folder: Path | None
    run_id: str
    statistics: dict[str, str]
    portfolio: PortfolioStatistics
    result: SimulationResult
    signals: list[Signal]
    bars: dict[str, Bars]
    timings: dict[str, float] = field(default_factory=dict)


def symbol_rules(data_dir: Path, market: str, symbol: str) -> SymbolRules:
    """The symbol's rules from Lean's symbol-properties database in ``data_dir``
    (:func:`alphapulse.risk.read_symbol_properties`), or :data:`DEFAULT_RULES` when absent."""
    default = DEFAULT_RULES[market]
    if market == "binance" and not symbol.upper().endswith("USDT"):
        default = SymbolRules(default.lot_size, default.tick_size, 0.0, 0.0, symbol.upper()[-4:])
    try:
        found = read_symbol_properties(data_dir, market, symbol, "equity" if market == "usa" else "crypto")
    except NoDataError:
        return default
    return SymbolRules(lot_size=found.lot_size or default.lot_size, tick_size=found.tick_size,
                       min_order_size=found.min_order_size, min_order_value=found.min_notional,
                       quote_currency=found.quote_currency or default.quote_currency)


def risk_sizer(account: RiskSettings, per_symbol: dict[str, RiskSettings]) -> Sizer:
    """Sizing by :class:`alphapulse.risk.RiskBook` (the same book Lean and live paper use): risk per
    trade over the stop distance, capped by max position, the symbol and portfolio exposure limits,
    and refused while the drawdown breaker is tripped. The book is brought up to date at each entry
    signal (open positions and equity at that bar's close), so its breaker sees the equity at entry
    signals rather than at every bar."""
    book = RiskBook(account, per_symbol=per_symbol)

    def size(signal: Signal, price: float, context: SizingContext) -> float:
        held = {symbol: (quantity, last) for symbol, quantity, last in context.positions}
        for symbol in {*held, *(s for s in per_symbol if book.position(s))}:
            quantity, last = held.get(symbol, (0.0, price))
            change = quantity - book.position(symbol)
            if change:
                book.on_fill(symbol, change, last)
            book.mark_price(symbol, last)
        book.mark_equity(context.equity, context.time)
        sizing = book.size(signal, context.equity)
        return abs(sizing.quantity)

    return size


def _at_interval(contract: ContractConfig, interval: str) -> ContractConfig:
    """The contract traded at ``interval`` (the command line's interval wins over its timeframe)."""
    if contract.timeframe == interval:
        return contract
    higher = contract.higher_timeframe
    if higher is not None:
        ratio = interval_seconds(higher) / interval_seconds(interval)
        if ratio <= 1 or ratio != int(ratio):
            raise ConfigError(f"{contract.symbol}.higher_timeframe: {higher} is not a longer whole multiple of "
                              f"--interval {interval}; choose another interval or higher_timeframe")
    return dataclasses.replace(contract, timeframe=interval)


def _strategy_for(name: str, contract: ContractConfig, symbol: str, market: str):
    try:
        from alphapulse.strategies import create_strategy
    except ImportError:
        raise StrategyError("the strategies are not available in this installation "
                            "(alphapulse.strategies.create_strategy is missing)") from None
    return create_strategy(name, contract, symbol=symbol, market=market)


def load_bars(data_dir: Path, market: str, symbol: str, interval: str, first: date, last: date) -> Bars:
    """Bars of ``interval`` from ``first`` to ``last`` (dates inclusive) through the parsed-file cache
    (:func:`alphapulse_tools.data.loading.load_bars`; never written in a read-only data folder)."""
    return load_data(data_dir, market, symbol, interval, first, last, cache=True)


def check_request(request: BacktestRequest) -> None:
    """Reject a bad request before touching data: each message names the option and the fix."""
    if request.strategy not in STRATEGY_NAMES:
        raise StrategyError(f"unknown strategy {request.strategy!r}: use one of {', '.join(STRATEGY_NAMES)}")
    if request.market not in MARKETS:
        raise ConfigError(f"--market {request.market!r} is not supported: use one of {', '.join(MARKETS)}")
    if not request.symbols:
        raise ConfigError("no --symbol given: name at least one, e.g. --symbol BTCUSDT")
    if len(set(request.symbols)) != len(request.symbols):
        raise ConfigError(f"--symbol repeats a symbol: {', '.join(request.symbols)}")
    interval_seconds(request.interval)
    if request.start > request.end:
        raise ConfigError(f"--start {request.start} is after --end {request.end}")
    if not (request.cash > 0 and math.isfinite(request.cash)):
        raise ConfigError(f"--cash must be a positive amount, got {request.cash}")
    if not Path(request.data_dir).is_dir():
        raise ConfigError(f"--data-dir {request.data_dir} does not exist; download data first "
                          "(`alphapulse data download ...`) or point --data-dir at a Lean data folder")


def run_backtest(request: BacktestRequest, *, now: datetime | None = None) -> BacktestOutcome:
    """Run ``request`` and write its result folder (see :mod:`alphapulse_tools.runner.results`)."""
    started = now or datetime.now(UTC)
    check_request(request)
    timings: dict[str, float] = {}
    tick = clock.perf_counter()
    config = config_file(request.config)
    contracts = load_configured(config)
    period = interval_seconds(request.interval)
    start_ns = to_ns(datetime(request.start.year, request.start.month, request.start.day, tzinfo=UTC))
    end_day = datetime(request.end.year, request.end.month, request.end.day, tzinfo=UTC)
    end_ns = to_ns(end_day) + 86_400 * 10**9
    log = [f"{_stamp(started)} Launching local backtest: {request.strategy} on "
           f"{', '.join(request.symbols)} ({request.market}, {request.interval}) "
           f"from {request.start} to {request.end}, cash {request.cash:,.2f}"]
    instruments: list[Instrument] = []
    all_signals: list[Signal] = []
    all_bars: dict[str, Bars] = {}
    risks: dict[str, RiskSettings] = {}
    currencies: set[str] = set()
    for symbol in request.symbols:
        contract = _at_interval(contracts.for_symbol(symbol), request.interval)
        strategy = _strategy_for(request.strategy, contract, symbol, request.market)
        warm = int(strategy.warm_up_period)
        # the same history the Lean algorithms warm up on (alphapulse.intervals.warm_up_days)
        first = request.start - timedelta(days=warm_up_days(warm, period, request.market))
        try:
            bars = load_bars(request.data_dir, request.market, symbol, request.interval, first, request.end)
        except NoDataError:
            raise NoDataError(f"no {request.market} {symbol} data in {request.data_dir} between "
                              f"{request.start} and {request.end}; download it "
                              f"(`alphapulse data download --symbol {symbol} --interval {request.interval} "
                              f"--start {request.start} --end {request.end}`) or check --data-dir") from None
        in_range = (bars.time >= start_ns) & (bars.time < end_ns)
        if not in_range.any():
            raise NoDataError(f"no {request.market} {symbol} {request.interval} bars between "
                              f"{request.start} and {request.end} in {request.data_dir}; download that "
                              "range or change the dates")
        first_in = int(np.argmax(in_range))
        total_in = int(in_range.sum())
        if first_in + total_in <= warm:
            raise StrategyError(
                f"{symbol}: {request.strategy} needs {warm} bars of warm-up but the data has only "
                f"{first_in + total_in} bars up to {request.end}; start later or download earlier data")
        signals = strategy.signals(bars)
        kept = [s for s in signals if start_ns <= s.time < end_ns]
        window = bars[first_in:first_in + total_in]
        rules = symbol_rules(request.data_dir, request.market, symbol)
        currencies.add(rules.quote_currency)
        instruments.append(Instrument(
            symbol=symbol, market=request.market, bars=window, signals=kept,
            fee_model=fee_model_for(request.market), lot_size=rules.lot_size,
            min_order_size=rules.min_order_size, min_order_value=rules.min_order_value,
            tick_size=rules.tick_size, allow_short=contract.risk.allow_short,
            quote_currency=rules.quote_currency))
        risks[symbol] = contract.risk
        all_signals.extend(kept)
        all_bars[symbol] = window
        log.append(f"{_stamp(started)} {symbol}: {len(window)} bars from {format_time(int(window.time[0]))} "
                   f"to {format_time(int(window.time[-1]))}, warm-up {warm} bars, {len(kept)} signals")
    if len(currencies) > 1:
        raise ConfigError("the symbols are quoted in different currencies "
                          f"({', '.join(sorted(currencies))}); backtest symbols of one quote "
                          "currency together")
    timings["load+signals"] = clock.perf_counter() - tick

    tick = clock.perf_counter()
    result = simulate(instruments, cash=request.cash,
                      sizer=risk_sizer(risks[request.symbols[0]], risks))
    timings["simulation"] = clock.perf_counter() - tick

    tick = clock.perf_counter()
    currency = currencies.pop()
    daily = daily_equity(result)
    benchmark = _benchmark(all_bars[request.symbols[0]], daily)
    trading_days = TRADING_DAYS[request.market]
    rf = risk_free_rate(request.data_dir, int(daily.day[0]), int(daily.day[-1])) if len(daily.day) else 0.0
    portfolio = portfolio_statistics(
        [t.profit for t in sorted(result.trades, key=lambda t: t.exit_time) if t.is_closed], daily,
        benchmark, start_equity=request.cash, trading_days=trading_days, risk_free=rf,
        daily_traded_value=daily_traded_value(result, daily.day))
    statistics = summary(portfolio, total_orders=result.order_count, total_fees=result.total_fees)
    timings["statistics"] = clock.perf_counter() - tick
    for skipped in result.skipped:
        log.append(f"{_stamp(started)} skipped {skipped.signal.symbol} {skipped.signal.direction.label} "
                   f"signal of {format_time(skipped.signal.time)}: {skipped.reason}")
    for trade in result.trades:
        closing = (f"closed {format_time(trade.exit_time)} at {trade.exit_price} ({trade.exit_reason}), "
                   f"net {trade.profit:,.2f}") if trade.is_closed else "still open at the end"
        log.append(f"{_stamp(started)} {trade.symbol} {trade.direction.label} {trade.quantity} at "
                   f"{trade.entry_price} ({format_time(trade.entry_time)}), {closing}")

    run_id = _run_id(request, started)
    outcome = BacktestOutcome(folder=None, run_id=run_id, statistics=statistics, portfolio=portfolio,
                              result=result, signals=all_signals, bars=all_bars, timings=timings)
    if request.out is None and not request.report:
        return outcome
    folder = Path(request.out) if request.out is not None else (
        Path("results") / request.strategy / started.strftime("%Y-%m-%d_%H-%M-%S"))
    finished = datetime.now(UTC)
    log.append(f"{_stamp(finished)} Algorithm {run_id} completed: {len(result.trades)} trades, "
               f"{len(result.orders)} orders, net profit {statistics['Net Profit']}")
    info = RunInfo(id=run_id, name=f"{request.strategy}-{'-'.join(request.symbols)}",
                   strategy=request.strategy, symbols=list(request.symbols), market=request.market,
                   interval=request.interval, start=request.start.isoformat(), end=request.end.isoformat(),
                   account_currency=currency, trading_days=trading_days,
                   parameters={"strategy": request.strategy, "symbols": ",".join(request.symbols),
                               "interval": request.interval, "market": request.market,
                               "cash": repr(request.cash),
                               "config": str(config) if config else ""},
                   started=_stamp(started), finished=_stamp(finished), log=log)
    tick = clock.perf_counter()
    with atomic_folder(folder) as work:
        write_results(work, info, result, statistics, portfolio, trade_statistics(result.trades), daily,
                      benchmark, all_signals, report=_reporter(request, outcome, daily) if request.report
                      else None)
    timings["write"] = clock.perf_counter() - tick
    outcome.folder = folder
    return outcome


def _reporter(request: BacktestRequest, outcome: BacktestOutcome,
              daily: DailySeries) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        from alphapulse_tools.runner.report import write_report

        write_report(path, title=f"{request.strategy} · {', '.join(request.symbols)} · {request.interval}",
                     outcome=outcome, daily=daily)

    return write


def _benchmark(bars: Bars, daily: DailySeries) -> DailySeries | None:
    """Buy-and-hold of ``bars`` scaled to the starting equity, on the days of ``daily``."""
    if len(bars) == 0 or len(daily.day) == 0:
        return None
    close_time = bars.time + np.int64(bars.period) * 1_000_000_000
    own = daily_last(close_time, bars.close, float(bars.open[0]))
    idx = np.searchsorted(own.day, daily.day, side="right") - 1
    values = np.where(idx >= 0, own.value[np.maximum(idx, 0)], own.value[0])
    return DailySeries(daily.day, values / values[0] * daily.value[0])


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _run_id(request: BacktestRequest, started: datetime) -> str:
    """A numeric id like Lean's backtest ids, stable for the same request and start time."""
    key = "|".join([request.strategy, ",".join(request.symbols), request.interval, str(request.start),
                    str(request.end), started.isoformat()])
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % 10**10).zfill(10)
