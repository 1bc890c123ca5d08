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
* owns one :class:`SymbolData` per symbol (the consolidator's handler and the core's
  :class:`~alphapulse.trader.SymbolTrader`) and translates the trader's intents into
  ``market_order`` / ``stop_market_order`` / ``limit_order`` / ``ticket.cancel()``;
* appends every signal and every fill, as the journal's JSON lines, to the ObjectStore under
  ``alphapulse/<algorithm>/signals.jsonl`` and ``.../fills.jsonl`` (saved once per bar and at the end).

Only this module and the algorithms touch Lean's API; it imports Lean's names from
``AlgorithmImports`` when an algorithm is created, so the rest of the core never depends on Lean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from alphapulse.alerts import TradingViewFollower
from alphapulse.bars import Bar, to_ns
from alphapulse.config import ContractConfig, Contracts, load_contracts
from alphapulse.errors import AlphaPulseError, ConfigError
from alphapulse.intervals import interval_seconds, lean_resolution, warm_up_days
from alphapulse.journal import Fill, Signal
from alphapulse.lean_data import data_time_zone, security_type_of
from alphapulse.risk import NOTIONAL_MINIMUM_MARKETS, RiskBook, SymbolProperties
from alphapulse.strategies import STRATEGIES, create_strategy
from alphapulse.trader import OrderIntent, SymbolTrader

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent, OrderTicket, QCAlgorithm, TradeBar

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
        # the order being submitted: a market order may fill (and report) before its ticket returns
        self._submitting: tuple[SymbolData, OrderIntent] | None = None
        self._reported: set[int] = set()

        algorithm.set_start_date(params.start.year, params.start.month, params.start.day)
        if params.end is not None:
            algorithm.set_end_date(params.end.year, params.end.month, params.end.day)
        market = params.market
        currency = ACCOUNT_CURRENCY[market]
        allow_short = any(params.contract(s).risk.allow_short for s in params.symbols)
        if market == "usa":
            algorithm.set_cash(params.cash)
        else:
            algorithm.set_time_zone("UTC")
            algorithm.set_account_currency(currency)
            algorithm.set_cash(params.cash)
            brokerage = {"binance": BrokerageName.BINANCE, "coinbase": BrokerageName.COINBASE,
                         "bybit": BrokerageName.BYBIT, "kraken": BrokerageName.KRAKEN,
                         "bitfinex": BrokerageName.BITFINEX}[market]
            algorithm.set_brokerage_model(brokerage, AccountType.MARGIN if allow_short else AccountType.CASH)
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
        self.journal.flush()

    # -- orders ---------------------------------------------------------------------------------------
    def execute(self, data: SymbolData, intents: list[OrderIntent]) -> None:
        algorithm = self.algorithm
        for intent in intents:
            if intent.kind == "cancel_exits":
                for ticket in data.exit_tickets:
                    ticket.cancel(intent.tag)
                data.exit_tickets.clear()
                continue
            if intent.kind in ("stop_market", "limit") and data.trader.exits_in_software:
                continue  # an exit order of this position was refused: its exits are checked at the close
            ticket: OrderTicket
            self._submitting = (data, intent)
            if intent.kind == "market":
                ticket = algorithm.market_order(data.symbol, intent.quantity, tag=intent.tag)
            elif intent.kind == "stop_market":
                ticket = algorithm.stop_market_order(data.symbol, intent.quantity, float(intent.price or 0),
                                                     tag=intent.tag)
                data.exit_tickets.append(ticket)
            else:
                ticket = algorithm.limit_order(data.symbol, intent.quantity, float(intent.price or 0),
                                               tag=intent.tag)
                data.exit_tickets.append(ticket)
            self._submitting = None
            order_id = int(ticket.order_id)
            if order_id in self._reported:  # already filled while being submitted
                self._reported.discard(order_id)
            else:
                self._orders[order_id] = (data, intent)

    def on_order_event(self, order_event: OrderEvent) -> None:
        """Forwarded from the algorithm: journal fills and place or cancel the exit orders."""
        from AlgorithmImports import OrderStatus

        if order_event.status == OrderStatus.INVALID:
            rejected = self._orders.pop(int(order_event.order_id), None)
            if rejected is None and self._submitting is not None:
                rejected, self._submitting = self._submitting, None
                self._reported.add(int(order_event.order_id))
            if rejected is not None:
                data, intent = rejected
                self.algorithm.error(f"{data.ticker}: the {intent.tag} order was refused ({order_event.message}); "
                                     "its exits are now checked at each bar's close")
                data.exit_tickets = [t for t in data.exit_tickets if int(t.order_id) != int(order_event.order_id)]
                self.execute(data, data.trader.on_rejected(intent.tag))
            return
        if order_event.status != OrderStatus.FILLED:
            return
        found = self._orders.pop(int(order_event.order_id), None)
        if found is None and self._submitting is not None:
            found, self._submitting = self._submitting, None
            self._reported.add(int(order_event.order_id))
        if found is None:
            return
        data, intent = found
        quantity = float(order_event.fill_quantity)
        price = float(order_event.fill_price)
        fee = order_event.order_fee.value
        self.journal.fill(Fill(
            algorithm=self.name, order_id=int(order_event.order_id), symbol=data.ticker, market=data.market,
            time=to_ns(order_event.utc_time.replace(tzinfo=UTC)), quantity=quantity, price=price,
            fee=float(fee.amount), fee_currency=str(fee.currency), order_type=intent.kind,
            signal_id=intent.signal_id, tag=intent.tag))
        if intent.kind in ("stop_market", "limit"):
            data.exit_tickets = [t for t in data.exit_tickets if int(t.order_id) != int(order_event.order_id)]
        equity = float(self.algorithm.portfolio.total_portfolio_value)
        self.execute(data, data.trader.on_fill(quantity, price, intent.tag, equity))
        self.journal.flush()

    def on_end_of_algorithm(self) -> None:
        self.journal.flush()
        summary = {"algorithm": self.name, "strategy": self.params.strategy, "symbols": list(self.params.symbols)}
        self.algorithm.log(f"AlphaPulse: {json.dumps(summary)}")
