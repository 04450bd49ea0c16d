"""Reinforcement-learning controllers: REINFORCE and PPO over any DNASpec.

A controller is a policy (`_policies.py`) that samples a DNA decision by
decision along the path actually taken, and is trained on the rewards of the
DNA it proposed:

- `REINFORCE` (Williams 1992; the NAS controller of Zoph & Le, ENAS):
  gradient ascent on `A * log p(dna)` with the advantage `A` = normalised
  reward minus a moving-average baseline, one Adam step every `batch_size`
  rewards.
- `PPO` (Schulman et al. 2017): the clipped surrogate objective
  `min(rho * A, clip(rho, 1 - clip, 1 + clip) * A)` with `rho` the ratio of
  the new to the old probability of the whole DNA, `epochs` Adam steps over
  each batch of `batch_size` rewards.

Both add an entropy bonus (`entropy_weight`) and clip the gradient norm.
Rewards are normalised before the baseline (`reward_normalization`):
`"rank"` (default) maps a reward to its quantile among all rewards so far, so
the scale of the objective and outliers (NAS-Bench-201's 10% cells) do not
matter; `"std"` standardises with the running mean and standard deviation;
`"none"` keeps the raw reward.

Policies (`policy`): `"independent"` logits per decision, or
`"autoregressive"`, an LSTM controller in the style of ENAS whose every
decision conditions on the earlier ones. With `memory_size > 0` (recurrent
policy only) the controller keeps a buffer of the last `memory_size`
evaluated DNA and, at every update, also learns to reconstruct a minibatch of
them from its final hidden state (a linear decoder per decision), so the
hidden state encodes the past decisions; `hidden_state(dna)` returns it.

Determinism and recovery: the weights, the optimizer, the baseline and the
buffer change only on feedback, in feedback order, with float64 numpy and
randomness seeded by (seed, update number); so `recover(history)` replays the
history and rebuilds the weights bit for bit. Proposal `i` samples with the
generator of `(seed, i)`. With `dedup`, a proposal is redrawn (up to
`MAX_ATTEMPTS` times) while it equals an earlier proposal.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._policies import (
    Chooser,
    Encoding,
    Episode,
    IndependentPolicy,
    Mask,
    Policy,
    RecurrentPolicy,
    Step,
)
from automorph.algorithms._registry import register
from automorph.algorithms.models import (
    Adam,
    Array,
    Dense,
    Params,
    Unseen,
    clip_grads,
    entropy_grad,
    log_softmax,
    zero_grads,
)
from automorph.geno import DNA, DecisionPoint
from automorph.symbolic import Bounds
from automorph.utils import AutomorphError, FieldValueError

# Draws per proposal, with `dedup`, before an already proposed DNA is accepted.
MAX_ATTEMPTS = 50
# Seed tags of the generators that are not proposals (see SearchAlgorithm._rng).
_INIT, _MEMORY = 0x1417, 0x3E30


@dataclass
class _Sample:
    steps: list[Step]
    advantage: float


class _Controller(SearchAlgorithm, type_name="automorph.algorithms.Controller"):
    """What REINFORCE and PPO share (see the module docstring for the fields)."""

    policy: Literal["independent", "autoregressive"] = "independent"
    learning_rate: float | None = None
    batch_size: Annotated[int, Bounds(1, None)] = 1
    entropy_weight: Annotated[float, Bounds(0.0, None)] = 0.0
    baseline_decay: Annotated[float, Bounds(0.0, 1.0)] = 0.9
    reward_normalization: Literal["rank", "std", "none"] = "rank"
    hidden_size: Annotated[int, Bounds(1, None)] = 32
    num_bins: Annotated[int, Bounds(2, None)] = 10
    max_grad_norm: Annotated[float, Bounds(0.0, None)] = 5.0
    memory_size: Annotated[int, Bounds(0, None)] = 0
    memory_batch: Annotated[int, Bounds(1, None)] = 16
    memory_weight: Annotated[float, Bounds(0.0, None)] = 1.0
    dedup: bool = True

    needs_feedback: ClassVar[bool] = True

    # Adam's step size when `learning_rate` is None, per policy.
    default_learning_rates: ClassVar[dict[str, float]] = {
        "independent": 0.1,
        "autoregressive": 0.01,
    }

    def _on_bound(self) -> None:
        if self.learning_rate is not None and not self.learning_rate > 0.0:
            raise FieldValueError(
                f"`learning_rate` ({self.learning_rate}) must be positive", path="learning_rate"
            )
        if not 0.0 <= self.baseline_decay < 1.0:
            raise FieldValueError(
                f"`baseline_decay` ({self.baseline_decay}) must be in [0, 1)",
                path="baseline_decay",
            )
        if self.memory_size > 0 and self.policy != "autoregressive":
            raise FieldValueError(
                f"`memory_size` ({self.memory_size}) needs policy='autoregressive' (the memory "
                f"trains a recurrent hidden state), got policy={self.policy!r}",
                path="memory_size",
            )

    # --- state -------------------------------------------------------------------

    def _setup(self) -> None:
        self._encoding = Encoding(self._spec, self.num_bins)
        self._policy: Policy = (
            RecurrentPolicy(self._encoding, self.hidden_size)
            if self.policy == "autoregressive"
            else IndependentPolicy(self._encoding)
        )
        init = np.random.default_rng([self.seed or 0, _INIT])
        self._params = self._policy.init(init)
        self._decoder = Dense("decoder", self.hidden_size, max(1, self._encoding.num_options))
        if self.memory_size > 0:
            self._decoder.init(self._params, init)
        self._optimizer = Adam(self.effective_learning_rate)
        self._seen = Unseen()
        self._batch: list[_Sample] = []
        self._memory: list[list[Step]] = []
        self._rewards: list[float] = []  # sorted, for rank normalisation
        self._mean, self._m2 = 0.0, 0.0
        self._baseline: float | None = None
        self._num_updates = 0

    @property
    def effective_learning_rate(self) -> float:
        """`learning_rate`, or the policy's default if it is None."""
        if self.learning_rate is not None:
            return self.learning_rate
        return self.default_learning_rates[self.policy]

    @property
    def weights(self) -> Params:
        """A copy of the controller's weights (name -> array); empty before `setup`."""
        return {k: v.copy() for k, v in getattr(self, "_params", {}).items()}

    @property
    def baseline(self) -> float | None:
        """The moving-average baseline of the normalised rewards (None before any)."""
        return getattr(self, "_baseline", None)

    @property
    def num_updates(self) -> int:
        """How many times the weights have been updated."""
        return getattr(self, "_num_updates", 0)

    # --- proposals ---------------------------------------------------------------

    def _propose(self, rng: np.random.Generator) -> DNA:
        attempts = MAX_ATTEMPTS if self.dedup else 1
        dna = self._seen.draw(lambda: self._sample(rng)[0], attempts)[0]
        self._seen.add(dna)
        return dna

    def _sample(self, rng: np.random.Generator) -> tuple[DNA, list[Step]]:
        return self._encoding.walk(self._spec, _Sampler(self._policy, self._params, rng))

    def log_prob(self, dna: DNA) -> float:
        """The log-probability that the policy gives to the decisions of `dna`
        (its learned decisions; floats and wide ints by bin)."""
        self._check_setup()
        self._check_dna(dna)
        steps = self._encoding.steps_of(dna)
        episode = self._policy.run(self._params, steps)
        return sum(_log_probs(episode, steps))

    def hidden_state(self, dna: DNA) -> Array:
        """The recurrent controller's hidden state after the decisions of `dna`.

        Raises:
            AutomorphError: If the policy is not autoregressive.
        """
        self._check_setup()
        if not isinstance(self._policy, RecurrentPolicy):
            raise AutomorphError(
                f"hidden_state needs policy='autoregressive', this controller has "
                f"policy={self.policy!r}"
            )
        self._check_dna(dna)
        episode = self._policy.run(self._params, self._encoding.steps_of(dna))
        return self._policy.final_state(self._params, episode)

    # --- feedback ------------------------------------------------------------------

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        self._seen.add(dna)
        if reward is not None:
            self._feedback(dna, reward)

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._seen.add(dna)
        steps = self._encoding.steps_of(dna)
        value = self._normalize(float(reward))  # type: ignore[arg-type]
        baseline = value if self._baseline is None else self._baseline
        self._batch.append(_Sample(steps, value - baseline))
        self._baseline = self.baseline_decay * baseline + (1.0 - self.baseline_decay) * value
        if self.memory_size > 0:
            self._memory.append(steps)
            del self._memory[: -self.memory_size]
        if len(self._batch) >= self.batch_size:
            self._update(self._batch)
            self._batch = []
            self._num_updates += 1

    def _normalize(self, reward: float) -> float:
        count = len(self._rewards) + 1
        bisect.insort(self._rewards, reward)
        delta = reward - self._mean
        self._mean += delta / count
        self._m2 += delta * (reward - self._mean)
        if self.reward_normalization == "rank":
            below = bisect.bisect_left(self._rewards, reward)
            above = len(self._rewards) - bisect.bisect_right(self._rewards, reward)
            return (below + (count - below - above - 1) / 2) / max(count - 1, 1) - 0.5
        if self.reward_normalization == "std":
            std = (self._m2 / count) ** 0.5
            return (reward - self._mean) / std if std > 0.0 else 0.0
        return reward

    def _update(self, batch: list[_Sample]) -> None:
        raise NotImplementedError

    def _step(self, grads: Params) -> None:
        """One Adam step on `grads` (plus the memory loss), after clipping."""
        if self.memory_size > 0 and self._memory:
            self._memory_grads(grads)
        clip_grads(grads, self.max_grad_norm)
        self._optimizer.step(self._params, grads)

    def _episode_grads(
        self, grads: Params, steps: list[Step], weight: float, coef: Any = None
    ) -> float:
        """Adds the gradient of `-coef(logp) * logp(steps) - entropy_weight *
        entropy`, times `weight`, into `grads`. `coef` maps the episode's
        log-probability to the coefficient of its log-probability; returns it."""
        episode = self._policy.run(self._params, steps)
        d_logits: list[Array] = []
        log_p = _log_probs(episode, steps)
        total = sum(log_p)
        c = coef(total) if callable(coef) else float(coef)
        for logits, step in zip(episode.logits, steps, strict=True):
            probs = np.exp(log_softmax(logits, step.mask))
            d = c * probs
            d[step.option] -= c
            if self.entropy_weight:
                d -= self.entropy_weight * entropy_grad(probs)[1]
            d_logits.append(weight * d)
        self._policy.backward(self._params, grads, episode, d_logits)
        return total

    def _memory_grads(self, grads: Params) -> None:
        """Adds the gradient of the reconstruction loss of a minibatch of the memory."""
        policy = self._policy
        assert isinstance(policy, RecurrentPolicy)
        rng = np.random.default_rng([self.seed or 0, _MEMORY, self._num_updates])
        size = min(self.memory_batch, len(self._memory))
        chosen = rng.choice(len(self._memory), size=size, replace=False)
        weight = self.memory_weight / size
        for index in sorted(chosen.tolist()):
            steps = self._memory[index]
            episode = policy.run(self._params, steps)
            h = policy.final_state(self._params, episode)
            full, cache = self._decoder.forward(self._params, h)
            d_full = np.zeros_like(full)
            for step in steps:
                part = slice(
                    self._encoding.offsets[step.slot], self._encoding.offsets[step.slot + 1]
                )
                probs = np.exp(log_softmax(full[part], step.mask))
                probs[step.option] -= 1.0
                d_full[part] += weight * probs
            d_h = self._decoder.backward(self._params, grads, cache, d_full)
            zeros = [np.zeros_like(x) for x in episode.logits]
            policy.backward(self._params, grads, episode, zeros, d_h)


