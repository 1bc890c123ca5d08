"""The simulation: strategies' signals executed with Lean's default fill semantics, vectorised.

Semantics (those of :mod:`alphapulse.strategies.base`, which every runtime follows):

* an entry signal (LONG, or SHORT where the instrument allows shorting) while flat: a market order
  filled at the close of the signal's bar, sized by the :class:`Sizer` from the signal's stop;
  quantities are rounded down to the lot size exactly as :func:`alphapulse.risk.round_quantity`
  rounds them (every runtime's rounding; computed by :func:`alphapulse.risk.lot_rounder`), and an
  order below the minimum order size or value, or one the cash cannot pay for (value + fee, long;
  Lean rejects such orders), is skipped;
* then a stop-market order at ``stop`` and a limit order at ``target`` (both rounded to the price
  tick as :func:`alphapulse.risk.round_price` rounds them; computed by
  :func:`alphapulse.risk.round_prices`), evaluated from the next bar on against its
  open/high/low: a long's stop fills when the low reaches it, at the stop, or at the open when the
  bar opened beyond it (a gap); the target fills when the high reaches it, at the target or at
  the better open. **When both levels lie inside one bar, the stop is taken** (the conservative
  reading; backtesting.py does the same);
* a FLAT signal while in a position, or the close of the ``max_bars``-th bar after entry: a market
  order at that bar's close; the exit orders are cancelled;
* exits of a bar are processed before entries on the same bar (an entry signal on the bar where a
  position closed opens a new one); an entry signal while a position is open is ignored;
* a position still open at the end of the data stays open (marked to market, not a closed trade).

Speed: nothing loops over bars. The exit of every entry candidate is found at once with numpy
(:func:`~alphapulse_tools.runner.exits.find_exits`: the first bar after entry whose low/high
reaches the stop or target, searched in growing windows vectorised over all candidates, bounded by
the candidate's FLAT or time exit);
the Python loop then runs over the *taken* trades only (sizing, cash, fees). Several instruments
share one cash book: entries and exits of all instruments are merged in time order (a heap), and
each entry is sized from the equity (cash + open positions marked at the latest close) at its
bar's close. With a single instrument no queue is needed (entries and exits alternate), and a
leaner loop with the same rules and the same arithmetic runs instead (:func:`_run_alone`: the
checks that do not depend on the account are made for all candidates at once, flat-rate fees are
computed inline, only the taken candidates and their quantities are noted, and the fees, the
equity curve and the trades are computed from those columns afterwards).

Sizing: a plain :data:`Sizer` is called at each entry with a :class:`SizingContext`. A
:class:`FractionSizer` (a quantity that is the equity times a number set by the signal and its
price alone, e.g. a share of equity at risk over the stop distance, capped by a share of equity
in position value) gives those numbers for all entry candidates in one numpy pass, and an entry
then costs one multiplication; the two give the same sizes to the last bit.

The types the simulation works with and returns are in :mod:`alphapulse_tools.runner.trades`; the
exit search is :mod:`alphapulse_tools.runner.exits`.
"""

from __future__ import annotations

import array
import bisect
import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from alphapulse.bars import Bars
from alphapulse.errors import StrategyError
from alphapulse.journal import Direction
from alphapulse.risk import lot_rounder, round_prices
from alphapulse_tools.runner.exits import find_exits
from alphapulse_tools.runner.fees import LIMIT, MARKET, STOP_MARKET, value_rate
from alphapulse_tools.runner.trades import (
    EXIT_FLAT,
    EXIT_STOP,
    EXIT_TARGET,
    EXIT_TIME,
    Candidates,
    Instrument,
    SimulationResult,
    Sizer,
    SizingContext,
    Skipped,
    Trade,
)

#: windows searched for every entry candidate up front (16 + 64 + 256 bars); the search of a
#: candidate that is taken continues from there, so untaken candidates never cost more
PRECOMPUTE_ROUNDS = 3
_REASONS = ("", EXIT_STOP, EXIT_TARGET, EXIT_FLAT, EXIT_TIME)
_EXIT_ORDER_TYPES = ("", STOP_MARKET, LIMIT, MARKET, MARKET)
#: :attr:`_Book.exit_bar` of a candidate whose exit search is not finished
UNDECIDED = -2
_DIRECTION = {1: Direction.LONG, -1: Direction.SHORT}


