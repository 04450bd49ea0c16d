"""Superkernels: blocks whose candidate operations share one set of weights (NASIB)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402
from automorph.utils import FieldValueError, SearchSpaceError  # noqa: E402


def _edge_dna(space: Any, kernel: str, expansion: int, activation: str = "relu") -> Any:
    """The DNA of a one-edge superkernel space picking the given MBConv."""
    spec = am.dna_spec(space)
    point = {p.location: p for p in spec.decision_points()}
    edge = "cell.edges[0]"
    inner = {p.location: p for p in point[edge].candidates[0].decision_points()}

    def index(name: str, value: Any) -> int:
        return list(inner[name].literal_values).index(repr(value))

    return spec.dna_from_dict(
        {
            edge: 0,
            f"{edge}[=0].kernel": index("kernel", kernel),
            f"{edge}[=0].expansion": index("expansion", expansion),
            f"{edge}[=0].activation": index("activation", activation),
        }
    )


def _one_edge(channels: int = 4, **options: Any) -> Any:
    return amnn.superkernel_space(
        channels, nodes=1, num_classes=2, input_shape=(1, 8, 8), **options
    )


# --- the count -----------------------------------------------------------------------------


def test_an_edge_has_112_candidates_fourteen_times_the_darts_space() -> None:
    per_edge = am.dna_spec(am.oneof(amnn.superkernel_ops(8))).size
    darts = am.dna_spec(am.oneof(amnn.darts_cell_ops(8))).size
    assert darts == len(amnn.DARTS_OPS) == 8
    # 9 kernel shapes x 6 expansions x 2 activations, + none, skip, max and avg pool.
    assert per_edge == 9 * 6 * 2 + 4 == 112
    assert per_edge >= 12 * darts and per_edge / darts == 14
    assert am.dna_spec(amnn.superkernel_space(8, nodes=3)).size == 112**6
    assert am.dna_spec(amnn.cell_space(8, 3, ops=amnn.darts_cell_ops(8))).size == 8**6
    # A field with one value is fixed: 3 kernels x 1 x 1 and no free ops.
    small = amnn.superkernel_ops(4, kernels=["3x3", "5x5", "3x3_d2"], expansions=[2],
                                 activations=["relu"], free_ops=False)  # fmt: skip
    assert am.dna_spec(am.oneof(small)).size == 3


def test_every_default_kernel_fits_a_9x9_superkernel() -> None:
    reaches = {
        k: amnn.kernel_reach(k) for k in amnn.superkernel_ops(4)[0].sym_get("kernel").candidates
    }
    assert max(reaches.values()) == 9 and len(reaches) == 9
    assert reaches["3x3_d3"] == 7 and reaches["5x5_d2"] == 9 and reaches["1x1"] == 1


# --- sharing ---------------------------------------------------------------------------------


def _same_storage(a: Any, b: Any) -> bool:
    return bool(a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr())


def test_a_smaller_kernel_is_the_centre_and_fewer_channels_the_first() -> None:
    sk = amnn.SuperKernel(2, max_kernel=9, max_expansion=3)
    expand, depthwise, project = sk.weights("3x3", 2)
    full = sk.depthwise.weight
    assert torch.equal(depthwise, full[:4, :, 3:6, 3:6])
    assert torch.equal(expand, sk.expand.weight[:4]) and torch.equal(
        project, sk.project.weight[:, :4]
    )
    # Dilation 2: every other tap around the centre of the 5x5 middle.
    assert torch.equal(sk.weights("3x3_d2", 1)[1], full[:2, :, 2:7:2, 2:7:2])
    assert torch.equal(sk.weights("9x9", 3)[1], full)
    wholes = (sk.expand.weight, full, sk.project.weight)
    for w, whole in zip(sk.weights("5x5", 1), wholes, strict=True):
        assert _same_storage(w, whole)  # views, not copies


def test_a_gradient_step_on_one_candidate_changes_the_others() -> None:
    space = _one_edge()
    net = amnn.SuperkernelNet(space)
    small, large = _edge_dna(space, "3x3", 2), _edge_dna(space, "5x5", 2)
    child3, child5 = net.child(small), net.child(large)
    own = net.child(small, share=False)
    sk = net.superkernels["cell.edges[0]"]
    conv3 = child3.cell.edges[0].depthwise.weight
    assert _same_storage(conv3, sk.depthwise.weight) and conv3.shape == (8, 1, 3, 3)
    assert not _same_storage(own.cell.edges[0].depthwise.weight, sk.depthwise.weight)

    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    net.set_path(small)
    assert torch.allclose(net(x), child3(x))  # the child runs the supernet's path
    before = sk.depthwise.weight.detach().clone()
    out5, out_own = child5(x).detach(), own(x).detach()
    optimizer = torch.optim.SGD(child3.parameters(), lr=0.5)
    child3(x).pow(2).sum().backward()
    optimizer.step()
    changed = sk.depthwise.weight.detach() != before
    assert changed[:8, :, 3:6, 3:6].any()  # the 3x3 centre of the first 8 channels moved,
    assert not changed[:8, :, [0, 1, 2, 6, 7, 8]].any()  # nothing outside it,
    assert not changed[:, :, :, [0, 1, 2, 6, 7, 8]].any() and not changed[8:].any()
    assert not torch.allclose(child5(x), out5)  # so the 5x5 candidate computes anew,
    assert torch.allclose(own(x), out_own)  # and the copy does not.

    # The other way: a step of the supernet on the 5x5 path moves the 3x3 child's weights.
    seen = conv3.detach().clone()
    net.set_path(large)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net(x).pow(2).sum().backward()
    optimizer.step()
    assert not torch.equal(conv3.detach(), seen)
    assert torch.equal(conv3.detach(), sk.depthwise.weight.detach()[:8, :, 3:6, 3:6])


def test_the_candidates_of_an_edge_hold_one_superkernel_not_112() -> None:
    net = amnn.SuperkernelNet(amnn.superkernel_space(8, nodes=3))
    assert len(net.superkernels) == 6  # one per edge
    sk = net.superkernels["cell.edges[0]"]
    assert (sk.max_kernel, sk.max_expansion, sk.channels) == (9, 6, 8)
    per_superkernel = sum(p.numel() for p in sk.parameters())
    assert per_superkernel == 8 * 48 + 48 * 81 + 48 * 8
    # The largest candidate alone is as big as the superkernel: sharing, not summing.
    largest = amnn.MBConv(8, "9x9", 6)
    assert sum(p.numel() for p in largest.parameters()) == per_superkernel


def test_the_child_is_the_materialized_network_and_computes_like_the_path() -> None:
    space = amnn.superkernel_space(4, nodes=2, num_classes=3, input_shape=(1, 8, 8))
    net = amnn.SuperkernelNet(space)
    rng = np.random.default_rng(0)
    x = torch.randn(4, 1, 8, 8)
    for _ in range(5):
        dna = net.spec.random_dna(rng)
        child = net.child(dna)
        plain = am.materialize(space, dna)
        assert [type(m) for m in child.modules()] == [type(m) for m in plain.modules()]
        shapes = {n: p.shape for n, p in plain.named_parameters()}
        assert {n: p.shape for n, p in child.named_parameters()} == shapes
        net.set_path(dna)
        assert torch.allclose(net(x), child(x), atol=1e-6)
        assert {id(p) for p in child.parameters()} - {id(p) for p in net.parameters()}  # views


def test_a_chain_of_searchable_blocks_is_a_single_path_space() -> None:
    # Single-Path NAS: a plain chain of blocks, each one superkernel choosing its shape.
    block = amnn.MBConv(4, am.oneof(["3x3", "5x5", "7x7"]), am.oneof([1, 3]), "relu6")
    space = amnn.Sequential(
        amnn.Conv2d(1, 4, 3, padding=1),
        block,
        block.clone(deep=True),
        amnn.searchable(torch.nn.AdaptiveAvgPool2d)(1),
        amnn.Flatten(),
        amnn.Linear(4, 2),
    )
    net = amnn.SuperkernelNet(space)
    assert sorted(net.superkernels) == ["args[1]", "args[2]"]
    assert am.dna_spec(space).size == 36
    dna = net.spec.random_dna(np.random.default_rng(1))
    net.set_path(dna)
    x = torch.randn(2, 1, 8, 8)
    assert torch.allclose(net(x), net.child(dna)(x), atol=1e-6)


def test_a_block_nested_in_a_candidate_gets_its_own_superkernel() -> None:
    inner = amnn.MBConv(4, am.oneof(["3x3", "5x5"]), am.oneof([1, 2]))
    space = amnn.Sequential(
        amnn.Conv2d(1, 4, 3, padding=1),
        am.oneof([amnn.Sequential(inner, amnn.ReLU()), amnn.Identity()]),
    )
    net = amnn.SuperkernelNet(space)
    assert list(net.superkernels) == ["args[1][=0].args[0]"]
    dna = am.DNA(
        {"args[1]": 0, "args[1][=0].args[0].kernel": 1, "args[1][=0].args[0].expansion": 1}
    )
    net.set_path(dna)
    x = torch.randn(2, 1, 6, 6)
    child = net.child(dna)
    assert child[1][0].depthwise.weight.shape == (8, 1, 5, 5)
    assert torch.allclose(net(x), child(x), atol=1e-6)


def test_darts_operations_run_on_the_same_network() -> None:
    space = amnn.cell_space(4, nodes=1, num_classes=2, input_shape=(1, 8, 8),
                            ops=amnn.darts_cell_ops(4))  # fmt: skip
    net = amnn.SuperkernelNet(space)
    assert net.superkernels == {}
    x = torch.randn(2, 1, 8, 8)
    for index in range(8):
        dna = am.DNA({"cell.edges[0]": index})
        net.set_path(dna)
        assert torch.allclose(net(x), net.child(dna)(x), atol=1e-6)


# --- search ----------------------------------------------------------------------------------


def test_nasib_searches_the_superkernel_space_with_weight_sharing(images: Any) -> None:
    train, valid = images
    space = _one_edge()
    search = algorithms.NASIB(budget=30, seed=0)
    result = amnn.superkernel_search(space, train, valid, search, steps=30, batch_size=32)
    assert search.num_feedback == 30 and len(result.history) == 30
    assert search.last_explored is False  # the budget spent, the schedule exploits
    assert result.dna["cell.edges[0]"] == 0  # a convolution: the free operations cannot learn it
    assert result.score > 0.8
    assert result.shared is not None and result.seconds > 0
    # The found network, on the trained shared weights, is as good as the path was.
    child = result.shared.child(result.dna)
    child.train()  # batch statistics, as the path was scored
    with torch.no_grad():
        accuracy = float((child(valid.x).argmax(1) == valid.y).float().mean())
    assert accuracy == pytest.approx(result.score)
    assert type(result.model) is type(child)
    # NASIB is the default, with its budget set to the steps.
    default = amnn.superkernel_search(space, train, valid, steps=6, batch_size=32)
    assert (
        default.history
        == amnn.superkernel_search(
            space, train, valid, algorithms.NASIB(budget=6, seed=0), steps=6, batch_size=32
        ).history
    )


def test_any_algorithm_searches_it_with_or_without_sharing(images: Any) -> None:
    train, valid = images
    space = _one_edge()
    for algorithm in (
        algorithms.Random(seed=0),
        algorithms.regularized_evolution(4, 2, seed=0),
        algorithms.create("reinforce", seed=0),
    ):
        result = amnn.superkernel_search(space, train, valid, algorithm, steps=12, batch_size=32)
        assert algorithm.num_feedback == 12
        am.dna_spec(space).validate(result.dna)
    alone = amnn.independent_search(
        space, train, valid, algorithms.Random(seed=1), trials=2, steps=5
    )
    assert isinstance(alone.model.cell.edges[0], torch.nn.Module)


def test_the_search_is_reproducible_from_the_seed(images: Any) -> None:
    train, valid = images
    space = amnn.superkernel_space(4, nodes=2, num_classes=2, input_shape=(1, 8, 8))
    runs = [amnn.superkernel_search(space, train, valid, steps=8, seed=4) for _ in range(2)]
    assert runs[0].history == runs[1].history and runs[0].dna == runs[1].dna


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "match"),
    [
        ("4x4", "square and odd"),
        ("3x5", "square and odd"),
        ("3x3_d0", "dilation must be at least 1"),
        ("1x1_d2", "1 for a 1x1 kernel"),
        ("3", "'KxK' or 'KxK_dD'"),
        (3, "'KxK' or 'KxK_dD'"),
    ],
)
def test_a_malformed_kernel_is_refused(kernel: Any, match: str) -> None:
    with pytest.raises(amnn.SuperkernelError, match=match):
        amnn.kernel_shape(kernel)
    if isinstance(kernel, str):
        with pytest.raises(amnn.SuperkernelError, match=match):
            amnn.MBConv(4, kernel)


def test_malformed_blocks_and_bounds_are_refused() -> None:
    with pytest.raises(amnn.SuperkernelError, match="unknown activation 'tanh'"):
        amnn.MBConv(4, "3x3", 2, "tanh")
    with pytest.raises(amnn.SuperkernelError, match=r"`expansion` must be an int >= 1, got 0"):
        amnn.MBConv(4, "3x3", 0)
    with pytest.raises(amnn.SuperkernelError, match=r"`channels` must be an int >= 1"):
        amnn.SuperKernel(0)
    with pytest.raises(amnn.SuperkernelError, match="`max_kernel` must be an odd int"):
        amnn.SuperKernel(4, max_kernel=4)
    sk = amnn.SuperKernel(4, max_kernel=5, max_expansion=2)
    with pytest.raises(amnn.SuperkernelError, match=r"\(7x7, expansion 1\) does not fit"):
        sk.weights("7x7", 1)
    with pytest.raises(amnn.SuperkernelError, match=r"\(3x3_d3, expansion 1\) does not fit"):
        sk.weights("3x3_d3", 1)
    with pytest.raises(amnn.SuperkernelError, match=r"expansion 3\) does not fit"):
        sk.weights("3x3", 3)
    with pytest.raises(amnn.SuperkernelError, match="`kernels` must list distinct values"):
        amnn.superkernel_ops(4, kernels=["3x3", "3x3"])
    with pytest.raises(amnn.SuperkernelError, match="`expansions` must list distinct values"):
        amnn.superkernel_ops(4, expansions=[])
    with pytest.raises(amnn.SuperkernelError, match="unknown activation 'gelu'"):
        amnn.superkernel_ops(4, activations=["relu", "gelu"])
    with pytest.raises(amnn.SuperkernelError, match="'KxK' or 'KxK_dD'"):
        amnn.superkernel_ops(4, kernels=["3x3", "five"])


def test_spaces_that_cannot_share_superkernels_are_refused() -> None:
    with pytest.raises(SearchSpaceError, match="`channels` cannot be searched"):
        amnn.SuperkernelNet(amnn.Sequential(amnn.MBConv(am.oneof([4, 8]), "3x3")))
    with pytest.raises(SearchSpaceError, match="need the same channels, got \\[4, 8\\]"):
        amnn.SuperkernelNet(amnn.Sequential(am.oneof([amnn.MBConv(4), amnn.MBConv(8)])))
    with pytest.raises(SearchSpaceError, match="Float"):
        amnn.SuperkernelNet(amnn.Sequential(amnn.Dropout(am.floatv(0.0, 0.5)), amnn.MBConv(4)))
    with pytest.raises(SearchSpaceError, match=r"`expansion` must be a value or an `am\.oneof`"):
        amnn.SuperkernelNet(amnn.Sequential(amnn.MBConv(4, "3x3", am.intv(1, 4))))
    with pytest.raises(SearchSpaceError, match="no decision to search"):
        amnn.SuperkernelNet(amnn.Sequential(amnn.MBConv(4)))
    with pytest.raises(SearchSpaceError, match="define-by-run"):
        amnn.SuperkernelNet(am.define_by_run(lambda: am.oneof([1, 2])))
    with pytest.raises(
        amnn.SuperkernelError, match=r"MBConv at cell\.edges\[0\]\[=0\]: unknown activation 'tanh'"
    ):
        amnn.SuperkernelNet(
            amnn.cell_space(4, nodes=1, ops=[amnn.MBConv(4, "3x3", 1, am.oneof(["relu", "tanh"]))])
        )


def test_bad_search_settings_are_refused(images: Any) -> None:
    train, valid = images
    space = _one_edge()
    with pytest.raises(FieldValueError, match=r"`steps` \(0\) must be at least 1"):
        amnn.superkernel_search(space, train, valid, steps=0)
    with pytest.raises(FieldValueError, match=r"NASIB's `budget` \(100\) must be `steps` \(5\)"):
        amnn.superkernel_search(space, train, valid, algorithms.NASIB(seed=0), steps=5)
    with pytest.raises(amnn.DataShapeError, match=r"must have shape \(1, 8, 8\)"):
        amnn.superkernel_search(_one_edge(), train.resized(4), valid, steps=2)
