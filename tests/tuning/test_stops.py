"""Clean stops of a study run by worker processes: real signals, the process table.

Each test runs a script that calls `am.tune(..., executor="process",
num_workers=2)` on a SQLite study with slow trials, waits until both workers
are inside a trial, signals the script's process (alone, or with its process
group as a terminal's Ctrl-C does), and then reads /proc:
every process the script started must be gone within a bound, no trial may be
left running (SIGINT, SIGTERM) or the abandoned trials must go back to the
queue (SIGKILL), and running the script again must finish the study with each
trial stored once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import automorph
from automorph.storage import TrialRecord, open_storage
from automorph.utils import StorageError, StudyNotFoundError

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

NUM_TRIALS = 6
STARTUP_S = 180.0  # spawning and importing on a loaded machine
STOP_S = 30.0  # the workers' grace period (5 s) and a loaded machine

SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import time

    import automorph as am
    from automorph import algorithms

    SPACE = am.Dict(x=am.floatv(0.0, 1.0))


    def objective(example):
        end = time.monotonic() + float(os.environ["TRIAL_S"])
        while time.monotonic() < end:
            try:
                time.sleep(max(0.0, end - time.monotonic()))
            except KeyboardInterrupt:
                if not os.environ.get("STUBBORN"):  # one that will not stop
                    raise
        return float(example["x"])


    if __name__ == "__main__":
        result = am.tune(
            objective, SPACE, algorithms.Random(seed=1), int(sys.argv[3]), name="stops",
            storage=sys.argv[1], executor=sys.argv[2], num_workers=2,
            heartbeat_s=0.2, timeout_s=2.0,
        )
        print("finished", len(result.trials), result.num_completed, flush=True)
    """
)


def _start(
    tmp_path: Path, trial_s: float, executor: str = "process", stubborn: bool = False
) -> subprocess.Popen[str]:
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    root = str(Path(automorph.__file__).parent.parent)
    env = dict(os.environ, TRIAL_S=str(trial_s), PYTHONPATH=root, OPENBLAS_NUM_THREADS="1")
    env["STUBBORN"] = "1" if stubborn else ""
    command = [sys.executable, str(script), str(tmp_path / "study.db"), executor, str(NUM_TRIALS)]
    return subprocess.Popen(  # its own process group, as a script started from a shell
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _trials(tmp_path: Path) -> list[TrialRecord]:
    store = open_storage(str(tmp_path / "study.db"))
    try:
        return store.get_trials("stops")
    except StudyNotFoundError:
        return []
    finally:
        store.close()


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state), from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # it just exited
                continue
            fields = stat.rsplit(")", 1)[1].split()
            table[int(entry)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _process_table()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _living(pids: set[int]) -> set[int]:
    table = _process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def _wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds:.0f} s")
        time.sleep(0.1)


def _running_in_both_workers(tmp_path: Path, parent: subprocess.Popen[str]) -> set[int]:
    """Waits until two trials are running; returns the script's descendants."""

    def both() -> bool:
        assert parent.poll() is None, parent.communicate()
        return len([t for t in _trials(tmp_path) if t.status == "running"]) == 2

    _wait_for(both, STARTUP_S, "two trials were not running")
    time.sleep(0.5)  # both workers are inside the objective now
    children = _descendants(parent.pid)
    assert len(children) >= 2, children  # two workers (and multiprocessing's helper)
    return children


