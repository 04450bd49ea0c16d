"""DARTS search of the DARTS space: the supernet, its derivation, first and second order (CPU)."""

from __future__ import annotations

from typing import Any

import pytest

import automorph as am

torch = pytest.importorskip("torch")
from torch.nn import functional as F  # noqa: E402

from automorph import nn as amnn  # noqa: E402
from tests.nn.conftest import make_images  # noqa: E402


def _space(**kw: Any) -> Any:
    return amnn.darts_space(2, 3, num_classes=2, in_channels=1, **kw)


def _smooth_supernet(seed: int) -> Any:
    """A tiny relaxed supernet with smooth operations only, in float64: finite
    differences of its gradients are accurate (a ReLU network's gradients jump at
    the kinks, and batch norm over tiny images has large curvature)."""
    tanh, sigmoid = amnn.searchable(torch.nn.Tanh), amnn.searchable(torch.nn.Sigmoid)
    space = amnn.Sequential(
        amnn.Linear(4, 6),
        am.oneof([tanh(), sigmoid(), amnn.Identity()]),
        amnn.Linear(6, 3),
        am.oneof([tanh(), amnn.Identity()]),
        amnn.Linear(3, 3),
    )
    torch.manual_seed(seed)
    net = amnn.Supernet(space).double()
    net.relax()
    with torch.no_grad():  # alphas away from uniform, so that every term matters
        for alpha in net.arch_parameters():
            alpha.normal_(0.0, 1.0)
    return net


def _batches(seed: int = 0) -> tuple[Any, Any]:
    generator = torch.Generator().manual_seed(seed)
    train = (torch.randn(16, 4, generator=generator).double(), torch.randint(0, 3, (16,)))
    valid = (torch.randn(16, 4, generator=generator).double(), torch.randint(0, 3, (16,)))
    return train, valid


def _unrolled_loss(
    net: Any, train: Any, valid: Any, xi: float, optimizer: Any = None
) -> torch.Tensor:
    """L_val(w', alpha), w' = w - xi * (the optimizer's step direction), by plain autograd."""
    weights = list(net.weight_parameters())
    saved = [w.detach().clone() for w in weights]
    grads = torch.autograd.grad(F.cross_entropy(net(train[0]), train[1]), weights)
    group = optimizer.param_groups[0] if optimizer is not None else {}
    mom, decay = group.get("momentum", 0.0), group.get("weight_decay", 0.0)
    with torch.no_grad():
        for w, g in zip(weights, grads, strict=True):
            buf = optimizer.state[w].get("momentum_buffer") if optimizer is not None else None
            w.sub_(xi * (g + decay * w + (mom * buf if buf is not None else 0.0)))
        loss = F.cross_entropy(net(valid[0]), valid[1])
        for w, value in zip(weights, saved, strict=True):
            w.copy_(value)
    return loss


def _numerical_gradient(net: Any, train: Any, valid: Any, xi: float, optimizer: Any) -> Any:
    """Central differences of `_unrolled_loss` in each architecture weight."""
    out = []
    h = 1e-6
    for alpha in net.arch_parameters():
        for i in range(len(alpha)):
            values = []
            for sign in (1.0, -1.0):
                with torch.no_grad():
                    alpha[i] += sign * h
                values.append(float(_unrolled_loss(net, train, valid, xi, optimizer)))
                with torch.no_grad():
                    alpha[i] -= sign * h
            out.append((values[0] - values[1]) / (2 * h))
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize(("momentum", "decay"), [(0.0, 0.0), (0.9, 3e-4)])
def test_second_order_gradient_matches_a_numerical_check(momentum: float, decay: float) -> None:
    net = _smooth_supernet(0)
    train, valid = _batches()
    optimizer = torch.optim.SGD(
        net.weight_parameters(), lr=0.5, momentum=momentum, weight_decay=decay
    )
    F.cross_entropy(net(train[0]), train[1]).backward()  # one real step: momentum buffers
    optimizer.step()
    optimizer.zero_grad()
    before = [p.detach().clone() for p in net.parameters()]
    xi = 0.5
    analytic = amnn.architecture_gradient(net, train, valid, order=2, xi=xi, optimizer=optimizer)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    numeric = _numerical_gradient(net, train, valid, xi, optimizer)
    got = torch.cat(analytic)
    assert torch.allclose(got, numeric, rtol=1e-3, atol=1e-3 * float(numeric.abs().max()))
    # The first-order gradient is the gradient of another function (eq. 6 with xi = 0).
    first = torch.cat(amnn.architecture_gradient(net, train, valid, order=1))
    assert (first - numeric).norm() > 0.1 * numeric.norm()


