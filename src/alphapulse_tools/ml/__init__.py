"""Meta-labelling: a model of whether a strategy's signal reaches its target before its stop.

The strategy proposes, the model estimates the probability that the proposed trade succeeds, and
that probability becomes one factor of the signal's score (:class:`alphapulse.model_factor.ModelFactor`)
or a filter. Modules by role:

* :mod:`.labels`: triple-barrier labels with the runner's exit rules;
* :mod:`.dataset`: features at each signal's bar (:mod:`alphapulse.features`) and its label;
* :mod:`.walkforward`: purged walk-forward folds with an embargo;
* :mod:`.model`: the Keras network, deterministic training, Platt calibration, saving;
* :mod:`.evaluate`: out-of-sample AUC, Brier, precision, reliability and the runner's backtest with
  and without the model;
* :mod:`.workflow`: what ``alphapulse ml train`` / ``alphapulse ml evaluate`` run.

TensorFlow (the ``ml`` extra) is imported only inside the functions that train or load a model.
"""
