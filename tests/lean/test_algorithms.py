"""The Lean algorithms, run through their real handlers on a recording double of QCAlgorithm.

Order parity: replaying real bars through each algorithm records exactly the orders (time, side,
quantity, type, stop and limit prices) the local runner produces for the same strategy,
configuration and data.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from alphapulse.errors import ConfigError, StrategyError
from alphapulse.lean_data import data_time_zone, read_trade_bars
from alphapulse.risk import read_symbol_properties
from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest
from alphapulse_tools.runner.fees import fee_model_for
from tests.lean.qc_double import SymbolPropertiesDouble, load_algorithm, run_algorithm

ROOT = Path(__file__).resolve().parents[2]
ALGORITHMS = ROOT / "algorithms"

STRATEGY_ALGORITHM = {
    "pattern-confluence": "PatternConfluence",
    "rsi-mean-reversion": "RsiMeanReversion",
    "macd-crossover": "MacdCrossover",
}

#: (market, symbol, interval, start, end) of real Lean data in ../shared/data/lean
DATASETS = [
    ("coinbase", "BTCUSD", "1d", date(2015, 9, 1), date(2018, 8, 13)),
    ("usa", "SPY", "1d", date(2001, 1, 1), date(2021, 3, 31)),
    ("usa", "SPY", "1h", date(2015, 1, 1), date(2021, 3, 31)),
    ("coinbase", "BTCUSD", "1m", date(2018, 4, 5), date(2018, 4, 6)),
]


def contracts_file(tmp_path: Path, strategy: str, symbol: str, interval: str, **extra: object) -> Path:
    entry = {"strategy": strategy, "timeframe": interval, **extra}
    path = tmp_path / f"{strategy}-{symbol}-{interval}.json"
    path.write_text(json.dumps({symbol: entry}))
    return path


def runner_orders(lean_data: Path, strategy: str, market: str, symbol: str, interval: str, start: date,
                  end: date, config: Path) -> list[tuple]:
    request = BacktestRequest(strategy=strategy, symbols=(symbol,), interval=interval, start=start, end=end,
                              market=market, data_dir=lean_data, config=config, cash=100_000.0, out=None,
                              report=False)
    outcome = run_backtest(request)
    return sorted((o.time // 10**9, "buy" if o.quantity > 0 else "sell", round(o.quantity, 10), o.type,
                   o.stop_price, o.limit_price) for o in outcome.result.orders)


def double_orders(lean_data: Path, strategy: str, market: str, symbol: str, interval: str, start: date,
                  end: date, config: Path) -> list[tuple]:
    resolution = {"1m": "minute", "1h": "hour", "1d": "daily"}[interval]
    bars = read_trade_bars(lean_data, market, symbol, resolution)
    props = read_symbol_properties(lean_data, market, symbol, "equity" if market == "usa" else "crypto")
    minimum = props.min_notional or props.min_order_size
    fee_model = fee_model_for(market)
    algorithm = run_algorithm(
        ALGORITHMS / STRATEGY_ALGORITHM[strategy] / "main.py",
        {"symbols": symbol, "market": market, "start": start.isoformat(), "end": end.isoformat(),
         "cash": "100000", "contracts": str(config)},
        {symbol: bars},
        properties={symbol: SymbolPropertiesDouble(props.quote_currency, props.lot_size, minimum,
                                                   props.tick_size)},
        fee=lambda quantity, price, kind: fee_model.fee(quantity, price, kind, 0),
        zone=data_time_zone(market),
    )
    return sorted((int(o.time.timestamp()), "buy" if o.quantity > 0 else "sell", round(o.quantity, 10),
                   o.type, o.stop_price, o.limit_price) for o in algorithm.orders if o.status != "invalid")


@pytest.mark.parametrize("strategy", list(STRATEGY_ALGORITHM))
@pytest.mark.parametrize(("market", "symbol", "interval", "start", "end"), DATASETS,
                         ids=[f"{m}-{s}-{i}" for m, s, i, _, _ in DATASETS])
def test_order_parity_with_local_runner(lean_data: Path, tmp_path: Path, strategy: str, market: str, symbol: str,
                                        interval: str, start: date, end: date) -> None:
    config = contracts_file(tmp_path, strategy, symbol, interval)
    expected = runner_orders(lean_data, strategy, market, symbol, interval, start, end, config)
    actual = double_orders(lean_data, strategy, market, symbol, interval, start, end, config)
    assert expected, "the runner produced no orders: the case proves nothing"
    assert actual == expected


@pytest.mark.parametrize("strategy", list(STRATEGY_ALGORITHM))
@pytest.mark.parametrize(("market", "symbol", "interval", "start", "end"), DATASETS[:3],
                         ids=[f"{m}-{s}-{i}" for m, s, i, _, _ in DATASETS[:3]])
def test_order_parity_with_time_exits(lean_data: Path, tmp_path: Path, strategy: str, market: str, symbol: str,
                                      interval: str, start: date, end: date) -> None:
    """Short time exits make exits and new entries fall on the same bar: exits come first in both."""
    config = contracts_file(tmp_path, strategy, symbol, interval, risk={"max_bars": 3})
    expected = runner_orders(lean_data, strategy, market, symbol, interval, start, end, config)
    actual = double_orders(lean_data, strategy, market, symbol, interval, start, end, config)
    assert any(o[3] == "market" and o[1] == "sell" for o in expected)
    if (strategy, symbol, interval) == ("rsi-mean-reversion", "SPY", "1h"):  # the case that has them
        exits = {o[0] for o in expected if o[3] == "market" and o[1] == "sell"}
        assert exits & {o[0] for o in expected if o[3] == "market" and o[1] == "buy"}
    assert actual == expected


def test_signals_and_fills_go_to_the_object_store(lean_data: Path, tmp_path: Path) -> None:
    from alphapulse.journal import Fill, Signal, read_record

    config = contracts_file(tmp_path, "rsi-mean-reversion", "BTCUSD", "1d")
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    algorithm = run_algorithm(ALGORITHMS / "RsiMeanReversion" / "main.py",
                              {"symbols": "BTCUSD", "market": "coinbase", "start": "2015-09-01",
                               "end": "2018-08-13", "contracts": str(config)}, {"BTCUSD": bars})
    saved = algorithm.object_store.saved
    assert set(saved) == {"alphapulse/RsiMeanReversion/signals.jsonl", "alphapulse/RsiMeanReversion/fills.jsonl"}
    signals = [read_record(line) for line in saved["alphapulse/RsiMeanReversion/signals.jsonl"].splitlines()]
    fills = [read_record(line) for line in saved["alphapulse/RsiMeanReversion/fills.jsonl"].splitlines()]
    assert signals and all(isinstance(s, Signal) for s in signals)
    assert fills and all(isinstance(f, Fill) for f in fills)
    filled = [o for o in algorithm.orders if o.status == "filled"]
    assert len(fills) == len(filled)
    entry_ids = {f.signal_id for f in fills if f.tag == "entry"}
    assert entry_ids <= {s.id for s in signals}


@pytest.mark.parametrize(
    ("parameters", "error", "message"),
    [
        ({"symbols": ""}, ConfigError, "parameter symbols"),
        ({"market": "nasdaq"}, ConfigError, "unknown market 'nasdaq'"),
        ({"start": "yesterday"}, ConfigError, "parameter start"),
        ({"cash": "-5"}, ConfigError, "parameter cash"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, ConfigError, "before start"),
    ],
)
def test_bad_parameters_stop_initialize(parameters: dict[str, str], error: type, message: str) -> None:
    cls = load_algorithm(ALGORITHMS / "MacdCrossover" / "main.py")
    algorithm = cls()
    algorithm.parameters = parameters
    with pytest.raises(error, match=message):
        algorithm.initialize()


def test_bad_contract_file_stops_initialize(tmp_path: Path) -> None:
    cls = load_algorithm(ALGORITHMS / "RsiMeanReversion" / "main.py")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"BTCUSDT": {"strategy": "rsi-mean-reversion",
                                            "risk": {"risk_per_trade": -0.5}}}))
    algorithm = cls()
    algorithm.parameters = {"contracts": str(path)}
    with pytest.raises(ConfigError, match=r"BTCUSDT\.risk\.risk_per_trade"):
        algorithm.initialize()
    path.write_text(json.dumps({"BTCUSDT": {"strategy": "macd-crossover"}}))
    with pytest.raises(ConfigError, match="this algorithm runs 'rsi-mean-reversion'"):
        algorithm.initialize()
    path.write_text(json.dumps({"BTCUSDT": {"strategy": "no-such-strategy"}}))
    with pytest.raises((ConfigError, StrategyError), match="no-such-strategy"):
        algorithm.initialize()


def test_missing_contract_file_stops_initialize(tmp_path: Path) -> None:
    cls = load_algorithm(ALGORITHMS / "MacdCrossover" / "main.py")
    algorithm = cls()
    algorithm.parameters = {"contracts": str(tmp_path / "typo.json")}
    with pytest.raises(ConfigError, match=r"parameter contracts: .*typo\.json does not exist"):
        algorithm.initialize()


def test_a_restarted_algorithm_appends_to_its_journal(lean_data: Path, tmp_path: Path) -> None:
    config = contracts_file(tmp_path, "rsi-mean-reversion", "BTCUSD", "1d")
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    parameters = {"symbols": "BTCUSD", "market": "coinbase", "contracts": str(config)}
    first = run_algorithm(ALGORITHMS / "RsiMeanReversion" / "main.py",
                          {**parameters, "start": "2015-09-01", "end": "2016-12-31"}, {"BTCUSD": bars})
    key = "alphapulse/RsiMeanReversion/signals.jsonl"
    before = first.object_store.saved[key].splitlines()
    cls = load_algorithm(ALGORITHMS / "RsiMeanReversion" / "main.py")
    second = cls()
    second.parameters = {**parameters, "start": "2017-01-01", "end": "2018-08-13"}
    second.object_store.saved = dict(first.object_store.saved)
    second.initialize()
    second.replay({"BTCUSD": bars})
    second.on_end_of_algorithm()
    after = second.object_store.saved[key].splitlines()
    assert before and after[:len(before)] == before and len(after) > len(before)


def test_refused_exit_orders_fall_back_to_exits_at_the_close(lean_data: Path, tmp_path: Path) -> None:
    """A brokerage that refuses stop-market orders (Lean's Binance model on spot crypto): the error is
    logged, no target is placed and the position leaves at the close of the bar that reached a level."""
    from tests.lean.qc_double import load_algorithm as load

    config = contracts_file(tmp_path, "rsi-mean-reversion", "BTCUSD", "1d")
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    algorithm = load(ALGORITHMS / "RsiMeanReversion" / "main.py")()
    algorithm.parameters = {"symbols": "BTCUSD", "market": "coinbase", "start": "2015-09-01", "end": "2018-08-13",
                            "contracts": str(config)}
    algorithm.rejected_order_types = {"stop_market"}
    algorithm.initialize()
    algorithm.replay({"BTCUSD": bars})
    assert any("the stop order was refused" in e for e in algorithm.errors)
    assert not any(o.type == "stop_market" and o.status == "filled" for o in algorithm.orders)
    assert not any(o.type == "limit" for o in algorithm.orders)  # no second resting sell once the stop is refused
    level_exits = [o for o in algorithm.orders if o.tag in ("exit:stop", "exit:target")]
    assert level_exits and all(o.status == "filled" for o in level_exits)
    closes = {int(t) for t in bars.time + bars.period * 10**9}
    assert all(int(o.time.timestamp()) * 10**9 in closes for o in level_exits)  # at a bar's close
