"""A throwaway Ray cluster on this machine, for tests.

`local_cluster()` prepares one as a cluster is started across machines:
`cluster.start_node(name, args)` runs `ray start <args> --block` (the head
with `--head`, the others with `--address=<head>`), each node with its own
temp dir and in a process session of its own, and waits until it runs. At
the end, this process's Ray driver is shut down and every process of the
cluster's nodes is SIGKILLed, found by its session id: `ray stop` would stop
every Ray on the machine. The Ray cluster test and the test of the studies
guide (which starts the nodes with the guide's own commands) share it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_S = 120.0  # a Ray node starting on a loaded machine
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Node:
    """One `ray start --block` process; every process of the node is in its session."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def processes(self) -> list[int]:
        """The node's live processes (zombies excluded): those of its session."""
        return [
            pid
            for pid, (sid, state) in sessions().items()
            if sid == self.process.pid and state != "Z"
        ]

    def kill(self) -> None:
        """SIGKILLs every process of the node, until none is left (30 s at most)."""
        deadline = time.monotonic() + 30
        while True:
            alive = self.processes()
            if not alive:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} node's processes {alive} did not die")
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            time.sleep(0.1)
        self.process.wait(timeout=30)


@dataclass
class Cluster:
    """A cluster on 127.0.0.1: the head's address, a folder for the nodes'
    temp dirs and logs, and the nodes started so far."""

    address: str
    root: Path
    ray: str  # the `ray` command
    nodes: list[Node] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The head's port."""
        return int(self.address.rsplit(":", 1)[1])

    def start_node(self, name: str, args: list[str], env: Mapping[str, str] | None = None) -> Node:
        """Starts a node (`ray start <args> --block` in a session of its own,
        with `env` added to its environment) and waits until it runs."""
        node_env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),  # the workers import automorph and the tests' modules
            OPENBLAS_NUM_THREADS="1",
            RAY_USAGE_STATS_ENABLED="0",
            # Ray turns token authentication on for a head started where ~/.ray/auth_token
            # exists (a local `ray.init()` writes one), and then refuses a second node
            # started the same way: this cluster runs without it.
            RAY_AUTH_MODE="disabled",
            # A dead node is declared dead after ~2 s instead of Ray's ~15 s: the lost
            # worker tasks are retried sooner, and the tests are shorter.
            RAY_health_check_period_ms="500",
            RAY_health_check_failure_threshold="4",
            **(env or {}),
        )
        node_env.pop("RAY_ADDRESS", None)
        log = self.root / f"{name}.out"
        command = [
            self.ray,
            "start",
            *args,
            "--block",
            f"--temp-dir={self.root / name}",
            "--disable-usage-stats",
            "--include-log-monitor=false",
            f"--dashboard-agent-listen-port={free_port()}",
        ]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=node_env, start_new_session=True
            )
        node = Node(name, process, log)
        self.nodes.append(node)
        deadline = time.monotonic() + START_S
        while b"Ray runtime started" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} node did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        return node


@contextlib.contextmanager
def local_cluster(prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """A cluster with no node yet, on a free port of 127.0.0.1, in a new temp
    dir named `prefix...`; at exit, this process's Ray driver is shut down,
    every node killed and the dir removed (also when the block fails).

    Skips the test if Ray or its `ray` command is missing.
    """
    ray_command = ray_cli()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # the driver's, as the nodes'
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    import ray

    ray.shutdown()  # a driver still connected elsewhere would take the study
    root = Path(tempfile.mkdtemp(prefix=prefix))  # short: Ray's socket paths live here
    cluster = Cluster(f"127.0.0.1:{free_port()}", root, ray_command)
    try:
        yield cluster
    finally:
        try:
            ray.shutdown()  # this process's driver, if still connected
        finally:
            try:
                for node in reversed(cluster.nodes):
                    node.kill()
            finally:
                shutil.rmtree(root, ignore_errors=True)


def sessions() -> dict[int, tuple[int, str]]:
    """Every process's session id and state, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        found[int(entry.name)] = (int(fields[3]), fields[0])
    return found


def free_port() -> int:
    """A TCP port of 127.0.0.1 that no one listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_cli() -> str:
    """The `ray` command beside this Python, or on PATH; skips the test without it."""
    pytest.importorskip("ray")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    ray = shutil.which("ray", path=path)
    if ray is None:
        pytest.skip("the `ray` command (Ray's CLI) is not on PATH")
    return ray