def _bar_numbers(bars: Bars, stamps: np.ndarray) -> np.ndarray:
    """Where ``stamps`` (sorted bar start times) are in ``bars``: their positions when the bars lie
    on a regular grid there (read off the grid), else where they would be inserted."""
    times = bars.time
    if bars.period > 0 and len(times) and len(stamps):
        guess = (stamps - times[0]) // (np.int64(bars.period) * 1_000_000_000)
        if guess.min() >= 0 and guess.max() < len(times) and np.array_equal(times[guess], stamps):
            return guess
    return np.searchsorted(times, stamps)


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
        where = _bar_numbers(bars, stamps)
        bad = (where >= len(bars.time)) | (bars.time[np.minimum(where, len(bars.time) - 1)] != stamps) \
            if len(bars.time) else np.ones(len(stamps), dtype=bool)
        if bad.any():
            k = int(np.argmax(bad))
            raise StrategyError(
                f"{instrument.symbol}: signal at {signals[k].time} is not on a bar of the data; "
                "signals must come from the same bars")
        if len(stamps) > 1 and (np.diff(stamps) < 0).any():
            raise StrategyError(f"{instrument.symbol}: signals are not in time order")
        kinds = np.frombuffer(array.array("b", [s.direction for s in signals]), dtype=np.int8)  # Direction values
        flat = kinds == 0
        flats = where[flat]
        if flat.any():
            self.signals = list(itertools.compress(signals, (~flat).tolist()))
            entry, kinds = where[~flat], kinds[~flat]
        else:
            self.signals, entry = signals, where
        self.entry = entry
        self.index: list[int] = entry.tolist()
        tick = instrument.tick_size
        stops = [s.stop for s in self.signals]
        targets = [s.target for s in self.signals]
        raw_stop = np.array(stops, dtype=float)  # None -> NaN
        raw_target = np.array(targets, dtype=float)
        if tick > 0:  # every runtime's rounding (alphapulse.risk.round_price), for all levels at once
            stop, target = round_prices(raw_stop, tick), round_prices(raw_target, tick)
            stops = [None if math.isnan(x) else x for x in stop.tolist()]
            targets = [None if math.isnan(x) else x for x in target.tolist()]
        else:
            stop, target = raw_stop, raw_target
        long = kinds == 1
        stop = np.where(np.isnan(stop), np.where(long, -np.inf, np.inf), stop)
        target = np.where(np.isnan(target), np.where(long, np.inf, -np.inf), target)
        price = bars.close[entry]
        entry_time = self.close_time[entry]
        #: the candidates as a sizer sees them (the signals' own levels)
        self.candidates = Candidates(instrument.symbol, price, raw_stop, raw_target, kinds, entry_time)
        # entries refused whatever the account holds (the checks of _enter, in its order; an absent
        # level is an infinite one on its far side and never refuses): 1 short on a spot instrument,
        # 2 stop not on the losing side, 3 target not on the winning side, 0 none
        side = kinds.astype(np.float64)
        fault = np.where((target - price) * side <= 0, 3, 0)
        fault = np.where((stop - price) * side >= 0, 2, fault)
        if not instrument.allow_short:
            fault = np.where(side < 0, 1, fault)
        self.fault = fault
        #: +1 LONG, -1 SHORT, 0 refused whatever the account holds (see ``fault``)
        self.sign: list[int] = np.where(fault == 0, kinds, 0).tolist()
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
        #: the bar the exit search of a candidate goes on from (-1: decided)
        self.resume = resume
        self.stops, self.targets = stops, targets
        self.entry_price: list[float] = price.tolist()
        self.entry_time: list[int] = entry_time.tolist()
        #: the lot rounding of every runtime (:func:`alphapulse.risk.round_quantity`)
        self.round_lots = lot_rounder(instrument.lot_size)
        #: the exit bar of every candidate: -1 none (still open at the end), UNDECIDED until resolved
        #: (as lists for the loops, as arrays for the columns, the same values)
        self.exit_bars = np.where(resume >= 0, UNDECIDED, exit_bar)
        self.exit_prices = exit_price
        self.exit_bar: list[int] = self.exit_bars.tolist()
        self.exit_price: list[float] = exit_price.tolist()
        self.reason: list[int] = reason.tolist()
        #: the candidate to look at after candidate k is taken: the first at or after its exit bar
        self.after: list[int] = np.searchsorted(entry, exit_bar).tolist()
        self.cursor = 0

    def exit_time(self, k: int) -> int:
        """The exit fill time of candidate ``k`` (the close of its exit bar; 0 while open)."""
        bar = self.exit_bar[k]
        return int(self.close_time[bar]) if bar >= 0 else 0

    def resolve(self, k: int) -> None:
        """Finish the exit search of candidate ``k`` (started by the precomputation)."""
        if self.exit_bar[k] != UNDECIDED:
            return
        bars, entry, long, stop, target, end, forced, by_time = self._search
        pick = slice(k, k + 1)
        exit_bar, exit_price, reason, _ = find_exits(
            bars.open, bars.high, bars.low, bars.close, entry[pick], long[pick], stop[pick], target[pick],
            end[pick], forced[pick], first=self.resume[pick])
        code = int(reason[0])
        self.exit_bar[k] = self.exit_bars[k] = int(exit_bar[0])
        self.exit_price[k] = self.exit_prices[k] = float(exit_price[0])
        self.reason[k] = 4 if code == 3 and bool(by_time[k]) else code
        self.after[k] = bisect.bisect_left(self.index, self.exit_bar[k], k)

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
    fractions = [_fractions(sizer, book) for book in books]
    skipped: list[Skipped] = []
    if len(books) == 1:
        cash, equity_time, equity, taken = _run_alone(books[0], cash, sizer, fractions[0], skipped)
        return SimulationResult(start_cash=start_cash, skipped=skipped, equity_time=equity_time, equity=equity,
                                cash=cash, instruments=list(instruments), source=taken)
    trades: list[Trade] = []
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
            trade, reason, equity = _enter(book, k, cash, open_trades, books, peak, sizer, fractions[number])
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
    return SimulationResult(start_cash=start_cash, skipped=skipped, equity_time=equity_time, equity=equity,
                            cash=cash, instruments=list(instruments), source=trades)