def _log_probs(episode: Episode, steps: list[Step]) -> list[float]:
    return [
        float(log_softmax(logits, step.mask)[step.option])
        for logits, step in zip(episode.logits, steps, strict=True)
    ]


class _Sampler(Chooser):
    """Samples each decision from the policy, advancing it step by step."""

    def __init__(self, policy: Policy, params: Params, rng: np.random.Generator) -> None:
        self.policy, self.params, self.rng = policy, params, rng
        self.episode = policy.begin(params)

    def choose(self, decision_id: str, point: DecisionPoint, slot: int, mask: Mask) -> int:
        logits = self.policy.logits(self.params, self.episode, slot)
        weights = np.exp(logits - logits.max() if mask is None else logits - logits[mask].max())
        if mask is not None:
            weights[~mask] = 0.0
        cumulative = np.cumsum(weights)
        option = int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], "right"))
        option = min(option, len(weights) - 1)
        while mask is not None and not mask[option]:  # rounding at a masked edge
            option -= 1
        self.policy.advance(self.params, self.episode, slot, option)
        return option

    def value(self, point: DecisionPoint, option: int) -> Any:
        return self.policy.encoding.value_of(point, option, self.rng)


@register("reinforce")
class REINFORCE(_Controller, type_name="automorph.algorithms.REINFORCE"):
    """REINFORCE with a moving-average baseline (see the module docstring).

    Attributes:
        policy: `"independent"` logits per decision, or `"autoregressive"`
            (an LSTM controller, ENAS style).
        learning_rate: Adam's step size; None: 0.1 for the independent
            policy, 0.01 for the autoregressive one (see
            `default_learning_rates`).
        batch_size: Rewards per update.
        entropy_weight: Weight of the entropy bonus.
        baseline_decay: Decay of the moving-average baseline, in [0, 1).
        reward_normalization: `"rank"`, `"std"` or `"none"`.
        hidden_size: Size of the recurrent controller's hidden state.
        num_bins: Bins of a float decision (and of an int with more values).
        max_grad_norm: Clip of the gradient's global norm (0: no clipping).
        memory_size: Evaluated DNA kept to train the hidden state to encode
            past decisions (0: no memory; needs the autoregressive policy).
        memory_batch: DNA of the memory reconstructed per update.
        memory_weight: Weight of the reconstruction loss.
        dedup: Redraw proposals equal to earlier ones.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.REINFORCE(seed=0)
    >>> search.setup(am.dna_spec(am.List([am.oneof(range(4)) for _ in range(3)])))
    >>> for _ in range(60):
    ...     dna = search.propose()
    ...     search.feedback(dna, float(sum(dna.to_numbers())))
    >>> bool(search.log_prob(am.DNA({"[0]": 3, "[1]": 3, "[2]": 3})) > 3 * np.log(1 / 4))
    True
    """

    def _update(self, batch: list[_Sample]) -> None:
        grads = zero_grads(self._params)
        for sample in batch:
            self._episode_grads(grads, sample.steps, 1.0 / len(batch), sample.advantage)
        self._step(grads)