def _kill_all(parent: subprocess.Popen[str], pids: set[int]) -> None:
    for pid in [parent.pid, *pids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    parent.communicate()


def _resume_and_check(tmp_path: Path) -> list[TrialRecord]:
    again = _start(tmp_path, trial_s=0.05)
    out, err = again.communicate(timeout=STARTUP_S)
    assert again.returncode == 0, err
    trials = _trials(tmp_path)
    assert [t.id for t in trials] == list(range(1, NUM_TRIALS + 1))  # each stored once
    assert {t.status for t in trials} <= {"completed", "failed"}
    assert f"finished {NUM_TRIALS}" in out
    return trials


@pytest.mark.parametrize(
    ("signum", "group", "stubborn"),
    [
        (signal.SIGINT, False, False),
        (signal.SIGTERM, False, False),
        (signal.SIGINT, True, True),
    ],
    ids=["SIGINT", "SIGTERM", "Ctrl-C-to-the-group-and-an-objective-that-ignores-it"],
)
def test_a_signal_to_the_parent_stops_every_worker_and_records_their_trials(
    tmp_path: Path, signum: signal.Signals, group: bool, stubborn: bool
) -> None:
    parent = _start(tmp_path, trial_s=120.0, stubborn=stubborn)
    children: set[int] = set()
    try:
        children = _running_in_both_workers(tmp_path, parent)
        in_flight = {t.id for t in _trials(tmp_path) if t.status == "running"}
        signalled = time.monotonic()
        if group:  # as a terminal's Ctrl-C: the workers get it too
            os.killpg(parent.pid, signum)
        else:  # the parent only
            os.kill(parent.pid, signum)
        _wait_for(lambda: not _living(children), STOP_S, "the workers did not stop")
        _wait_for(lambda: parent.poll() is not None, STOP_S, "the parent did not exit")
        assert time.monotonic() - signalled < STOP_S
        _, err = parent.communicate()
    finally:
        _kill_all(parent, children)
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in err and "rerun to resume" in err
    else:
        assert parent.returncode == -signal.SIGTERM  # the usual exit for SIGTERM
    trials = _trials(tmp_path)
    assert not [t for t in trials if t.status == "running"]
    stopped = {t.id: t.error for t in trials if t.status == "failed"}
    assert set(stopped) == in_flight
    assert all(f"interrupted by {signum.name}" in str(error) for error in stopped.values())
    resumed = _resume_and_check(tmp_path)
    assert {t.id for t in resumed if t.status == "failed"} == in_flight


def test_workers_of_a_killed_parent_exit_and_the_rerun_takes_their_trials(
    tmp_path: Path,
) -> None:
    parent = _start(tmp_path, trial_s=120.0)
    children: set[int] = set()
    try:
        children = _running_in_both_workers(tmp_path, parent)
        in_flight = {t.id for t in _trials(tmp_path) if t.status == "running"}
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        # Each worker polls its parent every second; the trial's timeout is 2 s.
        _wait_for(lambda: not _living(children), 10.0, "the orphaned workers did not exit")
    finally:
        _kill_all(parent, children)
    abandoned = [t for t in _trials(tmp_path) if t.status == "running"]
    assert {t.id for t in abandoned} == in_flight  # nobody finished them: back to the queue
    resumed = _resume_and_check(tmp_path)
    assert all(t.status == "completed" for t in resumed)
    assert {t.id for t in resumed if t.retries == 1} == in_flight  # run again, once


@pytest.mark.skipif(sys.platform != "linux", reason="Ray is tested on Linux")
def test_sigint_stops_ray_tasks_and_the_ray_instance_the_call_started(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    parent = _start(tmp_path, trial_s=120.0, executor="ray")
    children: set[int] = set()
    try:
        children = _running_in_both_workers(tmp_path, parent)
        in_flight = {t.id for t in _trials(tmp_path) if t.status == "running"}
        os.kill(parent.pid, signal.SIGINT)
        _wait_for(lambda: parent.poll() is not None, STOP_S * 2, "the driver did not exit")
        _wait_for(lambda: not _living(children), STOP_S, "Ray's processes did not stop")
        _, err = parent.communicate()
    finally:
        _kill_all(parent, children)
    assert "KeyboardInterrupt" in err
    trials = _trials(tmp_path)
    assert not [t for t in trials if t.status == "running"]
    stopped = {t.id: t.error for t in trials if t.status == "failed"}
    assert set(stopped) == in_flight
    assert all("interrupted by SIGINT" in str(error) for error in stopped.values())


PAUSED_SCRIPT = textwrap.dedent(
    """
    import sys
    import time

    import automorph as am
    from automorph import algorithms


    def objective(example, feedback):
        for step in range(12):
            feedback.add_measurement(float(example["x"]), step=step)
            time.sleep(0.25)
        return float(example["x"])


    if __name__ == "__main__":
        result = am.tune(
            objective, am.Dict(x=am.floatv(0.0, 1.0)), algorithms.Random(seed=2), 3,
            name="paused", storage=sys.argv[1], worker="paused-worker",
            heartbeat_s=0.2, timeout_s=1.0,
        )
        print("finished", sorted(t.id for t in result.trials))
    """
)


def _take_over_while_stopped(proc: subprocess.Popen[str], db: Path) -> int:
    """Stops the worker (SIGSTOP) inside a trial, requeues its trial once its
    heartbeats are stale and claims it for another worker; returns its id.

    A worker stopped inside a write transaction holds SQLite's lock, which
    no one can take until it runs again: then it is resumed and stopped again
    a moment later."""
    for _ in range(20):
        os.kill(proc.pid, signal.SIGSTOP)
        time.sleep(1.5)  # its heartbeats are now older than timeout_s
        store = open_storage(db, busy_timeout_s=1.0, lock_wait_s=1.0)
        try:
            requeued = store.requeue_stale("paused", 1.0, 2)
            taken = store.claim_trial("paused", "other-worker") if requeued else None
        except StorageError as error:
            assert "locked" in str(error), error
            taken = None
        finally:
            store.close()
        if taken is not None:
            assert taken.id in requeued
            return taken.id
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.2)
    raise AssertionError("the worker was never stopped outside a write while in a trial")


def test_a_worker_paused_past_its_heartbeat_drops_the_trial_taken_over_and_goes_on(
    tmp_path: Path,
) -> None:
    # SIGSTOP the only worker inside a trial, give its trial to another worker
    # as the study does when heartbeats stop, then SIGCONT it: it used to crash
    # with TrialStateError at its next measurement.
    script = tmp_path / "paused.py"
    script.write_text(PAUSED_SCRIPT)
    db = tmp_path / "paused.db"
    env = {**os.environ, "PYTHONPATH": str(Path(automorph.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        running: list[TrialRecord] = []
        while not running:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
            if db.exists():
                store = open_storage(db)
                try:
                    running = store.get_trials("paused", status="running")
                except StudyNotFoundError:
                    pass
                finally:
                    store.close()
        taken = _take_over_while_stopped(proc, db)
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=STARTUP_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "TrialStateError" not in err
    assert f"trial {taken} was taken over by another worker" in err
    assert out.startswith("finished")
    store = open_storage(db)
    try:
        trials = {t.id: t for t in store.get_trials("paused")}
    finally:
        store.close()
    # The paused worker stored nothing more into the trial it lost; the
    # other worker's claim stands (it went stale too, and was run again).
    assert len(trials) >= 3
    assert all(t.status != "running" or t.worker == "other-worker" for t in trials.values())
