"""The local runner: the strategies of :mod:`alphapulse.strategies` backtested with Lean's default
semantics, written as a Lean-shaped result folder with an HTML report.

Modules by role: :mod:`.engine` (the vectorised simulation: the cash book and its loops),
:mod:`.trades` (what it works with and produces: instruments, sizers, trades, Lean's orders),
:mod:`.exits` (the exits of many positions at once), :mod:`.fees` (fee models per market),
:mod:`.statistics` (Lean's statistics and formatting), :mod:`.results` (the result folder),
:mod:`.report` (the HTML report), :mod:`.backtest` (a whole run: data, signals, simulation,
statistics, output) and :mod:`.main_job` (``scripts/main``).
"""