@register("ppo")
class PPO(_Controller, type_name="automorph.algorithms.PPO"):
    """Proximal policy optimisation with the clipped objective (see the module docstring).

    The other fields are those of `REINFORCE`, except the defaults: `batch_size`
    10, and a learning rate of 0.05 for the independent policy.

    Attributes:
        clip: The clip range of the probability ratio, in (0, 1).
        epochs: Adam steps over each batch.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.PPO(seed=0, policy="autoregressive")
    >>> search.setup(am.dna_spec(am.Dict(op=am.oneof(["a", "b"]), n=am.intv(1, 3))))
    >>> dna = search.propose()
    >>> search.feedback(dna, 1.0)
    >>> sorted(dna.keys())
    ['n', 'op']
    """

    batch_size: Annotated[int, Bounds(1, None)] = 10
    clip: Annotated[float, Bounds(0.0, 1.0)] = 0.2
    epochs: Annotated[int, Bounds(1, None)] = 4

    default_learning_rates: ClassVar[dict[str, float]] = {
        "independent": 0.05,
        "autoregressive": 0.01,
    }

    def _on_bound(self) -> None:
        super()._on_bound()
        if not 0.0 < self.clip < 1.0:
            raise FieldValueError(f"`clip` ({self.clip}) must be in (0, 1)", path="clip")

    def _update(self, batch: list[_Sample]) -> None:
        old = [sum(_log_probs(self._policy.run(self._params, s.steps), s.steps)) for s in batch]
        low, high = 1.0 - self.clip, 1.0 + self.clip
        for _ in range(self.epochs):
            grads = zero_grads(self._params)
            for sample, old_log_p in zip(batch, old, strict=True):
                advantage = sample.advantage

                def coef(log_p: float, a: float = advantage, o: float = old_log_p) -> float:
                    ratio = float(np.exp(log_p - o))
                    if (a > 0.0 and ratio > high) or (a < 0.0 and ratio < low):
                        return 0.0  # the clipped term is the smaller: no gradient
                    return a * ratio

                self._episode_grads(grads, sample.steps, 1.0 / len(batch), coef)
            self._step(grads)
