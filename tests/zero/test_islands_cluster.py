"""An island search on a two-node Ray cluster, one of whose nodes dies mid-run.

The fixture starts a Ray cluster on this machine as one is started across
machines (tests/tuning/ray_cluster.py): a head node (`ray start --head`, one
CPU per island) and a second node (`ray start --address=<head>`, two CPUs),
each with its own temp dir and process session. `run_islands(...,
backend="ray")` spreads its three islands over both nodes and saves a
checkpoint after every round. When the first progress line of round
`KILL_AT` is written (the round's migrants are sent, its checkpoint not yet
taken), the test SIGKILLs every process of the second node, as a machine
that loses power. Ray starts the islands that were there again on the head,
where each restores its state from the checkpoint of the round before and
evolves on; the island on the head never stops. The counters prove it: the
survivors evolved every round, the restarted islands every round but the one
they lost.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from automorph.zero import get_config, run_islands
from tests.tuning.ray_cluster import Cluster, Node, free_port, local_cluster

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="Ray is tested on Linux (the test reads /proc)"
)

ISLANDS = 3
POPULATION = 40
MIGRATE = 80  # children per island and round: two sweeps
ROUNDS = 5
KILL_AT = 3  # the round whose first progress line kills the second node


@pytest.fixture
def ray_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """A head node with a CPU for every island and a second node with 2 CPUs."""
    with local_cluster("amzero-", monkeypatch) as cluster:
        head = [
            "--head",
            f"--port={cluster.port}",
            f"--num-cpus={ISLANDS}",
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
        ]
        cluster.start_node("head", head)
        cluster.start_node("second", [f"--address={cluster.address}", "--num-cpus=2"])
        yield cluster


def islands_on(node: Node) -> int:
    """How many island actors run on `node` (Ray titles their processes "ray::_Island...")."""
    found = 0
    for pid in node.processes():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        found += title.startswith(b"ray::_Island")
    return found


class KillingOutput(io.StringIO):
    """The run's progress output; kills the second node at round KILL_AT's first line."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster
        self.on_second = -1  # islands on the second node when it was killed

    def write(self, text: str) -> int:
        if self.on_second < 0 and f"indivs={POPULATION + KILL_AT * MIGRATE} " in text:
            self.on_second = islands_on(self.cluster.nodes[1])
            self.cluster.nodes[1].kill()
        return super().write(text)


def test_an_island_search_survives_a_dead_node(ray_cluster: Cluster, tmp_path: Path) -> None:
    config = get_config("linear-tiny").rebind(
        {"population_size": POPULATION, "progress_every": MIGRATE, "max_train_steps": 10**9}
    )
    out = KillingOutput(ray_cluster)
    path = tmp_path / "run.npz"
    result = run_islands(
        config, seed=4, islands=ISLANDS, migrate_every=MIGRATE, migrants=3, backend="ray",
        ray_address=ray_cluster.address, rounds=ROUNDS, checkpoint=path, checkpoint_every=0,
        out=out,
    )  # fmt: skip
    assert 1 <= out.on_second < ISLANDS, out.on_second  # the islands were on both nodes
    assert not ray_cluster.nodes[1].processes() and ray_cluster.nodes[0].processes()

    restarted = [i for i, n in enumerate(result.restarts) if n]
    assert len(restarted) == out.on_second and result.restarts.count(1) == len(restarted)
    text = out.getvalue()
    line = f"lost its worker and was started again from its checkpoint of round {KILL_AT - 1}"
    assert text.count(line) == len(restarted), text
    # The survivors evolved in every round; the restarted islands went back to
    # their state of round KILL_AT - 1, so they lost round KILL_AT and no other.
    full = POPULATION + ROUNDS * MIGRATE
    programs = [c["programs"] for c in result.counters]
    assert programs == [full - MIGRATE if i in restarted else full for i in range(ISLANDS)]
    assert result.rounds == ROUNDS and 0.0 <= result.select_fitness <= 1.0
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        counters = [saved[f"island{i}.counter"] for i in range(ISLANDS)]
    assert meta["round"] == ROUNDS and meta["restarts"] == result.restarts
    assert [int(c[1]) for c in counters] == programs  # the last checkpoint holds every island
