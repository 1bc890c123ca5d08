"""AlphaPulse tools that Lean never needs: data download and conversion, the local runner,
the exporter, live paper trading, machine learning and the ``alphapulse`` command line."""
