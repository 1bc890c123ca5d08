"""How the Lean algorithms execute: brokerage set-up, the fill model, partial fills, early events.

The double (``qc_double``) enforces the order checks of Lean's brokerage models and fills resting
orders through the security's fill model the way Lean's backtesting brokerage does, so these tests
show that the algorithms' Lean set-up is one under which the orders of the local runner are accepted
and filled the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alphapulse.journal import Fill, read_record
from alphapulse.lean_adapter import fill_model_type
from alphapulse.lean_data import read_trade_bars
from tests.lean import qc_double
from tests.lean.qc_double import (
    AccountType,
    BrokerageName,
    Holding,
    LeanOrderView,
    QCAlgorithm,
    RecordedOrder,
    Security,
    SymbolPropertiesDouble,
    TradeBar,
)
from tests.lean.test_algorithms import ALGORITHMS, DATASETS, contracts_file, double_orders, runner_orders

UTC = ZoneInfo("UTC")

#: the fee model Lean's brokerage model of each market installs (Lean's Brokerages/*BrokerageModel)
LEAN_FEE_MODEL = {"binance": "BinanceFeeModel", "coinbase": "CoinbaseFeeModel", "kraken": "KrakenFeeModel",
                  "bybit": "BybitFeeModel", "bitfinex": "BitfinexFeeModel", "usa": "InteractiveBrokersFeeModel"}


def _initialized(tmp_path: Path, market: str, symbol: str) -> QCAlgorithm:
    config = contracts_file(tmp_path, "pattern-confluence", symbol, "1h")
    algorithm = qc_double.load_algorithm(ALGORITHMS / "PatternConfluence" / "main.py")()
    algorithm.parameters = {"symbols": symbol, "market": market, "start": "2024-01-01", "contracts": str(config)}
    algorithm.initialize()
    return algorithm


@pytest.mark.parametrize("market", list(LEAN_FEE_MODEL))
def test_every_security_is_set_up_to_execute_like_the_runner(tmp_path: Path, market: str) -> None:
    symbol = "SPY" if market == "usa" else "BTCUSDT"
    algorithm = _initialized(tmp_path, market, symbol)
    assert algorithm.brokerage == (BrokerageName.DEFAULT, AccountType.MARGIN)
    assert algorithm.benchmark == symbol  # not the default model's SPY, whose data a crypto project lacks
    security = algorithm.securities[symbol]
    assert type(security.fee_model).__name__ == LEAN_FEE_MODEL[market]
    assert isinstance(security.fill_model, fill_model_type())
    assert security.leverage == 1.0


# -- the fill model --------------------------------------------------------------------------------

def _security(bar: tuple[float, float, float, float], *, holding: float = 1.0) -> Security:
    start = datetime(2024, 1, 1, 10)
    o, h, lo, c = bar
    security = Security("BTCUSDT", SymbolPropertiesDouble("USDT", 1e-5, 5.0, 0.01), price=c,
                        holdings=Holding(holding))
    security.bar = TradeBar(start, start + timedelta(hours=1), o, h, lo, c, 1.0)
    security.utc_time = start + timedelta(hours=1)
    return security


def _order(kind: str, quantity: float, level: float, *, placed: datetime = datetime(2024, 1, 1, 9),
           tag: str = "stop") -> LeanOrderView:
    stop, limit = (level, None) if kind == "stop_market" else (None, level)
    return LeanOrderView(RecordedOrder(1, placed.replace(tzinfo=UTC), "BTCUSDT", kind, quantity, stop, limit, tag))


def _fill(kind: str, quantity: float, level: float, bar: tuple[float, float, float, float], **options: object):
    holding = float(options.pop("holding", 1.0))  # type: ignore[arg-type]
    model = fill_model_type()(UTC)
    security = _security(bar, holding=holding)
    order = _order(kind, quantity, level, **options)  # type: ignore[arg-type]
    event = model.stop_market_fill(security, order) if kind == "stop_market" else model.limit_fill(security, order)
    base = (qc_double.FillModel().stop_market_fill(security, order) if kind == "stop_market"
            else qc_double.FillModel().limit_fill(security, order))
    return event, base


@pytest.mark.parametrize(("kind", "quantity", "level", "bar", "price", "lean_base"), [
    # a sell stop touched exactly: filled at the stop (Lean's base model needs the low strictly below)
    ("stop_market", -1.0, 100.0, (105.0, 106.0, 100.0, 104.0), 100.0, None),
    # a sell stop crossed inside the bar: at the stop (the base model: min(stop, close) = 98)
    ("stop_market", -1.0, 100.0, (105.0, 106.0, 97.0, 98.0), 100.0, 98.0),
    # a gap below the stop: at the open (the base model: min(stop, close) = 99)
    ("stop_market", -1.0, 100.0, (96.0, 101.0, 95.0, 99.0), 96.0, 99.0),
    # a buy stop gapped over: at the open
    ("stop_market", 1.0, 100.0, (103.0, 104.0, 102.0, 103.5), 103.0, 103.5),
    # a sell limit reached: at the limit; touched exactly: at the limit (the base model: not filled)
    ("limit", -1.0, 110.0, (105.0, 112.0, 104.0, 106.0), 110.0, 110.0),
    ("limit", -1.0, 110.0, (105.0, 110.0, 104.0, 106.0), 110.0, None),
    # a sell limit gapped over: at the better open (the base model: max(low, limit) = 110)
    ("limit", -1.0, 110.0, (113.0, 115.0, 109.0, 111.0), 113.0, 110.0),
    # a buy limit gapped under: at the open
    ("limit", 1.0, 90.0, (88.0, 91.0, 87.0, 89.0), 88.0, 90.0),
    # not reached
    ("stop_market", -1.0, 100.0, (105.0, 106.0, 101.0, 104.0), None, None),
    ("limit", -1.0, 110.0, (105.0, 109.99, 104.0, 106.0), None, None),
])
def test_fill_model_fills_by_the_runners_rules(kind: str, quantity: float, level: float,
                                               bar: tuple[float, float, float, float], price: float | None,
                                               lean_base: float | None) -> None:
    event, base = _fill(kind, quantity, level, bar, tag="stop" if kind == "stop_market" else "target",
                        holding=-quantity)  # the exit of a long (sell) or of a short (buy)
    if price is None:
        assert event.status != qc_double.OrderStatus.FILLED
    else:
        assert event.status == qc_double.OrderStatus.FILLED
        assert event.fill_price == price and event.fill_quantity == quantity
    assert (base.fill_price if base.status == qc_double.OrderStatus.FILLED else None) == lean_base


def test_fill_model_waits_for_the_next_bar_and_for_the_holding() -> None:
    bar = (105.0, 106.0, 90.0, 95.0)
    # placed when this bar closed (the entry bar): evaluated from the next bar on
    placed_now, _ = _fill("stop_market", -1.0, 100.0, bar, placed=datetime(2024, 1, 1, 11))
    assert placed_now.status != qc_double.OrderStatus.FILLED
    # the holding is already closed (the other exit filled first in this scan): not filled
    gone, _ = _fill("stop_market", -1.0, 100.0, bar, holding=0.0)
    assert gone.status != qc_double.OrderStatus.FILLED
    # an order that is not an exit is filled whatever the holding
    entry, _ = _fill("stop_market", -1.0, 100.0, bar, holding=0.0, tag="entry")
    assert entry.status == qc_double.OrderStatus.FILLED and entry.fill_price == 100.0


# -- brokerage models ------------------------------------------------------------------------------

def _with_brokerage(name: BrokerageName, account: AccountType):
    def configure(algorithm: QCAlgorithm) -> None:
        def forced(_name: object, _account: object) -> None:
            QCAlgorithm.set_brokerage_model(algorithm, name, account)
        algorithm.set_brokerage_model = forced  # type: ignore[method-assign]
    return configure


@pytest.mark.parametrize(("name", "account", "refused", "message"), [
    (BrokerageName.BINANCE, AccountType.CASH, "stop_market", "does not support StopMarket"),
    (BrokerageName.COINBASE, AccountType.CASH, "stop_market", "does not support StopMarket"),
    (BrokerageName.DEFAULT, AccountType.CASH, "limit", "reserved for open orders"),
])
def test_the_exchange_brokerage_models_would_refuse_the_exits(lean_data: Path, tmp_path: Path, name: BrokerageName,
                                                               account: AccountType, refused: str,
                                                               message: str) -> None:
    """Why the algorithms use Lean's default model on a margin account: under the exchanges' own models
    (or any cash account) an exit of every position is refused, and the algorithm falls back to exits
    at the close, which the runner does not simulate."""
    config = contracts_file(tmp_path, "rsi-mean-reversion", "BTCUSD", "1d")
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    algorithm = qc_double.run_algorithm(
        ALGORITHMS / "RsiMeanReversion" / "main.py",
        {"symbols": "BTCUSD", "market": "coinbase", "start": "2015-09-01", "end": "2018-08-13",
         "contracts": str(config)}, {"BTCUSD": bars}, configure=_with_brokerage(name, account))
    invalid = [o for o in algorithm.orders if o.status == "invalid"]
    assert invalid and {o.type for o in invalid} == {refused}
    assert any("was refused" in e and message in e for e in algorithm.errors)


# -- partial fills and early events -----------------------------------------------------------------

@pytest.mark.parametrize("setting", ["partial_fills", "events_from_thread"])
@pytest.mark.parametrize(("market", "symbol", "interval", "start", "end"), [DATASETS[0], DATASETS[2]],
                         ids=["coinbase-BTCUSD-1d", "usa-SPY-1h"])
def test_orders_unchanged_by_partial_fills_and_events_before_the_ticket(
        lean_data: Path, tmp_path: Path, setting: str, market: str, symbol: str, interval: str, start: date,
        end: date, monkeypatch: pytest.MonkeyPatch) -> None:
    """Market orders reported in three partial fills, or from another thread before their ticket
    returns (Lean live): the same orders as the runner, and every partial fill journaled."""
    config = contracts_file(tmp_path, "rsi-mean-reversion", symbol, interval)
    expected = runner_orders(lean_data, "rsi-mean-reversion", market, symbol, interval, start, end, config)
    algorithms: list[QCAlgorithm] = []
    original = qc_double.run_algorithm

    def run(*args: object, **kwargs: object) -> QCAlgorithm:
        def configure(algorithm: QCAlgorithm) -> None:
            if setting == "partial_fills":
                algorithm.partial_fills = 3
            else:
                algorithm.events_from_thread = True
        algorithm = original(*args, configure=configure, **kwargs)  # type: ignore[arg-type]
        algorithms.append(algorithm)
        return algorithm

    monkeypatch.setattr("tests.lean.test_algorithms.run_algorithm", run)
    actual = double_orders(lean_data, "rsi-mean-reversion", market, symbol, interval, start, end, config)
    assert expected and actual == expected
    (algorithm,) = algorithms
    fills = [read_record(line) for line in
             algorithm.object_store.saved["alphapulse/RsiMeanReversion/fills.jsonl"].splitlines()]
    assert all(isinstance(f, Fill) for f in fills)
    market_orders = [o for o in algorithm.orders if o.type == "market" and o.status == "filled"]
    resting_fills = [o for o in algorithm.orders if o.type != "market" and o.status == "filled"]
    per_order = 3 if setting == "partial_fills" else 1
    assert len(fills) == per_order * len(market_orders) + len(resting_fills)
    by_order: dict[int, float] = {}
    for fill in fills:
        assert isinstance(fill, Fill)
        by_order[fill.order_id] = by_order.get(fill.order_id, 0.0) + fill.quantity
    for order in market_orders:
        assert by_order[order.order_id] == pytest.approx(order.quantity, rel=1e-12)