def test_second_order_differs_from_first_by_a_term_linear_in_xi() -> None:
    net = _smooth_supernet(1)
    train, valid = _batches(1)
    first = torch.cat(amnn.architecture_gradient(net, train, valid, order=1))
    at = {
        xi: torch.cat(amnn.architecture_gradient(net, train, valid, order=2, xi=xi))
        for xi in (0.0, 1e-3, 2e-3)
    }
    assert torch.equal(at[0.0], first)  # xi = 0 is the first-order approximation
    small, double = at[1e-3] - first, at[2e-3] - first
    assert small.norm() > 1e-4 * first.norm()
    assert torch.allclose(double, 2 * small, rtol=0.02, atol=0.02 * float(small.abs().max()))


def test_the_darts_supernet_second_order_restores_its_weights() -> None:
    net = amnn.DartsSupernet(_space())
    net.relax()
    images = make_images(8, 5)
    batch = (images.x, images.y)
    before = [p.detach().clone() for p in net.parameters()]
    first = amnn.architecture_gradient(net, batch, batch, order=1)
    assert torch.equal(
        torch.cat(first), torch.cat(amnn.architecture_gradient(net, batch, batch, order=2))
    )  # xi defaults to 0
    second = amnn.architecture_gradient(net, batch, batch, order=2, xi=0.025, amp=True)
    assert len(second) == 28 and all(g.shape == (8,) for g in second)
    assert not torch.equal(torch.cat(first), torch.cat(second))
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_the_gradient_checks_its_arguments() -> None:
    net = _smooth_supernet(0)
    train, valid = _batches()
    with pytest.raises(am.FieldValueError, match="`order` must be 1 or 2, got 3"):
        amnn.architecture_gradient(net, train, valid, order=3)
    with pytest.raises(am.FieldValueError, match=r"`xi` \(-0.1\) must be at least 0"):
        amnn.architecture_gradient(net, train, valid, order=2, xi=-0.1)


