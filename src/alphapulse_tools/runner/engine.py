"""The simulation: strategies' signals executed with Lean's default fill semantics, vectorised.

Semantics (those of :mod:`alphapulse.strategies.base`, which every runtime follows):

* an entry signal (LONG, or SHORT where the instrument allows shorting) while flat: a market order
  filled at the close of the signal's bar, sized by the :class:`Sizer` from the signal's stop;
  quantities are rounded down to the lot size, and an order below the minimum order size or value,
  or one the cash cannot pay for (value + fee, long; Lean rejects such orders), is skipped;
* then a stop-market order at ``stop`` and a limit order at ``target`` (both rounded to the price
  tick), evaluated from the next bar on against its open/high/low: a long's stop fills when the low
  reaches it, at the stop, or at the open when the bar opened beyond it (a gap); the target fills
  when the high reaches it, at the target or at the better open. **When both levels lie inside one
  bar, the stop is taken** (the conservative reading; backtesting.py does the same);
* a FLAT signal while in a position, or the close of the ``max_bars``-th bar after entry: a market
  order at that bar's close; the exit orders are cancelled;
* exits of a bar are processed before entries on the same bar (an entry signal on the bar where a
  position closed opens a new one); an entry signal while a position is open is ignored;
* a position still open at the end of the data stays open (marked to market, not a closed trade).

Speed: nothing loops over bars. The exit of every entry candidate is found at once with numpy
(:func:`find_exits`: the first bar after entry whose low/high reaches the stop or target, searched
in growing windows vectorised over all candidates, bounded by the candidate's FLAT or time exit);
the Python loop then runs over the *taken* trades only (sizing, cash, fees). Several instruments
share one cash book: entries and exits of all instruments are merged in time order (a heap), and
each entry is sized from the equity (cash + open positions marked at the latest close) at its
bar's close. With a single instrument no queue is needed (entries and exits alternate), and a
leaner loop with the same rules and the same arithmetic runs instead (:func:`_run_alone`: the
checks that do not depend on the account are made for all candidates at once, flat-rate fees are
computed inline, whole-unit lots skip decimal rounding, and the equity curve is summed from the
fills it notes). Lean's orders are built from the trades on first use (:attr:`SimulationResult.orders`).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from alphapulse.bars import Bars
from alphapulse.errors import StrategyError
from alphapulse.journal import Direction, Signal
from alphapulse.risk import round_price
from alphapulse_tools.runner.fees import LIMIT, MARKET, STOP_MARKET, FeeModel, value_rate

#: why a position was closed
EXIT_STOP = "stop"
EXIT_TARGET = "target"
EXIT_FLAT = "flat"
EXIT_TIME = "time"


class SizingContext(NamedTuple):
    """What a sizer knows at an entry: the account at the signal bar's close (quote currency)."""

    equity: float
    cash: float
    #: absolute value of all open positions, marked at the latest close
    exposure: float
    #: absolute value of the open position of this signal's symbol (0: the runner enters only when flat)
    symbol_exposure: float
    #: highest equity seen at an entry so far (for drawdown circuit breakers)
    peak_equity: float
    #: the bar's close time (ns UTC)
    time: int = 0
    #: open positions: (symbol, signed quantity, latest close)
    positions: tuple[tuple[str, float, float], ...] = ()


