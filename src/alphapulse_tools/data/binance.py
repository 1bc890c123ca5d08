"""Binance public market data over HTTP, no API key: kline archives, REST klines, exchange rules.

* Archives: ``{data_url}/data/spot/monthly/klines/<SYMBOL>/<INTERVAL>/<SYMBOL>-<INTERVAL>-YYYY-MM.zip``
  and ``.../daily/klines/.../<SYMBOL>-<INTERVAL>-YYYY-MM-DD.zip``, each with a ``.CHECKSUM`` file
  (``<sha256>  <file name>``) that is verified before the archive is used.
* REST: ``{api_url}/api/v3/klines`` (1000 klines a page, paged by ``startTime``) for days not
  archived yet, and ``{api_url}/api/v3/exchangeInfo?symbol=`` for tick size, lot size and minimum
  notional.

Verified archives are kept in a cache folder mirroring the URL path, so a complete month or day is
never fetched twice; an interrupted download continues from its ``.part`` file with an HTTP range
request. HTTP 429/418 answers are retried after their ``Retry-After`` (capped), server errors and
broken connections with bounded exponential backoff.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError, DownloadError
from alphapulse_tools.data.klines import parse_rest_klines
from alphapulse_tools.data.series import concat_bars

DEFAULT_DATA_URL = "https://data.binance.vision"
DEFAULT_API_URL = "https://api.binance.com"
DATA_URL_ENV = "ALPHAPULSE_BINANCE_DATA_URL"
API_URL_ENV = "ALPHAPULSE_BINANCE_API_URL"
REST_PAGE = 1000
#: the Binance error code for an unknown symbol
INVALID_SYMBOL = -1121


@dataclass(frozen=True)
class BinanceSettings:
    """Where and how to fetch. ``backoff_base`` seconds doubles per retry (``retries`` at most);
    a ``Retry-After`` is honoured up to ``max_wait`` seconds."""

    data_url: str = DEFAULT_DATA_URL
    api_url: str = DEFAULT_API_URL
    retries: int = 5
    backoff_base: float = 1.0
    max_wait: float = 60.0
    timeout: float = 30.0

    def __post_init__(self) -> None:
        for name in ("data_url", "api_url"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"binance {name.replace('_', '-')} {url!r} is not an http(s) URL")
            object.__setattr__(self, name, url.rstrip("/"))
        if self.retries < 0 or self.backoff_base < 0 or self.max_wait < 0 or self.timeout <= 0:
            raise ConfigError("binance retries, backoff, max wait must be >= 0 and timeout > 0")

    @classmethod
    def from_env(cls, data_url: str | None = None, api_url: str | None = None,
                 **options: Any) -> BinanceSettings:
        """Settings from explicit values, else the environment variables
        ``ALPHAPULSE_BINANCE_DATA_URL`` / ``ALPHAPULSE_BINANCE_API_URL``, else Binance's defaults."""
        return cls(data_url=data_url or os.environ.get(DATA_URL_ENV) or DEFAULT_DATA_URL,
                   api_url=api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL, **options)


@dataclass
class TransferCounts:
    """What a client fetched: archives downloaded, archives served from the cache, REST pages."""

    downloaded: int = 0
    cached: int = 0
    rest_pages: int = 0
    retries: int = 0


def archive_path(kind: str, symbol: str, interval: str, stamp: str) -> str:
    """URL path of a kline archive: ``kind`` is ``monthly`` (stamp YYYY-MM) or ``daily`` (YYYY-MM-DD)."""
    return f"data/spot/{kind}/klines/{symbol}/{interval}/{symbol}-{interval}-{stamp}.zip"


