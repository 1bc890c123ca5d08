"""A small recording double of the Lean API the AlphaPulse algorithms use (test-only code).

``install()`` puts a fake ``AlgorithmImports`` module into ``sys.modules`` so an algorithm's real
``main.py`` can be imported and its real handlers run outside Lean. The double records every order
the algorithm submits and acts as a broker the way Lean's backtesting brokerage does:

* order checks of the brokerage model set with ``set_brokerage_model``: Lean's Binance and Coinbase
  models refuse stop-market orders on spot crypto; a cash account reserves the holding for open sell
  orders (a second resting sell of the same holding is refused, as Lean's ``CashBuyingPowerModel``
  does); an entry costing more than the buying power (cash x leverage) is refused. A refused order gets
  an ``Invalid`` order event;
* market orders fill at the current bar's close when submitted; resting orders are evaluated on every
  bar after the one they were placed on, in order-id order, through the security's fill model
  (``security.set_fill_model``), else through this module's :class:`FillModel`, which follows Lean's
  base model (a sell stop triggers when the low is strictly below the stop and fills at
  ``min(stop, close)``; a sell limit fills when the high is strictly above the limit, at
  ``max(low, limit)``; buys mirrored). Fill events reach ``on_order_event`` synchronously, before the
  next order is evaluated; a cancelled order gets a ``Canceled`` event;
* ``partial_fills = n`` reports each market order as n partial fills (the whole fee with the first);
  ``events_from_thread = True`` reports a market order's events from another thread before the
  ticket returns (as Lean live).

Fees come from the test (the runner's fee model for the market), charged in the quote currency.
Consolidation is by whole periods of the bars fed (only the identity consolidation).
"""

from __future__ import annotations

import enum
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alphapulse.bars import Bars


