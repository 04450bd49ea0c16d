"""benchmarks/grammar_trained.py: CPU-budgeted stored runs, their resume and the regret curves."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "benchmarks"
TINY = "NET -> Sequential(CL, down)\n@level\nCL -> Cell(OP, OP, OP)\nOP -> conv3x3 | id | zero\n"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_grammar_trained", BENCHMARKS / "grammar_trained.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    data = tmp_path / "fashion_mnist.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (96, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 96, dtype=np.uint8),
        x_test=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 8, dtype=np.uint8),
    )
    grammar = tmp_path / "tiny.grammar"
    grammar.write_text(TINY)
    return data, grammar


def test_runs_stop_at_the_cpu_budget_resume_and_continue(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    pytest.importorskip("torch")
    module = _load()
    data, grammar = files
    store = tmp_path / "runs" / "studies.db"
    argv = [
        "--data", str(data), "--grammar", str(grammar), "--store", str(store),
        "--methods", "grammar_bo,random", "--seeds", "1", "--train", "64", "--val", "32",
        "--steps", "2",
    ]  # fmt: skip
    first = module.main([*argv, "--budget", "0.3"])
    counts = {m: first["methods"][m]["trials"] for m in ("grammar_bo", "random")}
    for method in counts:
        trials = module.completed(store, f"{method}-s0")
        cpu = [module._cpu(t) for t in trials]
        assert cpu == sorted(cpu) and cpu[-1] >= 0.3  # the run ended on the budget...
        assert all(c < 0.3 for c in cpu[:-1])  # ...at the first trial past it
    again = module.main([*argv, "--budget", "0.3"])  # a rerun adds nothing
    assert {m: again["methods"][m]["trials"] for m in counts} == counts
    budget = max(module._cpu(module.completed(store, f"{m}-s0")[-1]) for m in counts) + 1.0
    more = module.main([*argv, "--budget", str(budget)])  # a larger budget continues
    for method in counts:
        trials = module.completed(store, f"{method}-s0")
        assert more["methods"][method]["trials"] == [len(trials)]
        assert len(trials) > counts[method][0]
        cpu = [module._cpu(t) for t in trials]
        assert cpu == sorted(cpu) and cpu[-1] >= budget
    # the regret bookkeeping, recomputed by hand from the stored errors
    written = json.loads(store.with_suffix(".json").read_text())
    errors = {m: [float(t.reward) for t in module.completed(store, f"{m}-s0")] for m in counts}
    best = min(min(e) for e in errors.values())
    assert written["reference_error"] == pytest.approx(best)
    for method, errs in errors.items():
        regret = np.minimum.accumulate(errs) - best
        n = len(more["methods"][method]["regret_query_mean"])
        assert more["methods"][method]["regret_query_mean"] == pytest.approx(regret[:n])
        assert more["methods"][method]["regret_cpu_mean"][-1] == pytest.approx(regret[-1])
    assert min(r["regret_cpu_mean"][-1] for r in more["methods"].values()) == 0.0
    assert store.with_suffix(".png").stat().st_size > 0
    # a report at the first budget reads the runs only up to it
    report = module.main([*argv, "--budget", "0.3", "--report-only"])
    assert {m: report["methods"][m]["trials"] for m in counts} == counts
    with pytest.raises(ValueError, match=r"no run in .* has reached the budget"):
        module.main([*argv, "--budget", "1000", "--report-only"])


def test_bad_input_is_named(tmp_path: Path, files: tuple[Path, Path]) -> None:
    module = _load()
    data, _ = files
    with pytest.raises(ValueError, match="unknown method 'bo'"):
        module.main(["--methods", "bo", "--store", str(tmp_path / "s.db")])
    with pytest.raises(ValueError, match="exceed the 96 training images"):
        module.load_subset(data, module.Setup(train=90, val=10))
    with pytest.raises(ValueError, match="no completed trials"):
        module.curves({}, [0.0])
