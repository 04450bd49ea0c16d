"""`importance`: how much of the reward's variance each decision explains.

Functional ANOVA (fANOVA; Hutter, Hoos and Leyton-Brown, "An Efficient
Approach for Assessing Hyperparameter Importance", ICML 2014) over a random
forest fitted to the completed trials. A regression tree is constant on
each of its leaves, and its leaves are boxes that partition the search
space, so the decomposition of its function into main effects is exact and
cheap: the main effect of one decision is the tree averaged over every other
decision (each uniform over its domain), a step function of that decision
alone; its variance over the decision's domain, divided by the tree's total
variance, is the fraction of the variance the decision explains by itself.
The fractions are averaged over the trees of the forest.

Encoding, one column per decision of the DNASpec:

- a choice (each pick of a multi-pick one): the candidate's index, a
  category (its domain is the indices, each equally likely);
- an int: its value, over the integers of its bounds;
- a float: its value scaled to [0, 1] (the logarithm for a log-scale float);
- a custom decision (a structure, such as a grammar derivation) is left out.

A conditional decision (one inside a candidate of a choice) is inactive in
the trials that picked another candidate. There it is filled with a random
value of its domain (drawn from the seed): the forest learns that it has no
effect there and separates those trials by the choice that switched it off,
rather than by a sentinel value of the decision itself, so the importance
of switching a branch on or off goes to the choice, and the decision's own
importance is what its value does where it is active.

The forest is scikit-learn's `RandomForestRegressor` (an optional extra:
`pip install 'automorph[importance]'`); the decomposition is computed here
from the fitted trees.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automorph.geno import Choices, CustomDecisionPoint, Float, Int, Space, join
from automorph.storage import Storage
from automorph.tuning._result import StudyResult
from automorph.tuning._study import Study
from automorph.tuning._trial import Trial
from automorph.utils import AutomorphError, FieldTypeError, FieldValueError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

MIN_TRIALS = 5  # completed trials needed, at least
EXTRA = "importance"  # the optional extra that brings scikit-learn


class Importances(Mapping[str, float]):
    """The fraction of the reward's variance each decision explains by itself.

    A mapping from decision id to fraction, most important first. The
    fractions are main effects of a functional ANOVA, so they sum to at most
    1; the rest (`interactions`) is what decisions explain only together.

    Attributes:
        std: The standard deviation of each fraction over the forest's trees.
        num_trials: How many completed trials the forest was fitted to.
        objective: Which objective (0 for a single one).
        study: The study's name, or None.

    >>> imp = Importances({"lr": 0.7, "depth": 0.1}, {"lr": 0.05, "depth": 0.02}, 30)
    >>> list(imp.items()), round(imp.interactions, 2)
    ([('lr', 0.7), ('depth', 0.1)], 0.2)
    """

    def __init__(
        self,
        values: Mapping[str, float],
        std: Mapping[str, float],
        num_trials: int,
        objective: int = 0,
        study: str | None = None,
    ) -> None:
        order = sorted(values, key=lambda k: -values[k])  # stable: ties keep their order
        self._values = {k: float(values[k]) for k in order}
        self.std = {k: float(std.get(k, 0.0)) for k in order}
        self.num_trials = num_trials
        self.objective = objective
        self.study = study

    def __getitem__(self, decision_id: str) -> float:
        return self._values[decision_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k!r}: {v:.3f}" for k, v in list(self._values.items())[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Importances({{{shown}{more}}}, num_trials={self.num_trials})"

    @property
    def interactions(self) -> float:
        """The fraction of the variance no single decision explains (1 - the sum)."""
        return max(0.0, 1.0 - sum(self._values.values()))

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict: the study, objective, trial count, and one
        entry per decision (id, importance, std), most important first."""
        return {
            "study": self.study,
            "objective": self.objective,
            "num_trials": self.num_trials,
            "interactions": self.interactions,
            "decisions": [
                {"id": k, "importance": v, "std": self.std[k]} for k, v in self._values.items()
            ],
        }


