"""Accepting an alert: commit to PostgreSQL, or spool it durably, then run hooks after the answer.

:meth:`AlertService.accept` answers one of

- ``stored``: the row is committed (HTTP 200);
- ``duplicate``: a row with the same idempotency key exists (HTTP 200, nothing stored);
- ``spooled``: the database did not answer within ``db_timeout_seconds`` (or earlier alerts still
  wait in the spool, which keeps the order); the alert is fsync'd in the spool (HTTP 202) and the
  replayer inserts it when the database is back;

or raises :class:`ServiceUnavailable` (HTTP 503) when neither the database nor the spool can take
it. Hooks (notifications, forwarding) run from a bounded queue after the answer has been sent; a
slow or failing hook never delays or fails an alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from alphapulse.errors import StoreError
from alphapulse_webhook.settings import Settings
from alphapulse_webhook.spool import Spool, SpoolError
from alphapulse_webhook.store import AlertRecord, insert_alert, insert_batch, ping

log = logging.getLogger("alphapulse.webhook")

#: A function run for every stored or spooled alert after the answer was sent.
AlertHook = Callable[[AlertRecord], Awaitable[None]]

HOOK_QUEUE_SIZE = 10_000


class Outcome(Enum):
    """What happened to an accepted alert."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    SPOOLED = "spooled"


class ServiceUnavailable(StoreError):
    """Neither the database nor the spool can take the alert; the webhook answers 503."""


class AlertRefused(StoreError):
    """The database refused the alert's values (answered 422; validation should have caught it)."""

    exit_code = 2


def _connect_options(settings: Settings) -> dict[str, object]:
    timeout_ms = int(settings.db_timeout_seconds * 1000)
    return {
        "autocommit": True,
        "connect_timeout": max(1, int(settings.db_timeout_seconds + 0.999)),
        "options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}",
    }


@dataclass
class Replayer:
    """A background thread that drains the spool into the database whenever it has alerts."""

    spool: Spool
    settings: Settings
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alphapulse-spool-replayer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Try a replay now instead of at the next interval."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def replay_once(self) -> int:
        """Drain the spool once; returns the number of alerts replayed (raises on database errors)."""
        options = _connect_options(self.settings)
        options["options"] = "-c statement_timeout=30000"
        with psycopg.connect(self.settings.database_url, **options) as conn:  # type: ignore[arg-type]
            return self.spool.drain(lambda batch: insert_batch(conn, batch))

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.spool.pending:
                try:
                    replayed = self.replay_once()
                    if replayed:
                        log.info("replayed %d spooled alert(s) into the database", replayed)
                except (psycopg.Error, OSError) as exc:
                    log.warning("spool replay failed, retrying in %.1f s: %s",
                                self.settings.replay_interval_seconds, str(exc).strip()[:200])
            self._wake.wait(self.settings.replay_interval_seconds)
            self._wake.clear()


@dataclass
class AlertService:
    """The webhook's moving parts: connection pool, spool, replayer and the after-answer hooks."""

    settings: Settings
    hooks: Sequence[AlertHook] = ()
    spool: Spool = field(init=False)
    replayer: Replayer = field(init=False)
    _pool: AsyncConnectionPool | None = field(default=None, init=False)
    _queue: asyncio.Queue[AlertRecord] | None = field(default=None, init=False)
    _worker: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.spool = Spool(self.settings.spool_dir)

    @property
    def pool(self) -> AsyncConnectionPool:
        """The connection pool of the running service."""
        if self._pool is None:
            raise ServiceUnavailable("the webhook service is not started")
        return self._pool

    async def start(self) -> None:
        """Open a pool (without waiting for the database), start the replayer and the hook worker."""
        self._pool = AsyncConnectionPool(
            self.settings.database_url,
            min_size=self.settings.pool_min_size,
            max_size=self.settings.pool_max_size,
            kwargs=_connect_options(self.settings),
            open=False,
            name="alphapulse-webhook",
        )
        await self._pool.open(wait=False)
        self.replayer = Replayer(self.spool, self.settings)
        self.replayer.start()
        if self.hooks:
            self._queue = asyncio.Queue(HOOK_QUEUE_SIZE)
            self._worker = asyncio.create_task(self._run_hooks(), name="alphapulse-webhook-hooks")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self.replayer.stop()
        self.spool.close()
        if self._pool is not None:
            await self._pool.close(timeout=2)
            self._pool = None

    async def accept(self, record: AlertRecord) -> Outcome:
        """Commit or spool ``record``; see the module docstring for the outcomes."""
        if not self.spool.pending:
            try:
                async with asyncio.timeout(self.settings.db_timeout_seconds + 0.5):
                    stored = await insert_alert(self.pool, record, self.settings.db_timeout_seconds)
            except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
                raise AlertRefused(f"the database refused the alert: {str(exc).strip()[:200]}") from None
            except (psycopg.Error, PoolTimeout, TimeoutError, OSError) as exc:
                log.warning("database unavailable, spooling alert %s: %s", record.idempotency_key,
                            str(exc).strip()[:200] or type(exc).__name__)
            else:
                outcome = Outcome.STORED if stored else Outcome.DUPLICATE
                if stored:
                    self._after(record)
                return outcome
        try:
            await asyncio.to_thread(self.spool.append, record)
        except SpoolError as exc:
            log.error("cannot spool alert %s: %s", record.idempotency_key, exc)
            raise ServiceUnavailable("the alert cannot be stored safely right now (database and "
                                     "spool unavailable); TradingView will resend it") from None
        self.replayer.wake()
        self._after(record)
        return Outcome.SPOOLED

    async def database_ready(self) -> bool:
        return await ping(self.pool, min(0.5, self.settings.db_timeout_seconds))

    def _after(self, record: AlertRecord) -> None:
        if self._queue is None:
            return
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            log.error("hook queue full; hooks skipped for alert %s (it is stored)", record.idempotency_key)

    async def _run_hooks(self) -> None:
        assert self._queue is not None
        while True:
            record = await self._queue.get()
            for hook in self.hooks:
                try:
                    await hook(record)
                except Exception:  # a hook must never take the service down
                    log.exception("hook %r failed for alert %s", hook, record.idempotency_key)
