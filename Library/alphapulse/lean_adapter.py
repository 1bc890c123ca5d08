"""The Lean side of AlphaPulse: what every ``QCAlgorithm`` in ``algorithms/`` composes.

An algorithm's ``main.py`` stays a few lines: it builds a :class:`LeanStrategyRunner` in
``initialize`` and forwards ``on_order_event`` and ``on_end_of_algorithm``. The runner

* reads the parameters (``config.json`` / ``get_parameter``): ``symbols`` (comma separated),
  ``market`` (binance, coinbase, ... or usa), ``start``/``end`` (YYYY-MM-DD), ``cash``, ``contracts``
  (the per-contract JSON file in the project folder), ``strategy`` (fixed per algorithm);
* validates everything before trading — a bad parameter raises :class:`ConfigError` from
  ``initialize``, which stops the algorithm with that message;
* subscribes each symbol at the Lean resolution of its timeframe and consolidates to the timeframe,
  warms up with ``set_warm_up`` (bars feed the strategies, nothing is ordered);
* sets every security up to execute like the local runner (:func:`set_up_execution`): Lean's
  default brokerage model on a margin account at leverage 1 (cash-like buying power that still
  accepts a resting stop and a resting target for the same holding), the market's own fee model
  (e.g. ``BinanceFeeModel``) and :class:`AlphaPulseFillModel` (the fill rules of
  :mod:`alphapulse.fills`);
* owns one :class:`SymbolData` per symbol (the consolidator's handler and the core's
  :class:`~alphapulse.trader.SymbolTrader`) and translates the trader's intents into
  ``market_order`` / ``stop_market_order`` / ``limit_order`` / ``ticket.cancel()``; order events
  that arrive before their ticket is known (a fill reported while the order is being submitted, or
  from the brokerage's thread in live mode) are kept and handled once it is;
* appends every signal and every fill, as the journal's JSON lines, to the ObjectStore under
  ``alphapulse/<algorithm>/signals.jsonl`` and ``.../fills.jsonl`` (saved once per bar and at the end).

Only this module and the algorithms touch Lean's API; it imports Lean's names from
``AlgorithmImports`` when an algorithm is created, so the rest of the core never depends on Lean.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from alphapulse.alerts import TradingViewFollower
from alphapulse.bars import Bar, to_ns
from alphapulse.config import ContractConfig, Contracts, load_contracts
from alphapulse.errors import AlphaPulseError, ConfigError
from alphapulse.fills import limit_fill, stop_fill
from alphapulse.intervals import interval_seconds, lean_resolution, warm_up_days
from alphapulse.journal import Fill, Signal
from alphapulse.lean_data import data_time_zone, security_type_of
from alphapulse.risk import NOTIONAL_MINIMUM_MARKETS, RiskBook, SymbolProperties
from alphapulse.strategies import STRATEGIES, create_strategy
from alphapulse.trader import OrderIntent, SymbolTrader

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent, OrderTicket, QCAlgorithm, Security, TradeBar

#: the account currency of each crypto market's quote assets used here
ACCOUNT_CURRENCY = {"binance": "USDT", "bybit": "USDT", "coinbase": "USD", "kraken": "USD", "bitfinex": "USD",
                    "usa": "USD"}
KNOWN_MARKETS = tuple(ACCOUNT_CURRENCY)
@dataclass(frozen=True)
class AlgorithmParameters:
    """The validated parameters of one AlphaPulse algorithm."""

    strategy: str
    symbols: tuple[str, ...]
    market: str
    start: date
    end: date | None
    cash: float
    contracts: Contracts

    def contract(self, symbol: str) -> ContractConfig:
        return self.contracts.for_symbol(symbol)


def parse_parameters(get: Any, *, strategy: str, project_dir: Path, default_symbols: str,
                     default_market: str = "binance", default_start: str = "2024-01-01",
                     default_end: str = "", default_cash: str = "100000",
                     default_contracts: str = "contracts.json") -> AlgorithmParameters:
    """Read and validate the parameters through ``get(name, default) -> str`` (``get_parameter``)."""
    if strategy not in STRATEGIES and strategy != TradingViewFollower.name:
        raise ConfigError(f"parameter strategy: unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    symbols = tuple(s.strip().upper() for s in str(get("symbols", default_symbols)).split(",") if s.strip())
    if not symbols:
        raise ConfigError("parameter symbols: give at least one symbol, e.g. BTCUSDT or BTCUSDT,ETHUSDT")
    market = str(get("market", default_market)).strip().lower()
    if market not in KNOWN_MARKETS:
        raise ConfigError(f"parameter market: unknown market {market!r}; use one of {', '.join(KNOWN_MARKETS)}")
    start = _date(get("start", default_start), "start")
    end_text = str(get("end", default_end)).strip()
    end = _date(end_text, "end") if end_text else None
    if end is not None and end < start:
        raise ConfigError(f"parameter end: {end} is before start {start}")
    try:
        cash = float(get("cash", default_cash))
    except (TypeError, ValueError):
        raise ConfigError(f"parameter cash: {get('cash', default_cash)!r} is not a number") from None
    if not cash > 0:
        raise ConfigError(f"parameter cash: {cash} must be positive")
    path = project_dir / str(get("contracts", default_contracts))
    if not path.is_file():
        raise ConfigError(f"parameter contracts: {path} does not exist; name the per-contract JSON file in the "
                          "project folder (see config/contracts.example.json)")
    contracts = load_contracts(path)
    for symbol in symbols:
        contract = contracts.for_symbol(symbol)
        if contract.strategy != strategy and symbol in contracts and strategy in STRATEGIES:
            raise ConfigError(f"{path}: {symbol}.strategy is {contract.strategy!r} but this algorithm runs "
                              f"{strategy!r}; remove the key or use the matching algorithm")
    return AlgorithmParameters(strategy, symbols, market, start, end, cash, contracts)


def _date(value: Any, name: str) -> date:
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"parameter {name}: {value!r} is not a date (YYYY-MM-DD)") from None


class JournalWriter:
    """Signals and fills as JSON lines in the ObjectStore (``save`` replaces a key's text, so the
    lines are kept and the whole text saved when something changed)."""

    def __init__(self, object_store: Any, algorithm_name: str) -> None:
        self.object_store = object_store
        self.prefix = f"alphapulse/{algorithm_name}"
        self._lines: dict[str, list[str]] = {"signals": [], "fills": []}
        self._dirty: set[str] = set()
        for kind in self._lines:  # a restarted live algorithm appends to what it journaled before
            key = f"{self.prefix}/{kind}.jsonl"
            if object_store.contains_key(key):
                self._lines[kind] = [line for line in str(object_store.read(key)).splitlines() if line]

    def signal(self, signal: Signal) -> None:
        self._add("signals", signal.to_json())

    def fill(self, fill: Fill) -> None:
        self._add("fills", fill.to_json())

    def _add(self, kind: str, line: str) -> None:
        self._lines[kind].append(line)
        self._dirty.add(kind)

    def flush(self) -> None:
        for kind in sorted(self._dirty):
            self.object_store.save(f"{self.prefix}/{kind}.jsonl", "\n".join(self._lines[kind]) + "\n")
        self._dirty.clear()


def set_up_execution(security: Security, market: str, zone: ZoneInfo) -> None:
    """Make ``security`` execute as the local runner simulates it: the market's fee model, the fill
    rules of :mod:`alphapulse.fills` and leverage 1 (entries are paid from cash)."""
    from AlgorithmImports import (
        BinanceFeeModel,
        BitfinexFeeModel,
        BybitFeeModel,
        CoinbaseFeeModel,
        InteractiveBrokersFeeModel,
        KrakenFeeModel,
    )

    # the fee model of each market's brokerage in Lean (the local runner's fees mirror them)
    fee_models = {"binance": BinanceFeeModel, "bybit": BybitFeeModel, "coinbase": CoinbaseFeeModel,
                  "kraken": KrakenFeeModel, "bitfinex": BitfinexFeeModel, "usa": InteractiveBrokersFeeModel}
    security.set_fee_model(fee_models[market]())
    security.set_fill_model(fill_model_type()(zone))
    security.set_leverage(1.0)


_FILL_MODEL: list[type] = []


def fill_model_type() -> type:
    """:class:`AlphaPulseFillModel`, a subclass of Lean's ``FillModel`` (defined on first use, when
    Lean's names can be imported)."""
    if not _FILL_MODEL:
        _FILL_MODEL.append(_define_fill_model())
    return _FILL_MODEL[0]


