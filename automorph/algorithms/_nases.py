"""NASES: search in a learned embedding of the space.

A `DNAAutoencoder` is pre-trained on random DNA of the space (from the
seed, or `pretrain_seed`; cached per process, so repeated runs and
`recover` reuse it), and the search then acts on codes in `[-1, 1]^d`;
every code it picks is decoded into a valid DNA. Two policies:

- "bo": Bayesian optimization in the embedding. The model core's Gaussian
  process (`automorph.algorithms.models`) is fitted on the codes of the
  evaluated DNA; `num_candidates` codes are drawn, half
  around the codes of the best DNA so far (Gaussian steps of `step_size`)
  and half uniformly in the cube, decoded, re-encoded (so each candidate is
  scored at the code of the DNA it stands for) and the one with the highest
  expected improvement that has not been proposed is proposed.
- "rl": a Gaussian policy over codes, trained with REINFORCE: it starts as
  the mean and standard deviation of the codes of random DNA; codes are
  drawn from N(mean, diag(std^2)) until one decodes to a DNA not proposed
  yet; each reward moves the mean towards (or away from) the code of its
  DNA in proportion to the advantage over a moving-average baseline
  (normalized by a moving mean absolute deviation, clipped to [-2, 2]),
  and the log standard deviations follow the score-function gradient;
  `learning_rate` scales both steps.

The first `num_initial` proposals are random DNA. When every candidate
decodes to a DNA already proposed, the best one is repaired: a decision at a
time is mutated until it is new (or `_REPAIR_TRIES` runs out).

State: the DNA proposed and the rewards in feedback order (and, for "rl",
the policy they produce), so `recover` rebuilds it exactly; the actions the
policy learns from are the codes of the DNA, not the codes drawn.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import register
from automorph.algorithms._variation import Mutate
from automorph.algorithms.models import DNAAutoencoder, Observations, pretrained
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError

_REPAIR_TRIES = 50
_MIN_STD, _MAX_STD = 0.02, 1.0
_POLICY_STREAM, _POLICY_SAMPLES = 0x9011C7, 256
_MAX_U = 2.5
_FIT_STREAM = 0x9A5E5


@register("nases")
class NASES(SearchAlgorithm, type_name="automorph.algorithms.NASES"):
    """Search in a pre-trained embedding of the space (see the module docstring).

    Attributes:
        policy: "bo" (Gaussian-process BO on codes) or "rl" (Gaussian policy,
            REINFORCE).
        latent_dim: The size of a code.
        hidden: The hidden width of the encoder and decoder.
        pretrain_samples: Random DNA the autoencoder is pre-trained on.
        pretrain_steps: Adam steps of pre-training.
        pretrain_seed: Seed of pre-training (None: `seed`).
        num_initial: Random proposals before the policy acts.
        num_candidates: Codes drawn per proposal ("bo") or the most codes
            drawn to find a new DNA ("rl").
        step_size: "bo": standard deviation of the steps around the best
            codes.
        learning_rate: "rl": the step of the policy's updates.
        baseline_decay: "rl": decay of the moving-average baseline.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.NASES(seed=0, latent_dim=4, pretrain_steps=400, num_initial=5)
    >>> search.setup(am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(4)])))
    >>> for _ in range(25):
    ...     dna = search.propose()
    ...     search.feedback(dna, sum(dna.values()))
    >>> max(search.observations.rewards)
    8.0
    """

    policy: Literal["bo", "rl"] = "bo"
    latent_dim: Annotated[int, Bounds(1, None)] = 8
    hidden: Annotated[int, Bounds(1, None)] = 64
    pretrain_samples: Annotated[int, Bounds(1, None)] = 4096
    pretrain_steps: Annotated[int, Bounds(0, None)] = 3000
    pretrain_seed: int | None = None
    num_initial: Annotated[int, Bounds(1, None)] = 10
    num_candidates: Annotated[int, Bounds(1, None)] = 200
    step_size: Annotated[float, Bounds(0.0, None)] = 0.3
    learning_rate: Annotated[float, Bounds(0.0, None)] = 0.2
    baseline_decay: Annotated[float, Bounds(0.0, 1.0)] = 0.9

    handles_custom = False  # models DNA as vectors: see `models.DNAEncoder`

    def _on_bound(self) -> None:
        if not self.step_size > 0.0:
            raise FieldValueError(
                f"`step_size` ({self.step_size}) must be positive", path="step_size"
            )

    def _setup(self) -> None:
        seed = self.pretrain_seed if self.pretrain_seed is not None else (self.seed or 0)
        self._model: DNAAutoencoder = pretrained(
            self._spec,
            seed,
            self.latent_dim,
            self.hidden,
            self.pretrain_samples,
            self.pretrain_steps,
        )
        self._obs = Observations(self.latent_dim, seed=self.seed or 0, stream=_FIT_STREAM)
        # The policy starts as the distribution of the codes of random DNA.
        rng = np.random.default_rng([self.seed or 0, _POLICY_STREAM])
        codes = self._model.encode([self._spec.random_dna(rng) for _ in range(_POLICY_SAMPLES)])
        self._mean = codes.mean(axis=0)
        self._log_std = np.log(np.clip(codes.std(axis=0), _MIN_STD, _MAX_STD))
        self._baseline: float | None = None
        self._spread = 1.0

    @property
    def autoencoder(self) -> DNAAutoencoder:
        """The pre-trained autoencoder (after `setup`)."""
        self._check_setup()
        return self._model

    @property
    def observations(self) -> Observations:
        """The proposals and rewards seen so far (after `setup`)."""
        self._check_setup()
        return self._obs

    @property
    def policy_mean(self) -> np.ndarray:
        """The mean code of the "rl" policy (a copy)."""
        self._check_setup()
        mean: np.ndarray = self._mean.copy()
        return mean

    def _propose(self, rng: np.random.Generator) -> DNA:
        if self._num_proposed < self.num_initial or not self._obs.rewards:
            dna = self._spec.random_dna(rng)
        elif self.policy == "bo":
            dna = self._propose_bo(rng)
        else:
            dna = self._propose_rl(rng)
        if dna in self._obs.proposed:
            dna = self._repair(dna, rng)
        self._obs.proposed.add(dna)
        return dna

    def _propose_bo(self, rng: np.random.Generator) -> DNA:
        model = self._obs.model()
        assert model is not None  # there is a reward: see _propose
        top = self._model.encode(self._obs.top(5))
        half = self.num_candidates // 2
        local = top[np.arange(half) % len(top)] + self.step_size * rng.standard_normal(
            (half, self.latent_dim)
        )
        wide = rng.uniform(-1.0, 1.0, (self.num_candidates - half, self.latent_dim))
        decoded = self._model.decode(np.clip(np.vstack([local, wide]), -1.0, 1.0))
        fresh = self._obs.proposed.fresh(decoded)
        if not fresh:
            return decoded[0]
        scores = model.log_expected_improvement(self._model.encode(fresh))
        return fresh[int(np.argmax(scores))]

    def _propose_rl(self, rng: np.random.Generator) -> DNA:
        std = np.exp(self._log_std)

        def draw() -> DNA:
            z = np.clip(self._mean + std * rng.standard_normal(self.latent_dim), -1.0, 1.0)
            return self._model.decode(z)[0]

        return self._obs.proposed.draw(draw, self.num_candidates)[0]

    def _repair(self, dna: DNA, rng: np.random.Generator) -> DNA:
        """A DNA near `dna` not proposed yet (mutating one decision at a time)."""
        mutate = Mutate()
        chain = [dna]

        def step() -> DNA:
            chain.append(mutate.mutate(chain[-1], self._spec, rng))
            return chain[-1]

        return self._obs.proposed.draw(step, _REPAIR_TRIES)[0]

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        value = float(reward)  # type: ignore[arg-type]
        code = self._model.encode([dna])[0]
        self._obs.add(dna, value, code)
        if self.policy == "rl":
            self._update_policy(code, value)

    def _update_policy(self, code: np.ndarray, reward: float) -> None:
        """One REINFORCE step of the Gaussian policy towards `code`, weighted by the advantage."""
        if self._baseline is None:
            self._baseline = reward
            return
        decay = self.baseline_decay
        advantage = (reward - self._baseline) / max(self._spread, 1e-8)
        advantage = float(np.clip(advantage, -2.0, 2.0))
        std = np.exp(self._log_std)
        u = np.clip((code - self._mean) / std, -_MAX_U, _MAX_U)
        self._mean = np.clip(self._mean + self.learning_rate * advantage * std * u, -1.0, 1.0)
        step = 0.5 * self.learning_rate * advantage * (u * u - 1.0)
        self._log_std = np.clip(self._log_std + step, np.log(_MIN_STD), np.log(_MAX_STD))
        self._spread = decay * self._spread + (1.0 - decay) * abs(reward - self._baseline)
        self._baseline = decay * self._baseline + (1.0 - decay) * reward

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        self._obs.proposed.add(dna)
        if reward is not None:
            self._feedback(dna, reward)
