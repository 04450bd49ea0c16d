"""The examples run (at small sizes) and find what they are meant to find."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


def test_tune_sklearn_finds_an_accurate_classifier(capsys: pytest.CaptureFixture[str]) -> None:
    result = _load("tune_sklearn").main(["--trials", "12", "--seed", "1"])
    assert result.num_completed == 12
    assert result.best_reward > 0.9  # digits: a tuned SVC or logistic regression
    assert "best model:" in capsys.readouterr().out


def test_search_program_evolution_beats_random() -> None:
    import automorph as am
    from automorph import algorithms

    module = _load("search_program")
    x = module.np.linspace(-2.0, 2.0, 41)
    target = 3 * x**2 + 2 * x - 1
    evolved, random = [], []
    for seed in range(3):
        evolved.append(-module.main(["--trials", "1500", "--seed", str(seed)]).best_reward)
        result = am.tune(
            lambda e: -float(module.np.mean((e(x) - target) ** 2)),
            module.node(3),
            algorithms.Random(seed=seed),
            1500,
        )
        random.append(-result.best_reward)
    assert min(evolved) < 0.1  # some run all but finds 3x² + 2x - 1
    assert sum(evolved) < sum(random)  # and evolution beats random search on average


def test_define_by_run_searches_a_model_builder(capsys: pytest.CaptureFixture[str]) -> None:
    result = _load("define_by_run").main(["--trials", "8", "--seed", "0"])
    assert result.num_completed == 8
    assert result.best_reward > 0.3  # diabetes R² of a sensible linear model
    out = capsys.readouterr().out
    assert "decisions: degree, penalty, alpha" in out


def test_demo_runs_a_real_search(capsys: pytest.CaptureFixture[str]) -> None:
    _load("demo").main(["--trials", "300"])
    out = capsys.readouterr().out
    assert "regularized evolution: best y =" in out
    assert "random search: best y =" in out
    assert "untrusted JSON: unknown type 'os.system'" in out


def test_grammar_fashion_mnist_searches_and_prints_the_best(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    data = tmp_path / "fashion_mnist.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 64, dtype=np.uint8),
        x_test=rng.integers(0, 256, (32, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 32, dtype=np.uint8),
    )
    grammar = tmp_path / "tiny.grammar"
    grammar.write_text(
        "NET -> Sequential(CL, down)\n@level\nCL -> Cell(OP, OP, OP)\nOP -> conv3x3 | id | zero\n"
    )
    module = _load("grammar_fashion_mnist")
    argv = ["--data", str(data), "--trials", "3", "--steps", "2", "--train", "64", "--test", "32"]
    result = module.main([*argv, "--grammar", str(grammar)])
    assert result.num_completed == 3
    assert "best derivation: Sequential(Cell(" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match=r"looked in: .*missing\.npz \(given\)"):
        module.main(["--data", str(tmp_path / "missing.npz")])
