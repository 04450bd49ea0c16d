"""The executor facility: tasks and actors on worker processes; dead workers; clean stops.

Real spawned processes, real signals and the process table (/proc); no mocks.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

import automorph
from automorph.tuning import Actors, Progress, WorkerDiedError, run_tasks
from automorph.utils import FieldValueError


def square(x: int) -> int:
    if x == 3:
        raise ValueError("three is not welcome")
    return x * x


@pytest.mark.parametrize("executor", ["local", "process"])
def test_tasks_run_and_their_errors_come_back_as_results(executor: str) -> None:
    out = io.StringIO()
    progress = Progress(5, "demo", stream=out, unit="tasks")
    with closing(run_tasks(square, range(5), executor=executor, num_workers=2,
                           progress=progress)) as results:  # fmt: skip
        by_index = {r.index: r for r in results}
    assert sorted(by_index) == [0, 1, 2, 3, 4]
    assert [by_index[i].get() for i in (0, 1, 2, 4)] == [0, 1, 4, 16]
    failed = by_index[3]
    assert failed.status == "error" and isinstance(failed.error, ValueError)
    assert "three is not welcome" in failed.detail
    with pytest.raises(ValueError, match="three is not welcome"):
        failed.get()
    if executor == "process":  # the worker's traceback, as a note naming the task
        assert any("in task 3" in note for note in getattr(failed.error, "__notes__", []))
    assert out.getvalue().startswith("demo: 5/5 tasks, ")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(FieldValueError, match="'local', 'process' or 'ray', got 'mpi'"):
        run_tasks(square, [1], executor="mpi")
    with pytest.raises(FieldValueError, match="num_workers >= 1"):
        run_tasks(square, [1], num_workers=0)
    with pytest.raises(FieldValueError, match="'process' or 'ray', got 'local'"):
        Actors(Counter, [(0,)], executor="local")


def dies_first(task: tuple[str, str]) -> int:
    """Kills its own process the first time a task with this mark runs
    ("always": every time); returns its pid."""
    folder, mark = task
    path = Path(folder) / mark
    if mark == "always" or not path.exists():
        path.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


def test_a_task_whose_worker_dies_runs_again_in_a_new_worker(tmp_path: Path) -> None:
    tasks = [(str(tmp_path), "a"), (str(tmp_path), "b-ok"), (str(tmp_path), "always")]
    (tmp_path / "b-ok").write_text("")  # task 1 never dies
    with pytest.warns(RuntimeWarning) as caught:
        with closing(run_tasks(dies_first, tasks, executor="process", num_workers=2,
                               retries=1)) as results:  # fmt: skip
            by_index = {r.index: r for r in results}
    messages = [str(w.message) for w in caught]
    assert sum("task 0 (pid" in m and "restarted as task 0" in m for m in messages) == 1
    assert by_index[0].status == "done"
    assert by_index[0].get() != int((tmp_path / "a").read_text())  # another process ran it
    assert by_index[1].status == "done"
    # "always" kills every worker that runs it: once restarted, then reported.
    dead = by_index[2]
    assert dead.status == "died" and isinstance(dead.error, WorkerDiedError)
    assert "died with exit code -9; not run again (it ran 2 times)" in str(dead.error)
    assert sum("task 2 (pid" in m for m in messages) == 2


def test_the_restart_limit_holds_for_the_whole_call(tmp_path: Path) -> None:
    tasks = [(str(tmp_path), "always")] * 3
    with pytest.warns(RuntimeWarning, match="all 1 restarts were used"):
        with closing(run_tasks(dies_first, tasks, executor="process", num_workers=1,
                               retries=5, max_restarts=1)) as results:  # fmt: skip
            statuses = [r.status for r in results]
    # one restart, then no worker is left for the rest: every task is reported
    assert statuses == ["died", "died", "died"]


class Counter:
    """State that lives in its worker between rounds."""

    def __init__(self, start: int, step: int) -> None:
        self.value = start
        self.step = step
        self.pid = os.getpid()

    def add(self, times: int) -> tuple[int, int]:
        self.value += self.step * times
        return self.value, self.pid

    def fail(self) -> None:
        raise KeyError("no such thing")

    def die_if(self, yes: bool) -> None:
        if yes:
            os.kill(os.getpid(), signal.SIGKILL)


def test_actors_keep_their_state_between_rounds() -> None:
    with Actors(Counter, [(1,), (10,)], shared=(100,), executor="process") as actors:
        first = actors.call("add", [(1,), (1,)])  # Counter(100, 1) and Counter(100, 10)
        second = actors.call("add", [(2,), (3,)])
        with pytest.raises(KeyError, match="no such thing") as caught:
            actors.call("fail", [(), ()])
    assert [v for v, _ in first] == [101, 110] and [v for v, _ in second] == [103, 140]
    assert first[0][1] != first[1][1] and {p for _, p in first} == {p for _, p in second}
    assert os.getpid() not in {p for _, p in first}
    assert any("in actor 0, fail()" in note for note in caught.value.__notes__)


def test_a_dead_actor_is_an_error_and_the_others_are_stopped() -> None:
    pids: list[int] = []
    with pytest.raises(WorkerDiedError, match=r"actor 1 \(pid \d+\) died with exit code -9"):
        with Actors(Counter, [(0, 1), (0, 1)]) as actors:
            pids = [pid for _, pid in actors.call("add", [(1,), (1,)])]
            actors.call("die_if", [(False,), (True,)])
    assert not _living(set(pids))


# --- stops, from a separate script --------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import time
    from contextlib import closing
    from pathlib import Path

    from automorph.tuning import Actors, run_tasks


    def nap(folder):
        (Path(folder) / str(os.getpid())).write_text("")
        try:
            time.sleep(120)
        finally:
            print("cleaned up", flush=True)


    class Napper:
        def nap(self, folder):
            nap(folder)


    if __name__ == "__main__":
        folder, kind = sys.argv[1], sys.argv[2]
        if kind == "tasks":
            with closing(run_tasks(nap, [folder] * 3, executor="process", num_workers=2)) as r:
                list(r)
        else:
            with Actors(Napper, [(), ()], interrupt_message="islands stopped ({reason})") as a:
                a.call("nap", [(folder,), (folder,)])
        print("not stopped", flush=True)
    """
)
STARTUP_S = 120.0
STOP_S = 30.0


