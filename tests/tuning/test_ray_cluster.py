"""A study on a real two-node Ray cluster, one of whose nodes dies mid-study.

The fixture starts a Ray cluster on this machine as one is started across
machines: a head node (`ray start --head`) and a second node (`ray start
--address=<head>`), each with its own CPUs, temp dir and process session.
The study lives in PostgreSQL. `am.tune(..., executor="ray", ray_address=...)`
puts one worker on the head (1 CPU) and two on the second node (2 CPUs); once
both of the second node's workers are inside a trial, the test SIGKILLs every
process of the second node (as a machine that loses power). Their trials stop
sending heartbeats, go back to the queue after `timeout_s`, and the head's
worker runs them; Ray retries the lost worker tasks on the head, where they
find the study done. The run log (one line per evaluation started and per
evaluation finished, with the node and process) proves where the trials ran
and that none was evaluated to the end twice.

Only this cluster's processes are stopped (by their session id: `ray stop`
would stop every Ray on the machine), also when the test fails; the cluster
is started with tests/tuning/ray_cluster.py, which the docs' tests share.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage
from automorph.tuning import Feedback

# The storage tests' throwaway PostgreSQL server, for this module too.
from tests.storage.conftest import fresh_postgres_url, postgres_server  # noqa: F401
from tests.tuning.ray_cluster import START_S, Cluster, free_port, local_cluster

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="Ray is tested on Linux (the test reads /proc)"
)

SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))
NUM_TRIALS = 24
NUM_WORKERS = 3  # the head's CPU and the second node's two
TRIAL_S = 0.2

# --- the objective, run by Ray's workers on both nodes --------------------------------

_finished: list[int] = []  # the trials this worker process evaluated to the end


def evaluate(example: Any, feedback: Feedback) -> float:
    """Logs "start"/"end" lines (node label, Ray node id, pid, trial).

    Each worker's first trial waits (a minute at most) until every worker has
    started one, so that all three run the study; then the second node's
    workers take another trial and stay in it until their node is killed.
    """
    runs = Path(os.environ["AUTOMORPH_TEST_RUNS"])
    node = os.environ["AUTOMORPH_TEST_NODE"]  # set for each node by `ray start`'s environment
    import ray

    where = f"{node} {ray.get_runtime_context().get_node_id()} {os.getpid()} {feedback.id}"
    _log(runs, f"start {where}")
    if not _finished:
        (runs / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while len(list(runs.glob("ready-*"))) < NUM_WORKERS and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(TRIAL_S)
    elif node == "second":
        time.sleep(120)  # the node is killed here
    else:
        time.sleep(TRIAL_S)
    _log(runs, f"end {where}")
    _finished.append(feedback.id)
    return float(example["x"] * example["k"])


def _log(runs: Path, line: str) -> None:
    with open(runs / "runs.log", "a") as log:
        log.write(line + "\n")


# --- the cluster -------------------------------------------------------------------------


@pytest.fixture
def ray_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """A head node with 1 CPU and a second node with 2 CPUs on this machine."""
    with local_cluster("amray-", monkeypatch) as cluster:
        (cluster.root / "runs").mkdir()
        head = [
            "--head",
            f"--port={cluster.port}",
            "--num-cpus=1",
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
        ]
        second = [f"--address={cluster.address}", "--num-cpus=2"]
        for name, args in (("head", head), ("second", second)):
            # What `evaluate` reads, in each node's environment.
            env = {"AUTOMORPH_TEST_NODE": name, "AUTOMORPH_TEST_RUNS": str(cluster.root / "runs")}
            cluster.start_node(name, args, env)
        yield cluster


# --- the test ----------------------------------------------------------------------------


def _lines(runs: Path) -> list[list[str]]:
    log = runs / "runs.log"
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def _kill_second_when_busy(cluster: Cluster, done: list[str], stop: threading.Event) -> None:
    """Kills the second node once both of its workers are in their second trial."""
    try:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline and not stop.is_set():
            started = Counter(
                pid
                for kind, node, _, pid, _ in _lines(cluster.root / "runs")
                if kind == "start" and node == "second"
            )
            if len(started) == 2 and min(started.values()) >= 2:
                time.sleep(0.3)  # well inside the trials, which last until the node dies
                cluster.nodes[1].kill()
                done.append("killed")
                return
            time.sleep(0.05)
        done.append("the second node's two workers did not both reach a second trial")
    except Exception as error:  # noqa: BLE001 - reported by the test
        done.append(f"killing the second node failed: {error!r}")


def test_a_study_survives_a_dead_node(ray_cluster: Cluster, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue("fresh_postgres_url"))
    done: list[str] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_second_when_busy, args=(ray_cluster, done, stop))
    killer.start()
    try:
        result = am.tune(
            evaluate,
            SPACE,
            algorithms.Random(seed=3),
            NUM_TRIALS,
            name="cluster",
            storage=url,
            executor="ray",
            num_workers=NUM_WORKERS,
            ray_address=ray_cluster.address,
            heartbeat_s=0.2,
            timeout_s=2.0,
        )
    finally:
        stop.set()
        killer.join()
    assert done == ["killed"]
    assert not ray_cluster.nodes[1].processes()
    assert ray_cluster.nodes[0].processes()  # the head lives on

    lines = _lines(ray_cluster.root / "runs")
    # Where each evaluation ran: both nodes, three worker processes.
    nodes = {
        node: {ray_id for _, n, ray_id, _, _ in lines if n == node} for node in ("head", "second")
    }
    assert len(nodes["head"]) == 1 and len(nodes["second"]) == 1
    assert nodes["head"] != nodes["second"]
    workers = Counter(n for n, pid in {(n, pid) for _, n, _, pid, _ in lines})
    assert workers["second"] == 2 and workers["head"] >= 1
    # The trials the second node was running when it died: started there, never ended.
    on_second = {
        kind: {(pid, int(t)) for k, n, _, pid, t in lines if k == kind and n == "second"}
        for kind in ("start", "end")
    }
    cut = {trial for _, trial in on_second["start"] - on_second["end"]}
    assert len(cut) == 2 and len(on_second["end"]) == 2  # one trial each finished, one cut
    ended = Counter(int(trial) for kind, *_, trial in lines if kind == "end")
    # Every trial evaluated to the end exactly once; the cut ones again, on the head.
    assert ended == Counter(range(1, NUM_TRIALS + 1))
    rerun = {int(t) for kind, n, _, _, t in lines if kind == "end" and n == "head"} & cut
    assert rerun == cut

    assert result.num_completed == NUM_TRIALS
    store = open_storage(url)
    try:
        trials = store.get_trials("cluster")
    finally:
        store.close()
    assert [t.id for t in trials] == list(range(1, NUM_TRIALS + 1))  # stored once, none lost
    assert {t.status for t in trials} == {"completed"}  # none left running
    assert {t.id for t in trials if t.retries} == cut
    assert all(t.retries == 1 for t in trials if t.id in cut)
