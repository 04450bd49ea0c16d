"""Early stopping: multi-fidelity policies that end unpromising trials early.

A policy (`EarlyStoppingPolicy`) decides from measurements alone whether a
trial should stop: `should_stop(trial_id, curve, others)` takes the trial's
`(step, reward)` curve and the other trials' curves, and keeps no state, so
it answers the same in one process and in every worker of a shared study.
Policies are symbolic objects (they print, serialize and can be searched
over) and are registered by name (`names()`, `create()`):

* `MedianStopping`: the median stopping rule (Google Vizier, Optuna).
* `SuccessiveHalving`: asynchronous successive halving (ASHA).
* `Hyperband`: brackets of ASHA with different aggressiveness.
* `NoStopping`: every trial runs to its end.

Rewards are single numbers, higher is better; multi-objective studies do not
stop early.
"""

from __future__ import annotations

from automorph.early_stopping._base import (
    Curve,
    EarlyStoppingPolicy,
    Measurement,
    NoStopping,
    create,
    names,
    register,
)
from automorph.early_stopping._halving import Hyperband, SuccessiveHalving
from automorph.early_stopping._median import MedianStopping

__all__ = [
    "Curve",
    "EarlyStoppingPolicy",
    "Hyperband",
    "Measurement",
    "MedianStopping",
    "NoStopping",
    "SuccessiveHalving",
    "create",
    "names",
    "register",
]
