"""The strategy script trades the core's signals with the core's execution rules, and its alerts are
exactly the webhook's JSON: filled in as TradingView fills them, they pass the webhook's own model."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import SecretStr

from alphapulse_webhook import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, fill_placeholders, parse_alert
from alphapulse_webhook.schema import AlertRejected
from tests.core.datasets import load_dataset
from tests.pine.pine_offline import PINE_DIR, run_pine, tradingview_period
from tests.pine.test_pine_signals import BROAD, BROAD_INPUTS, MAX_BARS, core_signals, signal_differences

STRATEGY = PINE_DIR / "alphapulse_strategy.pine"
MAX_TRADE_BARS = 12
TICK = 1e-8  # the symbol tick run_pine declares
SECRET = "s3cret-for-tests"
MESSAGE = re.compile(r"^alertMessage = '(.*)' \+ webhookSecret \+ '(.*)'$", re.M)


@pytest.fixture(scope="module")
def traded(shared_data):
    """The strategy run on real hourly bitcoin bars with the broad configuration and a time exit."""
    data = load_dataset(shared_data, "lean/coinbase/minute/btcusd")
    bars = data.bars[-MAX_BARS:]
    run = run_pine(STRATEGY, bars, inputs={**BROAD_INPUTS, "maxBars": MAX_TRADE_BARS},
                   ticker="BTCUSD", prefix="COINBASE")
    return bars, run


def pine_message(secret: str) -> str:
    """The strategy's alert message as Pine builds it (its string literals around the secret)."""
    found = MESSAGE.search(STRATEGY.read_text())
    assert found, "alphapulse_strategy.pine must build alertMessage from webhookSecret"
    return found.group(1) + secret + found.group(2)


def test_strategy_signals_equal_the_core(traded):
    bars, run = traded
    assert signal_differences(run.plots, bars, core_signals(BROAD, bars)) == []


def test_trades_follow_the_core_execution_rules(traded):
    bars, run = traded
    direction, stop, target = run["signal_direction"], run["signal_stop"], run["signal_target"]
    assert len(run.trades) >= 5
    previous_exit = -1
    for trade in run.trades:
        i = trade.entry_bar_index
        # entry: a market order at the signal bar's close, in the signal's direction, when flat
        assert direction[i] == np.sign(trade.size)
        assert abs(trade.entry_price - bars.close[i]) <= TICK
        assert i >= previous_exit
        # exit: at the stop, at the target or at the close of the MAX_TRADE_BARS-th bar
        j = trade.exit_bar_index
        assert i < j <= i + MAX_TRADE_BARS
        if trade.exit_comment == "AP time exit":
            assert j == i + MAX_TRADE_BARS and abs(trade.exit_price - bars.close[j]) <= TICK
        else:  # the stop or the target (order prices are rounded to the tick), or the open after a gap
            assert trade.exit_comment in ("AP stop", "AP target", "")
            assert (abs(trade.exit_price - stop[i]) <= TICK or abs(trade.exit_price - target[i]) <= TICK
                    or trade.exit_price == bars.open[j])
        previous_exit = j
    # signals while a position is open are ignored
    inside = [i for t in run.trades for i in range(t.entry_bar_index + 1, t.exit_bar_index)]
    assert not {t.entry_bar_index for t in run.trades} & set(inside)


def test_alert_message_is_the_webhook_template():
    assert pine_message(SECRET_PLACEHOLDER) == MESSAGE_TEMPLATE
    source = STRATEGY.read_text()
    orders = re.findall(r"strategy\.(entry|exit|close_all)\(([^\n]*)\)\n", source)
    assert {kind for kind, _ in orders} == {"entry", "exit", "close_all"}
    assert all("alert_message=alertMessage" in arguments for _, arguments in orders)


def filled_alerts(bars, run) -> list[str]:
    """The alert bodies TradingView would send for the run's fills (entries and exits)."""
    common = {"ticker": "BTCUSD", "exchange": "COINBASE", "interval": tradingview_period(bars.period)}
    bodies = []
    for trade in run.trades:
        side = "buy" if trade.size > 0 else "sell"
        fills = [(trade.entry_time, side if trade.size > 0 else "sell", trade.entry_price, trade.entry_id,
                  trade.entry_comment, trade.size),
                 (trade.exit_time, "sell" if trade.size > 0 else "buy", trade.exit_price, trade.exit_id,
                  trade.exit_comment, 0.0)]
        for time_ms, action, price, order_id, comment, position in fills:
            stamp = datetime.fromtimestamp(time_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            values = {**common, "time": stamp, "strategy.order.action": action,
                      "strategy.order.price": repr(float(price)),
                      "strategy.order.contracts": repr(abs(float(trade.size))),
                      "strategy.order.id": order_id, "strategy.order.comment": comment or "",
                      "strategy.position_size": repr(float(position))}
            bodies.append(fill_placeholders(pine_message(SECRET), values))
    return bodies


def test_filled_alerts_pass_the_webhook_model(traded):
    bars, run = traded
    bodies = filled_alerts(bars, run)
    assert len(bodies) == 2 * len(run.trades) > 0
    for body in bodies:
        assert "{{" not in body
        alert = parse_alert(body.encode(), SecretStr(SECRET))
        assert alert.strategy == "AlphaPulse" and alert.ticker == "BTCUSD"
        assert alert.action in ("buy", "sell") and alert.price > 0


def test_a_wrong_secret_is_rejected(traded):
    bars, run = traded
    body = filled_alerts(bars, run)[0]
    with pytest.raises(AlertRejected):
        parse_alert(body.encode(), SecretStr("another secret"))
