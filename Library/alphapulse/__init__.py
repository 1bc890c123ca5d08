"""AlphaPulse core: candlestick patterns, indicators, signals and risk.

This package is shared by every runtime (the local runner, the Lean algorithms, live paper
trading). It is also a Lean CLI library (see ``config.json`` beside this file), so it may only
import what Lean's foundation image has: the standard library, numpy, pandas and TA-Lib.
TensorFlow is imported lazily, and only when a model is configured.
"""

from alphapulse.bars import Bar, Bars
from alphapulse.errors import AlphaPulseError, BarError, ConfigError, DataError

__all__ = ["AlphaPulseError", "Bar", "BarError", "Bars", "ConfigError", "DataError"]
__version__ = "0.1.0"
