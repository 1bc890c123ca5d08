"""MacdCrossover: the AlphaPulse `macd-crossover` strategy on Lean (rules in Library/alphapulse)."""

from pathlib import Path

from AlgorithmImports import *

from alphapulse.lean_adapter import LeanStrategyRunner


class MacdCrossover(QCAlgorithm):
    def initialize(self) -> None:
        self.alphapulse = LeanStrategyRunner(self, name="MacdCrossover", strategy="macd-crossover",
                                             project_dir=Path(__file__).resolve().parent,
                                             default_symbols="BTCUSDT")

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.alphapulse.on_order_event(order_event)

    def on_end_of_algorithm(self) -> None:
        self.alphapulse.on_end_of_algorithm()
