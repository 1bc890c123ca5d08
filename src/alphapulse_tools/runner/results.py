"""The result folder, in Lean's shape, written atomically.

Files (the names a ``lean backtest`` leaves, plus AlphaPulse's journals and report):

* ``<id>.json``: ``rollingWindow``, ``totalPerformance`` (``tradeStatistics``,
  ``portfolioStatistics``, ``closedTrades``), ``charts`` ("Strategy Equity" with the daily
  "Equity" candle series ``[unix seconds, open, high, low, close]`` and "Return"; "Drawdown";
  "Benchmark"), ``orders`` (keyed by id; integer enums: type 0 Market, 1 Limit, 2 StopMarket; status
  1 Submitted, 3 Filled, 5 Canceled; direction 0 Buy, 1 Sell), ``profitLoss`` (net profit by exit
  time), ``statistics`` (Lean's names and text), ``runtimeStatistics``, ``state``,
  ``algorithmConfiguration``;
* ``<id>-summary.json``: the same without orders, charts and profitLoss;
* ``<id>-order-events.json``: Lean's order events (strings for status and direction, ``time`` in
  unix seconds, ``fillQuantity`` signed);
* ``<id>-log.txt`` and ``log.txt``: the run's log lines;
* ``signals.jsonl`` (:class:`alphapulse.journal.Signal`) and ``fills.jsonl``
  (:class:`alphapulse.journal.Fill`);
* ``report.html``.

Everything is written into a temporary sibling folder that is renamed to the output folder at the
end, so a failure leaves no partial output folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import format_time
from alphapulse.errors import ConfigError
from alphapulse.journal import Fill, Signal
from alphapulse_tools.runner.statistics import NS_PER_DAY, DailySeries, PortfolioStatistics
from alphapulse_tools.runner.trades import Order, SimulationResult, Trade

ORDER_TYPES = {"market": 0, "limit": 1, "stop_market": 2}
ORDER_STATUS = {"submitted": 1, "filled": 3, "canceled": 5}


@dataclass
class RunInfo:
    """What a run was: identity, configuration and timing (for ``state`` and the configuration)."""

    id: str
    name: str
    strategy: str
    symbols: list[str]
    market: str
    interval: str
    start: str
    end: str
    account_currency: str
    trading_days: int
    parameters: dict[str, str] = field(default_factory=dict)
    started: str = ""
    finished: str = ""
    log: list[str] = field(default_factory=list)


@contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder beside ``target``; rename it to ``target`` when the block succeeds,
    remove it when it fails. ``target`` must not exist or be an empty folder."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"output folder {target} already exists and is not empty; "
                          "choose another --out or remove it")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield work
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _symbol(order_or_trade: Order | Trade) -> dict[str, str]:
    value = order_or_trade.symbol
    return {"value": value, "id": f"{value} {order_or_trade.market}", "permtick": value}


def _direction(quantity: float) -> int:
    return 0 if quantity > 0 else 1


def lean_orders(orders: Iterable[Order], currency: str) -> dict[str, dict[str, Any]]:
    """``orders`` of ``<id>.json``."""
    out: dict[str, dict[str, Any]] = {}
    for o in orders:
        entry: dict[str, Any] = {
            "type": ORDER_TYPES[o.type], "id": o.id, "contingentId": 0, "brokerId": [],
            "symbol": _symbol(o), "price": o.fill_price, "priceCurrency": currency,
            "time": format_time(o.time), "createdTime": format_time(o.time),
            "lastFillTime": format_time(o.fill_time) if o.fill_time else None,
            "canceledTime": format_time(o.cancel_time) if o.cancel_time else None,
            "quantity": o.quantity, "status": ORDER_STATUS[o.status], "tag": o.tag,
            "direction": _direction(o.quantity), "value": abs(o.quantity) * o.fill_price,
            "isMarketable": o.type == "market",
        }
        if o.stop_price is not None:
            entry["stopPrice"] = o.stop_price
        if o.limit_price is not None:
            entry["limitPrice"] = o.limit_price
        out[str(o.id)] = entry
    return out


def order_events(orders: Iterable[Order], algorithm_id: str, currency: str) -> list[dict[str, Any]]:
    """``<id>-order-events.json``: a submitted event per order, then its fill or cancellation."""
    events: list[tuple[int, int, dict[str, Any]]] = []
    for o in orders:
        base = {"algorithmId": algorithm_id, "orderId": o.id, "symbol": f"{o.symbol} {o.market}",
                "symbolValue": o.symbol, "symbolPermtick": o.symbol,
                "direction": "buy" if o.quantity > 0 else "sell", "quantity": o.quantity,
                "fillPriceCurrency": currency, "isAssignment": False, "message": ""}
        if o.stop_price is not None:
            base["stopPrice"] = o.stop_price
        if o.limit_price is not None:
            base["limitPrice"] = o.limit_price
        steps: list[tuple[int, dict[str, Any]]] = [
            (o.time, {"status": "submitted", "fillPrice": 0.0, "fillQuantity": 0.0})]
        if o.status == "filled":
            steps.append((o.fill_time, {"status": "filled", "fillPrice": o.fill_price,
                                        "fillQuantity": o.quantity, "orderFeeAmount": o.fee,
                                        "orderFeeCurrency": currency}))
        elif o.status == "canceled":
            steps.append((o.cancel_time, {"status": "canceled", "fillPrice": 0.0, "fillQuantity": 0.0}))
        for number, (time, extra) in enumerate(steps, start=1):
            event = {"id": f"{algorithm_id}-{o.id}-{number}", **base, "orderEventId": number,
                     "time": time / 1e9, **extra}
            events.append((time, o.id, event))
    events.sort(key=lambda e: (e[0], e[1], e[2]["orderEventId"]))
    return [e[2] for e in events]


def fills(result: SimulationResult, algorithm_id: str) -> list[Fill]:
    """The fills as journal records (one per filled order)."""
    currency = {(i.symbol, i.market): i.quote_currency for i in result.instruments}
    return [Fill(algorithm=algorithm_id, order_id=o.id, symbol=o.symbol, market=o.market,
                 time=o.fill_time, quantity=o.quantity, price=o.fill_price, fee=o.fee,
                 fee_currency=currency.get((o.symbol, o.market), "USD"), order_type=o.type,
                 signal_id=o.signal_id, tag=o.tag)
            for o in sorted(result.orders, key=lambda o: (o.fill_time, o.id)) if o.status == "filled"]


def closed_trades(trades: Iterable[Trade]) -> list[dict[str, Any]]:
    """Lean's ``closedTrades`` entries."""
    out = []
    for t in trades:
        if not t.is_closed:
            continue
        out.append({
            "symbols": [_symbol(t)], "entryTime": format_time(t.entry_time), "entryPrice": t.entry_price,
            "direction": 0 if int(t.direction) > 0 else 1, "quantity": t.quantity,
            "exitTime": format_time(t.exit_time), "exitPrice": t.exit_price, "profitLoss": t.gross_profit,
            "totalFees": t.fees, "duration": _duration(t.exit_time - t.entry_time),
            "isWin": t.profit > 0, "exitReason": t.exit_reason, "signalId": t.signal.id,
        })
    return out


