"""`SearchAlgorithm`: the one contract every search algorithm follows.

Lifecycle:

1. `setup(dna_spec)` binds the algorithm to a search space's genotype.
2. `propose()` returns the next DNA to evaluate; `feedback(dna, reward)`
   reports what a proposal scored (`feedback(dna, reward, constraints)`
   also its constraint values, each `<= 0` when met). Proposals and
   feedback may interleave in any order (several workers evaluate proposals
   concurrently).
3. `recover(history)` rebuilds, on a fresh object with the same fields, the
   exact state the algorithm had after that history, so a restarted or
   distributed search continues as if it had never stopped.

Constraints: every algorithm takes them; those with `uses_constraints` steer
by them (they override `_feedback_constrained`), the others ignore them (the
default `_feedback_constrained` calls `_feedback`). Feedback without
constraints goes to `_feedback` as before, and counts as feasible.

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

from automorph.algorithms._constraints import Constraints, check_constraints
from automorph.geno import DNA, Space
from automorph.symbolic import Object
from automorph.utils import AutomorphError, FeedbackError, InvalidDNAError, SearchExhaustedError

Reward = float | tuple[float, ...]
"""A reward: one number, or one number per objective of a multi-objective search."""

HistoryItem = (
    tuple[DNA, Reward | Sequence[float] | None]
    | tuple[DNA, Reward | Sequence[float] | None, Sequence[float] | None]
)
"""A past proposal for `recover`: (dna, reward) or (dna, reward, constraints)."""


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
        uses_constraints: Whether it steers by the constraints given with
            `feedback` (it overrides `_feedback_constrained`); one that does
            not takes them and ignores them.
    """

    _: KW_ONLY
    seed: int | None = None

    multi_objective: ClassVar[bool] = False
    needs_feedback: ClassVar[bool] = True
    handles_custom: ClassVar[bool] = True
    uses_constraints: ClassVar[bool] = False

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
        self._num_constraints: int | None = None
        self._setup()

    def planned(self, budget: int | None, multi_objective: bool) -> SearchAlgorithm:
        """The algorithm to run a search of at most `budget` trials (None: no
        limit) whose rewards are tuples if `multi_objective`.

        `am.tune` and `am.sample` call it before `setup` with their
        `num_trials` and whether `direction` lists several objectives (a
        stored study that exists: with those it was created with), and
        search with what it returns. Most algorithms return `self`: they do
        not plan. One that does (`Auto`) returns a copy with the fields the
        user left unset (a `budget` field, ...) filled in, and leaves `self`
        unchanged; a stored study keeps the copy's fields, so every worker
        and every resumption searches with the same plan.

        >>> import automorph as am
        >>> search = am.algorithms.TPE()
        >>> search.planned(100, False) is search
        True
        """
        return self

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

    @property
    def num_constraints(self) -> int | None:
        """How many constraint values each feedback carries, once one has
        carried some (None before)."""
        return getattr(self, "_num_constraints", None)

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

    def feedback(
        self,
        dna: DNA,
        reward: Reward | Sequence[float],
        constraints: Sequence[float] | None = None,
    ) -> None:
        """Reports the reward of a proposed `dna`, and its constraint values
        if the search is constrained.

        Args:
            dna: A DNA the algorithm proposed (or `replay_proposal` accounted for).
            reward: What it scored (higher is better; a tuple of objectives
                for a multi-objective algorithm).
            constraints: Its constraint values, each `<= 0` when met (see
                `automorph.algorithms.violation`); None if it has none (it
                counts as feasible). Every feedback with constraints must
                carry as many values.

        Raises:
            FeedbackError: If the reward does not suit the algorithm (a tuple
                for a single-objective algorithm, NaN), the constraints are
                not finite numbers or not as many as before, or `dna` is not
                a DNA of the algorithm's space.

        >>> import automorph as am
        >>> search = am.algorithms.TPE(seed=0)
        >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0))))
        >>> dna = search.propose()
        >>> search.feedback(dna, 0.5, constraints=[dna["x"] - 2.0])
        >>> search.num_constraints
        1
        """
        self._check_setup()
        value = self._check_reward(reward)
        checked = self._check_constraints(constraints)
        self._check_dna(dna)
        if checked is None:
            self._feedback(dna, value)
        else:
            self._num_constraints = len(checked)
            self._feedback_constrained(dna, value, checked)
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

    def recover(self, history: Iterable[HistoryItem]) -> None:
        """Rebuilds the state after `history`: each past proposal in order,
        as `(dna, reward)` with its reward (None if it has none yet), or
        `(dna, reward, constraints)` with its constraint values too (None
        for none), as they were given to `feedback`.

        Raises:
            FeedbackError: If an item is not such a pair or triple, or its
                reward, constraints or DNA would be refused by `feedback`.
        """
        self._check_setup()
        self.setup(self._spec)
        for item in history:
            if not isinstance(item, tuple) or len(item) not in (2, 3):
                raise FeedbackError(
                    "a history item must be (dna, reward) or (dna, reward, constraints), "
                    f"got {item!r}"
                )
            dna, reward = item[0], item[1]
            value = None if reward is None else self._check_reward(reward)
            checked = None
            if len(item) == 3 and item[2] is not None and value is not None:
                checked = self._check_constraints(item[2])
            self._check_dna(dna)
            if checked is None:
                self._replay(dna, value)
            else:  # the proposal, then its feedback, as a study's events give them
                self._num_constraints = len(checked)
                self._replay(dna, None)
                assert value is not None
                self._feedback_constrained(dna, value, checked)
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

    def _feedback_constrained(self, dna: DNA, reward: Reward, constraints: Constraints) -> None:
        """Takes a checked reward with the trial's checked constraint values
        (a non-empty tuple of finite floats, each `<= 0` when met).

        This is the hook of constrained search: the default ignores the
        constraints (`self._feedback(dna, reward)`). An algorithm that steers
        by them overrides it, sets `uses_constraints = True`, and treats a
        `_feedback` without constraints as feasible. `recover` replays a
        constrained feedback as `_replay(dna, None)` then this, so such an
        algorithm needs no change to its `_replay`.
        """
        self._feedback(dna, reward)

    def _discard(self, dna: DNA) -> None:
        """Forgets that `dna` is in flight (algorithms that track pending proposals)."""

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        """Accounts for a past proposal (and its reward, if any) during `recover`."""
        if reward is not None:
            self._feedback(dna, reward)

    # --- helpers ----------------------------------------------------------------

    def _stream_seed(self, stream: int) -> int:
        """A seed for a delegate algorithm, drawn from this one's seed and
        `stream` (distinct from the generators `_rng` gives proposals)."""
        state = np.random.SeedSequence([self.seed or 0, stream]).generate_state(1)
        return int(state[0]) % 2**31

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

    def _check_constraints(self, constraints: Any) -> Constraints | None:
        if constraints is None:
            return None
        checked = check_constraints(constraints, f"{type(self).__name__}: constraints")
        expected = self._num_constraints
        if expected is not None and len(checked) != expected:
            raise FeedbackError(
                f"{type(self).__name__}: expected {expected} constraint values, as earlier "
                f"feedback gave, got {len(checked)} ({list(checked)!r})"
            )
        return checked


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