def _fractions(sizer: Sizer, book: _Book) -> list[float] | None:
    """The :class:`FractionSizer`'s fractions of every candidate of ``book``, None for another sizer."""
    share = getattr(sizer, "fractions", None)
    if share is None or not callable(share):
        return None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        found = np.asarray(share(book.candidates), dtype=np.float64)
    if found.shape != (len(book.index),):
        raise StrategyError(f"{type(sizer).__name__}.fractions returned {found.shape[0] if found.ndim else 0} "
                            f"values for {len(book.index)} entry signals of {book.instrument.symbol}; "
                            "it must return one per candidate")
    return found.tolist()


def _refusal(fault: int, stop: float | None, target: float | None, price: float) -> str:
    """Why an entry is refused whatever the account holds (:attr:`_Book.fault`)."""
    if fault == 1:
        return "short signal on a spot instrument (shorting not enabled for this contract)"
    if fault == 2:
        return f"stop {stop} is not on the losing side of the entry {price}"
    return f"target {target} is not on the winning side of the entry {price}"


def _run_alone(book: _Book, cash: float, sizer: Sizer, fractions: list[float] | None,
               skipped: list[Skipped]) -> tuple[float, np.ndarray, np.ndarray, _Taken]:
    """The event loop of :func:`simulate` and the rules of :func:`_enter` for one instrument: its
    entries and exits alternate in time order, so no event queue is needed, and no other position
    is ever open at an entry (the same operations in the same order). Only the taken candidates
    and their quantities are noted (fees are computed again from them, the same arithmetic);
    their trades are built on first use. Returns the final cash, the equity curve
    (:func:`_equity_curve`'s, from the fills) and the taken trades."""
    start_cash = cash
    inst = book.instrument
    signals, count = book.signals, len(book.index)
    sizes = [0.0] * count  # the quantity of every candidate taken (positive), 0 for the others
    entry_prices, entry_times = book.entry_price, book.entry_time
    exit_bars, exit_prices = book.exit_bar, book.exit_price
    index, after, signs = book.index, book.after, book.sign
    bisect_left = bisect.bisect_left
    fee_of = inst.fee_model.fee
    rate = value_rate(inst.fee_model)  # fees computed inline (the same arithmetic) when a flat rate
    round_lots = book.round_lots
    min_size, min_value, currency = inst.min_order_size, inst.min_order_value, inst.quote_currency
    new = tuple.__new__
    inf = math.inf
    peak = cash
    k = 0
    while k < count:
        price = entry_prices[k]
        sign = signs[k]
        if not sign:
            skipped.append(Skipped(signals[k], _refusal(int(book.fault[k]), book.stops[k], book.targets[k], price)))
            k = bisect_left(index, index[k] + 1, k)  # the next bar's
            continue
        if fractions is None:
            if cash > peak:  # the equity at an entry is the cash: no position is open
                peak = cash
            raw = sizer(signals[k], price, new(SizingContext, (cash, cash, 0.0, 0.0, peak, entry_times[k], ())))
        else:
            raw = cash * fractions[k]
        quantity = round_lots(raw) if 0 < raw < inf else 0.0
        value = quantity * price
        if quantity <= 0 or quantity < min_size or value < min_value:
            why = "position size rounds to zero" if quantity <= 0 else (
                f"order of {quantity} units ({value:.2f} {currency}) is below the minimum order size")
            skipped.append(Skipped(signals[k], why))
            k = bisect_left(index, index[k] + 1, k)  # the next bar's
            continue
        fee = value * rate if rate is not None else fee_of(quantity, price, MARKET, entry_times[k])
        if sign > 0 and value + fee > cash + 1e-9:
            skipped.append(Skipped(signals[k], (
                f"insufficient buying power: {quantity} units cost {value + fee:.2f} "
                f"{currency}, cash is {cash:.2f}")))
            k = bisect_left(index, index[k] + 1, k)  # the next bar's
            continue
        cash -= sign * quantity * price + fee
        sizes[k] = quantity
        exit_bar = exit_bars[k]
        if exit_bar < 0:
            if exit_bar == -1:
                break  # still open at the end
            book.resolve(k)
            if exit_bars[k] < 0:
                break
        exit_price = exit_prices[k]
        if rate is not None:
            cash += sign * quantity * exit_price - quantity * exit_price * rate
        else:
            cash += sign * quantity * exit_price - fee_of(
                quantity, exit_price, _EXIT_ORDER_TYPES[book.reason[k]], book.exit_time(k))
        k = after[k]
    trades = _Taken.of(book, sizes, rate)
    equity_time, equity = _equity_alone(book, trades, start_cash)
    return cash, equity_time, equity, trades