def importance(
    study: Study | StudyResult | str,
    *,
    storage: Storage | str | os.PathLike[str] | None = None,
    objective: int = 0,
    num_trees: int = 64,
    max_depth: int = 64,
    seed: int | None = 0,
) -> Importances:
    """How much of the reward's variance each decision explains (fANOVA over
    a random forest fitted to the completed trials' final rewards).

    Whether rewards are maximized or minimized does not change importance.
    The module's docstring says how decisions are encoded, including the
    conditional ones.

    Args:
        study: A `Study` (`am.load_study`), a `StudyResult` (what `am.tune`
            returns), or a study's name in `storage`.
        storage: The store of a study given by name (a SQLite path, a URL or
            a `Storage`).
        objective: Which objective of a multi-objective study (one at a time).
        num_trees: Trees of the random forest.
        max_depth: Depth of each tree, at most.
        seed: Seeds the forest and the fill of inactive decisions; the same
            seed and trials give the same importances.

    Returns:
        Each decision's fraction of the variance, most important first.

    Raises:
        ImportError: If scikit-learn is not installed (the `importance` extra).
        StudyNotFoundError: If `storage` has no study named `study`.
        AutomorphError: If fewer than 5 trials completed, or the space has no
            decision to rate.
        FieldValueError: If `objective` is not an objective of the study, or
            an argument is out of range.

    >>> import math
    >>> import automorph as am
    >>> space = am.Dict(lr=am.floatv(1e-4, 1.0, scale="log"), units=am.intv(8, 64),
    ...                 op=am.oneof(["relu", "tanh"]))
    >>> result = am.tune(lambda e: -abs(math.log10(e["lr"]) + 2) + e["units"] / 1000,
    ...                  space, am.algorithms.Random(seed=0), 40)
    >>> imp = am.importance(result)
    >>> next(iter(imp)), imp["lr"] > 0.8, sum(imp.values()) <= 1
    ('lr', True, True)
    """
    if num_trees < 1 or max_depth < 1:
        raise FieldValueError(
            f"`num_trees` ({num_trees}) and `max_depth` ({max_depth}) must be at least 1"
        )
    forest_class = _forest_class()  # before reading the study: a missing extra is said first
    result = _result_of(study, storage)
    columns = columns_of(result.dna_spec, result.trials)
    if not columns:
        raise AutomorphError(
            f"{_which(result)} has no decision to rate (custom decisions are left out)"
        )
    done, rewards = _rewards(result, objective)
    if len(done) < MIN_TRIALS:
        raise AutomorphError(
            f"{_which(result)} has {len(done)} completed trials with a finite reward"
            f"{_objective_text(result, objective)}; importance needs at least {MIN_TRIALS}"
        )
    rng = np.random.default_rng(seed)
    x = np.array([[c.encode(t.dna.get(c.id), rng) for c in columns] for t in done], dtype=float)
    spread = float(np.std(rewards))
    if not spread > 0:  # every reward the same: there is no variance to explain
        zeros = dict.fromkeys((c.id for c in columns), 0.0)
        return Importances(zeros, zeros, len(done), objective, result.name)
    y = (rewards - rewards.mean()) / spread
    forest = forest_class(
        n_estimators=num_trees,
        max_depth=max_depth,
        random_state=int(rng.integers(2**31)),
        n_jobs=1,
    )
    forest.fit(x, y)
    trees = [estimator.tree_ for estimator in forest.estimators_]
    fractions = [f for f in (tree_fractions(tree, columns) for tree in trees) if f is not None]
    if not fractions:  # every tree saw a bootstrap sample of equal rewards
        zeros = dict.fromkeys((c.id for c in columns), 0.0)
        return Importances(zeros, zeros, len(done), objective, result.name)
    table = np.array(fractions)
    means, stds = table.mean(axis=0), table.std(axis=0)
    values = {c.id: float(means[j]) for j, c in enumerate(columns)}
    spreads = {c.id: float(stds[j]) for j, c in enumerate(columns)}
    return Importances(values, spreads, len(done), objective, result.name)


# --- the trials ------------------------------------------------------------------------


def _result_of(
    study: Study | StudyResult | str, storage: Storage | str | os.PathLike[str] | None
) -> StudyResult:
    if isinstance(study, StudyResult):
        source = study
    elif isinstance(study, Study):
        source = study.result
    elif isinstance(study, str):
        if storage is None:
            raise FieldValueError(
                f"a study given by name ({study!r}) needs `storage=` (a SQLite path, a URL "
                "or a Storage)"
            )
        with Study(study, storage) as stored:  # StudyNotFoundError names the studies there
            return stored.result
    else:
        raise FieldTypeError(
            "`study` must be a Study (am.load_study), a StudyResult (what am.tune returns) "
            f"or a study's name, got {type(study).__name__}"
        )
    if storage is not None:
        raise FieldValueError("`storage` is only for a study given by name")
    return source


def _which(result: StudyResult) -> str:
    return f"study {result.name!r}" if result.name else "the study"


def _objective_text(result: StudyResult, objective: int) -> str:
    return f" on objective {objective}" if result.multi_objective else ""


