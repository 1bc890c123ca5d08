"""Follow mode: tail the ObjectStore journals of running algorithms into the database.

Lean flushes the ObjectStore every few seconds; each poll stores the complete lines written since
the last one, together with the byte offset reached (table ``follow_offsets``), in one
transaction. A restart therefore continues where it stopped, and a line still being written is
left for the next poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from alphapulse.errors import ConfigError, DataError, StoreError
from alphapulse_tools.store.exporter import (
    RunExport,
    copy_supported,
    export_journal_folder,
    refresh_rollups,
    require_schema,
)
from alphapulse_tools.store.readers import discover, is_journal_folder


@dataclass(frozen=True, slots=True)
class FollowSettings:
    """``poll_seconds``: pause between polls (0.05..3600); ``max_seconds``: stop after this long
    (None: until interrupted); ``once``: one poll only; ``use_copy`` None: chosen by the server;
    ``refresh_seconds``: the daily rollups are refreshed at most this often while new rows arrive,
    and once more when following stops."""

    poll_seconds: float = 1.0
    max_seconds: float | None = None
    once: bool = False
    use_copy: bool | None = None
    refresh_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 0.05 <= self.poll_seconds <= 3600:
            raise ConfigError(f"poll interval {self.poll_seconds} s is outside 0.05..3600 s")
        if self.refresh_seconds < 0:
            raise ConfigError(f"rollup refresh interval must not be negative, got {self.refresh_seconds}")
        if self.max_seconds is not None and self.max_seconds < 0:
            raise ConfigError(f"--max-seconds must not be negative, got {self.max_seconds}")


def journal_folders(path: Path) -> list[Path]:
    """The journal folders at or under ``path`` (a storage root, ``storage/alphapulse`` or one folder).

    A folder that does not exist yet is an error; a storage root with no journal yet gives [].
    """
    if not path.is_dir():
        raise DataError(f"{path}: no such folder (pass the ObjectStore folder, e.g. storage/alphapulse)")
    try:
        return [folder for folder in discover(path) if is_journal_folder(folder)]
    except DataError:
        return []


def follow(conn: psycopg.Connection, path: Path, settings: FollowSettings = FollowSettings(), *,
           on_poll: Callable[[list[RunExport]], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> int:
    """Poll the journals under ``path`` until stopped; returns the number of polls made.

    Stops after one poll with ``settings.once``, after ``settings.max_seconds``, when
    ``should_stop()`` is true, or on KeyboardInterrupt (the poll under way is rolled back and
    will be loaded again on restart). ``on_poll`` receives the stored results of each poll that
    found new lines. A bad line raises :class:`StoreError` naming the file and line (lines
    before it in earlier polls stay stored).
    """
    mode = require_schema(conn)
    use_copy = copy_supported(conn) if settings.use_copy is None else settings.use_copy
    started = last_refresh = time.monotonic()
    polls = 0
    pending = False  # rows stored since the rollups were last refreshed
    while True:
        results = [export_journal_folder(conn, folder, mode=mode, use_copy=use_copy)
                   for folder in journal_folders(path)]
        polls += 1
        failed = [r for r in results if not r.ok]
        stored = [r for r in results if r.ok and any(r.inserted.values())]
        pending = pending or bool(stored)
        if on_poll is not None and (stored or failed):
            on_poll(stored + failed)
        elapsed = time.monotonic() - started
        stopping = bool(failed) or settings.once or (should_stop is not None and should_stop()) or (
            settings.max_seconds is not None and elapsed >= settings.max_seconds)
        if pending and (stopping or time.monotonic() - last_refresh >= settings.refresh_seconds):
            refresh_rollups(conn, mode)
            pending, last_refresh = False, time.monotonic()
        if failed:
            raise StoreError("; ".join(f"{r.source}: {r.error}" for r in failed))
        if stopping:
            return polls
        pause = settings.poll_seconds
        if settings.max_seconds is not None:
            pause = min(pause, settings.max_seconds - elapsed)
        time.sleep(max(pause, 0.0))
