"""`StudyResult`: the trials of a search, and questions about them.

In a constrained search (trials that report constraint values, each `<= 0`
when met) the best trials are feasible ones whenever any trial is feasible:
`best_trial` and `pareto_front` follow Deb's rules (feasible before
infeasible, then the least total violation), and `hypervolume` measures the
front of the feasible trials.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from automorph.algorithms import Reward, hypervolume, pareto_mask
from automorph.geno import Space
from automorph.storage import direction_signs
from automorph.tuning._direction import (
    MAXIMIZE,
    Directions,
    describe,
    for_algorithm,
    minimizes,
    rank_key,
)
from automorph.tuning._trial import STATUSES, Trial
from automorph.utils import AutomorphError, FieldValueError


class StudyResult:
    """The trials of a search (held in memory) and what they add up to.

    The result of `am.sample` is live: it grows as the loop runs (read it at
    any time from `SearchLoop.result`). Rewards are maximized unless the
    study's `directions` say otherwise; rewards are always the values the
    objective reported (a minimized objective is never shown negated).

    Attributes:
        name: The study's name, or None.
        dna_spec: The DNASpec that was searched.
        trials: Every trial, in the order they were proposed (ids 1, 2, ...).
        multi_objective: Whether rewards are tuples of objectives.
        directions: "maximize" or "minimize" per objective (one entry
            applies to every objective).

    >>> import automorph as am
    >>> space = am.Dict(x=am.intv(0, 3))
    >>> result = am.tune(lambda ex: float(ex["x"]), space, am.algorithms.Grid())
    >>> result.num_completed, result.best_reward, result.best_example
    (4, 3.0, {'x': 3})
    >>> record = result.to_records()[0]
    >>> record["id"], record["status"], record["reward"], record["dna.x"]
    (1, 'completed', 0.0, 0)
    """

    def __init__(
        self,
        trials: list[Trial],
        dna_spec: Space,
        multi_objective: bool = False,
        name: str | None = None,
        directions: Directions = MAXIMIZE,
    ) -> None:
        self.name = name
        self.dna_spec = dna_spec
        self.trials = trials
        self.multi_objective = multi_objective
        self.directions = tuple(directions)

    def __repr__(self) -> str:
        return (
            f"StudyResult(name={self.name!r}, trials={len(self.trials)}, "
            f"completed={self.num_completed})"
        )

    # --- queries -------------------------------------------------------------------

    @property
    def completed_trials(self) -> list[Trial]:
        """The trials that completed with a final measurement, in id order."""
        return [t for t in self.trials if t.status == "completed"]

    @property
    def num_completed(self) -> int:
        """How many trials completed."""
        return sum(1 for t in self.trials if t.status == "completed")

    @property
    def feasible_trials(self) -> list[Trial]:
        """The completed trials that meet every constraint (all completed
        trials, for a search without constraints), in id order."""
        return [t for t in self.trials if t.status == "completed" and t.feasible]

    @property
    def constrained(self) -> bool:
        """Whether any trial reported constraint values."""
        return any(t.constraints is not None for t in self.trials)

    @property
    def best_trial(self) -> Trial:
        """The completed trial with the best final reward: the highest, or the
        lowest for a minimized objective (the first, on ties).

        In a constrained search it is the best feasible trial; if no trial is
        feasible, the one with the least total violation (Deb's rules).

        Raises:
            AutomorphError: If the search is multi-objective (see
                `pareto_front`) or no trial has completed.
        """
        if self.multi_objective:
            raise AutomorphError(
                "a multi-objective study has no single best trial; use `pareto_front` "
                "(the trials no other trial beats on every objective)"
            )
        best: Trial | None = None
        best_key: tuple[float, float] | None = None
        for trial in self.trials:
            if trial.status == "completed":
                assert isinstance(trial.reward, float)
                key = rank_key(trial.reward, trial.violation, self.directions)
                if best_key is None or key < best_key:
                    best, best_key = trial, key
        if best is None:
            raise AutomorphError(
                f"no trial has completed yet ({len(self.trials)} trials: "
                f"{self._status_text()}); there is no best trial"
            )
        return best

    @property
    def best_example(self) -> Any:
        """The example of `best_trial`."""
        return self.best_trial.example

    @property
    def best_reward(self) -> float:
        """The final reward of `best_trial`."""
        reward = self.best_trial.reward
        assert isinstance(reward, float)
        return reward

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed trials that no other completed trial dominates (is at
        least as good on every objective and better on one, each objective
        in its direction), in id order.

        For a single-objective study this is every trial tied for best. In a
        constrained search only feasible trials are on it (Deb's constrained
        domination); if none is feasible, the front of those with the least
        total violation.
        """
        done = self.completed_trials
        if not done:
            return []
        least = min(t.violation for t in done)
        done = [t for t in done if t.violation == least]
        signed = [for_algorithm(t.reward, self.directions) for t in done if t.reward is not None]
        rewards = np.array([_objectives(r) for r in signed], dtype=float)
        return [trial for trial, kept in zip(done, pareto_mask(rewards), strict=True) if kept]

    @property
    def best_trials(self) -> list[Trial]:
        """The best trials: the Pareto front (for one objective, every trial
        tied for best), as Optuna's `best_trials`."""
        return self.pareto_front

    def hypervolume(self, reference: float | Sequence[float]) -> float:
        """The hypervolume of the feasible completed trials' rewards: the
        volume of objective space they dominate up to `reference`.

        Each objective counts in its direction: for a maximized objective the
        reference is a value every good reward exceeds (a lower bound), for a
        minimized one a value every good reward stays below (an upper bound).
        Rewards no better than the reference in every objective add nothing.
        A larger hypervolume is a better front; comparing two studies needs
        the same reference. See `automorph.algorithms.hypervolume`.

        Args:
            reference: One value per objective (a single number for a
                single-objective study).

        Returns:
            The hypervolume, 0.0 if no feasible trial beats the reference.

        Raises:
            FieldValueError: If `reference` has another number of values
                than the rewards have objectives, or is not finite.

        >>> import automorph as am
        >>> space = am.Dict(x=am.floatv(0.0, 1.0))
        >>> result = am.tune(lambda e: (e["x"], 1 - e["x"] ** 2), space,
        ...                  am.algorithms.nsga2(population_size=8, seed=0), 40)
        >>> 0.5 < result.hypervolume([0.0, 0.0]) <= 2 / 3
        True
        """
        ref = np.atleast_1d(np.asarray(reference, dtype=float))
        width = max((len(_objectives(t.reward)) for t in self.completed_trials), default=ref.size)
        if ref.ndim != 1 or ref.size != width:
            raise FieldValueError(
                f"`reference` must have one value per objective ({width}), got {reference!r}"
            )
        signs = np.array(direction_signs(self.directions, width))
        points = [
            np.asarray(_objectives(t.reward), dtype=float) * signs
            for t in self.feasible_trials
            if len(_objectives(t.reward)) == width
        ]
        return hypervolume(np.asarray(points).reshape(len(points), width), ref * signs)

    # --- export --------------------------------------------------------------------

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per trial, every dict with the same keys.

        Keys: `id`, `status`, the final reward (`reward`; for a
        multi-objective study `reward.0`, `reward.1`, ...), `step` and
        `elapsed` of the final measurement, `error`, then `dna.<decision id>`
        for every decision, `metrics.<name>` of the final measurement and
        `metadata.<key>` (values as stored). A value a trial does not have
        is None.
        """
        width = max((len(_objectives(t.reward)) for t in self.completed_trials), default=1)
        reward_keys = [f"reward.{k}" for k in range(width)] if self.multi_objective else ["reward"]
        rows: list[dict[str, Any]] = []
        extra_keys: dict[str, None] = {}
        for trial in self.trials:
            final = trial.final_measurement
            row: dict[str, Any] = {"id": trial.id, "status": trial.status}
            values = _objectives(final.reward) if final is not None else ()
            for k, key in enumerate(reward_keys):
                row[key] = values[k] if k < len(values) else None
            row["step"] = None if final is None else final.step
            row["elapsed"] = None if final is None else final.elapsed
            row["error"] = trial.error
            for decision_id, value in trial.dna.items():
                row[f"dna.{decision_id}"] = value
            if final is not None:
                for metric, value in final.metrics.items():
                    row[f"metrics.{metric}"] = value
            for key, value in trial.metadata.items():
                row[f"metadata.{key}"] = value
            extra_keys.update(dict.fromkeys(row))
            rows.append(row)
        return [{key: row.get(key) for key in extra_keys} for row in rows]

    def to_dataframe(self) -> Any:
        """`to_records()` as a `pandas.DataFrame`, indexed by nothing (`id` is a column).

        Raises:
            ImportError: If pandas is not installed.
        """
        return records_frame(self.to_records())

    def summary(self) -> str:
        """A few lines: how many trials ended how, and the best (or the Pareto front)."""
        title = f"Study {self.name!r}" if self.name else "Study"
        lines = [f"{title}: {len(self.trials)} trials ({self._status_text()})"]
        # Said only when it is not the default: "maximized".
        direction = "" if not minimizes(self.directions) else f" ({describe(self.directions)})"
        if self.constrained and self.num_completed:
            feasible = len(self.feasible_trials)
            lines.append(f"constraints: {feasible} of {self.num_completed} completed feasible")
        if self.num_completed == 0:
            lines.append("no trial has completed")
        elif self.multi_objective:
            front = self.pareto_front
            lines.append(f"Pareto front: {len(front)} trials{direction}")
            for trial in front[:10]:
                mark = "" if trial.feasible else f" (infeasible, violation {trial.violation:.6g})"
                lines.append(f"  trial {trial.id}: reward {trial.reward}, dna {trial.dna!r}{mark}")
            if len(front) > 10:
                lines.append(f"  ... and {len(front) - 10} more")
        else:
            best = self.best_trial
            mark = "" if best.feasible else f" (infeasible, violation {best.violation:.6g})"
            lines.append(f"best: trial {best.id}, reward {best.reward:.6g}{direction}{mark}")
            lines.append(f"  dna: {best.dna!r}")
            lines.append(f"  example: {best.example!r}")
        return "\n".join(lines)

    def _status_text(self) -> str:
        counts = Counter(t.status for t in self.trials)
        return ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "none"


def records_frame(records: list[dict[str, Any]]) -> Any:
    """`records` as a `pandas.DataFrame` (pandas is imported here, when asked).

    Raises:
        ImportError: If pandas is not installed, saying how to install it.
    """
    try:
        pd = importlib.import_module("pandas")  # optional; typed as Any without stubs
    except ImportError:
        raise ImportError(
            "a DataFrame of trials needs pandas, which is not installed: `pip install pandas` "
            "(or use `to_records()`, which needs nothing)"
        ) from None
    return pd.DataFrame.from_records(records)


def _objectives(reward: Reward | None) -> tuple[float, ...]:
    if reward is None:
        return ()
    return reward if isinstance(reward, tuple) else (reward,)