@dataclass(frozen=True, slots=True)
class _Taken:
    """The trades of one instrument run alone as columns (time order; every trade but perhaps the
    last closed): the candidates taken, their quantities, exit bars and prices, and fees."""

    book: _Book
    candidates: np.ndarray
    quantities: np.ndarray
    exit_bar: np.ndarray
    exit_price: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray

    @classmethod
    def of(cls, book: _Book, sizes: list[float], rate: float | None) -> _Taken:
        """The columns of the candidates with a size (taken); fees are computed again from the
        quantities (the same arithmetic as at the fills; the exit fee of a position still open is 0)."""
        every = np.array(sizes, dtype=np.float64)
        k = np.flatnonzero(every)
        q = every[k]
        exit_bar = book.exit_bars[k]
        exit_price = book.exit_prices[k]
        closed = exit_bar >= 0
        if rate is not None:
            entry_fee = q * book.candidates.price[k] * rate
            exit_fee = np.where(closed, q * exit_price * rate, 0.0)
        else:
            fee_of = book.instrument.fee_model.fee
            rows = list(zip(k.tolist(), q.tolist(), strict=True))
            entry_fee = np.array([fee_of(size, book.entry_price[c], MARKET, book.entry_time[c]) for c, size in rows],
                                 dtype=np.float64)
            exit_fee = np.array([fee_of(size, book.exit_price[c], _EXIT_ORDER_TYPES[book.reason[c]], book.exit_time(c))
                                 if book.exit_bar[c] >= 0 else 0.0 for c, size in rows], dtype=np.float64)
        return cls(book, k, q, exit_bar, exit_price, entry_fee.reshape(-1), exit_fee.reshape(-1))

    def trades(self) -> list[Trade]:
        book, k = self.book, self.candidates
        count = len(k)
        if not count:
            return []
        pick = itemgetter(*k.tolist())
        exit_time = np.where(self.exit_bar >= 0, book.close_time[np.maximum(self.exit_bar, 0)], 0)
        columns = [
            itertools.repeat(book.instrument.symbol, count), itertools.repeat(book.instrument.market, count),
            map(_DIRECTION.__getitem__, book.candidates.direction[k].tolist()), self.quantities.tolist(),
            book.entry[k].tolist(), book.candidates.time[k].tolist(), book.candidates.price[k].tolist(),
            self.entry_fee.tolist(), _picked(pick, book.stops, count), _picked(pick, book.targets, count),
            self.exit_bar.tolist(), exit_time.tolist(), self.exit_price.tolist(), self.exit_fee.tolist(),
            map(_REASONS.__getitem__, _picked(pick, book.reason, count)), _picked(pick, book.signals, count)]
        new = tuple.__new__
        return [new(Trade, row) for row in zip(*columns, strict=True)]