def test_the_supernet_shares_alphas_across_cells_of_a_kind() -> None:
    net = amnn.DartsSupernet(amnn.darts_space(2, 5, num_classes=2, in_channels=1))
    assert [cell.reduction for cell in net.cells] == [False, True, False, True, False]
    assert net.op_names == amnn.DARTS_OPS  # "none" and the space's 7 operations
    normal = [cell.edges[3].alpha for cell in net.cells if not cell.reduction]
    assert all(a is net.alpha_normal[3] for a in normal) and len(normal) == 3
    assert net.cells[1].edges[3].alpha is net.alpha_reduce[3]
    assert len(list(net.arch_parameters())) == 28
    weights = list(net.weight_parameters())
    assert len({id(p) for p in weights}) == len(weights)
    assert not {id(p) for p in weights} & {id(p) for p in net.arch_parameters()}
    # batch statistics always, no affine parameters in the cells
    norms = [m for m in net.cells.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(not m.affine and m.running_mean is None for m in norms)
    limited = amnn.DartsSupernet(_space(ops=["skip_connect", "sep_conv_3x3"]))
    assert limited.op_names == ("none", "skip_connect", "sep_conv_3x3")


def test_the_genotype_follows_the_papers_rule() -> None:
    net = amnn.DartsSupernet(_space())
    ops = list(net.op_names)
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.zero_()
        # node 0, edge from input 0: "none" strongest, skip_connect next: keeps skip_connect
        net.alpha_normal[0][ops.index("none")] = 3.0
        net.alpha_normal[0][ops.index("skip_connect")] = 1.0
        # node 3 (edges 9..13 from inputs 0..4): the strongest non-zero ops are on
        # inputs 3 (dil_conv_3x3) and 2 (sep_conv_5x5); input 4's "none" does not count
        net.alpha_normal[9 + 2][ops.index("sep_conv_5x5")] = 1.0
        net.alpha_normal[9 + 3][ops.index("dil_conv_3x3")] = 2.0
        net.alpha_normal[9 + 4][ops.index("none")] = 10.0
        net.alpha_normal[9 + 4][ops.index("sep_conv_3x3")] = 5.0
    genotype = net.genotype()
    assert ("skip_connect", 0) in genotype.normal[:2]
    assert genotype.normal[6:] == [("dil_conv_3x3", 3), ("sep_conv_5x5", 2)]
    assert all(op != "none" for op, _ in genotype.normal + genotype.reduce)
    dna = net.derive()
    assert dna == amnn.genotype_to_dna(genotype, net.space)
    assert amnn.genotype_from_dna(dna, net.space) == amnn.canonical_genotype(genotype)


def test_a_path_runs_only_the_chosen_edges() -> None:
    space = _space()
    net = amnn.DartsSupernet(space)
    dna = am.dna_spec(space).random_dna(__import__("numpy").random.default_rng(0))
    genotype = amnn.genotype_from_dna(dna, space)
    net.set_path(dna)
    edges = [(k, j) for k in range(4) for j in range(k + 2)]
    for cell in net.cells:
        kind = genotype.reduce if cell.reduction else genotype.normal
        chosen = {(e // 2, j): op for e, (op, j) in enumerate(kind)}
        active = [net.op_names[op.active] for op in cell.edges]
        assert active == [chosen.get(edge, "none") for edge in edges]
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 2)
    with pytest.raises(am.InvalidDNAError):
        net.set_path(am.DNA({"normal[0][0]": 9}))


def test_only_a_darts_space_makes_a_darts_supernet() -> None:
    with pytest.raises(am.SearchSpaceError, match="needs a `darts_space`, got Sequential"):
        amnn.DartsSupernet(amnn.Sequential(am.oneof([amnn.ReLU(), amnn.Identity()])))
    wider = _space().clone(deep=True)
    wider.rebind({"C": am.oneof([2, 4])})
    with pytest.raises(am.SearchSpaceError, match="`C` is a OneOf") as info:
        amnn.DartsSupernet(wider)
    assert info.value.path == "C"


@pytest.mark.parametrize(("order", "amp"), [(1, False), (2, True)])
def test_darts_search_of_the_darts_space_returns_a_genotype(order: int, amp: bool) -> None:
    train, valid = make_images(32, 0), make_images(16, 1)
    space = _space()
    result = amnn.darts_search(
        space,
        train,
        valid,
        steps=3,
        batch_size=16,
        warmup=1,
        order=order,
        device="cpu",
        amp=amp,
        arch_lr=0.05,
    )
    assert isinstance(result.supernet, amnn.DartsSupernet)
    assert result.genotype == result.supernet.genotype()
    assert result.dna == amnn.genotype_to_dna(result.genotype, space)
    assert result.model.genotype == amnn.canonical_genotype(result.genotype)._replace(
        normal_concat=range(2, 6), reduce_concat=range(2, 6)
    )
    assert next(result.model.parameters()).device.type == "cpu"
    assert 0.0 <= result.score <= 1.0
    moved = [float(a.detach().abs().max()) for a in result.supernet.arch_parameters()]
    assert min(moved) > 0.05  # every architecture weight was trained (Adam: 2 steps of 0.05)


def test_darts_search_is_reproducible_and_checks_its_arguments() -> None:
    train, valid = make_images(32, 0), make_images(16, 1)
    space = _space()
    runs = [
        amnn.darts_search(space, train, valid, steps=1, batch_size=16, warmup=0, order=2, seed=4)
        for _ in range(2)
    ]
    assert runs[0].supernet is not None and runs[1].supernet is not None
    assert runs[0].supernet.alphas() == runs[1].supernet.alphas()
    with pytest.raises(am.FieldValueError, match="`order` must be 1 or 2, got 0"):
        amnn.darts_search(space, train, valid, order=0)
    with pytest.raises(amnn.DataShapeError, match="takes 3-channel images, got 1"):
        amnn.darts_search(amnn.darts_space(2, 3), train, valid, steps=1)


def test_enas_searches_the_darts_space_on_the_same_supernet() -> None:
    train, valid = make_images(32, 0), make_images(16, 1)
    result = amnn.enas_search(_space(), train, valid, steps=3, batch_size=16, device="cpu")
    assert isinstance(result.supernet, amnn.DartsSupernet)
    assert result.genotype == amnn.genotype_from_dna(result.dna, _space())
    assert len(result.history) == 3


def test_the_device_is_checked() -> None:
    assert amnn.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert amnn.resolve_device(None).type == expected
    with pytest.raises(am.FieldValueError, match="is not a torch device"):
        amnn.resolve_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(am.FieldValueError, match="no such CUDA device here"):
            amnn.resolve_device("cuda:0")
