"""Suites: several benchmarks x algorithms in one command, one table, one figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.benchmarks import BENCHMARKS, Benchmark
from automorph.benchmarks.__main__ import main
from automorph.benchmarks._suite import PRESETS, Suite, preset, resolve, run_suite, short_labels


class Bits(Benchmark):
    """Count the ones among `n` bits; the whole space is known (2**n examples)."""

    optimum: float | None = None

    def __init__(self, n: int) -> None:
        self.n = n
        self.name = f"test-bits{n}"
        self.optimum = float(n)

    def space(self) -> Any:
        return am.List([am.oneof([0, 1]) for _ in range(self.n)])

    def reward(self, example: Any) -> float:
        return float(sum(example))

    def top_threshold(self, fraction: float) -> float:
        # n ones: 1 example of 2**n; n-1 ones: n more, and so on.
        return float(self.n) if fraction * 2**self.n <= 1 else float(self.n - 1)


BENCHMARKS.register("test-bits8")(lambda path=None: Bits(8))
BENCHMARKS.register("test-bits10")(lambda path=None: Bits(10))

SUITE = Suite(
    benchmarks=("test-bits8", "test-bits10"),
    algorithms=("random", "regularized_evolution:population_size=8:tournament_size=3"),
    trials=50,
    seeds=3,
    description="a test suite",
)


def test_a_suite_writes_one_table_json_and_figure(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "suite"
    result = run_suite(SUITE, out, log=lambda *_: None)
    table = (out / "results.md").read_text()
    assert table.startswith("Test score of the incumbent") and "a test suite" in table
    for bench in SUITE.benchmarks:
        assert f"| {bench} | random |" in table
        assert (out / bench / "results.json").exists()  # each benchmark resumable on its own
    assert "top 1% in < 100" in table and "median queries to top" in table
    assert table.count("**") >= 2 * len(SUITE.benchmarks)  # the best mean per column is bold
    data = json.loads((out / "results.json").read_text())
    assert data["benchmarks"] == list(SUITE.benchmarks) and data["seeds"] == 3
    top = data["summaries"]["test-bits8"]["random"]["top"]
    assert top["of"] == 3 and 0 <= top["runs"] <= 3
    assert (out / "regret.png").stat().st_size > 20_000
    assert result["results"] == data["summaries"]
    # The per-benchmark JSON records when each run first reached the top 1%.
    runs = json.loads((out / "test-bits10" / "results.json").read_text())
    assert runs["top_threshold"] == 9.0  # 11 of the 1,024 examples have 9 or 10 ones
    for label, hits in runs["first_top_hits"].items():
        for curve, hit in zip(runs["curves"][label], hits, strict=True):
            if hit is not None:  # noiseless: the incumbent is that good from then on, not before
                assert curve[hit - 1] >= 9.0 and (hit == 1 or curve[hit - 2] < 9.0)
            else:
                assert curve[-1] < 9.0


def test_bad_names_fail_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "never"
    bad_algorithm = resolve(None, benchmarks="test-bits8", algorithms="random,nope")
    with pytest.raises(am.RegistrationError, match="no algorithm named 'nope'"):
        run_suite(bad_algorithm, out, log=lambda *_: None)
    bad_benchmark = resolve(None, benchmarks="test-bits8,nope-bench", algorithms="random")
    with pytest.raises(am.RegistrationError, match="no benchmark named 'nope-bench'"):
        run_suite(bad_benchmark, out, log=lambda *_: None)
    with pytest.raises(am.FieldValueError, match="at least one benchmark and one algorithm"):
        run_suite(resolve(None, algorithms="random"), out, log=lambda *_: None)
    assert not out.exists()


def test_presets_and_overrides() -> None:
    assert {"learned-search", "grammar-bo", "nb201-paper"} <= set(PRESETS)
    for suite in PRESETS.values():  # every preset names only registered things
        assert set(suite.benchmarks) <= set(am.benchmarks.names())
        assert {a.split(":")[0] for a in suite.algorithms} <= set(am.algorithms.names())
    learned = preset("learned-search")
    assert len(learned.benchmarks) == 6 and learned.seeds >= 50 and learned.trials == 200
    assert {"random", "tpe"} <= {a.split(":")[0] for a in learned.algorithms}
    smaller = resolve("learned-search", seeds=2, trials=30, benchmarks="nb201-cifar10")
    assert (smaller.seeds, smaller.trials, smaller.benchmarks) == (2, 30, ("nb201-cifar10",))
    assert smaller.algorithms == learned.algorithms
    with pytest.raises(am.RegistrationError, match="no suite preset named 'nope'; presets: "):
        preset("nope")


def test_short_labels_keep_options_only_where_names_repeat() -> None:
    curves = {"random": 1, "ppo:policy=a": 2, "ppo:policy=b": 3, "tpe:n=1": 4}
    assert list(short_labels(curves)) == ["random", "ppo:policy=a", "ppo:policy=b", "tpe"]


def test_the_suite_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "cli"
    args = ["suite", "--benchmarks", "test-bits8", "--algorithms", "random"]
    args += ["--trials", "20", "--seeds", "2", "--output", str(out)]
    assert main(args) == 0
    assert "| test-bits8 | random |" in capsys.readouterr().out
    assert main(["suite", "--preset", "nope"]) == 1
    assert "no suite preset named 'nope'" in capsys.readouterr().err
    assert main(["list"]) == 0
    assert "suite presets: grammar-bo, learned-search, nb201-paper" in capsys.readouterr().out
