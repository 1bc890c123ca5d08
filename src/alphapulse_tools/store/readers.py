"""Reading what a run leaves on disk into plain rows for the exporter.

Three sources, found by :func:`discover`:

- a **Lean result folder**: ``<id>.json`` (statistics, closedTrades, charts, orders,
  algorithmConfiguration) and ``<id>-order-events.json``;
- a **local-runner result folder**: the same files plus ``signals.jsonl`` and ``fills.jsonl``;
- an **ObjectStore journal folder** (``storage/alphapulse/<algorithm>/``) holding ``signals.jsonl``
  and/or ``fills.jsonl`` in the :mod:`alphapulse.journal` form: a live (or paper) session.

Every reader reads the whole source before anything is written and raises
:class:`~alphapulse.errors.DataError` naming the file and the row (or line) that is wrong.
Times are ns since the epoch, UTC.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from alphapulse.bars import parse_time
from alphapulse.errors import DataError
from alphapulse.journal import Fill, Signal, read_record

SIGNALS_FILE = "signals.jsonl"
FILLS_FILE = "fills.jsonl"
JOURNAL_FILES = (SIGNALS_FILE, FILLS_FILE)

#: Lean's OrderType enum (orders[*].type in <id>.json) in the snake_case names of alphapulse.journal.Fill
LEAN_ORDER_TYPES = {0: "market", 1: "limit", 2: "stop_market", 3: "stop_limit", 4: "market_on_open",
                    5: "market_on_close", 6: "option_exercise", 7: "limit_if_touched",
                    8: "combo_market", 9: "combo_limit", 10: "combo_leg_limit", 11: "trailing_stop"}
_FILLED = {"filled", "partiallyfilled"}
_SIGNAL_ID = re.compile(r"\b[0-9a-f]{24}\b")
_MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One of Lean's order events (``<id>-order-events.json``); quantities signed, time in ns UTC."""

    order_id: int
    order_event_id: int
    time: int
    symbol: str
    symbol_id: str
    status: str
    direction: str
    quantity: float | None
    fill_quantity: float | None
    fill_price: float | None
    fill_price_currency: str | None
    fee: float | None
    fee_currency: str | None
    stop_price: float | None
    limit_price: float | None
    is_assignment: bool
    message: str


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A round trip of Lean's ``totalPerformance.closedTrades``; ``trade_no`` is its list position."""

    trade_no: int
    symbol: str
    direction: str
    quantity: float
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    profit_loss: float
    fees: float
    mae: float | None
    mfe: float | None
    signal_id: str = ""


@dataclass(slots=True)
class RunSource:
    """Everything one run left on disk, read and checked, ready to be stored in one transaction."""

    run_key: str
    kind: Literal["backtest", "live"]
    algorithm: str
    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    statistics: dict[str, Any] = field(default_factory=dict)
    start_time: int | None = None
    end_time: int | None = None
    signals: list[Signal] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    order_events: list[OrderEvent] = field(default_factory=list)
    equity: list[tuple[int, float]] = field(default_factory=list)
    trades: list[ClosedTrade] = field(default_factory=list)


def discover(path: Path) -> list[Path]:
    """The result folders and journal folders at or under ``path`` (sorted; up to 4 levels down).

    Raises :class:`DataError` when ``path`` does not exist or holds neither kind of folder.
    """
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        path = path.parent
    found = list(_walk(path, 0))
    if not found:
        raise DataError(f"{path}: no Lean result folder (<id>.json + <id>-order-events.json) and no "
                        f"journal ({SIGNALS_FILE} / {FILLS_FILE}) found here or in its subfolders")
    return found


def _walk(folder: Path, depth: int) -> Iterator[Path]:
    if result_file(folder) is not None or is_journal_folder(folder):
        yield folder
        return
    if depth >= _MAX_DEPTH:
        return
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        yield from _walk(child, depth + 1)


def result_file(folder: Path) -> Path | None:
    """The main ``<id>.json`` of a result folder: the one with an ``<id>-order-events.json`` (or,
    from a run that wrote no order events, an ``<id>-summary.json``) beside it."""
    for suffix in ("-order-events.json", "-summary.json"):
        for companion in sorted(folder.glob(f"*{suffix}")):
            main = folder / (companion.name.removesuffix(suffix) + ".json")
            if main.is_file():
                return main
    return None