def _picked(pick: Callable[[list], tuple], values: list, count: int) -> tuple:
    """``pick(values)`` as a tuple, also for one element (an itemgetter of one item returns it bare)."""
    return pick(values) if count > 1 else (pick(values),)


def _equity_alone(book: _Book, taken: _Taken, cash_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Equity at every bar close of one instrument, from its fills (every trade but perhaps the
    last is closed): the same sums, in the same order, as :func:`_equity_curve`. Each bar has at
    most one entry and one exit, so the per-bar sums are the entry's amount plus the exit's; the
    running sums are taken over the bars with a fill only (adding the zeros of the other bars
    changes no sum) and held until the next such bar."""
    n = len(book.close)
    k = taken.candidates
    if not len(k):
        return book.close_time, np.full(n, cash_start)
    entry = book.entry[k]
    closed = taken.exit_bar >= 0
    exit_ = taken.exit_bar[closed]
    signed = book.candidates.direction[k] * taken.quantities
    paid = signed * book.candidates.price[k] + taken.entry_fee
    got = (signed * taken.exit_price - taken.exit_fee)[closed]
    # the fills in time order: entry, exit, entry, ... (a trade's exit bar is at or before the next
    # entry's); a bar with an exit and an entry is one fill bar
    bars = np.empty(len(entry) + len(exit_), dtype=np.int64)
    bars[0::2] = entry
    bars[1::2] = exit_
    first = np.ones(len(bars), dtype=bool)
    first[1:] = bars[1:] != bars[:-1]
    slot = np.cumsum(first) - 1
    fills = bars[first]
    at_entry, at_exit = slot[0::2], slot[1::2]
    qty = np.zeros(len(fills))
    qty[at_entry] = signed
    gone = np.zeros(len(fills))
    gone[at_exit] = signed[closed]
    qty -= gone
    flows = np.zeros(len(fills))
    flows[at_entry] = -paid
    back = np.zeros(len(fills))
    back[at_exit] = got
    flows += back
    held = np.diff(fills, prepend=0, append=n)  # bars before the first fill, then per fill
    position = np.repeat(np.concatenate([[0.0], np.cumsum(qty)]), held)
    equity = np.repeat(np.concatenate([[0.0], np.cumsum(flows)]) + cash_start, held)
    position *= book.close
    equity += position
    return book.close_time, equity


def _enter(book: _Book, k: int, cash: float, open_trades: dict[int, Trade], books: list[_Book], peak: float,
           sizer: Sizer, fractions: list[float] | None) -> tuple[Trade | None, str, float]:
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
    if not book.sign[k]:
        return None, _refusal(int(book.fault[k]), book.stops[k], book.targets[k], price), equity
    stop, target = book.stops[k], book.targets[k]
    entry_time = book.entry_time[k]
    if fractions is None:
        context = SizingContext(equity, cash, exposure, 0.0, peak if peak > equity else equity, entry_time,
                                positions)
        raw = sizer(signal, price, context)
    else:
        raw = equity * fractions[k]
    quantity = book.round_lots(raw) if 0 < raw < math.inf else 0.0
    if quantity <= 0:
        return None, "position size rounds to zero", equity
    if quantity < inst.min_order_size or quantity * price < inst.min_order_value:
        return None, (f"order of {quantity} units ({quantity * price:.2f} {inst.quote_currency}) is below "
                      "the minimum order size"), equity
    fee = inst.fee_model.fee(quantity, price, MARKET, entry_time)
    if direction == Direction.LONG and quantity * price + fee > cash + 1e-9:
        return None, (f"insufficient buying power: {quantity} units cost {quantity * price + fee:.2f} "
                      f"{inst.quote_currency}, cash is {cash:.2f}"), equity
    book.resolve(k)
    exit_index = book.exit_bar[k]
    code = book.reason[k]
    exit_price = book.exit_price[k]
    exit_time = book.exit_time(k)
    exit_fee = 0.0
    if exit_index >= 0:
        exit_fee = inst.fee_model.fee(quantity, exit_price, _EXIT_ORDER_TYPES[code], exit_time)
    trade = Trade(inst.symbol, inst.market, direction, quantity, i, entry_time, price, fee, stop, target,
                  exit_index, exit_time, exit_price, exit_fee, _REASONS[code], signal)
    return trade, "", equity


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
