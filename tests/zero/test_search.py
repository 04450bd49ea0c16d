"""Mutations, regularized evolution, hurdles, checkpoints, configs, the CLI."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import automorph
from automorph.cli import main as cli_main
from automorph.zero import (
    MUTATIONS,
    NUM_OPS,
    ConfigError,
    Evolver,
    Memory,
    Program,
    SearchConfig,
    _search,
    get_config,
    run_search,
)
from automorph.zero._kernels import rng_seed
from automorph.zero._search_kernel import mutate, randomize_component

TINY_SEED = 2  # linear-tiny solves in a few seconds with this seed


def _tiny(**changes: object) -> SearchConfig:
    return get_config("linear-tiny").rebind(dict(changes)) if changes else get_config("linear-tiny")


def test_mutations_keep_programs_valid_and_sizes_in_bounds() -> None:
    config = SearchConfig(
        memory=Memory(4, 3, 2),
        setup_ops=list(range(NUM_OPS)), predict_ops=list(range(NUM_OPS)),
        learn_ops=list(range(1, 20)),
        sizes_init=[3, 3, 3], sizes_min=[1, 2, 3], sizes_max=[6, 6, 6],
        mutations=list(MUTATIONS),
    )  # fmt: skip
    space = config.space_arrays()
    rng = np.zeros(1, dtype=np.uint64)
    rng_seed(rng, 3)
    ints = np.zeros((3, config.max_size, 4), dtype=np.int64)
    floats = np.zeros((3, config.max_size, 4))
    sizes = np.array([3, 3, 3], dtype=np.int64)
    for k in range(3):
        randomize_component(k, ints, floats, sizes, space, rng)
    seen_sizes = set()
    for _ in range(3000):
        mutate(ints, floats, sizes, space, rng)
        program = Program.from_arrays(ints, floats, sizes).validate(config.memory, 4)
        seen_sizes.add(tuple(sizes))
        assert all(ins.op in range(1, 20) for ins in program.learn)
        outs = [(i.op, i.out) for c in ("setup", "predict", "learn") for i in getattr(program, c)]
        assert all(not (op in (1, 2, 3) and out == 0) for op, out in outs)  # s0 is never written
    sizes_arr = np.array(sorted(seen_sizes))
    assert sizes_arr.min(axis=0).tolist() == [1, 2, 3]
    assert sizes_arr.max(axis=0).tolist() == [5, 5, 5]  # insert stops at size max - 1


def test_same_seed_same_search() -> None:
    config = _tiny(population_size=30)
    runs = []
    for _ in range(2):
        evolver = Evolver(config, config.search_tasks.build(), seed=4)
        evolver.initialize()
        evolver.step(200)
        runs.append((evolver.pop[3].copy(), evolver.counters()))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    assert runs[0][1]["fec_hits"] > 0 and runs[0][1]["programs"] == 230


def test_hurdles_stop_weak_programs() -> None:
    config = _tiny(population_size=30, hurdle_tasks=1)
    evolver = Evolver(config, config.search_tasks.build(), seed=1)
    evolver.initialize()
    for _ in range(5):
        evolver.step(30)
    assert evolver.counters()["hurdle_stops"] > 0


@pytest.mark.usefixtures("cifar10_path")
def test_the_cifar10_config_stops_weak_children_at_its_hurdle() -> None:
    config = get_config("cifar10-binary")
    assert (config.hurdle_tasks, config.hurdle_percentile) == (2, 75.0)
    small = config.rebind(
        {"search_tasks.num_train": 100, "search_tasks.num_valid": 50, "population_size": 20}
    )
    evolver = Evolver(small, small.search_tasks.build(), seed=1)
    evolver.initialize()
    for _ in range(5):
        evolver.step(20)
    counters = evolver.counters()
    stops = counters["hurdle_stops"]
    assert counters["programs"] == 120 and stops > 10
    full, stopped = 10 * 100, 2 * 100  # training steps on all 10 tasks, or on the first 2
    assert counters["train_steps"] <= (120 - stops) * full + stops * stopped


def test_tiny_demo_discovers_sgd_linear_regression() -> None:
    out = io.StringIO()
    result = run_search(_tiny(progress_every=20000), seed=TINY_SEED, out=out)
    assert result.solved and result.select_fitness > 0.999
    assert "experiment 0 done" in out.getvalue() and "indivs=" in out.getvalue()
    code = result.program.code(4)
    assert "dot(v0" in code or "dot(v1, v0)" in code or "dot(v2, v0)" in code


def test_checkpoint_resume_is_exact(tmp_path: Path) -> None:
    config = _tiny(population_size=50, max_train_steps=300_000, max_experiments=2)
    whole = run_search(config, seed=7, out=None)
    path = tmp_path / "run.npz"
    part = run_search(config, seed=7, out=None, checkpoint=path, max_cpu_seconds=0.0)
    assert path.exists() and part.counters["programs"] < whole.counters["programs"]
    assert 0.0 <= part.select_fitness <= 1.0  # stopped early: its best, on the select tasks
    out = io.StringIO()
    resumed = run_search(config, seed=7, out=out, checkpoint=path)
    assert "resumed" in out.getvalue()
    assert resumed.counters == whole.counters
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness
    with pytest.raises(ConfigError, match="belongs to another search"):
        run_search(config, seed=8, out=None, checkpoint=path)


def test_a_checkpoint_goes_on_under_a_larger_training_budget(tmp_path: Path) -> None:
    short = _tiny(population_size=50, max_train_steps=300_000, max_experiments=1)
    long = _tiny(population_size=50, max_train_steps=600_000, max_experiments=1)
    whole = run_search(long, seed=7, out=None)
    path = tmp_path / "run.npz"
    part = run_search(short, seed=7, out=None, checkpoint=path, max_cpu_seconds=0.0)
    assert part.counters["programs"] < whole.counters["programs"]
    resumed = run_search(long, seed=7, out=None, checkpoint=path)
    assert resumed.counters == whole.counters and resumed.counters["train_steps"] >= 600_000
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness
    with pytest.raises(ConfigError, match="belongs to another search"):
        run_search(_tiny(population_size=50, tournament_size=5), seed=7, out=None, checkpoint=path)


def test_a_run_that_ended_its_experiments_goes_on_to_the_next_one(tmp_path: Path) -> None:
    one = _tiny(population_size=50, max_train_steps=300_000, max_experiments=1)
    two = _tiny(population_size=50, max_train_steps=300_000, max_experiments=2)
    whole = run_search(two, seed=7, out=None)
    path = tmp_path / "run.npz"
    assert run_search(one, seed=7, out=None, checkpoint=path).experiments == 1
    out = io.StringIO()
    resumed = run_search(two, seed=7, out=out, checkpoint=path)
    assert "experiment 1 done" in out.getvalue() and "experiment 0 done" not in out.getvalue()
    assert resumed.experiments == whole.experiments == 2
    assert resumed.counters == whole.counters
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness


def test_config_errors() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown zero config 'linear-dem'.*did you mean 'linear-demo'"
    ):
        get_config("linear-dem")
    with pytest.raises(ConfigError, match="unknown mutation 'alter'"):
        SearchConfig(mutations=["alter"])
    with pytest.raises(ConfigError, match="learn_ops: unknown op id 70"):
        SearchConfig(learn_ops=[70])
    with pytest.raises(ConfigError, match="MATRIX_SUM_OP reads a matrix; memory has none"):
        SearchConfig(memory=Memory(4, 3, 0), learn_ops=[39])
    with pytest.raises(ConfigError, match="sizes_min <= sizes_init <= sizes_max"):
        SearchConfig(sizes_init=[1, 2, 8])
    with pytest.raises(ConfigError, match="mutate_prob must be in"):
        SearchConfig(mutate_prob=1.5)
    with pytest.raises(ConfigError, match="combine must be 'mean' or 'median'"):
        SearchConfig(combine="max")
    with pytest.raises(ConfigError, match="sizes_max must be 3 sizes"):
        SearchConfig(sizes_max=[1, 2])


def test_cli_runs_a_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = tmp_path / "result.json"
    status = cli_main(["zero", "run", "--config", "linear-tiny", "--seed", "3",
                       "--max-experiments", "2", "--max-train-steps", "300000",
                       "--json", str(result)])  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0 and "experiment 1 done:" in printed
    assert "not solved: select_fitness=" in printed and "experiments=2" in printed
    assert "def predict():" in printed and "def learn():" in printed
    saved = json.loads(result.read_text())
    assert not saved["solved"] and saved["program"]["_type"].endswith("Program")
    # Two experiments of 300,000 steps, not of the config's 2,000,000.
    assert 600_000 <= saved["counters"]["train_steps"] < 1_000_000
    assert cli_main(["zero", "run", "--config", "nope"]) == 1
    assert "unknown zero config 'nope'" in capsys.readouterr().err
    assert cli_main(["zero", "configs"]) == 0
    assert "linear-demo" in capsys.readouterr().out


def test_the_cpu_budget_starts_after_the_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_compile(err: object = None) -> bool:  # a compile: CPU time before the search
        start = time.process_time()
        while time.process_time() - start < 1.0:
            pass
        return True

    monkeypatch.setattr(_search, "compile_evaluator", slow_compile)
    config = _tiny(max_experiments=1)
    result = run_search(config, seed=3, out=None, max_cpu_seconds=0.3)
    assert result.cpu_seconds < 1.0  # the compile is not in the budget ...
    assert result.counters["programs"] > config.population_size  # ... which evolves programs


def test_the_warm_up_compiles_what_a_search_calls() -> None:
    _search.compile_evaluator(None)
    kernels = _search._entry_kernels()
    before = [len(kernel.signatures) for kernel in kernels]
    run_search(_tiny(max_experiments=1), seed=3, out=None, max_cpu_seconds=0.2)
    assert [len(kernel.signatures) for kernel in kernels] == before  # no compile in the run
    err = io.StringIO()
    assert not _search.compile_evaluator(err)  # in numba's cache now: loaded, not compiled
    assert err.getvalue() == ""


def _zero_run(cache: Path) -> subprocess.CompletedProcess[str]:
    root = str(Path(automorph.__file__).parent.parent)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=root, OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "automorph.cli", "zero", "run", "--config", "linear-tiny"]
    command += ["--seed", "3", "--max-experiments", "1", "--max-cpu-seconds", "1", "--quiet"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)


@pytest.mark.slow
def test_zero_run_announces_the_one_time_compile_and_does_not_count_it(tmp_path: Path) -> None:
    first = _zero_run(tmp_path / "numba")  # an empty numba cache: the evaluator compiles
    assert first.returncode == 0, first.stderr
    assert "compiling the evaluator (about a minute of CPU, once" in first.stderr
    cpu = float(re.search(r"cpu_secs=([0-9.]+)", first.stdout).group(1))  # type: ignore[union-attr]
    programs = int(re.search(r"programs=(\d+)", first.stdout).group(1))  # type: ignore[union-attr]
    assert cpu < 10.0  # the compile alone takes over 30 CPU seconds
    assert programs > 100  # the population (100) and children evolved within the budget
    again = _zero_run(tmp_path / "numba")
    assert again.returncode == 0 and "compiling" not in again.stderr  # loaded from the cache
