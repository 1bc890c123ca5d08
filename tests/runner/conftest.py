"""Fixtures of the runner tests: a strategy of the tests' own can stand in for the registry."""

from __future__ import annotations

import pytest

from tests.runner.replay import CrossoverProbe


@pytest.fixture
def probe_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every strategy name resolve to :class:`CrossoverProbe` (n=5) for this test."""
    from alphapulse_tools.runner import backtest

    def make(name, contract, symbol, market):
        return CrossoverProbe(5, symbol=symbol, market=market, interval=contract.timeframe)

    monkeypatch.setattr(backtest, "_strategy_for", make)