def _define_fill_model() -> type:
    from AlgorithmImports import FillModel, LimitOrder, OrderStatus, Prices, StopMarketOrder

    class AlphaPulseFillModel(FillModel):
        """Lean's fill model with the stop and limit rules of :mod:`alphapulse.fills` (a bar that
        reaches the level fills it, a gap fills at the open), evaluated from the bar after the order
        was placed, as the local runner does. Market orders keep Lean's rule (the current close).
        An exit (``stop``/``target`` tag) never fills once the holding it closes is gone."""

        def __init__(self, zone: ZoneInfo) -> None:
            super().__init__()
            self.zone = zone

        def stop_market_fill(self, asset: Security, order: StopMarketOrder) -> OrderEvent:
            return self._fill(super().stop_market_fill(asset, order), asset, order, stop_fill,
                              float(order.stop_price))

        def limit_fill(self, asset: Security, order: LimitOrder) -> OrderEvent:
            return self._fill(super().limit_fill(asset, order), asset, order, limit_fill, float(order.limit_price))

        def _fill(self, fill: OrderEvent, asset: Security, order: StopMarketOrder | LimitOrder,
                  rule: Callable[[float, float, float, float, float], float | None], level: float) -> OrderEvent:
            prices = self._eligible(asset, order)
            price = None if prices is None else rule(float(order.quantity), level, float(prices.open),
                                                     float(prices.high), float(prices.low))
            return self._settle(fill, order, price)

        def _eligible(self, asset: Security, order: StopMarketOrder | LimitOrder) -> Prices | None:
            """The bar to evaluate ``order`` on, or None (cancelled, exchange closed, stale bar, or an
            exit whose holding is already closed)."""
            if order.status == OrderStatus.CANCELED or not self.is_exchange_open(asset, False):
                return None
            if str(order.tag) in ("stop", "target") and float(asset.holdings.quantity) * float(order.quantity) >= 0:
                return None
            prices = self.get_prices(asset, order.direction)
            end = prices.end_time.replace(tzinfo=self.zone).astimezone(UTC)
            if end <= order.time.replace(tzinfo=UTC):  # placed while this bar was handled
                return None
            return prices

        @staticmethod
        def _settle(fill: OrderEvent, order: StopMarketOrder | LimitOrder, price: float | None) -> OrderEvent:
            if price is None:
                if fill.status == OrderStatus.FILLED:  # only for an exit whose holding is gone
                    fill.status = order.status
                    fill.fill_price = 0.0
                    fill.fill_quantity = 0.0
                return fill
            fill.status = OrderStatus.FILLED
            fill.fill_price = price
            fill.fill_quantity = order.quantity
            return fill

    return AlphaPulseFillModel


