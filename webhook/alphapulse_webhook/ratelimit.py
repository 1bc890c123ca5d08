"""Per-source rate limit: a token bucket for each client address, in memory, bounded in size.

Each source may send ``burst`` alerts at once and ``per_minute`` alerts per minute sustained; one
more is answered 429 with ``Retry-After`` (whole seconds until a token is back). The table keeps at
most ``max_sources`` buckets; full buckets are dropped first, so memory stays bounded under a flood
of addresses.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Token buckets keyed by client address (thread-safe)."""

    per_minute: float
    burst: int
    max_sources: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.per_minute / 60.0

    def acquire(self, source: str) -> float:
        """Take one token for ``source``: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                if len(self._buckets) >= self.max_sources:
                    self._evict(now)
                bucket = self._buckets[source] = _Bucket(float(self.burst), now)
            else:
                bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def retry_after(self, wait: float) -> str:
        """``wait`` seconds as a ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))

    def _evict(self, now: float) -> None:
        full = [key for key, b in self._buckets.items()
                if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_sources:  # all busy: drop the oldest half
            oldest = sorted(self._buckets, key=lambda key: self._buckets[key].updated)
            for key in oldest[: len(oldest) // 2 + 1]:
                del self._buckets[key]
