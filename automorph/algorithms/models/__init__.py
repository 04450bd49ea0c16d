"""The model core of the model-based and learned search algorithms.

One implementation of each piece, shared by GP-BO, NASES, NASIB, PNAS, the
reinforcement-learning controllers and the grammar's graph BO:

- DNA as vectors (`DNAEncoder`): the feature layout of a space (one-hot
  blocks for choices, numbers in [0, 1]), `encode(dna) -> vector`,
  `decode(vector, rng) -> DNA` for any vector in that layout (a continuous
  optimizer's point included), raw rows for candidate generators, active
  masks, each column's kind and bounds; `to_unit`/`from_unit` map one number
  decision, `num_options`/`option_of`/`value_of` cut it into bins.
- A Gaussian process (`GaussianProcess`) with a feature kernel (`Matern52`:
  ARD Matérn-5/2 over groups of columns) or a kernel the caller computes
  (`Precomputed`: graph kernels), and one hyper-parameter fit
  (`fit_hyperparameters`: marginal likelihood, by Adam). `Surrogate` runs it
  over a growing set of observations (bounded training set, refits on a
  schedule, constant liars, rewards optionally warped by `warp_rewards`);
  `Observations` adds the DNA bookkeeping of a search; `Ridge` is the
  linear alternative.
- `QuadraticModel`: the linear-quadratic regression surrogate of
  lq-CMA-ES (`CMAES(surrogate="lq")`), with its minimizer and its rank
  correlation with the latest values.
- Acquisition functions (`expected_improvement`, `log_expected_improvement`,
  `upper_confidence_bound`), with `scipy.special`.
- A numpy network kit (`Dense`, `Embedding`, `LSTMCell`, softmax helpers)
  and the one optimizer, `Adam`; `DNAAutoencoder` is built from it.
- `Unseen`: the DNA a search proposed, and new DNA that avoid them.

These are building blocks for algorithm authors, not search algorithms:
`automorph.algorithms` does not re-export them (except `DNAAutoencoder`).

>>> import numpy as np
>>> import automorph as am
>>> spec = am.dna_spec(am.Dict(lr=am.floatv(1e-4, 1e-1, scale="log"), op=am.oneof("abc")))
>>> encoder = DNAEncoder(spec)
>>> vector = encoder.encode(am.DNA({"lr": 1e-2, "op": 1}))
>>> [round(v, 3) for v in vector.tolist()], encoder.column_kinds
([0.667, 0.0, 1.0, 0.0], ['float', 'one_hot', 'one_hot', 'one_hot'])
>>> encoder.decode(np.array([0.0, 0.2, 0.1, 0.9]), np.random.default_rng(0))
DNA({'lr': 0.0001, 'op': 2})
"""

from __future__ import annotations

from automorph.algorithms.models._acquisition import (
    expected_improvement,
    log_expected_improvement,
    upper_confidence_bound,
)
from automorph.algorithms.models._autoencoder import DNAAutoencoder, pretrained
from automorph.algorithms.models._data import (
    WARPS,
    RewardWarp,
    Rows,
    finite,
    refit_point,
    standardize,
    training_indices,
    warp_rewards,
)
from automorph.algorithms.models._encoder import (
    KERNEL_HOT,
    KERNEL_INACTIVE,
    DNAEncoder,
    Entry,
    from_unit,
    num_options,
    option_of,
    to_unit,
    value_of,
)
from automorph.algorithms.models._gp import (
    GaussianProcess,
    Kernel,
    Matern52,
    Precomputed,
    fit_hyperparameters,
    neg_log_posterior,
)
from automorph.algorithms.models._nets import (
    Adam,
    Array,
    Dense,
    Embedding,
    LSTMCache,
    LSTMCell,
    Params,
    clip_grads,
    entropy_grad,
    log_softmax,
    softmax,
    zero_grads,
)
from automorph.algorithms.models._quadratic import QuadraticModel
from automorph.algorithms.models._regression import Predictor, Ridge
from automorph.algorithms.models._surrogate import GPPredictor, Observations, Surrogate
from automorph.algorithms.models._unseen import Unseen

__all__ = [
    "KERNEL_HOT",
    "KERNEL_INACTIVE",
    "Adam",
    "Array",
    "DNAAutoencoder",
    "DNAEncoder",
    "Dense",
    "Embedding",
    "Entry",
    "GPPredictor",
    "GaussianProcess",
    "Kernel",
    "LSTMCache",
    "LSTMCell",
    "Matern52",
    "Observations",
    "Params",
    "Precomputed",
    "Predictor",
    "QuadraticModel",
    "RewardWarp",
    "Ridge",
    "Rows",
    "Surrogate",
    "Unseen",
    "WARPS",
    "clip_grads",
    "entropy_grad",
    "expected_improvement",
    "finite",
    "fit_hyperparameters",
    "from_unit",
    "log_expected_improvement",
    "log_softmax",
    "neg_log_posterior",
    "num_options",
    "option_of",
    "pretrained",
    "refit_point",
    "softmax",
    "standardize",
    "to_unit",
    "training_indices",
    "upper_confidence_bound",
    "value_of",
    "warp_rewards",
    "zero_grads",
]
