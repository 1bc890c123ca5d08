"""Writing realistic result folders for the store tests, from real bars and TA-Lib patterns.

A small long-only pattern strategy over real BTCUSDT hour bars: a signal on every bar where
TA-Lib finds an engulfing, hammer or shooting-star candle (bullish hits give LONG signals, bearish
hits SHORT signals that a spot account cannot trade); a LONG signal taken while flat buys at that
bar's close with a protective stop order, and the position is sold at the close three bars
later (the stop order is then canceled). Binance fees: 0.1 % of traded value.

The folders have Lean's shape (LEAN.md): ``<id>.json``, ``<id>-order-events.json``,
``<id>-summary.json``, ``log.txt``; the local runner's adds ``signals.jsonl`` and ``fills.jsonl``.
:func:`write_journal` writes an ObjectStore journal folder (``alphapulse/<algorithm>/``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import talib

from alphapulse.bars import Bars, format_time
from alphapulse.journal import Direction, Fill, PatternHit, Signal

PATTERNS = ("CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR")
QUANTITY = 0.5
FEE_RATE = 0.001
HOLD_BARS = 3
START_CASH = 100_000.0


@dataclass
class Backtest:
    """What the folder holds, computed independently of the exporter (the tests' reference)."""

    signals: list[Signal] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    equity: list[list[float]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)


def simulate(bars: Bars, algorithm: str = "PatternTrader", market: str = "binance",
             interval: str = "1h") -> Backtest:
    """Run the small strategy over ``bars``; every number comes from the bars, TA-Lib and arithmetic."""
    out = Backtest()
    hits = {name: getattr(talib, name)(bars.open, bars.high, bars.low, bars.close) for name in PATTERNS}
    cash, position, exit_at, stop_order = START_CASH, 0.0, -1, 0
    entry: dict[str, Any] = {}
    order_id = 0
    for i in range(len(bars)):
        close_ns = int(bars.time[i]) + bars.period * 1_000_000_000
        if position and i == exit_at:
            order_id += 1
            fee = _trade(out, algorithm, bars.symbol, market, order_id, close_ns, -position,
                         float(bars.close[i]), entry["signal"].id, "exit")
            _cancel(out, stop_order, bars.symbol, close_ns)
            cash += position * float(bars.close[i]) - fee
            out.trades.append({
                "symbol": {"value": bars.symbol, "id": f"{bars.symbol} 18N", "permtick": bars.symbol},
                "entryTime": format_time(entry["time"]), "entryPrice": entry["price"], "direction": 0,
                "quantity": position, "exitTime": format_time(close_ns), "exitPrice": float(bars.close[i]),
                "profitLoss": (float(bars.close[i]) - entry["price"]) * position,
                "totalFees": entry["fee"] + fee, "mae": -1.0, "mfe": 1.0, "isWin": None,
                "orderIds": [entry["order"], order_id], "signalId": entry["signal"].id})
            position = 0.0
        found = [PatternHit(name, int(values[i]), 0.6) for name, values in hits.items() if values[i] != 0]
        if found:
            bullish = sum(hit.value for hit in found) > 0
            price = float(bars.close[i])
            rng = min(float(bars.high[i] - bars.low[i]), price * 0.3) or price * 0.01
            signal = Signal(
                strategy=algorithm, symbol=bars.symbol, market=market, interval=interval,
                time=int(bars.time[i]), direction=Direction.LONG if bullish else Direction.SHORT,
                entry=price, stop=price - rng if bullish else price + rng,
                target=price + 2 * rng if bullish else price - 2 * rng, score=0.5 + 0.1 * len(found),
                factors={"pattern": 0.6, "trend": 0.4}, patterns=tuple(found),
                reason=" + ".join(h.name for h in found), max_bars=HOLD_BARS)
            out.signals.append(signal)
            if bullish and not position and i + HOLD_BARS < len(bars):
                order_id += 1
                fee = _trade(out, algorithm, bars.symbol, market, order_id, close_ns, QUANTITY, price,
                             signal.id, "entry")
                cash -= QUANTITY * price + fee
                position, exit_at = QUANTITY, i + HOLD_BARS
                entry = {"signal": signal, "time": close_ns, "price": price, "fee": fee, "order": order_id}
                order_id += 1
                stop_order = order_id
                _submit_stop(out, stop_order, bars.symbol, close_ns, -QUANTITY, float(signal.stop or 0))
        value = cash + position * float(bars.close[i])
        out.equity.append([close_ns // 1_000_000_000, value, value, value, value])
    return out


def _trade(out: Backtest, algorithm: str, symbol: str, market: str, order_id: int, time_ns: int,
           quantity: float, price: float, signal_id: str, tag: str) -> float:
    fee = abs(quantity) * price * FEE_RATE
    out.orders[str(order_id)] = {"type": 0, "id": order_id, "status": 3,
                                 "direction": 0 if quantity > 0 else 1, "quantity": quantity,
                                 "price": price, "tag": f"{tag} {signal_id}",
                                 "symbol": {"value": symbol, "id": f"{symbol} 18N", "permtick": symbol}}
    base = _event_base(order_id, symbol, time_ns, quantity)
    out.events.append(base | {"orderEventId": 1, "status": "submitted"})
    out.events.append(base | {"orderEventId": 2, "status": "filled", "fillPrice": price,
                              "fillPriceCurrency": "USDT", "fillQuantity": quantity,
                              "orderFeeAmount": fee, "orderFeeCurrency": "USDT"})
    out.fills.append(Fill(algorithm=algorithm, order_id=order_id, symbol=symbol, market=market,
                          time=time_ns, quantity=quantity, price=price, fee=fee, fee_currency="USDT",
                          order_type="market", signal_id=signal_id, tag=f"{tag} {signal_id}"))
    return fee


def _submit_stop(out: Backtest, order_id: int, symbol: str, time_ns: int, quantity: float,
                 stop: float) -> None:
    out.orders[str(order_id)] = {"type": 2, "id": order_id, "status": 5, "direction": 1,
                                 "quantity": quantity, "price": stop, "tag": "stop",
                                 "symbol": {"value": symbol, "id": f"{symbol} 18N", "permtick": symbol}}
    out.events.append(_event_base(order_id, symbol, time_ns, quantity)
                      | {"orderEventId": 1, "status": "submitted", "stopPrice": stop})


def _cancel(out: Backtest, order_id: int, symbol: str, time_ns: int) -> None:
    out.events.append(_event_base(order_id, symbol, time_ns, -QUANTITY)
                      | {"orderEventId": 2, "status": "canceled", "message": "position closed"})


def _event_base(order_id: int, symbol: str, time_ns: int, quantity: float) -> dict[str, Any]:
    return {"id": f"1234567890-{order_id}", "algorithmId": "1234567890", "orderId": order_id,
            "symbol": f"{symbol} 18N", "symbolValue": symbol, "symbolPermtick": symbol,
            "time": time_ns / 1e9, "direction": "buy" if quantity > 0 else "sell", "message": "",
            "fillPrice": 0.0, "fillPriceCurrency": "USDT", "fillQuantity": 0.0, "quantity": quantity,
            "isAssignment": False}


def write_result_folder(folder: Path, backtest: Backtest, *, result_id: str = "1234567890",
                        algorithm: str = "PatternTrader", local_runner: bool = False,
                        trade_signal_ids: bool = True) -> Path:
    """Write Lean's result files (and, for the local runner, signals.jsonl + fills.jsonl).

    Lean's closed trades name their ``symbol`` (Lean before 2.5); the local runner's name
    ``symbols`` (a list, as later Lean versions do) and, with ``trade_signal_ids``, the ``signalId``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    trades = []
    for trade in backtest.trades:
        shaped = {key: value for key, value in trade.items() if key not in ("signalId", "symbol")}
        if local_runner:
            shaped["symbols"] = [trade["symbol"]]
            if trade_signal_ids:
                shaped["signalId"] = trade["signalId"]
        else:
            shaped["symbol"] = trade["symbol"]
        trades.append(shaped)
    net = backtest.equity[-1][-1] - START_CASH if backtest.equity else 0.0
    statistics = {"Total Orders": str(len(backtest.orders)), "Net Profit": f"{net / START_CASH:.3%}",
                  "Total Fees": f"${sum(f.fee for f in backtest.fills):,.2f}", "Start Equity": "100000",
                  "End Equity": f"{START_CASH + net:.2f}"}
    result = {
        "rollingWindow": {},
        "totalPerformance": {"tradeStatistics": {}, "portfolioStatistics": {},
                             "closedTrades": trades},
        "charts": {"Strategy Equity": {"name": "Strategy Equity", "chartType": 0, "series": {
            "Equity": {"name": "Equity", "unit": "$", "index": 0, "seriesType": 2,
                       "values": backtest.equity}}}},
        "orders": backtest.orders,
        "profitLoss": {},
        "statistics": statistics,
        "runtimeStatistics": {"Equity": statistics["End Equity"]},
        "state": {"Status": "Completed"},
        "algorithmConfiguration": {"name": algorithm, "parameters": {"hold-bars": str(HOLD_BARS)},
                                   "accountCurrency": "USDT"},
    }
    (folder / f"{result_id}.json").write_text(json.dumps(result))
    (folder / f"{result_id}-order-events.json").write_text(json.dumps(backtest.events))
    (folder / f"{result_id}-summary.json").write_text(json.dumps({"statistics": statistics}))
    (folder / "log.txt").write_text("Algorithm completed\n")
    if local_runner:
        write_lines(folder / "signals.jsonl", [s.to_json() for s in backtest.signals])
        write_lines(folder / "fills.jsonl", [f.to_json() for f in backtest.fills])
    return folder


def write_journal(storage: Path, backtest: Backtest, algorithm: str = "PatternTrader") -> Path:
    """Write an ObjectStore journal folder ``<storage>/alphapulse/<algorithm>/``."""
    folder = storage / "alphapulse" / algorithm
    folder.mkdir(parents=True, exist_ok=True)
    write_lines(folder / "signals.jsonl", [s.to_json() for s in backtest.signals])
    write_lines(folder / "fills.jsonl", [f.to_json() for f in backtest.fills])
    return folder


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def daily_sums(trades: list[dict[str, Any]]) -> dict[str, tuple[float, float, int]]:
    """Reference for daily_pnl: (profit_loss, fees, trades) per UTC exit day, summed in numpy."""
    days = sorted({t["exitTime"][:10] for t in trades})
    out: dict[str, tuple[float, float, int]] = {}
    for day in days:
        mine = [t for t in trades if t["exitTime"][:10] == day]
        out[day] = (float(np.sum([t["profitLoss"] for t in mine])),
                    float(np.sum([t["totalFees"] for t in mine])), len(mine))
    return out


def assert_daily_views(conn: Any, backtest: Any, copies: int = 1) -> None:
    """``daily_pnl`` equals the trades' daily sums and ``daily_pattern_signals`` the signals' pattern
    hits (``copies`` runs holding the same signals)."""
    from collections import Counter

    import pytest

    rows = conn.execute("SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), profit_loss, fees, trades "
                        "FROM daily_pnl ORDER BY day").fetchall()
    reference = daily_sums(backtest.trades)
    assert [r[0] for r in rows] == list(reference)
    for day, pnl, fees, trades in rows:
        assert (pnl, fees, trades) == (pytest.approx(reference[day][0]), pytest.approx(reference[day][1]),
                                       reference[day][2])
    per_pattern = dict(((p, d), n) for p, d, n in conn.execute(
        "SELECT pattern, direction, sum(signals)::int FROM daily_pattern_signals GROUP BY 1, 2").fetchall())
    hits = Counter((p.name, s.direction.label) for s in backtest.signals for p in s.patterns)
    assert per_pattern == {key: copies * n for key, n in hits.items()}
