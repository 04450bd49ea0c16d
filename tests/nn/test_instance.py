"""Instance-aware search: per-input paths through a supernet, FLOPs-aware rewards."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

import automorph as am
from automorph import algorithms

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402


def _space() -> Any:
    return amnn.cell_space(
        4, nodes=1, num_classes=2, input_shape=(1, 8, 8), ops=[amnn.Zero(), amnn.ConvBNReLU(4, 3)]
    )


@pytest.fixture(scope="module")
def trained(images: Any) -> amnn.Supernet:
    train, valid = images
    result = amnn.enas_search(_space(), train, valid, algorithms.Random(seed=0), steps=40)
    assert result.supernet is not None
    return result.supernet


def test_per_input_paths_match_single_paths(trained: amnn.Supernet, images: Any) -> None:
    x = images[1].x[:6]
    picks = torch.tensor([0, 1, 1, 0, 1, 0])
    trained.eval()
    trained.set_per_input({"cell.edges[0]": picks})
    mixed = trained(x)
    for k in (0, 1):
        trained.set_path(am.DNA({"cell.edges[0]": k}))
        assert torch.allclose(mixed[picks == k], trained(x[picks == k]), atol=1e-6)
    trained.train()
    with pytest.raises(am.SearchSpaceError, match=r"no per-input choice given at `cell\.edges"):
        trained.set_per_input({})


def test_flops_count_each_candidate(trained: amnn.Supernet) -> None:
    base, table = amnn.path_flops(trained, (1, 8, 8))
    # 3x3 conv 4 -> 4 channels on the 4x4 map after the stem's pooling.
    assert table["cell.edges[0]"] == [0.0, 4 * 4 * 4 * 4 * 9]
    assert base == 8 * 8 * 4 * 1 * 9 + 2 * 16  # stem conv and the linear head
    nested = amnn.Supernet(
        amnn.Sequential(
            am.oneof([amnn.Identity(), amnn.Sequential(am.oneof([amnn.ReLU(), amnn.Identity()]))])
        )
    )
    with pytest.raises(am.SearchSpaceError, match="without nested choices"):
        amnn.path_flops(nested, (4,))


def test_the_cost_weight_trades_accuracy_for_flops(trained: amnn.Supernet, images: Any) -> None:
    train, valid = images
    accurate = amnn.instance_search(trained, train, valid, cost_weight=0.0, steps=60, lr=0.05)
    cheap = amnn.instance_search(trained, train, valid, cost_weight=5.0, steps=60, lr=0.05)
    assert cheap.mflops < accurate.mflops
    assert accurate.accuracy > cheap.accuracy
    fixed_conv = amnn.evaluate_fixed(trained, am.DNA({"cell.edges[0]": 1}), valid)
    assert fixed_conv[1] == pytest.approx(accurate.mflops, rel=0.05)  # it learned to use the conv
    assert len(accurate.rewards) == 60
    with pytest.raises(ValueError, match=r"`cost_weight` \(-1\) at least 0"):
        amnn.instance_search(trained, train, valid, cost_weight=-1)


def _table(zero_ms: float, conv_ms: float) -> amnn.LatencyTable:
    method = {"batch_size": 1, "threads": 1, "input_shape": [1, 8, 8]}
    return amnn.LatencyTable(1.0, {"cell.edges[0]": [zero_ms, conv_ms]}, method=method)


def test_the_reward_uses_the_latency_table(trained: amnn.Supernet, images: Any) -> None:
    train, valid = images
    conv_slow, conv_fast = _table(0.0, 2.0), _table(2.0, 0.0)
    # The convolution is the accurate choice; its measured cost decides whether it is taken.
    cheap = amnn.instance_search(
        trained, train, valid, cost_weight=5.0, latency=conv_slow, steps=60, lr=0.05
    )
    assert cheap.latency_ms is not None and cheap.latency_ms < 1.2  # routed to Zero
    inverted = amnn.instance_search(
        trained, train, valid, cost_weight=5.0, latency=conv_fast, steps=60, lr=0.05
    )
    assert inverted.latency_ms is not None and inverted.latency_ms < 1.2  # routed to the conv
    assert inverted.mflops > cheap.mflops and inverted.accuracy > cheap.accuracy
    assert amnn.evaluate_latency(trained, inverted.controller, valid, conv_fast) == (
        pytest.approx(inverted.accuracy),
        pytest.approx(inverted.latency_ms),
    )
    fixed = amnn.evaluate_latency(trained, {"cell.edges[0]": 1}, valid, conv_slow)
    assert fixed[1] == pytest.approx(3.0)
    assert amnn.instance_search(trained, train, valid, steps=2).latency_ms is None
    smooth = amnn.instance_search(
        trained,
        train,
        valid,
        cost_weight=5.0,
        latency=conv_fast,
        steps=60,
        lr=0.05,
        task_reward="probability",
        baseline="greedy",
    )
    assert smooth.latency_ms is not None and smooth.latency_ms < 1.2
    with pytest.raises(ValueError, match=r"`baseline` must be one of \['batch', 'greedy'\]"):
        amnn.instance_search(trained, train, valid, baseline="mean")
    with pytest.raises(ValueError, match=r"`task_reward` must be one of .*got 'loss'"):
        amnn.instance_search(trained, train, valid, task_reward="loss")
    with pytest.raises(amnn.LatencyTableError, match="no entry for this choice"):
        amnn.instance_search(
            trained, train, valid, latency=amnn.LatencyTable(1.0, {"x": [1.0, 2.0]}), steps=2
        )


def test_cost_weights_give_a_front_beside_the_best_fixed_architecture(
    trained: amnn.Supernet, images: Any, tmp_path: Any
) -> None:
    from tests.nn.conftest import make_images

    train, valid = images
    test = make_images(128, 2)
    table = _table(0.1, 2.0)
    front = amnn.latency_front(
        trained, train, valid, test, table, cost_weights=[0.0, 5.0], seeds=[0, 1], steps=60
    )
    assert [(p.cost_weight, p.seed) for p in front.instance] == [(0, 0), (0, 1), (5, 0), (5, 1)]
    assert front.instance[3].label == "per-input, cost weight 5, seed 1"
    for p in front.instance:
        assert p.routes is not None and sum(p.routes.values()) == len(test)
        assert set(p.routes) <= {"0", "1"}
    assert front.instance[2].routes == {"0": len(test)}  # the heavy cost: all to Zero
    assert [p.dna for p in front.fixed] == [{"cell.edges[0]": 0}, {"cell.edges[0]": 1}]
    assert front.best.dna == {"cell.edges[0]": 1}  # the convolution: most accurate on valid
    assert front.best.latency_ms == front.best.valid_latency_ms == pytest.approx(3.0)
    for accurate, fast in zip(front.instance[:2], front.instance[2:], strict=True):
        assert fast.latency_ms < accurate.latency_ms and fast.accuracy < accurate.accuracy
        assert fast.valid_latency_ms < accurate.valid_latency_ms
    on_valid = front.pareto()
    assert on_valid[0].cost_weight == 5.0 and on_valid[-1].cost_weight == 0.0
    assert on_valid == amnn.pareto_points(front.instance, on="valid")
    assert all(a.valid_accuracy < b.valid_accuracy for a, b in itertools.pairwise(on_valid))
    assert front.pareto(fixed=True, on="test") == [front.fixed[0], front.fixed[1]]
    point, reduction = front.at_equal_accuracy(tolerance=0.05)
    assert point is not None and reduction is not None
    assert point.valid_accuracy >= front.best.valid_accuracy - 0.05
    assert reduction == pytest.approx(1 - point.latency_ms / 3.0)
    _, with_controller = front.at_equal_accuracy(tolerance=0.05, with_controller=True)
    assert with_controller == pytest.approx(reduction - front.controller_ms / 3.0)
    assert front.controller_ms > 0
    assert front.at_equal_accuracy(tolerance=-1.0) == (None, None)
    front.save(tmp_path / "front.json")
    saved = json.loads((tmp_path / "front.json").read_text())
    assert amnn.LatencyTable.from_json(saved["table"]) == table
    assert saved["best"]["label"] == front.best.label and len(saved["instance"]) == 4
    with pytest.raises(ValueError, match="`on` must be 'test' or 'valid', got 'train'"):
        front.pareto(on="train")
    with pytest.raises(ValueError, match="at least one cost weight and one seed at `seeds`"):
        amnn.latency_front(trained, train, valid, test, table, seeds=[])
    with pytest.raises(ValueError, match=r"more than `max_fixed` \(1\)"):
        amnn.latency_front(trained, train, valid, test, table, max_fixed=1)
    with pytest.raises(ValueError, match="at least one fixed architecture"):
        amnn.latency_front(trained, train, valid, test, table, fixed=[], steps=1)