def _start(tmp_path: Path, kind: str) -> tuple[subprocess.Popen[str], Path]:
    script, folder = tmp_path / "naps.py", tmp_path / "in-task"
    script.write_text(SCRIPT)
    folder.mkdir()
    root = str(Path(automorph.__file__).parent.parent)
    env = dict(os.environ, PYTHONPATH=root, OPENBLAS_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, str(script), str(folder), kind],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return process, folder


def _in_two_tasks(process: subprocess.Popen[str], folder: Path) -> set[int]:
    deadline = time.monotonic() + STARTUP_S
    while len(list(folder.iterdir())) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "two workers did not start their task"
        time.sleep(0.1)
    return {int(p.name) for p in folder.iterdir()}


def _living(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def _wait_gone(pids: set[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _living(pids):
        assert time.monotonic() < deadline, f"{_living(pids)} still alive after {seconds} s"
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("kind", ["tasks", "actors"])
def test_sigint_to_the_caller_stops_every_worker_inside_its_task(tmp_path: Path, kind: str) -> None:
    process, folder = _start(tmp_path, kind)
    pids: set[int] = set()
    try:
        pids = _in_two_tasks(process, folder)
        os.kill(process.pid, signal.SIGINT)
        _wait_gone(pids, STOP_S)
        out, err = process.communicate(timeout=STOP_S)
    finally:
        for pid in [process.pid, *pids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
    assert out.count("cleaned up") == 2 and "not stopped" not in out  # finally blocks ran
    assert "KeyboardInterrupt" in err
    expected = "islands stopped" if kind == "actors" else "the workers were stopped"
    assert f"{expected} (interrupted by SIGINT)" in err


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_actors_of_a_killed_caller_exit(tmp_path: Path) -> None:
    process, folder = _start(tmp_path, "actors")
    pids: set[int] = set()
    try:
        pids = _in_two_tasks(process, folder)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        _wait_gone(pids, 10.0)  # each polls its parent every second
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


@pytest.mark.skipif(sys.platform != "linux", reason="Ray is tested on Linux")
def test_on_ray_a_crashed_task_runs_again_and_a_dead_actor_is_an_error(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    (tmp_path / "ok").write_text("")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}},
    )
    try:
        tasks = [(str(tmp_path), "a"), (str(tmp_path), "ok")]
        with pytest.warns(RuntimeWarning, match=r"task 0 \(a Ray task\) died: WorkerCrashedError"):
            with closing(run_tasks(dies_first, tasks, executor="ray", num_workers=2)) as results:
                statuses = {r.index: r.status for r in results}
        assert statuses == {0: "done", 1: "done"}
        with Actors(Counter, [(0, 1), (5, 1)], executor="ray") as actors:
            assert [v for v, _ in actors.call("add", [(1,), (2,)])] == [1, 7]
            with pytest.raises(WorkerDiedError, match=r"actor 1 died in die_if\(\)"):
                actors.call("die_if", [(False,), (True,)])
    finally:
        ray.shutdown()
