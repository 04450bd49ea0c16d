"""Constraint values through the SQL stores: SQLite and PostgreSQL keep them
with the trial, and a stored study's algorithm learns them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.tuning import Outcome

SPACE = am.Dict(x=am.floatv(-2.0, 2.0), y=am.floatv(-2.0, 2.0))


def objective(example: Any) -> Outcome:
    """Minimize x^2 + y^2 subject to x + y >= 1, with a second constraint y <= 1."""
    x, y = example["x"], example["y"]
    return Outcome(x * x + y * y, constraints=[1.0 - x - y, y - 1.0])


def _check_round_trip(url: str, name: str) -> None:
    result = am.tune(objective, SPACE, algorithms.TPE(seed=2, num_initial=4), 12, minimize=True,
                     name=name, storage=url)  # fmt: skip
    with am.load_study(name, url) as study:
        trials = study.trials
        assert len(trials) == 12
        for trial in trials:
            x, y = trial.example["x"], trial.example["y"]
            assert trial.constraints == pytest.approx((1.0 - x - y, y - 1.0))
            assert trial.metadata["constraints"] == list(trial.constraints)  # type: ignore[arg-type]
        assert [t.constraints for t in trials] == [t.constraints for t in result.trials]
        feasible = [t for t in trials if t.feasible]
        if feasible:
            expected = min(feasible, key=lambda t: t.reward)  # type: ignore[arg-type,return-value]
        else:
            expected = min(trials, key=lambda t: t.violation)
        assert study.best_trial.id == expected.id
        exported = study.to_records()
        assert [r["metadata.constraints"] for r in exported] == [
            t.metadata["constraints"] for t in trials
        ]


def test_sqlite_keeps_constraints(tmp_path: Path) -> None:
    _check_round_trip(str(tmp_path / "c.db"), "constrained")


def test_postgresql_keeps_constraints(postgres_url: str) -> None:
    _check_round_trip(postgres_url, "constrained-pg")


def test_one_stored_worker_searches_as_in_memory(tmp_path: Path) -> None:
    """With one worker a stored study proposes exactly as the same search in
    memory, so its algorithm must learn the constraints from the events."""
    memory = am.tune(objective, SPACE, algorithms.TPE(seed=5, num_initial=4), 16, minimize=True)
    stored = am.tune(objective, SPACE, algorithms.TPE(seed=5, num_initial=4), 16, minimize=True,
                     name="same", storage=str(tmp_path / "same.db"))  # fmt: skip
    assert [t.dna for t in stored.trials] == [t.dna for t in memory.trials]
