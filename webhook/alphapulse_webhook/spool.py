"""The durable spool: accepted alerts kept on local disk while the database is unreachable.

Layout of the spool folder: ``current.jsonl`` (being appended to), ``sealed-<n>.jsonl`` (closed,
waiting for replay, replayed in ``n`` order), ``refused.jsonl`` (records the database refused as
data on replay; kept for a person to look at, never dropped silently). One
:meth:`AlertRecord.to_json` line per alert. ``.lock`` holds an exclusive ``flock`` while a
:class:`Spool` is open: one process owns a spool folder (a second webhook process on the same
folder could seal and delete a file the first still appends to); the system releases it when the
process ends, even killed.

An append writes the whole line, ``fsync``s the file (and the folder when the file is new) and only
then returns, so an alert acknowledged with 202 survives ``SIGKILL`` and power loss. A failed
write is cut back off the file. At start-up an existing ``current.jsonl`` is sealed, and a last
line without its newline (a write interrupted by a crash, never acknowledged) is ignored.

Replay (:meth:`Spool.drain`) seals the current file, inserts each sealed file's records in order,
commits, then deletes the file. Inserts skip known idempotency keys, so a crash in the middle of a
replay stores nothing twice when the replay runs again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

from alphapulse.errors import DataError, StoreError
from alphapulse_webhook.store import AlertRecord

log = logging.getLogger("alphapulse.webhook.spool")

CURRENT = "current.jsonl"
LOCK = ".lock"
REFUSED = "refused.jsonl"
_SEALED = re.compile(r"^sealed-(\d{12})\.jsonl$")
MIN_FREE_BYTES = 1 << 20


class SpoolError(StoreError):
    """The spool could not durably store an alert (disk full, folder not writable, ...)."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: Path) -> list[AlertRecord]:
    """The complete records of a spool file, in order (a torn last line is ignored)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] != b"":
        log.warning("spool %s: ignoring an incomplete last line (%d bytes)", path, len(lines[-1]))
    records: list[AlertRecord] = []
    for number, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            records.append(AlertRecord.from_json(line.decode("utf-8")))
        except (DataError, UnicodeDecodeError) as exc:
            log.error("spool %s line %d is unreadable and skipped: %s", path, number, exc)
    return records


class Spool:
    """An append-only, fsync'd queue of accepted alerts in a folder (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"cannot create the spool folder {self.folder}: {exc.strerror}; "
                             "set ALPHAPULSE_SPOOL_DIR to a writable folder") from None
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._fd: int | None = None
        self._owner: weakref.finalize | None = None  # closes the lock's descriptor: at close() or when collected
        self._own_folder()
        self._next = max((self._seq(p) for p in self._sealed()), default=0) + 1
        current = self.folder / CURRENT
        if current.exists():
            if current.stat().st_size > 0:
                self._seal_locked(current)
            else:
                current.unlink()
        self._count = sum(len(read_records(p)) for p in self._sealed())

    def _own_folder(self) -> None:
        """Take the folder's lock (with this process id in it), or raise :class:`SpoolError`."""
        if self._owner is not None:
            return
        path = self.folder / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SpoolError(f"cannot open {path}: {exc.strerror}; set ALPHAPULSE_SPOOL_DIR to a writable "
                             "folder") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise SpoolError(f"the spool folder {self.folder} is in use by another webhook process (pid "
                             f"{holder}); run one webhook process per spool folder, or give each its own "
                             "ALPHAPULSE_SPOOL_DIR") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._owner = weakref.finalize(self, os.close, fd)

    @staticmethod
    def _seq(path: Path) -> int:
        match = _SEALED.match(path.name)
        return int(match.group(1)) if match else 0

    def _sealed(self) -> list[Path]:
        return sorted((p for p in self.folder.iterdir() if _SEALED.match(p.name)), key=self._seq)

    @property
    def pending(self) -> int:
        """How many spooled alerts wait for replay (0: the spool is empty)."""
        return self._count

    def writable(self) -> bool:
        """Whether an append can be expected to succeed (a writable folder with at least 1 MiB free)."""
        try:
            return (self.folder.is_dir() and os.access(self.folder, os.W_OK)
                    and shutil.disk_usage(self.folder).free >= MIN_FREE_BYTES)
        except OSError:
            return False

    def append(self, record: AlertRecord) -> None:
        """Write ``record`` durably (write + fsync) or raise :class:`SpoolError` with nothing kept."""
        data = (record.to_json() + "\n").encode("utf-8")
        with self._lock:
            self._own_folder()
            try:
                if self._fd is None:
                    path = self.folder / CURRENT
                    self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                    _fsync_dir(self.folder)
                fd = self._fd
                start = os.lseek(fd, 0, os.SEEK_END)
            except OSError as exc:
                raise SpoolError(f"cannot open the spool in {self.folder}: {exc.strerror}") from None
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except OSError as exc:
                self._cut(fd, start)
                raise SpoolError(f"cannot write the spool in {self.folder}: {exc.strerror}") from None
            self._count += 1

    def _cut(self, fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError:  # cannot cut: seal the file so the torn line ends it
            os.close(fd)
            self._fd = None
            with contextlib.suppress(OSError):
                self._seal_locked(self.folder / CURRENT)

    def _seal_locked(self, current: Path) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        target = self.folder / f"sealed-{self._next:012d}.jsonl"
        self._next += 1
        os.replace(current, target)
        _fsync_dir(self.folder)

    def drain(self, insert: Callable[[Sequence[AlertRecord]], Sequence[AlertRecord]],
              batch_size: int = 500) -> int:
        """Replay every spooled alert through ``insert`` (in order), then delete what was replayed.

        ``insert`` stores a batch and commits, returning the records the database refused as data
        (appended to ``refused.jsonl``); any exception stops the replay and keeps the rest for the
        next call. Returns how many records were replayed.
        """
        done = 0
        with self._drain_lock:
            while True:
                with self._lock:
                    self._own_folder()
                    current = self.folder / CURRENT
                    if self._fd is not None or current.exists():
                        if current.exists() and current.stat().st_size > 0:
                            self._seal_locked(current)
                        elif self._fd is not None:
                            os.close(self._fd)
                            self._fd = None
                    sealed = self._sealed()
                    if not sealed:
                        self._count = 0
                        return done
                for path in sealed:
                    records = read_records(path)
                    for start in range(0, len(records), batch_size):
                        refused = insert(records[start : start + batch_size])
                        if refused:
                            self._refuse(refused)
                    path.unlink()
                    _fsync_dir(self.folder)
                    with self._lock:
                        self._count = max(0, self._count - len(records))
                    done += len(records)

    def _refuse(self, records: Sequence[AlertRecord]) -> None:
        path = self.folder / REFUSED
        with path.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(record.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        log.error("the database refused %d spooled alert(s); kept in %s", len(records), path)

    def close(self) -> None:
        """Close the open spool file and release the folder (an append takes both again)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._owner is not None:
                self._owner()  # closing the descriptor releases the flock
                self._owner = None
