"""The DARTS space: operations, cells, network, genotypes, NB301 encoding (CPU, tiny sizes)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import automorph as am

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402
from automorph.nn._genotype import GenotypeError, canonical_genotype  # noqa: E402

# The DARTS paper's cell (DARTS_V2 in its genotypes.py).
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


@pytest.mark.parametrize("name", amnn.DARTS_OPS)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_keeps_channels_and_divides_the_size_by_its_stride(name: str, stride: int) -> None:
    op = amnn.darts_op(name, 4, stride, device="cpu")
    out = op(torch.randn(2, 4, 8, 8))
    assert out.shape == (2, 4, 8 // stride, 8 // stride)
    if name == "none":
        assert not out.any()


def test_ops_have_the_darts_structure() -> None:
    sep = amnn.darts_op("sep_conv_5x5", 4)
    convs = [m for m in sep.modules() if isinstance(m, torch.nn.Conv2d)]
    # separable conv applied twice: (depthwise 5x5, pointwise 1x1) x 2
    assert [(c.kernel_size, c.groups) for c in convs] == [((5, 5), 4), ((1, 1), 1)] * 2
    dil = amnn.darts_op("dil_conv_5x5", 4)
    assert isinstance(dil[0], torch.nn.ReLU) and isinstance(dil[-1], torch.nn.BatchNorm2d)
    assert dil[1].dilation == (2, 2) and dil[1].padding == (4, 4)
    assert isinstance(amnn.darts_op("skip_connect", 4, 2), amnn.FactorizedReduce)
    assert isinstance(amnn.darts_op("skip_connect", 4, 1), torch.nn.Identity)
    with pytest.raises(GenotypeError, match="unknown DARTS operation 'conv_7x7'"):
        amnn.darts_op("conv_7x7", 4)


@pytest.mark.parametrize("reduction", [False, True])
def test_a_cell_concatenates_its_four_nodes(reduction: bool) -> None:
    g = amnn.parse_genotype(DARTS_V2)
    cell = amnn.DartsCell(g.reduce if reduction else g.normal, g.normal_concat, 6, 8, 4, reduction)
    out = cell(torch.randn(2, 6, 8, 8), torch.randn(2, 8, 8, 8))
    size = 4 if reduction else 8
    assert out.shape == (2, 16, size, size)


def test_the_network_reduces_at_one_and_two_thirds() -> None:
    net = amnn.darts_network(DARTS_V2, C=4, layers=3, num_classes=5, device="cpu")
    assert [c.reduction for c in net.cells] == [False, True, True]
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 5)
    deeper = amnn.darts_network(DARTS_V2, C=4, layers=6)
    assert [c.reduction for c in deeper.cells] == [False, False, True, False, True, False]
    # after a reduction, input 0 of the next cell is reduced by FactorizedReduce
    assert isinstance(deeper.cells[3].preprocess0, amnn.FactorizedReduce)


def test_the_space_has_24_decisions_and_the_darts_size() -> None:
    spec = am.dna_spec(amnn.darts_space(4, 3))
    points = spec.decision_points()
    assert len(points) == 24
    assert [len(p.candidates) for p in points[:12:3]] == [1, 3, 6, 10]
    assert spec.size == (7**2) ** 8 * (1 * 3 * 6 * 10) ** 2
    assert points[0].name == "normal_node0_inputs" and points[-1].name == "reduce_node3_op_b"


def test_a_random_dna_materializes_to_a_network_that_trains_on_cpu() -> None:
    space = amnn.darts_space(4, 3, num_classes=3, device="cpu")
    dna = am.dna_spec(space).random_dna(__import__("numpy").random.default_rng(1))
    net = am.materialize(space, dna)
    assert isinstance(net, torch.nn.Module)
    assert net.genotype == amnn.genotype_from_dna(dna, space)
    x, y = torch.randn(2, 3, 8, 8), torch.tensor([0, 2])
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    sampled = next(am.random_sample(space, 1, seed=3))
    assert sampled(x).shape == (2, 3)


def test_genotype_round_trips_through_text_object_and_dna() -> None:
    g = amnn.parse_genotype(DARTS_V2)
    assert amnn.parse_genotype(str(g)) == g
    assert g.normal[7] == ("dil_conv_3x3", 2) and list(g.reduce_concat) == [2, 3, 4, 5]
    ranged = amnn.parse_genotype(DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)"))
    assert ranged.normal_concat == range(2, 6) and str(ranged).count("range(2, 6)") == 2
    space = amnn.darts_space(4, 3)
    dna = amnn.genotype_to_dna(g, space)
    back = amnn.genotype_from_dna(dna, space)
    assert back == canonical_genotype(g)._replace(
        normal_concat=range(2, 6), reduce_concat=range(2, 6)
    )
    assert amnn.genotype_to_dna(back, space) == dna
    net = am.materialize(space, dna)
    assert net.genotype == back


def _nb301_sample(nasbench_source: Path) -> list[str]:
    path = nasbench_source / "naslib_zc_subsets" / "zc_nasbench301.json"
    if not path.is_file():
        pytest.skip(f"no NAS-Bench-301 sample at {path}")
    return list(json.loads(path.read_text())["cifar10"])


def test_the_nb301_encoding_round_trips_all_725_sample_cells(nasbench_source: Path) -> None:
    keys = _nb301_sample(nasbench_source)
    assert len(keys) == 725
    space = amnn.darts_space(4, 3)
    for key in keys:
        stored = ast.literal_eval(key)
        g = amnn.nb301_decode(key)
        assert amnn.nb301_encode(g) == stored  # encoding -> genotype -> encoding
        assert amnn.nb301_decode(amnn.nb301_encode(g)) == g  # genotype -> encoding -> genotype
        assert amnn.parse_genotype(str(g)) == g
        canon = canonical_genotype(g)
        assert amnn.genotype_from_dna(amnn.genotype_to_dna(g, space), space) == canon


def test_nb301_op_indices_are_the_seven_genotype_ops_in_darts_order(
    nasbench_source: Path,
) -> None:
    # Index 0 is max_pool_3x3, not "none": cells with more separable convolutions
    # (indices 3, 4) have more parameters, as the sample's `params` proxy says.
    path = nasbench_source / "naslib_zc_subsets" / "zc_nasbench301.json"
    if not path.is_file():
        pytest.skip(f"no NAS-Bench-301 sample at {path}")
    records = json.loads(path.read_text())["cifar10"]
    pairs = []
    for key, record in records.items():
        g = amnn.nb301_decode(key)
        seps = sum(op.startswith("sep_conv") for op, _ in g.normal + g.reduce)
        pairs.append((seps, record["params"]["score"]))
    few = [p for s, p in pairs if s <= 3]
    many = [p for s, p in pairs if s >= 7]
    assert few and many and sum(many) / len(many) > 1.3 * sum(few) / len(few)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DARTS_V2.replace("normal=[", "normal=2 * [", 1), "`normal` must be a literal"),
        ("Gen(normal=[])", "must be a call `Genotype"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('conv_9x9', 2)"), r"normal\[7\].*'conv_9x9'"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), r"normal\[7\].*input 5"),
        (
            DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""),
            r"lacks field\(s\) \['reduce_concat'\]",
        ),
        (DARTS_V2.replace("normal_concat", "normal_cat"), "unknown genotype field 'normal_cat'"),
        (DARTS_V2.replace("('sep_conv_3x3', 0), ", "", 1), "must list 8"),
        (DARTS_V2.replace("normal=[", "normal=__import__('os') or [", 1), "must be a literal"),
        ("Genotype(normal=[", "not valid Python syntax"),
    ],
)
def test_a_bad_genotype_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(GenotypeError, match=message):
        amnn.parse_genotype(text)


def test_bad_encodings_and_dna_conversions_say_what_is_wrong() -> None:
    with pytest.raises(GenotypeError, match="reduce pair 2 must be"):
        amnn.nb301_decode([[(0, 1)] * 8, [(0, 1), (1, 1), (0, 7)] + [(0, 1)] * 5])
    g = amnn.parse_genotype(DARTS_V2.replace("('max_pool_3x3', 0)", "('none', 0)", 1))
    with pytest.raises(GenotypeError, match=r"'none' has no NB301 op index"):
        amnn.nb301_encode(g)
    twice = amnn.nb301_decode([[(0, 1), (0, 2)] + [(1, 1)] * 6, [(0, 1), (1, 1)] * 4])
    with pytest.raises(GenotypeError, match="node 0 takes input 0 twice"):
        amnn.genotype_to_dna(twice, amnn.darts_space(4, 3))
    with pytest.raises(GenotypeError, match="not among the space's ops"):
        amnn.genotype_to_dna(DARTS_V2, amnn.darts_space(4, 3, ops=["sep_conv_3x3", "skip_connect"]))


def test_the_auxiliary_head_reads_the_cell_at_two_thirds_in_training_only() -> None:
    net = amnn.darts_network(DARTS_V2, C=4, layers=6, num_classes=5, auxiliary=True)
    assert isinstance(net.auxiliary, amnn.AuxiliaryHead)
    x = torch.randn(2, 3, 32, 32)
    net.train()
    logits, aux = net.logits_and_aux(x)
    assert logits.shape == aux.shape == (2, 5)
    net.eval()
    assert net.logits_and_aux(x)[1] is None and net(x).shape == (2, 5)
    assert amnn.darts_network(DARTS_V2, C=4, layers=3).auxiliary is None
    # 28x28 images reach the head at 7x7: adaptive pooling instead of 5x5 / 3
    small = amnn.darts_network(DARTS_V2, C=4, layers=3, in_channels=1, auxiliary=True)
    assert small.logits_and_aux(torch.randn(2, 1, 28, 28))[1].shape == (2, 10)


def test_drop_path_drops_whole_examples_of_non_identity_edges_in_training() -> None:
    torch.manual_seed(0)
    x = torch.ones(1000, 2, 3, 3)
    dropped = amnn.drop_path(x, 0.25)
    kept = dropped.flatten(1).amax(1)
    assert kept.unique().tolist() == pytest.approx([0.0, 1.0 / 0.75])  # whole examples, rescaled
    assert 0.2 < float((kept == 0).float().mean()) < 0.3
    net = amnn.darts_network(DARTS_V2, C=4, layers=3)
    net.drop_path_prob = 0.5
    x = torch.randn(4, 3, 8, 8)
    net.eval()
    assert torch.equal(net(x), net(x))  # no dropping in evaluation
    net.train()
    torch.manual_seed(1)
    first = net(x)
    torch.manual_seed(2)
    assert not torch.allclose(first, net(x))
    net.drop_path_prob = 0.0
    torch.manual_seed(1)
    assert torch.equal(net(x), net(x))  # batch statistics only: deterministic