class BinanceClient:
    """A small client for Binance's public data; use as a context manager."""

    def __init__(self, settings: BinanceSettings, cache_dir: str | Path,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.cache_dir = Path(cache_dir)
        self.counts = TransferCounts()
        self._sleep = sleep
        self._http = httpx.Client(timeout=settings.timeout, follow_redirects=True,
                                  headers={"User-Agent": "alphapulse-data"})

    def __enter__(self) -> BinanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- HTTP with retries -------------------------------------------------------------------
    def _get(self, url: str, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """GET with retries; returns 2xx, 404 and 416 answers, raises :class:`DownloadError` otherwise."""
        s = self.settings
        last = ""
        for attempt in range(s.retries + 1):
            try:
                response = self._http.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                wait = s.backoff_base * 2**attempt
            else:
                if response.status_code < 300 or response.status_code in (404, 416):
                    return response
                last = f"HTTP {response.status_code} {response.text[:200].strip()}"
                if response.status_code in (429, 418):
                    wait = _retry_after(response, s.backoff_base * 2**attempt)
                elif response.status_code >= 500:
                    wait = s.backoff_base * 2**attempt
                else:
                    if _error_code(response) == INVALID_SYMBOL:
                        symbol = (params or {}).get("symbol", "?")
                        raise DownloadError(f"{response.request.url}: Binance does not know the symbol "
                                            f"{symbol}; check its spelling (e.g. BTCUSDT)")
                    raise DownloadError(f"{response.request.url}: {last}; check the symbol, interval "
                                        "and base URL (--data-url/--api-url)")
            if attempt == s.retries:
                break
            self.counts.retries += 1
            self._sleep(min(wait, s.max_wait))
        raise DownloadError(f"{url}: gave up after {s.retries + 1} attempts ({last}); try again later")

    # -- archives ----------------------------------------------------------------------------
    def archive(self, kind: str, symbol: str, interval: str, stamp: str) -> Path | None:
        """The verified local copy of a kline archive, downloading it if needed; None if the
        archive does not exist (HTTP 404, e.g. a month not published yet)."""
        rel = archive_path(kind, symbol, interval, stamp)
        target = self.cache_dir / rel
        if target.exists():
            self.counts.cached += 1
            return target
        url = f"{self.settings.data_url}/{rel}"
        answer = self._get(url + ".CHECKSUM")
        if answer.status_code == 404:
            return None
        expected = _checksum_digest(answer.text, url + ".CHECKSUM")
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        self._fetch_resumable(url, part)
        if part.stat().st_size == 0:  # the archive vanished (404) between the two requests
            part.unlink()
            return None
        digest = _sha256(part)
        if digest != expected:
            part.unlink()
            raise DownloadError(f"{url}: checksum mismatch (sha256 {digest}, the .CHECKSUM file says "
                                f"{expected}); the file was removed, run the download again")
        try:
            with zipfile.ZipFile(part) as archive:
                broken = archive.testzip()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            part.unlink()
            raise DownloadError(f"{url}: corrupt archive ({exc}); the file was removed, run the download "
                                "again") from exc
        if broken is not None:
            part.unlink()
            raise DownloadError(f"{url}: corrupt member {broken} in the archive; run the download again")
        os.replace(part, target)
        self.counts.downloaded += 1
        return target

    def _fetch_resumable(self, url: str, part: Path) -> None:
        """Download ``url`` into ``part``, continuing a previous partial download when possible."""
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else None
        response = self._get(url, headers=headers)
        if response.status_code == 404:
            part.write_bytes(b"")
            return
        if response.status_code == 416:  # nothing left to fetch: the checksum tells if the part is whole
            return
        if response.status_code == 206 and have:
            with part.open("ab") as out:
                out.write(response.content)
        else:
            part.write_bytes(response.content)

    # -- REST ----------------------------------------------------------------------------------
    def rest_klines(self, symbol: str, interval: str, start_ms: int, end_ms: int, period: int) -> Bars:
        """Klines whose open time lies in ``[start_ms, end_ms)``, paged 1000 at a time."""
        url = f"{self.settings.api_url}/api/v3/klines"
        pages: list[Bars] = []
        cursor = start_ms
        max_pages = (end_ms - start_ms) // (period * 1000 * REST_PAGE) + 2
        for _ in range(max_pages):
            if cursor >= end_ms:
                break
            params = {"symbol": symbol, "interval": interval, "startTime": cursor, "endTime": end_ms - 1,
                      "limit": REST_PAGE}
            response = self._get(url, params=params)
            self.counts.rest_pages += 1
            if response.status_code == 404:
                raise DownloadError(f"{response.request.url}: HTTP 404; check --api-url")
            try:
                answer = response.json()
            except ValueError as exc:
                raise DownloadError(f"{response.request.url}: the answer is not JSON ({exc}); "
                                    "check --api-url") from exc
            page = parse_rest_klines(answer, str(response.request.url), period)
            if len(page) == 0:
                break
            pages.append(page)
            cursor = int(page.time[-1]) // 1_000_000 + period * 1000
            if len(page) < REST_PAGE:
                break
        return concat_bars(pages, period=period, symbol=symbol)

    def exchange_info(self, symbol: str) -> dict[str, Any] | None:
        """The ``exchangeInfo`` entry of ``symbol``; None when the API cannot be reached."""
        url = f"{self.settings.api_url}/api/v3/exchangeInfo"
        try:
            response = self._get(url, params={"symbol": symbol})
            info = response.json() if response.status_code == 200 else None
        except (DownloadError, ValueError):
            return None
        symbols = info.get("symbols") if isinstance(info, dict) else None
        if not symbols or not isinstance(symbols[0], dict):
            return None
        return symbols[0]

    def symbol_exists(self, symbol: str) -> bool:
        """False when the REST API says the symbol is invalid (Binance error -1121)."""
        url = f"{self.settings.api_url}/api/v3/klines"
        try:
            response = self._http.get(url, params={"symbol": symbol, "interval": "1d", "limit": 1})
        except httpx.HTTPError:
            return True  # cannot tell: let the caller's own error stand
        return not (response.status_code == 400 and _error_code(response) == INVALID_SYMBOL)


def _error_code(response: httpx.Response) -> int | None:
    """The ``code`` of a Binance JSON error answer, if it is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _retry_after(response: httpx.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else fallback
    except ValueError:
        return fallback


def _checksum_digest(text: str, url: str) -> str:
    digest = text.strip().split()[0].lower() if text.strip() else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise DownloadError(f"{url}: not a sha256 checksum file ({text[:80]!r}); check --data-url")
    return digest


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
