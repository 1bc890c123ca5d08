"""The local runner: the strategies of :mod:`alphapulse.strategies` backtested with Lean's default
semantics, written as a Lean-shaped result folder with an HTML report.

Modules by role: :mod:`.engine` (the vectorised simulation), :mod:`.fees` (fee models per market),
:mod:`.statistics` (Lean's statistics and formatting), :mod:`.results` (the result folder),
:mod:`.report` (the HTML report), :mod:`.backtest` (a whole run: data, signals, simulation,
statistics, output) and :mod:`.main_job` (``scripts/main``).
"""
