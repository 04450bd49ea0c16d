"""`SearchAlgorithm`: the one contract every search algorithm follows.

Lifecycle:

1. `setup(dna_spec)` binds the algorithm to a search space's genotype.
2. `propose()` returns the next DNA to evaluate; `feedback(dna, reward)`
   reports what a proposal scored. Proposals and feedback may interleave in
   any order (several workers evaluate proposals concurrently).
3. `recover(history)` rebuilds, on a fresh object with the same fields, the
   exact state the algorithm had after that history, so a restarted or
   distributed search continues as if it had never stopped.

Randomness: proposal number `i` draws from a generator seeded with
`(seed, i)`, so the state to rebuild is only the number of proposals and the
feedback, which `recover` replays in order. The public methods are final:
they check inputs and do the bookkeeping; subclasses implement `_setup`,
`_propose`, `_feedback` and, if proposals change their state, `_replay`.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np

from automorph.geno import DNA, Space
from automorph.symbolic import Object
from automorph.utils import AutomorphError, FeedbackError, InvalidDNAError, SearchExhaustedError

Reward = float | tuple[float, ...]


class SearchAlgorithm(Object, type_name="automorph.SearchAlgorithm"):
    """Base class of search algorithms (see the module docstring).

    Attributes:
        seed: Seed of every random draw; `setup` picks one (and stores it in
            this field, so that the algorithm's JSON reproduces it) if None.

    Class attributes:
        multi_objective: Whether rewards are tuples of objectives.
        needs_feedback: Whether proposals depend on feedback at all.
        handles_custom: Whether it searches spaces with custom decisions; one
            that does not refuses them in `setup` with a `SearchSpaceError`.
    """

    _: KW_ONLY
    seed: int | None = None

    multi_objective: ClassVar[bool] = False
    needs_feedback: ClassVar[bool] = True
    handles_custom: ClassVar[bool] = True

    # --- the public, final methods -------------------------------------------

    def setup(self, dna_spec: Space) -> None:
        """Binds the algorithm to `dna_spec` and resets its state."""
        if not isinstance(dna_spec, Space):
            raise TypeError(f"setup takes a DNASpec (am.DNASpec), got {type(dna_spec).__name__}")
        if self.seed is None:
            self.seed = secrets.randbelow(2**31)
        self._spec = dna_spec
        self._num_proposed = 0
        self._num_feedback = 0
        self._setup()

    @property
    def is_set_up(self) -> bool:
        """Whether `setup` has bound the algorithm to a space."""
        return "_spec" in self.__dict__

    @property
    def dna_spec(self) -> Space:
        """The space the algorithm searches (after `setup`)."""
        self._check_setup()
        return self._spec

    @property
    def num_proposed(self) -> int:
        """How many DNA the algorithm has proposed (replayed ones included)."""
        return getattr(self, "_num_proposed", 0)

    @property
    def num_feedback(self) -> int:
        """How many rewards the algorithm has received (replayed ones included)."""
        return getattr(self, "_num_feedback", 0)

    def propose(self) -> DNA:
        """The next DNA to evaluate.

        Raises:
            SearchExhaustedError: If the algorithm has nothing left to propose.
        """
        self._check_setup()
        dna = self._propose(self._rng(self._num_proposed))
        self._num_proposed += 1
        return dna

    def propose_batch(self, count: int) -> list[DNA]:
        """Up to `count` DNA to evaluate concurrently (fewer only if the
        algorithm runs out), as if proposed one after the other with none
        rewarded in between. Algorithms with a costly model (GP-BO) build it
        once for the batch; with `count` 1 this is `propose()`.

        Raises:
            SearchExhaustedError: If the algorithm has nothing left to propose.
        """
        self._check_setup()
        if count <= 1:
            return [self.propose()] if count == 1 else []
        dnas = self._propose_batch(count)
        if not dnas:
            raise SearchExhaustedError(f"{type(self).__name__} has nothing left to propose")
        return dnas

    def feedback(self, dna: DNA, reward: Reward | Sequence[float]) -> None:
        """Reports the reward of a proposed `dna`.

        Raises:
            FeedbackError: If the reward does not suit the algorithm (a tuple
                for a single-objective algorithm, NaN) or `dna` is not a DNA
                of the algorithm's space.
        """
        self._check_setup()
        value = self._check_reward(reward)
        self._check_dna(dna)
        self._feedback(dna, value)
        self._num_feedback += 1

    def replay_proposal(self, dna: DNA) -> None:
        """Accounts for a proposal made elsewhere (by another worker of a shared
        study) as if this algorithm had made it; its reward comes later
        through `feedback`. Applying a study's events in order (`replay_proposal`
        for proposals, `feedback` for results) gives every worker the same state.

        Raises:
            FeedbackError: If `dna` is not a DNA of the algorithm's space.
        """
        self._check_setup()
        self._check_dna(dna)
        self._replay(dna, None)
        self._num_proposed += 1

    def discard(self, dna: DNA) -> None:
        """Says that a proposed `dna` will get no reward (its trial was skipped
        or failed): it is no longer in flight. Nothing else changes."""
        self._check_setup()
        self._discard(dna)

    def recover(self, history: Iterable[tuple[DNA, Reward | Sequence[float] | None]]) -> None:
        """Rebuilds the state after `history`: each past proposal in order,
        with its reward, or None if it has none yet."""
        self._check_setup()
        self.setup(self._spec)
        for dna, reward in history:
            value = None if reward is None else self._check_reward(reward)
            self._check_dna(dna)
            self._replay(dna, value)
            self._num_proposed += 1
            if value is not None:
                self._num_feedback += 1

    # --- what subclasses implement ---------------------------------------------

    def _setup(self) -> None:
        """Resets algorithm-specific state; `self._spec` is set."""

    def _propose(self, rng: np.random.Generator) -> DNA:
        raise NotImplementedError

    def _propose_batch(self, count: int) -> list[DNA]:
        """`count` proposals, or fewer if exhausted (the default: one by one)."""
        dnas: list[DNA] = []
        for _ in range(count):
            try:
                dnas.append(self.propose())
            except SearchExhaustedError:
                break
        return dnas

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        """Takes a checked reward (a float, or a tuple if multi-objective)."""

    def _discard(self, dna: DNA) -> None:
        """Forgets that `dna` is in flight (algorithms that track pending proposals)."""

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        """Accounts for a past proposal (and its reward, if any) during `recover`."""
        if reward is not None:
            self._feedback(dna, reward)

    # --- helpers ----------------------------------------------------------------

    def _rng(self, index: int) -> np.random.Generator:
        """The generator of proposal (or event) number `index`."""
        return np.random.Generator(np.random.PCG64([self.seed or 0, index]))

    def _check_setup(self) -> None:
        if getattr(self, "_spec", None) is None:
            raise AutomorphError(
                f"{type(self).__name__} is not set up: call `setup(dna_spec)` first"
            )

    def _check_dna(self, dna: DNA) -> None:
        if not isinstance(dna, DNA):
            raise FeedbackError(f"expected a DNA, got {type(dna).__name__} ({dna!r})")
        try:
            self._spec.validate(dna)
        except InvalidDNAError as e:
            raise FeedbackError(
                f"the DNA does not belong to this algorithm's search space: {e.message}",
                path=e.path,
            ) from None

    def _check_reward(self, reward: Any) -> Reward:
        return check_reward(reward, self.multi_objective, type(self).__name__)


class TracksPending:
    """For algorithms that condition on pending proposals: `_pending` counts
    each proposed DNA without a reward yet (a DNA can be proposed twice).
    The subclass adds to it in `_propose` and takes from it in `_feedback`
    (`_take_pending`); replayed proposals and `discard` are handled here."""

    _pending: Counter[DNA]

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        if reward is None:
            self._pending[dna] += 1
        else:
            self._feedback(dna, reward)  # type: ignore[attr-defined]

    def _discard(self, dna: DNA) -> None:
        self._take_pending(dna)

    def _take_pending(self, dna: DNA) -> None:
        """Removes one pending `dna`, if any."""
        if self._pending[dna] > 1:
            self._pending[dna] -= 1
        else:
            self._pending.pop(dna, None)


def check_reward(reward: Any, multi_objective: bool, who: str = "the search") -> Reward:
    """`reward` as an algorithm takes it: a float, or a tuple of floats if
    `multi_objective` (a single number then becomes a 1-tuple).

    Raises:
        FeedbackError: If `reward` is not a number (or, multi-objective, a
            non-empty sequence of numbers), is NaN, or is a sequence given to
            a single-objective algorithm.

    >>> check_reward(3, multi_objective=False), check_reward([1, 2.5], multi_objective=True)
    (3.0, (1.0, 2.5))
    """
    if type(reward) is float and reward == reward:  # the common case, first
        return (reward,) if multi_objective else reward
    if isinstance(reward, (tuple, list, np.ndarray)):
        if not multi_objective:
            raise FeedbackError(
                f"{who} is single-objective; it cannot take the "
                f"multi-objective reward {tuple(reward)!r}"
            )
        values = tuple(_number(r) for r in reward)
        if not values:
            raise FeedbackError("a multi-objective reward needs at least one objective")
        return values
    value = _number(reward)
    return (value,) if multi_objective else value


def _number(reward: Any) -> float:
    if isinstance(reward, bool) or not isinstance(reward, (int, float, np.number)):
        raise FeedbackError(f"a reward must be a number, got {type(reward).__name__} ({reward!r})")
    value = float(reward)
    if math.isnan(value):
        raise FeedbackError("a reward must not be NaN")
    return value
