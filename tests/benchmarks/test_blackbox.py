"""The BBOB benchmark (benchmarks/blackbox.py) on a tiny subset: runs, resumes, reports."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "benchmarks"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_blackbox", BENCHMARKS / "blackbox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bb = _load()
TINY = ["--dims", "2", "--functions", "1,15", "--instances", "1", "--seeds", "0"]
TINY += ["--budgets", "20", "--methods", "random,cmaes", "--parts", "suite"]


def test_a_tiny_suite_runs_resumes_and_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, page = tmp_path / "bb.jsonl", tmp_path / "bb.md"
    argv = [*TINY, "--out", str(out), "--markdown", str(page)]
    assert bb.main(argv) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["method"], r["function"]) for r in records) == [
        ("cmaes", 1),
        ("cmaes", 15),
        ("random", 1),
        ("random", 15),
    ]
    for r in records:
        assert r["evaluations"] == r["proposals"] == 40 and r["budget"] == 20
        assert r["precision"] == pytest.approx(r["best"] - r["fopt"]) and r["precision"] >= 0
        assert r["cpu_propose"] > 0
    text = page.read_text()
    assert text.count(bb.report.BEGIN) == 1 and "Partial results: 4 of the" in text
    assert "| automorph CMA-ES | 2/360 |" in text
    assert "| method | d=2, 20·d | all |" in text  # the mean-rank table
    assert "| d=2, 20·d | automorph random |" in text  # the per-group table
    ranks = [line for line in text.splitlines() if line.startswith("| _problems_ | 2 |")]
    assert ranks, text

    # A rerun finds every run done; the report is rebuilt in place, prose kept.
    page.write_text("# Mine\n\nprose\n\n" + page.read_text().split("\n", 2)[2])
    capsys.readouterr()
    assert bb.main(argv) == 0
    assert "0 tasks to run" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 4
    assert (
        page.read_text().startswith("# Mine\n\nprose\n") and "Partial results" in page.read_text()
    )


def test_runs_are_reproducible_and_budget_free_methods_share_one_run() -> None:
    long = bb.Run("cmaes", 15, 2, 1, 0, (20, 100))
    short = bb.Run("cmaes", 15, 2, 1, 0, (20,))
    first, again, alone = bb.execute(long), bb.execute(long), bb.execute(short)
    assert [r["best"] for r in first] == [r["best"] for r in again]
    assert first[0]["best"] == alone[0]["best"]  # 20·d of the 100·d run is the 20·d run
    assert first[1]["best"] <= first[0]["best"]
    assert first[0]["run_seed"] != bb.Run("cmaes", 15, 2, 2, 0, (20,)).run_seed


def test_plan_skips_done_runs_and_splits_budgets_only_for_budget_aware_methods() -> None:
    free, aware = bb.Method("random", "R", False), bb.Method("x", "X", True)
    done = {("random", 1, 2, 1, 0, 100)}
    runs = bb.plan([free, aware], [2], [1], [1], [0], [20, 100], done)
    assert [(r.method, r.budgets) for r in runs] == [("random", (20,)), ("x", (20,)), ("x", (100,))]


def test_a_run_past_its_deadline_records_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bb.jsonl"
    argv = [*TINY, "--out", str(out), "--markdown", str(tmp_path / "bb.md"), "--max-minutes", "0"]
    assert bb.main(argv) == 0
    assert not out.exists() or out.read_text() == ""


def test_ranks_average_ties_and_count_solved_problems_as_equal() -> None:
    report = bb.report
    record = {"kind": "run", "function": 3, "instance": 1, "seed": 0, "dim": 2, "budget": 20}
    records = [
        {**record, "method": "a", "best": 10.0 + 1e-12, "fopt": 10.0},
        {**record, "method": "b", "best": 10.0 + 1e-10, "fopt": 10.0},
        {**record, "method": "c", "best": 12.0, "fopt": 10.0},
    ]
    table = report.results(records)[(2, 20)]
    assert report.ranks(table, ["a", "b", "c"]) == {(3, 1, 0): {"a": 1.5, "b": 1.5, "c": 3.0}}
    assert report.ranks(table, ["a", "d"]) == {}  # d did not run it


@contextlib.contextmanager
def _labels(*methods: str) -> Iterator[None]:
    """`methods` known to the script (as labels of themselves) for the block."""
    bb.LABELS.update({m: m for m in methods})
    try:
        yield
    finally:
        for m in methods:
            del bb.LABELS[m]


def _write_runs(path: Path, rows: list[tuple[str, int, int, float]]) -> None:
    """Run records (method, function, seed, best value) at d = 2, 20·d, instance 1."""
    keys = ("method", "function", "seed", "best")
    common = {"kind": "run", "instance": 1, "dim": 2, "budget": 20, "fopt": 0.0}
    path.write_text(
        "".join(json.dumps({**common, **dict(zip(keys, row, strict=True))}) + "\n" for row in rows)
    )


def test_compare_counts_the_problems_each_of_two_methods_won(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bb.jsonl"
    rows = [("a", 1, 1.0), ("b", 1, 2.0), ("a", 20, 5.0), ("b", 20, 5.0), ("a", 21, 3.0)]
    rows += [("b", 21, 1e-9), ("a", 2, 4.0)]  # f2: only "a" ran it, so it is not counted
    _write_runs(out, [(m, f, 0, b) for m, f, b in rows])
    with _labels("a", "b"):
        assert bb.main(["--compare", "a,b", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "d=2, 20·d: a better in 1, b better in 1, tied in 1 of 3; "
        "by group (a/b): 1/0, 0/0, 0/0, 0/0, 0/1"
    )
    with pytest.raises(SystemExit):
        bb.main(["--compare", "a", "--out", str(out)])
    assert "--compare takes two method keys" in capsys.readouterr().err


def test_challengers_names_the_method_that_beat_one_most_often_per_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bb.jsonl"
    rows = []
    for seed in range(10):  # f1: b beats a in every seed, c in 7; f20: a beats both
        rows += [("a", 1, seed, 2.0), ("b", 1, seed, 1.0), ("c", 1, seed, 1.0 if seed < 7 else 3.0)]
        rows += [("a", 20, seed, 1.0), ("b", 20, seed, 2.0), ("c", 20, seed, 2.0)]
    _write_runs(out, rows)
    with _labels("a", "b", "c"):
        assert bb.main(["--challengers", "a", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "d=2, 20·d: separable (f1-5): b 10/0 (p = 0.002); "
        "multimodal, weak structure (f20-24): b 0/10 (p = 0.002)"
    )
    with pytest.raises(SystemExit):
        bb.main(["--challengers", "z", "--out", str(out)])
    assert "--challengers takes a method key" in capsys.readouterr().err
