"""Trials as arrays for plotting, and the decisions of a search space.

Plots read trials through `TrialLike`: anything with `id`, `status`,
`reward` and `dna` (a storage `TrialRecord` or a tuning `Trial`). Rewards
are maximized unless the study's directions say "minimize" (then the best is
the lowest); a multi-objective reward is a list or a tuple of floats. A
trial's constraint values, if it has any, are read from its `metadata`: the
best trials are feasible ones whenever any trial is (Deb's rules), and the
plots mark the infeasible ones. A `StudyResult` or a stored `Study` given
to a plot brings its own trials, directions and DNASpec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from automorph.geno import Choices, CustomDecisionPoint, Float, Int, Space, join
from automorph.storage import CONSTRAINTS_KEY, DIRECTIONS, direction_signs
from automorph.symbolic import from_json_str
from automorph.tuning import Study, StudyResult, trial_violation
from automorph.utils import AutomorphError, FieldValueError

DecisionKind = Literal["choice", "float", "int", "custom"]


class TrialLike(Protocol):
    """What the plots read of a trial (`TrialRecord` and `Trial` both fit)."""

    @property
    def id(self) -> int:
        """The trial's number in its study."""

    @property
    def status(self) -> str:
        """'completed', 'skipped', 'failed', or a state of a trial still under way."""

    @property
    def reward(self) -> float | Sequence[float] | None:
        """The final reward of a completed trial (a sequence for several objectives)."""

    @property
    def dna(self) -> Mapping[str, Any]:
        """The decisions, keyed by decision id."""


@dataclass(frozen=True)
class Decision:
    """One decision point of a search space, as plots and tables show it.

    Attributes:
        id: The decision id (the key in a DNA).
        kind: 'choice' (the value is a candidate index), 'float', 'int' or
            'custom' (the value is a structure).
        labels: For a choice, a short text for each candidate.
        log: Whether a float is searched on a log scale.
        bounds: The declared bounds of a float or an int.

    >>> import automorph as am
    >>> space = am.dna_spec(am.Dict(op=am.oneof(["conv", "pool"]), lr=am.floatv(1e-3, 1.0)))
    >>> [(d.id, d.kind, d.labels) for d in decisions_of(space).values()]
    [('op', 'choice', ('conv', 'pool')), ('lr', 'float', ())]
    >>> decisions_of(space)["lr"].describe()
    'float in [0.001, 1]'
    """

    id: str
    kind: DecisionKind
    labels: tuple[str, ...] = ()
    log: bool = False
    bounds: tuple[float, float] | None = None

    def describe(self) -> str:
        """A short text: 'choice of 3 (conv, pool, id)', 'float in [0.001, 1] (log)'."""
        if self.kind == "choice":
            shown = ", ".join(self.labels[:6]) + (", ..." if len(self.labels) > 6 else "")
            return f"choice of {len(self.labels)} ({shown})"
        if self.kind == "custom" or self.bounds is None:
            return self.kind
        low, high = self.bounds
        return f"{self.kind} in [{low:g}, {high:g}]" + (" (log)" if self.log else "")


def decisions_of(space: Space | str | None, label_width: int = 14) -> dict[str, Decision]:
    """The decisions of a DNASpec (or of its automorph JSON text), keyed by id.

    Decisions inside the candidates of a choice are included (under every
    pick of the choice). Text that is not a readable DNASpec gives `{}`, so
    callers fall back to what the trials show. A choice's labels are cut
    to `label_width` characters.
    """
    if space is None:
        return {}
    if isinstance(space, str):
        try:
            space = from_json_str(space)
        except (AutomorphError, ValueError, TypeError):
            return {}
        if not isinstance(space, Space):
            return {}
    out: dict[str, Decision] = {}
    _walk(space, "", out, label_width)
    return out


