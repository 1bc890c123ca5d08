"""What a Lean data folder holds: per market, symbol and resolution the files, rows and time range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alphapulse.bars import format_time
from alphapulse.errors import DataError
from alphapulse.lean_data import (
    RESOLUTIONS,
    TradeFile,
    parse_rows,
    read_csv_text,
    security_type_of,
    trade_file,
)
from alphapulse_tools.data.symbols import MARKET_HOURS_FILE, PROPERTIES_FILE


@dataclass(frozen=True)
class CatalogEntry:
    """One symbol at one resolution in the data folder. ``problem`` is set when a file could not
    be read (the entry then counts only what was readable)."""

    security_type: str
    market: str
    symbol: str
    resolution: str
    files: int
    rows: int
    first: str | None
    last: str | None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _line_count(text: str) -> int:
    stripped = text.rstrip("\r\n")
    return stripped.count("\n") + 1 if stripped else 0


def _edge_time(file: TradeFile, text: str, last: bool) -> int | None:
    lines = text.strip().splitlines()
    if not lines:
        return None
    times, _ = parse_rows(file, lines[-1] if last else lines[0])
    return int(times[0])


def _entry(kind: str, market: str, symbol: str, resolution: str, files: list[TradeFile]) -> CatalogEntry:
    rows, first, last, problem = 0, None, None, None
    for index, file in enumerate(files):
        try:
            text = read_csv_text(file)
            rows += _line_count(text)
            if index == 0:
                first = _edge_time(file, text, last=False)
            if index == len(files) - 1:
                last = _edge_time(file, text, last=True)
        except DataError as exc:
            problem = problem or str(exc)
    return CatalogEntry(kind, market, symbol.upper(), resolution, len(files), rows,
                        None if first is None else format_time(first),
                        None if last is None else format_time(last), problem)


def scan_data_dir(data_dir: str | Path) -> list[CatalogEntry]:
    """Every trade-bar series under ``data_dir`` (``<type>/<market>/<resolution>/...``), sorted."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"{root}: no such data folder; pass --data-dir or download data first")
    entries = []
    for kind in ("crypto", "equity"):
        for market_dir in sorted(p for p in (root / kind).glob("*") if p.is_dir()):
            market = market_dir.name
            if security_type_of(market) != kind:
                continue
            for resolution in RESOLUTIONS:
                folder = market_dir / resolution
                if not folder.is_dir():
                    continue
                if resolution == "minute":
                    for symbol_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
                        days = []
                        for path in sorted(symbol_dir.glob("*_trade.zip")):
                            try:
                                days.append(datetime.strptime(path.name[:8], "%Y%m%d").date())
                            except ValueError:
                                continue
                        if days:
                            files = [trade_file(root, market, symbol_dir.name, resolution, d) for d in days]
                            entries.append(_entry(kind, market, symbol_dir.name, resolution, files))
                    continue
                suffix = "_trade.zip" if kind == "crypto" else ".zip"
                for path in sorted(folder.glob(f"*{suffix}")):
                    symbol = path.name[: -len(suffix)]
                    if kind == "equity" and symbol.endswith(("_quote", "_trade", "_openinterest")):
                        continue
                    entries.append(_entry(kind, market, symbol, resolution,
                                          [trade_file(root, market, symbol, resolution)]))
    return entries


def databases_present(data_dir: str | Path) -> dict[str, bool]:
    """Whether the symbol-properties and market-hours databases exist in the data folder."""
    root = Path(data_dir)
    return {"symbol-properties": (root / PROPERTIES_FILE).exists(),
            "market-hours": (root / MARKET_HOURS_FILE).exists()}
