"""The benchmarks run (in quick mode; the figures come from full runs, not tests)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_symbolic_ops_benchmark_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ops.json"
    assert (
        _load("symbolic_ops").main(["--rounds", "1", "--min-round-s", "0.001", "--json", str(out)])
        == 0
    )
    figures = json.loads(out.read_text())
    assert figures["nodes"] > 150
    assert set(figures["results"]) >= {"construct", "deep clone", "rebind one leaf", "hash"}
    assert "automorph µs" in capsys.readouterr().out


def test_search_loop_benchmark_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "loop.json"
    assert _load("search_loop").main(["--quick", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["rates"]["random"]["automorph"] > 0
    assert "regularized evolution" in capsys.readouterr().out


def test_hpo_benchmark_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hpo.json"
    assert _load("hpo").main(["--quick", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    regret = figures["regret"]["branin"]
    assert {"gp_bo", "tpe", "random"} <= set(regret)
    assert all(mean >= 0.0 for by_budget in regret.values() for mean, _ in by_budget.values())
    assert figures["trials_per_second"]["gp_bo"]["30"] > 0
    assert "Trials per CPU second" in capsys.readouterr().out


def test_steady_window_counts_completions_between_the_edges() -> None:
    common = _load("_common")
    # b starts last (t=1.5); a stops first (its last finish, t=4): the window is [1.5, 4].
    window = common.steady_window({"a": (0.0, [1.0, 2.0, 3.0, 4.0]), "b": (1.5, [2.5, 3.5, 4.5])})
    assert (window.start, window.end, window.workers) == (1.5, 4.0, 2)
    # a: half of [1, 2] before the window; b: half of [3.5, 4.5] after it.
    assert window.before == 1.5 and window.completed == 5.0 and window.rate == 2.0
    # a finished everything before b began: no steady state.
    assert common.steady_window({"a": (0.0, [1.0, 2.0]), "b": (3.0, [4.0])}) is None
    assert common.steady_window({"a": (0.0, [])}) is None


def test_scale_benchmark_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, page = tmp_path / "scale.json", tmp_path / "scale.md"
    page.write_text("# Scale\n\n<!-- scale:begin -->\nold\n<!-- scale:end -->\nafter\n")
    argv = ["--quick", "--only", "sleep", "--db", "sqlite", "--algorithm", "random"]
    argv += ["--workers", "2", "--window", "1", "--json", str(out), "--markdown", str(page)]
    assert _load("scale").main(argv) == 0
    (row,) = json.loads(out.read_text())["sleep"]
    assert row["workers_seen"] == 2 and row["completed"] == row["trials"] and not row["stopped"]
    assert 0.5 < row["ratio"] <= 1.01  # two workers sleeping 1 s: near 2 trials/s
    text = page.read_text()
    assert "old" not in text and text.endswith("<!-- scale:end -->\nafter\n")
    assert "| SQLite | 2 | random search |" in text
    assert "[sleep 1/1] SQLite" in capsys.readouterr().out


def test_zero_jobs_rescore_scores_a_result_beside_its_baselines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automorph import zero

    jobs = _load("zero_jobs")
    # A "result" whose best program is the hand-written network: its row must be
    # the network's, and linear SGD's must differ (the teacher is not linear).
    saved = {"program": zero.Program.to_json(zero.neural_net_program()), "cpu_seconds": 12.0}
    (tmp_path / "nonlinear-7.json").write_text(json.dumps(saved))
    args = ["--rescore", "nonlinear", "--seed", "7", "--out", str(tmp_path), "--eval-seeds", "2"]
    assert jobs.main(args) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("| program | search tasks (10) | select tasks (20) |")
    best, linear, network = (row.split(" | ")[1:] for row in rows[2:])
    assert rows[2].startswith("| best of nonlinear (12 CPU-s) |")
    assert best == network
    assert linear != network
    # The selection tasks trained on 100 examples in place of 1,000 score otherwise.
    assert jobs.main([*args, "--select-train", "100"]) == 0
    fewer = capsys.readouterr().out.strip().splitlines()
    assert fewer[0].endswith("| select tasks (20, 100 training examples) |")
    assert fewer[2].split(" | ")[1] == best[0]  # the search tasks are the same
    assert fewer[2].split(" | ")[2] != best[1]
    with pytest.raises(SystemExit):
        jobs.main([*args, "--select-train", "0"])
    assert "--select-train must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no result of job 'few-examples'"):
        jobs.main(["--rescore", "few-examples", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        jobs.main(["--rescore", "nonsense", "--out", str(tmp_path)])
    assert "unknown job 'nonsense'" in capsys.readouterr().err