def is_journal_folder(folder: Path) -> bool:
    """True for an ObjectStore journal folder (``signals.jsonl`` or ``fills.jsonl``, no result json)."""
    return any((folder / name).is_file() for name in JOURNAL_FILES) and result_file(folder) is None


def read_source(folder: Path) -> RunSource:
    """Read one result folder or journal folder (see :func:`discover`)."""
    main = result_file(folder)
    if main is not None:
        return read_result_folder(folder, main)
    return read_journal_folder(folder)


def read_result_folder(folder: Path, main: Path | None = None) -> RunSource:
    """A Lean or local-runner result folder: statistics, equity, closed trades, order events, fills,
    and the signals of ``signals.jsonl`` when present. Fills come from ``fills.jsonl`` when present,
    otherwise from the order events that filled."""
    main = main or result_file(folder)
    if main is None:
        raise DataError(f"{folder}: not a result folder (no <id>.json with <id>-order-events.json)")
    result_id = main.stem
    raw = main.read_bytes()
    result = _load_json(main, raw)
    if not isinstance(result, dict):
        raise DataError(f"{main}: expected a JSON object of Lean's backtest result")
    configuration = _object(result.get("algorithmConfiguration"), main, "algorithmConfiguration")
    signals = _read_signals(folder / SIGNALS_FILE)
    algorithm = str(configuration.get("name") or (signals[0].strategy if signals else "") or result_id)
    events_file = folder / f"{result_id}-order-events.json"
    events = _read_order_events(events_file) if events_file.is_file() else []
    orders = _object(result.get("orders"), main, "orders")
    if (folder / FILLS_FILE).is_file():
        fills = _read_fills(folder / FILLS_FILE)
    else:
        markets = {s.symbol: s.market for s in signals}
        fills = [_fill_of(event, algorithm, orders, markets) for event in events
                 if event.status.lower() in _FILLED and event.fill_quantity]
    equity = _read_equity(result, main)
    start = _optional_time(configuration.get("startDate"), main, "algorithmConfiguration.startDate")
    end = _optional_time(configuration.get("endDate"), main, "algorithmConfiguration.endDate")
    if equity:
        start = start if start is not None else equity[0][0]
        end = end if end is not None else equity[-1][0]
    return RunSource(
        run_key=f"backtest:{result_id}:{hashlib.sha256(raw).hexdigest()[:16]}",
        kind="backtest",
        algorithm=algorithm,
        path=folder.resolve(),
        parameters=_object(configuration.get("parameters"), main, "algorithmConfiguration.parameters"),
        statistics=_object(result.get("statistics"), main, "statistics"),
        start_time=start,
        end_time=end,
        signals=signals,
        fills=fills,
        order_events=events,
        equity=equity,
        trades=_read_trades(result, main),
    )


def read_journal_folder(folder: Path) -> RunSource:
    """An ObjectStore journal folder ``.../alphapulse/<algorithm>/``: a live run named by the folder."""
    signals: list[Signal] = []
    fills: list[Fill] = []
    for name in JOURNAL_FILES:
        if (folder / name).is_file():
            chunk = read_journal_chunk(folder / name)
            signals += chunk.signals
            fills += chunk.fills
    return journal_run(folder, signals, fills)


def journal_run(folder: Path, signals: list[Signal], fills: list[Fill]) -> RunSource:
    """The run of a journal folder (its key depends only on the folder), holding these records."""
    resolved = folder.resolve()
    times = [s.time for s in signals] + [f.time for f in fills]
    return RunSource(run_key=f"live:{resolved.name}:{resolved}", kind="live", algorithm=resolved.name,
                     path=resolved, signals=signals, fills=fills,
                     start_time=min(times) if times else None, end_time=max(times) if times else None)


def parse_journal_lines(path: Path, text: str, first_line: int = 1) -> tuple[list[Signal], list[Fill]]:
    """Parse JSON lines of a journal; a bad line raises :class:`DataError` naming file and line."""
    signals: list[Signal] = []
    fills: list[Fill] = []
    for number, line in enumerate(text.splitlines(), start=first_line):
        if not line.strip():
            continue
        try:
            record = read_record(line)
        except DataError as exc:
            raise DataError(f"{path}: line {number}: {exc}") from None
        if isinstance(record, Signal):
            signals.append(record)
        else:
            fills.append(record)
    return signals, fills


