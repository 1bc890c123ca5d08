"""A loopback stand-in for Binance's public data site and REST API, and builders of its formats.

Archives, CHECKSUM files and REST pages are built in the tests from real candles in
``../shared/data``, in Binance's exact formats: 12-column kline CSV rows (``open_time`` in ms, or
in µs like the archives published since 2025), zips holding one CSV, ``<sha256>  <name>`` checksum
files, JSON pages of at most 1000 klines, HTTP 429 with ``Retry-After``, ``-1121`` for an unknown
symbol, and range requests for resumed downloads.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from alphapulse.bars import Bars

#: Binance's exchangeInfo entry for BTCUSDT (the fields the tools read, as Binance publishes them)
BTC_RULES = {"symbol": "BTCUSDT", "quoteAsset": "USDT", "filters": [
    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
     "tickSize": "0.01000000"},
    {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True}]}


def kline_fields(bars: Bars, period: int, micro: bool = False) -> list[list[Any]]:
    """Kline rows ``[open_time, open, high, low, close, volume, close_time, quote_volume, trades,
    taker_base, taker_quote, ignore]`` with prices as Binance prints them (8 decimals)."""
    unit = 1_000 if micro else 1
    rows = []
    columns = (bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume)
    for t, o, h, lo, c, v in zip(*(col.tolist() for col in columns), strict=True):
        open_time = t // 1_000_000 * unit
        close_time = open_time + period * 1000 * unit - 1
        rows.append([open_time, f"{o:.8f}", f"{h:.8f}", f"{lo:.8f}", f"{c:.8f}", f"{v:.8f}", close_time,
                     f"{v * c:.8f}", max(1, int(v) % 997), f"{v / 2:.8f}", f"{v * c / 2:.8f}", "0"])
    return rows


def kline_csv(bars: Bars, period: int, micro: bool = False) -> str:
    """The CSV text of a Binance kline archive (no header, ``\\n`` line ends)."""
    return "".join(",".join(str(x) for x in row) + "\n" for row in kline_fields(bars, period, micro))


def served_bars(bars: Bars, period: int) -> Bars:
    """``bars`` as they read back from the served text (prices rounded to 8 decimals)."""
    def cut(col: np.ndarray) -> np.ndarray:
        return np.array([float(f"{x:.8f}") for x in col.tolist()])

    return Bars(bars.time, cut(bars.open), cut(bars.high), cut(bars.low), cut(bars.close), cut(bars.volume),
                period=period)


def zip_bytes(member: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


def checksum_text(data: bytes, name: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n"


@dataclass
class BinanceDouble:
    """What the server serves and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    klines: dict[tuple[str, str], list[list[Any]]] = field(default_factory=dict)
    exchange: dict[str, dict[str, Any]] = field(default_factory=dict)
    throttle: dict[str, int] = field(default_factory=dict)
    throttle_status: int = 429  # 418 is Binance's answer to a client that ignored its 429s
    broken: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    range_requests: list[str] = field(default_factory=list)
    url: str = ""

    def add_archive(self, kind: str, symbol: str, interval: str, stamp: str, text: str, *,
                    checksum: str | None = None, data: bytes | None = None) -> str:
        """Serve an archive and its CHECKSUM; returns its URL path."""
        name = f"{symbol}-{interval}-{stamp}"
        path = f"/data/spot/{kind}/klines/{symbol}/{interval}/{name}.zip"
        data = zip_bytes(f"{name}.csv", text) if data is None else data
        self.files[path] = data
        self.files[path + ".CHECKSUM"] = (checksum or checksum_text(data, f"{name}.zip")).encode()
        return path

    def requests_to(self, prefix: str) -> list[str]:
        return [p for p in self.log if p.startswith(prefix)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/octet-stream",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def do_GET(self) -> None:
        double = self.server.double
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        double.log.append(self.path)
        if double.throttle.get(path, 0) > 0:
            double.throttle[path] -= 1
            self._send(double.throttle_status, b'{"code":-1003,"msg":"Too many requests"}', "application/json",
                       {"Retry-After": "0"})
            return
        if path in double.broken:
            self._send(double.broken[path], b"server trouble", "text/plain")
            return
        if path == "/api/v3/klines":
            self._klines(double, query)
        elif path == "/api/v3/exchangeInfo":
            info = double.exchange.get(query.get("symbol", ""))
            if info is None:
                self._json(400, {"code": -1121, "msg": "Invalid symbol."})
            else:
                self._json(200, {"timezone": "UTC", "symbols": [info]})
        elif path in double.files:
            data = double.files[path]
            wanted = self.headers.get("Range")
            if wanted and wanted.startswith("bytes="):
                double.range_requests.append(path)
                first = int(wanted[6:].split("-")[0])
                if first >= len(data):
                    self._send(416, b"", headers={"Content-Range": f"bytes */{len(data)}"})
                    return
                self._send(206, data[first:], headers={
                    "Content-Range": f"bytes {first}-{len(data) - 1}/{len(data)}"})
            else:
                self._send(200, data)
        else:
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")

    def _klines(self, double: BinanceDouble, query: dict[str, str]) -> None:
        key = (query.get("symbol", ""), query.get("interval", ""))
        if key not in double.klines:
            self._json(400, {"code": -1121, "msg": "Invalid symbol."})
            return
        start = int(query.get("startTime", 0))
        end = int(query.get("endTime", 2**62))
        limit = min(int(query.get("limit", 500)), 1000)
        rows = [r for r in double.klines[key] if start <= r[0] <= end][:limit]
        self._json(200, rows)


class _Server(ThreadingHTTPServer):
    double: BinanceDouble


@contextmanager
def serving(double: BinanceDouble) -> Iterator[BinanceDouble]:
    """Serve ``double`` on 127.0.0.1 (random port, ``double.url``) until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.double = double
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
