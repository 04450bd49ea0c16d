"""With one worker, a stored study gives exactly the search in memory, for
every registered algorithm: the same proposals, in the same order, and a
study resumed halfway continues as if it had never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.utils import AutomorphError

SPACES = {
    "mixed": am.Dict(x=am.floatv(-2.0, 2.0), n=am.intv(0, 5), k=am.oneof(["a", "b", "c"])),
    "choices": am.List([am.oneof([0, 1, 2]) for _ in range(6)]),
}
TRIALS = 14
# Auto chooses by the budget, and a stored study keeps the plan of its first
# run (a study run in two halves would plan for the first half): it is given
# the whole run's budget, so both halves plan alike.
OPTIONS: dict[str, dict[str, Any]] = {"auto": {"budget": TRIALS}}


def _create(name: str) -> algorithms.SearchAlgorithm:
    return algorithms.create(name, seed=5, **OPTIONS.get(name, {}))


def _numbers(example: Any) -> list[float]:
    values = example.values() if isinstance(example, dict) else example
    return [float(v) if not isinstance(v, str) else float(ord(v)) for v in values]


def single(example: Any) -> float:
    return -sum((v - 1.0) ** 2 for v in _numbers(example))


def double(example: Any) -> tuple[float, float]:
    numbers = _numbers(example)
    return single(example), -abs(sum(numbers) - 3.0)


def _space_for(name: str) -> Any:
    """The first space the algorithm accepts."""
    for space in SPACES.values():
        try:
            algorithms.create(name, seed=0).setup(am.dna_spec(space))
        except AutomorphError:
            continue
        return space
    pytest.skip(f"{name} accepts none of the test spaces")


@pytest.mark.parametrize("name", algorithms.names())
def test_one_stored_worker_searches_exactly_as_in_memory(name: str, tmp_path: Path) -> None:
    space = _space_for(name)
    objective = double if algorithms.create(name).multi_objective else single
    alone = am.tune(objective, space, _create(name), TRIALS)
    path = str(tmp_path / "study.db")
    first = am.tune(objective, space, _create(name), TRIALS // 2, name="s", storage=path)
    assert [t.dna for t in first.trials] == [t.dna for t in alone.trials[: TRIALS // 2]]
    resumed = am.tune(objective, space, _create(name), TRIALS, name="s", storage=path)
    assert [t.dna for t in resumed.trials] == [t.dna for t in alone.trials]
    assert [t.reward for t in resumed.trials] == [t.reward for t in alone.trials]
