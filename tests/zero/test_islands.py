"""Island search: migration, experiments, exact checkpoints, both backends, the CLI."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automorph.cli import main as cli_main
from automorph.tuning import WorkerDiedError
from automorph.zero import ConfigError, SearchConfig, get_config, run_islands, run_search
from automorph.zero._islands import island_seed

MIGRATE = 80  # two sweeps of the populations of 40 below


def _config(**changes: Any) -> SearchConfig:
    """linear-tiny with populations of 40 and experiments of a few rounds."""
    base = {"population_size": 40, "max_train_steps": 60_000, "progress_every": MIGRATE}
    return get_config("linear-tiny").rebind({**base, **changes})


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        return meta, {k: saved[k] for k in saved.files if k != "meta"}


def test_one_island_evolves_what_run_search_does() -> None:
    config = _config(max_experiments=2)
    search = run_search(config, seed=5, out=None)
    out = io.StringIO()
    one = run_islands(config, seed=5, islands=1, migrate_every=MIGRATE, out=out)
    assert one.program == search.program and one.select_fitness == search.select_fitness
    assert one.counters == [search.counters] and one.experiments == search.experiments == 2
    text = out.getvalue()
    assert "experiment=0 island=0 indivs=120 " in text  # the population, then one round
    assert "experiment 1 done: indivs=" in text
    assert island_seed(5, 1, 0) == 5001  # the seed of run_search's second experiment


def test_islands_send_their_best_members_to_the_next_island(tmp_path: Path) -> None:
    config = _config()
    path = tmp_path / "run.npz"
    result = run_islands(config, seed=1, islands=3, migrate_every=MIGRATE, migrants=4,
                         rounds=2, checkpoint=path, out=None)  # fmt: skip
    assert result.rounds == 2 and result.experiments == 0 and result.restarts == [0, 0, 0]
    assert [c["programs"] for c in result.counters] == [40 + 2 * MIGRATE] * 3
    meta, arrays = _read(path)
    assert meta["in_experiment"] and meta["round"] == 2
    for i in range(3):
        sender = (i - 1) % 3  # around the ring
        fitness = arrays[f"island{sender}.pop_fitness"]
        top = np.argsort(-fitness, kind="stable")[:4]
        assert np.array_equal(arrays[f"inbox{i}.3"], fitness[top])
        assert np.array_equal(arrays[f"inbox{i}.0"], arrays[f"island{sender}.pop_ints"][top])


def test_a_resumed_island_run_is_exact(tmp_path: Path) -> None:
    # Experiment 0 ends after four or five rounds; the runs stop inside experiment 1.
    config = _config(max_experiments=3, max_train_steps=40_000)
    plan: dict[str, Any] = {"islands": 2, "migrate_every": MIGRATE, "migrants": 3}
    whole_path, part_path = tmp_path / "whole.npz", tmp_path / "part.npz"
    whole = run_islands(config, seed=9, rounds=6, checkpoint=whole_path, out=None, **plan)
    part = run_islands(config, seed=9, rounds=2, checkpoint=part_path, out=None, **plan)
    assert part.rounds == 2 and part.experiments == 0
    assert part.totals["programs"] < whole.totals["programs"]
    out = io.StringIO()
    resumed = run_islands(config, seed=9, rounds=6, checkpoint=part_path, out=out, **plan)
    assert "resumed" in out.getvalue() and "experiment 0 done" in out.getvalue()
    assert whole.experiments == resumed.experiments == 1 and resumed.rounds == 6
    assert resumed.counters == whole.counters
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness
    # Bit for bit: every island's population, generators, cache and hurdle, the
    # migrants in transit, and the run's own state (but its CPU time).
    (meta_a, arrays_a), (meta_b, arrays_b) = _read(whole_path), _read(part_path)
    assert meta_a.pop("cpu") > 0.0 and meta_b.pop("cpu") > 0.0
    assert meta_a == meta_b and meta_a["in_experiment"] and meta_a["experiment"] == 1
    assert sorted(arrays_a) == sorted(arrays_b) and "island1.cache0" in arrays_a
    for name, array in arrays_a.items():
        assert array.dtype == arrays_b[name].dtype and array.tobytes() == arrays_b[name].tobytes()


def test_a_checkpoint_resumes_only_its_own_run(tmp_path: Path) -> None:
    config = _config()
    path = tmp_path / "run.npz"
    run_islands(config, seed=2, islands=2, migrate_every=MIGRATE, rounds=1, checkpoint=path,
                out=None)  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"belongs to another island search \(islands 2 there, 3 here\)"
    ):
        run_islands(config, seed=2, islands=3, migrate_every=MIGRATE, checkpoint=path, out=None)
    with pytest.raises(
        ConfigError, match=r"belongs to another island search \(seed 2 there, 3 here\)"
    ):
        run_islands(config, seed=3, islands=2, migrate_every=MIGRATE, checkpoint=path, out=None)


def test_a_checkpoint_goes_on_under_a_larger_training_budget(tmp_path: Path) -> None:
    # Stopped inside its experiment under 40,000 steps an island, the run resumed
    # under 80,000 is the run given 80,000 from the start; other changes are refused.
    short = _config(max_experiments=1, max_train_steps=40_000)
    long = _config(max_experiments=1, max_train_steps=80_000)
    plan: dict[str, Any] = {"islands": 2, "migrate_every": MIGRATE}
    whole = run_islands(long, seed=4, out=None, **plan)
    path = tmp_path / "run.npz"
    part = run_islands(short, seed=4, rounds=2, checkpoint=path, out=None, **plan)
    assert part.experiments == 0 and part.rounds == 2
    out = io.StringIO()
    resumed = run_islands(long, seed=4, checkpoint=path, out=out, **plan)
    assert "resumed" in out.getvalue() and resumed.experiments == whole.experiments == 1
    assert resumed.counters == whole.counters and resumed.rounds == whole.rounds
    assert all(c["train_steps"] >= 80_000 for c in resumed.counters)
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness
    assert _read(path)[0]["config"]["max_train_steps"] == 80_000  # saved under the new limit
    with pytest.raises(ConfigError, match=r"belongs to another island search \(config\)"):
        other = _config(max_experiments=1, max_train_steps=80_000, tournament_size=5)
        run_islands(other, seed=4, checkpoint=path, out=None, **plan)


def test_a_run_that_ended_its_experiments_goes_on_to_the_next_one(tmp_path: Path) -> None:
    # Saved when experiment 0 ended, the run resumed with a second experiment
    # allowed evolves experiment 1, as the run allowed two from the start does.
    one = _config(max_experiments=1, max_train_steps=40_000)
    two = _config(max_experiments=2, max_train_steps=40_000)
    plan: dict[str, Any] = {"islands": 2, "migrate_every": MIGRATE}
    whole = run_islands(two, seed=6, out=None, **plan)
    path = tmp_path / "run.npz"
    first = run_islands(one, seed=6, checkpoint=path, out=None, **plan)
    assert first.experiments == 1 and not _read(path)[0]["in_experiment"]
    out = io.StringIO()
    resumed = run_islands(two, seed=6, checkpoint=path, out=out, **plan)
    assert "experiment 1 done" in out.getvalue() and "experiment 0 done" not in out.getvalue()
    assert resumed.experiments == whole.experiments == 2
    assert resumed.counters == whole.counters and resumed.rounds == whole.rounds
    assert resumed.program == whole.program and resumed.select_fitness == whole.select_fitness


def _island_processes() -> list[int]:
    """The worker processes this process spawned (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or gone
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == os.getpid() and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


class _KillingOutput(io.StringIO):
    """Progress output that SIGKILLs an island's process at the first line of round 2
    (after the round's replies, before its checkpoint)."""

    killed = False

    def write(self, text: str) -> int:
        if not self.killed and f"indivs={40 + 2 * MIGRATE} " in text:
            os.kill(_island_processes()[-1], signal.SIGKILL)
            self.killed = True
        return super().write(text)


@pytest.mark.skipif(sys.platform != "linux", reason="the test reads /proc")
def test_a_dead_island_process_stops_the_run_and_the_checkpoint_resumes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.npz"
    plan: dict[str, Any] = {"islands": 2, "migrate_every": MIGRATE, "migrants": 3, "rounds": 4}
    out = _KillingOutput()
    stopped = r"the island search stopped: actor \d \(pid \d+\) died with exit code -9 in run\(\)"
    with pytest.raises(WorkerDiedError, match=stopped + r".*`checkpoint` \(.*run.npz\) resumes"):
        run_islands(_config(), seed=6, checkpoint=path, checkpoint_every=0, out=out, **plan)
    assert out.killed and _read(path)[0]["round"] == 1  # round 2 was not saved
    out = io.StringIO()
    resumed = run_islands(_config(), seed=6, checkpoint=path, out=out, **plan)
    assert "resumed" in out.getvalue() and resumed.rounds == 4
    assert [c["programs"] for c in resumed.counters] == [40 + 4 * MIGRATE] * 2


def test_island_arguments_are_checked() -> None:
    config = get_config("linear-tiny")
    with pytest.raises(ConfigError, match="islands, migrate_every and rounds must be >= 1"):
        run_islands(config, islands=0)
    with pytest.raises(ConfigError, match="islands, migrate_every and rounds must be >= 1"):
        run_islands(config, migrate_every=0)
    with pytest.raises(ConfigError, match=r"migrants must be in 0..population_size \(100\)"):
        run_islands(config, migrants=101)
    with pytest.raises(ConfigError, match="backend must be 'process' or 'ray', got 'mpi'"):
        run_islands(config, backend="mpi")
    with pytest.raises(ConfigError, match="checkpoint_every and restarts must be >= 0"):
        run_islands(config, restarts=-1)


def _ray_init(ray: Any) -> None:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}},
    )