def _walk(space: Space, prefix: str, out: dict[str, Decision], width: int) -> None:
    for point in space.elements:
        if isinstance(point, Choices):
            labels = tuple(
                _short_label(text, width)
                for text in (point.literal_values or [str(i) for i in range(len(point.candidates))])
            )
            for pick in point.pick_ids(prefix):
                out[pick] = Decision(pick, "choice", labels)
                for i, candidate in enumerate(point.candidates):
                    _walk(candidate, f"{pick}[={i}]", out, width)
        elif isinstance(point, Float):
            decision_id = join(prefix, point.location)
            bounds = (float(point.min_value), float(point.max_value))
            out[decision_id] = Decision(
                decision_id, "float", log=point.scale == "log", bounds=bounds
            )
        elif isinstance(point, Int):
            decision_id = join(prefix, point.location)
            bounds = (float(point.min_value), float(point.max_value))
            out[decision_id] = Decision(decision_id, "int", bounds=bounds)
        elif isinstance(point, CustomDecisionPoint):
            decision_id = join(prefix, point.location)
            out[decision_id] = Decision(decision_id, "custom")


def _short_label(text: str, width: int = 14) -> str:
    """A candidate's literal as a label: quotes of a plain string dropped, long text cut."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class TrialTable:
    """Trials as columns.

    Attributes:
        ids: Trial ids, in the order given.
        status: The status of each trial.
        rewards: Shape (trials, objectives); NaN unless the trial completed
            with a finite reward.
        dna: The decisions of each trial.
        decision_ids: Every decision id seen, in order of first appearance.
        multi_objective: Whether rewards have several objectives.
        directions: "maximize" or "minimize" per objective (one entry
            applies to every objective).
        violations: The total constraint violation of each trial (0 when
            feasible or without constraints); None: all 0.
        constrained: Whether any trial reported constraint values.
    """

    ids: np.ndarray[Any, np.dtype[np.int64]]
    status: list[str]
    rewards: np.ndarray[Any, np.dtype[np.float64]]
    dna: list[Mapping[str, Any]]
    decision_ids: list[str] = field(default_factory=list)
    multi_objective: bool = False
    directions: tuple[str, ...] = ("maximize",)
    violations: np.ndarray[Any, np.dtype[np.float64]] | None = None
    constrained: bool = False

    def __len__(self) -> int:
        return len(self.status)

    @property
    def num_objectives(self) -> int:
        """How many objectives a reward has."""
        return int(self.rewards.shape[1])

    @property
    def completed(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which trials completed with a finite reward on every objective."""
        mask: np.ndarray[Any, np.dtype[np.bool_]] = np.all(np.isfinite(self.rewards), axis=1)
        return mask

    @property
    def signs(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """1.0 for each maximized objective, -1.0 for each minimized one."""
        return np.array(direction_signs(self.directions, self.num_objectives), dtype=float)

    @property
    def signed(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """`rewards` with minimized objectives negated: higher is better in every column."""
        signed: np.ndarray[Any, np.dtype[np.float64]] = self.rewards * self.signs
        return signed

    def minimized(self, objective: int = 0) -> bool:
        """Whether `objective` is minimized."""
        return bool(self.signs[objective] < 0)

    def count(self, status: str) -> int:
        """How many trials have `status`."""
        return sum(1 for s in self.status if s == status)

    @property
    def violation(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The total constraint violation of each trial (0 when feasible)."""
        if self.violations is None:
            return np.zeros(len(self.status))
        return self.violations

    @property
    def feasible(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which trials meet every constraint (all, without constraints)."""
        mask: np.ndarray[Any, np.dtype[np.bool_]] = self.violation == 0.0
        return mask

    def leading(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """The completed trials the best are chosen from (Deb's rules): the
        feasible ones, or, if none is feasible, those of least violation."""
        done = self.completed
        if not done.any():
            return done
        violation = self.violation
        mask: np.ndarray[Any, np.dtype[np.bool_]] = done & (violation == violation[done].min())
        return mask

    def best_index(self) -> int | None:
        """The row of the completed trial with the best reward (the highest,
        or the lowest if minimized; first on ties; objective 0 for several
        objectives) among the feasible ones if any (see `leading`), or None."""
        done = np.flatnonzero(self.leading())
        if done.size == 0:
            return None
        return int(done[np.argmax(self.signed[done, 0])])


def table_of(
    source: Iterable[TrialLike] | TrialTable | StudyResult | Study,
    directions: str | Sequence[str] | None = None,
) -> TrialTable:
    """What a plot draws: `source` as a `TrialTable`.

    Args:
        source: Trials, a `TrialTable` (returned as it is: it has its own
            directions), or a `StudyResult` or stored `Study` (its trials, with
            its directions and its multi-objective flag).
        directions: "maximize" or "minimize" per objective (one for all); by
            default the study's, or maximized for bare trials.

    Raises:
        FieldValueError: If a direction is neither "maximize" nor "minimize".

    >>> import automorph as am
    >>> result = am.tune(lambda e: float(e["x"]), am.Dict(x=am.intv(0, 3)),
    ...                  am.algorithms.Grid(), minimize=True)
    >>> table = table_of(result)
    >>> table.directions, int(table.ids[table.best_index()])
    (('minimize',), 1)
    >>> table_of(result.trials).directions, table_of(result, "maximize").directions
    (('maximize',), ('maximize',))
    """
    if isinstance(source, TrialTable):
        return source
    if isinstance(source, (StudyResult, Study)):
        return collect(source.trials, source.multi_objective, directions or source.directions)
    return collect(source, None, directions)


def spec_of(source: object) -> Space | str | None:
    """The DNASpec of a `StudyResult` or a stored `Study` (JSON text for a
    study; None if it stores none), or None for anything else."""
    if isinstance(source, StudyResult):
        return source.dna_spec
    if isinstance(source, Study):
        return source.info.dna_spec
    return None


def checked_directions(directions: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """`directions` as a tuple (a lone string is one direction for every
    objective), or None if none is given.

    Raises:
        FieldValueError: If a direction is neither "maximize" nor "minimize".
    """
    if directions is None:
        return None
    wanted = (directions,) if isinstance(directions, str) else tuple(directions)
    for item in wanted:
        if item not in DIRECTIONS:
            raise FieldValueError(
                f"`directions` must be 'maximize' or 'minimize', or a list of them (one per "
                f"objective), got {item!r} in {directions!r}"
            )
    return wanted or None


def collect(
    trials: Iterable[TrialLike],
    multi_objective: bool | None = None,
    directions: str | Sequence[str] | None = None,
) -> TrialTable:
    """Reads trials into a `TrialTable`.

    Args:
        trials: `TrialRecord`s, `Trial`s, or anything else `TrialLike`.
        multi_objective: Whether rewards have several objectives; by default,
            whether any reward is a sequence.
        directions: "maximize" or "minimize" per objective (one for all);
            maximized by default.

    Raises:
        FieldValueError: If a direction is neither "maximize" nor "minimize".
    """
    wanted = checked_directions(directions)
    ids: list[int] = []
    status: list[str] = []
    rewards: list[tuple[float, ...] | None] = []
    dnas: list[Mapping[str, Any]] = []
    violations: list[float] = []
    constrained = False
    seen: dict[str, None] = {}
    any_sequence = False
    for trial in trials:
        violations.append(trial_violation(trial))
        metadata = getattr(trial, "metadata", None)
        constrained = constrained or (isinstance(metadata, Mapping) and CONSTRAINTS_KEY in metadata)
        ids.append(int(trial.id))
        status.append(str(trial.status))
        reward = trial.reward
        if trial.status != "completed" or reward is None:
            rewards.append(None)
        elif isinstance(reward, (int, float)):
            rewards.append((float(reward),))
        else:
            any_sequence = True
            rewards.append(tuple(float(r) for r in reward))
        dna = trial.dna
        dnas.append(dna)
        seen.update(dict.fromkeys(dna))
    width = max((len(r) for r in rewards if r is not None), default=1)
    matrix = np.full((len(rewards), width), np.nan)
    for row, reward in enumerate(rewards):
        if reward is not None and len(reward) == width:
            matrix[row] = reward
    matrix[~np.isfinite(matrix)] = np.nan
    return TrialTable(
        ids=np.asarray(ids, dtype=np.int64),
        status=status,
        rewards=matrix,
        dna=dnas,
        decision_ids=list(seen),
        multi_objective=any_sequence if multi_objective is None else multi_objective,
        directions=wanted or ("maximize",),
        violations=np.asarray(violations, dtype=float) if constrained else None,
        constrained=constrained,
    )