@dataclass
class SymbolData:
    """Per-symbol state: the Lean symbol, the core's trader and the open exit-order tickets."""

    symbol: Any
    ticker: str
    market: str
    contract: ContractConfig
    trader: SymbolTrader
    time_zone: ZoneInfo
    exit_tickets: list[Any] = field(default_factory=list)

    def to_bar(self, bar: TradeBar) -> Bar:
        """A core :class:`Bar` (UTC start time) from a Lean TradeBar (exchange-time start)."""
        start = bar.time.replace(tzinfo=self.time_zone) if bar.time.tzinfo is None else bar.time
        return Bar(to_ns(start.astimezone(UTC)), float(bar.open), float(bar.high), float(bar.low),
                   float(bar.close), float(bar.volume))


class LeanStrategyRunner:
    """Runs one core strategy for every configured symbol inside a Lean algorithm."""

    def __init__(self, algorithm: QCAlgorithm, *, name: str, strategy: str, project_dir: str | Path,
                 default_symbols: str, default_market: str = "binance") -> None:
        from AlgorithmImports import AccountType, BrokerageName, Market, Resolution

        self.algorithm = algorithm
        self.name = name
        params = parse_parameters(algorithm.get_parameter, strategy=strategy, project_dir=Path(project_dir),
                                  default_symbols=default_symbols, default_market=default_market)
        self.params = params
        self.journal = JournalWriter(algorithm.object_store, name)
        self.by_symbol: dict[Any, SymbolData] = {}
        self._orders: dict[int, tuple[SymbolData, OrderIntent]] = {}
        # order events can arrive before their ticket is known: while the order is being submitted
        # (a market order fills inside market_order in a backtest) or from the brokerage's thread live
        self._lock = threading.RLock()
        self._in_flight = 0
        self._early: dict[int, list[OrderEvent]] = {}
        self._partial: dict[int, tuple[float, float]] = {}  # order id -> (quantity, value) filled so far

        algorithm.set_start_date(params.start.year, params.start.month, params.start.day)
        if params.end is not None:
            algorithm.set_end_date(params.end.year, params.end.month, params.end.day)
        market = params.market
        currency = ACCOUNT_CURRENCY[market]
        if market != "usa":
            algorithm.set_time_zone("UTC")
            algorithm.set_account_currency(currency)
        algorithm.set_cash(params.cash)
        # Lean's default brokerage model accepts the stop-market and limit exits (Binance's and
        # Coinbase's models refuse stop-market orders on spot crypto) and, on a margin account, keeps
        # both resting for one holding (a cash account reserves the holding for the first sell);
        # leverage 1 per security (set_up_execution) keeps the buying power to the cash, as the runner
        algorithm.set_brokerage_model(BrokerageName.DEFAULT, AccountType.MARGIN)
        resolutions = {"minute": Resolution.MINUTE, "hour": Resolution.HOUR, "daily": Resolution.DAILY}
        lean_market = {"binance": Market.BINANCE, "coinbase": Market.COINBASE, "bybit": Market.BYBIT,
                       "kraken": Market.KRAKEN, "bitfinex": Market.BITFINEX, "usa": Market.USA}[market]

        book = RiskBook(params.contract(params.symbols[0]).risk,
                        per_symbol={s: params.contract(s).risk for s in params.symbols})
        warm_up = 0
        zone = ZoneInfo(data_time_zone(market))
        for ticker in params.symbols:
            contract = params.contract(ticker)
            seconds = interval_seconds(contract.timeframe)
            resolution = resolutions[lean_resolution(contract.timeframe)]
            if security_type_of(market) == "equity":
                security = algorithm.add_equity(ticker, resolution, lean_market)
            else:
                security = algorithm.add_crypto(ticker, resolution, lean_market)
            set_up_execution(security, market, zone)
            props = security.symbol_properties
            minimum = float(props.minimum_order_size or 0)
            notional = market in NOTIONAL_MINIMUM_MARKETS  # Lean's Binance minimum is an order value
            properties = SymbolProperties(ticker, market, str(props.quote_currency), float(props.lot_size),
                                          0.0 if notional else minimum, minimum if notional else 0.0,
                                          float(props.minimum_price_variation))
            book.properties[ticker] = properties
            strategy_object = (TradingViewFollower(contract, symbol=ticker, market=market)
                               if strategy == TradingViewFollower.name
                               else create_strategy(strategy, contract, symbol=ticker, market=market,
                                                    factors=self._model_factors(contract)))
            trader = SymbolTrader(strategy_object, book, ticker, properties, period=seconds)
            data = SymbolData(security.symbol, ticker, market, contract, trader, zone)
            self.by_symbol[security.symbol] = data
            algorithm.consolidate(security.symbol, timedelta(seconds=seconds),
                                  lambda bar, data=data: self.on_bar(data, bar))
            warm_up = max(warm_up, warm_up_days(strategy_object.warm_up_period, seconds, market))
        # the same history the local runner loads before the start (alphapulse.intervals.warm_up_days)
        algorithm.set_warm_up(timedelta(days=warm_up))
        # the default brokerage model's benchmark is SPY; a crypto project benchmarks its first symbol
        # (as the exchanges' models benchmark a coin) and needs no equity data
        algorithm.set_benchmark(next(iter(self.by_symbol)))

    def _model_factors(self, contract: ContractConfig) -> list[Any] | None:
        """The contract's model, read from the ObjectStore: ``model.path`` names the folder of keys
        holding ``model.keras`` and ``model.json`` (upload them with ``lean object-store set`` or
        ``object_store.save_bytes``). None when the contract has no model."""
        if contract.model is None:
            return None
        from alphapulse.model_factor import ModelFactor

        store = self.algorithm.object_store
        folder = contract.model.path.strip("/")
        for key in (f"{folder}/model.keras", f"{folder}/model.json"):
            if not store.contains_key(key):
                raise ConfigError(f"{contract.symbol}.model.path: the ObjectStore has no key {key!r}; "
                                  "upload the model folder written by `alphapulse ml train`")
        return [ModelFactor.from_object_store(store.get_file_path(f"{folder}/model.keras"),
                                              store.get_file_path(f"{folder}/model.json"),
                                              weight=contract.model.weight)]

    def symbol_data(self, ticker: str) -> SymbolData | None:
        """The state of ``ticker`` (upper case), if it is traded."""
        return next((d for d in self.by_symbol.values() if d.ticker == ticker.upper()), None)

    # -- data -----------------------------------------------------------------------------------------
    def on_bar(self, data: SymbolData, bar: TradeBar) -> None:
        """A consolidated bar closed: feed the strategy, execute what it decides."""
        algorithm = self.algorithm
        core_bar = data.to_bar(bar)
        position = float(algorithm.portfolio[data.symbol].quantity)
        equity = float(algorithm.portfolio.total_portfolio_value)
        with self._lock:
            try:
                signal, intents = data.trader.on_bar(core_bar, position=position, equity=equity,
                                                     trading=not algorithm.is_warming_up)
            except AlphaPulseError as exc:
                if algorithm.live_mode:  # a bad bar live: log it and skip, never take the algorithm down
                    algorithm.error(f"{data.ticker}: skipped a bar: {exc}")
                    return
                raise
            if signal is not None and not algorithm.is_warming_up:
                self.journal.signal(signal)
        self.execute(data, intents)
        with self._lock:
            self.journal.flush()

    # -- orders ---------------------------------------------------------------------------------------
    def execute(self, data: SymbolData, intents: list[OrderIntent]) -> None:
        algorithm = self.algorithm
        for intent in intents:
            if intent.kind == "cancel_exits":
                with self._lock:
                    tickets, data.exit_tickets = data.exit_tickets, []
                for ticket in tickets:
                    ticket.cancel(intent.tag)
                continue
            if intent.kind in ("stop_market", "limit") and data.trader.exits_in_software:
                continue  # an exit order of this position was refused: its exits are checked at the close
            ticket: OrderTicket
            with self._lock:
                self._in_flight += 1
            try:
                if intent.kind == "market":
                    ticket = algorithm.market_order(data.symbol, intent.quantity, tag=intent.tag)
                elif intent.kind == "stop_market":
                    ticket = algorithm.stop_market_order(data.symbol, intent.quantity, float(intent.price or 0),
                                                         tag=intent.tag)
                else:
                    ticket = algorithm.limit_order(data.symbol, intent.quantity, float(intent.price or 0),
                                                   tag=intent.tag)
            finally:
                with self._lock:
                    self._in_flight -= 1
            with self._lock:
                order_id = int(ticket.order_id)
                self._orders[order_id] = (data, intent)
                if intent.kind != "market":
                    data.exit_tickets.append(ticket)
                early = self._early.pop(order_id, [])
                if not self._in_flight:
                    self._early.clear()  # events of orders that are not this algorithm's
            for event in early:
                self.on_order_event(event)

    def on_order_event(self, order_event: OrderEvent) -> None:
        """Forwarded from the algorithm: journal fills and place or cancel the exit orders."""
        from AlgorithmImports import OrderStatus

        order_id = int(order_event.order_id)
        with self._lock:
            found = self._orders.get(order_id)
            if found is None:
                if self._in_flight:  # reported before its ticket returned: handled once it has
                    self._early.setdefault(order_id, []).append(order_event)
                return
            data, intent = found
            status = order_event.status
            if status == OrderStatus.INVALID:
                del self._orders[order_id]
                self.algorithm.error(f"{data.ticker}: the {intent.tag} order was refused ({order_event.message}); "
                                     "its exits are now checked at each bar's close")
                data.exit_tickets = [t for t in data.exit_tickets if int(t.order_id) != order_id]
                intents = data.trader.on_rejected(intent.tag)
            elif status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
                intents = self._filled(data, intent, order_event, final=status == OrderStatus.FILLED)
            else:
                if status == OrderStatus.CANCELED:
                    del self._orders[order_id]
                    if order_id in self._partial:
                        self.algorithm.error(f"{data.ticker}: the {intent.tag} order was cancelled after a partial "
                                             f"fill of {self._partial.pop(order_id)[0]}")
                return
        self.execute(data, intents)

    def _filled(self, data: SymbolData, intent: OrderIntent, order_event: OrderEvent, *,
                final: bool) -> list[OrderIntent]:
        """Journal one fill (partial fills each get their line); once the order is complete, tell the
        trader the whole quantity at its average price."""
        order_id = int(order_event.order_id)
        quantity = float(order_event.fill_quantity)
        price = float(order_event.fill_price)
        fee = order_event.order_fee.value
        self.journal.fill(Fill(
            algorithm=self.name, order_id=order_id, symbol=data.ticker, market=data.market,
            time=to_ns(order_event.utc_time.replace(tzinfo=UTC)), quantity=quantity, price=price,
            fee=float(fee.amount), fee_currency=str(fee.currency), order_type=intent.kind,
            signal_id=intent.signal_id, tag=intent.tag))
        filled, value = self._partial.pop(order_id, (0.0, 0.0))
        filled, value = filled + quantity, value + quantity * price
        if not final:
            self._partial[order_id] = (filled, value)
            self.journal.flush()
            return []
        del self._orders[order_id]
        if intent.kind != "market":
            data.exit_tickets = [t for t in data.exit_tickets if int(t.order_id) != order_id]
        equity = float(self.algorithm.portfolio.total_portfolio_value)
        intents = data.trader.on_fill(filled, value / filled if filled else price, intent.tag, equity)
        self.journal.flush()
        return intents

    def on_end_of_algorithm(self) -> None:
        with self._lock:
            self.journal.flush()
        summary = {"algorithm": self.name, "strategy": self.params.strategy, "symbols": list(self.params.symbols)}
        self.algorithm.log(f"AlphaPulse: {json.dumps(summary)}")