@pytest.mark.skipif(sys.platform != "linux", reason="Ray is tested on Linux")
def test_islands_on_ray_actors_evolve_what_processes_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ray = pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    config = _config()
    plan: dict[str, Any] = {"islands": 2, "migrate_every": MIGRATE, "migrants": 3, "rounds": 3}
    result = tmp_path / "result.json"
    _ray_init(ray)  # what the runs connect to (else each starts a Ray of its own)
    try:
        on_ray = run_islands(config, seed=1, backend="ray", out=None, checkpoint_every=0, **plan)
        with pytest.raises(ConfigError, match="the Ray cluster has 2 CPUs and each of the 3 "):
            run_islands(config, islands=3, backend="ray", out=None)
        status = cli_main(["zero", "run", "--config", "linear-tiny", "--seed", "3",
                           "--islands", "2", "--backend", "ray", "--migrate-every", "200",
                           "--rounds", "2", "--quiet", "--json", str(result)])  # fmt: skip
    finally:
        ray.shutdown()
    assert status == 0, capsys.readouterr().err
    assert [c["programs"] for c in json.loads(result.read_text())["islands"]] == [500, 500]
    local = run_islands(config, seed=1, out=None, **plan)
    assert on_ray.program == local.program and on_ray.restarts == [0, 0]
    assert on_ray.counters == local.counters and on_ray.select_fitness == local.select_fitness


def test_the_cli_runs_islands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = tmp_path / "result.json"
    status = cli_main(["zero", "run", "--config", "linear-tiny", "--seed", "3", "--islands", "2",
                       "--migrate-every", "200", "--rounds", "2", "--checkpoint",
                       str(tmp_path / "run.npz"), "--json", str(result)])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "not solved: select_fitness=" in captured.out and "def learn():" in captured.out
    assert "islands: 2/2 rounds, best " in captured.err  # the meter, with every island's best
    saved = json.loads(result.read_text())
    assert saved["rounds"] == 2 and saved["restarts"] == [0, 0]
    assert [c["programs"] for c in saved["islands"]] == [500, 500]
    assert saved["counters"]["programs"] == 1000
    assert (tmp_path / "run.npz").is_file()
    assert cli_main(["zero", "run", "--config", "linear-tiny", "--rounds", "2"]) == 1
    assert "--rounds need --islands N" in capsys.readouterr().err
