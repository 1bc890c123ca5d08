"""The database entries Lean needs for a Binance symbol, generated from the exchange's rules.

* ``symbol-properties/symbol-properties-database.csv``: one row per symbol
  (market, symbol, type, description, quote currency, contract multiplier, minimum price variation,
  lot size, market ticker, minimum order size). Tick size, lot size and minimum notional come from
  Binance ``exchangeInfo`` (``PRICE_FILTER.tickSize``, ``LOT_SIZE.stepSize``,
  ``NOTIONAL``/``MIN_NOTIONAL.minNotional``) when reachable; otherwise the conservative
  :data:`DEFAULT_RULES` are used (the finest tick and lot Binance lists, and a minimum order of 10
  units of the quote currency, above Binance's usual 5-10).
* ``market-hours/market-hours-database.json``: the ``Crypto-binance-[*]`` entry (UTC, open 24/7).

Existing rows and entries are kept as they are; a file is rewritten atomically only when an entry
is added.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from alphapulse.errors import DataError

PROPERTIES_FILE = Path("symbol-properties") / "symbol-properties-database.csv"
MARKET_HOURS_FILE = Path("market-hours") / "market-hours-database.json"
PROPERTIES_HEADER = ("market,symbol,type,description,quote_currency,contract_multiplier,"
                     "minimum_price_variation,lot_size,market_ticker,minimum_order_size,price_magnifier,"
                     "strike_multiplier")
#: quote currencies recognised at the end of a symbol when exchangeInfo is unreachable, longest first
QUOTE_CURRENCIES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR",
                    "TRY", "BRL", "GBP", "AUD", "JPY", "USD")
#: tick size, lot size, minimum order size (quote units) used without exchangeInfo
DEFAULT_RULES = ("0.00000001", "0.00000001", "10")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@dataclass(frozen=True)
class SymbolProperties:
    """Trading rules of one symbol as Lean's symbol-properties row states them."""

    market: str
    symbol: str
    quote_currency: str
    minimum_price_variation: str
    lot_size: str
    minimum_order_size: str
    source: str  # "exchangeInfo" or "defaults"

    def row(self) -> str:
        return ",".join((self.market, self.symbol, "crypto", self.symbol, self.quote_currency, "1",
                         self.minimum_price_variation, self.lot_size, self.symbol, self.minimum_order_size))


def _plain(value: Any, what: str, symbol: str) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise DataError(f"exchangeInfo for {symbol}: {what} {value!r} is not a number") from exc
    if number <= 0:
        raise DataError(f"exchangeInfo for {symbol}: {what} {value!r} must be positive")
    return format(number.normalize(), "f")


def properties_from_exchange_info(info: dict[str, Any], market: str = "binance") -> SymbolProperties:
    """Symbol properties from a Binance ``exchangeInfo`` symbol entry."""
    symbol = str(info.get("symbol", "")).upper()
    filters = {f.get("filterType"): f for f in info.get("filters", []) if isinstance(f, dict)}
    price = filters.get("PRICE_FILTER", {}).get("tickSize")
    lot = filters.get("LOT_SIZE", {}).get("stepSize")
    notional = (filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}).get("minNotional")
    quote = info.get("quoteAsset")
    if not symbol or not quote or price is None or lot is None:
        raise DataError(f"exchangeInfo for {symbol or '?'}: missing symbol, quoteAsset, PRICE_FILTER or "
                        "LOT_SIZE")
    minimum = _plain(notional, "minNotional", symbol) if notional is not None else DEFAULT_RULES[2]
    return SymbolProperties(market, symbol, str(quote).upper(), _plain(price, "tickSize", symbol),
                            _plain(lot, "stepSize", symbol), minimum, "exchangeInfo")


def default_properties(symbol: str, market: str = "binance") -> SymbolProperties:
    """Conservative properties when exchangeInfo is unreachable (see :data:`DEFAULT_RULES`)."""
    symbol = symbol.upper()
    quote = next((q for q in QUOTE_CURRENCIES if symbol.endswith(q) and len(symbol) > len(q)), None)
    if quote is None:
        raise DataError(f"cannot tell the quote currency of {symbol} without Binance exchangeInfo; "
                        "make the API reachable (--api-url) or add its row to "
                        f"{PROPERTIES_FILE} by hand")
    tick, lot, minimum = DEFAULT_RULES
    return SymbolProperties(market, symbol, quote, tick, lot, minimum, "defaults")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def has_symbol_properties(data_dir: str | Path, market: str, symbol: str) -> bool:
    """Whether the symbol-properties database of ``data_dir`` has a row for market and symbol."""
    path = Path(data_dir) / PROPERTIES_FILE
    if not path.exists():
        return False
    prefix = f"{market},{symbol},".lower()
    return any(line.lower().startswith(prefix) for line in path.read_text(encoding="utf-8").splitlines())


def ensure_symbol_properties(data_dir: str | Path, properties: SymbolProperties) -> bool:
    """Add the symbol's row to the symbol-properties database unless the market and symbol already
    have one. Returns True when a row was added."""
    if has_symbol_properties(data_dir, properties.market, properties.symbol):
        return False
    path = Path(data_dir) / PROPERTIES_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else PROPERTIES_HEADER + "\n"
    if text and not text.endswith("\n"):
        text += "\n"
    _write_atomically(path, text + properties.row() + "\n")
    return True


def market_hours_entry() -> dict[str, Any]:
    """A crypto exchange open around the clock, every day, with UTC data and exchange time zones."""
    always = [{"start": "00:00:00", "end": "1.00:00:00", "state": "market"}]
    entry: dict[str, Any] = {"dataTimeZone": "UTC", "exchangeTimeZone": "UTC"}
    entry.update({day: [dict(session) for session in always] for day in WEEKDAYS})
    entry["holidays"] = []
    return entry


def ensure_market_hours(data_dir: str | Path, market: str = "binance") -> bool:
    """Add the ``Crypto-<market>-[*]`` entry to the market-hours database when missing.
    Returns True when it was added."""
    path = Path(data_dir) / MARKET_HOURS_FILE
    document: dict[str, Any] = {"entries": {}}
    if path.exists():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc}); fix or delete the file") from exc
        if not isinstance(document, dict) or not isinstance(document.get("entries"), dict):
            raise DataError(f"{path}: expected an object with an 'entries' object; fix or delete the file")
    key = f"Crypto-{market}-[*]"
    if key in document["entries"]:
        return False
    document["entries"][key] = market_hours_entry()
    _write_atomically(path, json.dumps(document, indent=2) + "\n")
    return True