def _rewards(result: StudyResult, objective: int) -> tuple[list[Trial], FloatArray]:
    """The completed trials with a finite reward on `objective`, and those rewards."""
    if isinstance(objective, bool) or not isinstance(objective, int) or objective < 0:
        raise FieldValueError(f"`objective` must be an index 0, 1, ..., got {objective!r}")
    done: list[Trial] = []
    values: list[float] = []
    width = 0
    for trial in result.completed_trials:
        reward = trial.reward
        if reward is None:
            continue
        parts = reward if isinstance(reward, tuple) else (reward,)
        width = max(width, len(parts))
        if objective < len(parts) and math.isfinite(parts[objective]):
            done.append(trial)
            values.append(float(parts[objective]))
    if width and objective >= width:
        count = "one objective" if width == 1 else f"{width} objectives"
        raise FieldValueError(
            f"`objective` {objective} is out of range: {_which(result)} has {count} "
            f"(0 to {width - 1})"
        )
    return done, np.asarray(values, dtype=float)


# --- one column per decision -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One decision as a column of the forest's input.

    Attributes:
        id: The decision id.
        kind: "choice", "int", "float", or "category" (values without a
            DNASpec that are not numbers).
        discrete: Whether the domain is the integers `low`..`high`, each
            equally likely (else the interval [low, high], uniform).
        low: The domain's lower end.
        high: The domain's upper end.
        to_number: Maps a decision's value into the domain.
    """

    id: str
    kind: str
    discrete: bool
    low: float
    high: float
    to_number: Callable[[Any], float]

    def encode(self, value: Any, rng: np.random.Generator) -> float:
        """The value as a number of the domain; a random one if it is inactive (None)."""
        if value is None:
            if self.discrete:
                return float(rng.integers(int(self.low), int(self.high) + 1))
            return float(rng.uniform(self.low, self.high))
        return min(max(float(self.to_number(value)), self.low), self.high)

    def measure(self, lower: FloatArray, upper: FloatArray) -> FloatArray:
        """The share of the domain in each interval (lower, upper] (a tree
        sends a value to its left child when it is <= the threshold)."""
        if self.discrete:
            first = np.maximum(np.floor(lower) + 1.0, self.low)
            last = np.minimum(np.floor(upper), self.high)
            count: FloatArray = np.clip(last - first + 1.0, 0.0, None)
            return count / (self.high - self.low + 1.0)
        width: FloatArray = np.minimum(upper, self.high) - np.maximum(lower, self.low)
        return np.clip(width, 0.0, None) / (self.high - self.low)


def columns_of(spec: Space, trials: Sequence[Trial]) -> list[Column]:
    """The columns of a DNASpec's decisions (custom ones left out); without
    a DNASpec (a study that stored none), columns read from the trials' values."""
    columns: list[Column] = []
    _walk(spec, "", columns)
    return columns if spec.elements else _columns_from_values(trials)


def _walk(space: Space, prefix: str, out: list[Column]) -> None:
    for point in space.elements:
        if isinstance(point, Choices):
            count = len(point.candidates)
            for pick in point.pick_ids(prefix):
                out.append(Column(pick, "choice", True, 0.0, float(count - 1), float))
                for i, candidate in enumerate(point.candidates):
                    _walk(candidate, f"{pick}[={i}]", out)
        elif isinstance(point, Float):
            decision_id = join(prefix, point.location)
            low, high = float(point.min_value), float(point.max_value)
            if point.scale == "log":
                low, high = math.log(low), math.log(high)
                scale = _scaler(low, high, math.log)
            else:
                scale = _scaler(low, high, float)
            out.append(Column(decision_id, "float", False, 0.0, 1.0, scale))
        elif isinstance(point, Int):
            decision_id = join(prefix, point.location)
            low, high = float(point.min_value), float(point.max_value)
            out.append(Column(decision_id, "int", True, low, high, float))
        elif not isinstance(point, CustomDecisionPoint):  # pragma: no cover - a new kind
            raise AutomorphError(f"importance cannot encode a {type(point).__name__}")


def _scaler(low: float, high: float, transform: Callable[[Any], float]) -> Callable[[Any], float]:
    return lambda value: (transform(float(value)) - low) / (high - low)


