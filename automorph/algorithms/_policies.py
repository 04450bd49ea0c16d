"""Policies over any DNASpec for the reinforcement-learning controllers.

A DNA is seen as the sequence of decisions on the path actually taken: the
walk of `Space.random_dna(rng, fill)` visits exactly the active decisions, in
order, and the policy makes each one as it is reached (so the sub-decisions
of a candidate are drawn only when that candidate is chosen). Each decision
becomes a *slot* with a finite number of *options*:

- `Choices`: one slot per pick (`num_choices` of them), one option per
  candidate. Distinct picks mask the candidates already picked; sorted picks
  mask those that would break the order (and, if distinct, those that would
  leave too few candidates for the remaining picks), so the sampled order is
  the stored order and the log-probability of a DNA is exact.
- `Int`: one option per value if there are at most `num_bins` values, else
  `num_bins` equal bins of the range, a value drawn uniformly inside the bin.
- `Float`: `num_bins` equal bins on the decision's scale (linear or log), a
  value drawn uniformly inside the bin. (Discretisation rather than a
  Gaussian head: it handles multi-modal rewards and needs no variance tuning.)
- `CustomDecisionPoint`: not learned; drawn by its hooks.

Slots are keyed by (decision point, pick), not by decision id, so the sub-
decisions of one candidate share their slot whichever pick led to them, and
the number of parameters is bounded by the size of the spec.

`IndependentPolicy` has one vector of logits per slot. `RecurrentPolicy` is an
LSTM (ENAS style): the input of each step is the embedding of the previous
decision's (slot, option) plus an embedding of the slot to decide, and the
step's hidden state gives the slot's logits, so each decision conditions on
all earlier ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from automorph.algorithms.models import (
    Array,
    Dense,
    Embedding,
    LSTMCache,
    LSTMCell,
    Params,
    num_options,
    option_of,
    value_of,
)
from automorph.geno import DNA, Choices, CustomDecisionPoint, DecisionPoint, Space
from automorph.utils import MISSING

Mask = npt.NDArray[np.bool_] | None


@dataclass(frozen=True)
class Step:
    """One decision of an episode: its slot, the option taken and the mask of
    allowed options (None: all)."""

    slot: int
    option: int
    mask: Mask = None


class Encoding:
    """The slots and options of a DNASpec (see the module docstring).

    The options of a number decision are the bins of the model core's
    `num_options`, `option_of` and `value_of`."""

    def __init__(self, spec: Space, num_bins: int) -> None:
        self.num_bins = num_bins
        self._first_slot: dict[int, int] = {}  # id(point) -> its first slot
        sizes: list[int] = []
        for point in spec.decision_points():
            if isinstance(point, CustomDecisionPoint):
                continue
            self._first_slot[id(point)] = len(sizes)
            picks = point.num_choices if isinstance(point, Choices) else 1
            sizes.extend([num_options(point, num_bins)] * picks)
        self.sizes = sizes
        self.offsets = [0]
        for size in sizes:
            self.offsets.append(self.offsets[-1] + size)
        self.spec = spec

    @property
    def num_slots(self) -> int:
        return len(self.sizes)

    @property
    def num_options(self) -> int:
        """Options over all slots."""
        return self.offsets[-1]

    def walk(self, spec: Space, chooser: Chooser) -> tuple[DNA, list[Step]]:
        """Builds a DNA by asking `chooser` for each active decision's option."""
        steps: list[Step] = []
        picks: dict[str, list[int]] = {}

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            first = self._first_slot.get(id(point))
            if first is None:
                return MISSING  # custom decisions are drawn by their hooks
            slot, mask = first, None
            if isinstance(point, Choices) and point.num_choices > 1:
                cut = decision_id.rindex("[")
                j = int(decision_id[cut + 1 : -1])
                taken = picks.setdefault(decision_id[:cut], [])
                slot, mask = first + j, _pick_mask(point, j, taken)
            option = chooser.choose(decision_id, point, slot, mask)
            steps.append(Step(slot, option, mask))
            if isinstance(point, Choices) and point.num_choices > 1:
                taken.append(option)
            return chooser.value(point, option)

        dna = spec.random_dna(chooser.rng, fill)
        return dna, steps

    def option_of(self, point: DecisionPoint, value: Any) -> int:
        """The option of `value` for `point` (its bin, for floats and wide ints)."""
        return option_of(point, value, self.num_bins)

    def value_of(self, point: DecisionPoint, option: int, rng: np.random.Generator) -> Any:
        """A value of `point` for `option` (drawn uniformly inside a bin)."""
        return value_of(point, option, self.num_bins, rng)

    def steps_of(self, dna: DNA) -> list[Step]:
        """The episode of a DNA: the steps that would have produced it."""
        return self.walk(self.spec, _Replayer(self, dna))[1]


