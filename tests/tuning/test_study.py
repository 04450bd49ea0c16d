"""`am.load_study`: a stored study without its objective; enqueue, delete, export."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.cli import main
from automorph.storage import MemoryStorage

SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))


def objective(example: Any) -> float:
    return float(example["x"] * example["k"])


def multi(example: Any) -> tuple[float, float]:
    return float(example["x"]), float(example["k"])


def _run(storage: Any, n: int, name: str = "s", **kwargs: Any) -> am.StudyResult:
    return am.tune(
        objective, SPACE, algorithms.Random(seed=7), n, name=name, storage=storage, **kwargs
    )


def test_load_study_reads_trials_and_best_without_the_objective(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    result = _run(path, 6)
    study = am.load_study("s", path)
    assert repr(study).startswith("Study(name='s'")
    assert [t.id for t in study.trials] == [1, 2, 3, 4, 5, 6]
    assert [t.reward for t in study.trials] == [t.reward for t in result.trials]
    assert study.best_trial.id == result.best_trial.id
    assert [t.id for t in study.best_trials] == [result.best_trial.id]
    assert study.directions == ("maximize",) and not study.multi_objective
    assert study.space == SPACE and study.dna_spec == am.dna_spec(SPACE)
    assert study.trials[0].example == result.trials[0].example
    frame = study.to_dataframe()
    assert list(frame["id"]) == [1, 2, 3, 4, 5, 6]
    assert list(frame["reward"]) == [t.reward for t in result.trials]
    assert "dna.x" in frame.columns and "worker" in frame.columns
    study.close()


def test_load_study_of_a_multi_objective_study() -> None:
    store = MemoryStorage()
    am.tune(multi, SPACE, algorithms.nsga2(seed=1), 10, name="mo", storage=store,
            direction=["maximize", "minimize"])  # fmt: skip
    study = am.load_study("mo", store)
    assert study.multi_objective and study.directions == ("maximize", "minimize")
    front = study.pareto_front
    assert front and [t.id for t in study.best_trials] == [t.id for t in front]
    for a in front:  # no trial is better on both: higher x, lower k
        for b in study.trials:
            rb, ra = b.reward, a.reward
            assert isinstance(rb, tuple) and isinstance(ra, tuple)
            assert not (rb[0] >= ra[0] and rb[1] <= ra[1] and rb != ra)
    with pytest.raises(am.AutomorphError, match="no single best trial"):
        _ = study.best_trial


def test_load_study_of_a_missing_study_lists_the_studies() -> None:
    store = MemoryStorage()
    _run(store, 1, name="there")
    with pytest.raises(am.StudyNotFoundError, match=r"no study named 'nowhere' \(studies: there\)"):
        am.load_study("nowhere", store)
    with pytest.raises(am.FieldTypeError, match="`name` must be a study's name"):
        am.load_study("", store)


def test_to_dataframe_without_pandas_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStorage()
    _run(store, 2)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas, which is not installed: `pip install"):
        am.load_study("s", store).to_dataframe()


def test_export_is_the_command_lines_export(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    _run(path, 5)
    study = am.load_study("s", path)
    for fmt in ("csv", "json"):
        mine = tmp_path / f"mine.{fmt}"
        theirs = tmp_path / f"theirs.{fmt}"
        assert study.export(mine) == 5
        assert main(["export", "s", "--storage", path, "--format", fmt, "-o", str(theirs)]) == 0
        assert mine.read_text() == theirs.read_text()
    assert len(json.loads((tmp_path / "mine.json").read_text())) == 5
    stream = io.StringIO()
    assert study.export(stream, "json") == 5 and json.loads(stream.getvalue())[0]["id"] == 1
    with pytest.raises(am.FieldValueError, match="`fmt` must be 'csv' or 'json', got 'xml'"):
        study.export(io.StringIO(), "xml")
    study.close()


def test_delete(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    _run(path, 2)
    _run(path, 2, name="other")
    am.load_study("s", path).delete()
    with pytest.raises(am.StudyNotFoundError, match=r"no study named 's' \(studies: other\)"):
        am.load_study("s", path)
    assert len(am.load_study("other", path).trials) == 2


# --- enqueue ---------------------------------------------------------------------------------


def test_enqueued_trials_run_first_with_the_local_executor() -> None:
    store = MemoryStorage()
    _run(store, 2)
    study = am.load_study("s", store)
    assert study.enqueue({"x": 0.25, "k": 3}) == 3
    assert study.enqueue(am.DNA({"x": 0.5, "k": 0})) == 4
    assert study.enqueue_dna({"x": 0.75, "k": 1}) == 5
    queued = study.trials[2:]
    assert [t.status for t in queued] == ["pending"] * 3
    assert queued[0].example == {"x": 0.25, "k": 3}
    result = _run(store, 7)
    trials = result.trials
    assert [t.status for t in trials] == ["completed"] * 7
    assert [t.example for t in trials[2:5]] == [
        {"x": 0.25, "k": 3},
        {"x": 0.5, "k": 1},
        {"x": 0.75, "k": 2},
    ]
    assert [t.reward for t in trials[2:5]] == [0.75, 0.5, 1.5]
    # Each enqueued trial ended before anything new was proposed.
    assert all(t.completed is not None and t.completed <= trials[5].created for t in trials[2:5])


def test_enqueue_keeps_the_algorithm_exact() -> None:
    """After enqueued trials, the study's algorithm proposes what an algorithm
    recovered from the same history proposes."""
    store = MemoryStorage()

    def evolution() -> algorithms.SearchAlgorithm:
        return algorithms.regularized_evolution(population_size=4, tournament_size=2, seed=5)

    am.tune(objective, SPACE, evolution(), 0, name="e", storage=store, minimize=True)
    study = am.load_study("e", store)
    study.enqueue({"x": 0.1, "k": 1})
    study.enqueue({"x": 0.9, "k": 3})
    result = am.tune(objective, SPACE, evolution(), 12, name="e", storage=store)
    trials = result.trials
    assert [t.example for t in trials[:2]] == [{"x": 0.1, "k": 1}, {"x": 0.9, "k": 3}]
    assert result.num_completed == 12
    spec = am.dna_spec(SPACE)
    for k in range(2, 12):
        fresh = evolution()
        fresh.setup(spec)
        fresh.recover((t.dna, -t.reward) for t in trials[:k])  # type: ignore[operator]
        assert fresh.propose() == trials[k].dna, f"trial {k + 1} differs"


def test_enqueue_errors() -> None:
    store = MemoryStorage()
    _run(store, 1)
    study = am.load_study("s", store)
    with pytest.raises(am.SearchSpaceError, match="cannot encode"):
        study.enqueue({"x": 5.0, "k": 1})
    with pytest.raises(am.InvalidDNAError):
        study.enqueue(am.DNA({"y": 1}))
    unstorable = am.Dict(x=am.intv(0, 3), f=lambda v: v)
    am.tune(lambda e: 1.0, unstorable, algorithms.Random(seed=1), 1, name="u", storage=store)
    opaque = am.load_study("u", store)
    assert opaque.space is None
    with pytest.raises(
        am.SearchSpaceError, match=r"could not store its search space .*am\.DNA\(\{"
    ):
        opaque.enqueue({"x": 1})
    assert opaque.enqueue(am.DNA({"x": 2})) == 2
    assert opaque.trials[-1].example is None and opaque.trials[-1].dna == am.DNA({"x": 2})


def test_enqueued_trials_run_first_in_worker_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    am.tune(objective, SPACE, algorithms.Random(seed=3), 0, name="w", storage=path,
            minimize=True)  # fmt: skip
    study = am.load_study("w", path)
    for x in (0.0, 0.125, 0.375):
        study.enqueue({"x": x, "k": 2})
    result = am.tune(objective, SPACE, algorithms.Random(seed=3), 9, name="w", storage=path,
                     executor="process", num_workers=2)  # fmt: skip
    trials = result.trials
    assert [t.status for t in trials] == ["completed"] * 9
    assert [t.example["x"] for t in trials[:3]] == [0.0, 0.125, 0.375]
    assert result.best_trial.id == 1 and result.best_reward == 0.0  # minimized
    # Every enqueued trial was claimed before the first new proposal was made.
    records = study.storage.get_trials("w")
    first_new = min(r.created for r in records[3:])
    assert all(r.started is not None and r.started <= first_new for r in records[:3])
    study.close()