def _columns_from_values(trials: Sequence[Trial]) -> list[Column]:
    """Columns from the decision values the trials hold: whole numbers over
    the range seen, other numbers scaled to it, anything else a category."""
    seen: dict[str, list[Any]] = {}
    for trial in trials:
        for key, value in trial.dna.items():
            seen.setdefault(key, []).append(value)
    columns: list[Column] = []
    for key, values in seen.items():
        present = [v for v in values if v is not None]
        numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if present and len(numbers) == len(present):
            low, high = float(min(numbers)), float(max(numbers))
            if all(isinstance(v, int) for v in numbers):
                columns.append(Column(key, "int", True, low, high, float))
            elif high > low:
                columns.append(Column(key, "float", False, 0.0, 1.0, _scaler(low, high, float)))
            continue
        labels = sorted({repr(v) for v in present})
        high = float(max(len(labels) - 1, 0))
        columns.append(Column(key, "category", True, 0.0, high, _indexer(labels)))
    return columns


def _indexer(labels: list[str]) -> Callable[[Any], float]:
    """Maps a value to the index of its `repr` among `labels`."""
    index = {label: float(i) for i, label in enumerate(labels)}
    return lambda value: index[repr(value)]


# --- the forest and its decomposition ----------------------------------------------------


def _forest_class() -> Any:
    """scikit-learn's `RandomForestRegressor`.

    Raises:
        ImportError: If scikit-learn is not installed, naming the extra.
    """
    try:
        ensemble = importlib.import_module("sklearn.ensemble")  # optional; typed as Any
    except ImportError:
        raise ImportError(
            "parameter importance needs scikit-learn, which is not installed: "
            f"`pip install 'automorph[{EXTRA}]'` (or `pip install scikit-learn`)"
        ) from None
    return ensemble.RandomForestRegressor


def tree_fractions(tree: Any, columns: Sequence[Column]) -> FloatArray | None:
    """Each column's share of one regression tree's variance (its main
    effect's variance over the tree's total variance, every column uniform
    over its domain); None if the tree is constant.

    `tree` is a fitted `sklearn.tree._tree.Tree` (or anything with its
    `children_left`, `children_right`, `feature`, `threshold` and `value`).
    """
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    threshold = np.asarray(tree.threshold, dtype=float)
    value = np.asarray(tree.value, dtype=float).reshape(len(left), -1)[:, 0]
    lower, upper = leaf_boxes(left, right, feature, threshold, len(columns))
    leaves = np.flatnonzero(left < 0)
    lower, upper, value = lower[leaves], upper[leaves], value[leaves]
    shares = np.empty((len(leaves), len(columns)))
    for j, column in enumerate(columns):
        shares[:, j] = column.measure(lower[:, j], upper[:, j])
    volume = shares.prod(axis=1)
    mean = float(volume @ value)
    total = float(volume @ (value - mean) ** 2)
    if not total > 1e-12:
        return None
    # The volume of each leaf in every column but one: prefix and suffix products.
    before = np.ones((len(leaves), len(columns) + 1))
    before[:, 1:] = np.cumprod(shares, axis=1)
    after = np.ones((len(leaves), len(columns) + 1))
    after[:, :-1] = np.cumprod(shares[:, ::-1], axis=1)[:, ::-1]
    fractions = np.zeros(len(columns))
    split = left >= 0
    for j in np.unique(feature[split]):
        cuts = np.unique(threshold[split & (feature == j)])
        bounds = np.concatenate([[-np.inf], cuts, [np.inf]])
        weights = columns[j].measure(bounds[:-1], bounds[1:])
        # The main effect on each cell between cuts: the leaves whose interval
        # holds the cell, each weighted by its volume in the other columns.
        first = np.searchsorted(bounds, lower[:, j])
        stop = np.searchsorted(bounds, upper[:, j])
        part = value * before[:, j] * after[:, j + 1]
        steps = np.zeros(len(bounds))
        np.add.at(steps, first, part)
        np.add.at(steps, stop, -part)
        effect = np.cumsum(steps)[:-1]
        fractions[j] = float(weights @ (effect - mean) ** 2) / total
    return fractions


def leaf_boxes(
    left: np.ndarray[Any, Any],
    right: np.ndarray[Any, Any],
    feature: np.ndarray[Any, Any],
    threshold: FloatArray,
    width: int,
) -> tuple[FloatArray, FloatArray]:
    """The box (lower, upper] of every node of a tree, one interval per column.

    Level by level from the root: each child gets its parent's box, cut at
    the parent's threshold in the parent's column.
    """
    lower = np.full((len(left), width), -np.inf)
    upper = np.full((len(left), width), np.inf)
    level = np.array([0])
    while level.size:
        parents = level[left[level] >= 0]
        columns, cuts = feature[parents], threshold[parents]
        low_children, high_children = left[parents], right[parents]
        for children in (low_children, high_children):
            lower[children], upper[children] = lower[parents], upper[parents]
        upper[low_children, columns] = cuts
        lower[high_children, columns] = cuts
        level = np.concatenate([low_children, high_children])
    return lower, upper