class Chooser:
    """What `Encoding.walk` asks for each decision (an option, then its value)."""

    rng: np.random.Generator

    def choose(self, decision_id: str, point: DecisionPoint, slot: int, mask: Mask) -> int:
        raise NotImplementedError

    def value(self, point: DecisionPoint, option: int) -> Any:
        raise NotImplementedError


class _Replayer(Chooser):
    """Walks a given DNA: its options, its own values."""

    def __init__(self, encoding: Encoding, dna: DNA) -> None:
        self.encoding, self.dna = encoding, dna
        self.rng = np.random.default_rng(0)  # never drawn from: every value is given
        self._current: Any = None

    def choose(self, decision_id: str, point: DecisionPoint, slot: int, mask: Mask) -> int:
        self._current = self.dna[decision_id]
        return self.encoding.option_of(point, self._current)

    def value(self, point: DecisionPoint, option: int) -> Any:
        return self._current


def _pick_mask(point: Choices, j: int, taken: list[int]) -> Mask:
    """The candidates allowed for pick `j` of a choice of several, given the earlier picks."""
    n = len(point.candidates)
    mask = np.ones(n, dtype=bool)
    if point.distinct:
        mask[taken] = False
    if point.sorted:
        if taken:
            mask[: taken[-1] + (1 if point.distinct else 0)] = False
        if point.distinct:
            mask[n - (point.num_choices - j) + 1 :] = False
    return mask


# --- policies ------------------------------------------------------------------


@dataclass
class Episode:
    """A policy's pass over a sequence of steps: each step's logits (its
    slot's options only) and what `backward` needs."""

    logits: list[Array] = field(default_factory=list)
    tape: list[Any] = field(default_factory=list)
    final: Any = None  # (hidden state, cache) of the step after the last decision


class Policy:
    """A distribution over the options of each slot, given the earlier steps.

    `begin(params)` starts an episode; `logits(params, episode, slot)` gives
    the logits of the next decision; `advance(params, episode, slot, option)`
    takes it. `backward` adds the gradients of a loss, given its gradient with
    respect to each step's logits (and to the final hidden state), into `grads`.
    """

    def __init__(self, encoding: Encoding) -> None:
        self.encoding = encoding

    def init(self, rng: np.random.Generator) -> Params:
        raise NotImplementedError

    def begin(self, params: Params) -> Episode:
        return Episode()

    def logits(self, params: Params, episode: Episode, slot: int) -> Array:
        raise NotImplementedError

    def advance(self, params: Params, episode: Episode, slot: int, option: int) -> None:
        """Takes `option` at `slot` (after `logits` for that slot)."""

    def backward(
        self, params: Params, grads: Params, episode: Episode, d_logits: list[Array]
    ) -> None:
        raise NotImplementedError

    def run(self, params: Params, steps: list[Step]) -> Episode:
        """The episode of `steps` (teacher forcing)."""
        episode = self.begin(params)
        for step in steps:
            self.logits(params, episode, step.slot)
            self.advance(params, episode, step.slot, step.option)
        return episode

    def _slice(self, slot: int) -> slice:
        return slice(self.encoding.offsets[slot], self.encoding.offsets[slot + 1])


class IndependentPolicy(Policy):
    """One free vector of logits per slot (all start at 0: uniform)."""

    def init(self, rng: np.random.Generator) -> Params:
        return {"logits": np.zeros(self.encoding.num_options)}

    def logits(self, params: Params, episode: Episode, slot: int) -> Array:
        out: Array = params["logits"][self._slice(slot)].copy()
        episode.logits.append(out)
        episode.tape.append(slot)
        return out

    def backward(
        self, params: Params, grads: Params, episode: Episode, d_logits: list[Array]
    ) -> None:
        for slot, d in zip(episode.tape, d_logits, strict=True):
            grads["logits"][self._slice(slot)] += d