#: quantity (units, positive, before lot rounding) to trade for a signal at ``price``
Sizer = Callable[[Signal, float, SizingContext], float]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One traded symbol: its bars, its strategy's signals and its trading rules.

    ``lot_size``: quantities are multiples of it (rounded down). ``min_order_size``: smallest
    quantity in units; ``min_order_value``: smallest order value in the quote currency (Binance's
    minimum notional). ``tick_size``: stop and target are rounded to it (0: no rounding).
    """

    symbol: str
    market: str
    bars: Bars
    signals: Sequence[Signal]
    fee_model: FeeModel
    lot_size: float = 1e-8
    min_order_size: float = 0.0
    min_order_value: float = 0.0
    tick_size: float = 0.0
    allow_short: bool = False
    quote_currency: str = "USD"


class Trade(NamedTuple):
    """One position from entry fill to exit fill.

    ``entry_index``/``exit_index`` are bar numbers in the instrument's bars (``exit_index`` -1 while
    still open at the end); ``entry_time``/``exit_time`` the fill times (ns UTC: the close of the entry
    bar, the close of the exit bar); prices in the quote currency; ``quantity`` in units (positive);
    fees in the quote currency; ``exit_reason`` one of stop, target, flat, time ("" while open).
    """

    symbol: str
    market: str
    direction: Direction
    quantity: float
    entry_index: int
    entry_time: int
    entry_price: float
    entry_fee: float
    stop: float | None
    target: float | None
    exit_index: int
    exit_time: int
    exit_price: float
    exit_fee: float
    exit_reason: str
    signal: Signal

    @property
    def is_closed(self) -> bool:
        return self.exit_index >= 0

    @property
    def gross_profit(self) -> float:
        """Profit before fees, quote currency (0 while open)."""
        if not self.is_closed:
            return 0.0
        return int(self.direction) * self.quantity * (self.exit_price - self.entry_price)

    @property
    def fees(self) -> float:
        return self.entry_fee + self.exit_fee

    @property
    def profit(self) -> float:
        """Net profit after both fees, quote currency."""
        return self.gross_profit - self.fees

    @property
    def r_multiple(self) -> float | None:
        """Gross profit per unit divided by the planned risk per unit (|entry - stop|)."""
        if not self.is_closed or self.stop is None or self.stop == self.entry_price:
            return None
        per_unit = int(self.direction) * (self.exit_price - self.entry_price)
        return per_unit / abs(self.entry_price - self.stop)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as Lean records it (quantity signed: + buy, - sell)."""

    id: int
    symbol: str
    market: str
    type: str
    quantity: float
    time: int
    status: str
    fill_time: int = 0
    fill_price: float = 0.0
    fee: float = 0.0
    stop_price: float | None = None
    limit_price: float | None = None
    tag: str = ""
    signal_id: str = ""
    #: time the order was cancelled (ns), 0 when not cancelled
    cancel_time: int = 0


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry signal that did not become a trade, and why."""

    signal: Signal
    reason: str


@dataclass
class SimulationResult:
    """Everything the simulation produced; ``orders`` (Lean's orders of every trade, in time order)
    are built on first use."""

    start_cash: float
    trades: list[Trade]
    skipped: list[Skipped]
    #: bar close times (ns) of the merged time grid and the equity at each close
    equity_time: np.ndarray
    equity: np.ndarray
    cash: float
    instruments: list[Instrument] = field(default_factory=list)

    @property
    def total_fees(self) -> float:
        return float(sum(t.fees for t in self.trades))

    @property
    def order_count(self) -> int:
        """Number of orders (as :attr:`orders` would list them) without building them."""
        count = 0
        for t in self.trades:
            count += 1 + (t.stop is not None) + (t.target is not None)
            count += t.exit_reason in (EXIT_FLAT, EXIT_TIME)
        return count

    @functools.cached_property
    def orders(self) -> list[Order]:
        orders: list[Order] = []
        for trade in sorted(self.trades, key=lambda t: (t.entry_time, t.symbol)):
            orders.extend(_orders_of(trade, len(orders) + 1))
        orders.sort(key=lambda o: (o.time, o.id))
        return orders

    @property
    def end_equity(self) -> float:
        return float(self.equity[-1]) if len(self.equity) else self.start_cash


def round_to_tick(price: float, tick_size: float) -> float:
    """``price`` rounded to the nearest tick, as every runtime rounds it (:func:`alphapulse.risk.round_price`)."""
    return round_price(price, tick_size)


#: search window budget (bars x candidates) of one vectorised exit-search step
_SEARCH_BUDGET = 4_000_000
#: windows searched for every entry candidate up front (16 + 64 + 256 bars); the search of a
#: candidate that is taken continues from there, so untaken candidates never cost more
PRECOMPUTE_ROUNDS = 3
_REASONS = ("", EXIT_STOP, EXIT_TARGET, EXIT_FLAT, EXIT_TIME)
_EXIT_ORDER_TYPES = ("", STOP_MARKET, LIMIT, MARKET, MARKET)


def find_exits(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, entry: np.ndarray,
               long: np.ndarray, stop: np.ndarray, target: np.ndarray, end: np.ndarray, forced: np.ndarray,
               *, first: np.ndarray | None = None,
               rounds: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exits of positions entered at the closes of bars ``entry`` (many candidates at once).

    ``stop``/``target`` are the levels (±inf when absent), ``end`` the last bar a position may reach
    (its FLAT or time exit, else the last bar) and ``forced`` whether ``end`` closes it at its close.
    Bars ``first`` (default ``entry + 1``) .. ``end`` are searched in growing windows (16, 64, 256, ...
    bars), vectorised over all candidates, for the first whose low/high reaches a level; the stop wins
    when both are reached in one bar; a bar that opens beyond a level fills at its open. With
    ``rounds``, at most that many windows are searched.

    Returns (exit bar or -1, fill price, reason code: 1 stop, 2 target, 3 forced at the close (the
    caller tells FLAT from time), 0 none, and the bar to resume the search from, -1 once decided).
    """
    n = len(close)
    m = len(entry)
    hit = np.full(m, -1, dtype=np.int64)
    below = np.where(long, stop, target)
    above = np.where(long, target, stop)
    first = (entry + 1 if first is None else first).astype(np.int64, copy=True)
    todo = np.flatnonzero(first <= end)
    width = 16
    done = 0
    while todo.size and (rounds is None or done < rounds):
        width = max(1, min(width, _SEARCH_BUDGET // todo.size))
        bars = first[todo, None] + np.arange(width)[None, :]
        inside = bars <= end[todo, None]
        bars = np.minimum(bars, n - 1)
        reached = ((low[bars] <= below[todo, None]) | (high[bars] >= above[todo, None])) & inside
        found = reached.any(axis=1)
        column = reached.argmax(axis=1)
        hit[todo[found]] = bars[found, column[found]]
        more = ~found & (first[todo] + width <= end[todo])
        todo = todo[more]
        first[todo] += width
        width *= 4
        done += 1
    resume = np.full(m, -1, dtype=np.int64)
    resume[todo] = first[todo]
    decided = resume < 0
    reason = np.zeros(m, dtype=np.int8)
    price = np.zeros(m)
    j = np.maximum(hit, 0)
    o = open_[j]
    stop_hit = np.where(long, low[j] <= stop, high[j] >= stop) & (hit >= 0)
    target_hit = (hit >= 0) & ~stop_hit
    price = np.where(stop_hit, np.where(long, np.minimum(o, stop), np.maximum(o, stop)), price)
    price = np.where(target_hit, np.where(long, np.maximum(o, target), np.minimum(o, target)), price)
    reason[stop_hit] = 1
    reason[target_hit] = 2
    closing = (hit < 0) & forced & decided
    hit = np.where(closing, end, hit)
    price = np.where(closing, close[np.minimum(end, n - 1)], price)
    reason[closing] = 3
    return hit, price, reason, resume


class _Book:
    """Per-instrument arrays, every entry candidate's exit (precomputed), and a cursor."""

    def __init__(self, number: int, instrument: Instrument) -> None:
        bars = instrument.bars
        self.number = number
        self.instrument = instrument
        self.close = bars.close
        self.start = bars.time
        self.close_time = bars.time + np.int64(bars.period) * 1_000_000_000
        signals = list(instrument.signals)
        stamps = np.fromiter([s.time for s in signals], dtype=np.int64, count=len(signals))
        where = np.searchsorted(bars.time, stamps)
        bad = (where >= len(bars.time)) | (bars.time[np.minimum(where, len(bars.time) - 1)] != stamps) \
            if len(bars.time) else np.ones(len(stamps), dtype=bool)
        if bad.any():
            k = int(np.argmax(bad))
            raise StrategyError(
                f"{instrument.symbol}: signal at {signals[k].time} is not on a bar of the data; "
                "signals must come from the same bars")
        if len(stamps) > 1 and (np.diff(stamps) < 0).any():
            raise StrategyError(f"{instrument.symbol}: signals are not in time order")
        kinds = np.fromiter([s.direction for s in signals], dtype=np.int8, count=len(signals))  # Direction values
        flat = kinds == int(Direction.FLAT)
        flats = where[flat]
        self.signals = list(itertools.compress(signals, (~flat).tolist())) if flat.any() else signals
        entry = where[~flat]
        self.index: list[int] = entry.tolist()
        tick = instrument.tick_size
        stops = [s.stop for s in self.signals]
        targets = [s.target for s in self.signals]
        if tick > 0:
            stops = [x if x is None else round_to_tick(x, tick) for x in stops]
            targets = [x if x is None else round_to_tick(x, tick) for x in targets]
        long = kinds[~flat] == int(Direction.LONG)
        self.sign: list[int] = kinds[~flat].tolist()  # +1 LONG, -1 SHORT
        stop = np.array(stops, dtype=float)  # None -> NaN
        target = np.array(targets, dtype=float)
        stop = np.where(np.isnan(stop), np.where(long, -np.inf, np.inf), stop)
        target = np.where(np.isnan(target), np.where(long, np.inf, -np.inf), target)
        # entries refused whatever the account holds (the checks of _enter, in its order; an absent
        # level is an infinite one on its far side and never refuses): 1 short on a spot instrument,
        # 2 stop not on the losing side, 3 target not on the winning side, 0 none
        price, side = bars.close[entry], kinds[~flat].astype(np.float64)
        fault = np.where((target - price) * side <= 0, 3, 0)
        fault = np.where((stop - price) * side >= 0, 2, fault)
        if not instrument.allow_short:
            fault = np.where(side < 0, 1, fault)
        self.fault: list[int] = fault.tolist()
        n = len(bars)
        following = np.searchsorted(flats, entry, side="right")
        flat_end = np.where(following < len(flats), flats[np.minimum(following, len(flats) - 1)], -1) \
            if len(flats) else np.full(len(entry), -1)
        max_bars = np.array([-1 if s.max_bars is None else s.max_bars for s in self.signals], dtype=np.int64)
        time_end = np.where((max_bars >= 0) & (entry + max_bars <= n - 1), entry + max_bars, -1)
        by_time = (time_end >= 0) & ((flat_end < 0) | (time_end < flat_end))
        end = np.where(by_time, time_end, flat_end)
        forced = end >= 0
        end = np.where(forced, end, n - 1)
        # every candidate's first PRECOMPUTE_ROUNDS windows at once; the rest when it is taken
        exit_bar, exit_price, reason, resume = find_exits(
            bars.open, bars.high, bars.low, bars.close, entry, long, stop, target, end, forced,
            rounds=PRECOMPUTE_ROUNDS)
        reason = np.where((reason == 3) & by_time, 4, reason)
        self._search = (bars, entry, long, stop, target, end, forced, by_time)
        self.resume: list[int] = resume.tolist()
        self.stops, self.targets = stops, targets
        self.entry_price: list[float] = bars.close[entry].tolist()
        self.entry_time: list[int] = self.close_time[entry].tolist()
        self.exit_time: list[int] = np.where(exit_bar >= 0, self.close_time[np.maximum(exit_bar, 0)], 0).tolist()
        lot = instrument.lot_size
        self.lot_places = max(0, -math.floor(math.log10(lot))) + 2 if lot > 0 else 0
        #: lots of whole units: a whole number of them is already rounded to ``lot_places``
        self.whole_lots = lot >= 1 and float(lot).is_integer()
        self.exit_bar: list[int] = exit_bar.tolist()
        self.exit_price: list[float] = exit_price.tolist()
        self.reason: list[int] = reason.tolist()
        self.cursor = 0

    def resolve(self, k: int) -> None:
        """Finish the exit search of candidate ``k`` (started by the precomputation)."""
        bars, entry, long, stop, target, end, forced, by_time = self._search
        pick = slice(k, k + 1)
        exit_bar, exit_price, reason, _ = find_exits(
            bars.open, bars.high, bars.low, bars.close, entry[pick], long[pick], stop[pick], target[pick],
            end[pick], forced[pick], first=np.array([self.resume[k]], dtype=np.int64))
        code = int(reason[0])
        self.exit_bar[k] = int(exit_bar[0])
        self.exit_price[k] = float(exit_price[0])
        self.reason[k] = 4 if code == 3 and bool(by_time[k]) else code
        self.exit_time[k] = int(self.close_time[self.exit_bar[k]]) if self.exit_bar[k] >= 0 else 0
        self.resume[k] = -1

    def next_entry(self, not_before: int) -> int | None:
        """The first entry candidate (its number) at or after bar ``not_before``."""
        k = bisect.bisect_left(self.index, not_before, lo=self.cursor)
        self.cursor = k
        return k if k < len(self.index) else None

    def price_at(self, time_start: int) -> float:
        """Close of the latest bar starting at or before ``time_start``."""
        i = int(np.searchsorted(self.start, time_start, side="right")) - 1
        return float(self.close[max(i, 0)])


def simulate(instruments: Sequence[Instrument], *, cash: float, sizer: Sizer) -> SimulationResult:
    """Run the signals of every instrument against one cash book; see the module docstring."""
    if cash <= 0 or not math.isfinite(cash):
        raise StrategyError(f"starting cash must be a positive amount, got {cash}")
    start_cash = cash
    books = [_Book(n, inst) for n, inst in enumerate(instruments)]
    trades: list[Trade] = []
    skipped: list[Skipped] = []
    if len(books) == 1:
        cash, equity_time, equity = _run_alone(books[0], cash, sizer, trades, skipped)
        return SimulationResult(start_cash=start_cash, trades=trades, skipped=skipped,
                                equity_time=equity_time, equity=equity, cash=cash,
                                instruments=list(instruments))
    # events: (bar close time ns, kind 0=exit 1=entry, book number, candidate number or trade key)
    events: list[tuple[int, int, int, int]] = []
    for book in books:
        k = book.next_entry(0)
        if k is not None:
            events.append((int(book.close_time[book.index[k]]), 1, book.number, k))
    heapq.heapify(events)
    open_trades: dict[int, Trade] = {}
    peak = cash
    push, pop = heapq.heappush, heapq.heappop

    while events:
        _, kind, number, k = pop(events)
        book = books[number]
        if kind == 0:
            trade = open_trades.pop(number)
            cash += int(trade.direction) * trade.quantity * trade.exit_price - trade.exit_fee
            nxt = book.next_entry(trade.exit_index)
        else:
            trade, reason, equity = _enter(book, k, cash, open_trades, books, peak, sizer)
            if equity > peak:
                peak = equity
            if trade is None:
                skipped.append(Skipped(book.signals[k], reason))
                nxt = book.next_entry(book.index[k] + 1)
            else:
                cash -= int(trade.direction) * trade.quantity * trade.entry_price + trade.entry_fee
                open_trades[number] = trade
                trades.append(trade)
                if trade.exit_index >= 0:
                    push(events, (int(book.close_time[trade.exit_index]), 0, number, k))
                nxt = None  # the next entry is looked for when the position closes
        if nxt is not None:
            push(events, (int(book.close_time[book.index[nxt]]), 1, number, nxt))

    equity_time, equity = _equity_curve(books, trades, cash_start=start_cash)
    return SimulationResult(start_cash=start_cash, trades=trades, skipped=skipped,
                            equity_time=equity_time, equity=equity, cash=cash,
                            instruments=list(instruments))


def _run_alone(book: _Book, cash: float, sizer: Sizer, trades: list[Trade],
               skipped: list[Skipped]) -> tuple[float, np.ndarray, np.ndarray]:
    """The event loop of :func:`simulate` and the rules of :func:`_enter` for one instrument: its
    entries and exits alternate in time order, so no event queue is needed, and no other position
    is ever open at an entry (the same operations in the same order). Returns the final cash and
    the equity curve (:func:`_equity_curve`'s, from the fills noted on the way)."""
    start_cash = cash
    entries: list[int] = []
    exits: list[int] = []
    sizes: list[float] = []
    paid: list[float] = []
    got: list[float] = []
    inst = book.instrument
    signals, index, count = book.signals, book.index, len(book.index)
    entry_prices, entry_times = book.entry_price, book.entry_time
    stops, targets = book.stops, book.targets
    exit_bars, exit_prices, exit_times, codes, resume = (
        book.exit_bar, book.exit_price, book.exit_time, book.reason, book.resume)
    fee_of = inst.fee_model.fee
    rate = value_rate(inst.fee_model)  # fees computed inline (the same arithmetic) when a flat rate
    lot, places, whole_lots = inst.lot_size, book.lot_places, book.whole_lots
    min_size, min_value, currency = inst.min_order_size, inst.min_order_value, inst.quote_currency
    symbol, market, faults = inst.symbol, inst.market, book.fault
    floor, isfinite, bisect_left = math.floor, math.isfinite, bisect.bisect_left
    new, signs = tuple.__new__, book.sign
    peak = cash
    k = bisect_left(index, 0)
    while k < count:
        signal = signals[k]
        i = index[k]
        price = entry_prices[k]
        if cash > peak:  # the equity at an entry is the cash: no position is open
            peak = cash
        why = ""
        stop, target = stops[k], targets[k]
        sign = signs[k]
        fault = faults[k]
        if fault:
            if fault == 1:
                why = "short signal on a spot instrument (shorting not enabled for this contract)"
            elif fault == 2:
                why = f"stop {stop} is not on the losing side of the entry {price}"
            else:
                why = f"target {target} is not on the winning side of the entry {price}"
            skipped.append(Skipped(signal, why))
            k = bisect_left(index, i + 1, k)
            continue
        entry_time = entry_times[k]
        raw = sizer(signal, price, new(SizingContext, (cash, cash, 0.0, 0.0, peak, entry_time, ())))
        if not (raw > 0 and isfinite(raw)):
            quantity = 0.0
        elif lot > 0:
            quantity = floor(raw / lot + 1e-9) * lot
            if not whole_lots:
                quantity = round(quantity, places)
        else:
            quantity = raw
        if quantity <= 0:
            why = "position size rounds to zero"
        elif quantity < min_size or quantity * price < min_value:
            why = (f"order of {quantity} units ({quantity * price:.2f} {currency}) is below "
                   "the minimum order size")
        if why:
            skipped.append(Skipped(signal, why))
            k = bisect_left(index, i + 1, k)
            continue
        fee = quantity * price * rate if rate is not None else fee_of(quantity, price, MARKET, entry_time)
        if sign > 0 and quantity * price + fee > cash + 1e-9:
            skipped.append(Skipped(signal, (
                f"insufficient buying power: {quantity} units cost {quantity * price + fee:.2f} "
                f"{currency}, cash is {cash:.2f}")))
            k = bisect_left(index, i + 1, k)
            continue
        if resume[k] >= 0:
            book.resolve(k)
        exit_index = exit_bars[k]
        code = codes[k]
        exit_price = exit_prices[k]
        exit_time = exit_times[k]
        if exit_index < 0:
            exit_fee = 0.0
        elif rate is not None:
            exit_fee = quantity * exit_price * rate
        else:
            exit_fee = fee_of(quantity, exit_price, _EXIT_ORDER_TYPES[code], exit_time)
        trades.append(new(Trade, (symbol, market, signal.direction, quantity, i, entry_time, price, fee, stop,
                                  target, exit_index, exit_time, exit_price, exit_fee, _REASONS[code], signal)))
        spent = sign * quantity * price + fee
        cash -= spent
        entries.append(i)
        sizes.append(sign * quantity)
        paid.append(spent)
        if exit_index < 0:
            break
        back = sign * quantity * exit_price - exit_fee
        cash += back
        exits.append(exit_index)
        got.append(back)
        k = bisect_left(index, exit_index, k)
    equity_time, equity = _equity_alone(book, entries, exits, sizes, paid, got, start_cash)
    return cash, equity_time, equity


def _equity_alone(book: _Book, entries: list[int], exits: list[int], sizes: list[float], paid: list[float],
                  got: list[float], cash_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Equity at every bar close of one instrument, from its fills in time order: bars of the entries
    and exits, signed quantities, cash paid at each entry and received at each exit (every trade
    but perhaps the last is closed). The same sums, in the same order, as :func:`_equity_curve`;
    the running sums are taken over the bars with a fill only (adding the zeros of the other bars
    changes no sum) and held until the next such bar."""
    n = len(book.close)
    if not entries:
        return book.close_time, np.full(n, cash_start)
    entry = np.array(entries, dtype=np.int64)
    exit_ = np.array(exits, dtype=np.int64)
    signed = np.array(sizes, dtype=np.float64)
    qty = np.bincount(entry, weights=signed, minlength=n + 1)[:n]
    qty -= np.bincount(exit_, weights=signed[:len(exit_)], minlength=n + 1)[:n]
    flows = np.bincount(entry, weights=-np.array(paid, dtype=np.float64), minlength=n)[:n]
    flows += np.bincount(exit_, weights=np.array(got, dtype=np.float64), minlength=n)[:n]
    marked = np.zeros(n, dtype=bool)
    marked[entry] = True
    marked[exit_] = True
    fills = np.flatnonzero(marked)
    held = np.diff(fills, prepend=0, append=n)  # bars before the first fill, then per fill
    position = np.repeat(np.concatenate([[0.0], np.cumsum(qty[fills])]), held)
    equity = np.repeat(np.concatenate([[0.0], np.cumsum(flows[fills])]) + cash_start, held)
    position *= book.close
    equity += position
    return book.close_time, equity


def _enter(book: _Book, k: int, cash: float, open_trades: dict[int, Trade], books: list[_Book], peak: float,
           sizer: Sizer) -> tuple[Trade | None, str, float]:
    """Size and open entry candidate ``k`` of ``book`` (its exit is precomputed), or say why not."""
    inst = book.instrument
    signal = book.signals[k]
    i = book.index[k]
    direction = signal.direction
    price = book.entry_price[k]
    equity = cash
    exposure = 0.0
    positions: tuple[tuple[str, float, float], ...] = ()
    if open_trades:
        time_start = int(book.start[i])
        marks = [(books[n].instrument.symbol, int(t.direction) * t.quantity, books[n].price_at(time_start))
                 for n, t in open_trades.items()]
        positions = tuple(marks)
        equity += sum(q * p for _, q, p in marks)
        exposure = sum(abs(q) * p for _, q, p in marks)
    if direction == Direction.SHORT and not inst.allow_short:
        return None, "short signal on a spot instrument (shorting not enabled for this contract)", equity
    stop, target = book.stops[k], book.targets[k]
    sign = int(direction)
    if stop is not None and (stop - price) * sign >= 0:
        return None, f"stop {stop} is not on the losing side of the entry {price}", equity
    if target is not None and (target - price) * sign <= 0:
        return None, f"target {target} is not on the winning side of the entry {price}", equity
    entry_time = book.entry_time[k]
    context = SizingContext(equity, cash, exposure, 0.0, peak if peak > equity else equity, entry_time,
                            positions)
    raw = sizer(signal, price, context)
    lot = inst.lot_size
    if not (raw > 0 and math.isfinite(raw)):
        quantity = 0.0
    elif lot > 0:
        quantity = round(math.floor(raw / lot + 1e-9) * lot, book.lot_places)
    else:
        quantity = raw
    if quantity <= 0:
        return None, "position size rounds to zero", equity
    if quantity < inst.min_order_size or quantity * price < inst.min_order_value:
        return None, (f"order of {quantity} units ({quantity * price:.2f} {inst.quote_currency}) is below "
                      "the minimum order size"), equity
    fee = inst.fee_model.fee(quantity, price, MARKET, entry_time)
    if direction == Direction.LONG and quantity * price + fee > cash + 1e-9:
        return None, (f"insufficient buying power: {quantity} units cost {quantity * price + fee:.2f} "
                      f"{inst.quote_currency}, cash is {cash:.2f}"), equity
    if book.resume[k] >= 0:
        book.resolve(k)
    exit_index = book.exit_bar[k]
    code = book.reason[k]
    exit_price = book.exit_price[k]
    exit_time = book.exit_time[k]
    exit_fee = 0.0
    if exit_index >= 0:
        exit_fee = inst.fee_model.fee(quantity, exit_price, _EXIT_ORDER_TYPES[code], exit_time)
    trade = Trade(inst.symbol, inst.market, direction, quantity, i, entry_time, price, fee, stop, target,
                  exit_index, exit_time, exit_price, exit_fee, _REASONS[code], signal)
    return trade, "", equity


def _orders_of(trade: Trade, first_id: int) -> list[Order]:
    """Lean's orders for one trade: entry market order, stop-market and limit exits, market exit."""
    sign = int(trade.direction)
    q = trade.quantity
    sid = trade.signal.id
    symbol, market = trade.symbol, trade.market
    result = [Order(id=first_id, type=MARKET, quantity=sign * q, time=trade.entry_time, status="filled",
                    fill_time=trade.entry_time, fill_price=trade.entry_price, fee=trade.entry_fee,
                    tag=f"entry {trade.signal.direction.label}", symbol=symbol, market=market,
                    signal_id=sid)]
    next_id = first_id + 1
    closed = trade.is_closed
    for order_type, level in ((STOP_MARKET, trade.stop), (LIMIT, trade.target)):
        if level is None:
            continue
        filled = closed and (
            (order_type == STOP_MARKET and trade.exit_reason == EXIT_STOP)
            or (order_type == LIMIT and trade.exit_reason == EXIT_TARGET))
        status = "filled" if filled else ("canceled" if closed else "submitted")
        result.append(Order(
            id=next_id, type=order_type, quantity=-sign * q, time=trade.entry_time, status=status,
            fill_time=trade.exit_time if filled else 0, fill_price=trade.exit_price if filled else 0.0,
            fee=trade.exit_fee if filled else 0.0,
            stop_price=level if order_type == STOP_MARKET else None,
            limit_price=level if order_type == LIMIT else None,
            tag="stop" if order_type == STOP_MARKET else "target",
            cancel_time=trade.exit_time if closed and not filled else 0, symbol=symbol, market=market,
            signal_id=sid))
        next_id += 1
    if closed and trade.exit_reason in (EXIT_FLAT, EXIT_TIME):
        result.append(Order(id=next_id, type=MARKET, quantity=-sign * q, time=trade.exit_time,
                            status="filled", fill_time=trade.exit_time, fill_price=trade.exit_price,
                            fee=trade.exit_fee, tag=f"exit {trade.exit_reason}", symbol=symbol,
                            market=market, signal_id=sid))
    return result


def _equity_curve(books: list[_Book], trades: list[Trade],
                  cash_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Equity at every bar close of the merged time grid (vectorised)."""
    if not books:
        return np.empty(0, dtype=np.int64), np.empty(0)
    single = len(books) == 1
    grid = books[0].close_time if single else np.unique(np.concatenate([b.close_time for b in books]))
    cash_flow = np.zeros(len(grid))
    holdings = np.zeros(len(grid))
    for book in books:
        own = trades if single else [t for t in trades if t.symbol == book.instrument.symbol
                                     and t.market == book.instrument.market]
        if not own:
            continue
        n = len(book.close)
        fields = list(zip(*own, strict=True))  # the trades' fields as columns
        column = {name: fields[k] for k, name in enumerate(Trade._fields)}
        signed = np.array(column["direction"], dtype=np.float64) * np.array(column["quantity"], dtype=np.float64)
        entry = np.array(column["entry_index"], dtype=np.int64)
        exit_ = np.array(column["exit_index"], dtype=np.int64)
        closed = exit_ >= 0
        qty = np.bincount(entry, weights=signed, minlength=n + 1)[:n]
        qty -= np.bincount(exit_[closed], weights=signed[closed], minlength=n + 1)[:n]
        value = np.cumsum(qty) * book.close
        entry_flow = -(signed * np.array(column["entry_price"], dtype=np.float64)
                       + np.array(column["entry_fee"], dtype=np.float64))
        exit_flow = (signed * np.array(column["exit_price"], dtype=np.float64)
                     - np.array(column["exit_fee"], dtype=np.float64))
        flows = np.bincount(entry, weights=entry_flow, minlength=n)[:n]
        flows += np.bincount(exit_[closed], weights=exit_flow[closed], minlength=n)[:n]
        if single:
            holdings += value
            cash_flow += flows
            continue
        where = np.searchsorted(grid, book.close_time)
        # holdings carried between this instrument's bars: forward fill onto the grid
        idx = np.searchsorted(book.close_time, grid, side="right") - 1
        holdings += np.where(idx >= 0, value[np.maximum(idx, 0)], 0.0)
        cash_flow += np.bincount(where, weights=flows, minlength=len(grid))
    equity = cash_start + np.cumsum(cash_flow) + holdings
    return grid, equity