def _read_journal_file(path: Path, expected: str) -> tuple[list[Signal], list[Fill]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    signals, fills = parse_journal_lines(path, text)
    if (fills if expected == "signal" else signals):
        other = "fill" if expected == "signal" else "signal"
        raise DataError(f"{path}: holds {other} records; expected only {expected} records")
    return signals, fills


def _read_signals(path: Path) -> list[Signal]:
    return _read_journal_file(path, "signal")[0] if path.is_file() else []


def _read_fills(path: Path) -> list[Fill]:
    return _read_journal_file(path, "fill")[1] if path.is_file() else []


def _read_order_events(path: Path) -> list[OrderEvent]:
    data = _load_json(path, path.read_bytes())
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of order events")
    events: list[OrderEvent] = []
    for row, item in enumerate(data):
        where = f"{path}: event {row}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected a JSON object")
        try:
            events.append(OrderEvent(
                order_id=int(item["orderId"]),
                order_event_id=int(item["orderEventId"]),
                time=_unix_ns(item["time"]),
                symbol=str(item.get("symbolValue") or item["symbol"]),
                symbol_id=str(item.get("symbol") or ""),
                status=str(item["status"]),
                direction=str(item.get("direction", "")),
                quantity=_number(item.get("quantity")),
                fill_quantity=_number(item.get("fillQuantity")),
                fill_price=_number(item.get("fillPrice")),
                fill_price_currency=_text(item.get("fillPriceCurrency")),
                fee=_number(item.get("orderFeeAmount")),
                fee_currency=_text(item.get("orderFeeCurrency")),
                stop_price=_number(item.get("stopPrice")),
                limit_price=_number(item.get("limitPrice")),
                is_assignment=bool(item.get("isAssignment", False)),
                message=str(item.get("message") or ""),
            ))
        except KeyError as exc:
            raise DataError(f"{where}: misses the field {exc.args[0]!r}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"{where}: malformed field: {exc}") from None
    return events


def _fill_of(event: OrderEvent, algorithm: str, orders: dict[str, Any],
             markets: dict[str, str]) -> Fill:
    order = orders.get(str(event.order_id))
    order = order if isinstance(order, dict) else {}
    kind = order.get("type", 0)
    order_type = LEAN_ORDER_TYPES.get(kind, str(kind)) if isinstance(kind, int) else str(kind)
    tag = str(order.get("tag") or "")
    found = _SIGNAL_ID.search(tag)
    return Fill(algorithm=algorithm, order_id=event.order_id, symbol=event.symbol,
                market=markets.get(event.symbol, ""), time=event.time,
                quantity=float(event.fill_quantity or 0.0), price=float(event.fill_price or 0.0),
                fee=float(event.fee or 0.0),
                fee_currency=event.fee_currency or event.fill_price_currency or "",
                order_type=order_type, signal_id=found.group(0) if found else "", tag=tag)


def _read_equity(result: dict[str, Any], path: Path) -> list[tuple[int, float]]:
    charts = _object(result.get("charts"), path, "charts")
    chart = _object(charts.get("Strategy Equity"), path, "charts['Strategy Equity']")
    series = _object(_object(chart.get("series"), path, "charts['Strategy Equity'].series").get("Equity"),
                     path, "charts['Strategy Equity'].series.Equity")
    points: dict[int, float] = {}
    for row, value in enumerate(series.get("values") or ()):
        where = f"{path}: charts['Strategy Equity'].series.Equity.values[{row}]"
        try:
            if isinstance(value, dict):
                time, equity = value["x"], value["y"]
            elif isinstance(value, list) and len(value) in (2, 5):
                time, equity = value[0], value[-1]  # [time, value] or [time, open, high, low, close]
            else:
                raise ValueError("expected [time, value], [time, open, high, low, close] or {x, y}")
            number = _number(equity)
            if number is None:
                continue  # Lean writes null for a candle without data
            points[_unix_ns(time)] = number
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"{where}: {exc}") from None
    return sorted(points.items())


