"""Checking Lean trade files for data that would mislead a backtest.

Checks (``severity`` error makes the data unusable; warnings are reported only):

* ``unreadable`` (error): a file that cannot be parsed (wrong columns, non-numeric field, corrupt zip).
* ``order`` (error, repairable): a bar earlier than the one before it in the file.
* ``duplicate`` (error, repairable): the same bar (time and values) twice.
* ``conflict`` (error): two different bars with the same time — which one is right cannot be known.
* ``price`` (error): an open, high, low or close that is zero or negative.
* ``volume`` (error): a negative volume. ``zero_volume`` (warning): no trading in the bar.
* ``ohlc`` (error): high below open/close/low or low above open/close/high.
* ``misaligned`` (warning): a bar not starting on a multiple of the resolution (UTC).
* ``gap`` (warning): missing bars between two bars, against the resolution's bar length; only for
  24/7 crypto markets (equity sessions have nights and weekends by design).
* ``outlier`` (warning): a close-to-close log return far from the typical one: robust z-score
  ``|r - median| / (1.4826 * MAD)`` above ``outlier_z`` and ``|r|`` above ``outlier_min_move``
  (returns between bars more than a week and ten bars apart are not considered).

``repair`` fixes only what needs no invented data: it sorts rows and drops exact duplicates, then
rewrites the file atomically. It never fills a gap and never picks between conflicting bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import format_time
from alphapulse.errors import DataError, NoDataError
from alphapulse.lean_data import (
    RESOLUTION_SECONDS,
    TradeFile,
    minute_days,
    parse_rows,
    read_csv_text,
    security_type_of,
    trade_file,
    write_trade_file,
)

ERROR, WARNING = "error", "warning"
OUTLIER_SPAN_NS = 7 * 86_400 * 10**9
CHECKS = {"unreadable": ERROR, "order": ERROR, "duplicate": ERROR, "conflict": ERROR, "price": ERROR,
          "volume": ERROR, "ohlc": ERROR, "zero_volume": WARNING, "misaligned": WARNING, "gap": WARNING,
          "outlier": WARNING}


@dataclass(frozen=True)
class Issue:
    """One finding: which check, where (file, 1-based row, bar time) and what."""

    check: str
    file: str
    row: int | None
    time: str | None
    detail: str

    @property
    def severity(self) -> str:
        return CHECKS[self.check]

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "file": self.file, "row": self.row,
                "time": self.time, "detail": self.detail}


@dataclass
class ValidationReport:
    """Counts per check over all files, and up to ``examples`` issues per check."""

    market: str
    symbol: str
    resolution: str
    files: int = 0
    rows: int = 0
    first: str | None = None
    last: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    examples: int = 10

    @property
    def usable(self) -> bool:
        """False when any error-severity check fired."""
        return not any(n and CHECKS[check] == ERROR for check, n in self.counts.items())

    def add(self, check: str, file: TradeFile, row: int | None, time_ns: int | None, detail: str) -> None:
        self.counts[check] = self.counts.get(check, 0) + 1
        if self.counts[check] <= self.examples:
            self.issues.append(Issue(check, str(file.path), row,
                                     None if time_ns is None else format_time(time_ns), detail))

    def add_rows(self, check: str, file: TradeFile, rows: np.ndarray, times: np.ndarray,
                 describe: Callable[[int], str], numbered: bool = True) -> None:
        """Count every flagged row (0-based indices ``rows``), keep the first few as examples."""
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        shown = max(0, min(len(rows), self.examples - self.counts.get(check, 0)))
        for row in rows[:shown].tolist():
            self.add(check, file, row + 1 if numbered else None, int(times[row]), describe(row))
        self.counts[check] = self.counts.get(check, 0) + len(rows) - shown

    def as_dict(self) -> dict[str, Any]:
        return {"market": self.market, "symbol": self.symbol, "resolution": self.resolution,
                "usable": self.usable, "files": self.files, "rows": self.rows, "first": self.first,
                "last": self.last, "counts": dict(sorted(self.counts.items())),
                "issues": [i.as_dict() for i in self.issues], "repaired": self.repaired}


@dataclass(frozen=True)
class ValidationRules:
    """Thresholds of the outlier check."""

    outlier_z: float = 12.0
    outlier_min_move: float = 0.02


def _files(data_dir: Path, market: str, symbol: str, resolution: str, start: date | None,
           end: date | None) -> list[TradeFile]:
    if resolution == "minute":
        days = [d for d in minute_days(data_dir, market, symbol)
                if (start is None or d >= start) and (end is None or d <= end)]
        return [trade_file(data_dir, market, symbol, "minute", d) for d in days]
    file = trade_file(data_dir, market, symbol, resolution)
    return [file] if file.path.exists() else []


def _check_file(report: ValidationReport, file: TradeFile, times: np.ndarray, values: np.ndarray) -> None:
    o, h, lo, c, v = values.T

    def bar(row: int) -> str:
        return f"open={o[row]}, high={h[row]}, low={lo[row]}, close={c[row]}, volume={v[row]}"

    for mask, check, what in (
        ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), "price", "a price is zero or negative"),
        (v < 0, "volume", "the volume is negative"),
        ((h < np.maximum.reduce([o, c, lo])) | (lo > np.minimum.reduce([o, c, h])), "ohlc",
         "high/low do not bound open and close"),
        (v == 0, "zero_volume", "no volume"),
    ):
        report.add_rows(check, file, np.flatnonzero(mask), times,
                        lambda row, what=what: f"{what} ({bar(row)})")
    period_ns = RESOLUTION_SECONDS[file.resolution] * 10**9
    if security_type_of(file.market) == "crypto":
        report.add_rows("misaligned", file, np.flatnonzero(times % period_ns), times,
                        lambda row: "the bar does not start on the resolution's grid")
    if len(times) > 1:
        back = np.flatnonzero(np.diff(times) < 0) + 1
        for row in back.tolist():
            report.add("order", file, row + 1, int(times[row]),
                       f"earlier than the previous row ({format_time(int(times[row - 1]))})")
    order = np.argsort(times, kind="stable")
    st, sv = times[order], values[order]
    same = np.flatnonzero(np.diff(st) == 0) + 1
    for i in same.tolist():
        identical = bool((sv[i] == sv[i - 1]).all())
        report.add("duplicate" if identical else "conflict", file, int(order[i]) + 1, int(st[i]),
                   "the same bar appears twice" if identical else
                   f"two different bars at this time ({sv[i - 1].tolist()} and {sv[i].tolist()})")


def _check_series(report: ValidationReport, files: list[TradeFile], times: np.ndarray, values: np.ndarray,
                  owner: np.ndarray, rules: ValidationRules) -> None:
    """Checks across all files: gaps and outlier returns, on the sorted distinct bars."""
    order = np.argsort(times, kind="stable")
    times, values, owner = times[order], values[order], owner[order]
    keep = np.r_[True, np.diff(times) != 0]
    times, values, owner = times[keep], values[keep], owner[keep]
    if len(times) < 2:
        return
    resolution = files[0].resolution
    period_ns = RESOLUTION_SECONDS[resolution] * 10**9
    if security_type_of(files[0].market) == "crypto":
        steps = np.diff(times)
        for i in np.flatnonzero(steps > period_ns).tolist():
            missing = int(steps[i] // period_ns) - 1
            report.add("gap", files[int(owner[i + 1])], None, int(times[i + 1]),
                       f"{max(missing, 1)} bar(s) missing after {format_time(int(times[i]))}")
    close = values[:, 3]
    if (close > 0).all():
        # returns across more than a week (files far apart) are not bar-to-bar moves
        near = np.diff(times) <= max(OUTLIER_SPAN_NS, 10 * period_ns)
        returns = np.where(near, np.diff(np.log(close)), 0.0)
        median = float(np.median(returns[near])) if near.any() else 0.0
        scale = 1.4826 * float(np.median(np.abs(returns[near] - median))) if near.any() else 0.0
        if scale > 0:
            z = np.abs(returns - median) / scale
            flagged = near & (z > rules.outlier_z) & (np.abs(returns) > rules.outlier_min_move)
            for i in np.flatnonzero(flagged).tolist():
                report.add("outlier", files[int(owner[i + 1])], None, int(times[i + 1]),
                           f"close-to-close return {np.expm1(returns[i]):+.2%} (robust z {z[i]:.1f})")


def repair_file(file: TradeFile) -> bool:
    """Sort rows and drop exact duplicates, rewriting the file atomically. Returns False (and
    leaves the file untouched) when it has conflicting bars or nothing to repair."""
    times, values = parse_rows(file, read_csv_text(file))
    order = np.argsort(times, kind="stable")
    st, sv = times[order], values[order]
    dup = np.r_[False, (np.diff(st) == 0) & (sv[1:] == sv[:-1]).all(axis=1)]
    st, sv = st[~dup], sv[~dup]
    if (np.diff(st) == 0).any():
        return False
    if len(st) == len(times) and (order == np.arange(len(order))).all():
        return False
    write_trade_file(file, st, sv)
    return True


def validate_symbol(data_dir: str | Path, market: str, symbol: str, resolution: str, *,
                    start: date | None = None, end: date | None = None, repair: bool = False,
                    rules: ValidationRules | None = None, examples: int = 10) -> ValidationReport:
    """Validate the Lean trade files of ``symbol`` at ``resolution`` (minute files limited to
    ``[start, end]``). With ``repair``, repairable files are fixed first (see the module docstring).
    Raises :class:`NoDataError` when there is no file at all."""
    if resolution not in RESOLUTION_SECONDS:
        raise DataError(f"unknown resolution {resolution!r}: use minute, hour or daily")
    rules = rules or ValidationRules()
    data_dir = Path(data_dir)
    files = _files(data_dir, market, symbol, resolution, start, end)
    if not files:
        raise NoDataError(f"no {resolution} files for {market}:{symbol.upper()} in {data_dir}; "
                          "run `alphapulse data download` or check --data-dir/--market")
    report = ValidationReport(market, symbol.upper(), resolution, examples=examples)
    if repair:
        for file in files:
            try:
                if repair_file(file):
                    report.repaired.append(str(file.path))
            except DataError:
                continue  # reported as unreadable below
    all_times, all_values, owner = [], [], []
    for index, file in enumerate(files):
        try:
            times, values = parse_rows(file, read_csv_text(file))
        except DataError as exc:
            report.add("unreadable", file, None, None, str(exc))
            continue
        report.files += 1
        report.rows += len(times)
        _check_file(report, file, times, values)
        all_times.append(times)
        all_values.append(values)
        owner.append(np.full(len(times), index))
    if all_times:
        times = np.concatenate(all_times)
        if len(times):
            report.first, report.last = format_time(int(times.min())), format_time(int(times.max()))
            _check_series(report, files, times, np.concatenate(all_values), np.concatenate(owner), rules)
    return report
