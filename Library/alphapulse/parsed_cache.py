"""The parsed-file cache of a Lean data folder: the parsed rows of trade zips, kept as binary
files under ``<data_dir>/.cache/bars/``.

The rows of an hour or daily zip are kept in a file of their own (the zip's relative path plus
``.bars``); the rows of the minute zips of a symbol (one zip a day) are kept together in one file
per folder (``crypto/binance/minute/btcusdt.bars``), so reading or writing the cache costs a few
file operations however many days are read.

A cache file holds entries, one per zip, sorted by the zip's name. Its layout (little-endian):

* a header of five int64: magic number, cache format version, entry count, row count, length of
  the names;
* per entry four int64: the zip's size, modification time (ns) and inode when it was parsed, and
  its row count;
* the zips' file names, joined by ``\\n`` (UTF-8, zero-padded to a multiple of 8 bytes);
* the rows of all entries in entry order, column after column: the times (int64 UTC ns), then the
  open, high, low, close and volume (float64).

An entry whose zip's current ``stat`` differs from its own is a miss: the zip is parsed again and
the cache file rewritten, so replacing or editing a zip invalidates it. A cache file that cannot
be read or does not check out (magic, version, lengths) is a miss as a whole. Cache files are
rewritten atomically (temporary file + ``os.replace``), keep the entries of other zips of the
folder that are still valid, take only rows of zips that did not change while they were parsed,
and are written only in a data folder that is writable by its mode bits (a read-only folder is
never written to, even by root); a failed write leaves the read unaffected.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: layout version of the parsed-file cache; a change makes every existing cache file a miss
CACHE_VERSION = 3
#: the cache folder inside a data folder
CACHE_FOLDER = Path(".cache") / "bars"
_MAGIC = 0x5352414241504C41  # "ALPABARS" as little-endian bytes
_COLUMNS = 5
_HEADER = 5  # int64 values
_ENTRY = 4  # int64 values
_MAX_VECTORS = 1024  # buffers per writev call (the usual IOV_MAX)

#: a zip's identity in the cache: (size, modification time in ns, inode)
ZipKey = tuple[int, int, int]
#: parsed rows: (int64 UTC ns times, float64 columns open, high, low, close, volume x rows)
Rows = tuple[np.ndarray, np.ndarray]


def cache_path(data_dir: str | Path, zip_path: Path, *, per_folder: bool) -> Path:
    """The cache file of ``zip_path`` (a file of ``data_dir``): shared by the zips of its folder
    when ``per_folder`` (minute files), else its own."""
    relative = zip_path.relative_to(data_dir)
    if per_folder:
        return Path(data_dir) / CACHE_FOLDER / relative.parent.with_name(f"{relative.parent.name}.bars")
    return Path(data_dir) / CACHE_FOLDER / relative.parent / f"{relative.name}.bars"


def zip_key(zip_path: Path) -> ZipKey | None:
    """The cache key of a zip as it is now, None when it cannot be read."""
    try:
        info = os.stat(zip_path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


@dataclass(frozen=True)
class _Entry:
    key: ZipKey
    start: int
    rows: int


@dataclass(frozen=True)
class _Index:
    """The entries of a cache file and where its columns begin."""

    entries: dict[str, _Entry]
    rows: int
    data_start: int

    def read(self, handle: io.BufferedReader, start: int, stop: int) -> Rows | None:
        """Rows ``start`` to ``stop`` of every column."""
        count = stop - start
        times = np.empty(count, dtype=np.int64)
        columns = np.empty((_COLUMNS, count), dtype=np.float64)
        for column, target in enumerate([times, *columns]):
            handle.seek(self.data_start + 8 * (self.rows * column + start))
            if handle.readinto(target.data.cast("B")) != 8 * count:
                return None
        return times, columns


def _read_index(handle: io.BufferedReader) -> _Index | None:
    head = np.frombuffer(handle.read(8 * _HEADER), dtype=np.int64)
    if len(head) != _HEADER or head[0] != _MAGIC or head[1] != CACHE_VERSION:
        return None
    count, rows, name_bytes = (int(x) for x in head[2:])
    data_start = 8 * (_HEADER + _ENTRY * count) + _padded(name_bytes)
    if (count < 0 or rows < 0 or name_bytes < 0
            or os.fstat(handle.fileno()).st_size != data_start + 8 * (1 + _COLUMNS) * rows):
        return None
    table = np.frombuffer(handle.read(8 * _ENTRY * count), dtype=np.int64)
    names = handle.read(name_bytes).decode("utf-8", errors="replace").split("\n") if count else []
    if len(table) != _ENTRY * count or len(names) != count:
        return None
    table = table.reshape(count, _ENTRY)
    counts = table[:, 3]
    if (counts < 0).any() or int(counts.sum()) != rows:
        return None
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist() if count else []
    entries = {name: _Entry((size, mtime, inode), start, n)
               for name, (size, mtime, inode, n), start in zip(names, table.tolist(), starts, strict=True)}
    return _Index(entries, rows, data_start) if len(entries) == count else None


def _padded(size: int) -> int:
    return -(-size // 8) * 8


def load(cache_file: Path, zips: list[Path], keys: list[ZipKey | None]) -> tuple[list[Rows | None], Rows | None]:
    """The cached rows of each of ``zips`` whose entry has its key in ``keys`` (None for a miss),
    and all of them one after the other when every zip is a hit and the cache file holds them in
    that order (else None)."""
    found: list[Rows | None] = [None] * len(zips)
    if sys.byteorder != "little":
        return found, None
    try:
        with open(cache_file, "rb") as handle:
            index = _read_index(handle)
            if index is None:
                return found, None
            hits = []
            for k, (zip_path, key) in enumerate(zip(zips, keys, strict=True)):
                entry = index.entries.get(zip_path.name)
                if entry is not None and key is not None and entry.key == key:
                    hits.append((k, entry))
            if not hits:
                return found, None
            low = min(entry.start for _, entry in hits)
            high = max(entry.start + entry.rows for _, entry in hits)
            rows = index.read(handle, low, high)
    except (OSError, ValueError):
        return found, None
    if rows is None:
        return found, None
    times, columns = rows
    for k, entry in hits:
        found[k] = (times[entry.start - low:entry.start - low + entry.rows],
                    columns[:, entry.start - low:entry.start - low + entry.rows])
    in_order = len(hits) == len(zips) and all(
        entry.start == (hits[i - 1][1].start + hits[i - 1][1].rows if i else low)
        for i, (_, entry) in enumerate(hits)) and hits[-1][1].start + hits[-1][1].rows == high
    return found, (rows if in_order else None)


def store(data_dir: Path, cache_file: Path, zips: list[Path], keys: list[ZipKey | None],
          rows: list[Rows], whole: Rows | None = None) -> None:
    """Keep ``rows`` of each of ``zips`` (all in ``cache_file``'s folder of zips) whose zip still
    has the key it had before it was read, with the entries already in ``cache_file`` for other
    zips that are still valid. ``whole``: all ``rows`` one after the other, when at hand (written
    as they are when they make up the whole cache file)."""
    if sys.byteorder != "little" or not _writable(data_dir):
        return
    kept: dict[str, tuple[ZipKey, Rows]] = {}
    for zip_path, key, part in zip(zips, keys, rows, strict=True):
        if key is not None and zip_key(zip_path) == key:
            kept[zip_path.name] = (key, part)
    if not kept:
        return
    with contextlib.suppress(OSError, ValueError):  # an unreadable cache file is replaced
        kept.update(_still_valid(cache_file, zips[0].parent, set(kept)))
    names = sorted(kept)
    encoded = "\n".join(names).encode("utf-8")
    total = sum(len(kept[name][1][0]) for name in names)
    head = np.array([_MAGIC, CACHE_VERSION, len(names), total, len(encoded)], dtype=np.int64)
    table = np.array([[*kept[name][0], len(kept[name][1][0])] for name in names], dtype=np.int64)
    parts = [head, table, np.frombuffer(encoded.ljust(_padded(len(encoded)), b"\0"), dtype=np.uint8)]
    if whole is not None and names == [zip_path.name for zip_path in zips]:  # the rows in file order
        parts += [np.ascontiguousarray(whole[0], dtype=np.int64),
                  *(np.ascontiguousarray(column, dtype=np.float64) for column in whole[1])]
    else:
        parts += [np.ascontiguousarray(kept[name][1][0], dtype=np.int64) for name in names]
        for column in range(_COLUMNS):
            parts += [np.ascontiguousarray(kept[name][1][1][column], dtype=np.float64) for name in names]
    _write_atomically(cache_file, [part.data.cast("B") for part in parts if part.size])
    _remove_version_2(data_dir, zips)


def _remove_version_2(data_dir: Path, zips: list[Path]) -> None:
    """Drop the per-zip ``<zip>.npy`` files the previous cache layout kept beside these zips' rows."""
    if not zips:
        return
    folder = Path(data_dir) / CACHE_FOLDER / zips[0].parent.relative_to(data_dir)
    if not folder.is_dir():
        return
    for zip_path in zips:
        with contextlib.suppress(OSError):
            (folder / f"{zip_path.name}.npy").unlink()


def _still_valid(cache_file: Path, folder: Path, replaced: set[str]) -> dict[str, tuple[ZipKey, Rows]]:
    """The entries of ``cache_file`` not named in ``replaced`` whose zip in ``folder`` is unchanged."""
    with open(cache_file, "rb") as handle:
        index = _read_index(handle)
        if index is None:
            return {}
        valid = {name: entry for name, entry in index.entries.items()
                 if name not in replaced and entry.key == zip_key(folder / name)}
        rows = index.read(handle, 0, index.rows) if valid else None
    if rows is None:
        return {}
    times, columns = rows
    return {name: (entry.key, (times[entry.start:entry.start + entry.rows],
                               columns[:, entry.start:entry.start + entry.rows]))
            for name, entry in valid.items()}


def _writable(data_dir: Path) -> bool:
    try:
        mode = os.stat(data_dir).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWUSR) and os.access(data_dir, os.W_OK)


def _write_atomically(target: Path, views: list[memoryview]) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
        try:
            _write_all(descriptor, views)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)


def _write_all(descriptor: int, views: list[memoryview]) -> None:
    """Write every byte of ``views`` (``writev`` calls where the system has them)."""
    while views:
        if hasattr(os, "writev"):
            written = os.writev(descriptor, views[:_MAX_VECTORS])
        else:
            written = os.write(descriptor, views[0])
        if written <= 0:
            raise OSError("no progress writing a cache file")
        done = 0
        while done < len(views) and written >= len(views[done]):
            written -= len(views[done])
            done += 1
        views = views[done:]
        if views and written:
            views[0] = views[0][written:]
