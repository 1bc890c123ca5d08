"""TradingView alerts as the webhook serves them, and the follower strategy that trades them.

The webhook's feed (``GET /alerts?format=csv``, see ``webhook/README.md``) and its exported CSV
share one row format: a header line, then one alert per line with the columns of
:data:`FEED_COLUMNS` (times as ISO-8601 UTC text, empty cells for absent values). Lean's
TradingViewFollower reads it through a ``PythonData`` type (REST in live mode, a CSV file in
backtests) that calls :func:`parse_feed_line`; a malformed row raises :class:`DataError` naming the
column, which the reader logs and skips.

:class:`TradingViewFollower` turns alerts into signals with the same risk rules as the other
strategies: ``buy`` opens a long (``sell`` a short where the contract allows shorting, else it closes
the long), ``close``/``flat`` close the position. Stops are ``risk.atr_multiple`` ATRs from the entry,
targets ``risk.target_multiple`` R. An alert is acted on at the close of the first bar that ends at or
after the alert was received (and after the alert's own bar closed) — never earlier, so a backtest
cannot trade an alert before the webhook had it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from alphapulse.bars import Bar, Bars, parse_time
from alphapulse.config import ContractConfig
from alphapulse.errors import DataError
from alphapulse.indicators import Atr, atr
from alphapulse.intervals import interval_seconds
from alphapulse.journal import Direction, Signal
from alphapulse.strategies.base import Strategy, StrategyStream

#: the columns of the webhook's CSV feed, in order
FEED_COLUMNS = ("cursor", "id", "received_at", "bar_time", "ticker", "exchange", "interval", "action",
                "price", "contracts", "position_size", "order_id", "strategy", "comment")
ACTIONS = ("buy", "sell", "close", "flat")


@dataclass(frozen=True, slots=True)
class Alert:
    """One stored TradingView alert: ``bar_time`` (ns, UTC) of the bar that fired it, ``action``
    (buy/sell/close/flat), ``price`` (the bar's close as TradingView sent it), and the feed ``cursor``."""

    cursor: str
    id: int
    received_at: int
    bar_time: int
    ticker: str
    exchange: str
    interval: str
    action: str
    price: float
    strategy: str = ""
    comment: str = ""


def parse_feed_line(line: str) -> Alert | None:
    """One CSV line of the feed: an :class:`Alert`, or None for the header or a blank line.

    Raises :class:`DataError` naming the column for a malformed row."""
    text = line.strip()
    if not text or text.startswith("cursor,"):
        return None
    cells = next(csv.reader([text]))
    if len(cells) != len(FEED_COLUMNS):
        raise DataError(f"alert row has {len(cells)} columns, expected {len(FEED_COLUMNS)} "
                        f"({','.join(FEED_COLUMNS)})")
    row = dict(zip(FEED_COLUMNS, cells, strict=True))
    try:
        action = row["action"].strip().lower()
        if action not in ACTIONS:
            raise ValueError(f"action {row['action']!r} is not one of {', '.join(ACTIONS)}")
        price = float(row["price"])
        if not (math.isfinite(price) and price > 0):
            raise ValueError(f"price {row['price']!r} must be a positive number")
        if not row["bar_time"]:
            raise ValueError("bar_time is empty")
        if not row["ticker"]:
            raise ValueError("ticker is empty")
        return Alert(cursor=row["cursor"], id=int(row["id"]), received_at=parse_time(row["received_at"]),
                     bar_time=parse_time(row["bar_time"]), ticker=row["ticker"].upper(),
                     exchange=row["exchange"], interval=row["interval"], action=action, price=price,
                     strategy=row["strategy"], comment=row["comment"])
    except (ValueError, KeyError) as exc:
        raise DataError(f"malformed alert row: {exc}") from None


def read_feed(text: str) -> list[Alert]:
    """Every alert of a CSV feed text (header included); a malformed row raises :class:`DataError`
    naming its line."""
    alerts = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            alert = parse_feed_line(line)
        except DataError as exc:
            raise DataError(f"line {number}: {exc}") from None
        if alert is not None:
            alerts.append(alert)
    return alerts


class TradingViewFollower(Strategy):
    """Trades the alerts of one ticker (see the module docstring)."""

    name = "tradingview-follower"

    def __init__(self, contract: ContractConfig, *, symbol: str | None = None, market: str = "",
                 alerts: list[Alert] | None = None) -> None:
        self.contract = contract
        self.symbol = (symbol or contract.symbol).upper()
        self.market = market
        self.atr_period = contract.indicators.atr.period
        self.period_ns = interval_seconds(contract.timeframe) * 1_000_000_000
        self.alerts = sorted((a for a in alerts or () if a.ticker == self.symbol), key=lambda a: (a.bar_time, a.id))

    @property
    def warm_up_period(self) -> int:
        return self.atr_period + 1

    def due(self, alert: Alert) -> int:
        """When an alert can be acted on (ns): once received, and not before its bar closed."""
        return max(alert.bar_time + self.period_ns, alert.received_at)

    def decide(self, time: int, close: float, current_atr: float, alert: Alert) -> Signal | None:
        """The signal for ``alert`` acted on at the close of the bar starting at ``time``."""
        risk = self.contract.risk
        common = {"strategy": self.name, "symbol": self.symbol, "market": self.market,
                  "interval": self.contract.timeframe, "time": time}
        reason = f"TradingView alert {alert.id}: {alert.action} at {alert.price:g}"
        if alert.action in ("close", "flat") or (alert.action == "sell" and not risk.allow_short):
            return Signal(direction=Direction.FLAT, reason=reason, **common)
        if math.isnan(current_atr) or current_atr <= 0:
            return None
        sign = 1 if alert.action == "buy" else -1
        stop = close - sign * risk.atr_multiple * current_atr
        if stop <= 0:
            return None
        target = close + sign * risk.target_multiple * abs(close - stop)
        return Signal(direction=Direction.LONG if sign > 0 else Direction.SHORT, entry=close, stop=stop,
                      target=target, score=1.0, factors={"alert": 1.0}, reason=reason, max_bars=risk.max_bars,
                      **common)

    def signals(self, bars: Bars) -> list[Signal]:
        ranges = atr(bars.high, bars.low, bars.close, self.atr_period)
        ends = bars.time + self.period_ns
        due = [self.due(a) for a in self.alerts]
        acting = np.searchsorted(ends, np.asarray(due, dtype=np.int64), side="left")
        chosen: dict[int, Alert] = {}
        for index, alert in zip(acting.tolist(), self.alerts, strict=True):
            if index < len(bars):
                chosen[index] = alert  # the latest alert due by a bar wins
        result = []
        for index in sorted(chosen):
            if index < self.warm_up_period - 1:
                continue
            signal = self.decide(int(bars.time[index]), float(bars.close[index]), float(ranges[index]),
                                 chosen[index])
            if signal is not None:
                result.append(signal)
        return result

    def stream(self) -> FollowerStream:
        return FollowerStream(self)


class FollowerStream(StrategyStream):
    """Streaming form: alerts are pushed as they arrive, bars as they close."""

    def __init__(self, strategy: TradingViewFollower) -> None:
        self.strategy = strategy
        self.atr = Atr(strategy.atr_period)
        self.pending: list[Alert] = list(strategy.alerts)
        self.count = 0

    def push(self, alert: Alert) -> None:
        """An alert arrived (live): it is acted on at the close of the bar it becomes due in."""
        if alert.ticker == self.strategy.symbol:
            self.pending.append(alert)
            self.pending.sort(key=lambda a: (a.bar_time, a.id))

    @property
    def is_ready(self) -> bool:
        return self.count >= self.strategy.warm_up_period

    def update(self, bar: Bar) -> Signal | None:
        self.atr.update(bar)
        self.count += 1
        end = bar.time + self.strategy.period_ns
        due = [a for a in self.pending if self.strategy.due(a) <= end]
        if not due:
            return None
        self.pending = [a for a in self.pending if self.strategy.due(a) > end]
        if not self.is_ready:
            return None
        value = self.atr.value
        return self.strategy.decide(bar.time, bar.close, float(value) if isinstance(value, float) else math.nan,
                                    due[-1])