class Resolution(enum.Enum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class Market:
    BINANCE = "binance"
    COINBASE = "coinbase"
    BYBIT = "bybit"
    KRAKEN = "kraken"
    BITFINEX = "bitfinex"
    USA = "usa"


class BrokerageName(enum.Enum):
    DEFAULT = 0
    BINANCE = 1
    COINBASE = 2
    BYBIT = 3
    KRAKEN = 4
    BITFINEX = 5


class AccountType(enum.Enum):
    CASH = 0
    MARGIN = 1


class OrderStatus(enum.Enum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7


class OrderDirection(enum.Enum):
    BUY = 0
    SELL = 1


@dataclass
class TradeBar:
    time: datetime
    end_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass
class CashAmount:
    amount: float
    currency: str


@dataclass
class OrderFee:
    value: CashAmount


@dataclass
class OrderEvent:
    order_id: int
    status: OrderStatus
    fill_quantity: float
    fill_price: float
    utc_time: datetime
    order_fee: OrderFee
    message: str = ""


@dataclass
class RecordedOrder:
    """What the algorithm submitted (time = algorithm UTC time at submission)."""

    order_id: int
    time: datetime
    symbol: str
    type: str
    quantity: float
    stop_price: float | None
    limit_price: float | None
    tag: str
    status: str = "submitted"


class LeanOrderView:
    """An order as Lean hands it to a fill model: ``time`` naive UTC, ``status`` an OrderStatus."""

    def __init__(self, order: RecordedOrder) -> None:
        self._order = order
        self.id = order.order_id
        self.time = order.time.astimezone(UTC).replace(tzinfo=None)
        self.quantity = order.quantity
        self.stop_price = order.stop_price
        self.limit_price = order.limit_price
        self.tag = order.tag
        self.direction = OrderDirection.BUY if order.quantity > 0 else OrderDirection.SELL
        self.status = {"submitted": OrderStatus.SUBMITTED, "filled": OrderStatus.FILLED,
                       "canceled": OrderStatus.CANCELED, "invalid": OrderStatus.INVALID}[order.status]


@dataclass
class Prices:
    time: datetime
    end_time: datetime
    current: float
    open: float
    high: float
    low: float
    close: float


class FillModel:
    """Lean's base fill model for stop-market and limit orders on trade bars (see the module doc)."""

    def __init__(self) -> None:
        pass

    def get_prices(self, asset: Security, direction: OrderDirection) -> Prices:
        bar = asset.bar
        assert bar is not None
        return Prices(bar.time, bar.end_time, bar.close, bar.open, bar.high, bar.low, bar.close)

    def is_exchange_open(self, asset: Security, is_extended_market_hours: bool) -> bool:
        return asset.bar is not None

    def _event(self, asset: Security, order: LeanOrderView) -> OrderEvent:
        return OrderEvent(order.id, order.status, 0.0, 0.0, asset.utc_time, OrderFee(CashAmount(0.0, "USD")))

    def _fresh(self, asset: Security, order: LeanOrderView) -> Prices | None:
        if order.status == OrderStatus.CANCELED or not self.is_exchange_open(asset, False):
            return None
        prices = self.get_prices(asset, order.direction)
        end = prices.end_time.replace(tzinfo=asset.zone).astimezone(UTC).replace(tzinfo=None)
        return None if end <= order.time else prices

    def stop_market_fill(self, asset: Security, order: LeanOrderView) -> OrderEvent:
        fill = self._event(asset, order)
        prices = self._fresh(asset, order)
        stop = float(order.stop_price or 0)
        if prices is not None and (prices.low < stop if order.quantity < 0 else prices.high > stop):
            fill.status = OrderStatus.FILLED
            fill.fill_price = min(stop, prices.current) if order.quantity < 0 else max(stop, prices.current)
            fill.fill_quantity = order.quantity
        return fill

    def limit_fill(self, asset: Security, order: LeanOrderView) -> OrderEvent:
        fill = self._event(asset, order)
        prices = self._fresh(asset, order)
        limit = float(order.limit_price or 0)
        if prices is not None and (prices.high > limit if order.quantity < 0 else prices.low < limit):
            fill.status = OrderStatus.FILLED
            fill.fill_price = max(prices.low, limit) if order.quantity < 0 else min(prices.high, limit)
            fill.fill_quantity = order.quantity
        return fill


def _fee_model(name: str) -> type:
    return type(name, (), {"__doc__": f"Stands for Lean's {name} (the test's fee function charges it)."})


BinanceFeeModel = _fee_model("BinanceFeeModel")
BybitFeeModel = _fee_model("BybitFeeModel")
CoinbaseFeeModel = _fee_model("CoinbaseFeeModel")
KrakenFeeModel = _fee_model("KrakenFeeModel")
BitfinexFeeModel = _fee_model("BitfinexFeeModel")
InteractiveBrokersFeeModel = _fee_model("InteractiveBrokersFeeModel")


class OrderTicket:
    def __init__(self, algorithm: QCAlgorithm, order: RecordedOrder) -> None:
        self._algorithm = algorithm
        self.order = order
        self.order_id = order.order_id

    def cancel(self, tag: str | None = None) -> None:
        if self.order.status == "submitted":
            self.order.status = "canceled"
            self._algorithm._emit(self.order, OrderStatus.CANCELED, 0.0, 0.0)


@dataclass
class SymbolPropertiesDouble:
    quote_currency: str
    lot_size: float
    minimum_order_size: float
    minimum_price_variation: float


@dataclass
class Security:
    symbol: str
    symbol_properties: SymbolPropertiesDouble
    price: float = 0.0
    crypto: bool = True
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    bar: TradeBar | None = None  # the last bar (exchange-local times), what Lean's cache holds
    utc_time: datetime = datetime(1970, 1, 1)
    holdings: Holding | None = None
    fee_model: Any = None
    fill_model: Any = None
    leverage: float | None = None

    def set_fee_model(self, model: Any) -> None:
        self.fee_model = model

    def set_fill_model(self, model: Any) -> None:
        self.fill_model = model

    def set_leverage(self, leverage: float) -> None:
        self.leverage = float(leverage)


@dataclass
class Holding:
    quantity: float = 0.0


class Portfolio:
    def __init__(self, algorithm: QCAlgorithm) -> None:
        self._algorithm = algorithm
        self.cash = 0.0
        self.holdings: dict[str, Holding] = {}

    def __getitem__(self, symbol: str) -> Holding:
        return self.holdings.setdefault(symbol, Holding())

    @property
    def total_portfolio_value(self) -> float:
        prices = {s: sec.price for s, sec in self._algorithm.securities.items()}
        return self.cash + sum(h.quantity * prices[s] for s, h in self.holdings.items())


class ObjectStore:
    """Texts saved by the algorithm (``saved``) and files placed by the test under ``files``."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self.files: dict[str, Path] = {}

    def save(self, key: str, text: str) -> bool:
        self.saved[key] = text
        return True

    def read(self, key: str) -> str:
        return self.saved[key]

    def contains_key(self, key: str) -> bool:
        return key in self.saved or key in self.files

    def get_file_path(self, key: str) -> str:
        return str(self.files[key])


@dataclass
class Consolidation:
    symbol: str
    period: timedelta
    handler: Callable[[TradeBar], None]
    working: TradeBar | None = None


class SubscriptionTransportMedium(enum.Enum):
    LOCAL_FILE = 0
    REMOTE_FILE = 1
    REST = 2


class FileFormat(enum.Enum):
    CSV = 0


@dataclass
class SubscriptionDataSource:
    source: str
    transport_medium: SubscriptionTransportMedium = SubscriptionTransportMedium.LOCAL_FILE
    format: FileFormat = FileFormat.CSV
    headers: dict[str, str] | None = None


@dataclass
class SubscriptionDataConfig:
    symbol: str


class BaseData:
    pass


class PythonData(BaseData):
    """Custom data: ``time``, ``end_time``, ``value``, ``symbol`` and dynamic properties by key."""

    def __init__(self) -> None:
        self.symbol = ""
        self.time = datetime(1970, 1, 1)
        self.end_time = self.time
        self.value = 0.0
        self._properties: dict[str, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self._properties[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._properties[key]


class Slice(dict):
    def contains_key(self, symbol: str) -> bool:
        return symbol in self


@dataclass
class CustomSubscription:
    cls: type
    symbol: str
    time_zone: str = "America/New_York"


class TimeZones:
    UTC = "UTC"
    NEW_YORK = "America/New_York"


class QCAlgorithm:
    """The members of Lean's QCAlgorithm the AlphaPulse algorithms use, recording what they do."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}
        self.object_store = ObjectStore()
        self.portfolio = Portfolio(self)
        self.securities: dict[str, Security] = {}
        self.orders: list[RecordedOrder] = []
        self.logs: list[str] = []
        self.errors: list[str] = []
        self.live_mode = False
        self.is_warming_up = False
        self.start_date: date | None = None
        self.end_date: date | None = None
        self.warm_up: timedelta = timedelta(0)
        self.time_zone = "America/New_York"
        self.account_currency = "USD"
        self.brokerage: tuple[Any, Any] | None = None
        self.benchmark: str | None = None
        self.consolidations: list[Consolidation] = []
        self.utc_time = datetime(1970, 1, 1, tzinfo=UTC)
        self.symbol_properties: dict[str, SymbolPropertiesDouble] = {}
        self.fee: Callable[[float, float, str], float] = lambda quantity, price, kind: 0.0
        self._open: list[tuple[RecordedOrder, OrderTicket]] = []
        self.custom: list[CustomSubscription] = []
        #: order types refused on top of the brokerage model's rules (a live brokerage's own refusals)
        self.rejected_order_types: set[str] = set()
        #: report each market order as this many partial fills
        self.partial_fills = 1
        #: report a market order's events from another thread before its ticket returns
        self.events_from_thread = False
        self.sources: list[SubscriptionDataSource] = []
        self._next_id = 1

    # -- set-up ----------------------------------------------------------------------------------
    def get_parameter(self, name: str, default: str = "") -> str:
        return self.parameters.get(name, default)

    def set_start_date(self, year: int, month: int, day: int) -> None:
        self.start_date = date(year, month, day)

    def set_end_date(self, year: int, month: int, day: int) -> None:
        self.end_date = date(year, month, day)

    def set_cash(self, cash: float) -> None:
        self.portfolio.cash = float(cash)

    def set_time_zone(self, zone: str) -> None:
        self.time_zone = zone

    def set_account_currency(self, currency: str) -> None:
        self.account_currency = currency

    def set_brokerage_model(self, name: Any, account_type: Any) -> None:
        self.brokerage = (name, account_type)

    def set_warm_up(self, period: timedelta) -> None:
        self.warm_up = period

    def set_benchmark(self, symbol: str) -> None:
        self.benchmark = symbol

    def _add(self, ticker: str, *, crypto: bool) -> Security:
        props = self.symbol_properties.get(ticker, SymbolPropertiesDouble("USD", 1e-8, 0.0, 0.01))
        security = Security(ticker, props, crypto=crypto, holdings=self.portfolio[ticker])
        self.securities[ticker] = security
        return security

    def add_crypto(self, ticker: str, resolution: Resolution, market: str) -> Security:
        return self._add(ticker, crypto=True)

    def add_equity(self, ticker: str, resolution: Resolution, market: str) -> Security:
        return self._add(ticker, crypto=False)

    def add_data(self, cls: type, ticker: str, resolution: Resolution, time_zone: str = TimeZones.NEW_YORK) -> Security:
        self.custom.append(CustomSubscription(cls, ticker, time_zone))
        return Security(ticker, SymbolPropertiesDouble("USD", 1.0, 0.0, 0.01))

    def on_data(self, slice: Slice) -> None:  # overridden by algorithms
        pass

    def _custom_events(self) -> list[tuple[datetime, str, Any]]:
        """Backtest custom data as Lean reads it: get_source, then reader() per line of the file."""
        events = []
        for sub in self.custom:
            instance = sub.cls()
            config = SubscriptionDataConfig(sub.symbol)
            source = instance.get_source(config, datetime(2000, 1, 1), self.live_mode)
            self.sources.append(source)
            assert source.transport_medium == SubscriptionTransportMedium.LOCAL_FILE
            for line in Path(source.source).read_text().splitlines():
                data = instance.reader(config, line, datetime(2000, 1, 1), self.live_mode)
                if data is not None:  # custom data times are in the subscription's time zone
                    events.append((data.end_time.replace(tzinfo=ZoneInfo(sub.time_zone)).astimezone(UTC),
                                   sub.symbol, data))
        return sorted(events, key=lambda e: e[0])

    def consolidate(self, symbol: str, period: timedelta, handler: Callable[[TradeBar], None]) -> None:
        self.consolidations.append(Consolidation(symbol, period, handler))

    def log(self, message: str) -> None:
        self.logs.append(message)

    def error(self, message: str) -> None:
        self.errors.append(message)

    # -- orders ----------------------------------------------------------------------------------
    def _refusal(self, security: Security, kind: str, quantity: float) -> str | None:
        """Why the brokerage model refuses this order (None: accepted)."""
        name, account = self.brokerage or (BrokerageName.DEFAULT, AccountType.MARGIN)
        if kind in self.rejected_order_types:
            return f"{kind} orders are not supported"
        if kind == "stop_market" and security.crypto and name in (BrokerageName.BINANCE, BrokerageName.COINBASE):
            return f"{name.name} does not support StopMarket orders for spot crypto"
        holding = self.portfolio[security.symbol].quantity
        if quantity < 0 and security.crypto and account == AccountType.CASH:
            reserved = sum(-o.quantity for o, _t in self._open
                           if o.symbol == security.symbol and o.quantity < 0 and o.status == "submitted")
            if -quantity > holding - reserved + 1e-12:
                return (f"Insufficient buying power: your portfolio holds {holding} {security.symbol}, {reserved} of "
                        "which are reserved for open orders")
        if quantity > 0 and kind == "market":
            leverage = security.leverage or (1.0 if account == AccountType.CASH else 2.0)
            cost = quantity * security.price + self.fee(abs(quantity), security.price, kind)
            if cost > self.portfolio.cash * leverage + 1e-9:
                return "Insufficient buying power"
        return None

    def _submit(self, symbol: str, kind: str, quantity: float, stop: float | None, limit: float | None,
                tag: str) -> OrderTicket:
        order = RecordedOrder(self._next_id, self.utc_time, symbol, kind, quantity, stop, limit, tag)
        self._next_id += 1
        self.orders.append(order)
        ticket = OrderTicket(self, order)
        security = self.securities[symbol]
        refusal = self._refusal(security, kind, quantity)
        if refusal is not None:
            order.status = "invalid"
            self._report(lambda: self._emit(order, OrderStatus.INVALID, 0.0, 0.0, refusal))
        elif kind == "market":
            self._report(lambda: self._fill(order, security.price))
        else:
            self._open.append((order, ticket))
        return ticket

    def _report(self, events: Callable[[], None]) -> None:
        """Deliver an order's events now, or from another thread before the ticket returns."""
        if not self.events_from_thread:
            events()
            return
        thread = threading.Thread(target=events)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "on_order_event blocked while an order was being submitted"

    def market_order(self, symbol: str, quantity: float, tag: str = "") -> OrderTicket:
        return self._submit(symbol, "market", quantity, None, None, tag)

    def stop_market_order(self, symbol: str, quantity: float, stop_price: float, tag: str = "") -> OrderTicket:
        return self._submit(symbol, "stop_market", quantity, stop_price, None, tag)

    def limit_order(self, symbol: str, quantity: float, limit_price: float, tag: str = "") -> OrderTicket:
        return self._submit(symbol, "limit", quantity, None, limit_price, tag)

    def _emit(self, order: RecordedOrder, status: OrderStatus, quantity: float, price: float,
              message: str = "", fee: float = 0.0) -> None:
        self.on_order_event(OrderEvent(order.order_id, status, quantity, price, self.utc_time.replace(tzinfo=None),
                                       OrderFee(CashAmount(fee, "USD")), message))

    def _fill(self, order: RecordedOrder, price: float) -> None:
        parts = self.partial_fills if order.type == "market" else 1
        done = 0.0
        for k in range(parts):
            quantity = order.quantity - done if k == parts - 1 else round(order.quantity / parts, 12)
            done += quantity
            # Lean charges an order's whole fee with its first fill
            fee = self.fee(abs(order.quantity), price, order.type) if k == 0 else 0.0
            self.portfolio.cash -= quantity * price + fee
            self.portfolio[order.symbol].quantity = round(self.portfolio[order.symbol].quantity + quantity, 12)
            final = k == parts - 1
            if final:
                order.status = "filled"
            self._emit(order, OrderStatus.FILLED if final else OrderStatus.PARTIALLY_FILLED, quantity, price,
                       fee=fee)

    def on_order_event(self, order_event: OrderEvent) -> None:  # overridden by algorithms
        pass

    def _evaluate_open_orders(self, symbol: str) -> None:
        """Lean's backtesting brokerage scan: each open order of the symbol, in id order, through the
        security's fill model; a fill is reported (and may cancel a later order) before the next."""
        security = self.securities[symbol]
        model = security.fill_model or FillModel()
        for order, _ticket in sorted(self._open, key=lambda ot: ot[0].order_id):
            if order.symbol != symbol or order.status != "submitted":
                continue
            view = LeanOrderView(order)
            event = (model.stop_market_fill(security, view) if order.type == "stop_market"
                     else model.limit_fill(security, view))
            if event.status == OrderStatus.FILLED:
                assert event.fill_quantity == order.quantity, "the double fills resting orders whole"
                self._fill(order, float(event.fill_price))
        self._open = [(o, t) for o, t in self._open if o.status == "submitted"]

    # -- replay ----------------------------------------------------------------------------------
    def replay(self, bars_by_symbol: dict[str, Bars], zone: str = "UTC") -> None:
        """Feed bars (all symbols merged by time) through brokers, prices and consolidators."""
        assert self.start_date is not None
        tz = ZoneInfo(zone)
        start = datetime(self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=tz)
        warm_from = start - self.warm_up
        events: list[tuple[int, str, int]] = sorted(
            (int(t), symbol, i) for symbol, bars in bars_by_symbol.items() for i, t in enumerate(bars.time))
        custom = self._custom_events()
        for _t, symbol, i in events:
            bars = bars_by_symbol[symbol]
            begin = datetime.fromtimestamp(int(bars.time[i]) / 1e9, tz=UTC)
            end = begin + timedelta(seconds=bars.period)
            if begin.astimezone(tz) < warm_from:
                continue
            if self.end_date is not None and begin.astimezone(tz).date() > self.end_date:
                break
            local_begin = begin.astimezone(tz).replace(tzinfo=None)
            bar = TradeBar(local_begin, local_begin + timedelta(seconds=bars.period), float(bars.open[i]),
                           float(bars.high[i]), float(bars.low[i]), float(bars.close[i]), float(bars.volume[i]))
            while custom and custom[0][0] < end:  # custom data known before this bar closes
                moment, custom_symbol, data = custom.pop(0)
                self.utc_time = moment
                self.on_data(Slice({custom_symbol: data}))
            self.utc_time = end
            self.is_warming_up = end.astimezone(tz) <= start
            security = self.securities[symbol]
            security.bar, security.zone, security.utc_time = bar, tz, end.replace(tzinfo=None)
            security.price = bar.close
            if not self.is_warming_up:
                self._evaluate_open_orders(symbol)
            for consolidation in self.consolidations:
                if consolidation.symbol == symbol:
                    _consolidate(consolidation, bar)


def _consolidate(consolidation: Consolidation, bar: TradeBar) -> None:
    bar_length = bar.end_time - bar.time
    if consolidation.period == bar_length:
        consolidation.handler(bar)
        return
    raise NotImplementedError("the double feeds bars at the consolidation period only")


def install() -> types.ModuleType:
    """Register the fake ``AlgorithmImports`` module and return it."""
    module = types.ModuleType("AlgorithmImports")
    for name, value in {
        "QCAlgorithm": QCAlgorithm, "Resolution": Resolution, "Market": Market, "BrokerageName": BrokerageName,
        "FillModel": FillModel, "Prices": Prices, "LimitOrder": LeanOrderView, "StopMarketOrder": LeanOrderView,
        "OrderDirection": OrderDirection, "BinanceFeeModel": BinanceFeeModel, "BybitFeeModel": BybitFeeModel,
        "CoinbaseFeeModel": CoinbaseFeeModel, "KrakenFeeModel": KrakenFeeModel, "BitfinexFeeModel": BitfinexFeeModel,
        "InteractiveBrokersFeeModel": InteractiveBrokersFeeModel, "Security": Security,
        "AccountType": AccountType, "OrderStatus": OrderStatus, "OrderEvent": OrderEvent, "TradeBar": TradeBar,
        "OrderTicket": OrderTicket, "PythonData": PythonData, "BaseData": BaseData, "Slice": Slice,
        "SubscriptionDataSource": SubscriptionDataSource, "SubscriptionDataConfig": SubscriptionDataConfig,
        "SubscriptionTransportMedium": SubscriptionTransportMedium, "FileFormat": FileFormat,
        "TimeZones": TimeZones,
    }.items():
        setattr(module, name, value)
    module.__all__ = [n for n in dir(module) if not n.startswith("_")]  # type: ignore[attr-defined]
    sys.modules["AlgorithmImports"] = module
    return module


def load_algorithm(main_py: Path) -> type:
    """Import an algorithm's ``main.py`` (with the double installed) and return its algorithm class."""
    install()
    name = f"algorithm_{main_py.parent.name}"
    spec = importlib.util.spec_from_file_location(name, main_py)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, QCAlgorithm) and v is not QCAlgorithm]
    assert len(classes) == 1, f"{main_py}: expected one QCAlgorithm subclass, found {classes}"
    return classes[0]


def run_algorithm(main_py: Path, parameters: dict[str, str], bars_by_symbol: dict[str, Bars],
                  *, properties: dict[str, SymbolPropertiesDouble] | None = None,
                  fee: Callable[[float, float, str], float] | None = None, zone: str = "UTC",
                  object_store_files: dict[str, Path] | None = None,
                  configure: Callable[[QCAlgorithm], None] | None = None) -> QCAlgorithm:
    """Create the algorithm, run ``initialize`` and replay the bars; returns the recorded double.
    ``configure`` sees the double before ``initialize`` (to set partial fills, a brokerage, ...)."""
    cls = load_algorithm(main_py)
    algorithm = cls()
    if configure is not None:
        configure(algorithm)
    algorithm.object_store.files.update(object_store_files or {})
    algorithm.parameters = dict(parameters)
    algorithm.symbol_properties = dict(properties or {})
    if fee is not None:
        algorithm.fee = fee
    algorithm.initialize()
    algorithm.replay(bars_by_symbol, zone)
    algorithm.on_end_of_algorithm()
    return algorithm


__all__ = ["QCAlgorithm", "RecordedOrder", "SymbolPropertiesDouble", "install", "load_algorithm", "run_algorithm"]