def _read_trades(result: dict[str, Any], path: Path) -> list[ClosedTrade]:
    performance = _object(result.get("totalPerformance"), path, "totalPerformance")
    trades: list[ClosedTrade] = []
    for row, item in enumerate(performance.get("closedTrades") or ()):
        where = f"{path}: totalPerformance.closedTrades[{row}]"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected a JSON object")
        try:
            # Lean before 2.5 writes "symbol", later versions (and the local runner) a "symbols" list
            symbol = item["symbols"][0] if item.get("symbols") else item["symbol"]
            direction = item.get("direction", 0)
            trades.append(ClosedTrade(
                trade_no=row,
                symbol=str(symbol.get("value") or symbol.get("permtick") if isinstance(symbol, dict)
                           else symbol),
                direction=("long" if direction == 0 else "short") if isinstance(direction, int)
                else str(direction).lower(),
                quantity=float(item["quantity"]),
                entry_time=parse_time(str(item["entryTime"])),
                exit_time=parse_time(str(item["exitTime"])),
                entry_price=float(item["entryPrice"]),
                exit_price=float(item["exitPrice"]),
                profit_loss=float(item["profitLoss"]),
                fees=float(item.get("totalFees") or 0.0),
                mae=_number(item.get("mae")),
                mfe=_number(item.get("mfe")),
                signal_id=str(item.get("signalId") or ""),
            ))
        except KeyError as exc:
            raise DataError(f"{where}: misses the field {exc.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{where}: malformed field: {exc}") from None
    return trades


def _load_json(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno})") from None


def _object(value: Any, path: Path, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataError(f"{path}: {key} must be a JSON object, got {type(value).__name__}")
    return value


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _unix_ns(value: Any) -> int:
    """Unix seconds (int, float or numeric text) to ns; rejects booleans and non-finite values."""
    if isinstance(value, bool):
        raise ValueError(f"time {value!r} is not unix seconds")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"time {value!r} is not unix seconds")
    return round(seconds * 1_000_000) * 1_000


def _optional_time(value: Any, path: Path, key: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float):
            return _unix_ns(value)
        return parse_time(str(value).replace(" ", "T"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{path}: {key} is not a time: {exc}") from None


@dataclass(frozen=True, slots=True)
class JournalChunk:
    """The complete records of a journal file from byte ``start`` to byte ``end``.

    A last line without its newline is taken when it is a whole JSON object (a writer that does not
    end the file with a newline) and left for later otherwise (a line still being written).
    ``digest`` fingerprints the bytes just before ``end`` (see :func:`tail_digest`).
    """

    path: Path
    start: int
    end: int
    signals: list[Signal]
    fills: list[Fill]
    digest: str = ""


#: how many bytes before an offset :func:`tail_digest` fingerprints
TAIL_BYTES = 4096


def tail_digest(path: Path, offset: int) -> str:
    """SHA-256 (hex, 32 chars) of the up to 4 KiB before ``offset``: if it changes, the file was
    replaced by a different one rather than appended to."""
    if offset <= 0:
        return ""
    with path.open("rb") as handle:
        start = max(0, offset - TAIL_BYTES)
        handle.seek(start)
        return hashlib.sha256(handle.read(offset - start)).hexdigest()[:32]


def read_journal_chunk(path: Path, offset: int = 0, digest: str = "") -> JournalChunk:
    """Read the complete journal lines of ``path`` after byte ``offset``.

    The file is read again from the start when it is shorter than ``offset`` or when ``digest``
    (the :func:`tail_digest` stored with the offset) no longer matches: it was replaced (storing
    is idempotent, so records already stored are not stored twice). A bad line raises
    :class:`DataError` naming the file and the line number.
    """
    try:
        size = path.stat().st_size
        if size < offset or (offset and digest and tail_digest(path, offset) != digest):
            offset = 0
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(size - offset)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the journal: {exc.strerror or exc}") from None
    cut = data.rfind(b"\n") + 1
    tail = data[cut:]
    if tail.strip():
        try:
            whole = isinstance(json.loads(tail), dict)
        except ValueError:
            whole = False
        if whole:
            cut = len(data)
    complete = data[:cut]
    try:
        text = complete.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {offset + exc.start})") from None
    try:
        signals, fills = parse_journal_lines(path, text)
    except DataError:
        with path.open("rb") as handle:
            lines_before = handle.read(offset).count(b"\n")
        parse_journal_lines(path, text, first_line=lines_before + 1)  # raises, naming the file's line
        raise
    end = offset + cut
    kept = data[max(0, cut - TAIL_BYTES):cut]
    if cut < TAIL_BYTES and offset:
        return JournalChunk(path, offset, end, signals, fills, tail_digest(path, end))
    return JournalChunk(path, offset, end, signals, fills,
                        hashlib.sha256(kept).hexdigest()[:32] if end else "")