def _duration(ns: int) -> str:
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def equity_candles(time_ns: np.ndarray, equity: np.ndarray, start_cash: float) -> list[list[float]]:
    """Daily OHLC of equity: ``[unix seconds of the day's end, open, high, low, close]``."""
    if len(time_ns) == 0:
        return []
    day = (time_ns - 1) // NS_PER_DAY
    cuts = np.flatnonzero(np.diff(day)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(day)]])
    out = []
    previous = start_cash
    for a, b in zip(starts, ends, strict=True):
        chunk = equity[a:b]
        stamp = int(time_ns[b - 1] // 1_000_000_000)
        out.append([stamp, previous, float(max(previous, chunk.max())), float(min(previous, chunk.min())),
                    float(chunk[-1])])
        previous = float(chunk[-1])
    return out


def charts(result: SimulationResult, daily: DailySeries, benchmark: DailySeries | None) -> dict[str, Any]:
    """Lean's chart structure with the equity, return, drawdown and benchmark series."""
    candles = equity_candles(result.equity_time, result.equity, result.start_cash)
    stamps = [int((d + 1) * 86_400) for d in daily.day]
    values = daily.value
    returns = [[s, 0.0 if k == 0 else float((values[k] / values[k - 1] - 1) * 100)]
               for k, s in enumerate(stamps)]
    peaks = np.maximum.accumulate(values) if len(values) else values
    drawdown = [[s, float((v / p - 1) * 100)] for s, v, p in zip(stamps, values, peaks, strict=True)]

    def series(name: str, unit: str, kind: int, points: list[Any], index: int = 0) -> dict[str, Any]:
        return {"name": name, "unit": unit, "index": index, "seriesType": kind, "values": points}

    out: dict[str, Any] = {
        "Strategy Equity": {"name": "Strategy Equity", "chartType": 0, "series": {
            "Equity": series("Equity", "$", 2, candles),
            "Return": series("Return", "%", 0, returns, 1)}},
        "Drawdown": {"name": "Drawdown", "chartType": 0, "series": {
            "Equity Drawdown": series("Equity Drawdown", "%", 0, drawdown)}},
    }
    if benchmark is not None:
        out["Benchmark"] = {"name": "Benchmark", "chartType": 0, "series": {
            "Benchmark": series("Benchmark", "$", 0, [[s, float(v)] for s, v in
                                                      zip(stamps, benchmark.value, strict=True)])}}
    return out


def _money(value: float) -> str:
    sign = "-" if round(value, 2) < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def runtime_statistics(result: SimulationResult, psr_text: str) -> dict[str, str]:
    """Lean's ``runtimeStatistics`` (money with thousands separators)."""
    volume = sum(abs(o.quantity) * o.fill_price for o in result.orders if o.status == "filled")
    holdings = result.end_equity - result.cash
    cost = sum(int(t.direction) * t.quantity * t.entry_price for t in result.trades if not t.is_closed)
    realised = sum(t.profit for t in result.trades if t.is_closed)
    return {
        "Equity": _money(result.end_equity),
        "Fees": _money(-result.total_fees),
        "Holdings": _money(holdings),
        "Net Profit": _money(realised),
        "Probabilistic Sharpe Ratio": psr_text,
        "Return": f"{(result.end_equity / result.start_cash - 1) * 100:.2f} %",
        "Unrealized": _money(holdings - cost),
        "Volume": _money(volume),
    }


def write_results(folder: Path, info: RunInfo, result: SimulationResult, statistics: dict[str, str],
                  portfolio: PortfolioStatistics, trade_stats: dict[str, Any], daily: DailySeries,
                  benchmark: DailySeries | None, signals: list[Signal],
                  report: Callable[[Path], None] | None = None) -> None:
    """Write every file of the result folder into ``folder`` (an existing, empty folder)."""
    currency = info.account_currency
    configuration = {
        "name": info.name, "tags": ["alphapulse", info.strategy], "accountCurrency": currency,
        "brokerage": info.market, "accountType": "Cash", "parameters": info.parameters,
        "outOfSampleMaxEndDate": None, "outOfSampleDays": 0, "startDate": info.start, "endDate": info.end,
        "tradingDaysPerYear": info.trading_days,
    }
    state = {"StartTime": info.started, "EndTime": info.finished, "RuntimeError": "", "StackTrace": "",
             "LogCount": str(len(info.log)), "OrderCount": str(len(result.orders)), "InsightCount": "0",
             "Name": info.id, "Status": "Completed", "DeploymentTarget": "LocalPlatform",
             "Engine": "alphapulse-local-runner"}
    total = {"tradeStatistics": trade_stats, "portfolioStatistics": portfolio.to_json(),
             "closedTrades": closed_trades(result.trades)}
    runtime = runtime_statistics(result, statistics["Probabilistic Sharpe Ratio"])
    profit_loss: dict[str, float] = {}
    for t in sorted(result.trades, key=lambda t: t.exit_time):
        if t.is_closed:  # trades closing at the same time are summed, as Lean keys them by time
            key = format_time(t.exit_time)
            profit_loss[key] = profit_loss.get(key, 0.0) + t.profit
    main = {"rollingWindow": {}, "totalPerformance": total,
            "charts": charts(result, daily, benchmark),
            "orders": lean_orders(result.orders, currency), "profitLoss": profit_loss,
            "statistics": statistics, "runtimeStatistics": runtime, "state": state,
            "algorithmConfiguration": configuration}
    summary = {"statistics": statistics, "runtimeStatistics": runtime, "totalPerformance": total,
               "state": state, "algorithmConfiguration": configuration}
    _dump(folder / f"{info.id}.json", main)
    _dump(folder / f"{info.id}-summary.json", summary)
    _dump(folder / f"{info.id}-order-events.json", order_events(result.orders, info.id, currency))
    log_text = "".join(line + "\n" for line in info.log)
    (folder / f"{info.id}-log.txt").write_text(log_text, encoding="utf-8")
    (folder / "log.txt").write_text(log_text, encoding="utf-8")
    (folder / "signals.jsonl").write_text("".join(s.to_json() + "\n" for s in signals), encoding="utf-8")
    (folder / "fills.jsonl").write_text("".join(f.to_json() + "\n" for f in fills(result, info.id)),
                                        encoding="utf-8")
    if report is not None:
        report(folder / "report.html")


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(",", ":"), allow_nan=False), encoding="utf-8")