@dataclass
class _Entry:
    """One step of the recurrent policy: its input token, caches and new state."""

    slot: int
    token: int
    cache: LSTMCache
    head_cache: Array
    h: Array
    c: Array
    next_token: int = 0  # the token of the option taken (set by `advance`)


class RecurrentPolicy(Policy):
    """An LSTM controller whose each decision conditions on the earlier ones.

    Step input: embedding of the previous (slot, option) token (a start token
    first) plus the embedding of the slot to decide. Output: a dense head over
    all options, of which the slot's are taken. `final_state` runs one more
    step (an end slot) after the last decision: its hidden state summarises
    the whole architecture.
    """

    def __init__(self, encoding: Encoding, hidden_size: int) -> None:
        super().__init__(encoding)
        n = hidden_size
        self.hidden_size = n
        self.tokens = Embedding("tokens", encoding.num_options + 1, n)
        self.slots = Embedding("slots", encoding.num_slots + 1, n)
        self.cell = LSTMCell("lstm", n, n)
        self.head = Dense("head", n, encoding.num_options)

    def init(self, rng: np.random.Generator) -> Params:
        params: Params = {}
        self.tokens.init(params, rng)
        self.slots.init(params, rng)
        self.cell.init(params, rng)
        self.head.init(params, rng, scale=0.1 / math.sqrt(self.hidden_size))
        return params

    def logits(self, params: Params, episode: Episode, slot: int) -> Array:
        h, c, token = self._state(episode)
        (h_new, c_new), cache = self._step(params, h, c, token, slot)
        full, head_cache = self.head.forward(params, h_new)
        out: Array = full[self._slice(slot)]
        episode.logits.append(out)
        episode.tape.append(_Entry(slot, token, cache, head_cache, h_new, c_new))
        return out

    def advance(self, params: Params, episode: Episode, slot: int, option: int) -> None:
        episode.tape[-1].next_token = 1 + self.encoding.offsets[slot] + option

    def final_state(self, params: Params, episode: Episode) -> Array:
        """The hidden state after the last decision (one step on the end slot)."""
        h, c, token = self._state(episode)
        (h_new, _), cache = self._step(params, h, c, token, self.encoding.num_slots)
        episode.final = (token, cache)
        return h_new

    def backward(
        self,
        params: Params,
        grads: Params,
        episode: Episode,
        d_logits: list[Array],
        d_final: Array | None = None,
    ) -> None:
        n = self.hidden_size
        dh, dc = np.zeros(n), np.zeros(n)
        if d_final is not None:
            token, cache = episode.final
            dh, dc = self._step_back(
                params, grads, cache, token, self.encoding.num_slots, d_final, dc
            )
        for entry, d in zip(reversed(episode.tape), reversed(d_logits), strict=True):
            d_full = np.zeros(self.encoding.num_options)
            d_full[self._slice(entry.slot)] = d
            dh = dh + self.head.backward(params, grads, entry.head_cache, d_full)
            dh, dc = self._step_back(params, grads, entry.cache, entry.token, entry.slot, dh, dc)

    def _state(self, episode: Episode) -> tuple[Array, Array, int]:
        if episode.tape:
            entry: _Entry = episode.tape[-1]
            return entry.h, entry.c, entry.next_token
        zeros = np.zeros(self.hidden_size)
        return zeros, zeros, 0

    def _step(
        self, params: Params, h: Array, c: Array, token: int, slot: int
    ) -> tuple[tuple[Array, Array], LSTMCache]:
        x = params[self.tokens.w][token] + params[self.slots.w][slot]
        return self.cell.forward(params, x, h, c)

    def _step_back(
        self,
        params: Params,
        grads: Params,
        cache: LSTMCache,
        token: int,
        slot: int,
        dh: Array,
        dc: Array,
    ) -> tuple[Array, Array]:
        dx, dh_prev, dc_prev = self.cell.backward(params, grads, cache, dh, dc)
        grads[self.tokens.w][token] += dx
        grads[self.slots.w][slot] += dx
        return dh_prev, dc_prev
