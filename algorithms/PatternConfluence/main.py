"""PatternConfluence: the AlphaPulse `pattern-confluence` strategy on Lean (rules in Library/alphapulse)."""

from pathlib import Path

from AlgorithmImports import *

from alphapulse.lean_adapter import LeanStrategyRunner


class PatternConfluence(QCAlgorithm):
    def initialize(self) -> None:
        self.alphapulse = LeanStrategyRunner(self, name="PatternConfluence", strategy="pattern-confluence",
                                             project_dir=Path(__file__).resolve().parent,
                                             default_symbols="BTCUSDT")

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.alphapulse.on_order_event(order_event)

    def on_end_of_algorithm(self) -> None:
        self.alphapulse.on_end_of_algorithm()
