"""Weight sharing: a supernet built from a search space of modules.

Every `am.oneof` among modules in the space becomes a `MixedOp` that holds
all its candidates (built once, so every architecture that picks a
candidate uses the same weights). A supernet runs one path at a time
(`set_path(dna)`, ENAS-style sampling) or all paths mixed by softmax
weights (`relax()`, DARTS); `derive()` reads the DARTS choice back as DNA.

`DartsSupernet` is the same for a `darts_space`, whose decisions pick a
node's inputs and operations rather than modules: it holds DARTS's search
network (a `MixedOp` on every edge of every cell) and derives the genotype
by the DARTS paper's rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from automorph.geno import DNA, Space, join
from automorph.hyper import DynamicSpace, HyperValue, OneOf, Template
from automorph.nn._darts import (
    DartsNetwork,
    FactorizedReduce,
    ReLUConvBN,
    _named_points,
    darts_op,
    genotype_from_dna,
    genotype_to_dna,
)
from automorph.nn._genotype import DARTS_OPS, NODES, Genotype, GenotypeError
from automorph.symbolic import Key, KeyPath, Symbolic, rebuild
from automorph.utils import SearchSpaceError


class MixedOp(nn.Module):
    """All candidates of one choice among modules, with shared weights.

    In path mode the module runs the active candidate only; in relaxed mode
    it returns the softmax(`alpha`)-weighted sum of all candidates.

    >>> op = MixedOp("op", [nn.Identity(), nn.ReLU()])
    >>> op.active = 1
    >>> op(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, decision_id: str, candidates: list[nn.Module]) -> None:
        super().__init__()
        self.decision_id = decision_id
        self.candidates = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(1e-3 * torch.randn(len(candidates)))
        self.active = 0
        self.relaxed = False
        self.per_input: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.per_input is not None:  # one candidate per input (InstaNAS)
            out: torch.Tensor | None = None
            for k in torch.unique(self.per_input).tolist():
                rows = self.per_input == k
                part = self.candidates[k](x[rows])
                if out is None:
                    out = x.new_zeros((x.shape[0], *part.shape[1:]))
                out[rows] = part
            assert out is not None
            return out
        if not self.relaxed:
            return self.candidates[self.active](x)  # type: ignore[no-any-return]
        weights = torch.softmax(self.alpha, dim=0)
        return sum(w * op(x) for w, op in zip(weights, self.candidates, strict=True))  # type: ignore[no-any-return]


def _child(location: str, key: Key) -> str:
    keys = (*KeyPath.parse(location).keys, key) if location else (key,)
    return str(KeyPath._trusted(keys))


class Supernet(nn.Module):
    """The weight-sharing network of a search space (see the module docstring).

    Args:
        space: A symbolic search space whose choices among modules are
            `am.oneof`s (nested choices inside candidates are allowed). Its
            DNA are those of `am.dna_spec(space)`.

    Raises:
        SearchSpaceError: If the space has no choice among modules, holds a
            decision that is not a choice among modules (weights cannot be
            shared across widths: search those by independent training), or
            is a define-by-run space.

    >>> import automorph as am
    >>> from automorph import nn as amnn
    >>> space = amnn.Sequential(amnn.Linear(4, 4), am.oneof([amnn.ReLU(), amnn.Identity()]))
    >>> net = Supernet(space)
    >>> net.set_path(am.DNA({"args[1]": 1}))
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, space: Any) -> None:
        super().__init__()
        if isinstance(space, DynamicSpace):
            raise SearchSpaceError(
                "a supernet needs a symbolic space (modules with `am.oneof` among them); "
                "a define-by-run space cannot share weights"
            )
        # Kept out of torch's module registry: an abstract space is no module.
        self.__dict__["space"] = space
        self.spec: Space = Template(space).spec
        self._ops: dict[str, MixedOp] = {}
        self._children: dict[str, list[list[str]]] = {}
        self._roots: list[str] = []
        self._order: list[str] = []
        net = self._build(space, "", "", self._roots)
        self._ops = {i: self._ops[i] for i in self._order}  # top-down, as the spec
        if not self._ops:
            raise SearchSpaceError(
                f"the space has no choice among modules to share weights over: {space!r}"
            )
        if not isinstance(net, nn.Module):
            raise SearchSpaceError(f"the space is not a module, got {type(net).__name__}")
        self.net = net
        self.ops = nn.ModuleDict({str(i): op for i, op in enumerate(self._ops.values())})

    # --- building ------------------------------------------------------------------

    def _build(self, value: Any, prefix: str, location: str, owner: list[str]) -> Any:
        if isinstance(value, OneOf):
            return self._mixed(value, join(prefix, location), owner)
        if isinstance(value, HyperValue):
            raise SearchSpaceError(
                f"a supernet shares weights only across choices among modules; "
                f"{type(value).__name__} {value!r} is not one (search it by independent "
                "training, or make each width a candidate module)",
                path=join(prefix, location),
            )
        if isinstance(value, Symbolic):
            built = {
                key: self._build(child, prefix, _child(location, key), owner)
                for key, child in value.sym_items()
            }
            return rebuild(value, built, [k for k, c in value.sym_items() if isinstance(c, OneOf)])
        return value

    def _mixed(self, hyper: OneOf, decision_id: str, owner: list[str]) -> MixedOp:
        owner.append(decision_id)
        self._order.append(decision_id)
        inner: list[list[str]] = []
        candidates = []
        for index, candidate in enumerate(hyper.candidates):
            ids: list[str] = []
            module = self._build(candidate, f"{decision_id}[={index}]", "", ids)
            if not isinstance(module, nn.Module):
                raise SearchSpaceError(
                    f"a supernet needs every candidate of a choice to be a torch.nn.Module; "
                    f"candidate {index} is {type(module).__name__} ({module!r})",
                    path=decision_id,
                )
            candidates.append(module)
            inner.append(ids)
        self._children[decision_id] = inner
        op = MixedOp(decision_id, candidates)
        self._ops[decision_id] = op
        return op

    # --- modes -----------------------------------------------------------------

    @property
    def decision_ids(self) -> list[str]:
        """The ids of the choices among modules (those of `am.dna_spec(space)`)."""
        return list(self._ops)

    def set_path(self, dna: DNA) -> None:
        """Runs only the candidates `dna` picks (and turns relaxation off).

        Raises:
            InvalidDNAError: If `dna` does not fit the space.
        """
        self.spec.validate(dna)
        for decision_id, op in self._ops.items():
            op.relaxed = False
            op.per_input = None
            if decision_id in dna:
                op.active = int(dna[decision_id])

    def relax(self) -> None:
        """Runs every candidate, mixed by softmax(`alpha`) (DARTS)."""
        for op in self._ops.values():
            op.relaxed = True
            op.per_input = None

    def set_per_input(self, choices: dict[str, torch.Tensor]) -> None:
        """Runs, for input `i` of the next batch, candidate `choices[id][i]` of each choice.

        Raises:
            SearchSpaceError: If a choice of the supernet has no entry.
        """
        for decision_id, op in self._ops.items():
            if decision_id not in choices:
                raise SearchSpaceError("no per-input choice given", path=decision_id)
            op.relaxed = False
            op.per_input = choices[decision_id]

    @property
    def root_ids(self) -> list[str]:
        """The ids of the choices that are not inside a candidate of another choice."""
        return list(self._roots)

    @property
    def mixed_ops(self) -> dict[str, MixedOp]:
        """The choices among modules, by decision id (top-down)."""
        return dict(self._ops)

    def arch_parameters(self) -> Iterator[nn.Parameter]:
        """The architecture weights (one `alpha` vector per choice)."""
        return (op.alpha for op in self._ops.values())

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        """The shared weights: every parameter except the architecture weights."""
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def derive(self) -> DNA:
        """The DNA picking, at every active choice, the candidate of largest `alpha`."""
        out: dict[str, int] = {}
        pending = list(self._roots)
        while pending:
            decision_id = pending.pop(0)
            index = int(torch.argmax(self._ops[decision_id].alpha).item())
            out[decision_id] = index
            pending.extend(self._children[decision_id][index])
        return self.spec.dna_from_dict(out)

    def alphas(self) -> dict[str, list[float]]:
        """The softmax of each choice's architecture weights, by decision id."""
        return {i: torch.softmax(op.alpha.detach(), 0).tolist() for i, op in self._ops.items()}

    def forward(self, *args: Any) -> Any:
        return self.net(*args)


# --- the DARTS space -------------------------------------------------------------------------


def _search_op(name: str, channels: int, stride: int) -> nn.Module:
    op = darts_op(name, channels, stride, affine=False)
    if "pool" in name:  # as in DARTS's search network: pooling gets a batch norm too
        return nn.Sequential(op, nn.BatchNorm2d(channels, affine=False))
    return op


class _SearchCell(nn.Module):
    """A DARTS cell with a `MixedOp` on each of its 14 edges (every earlier state to
    every node), the edges' `alpha`s those of the supernet for this kind of cell."""

    def __init__(
        self,
        ops: Sequence[str],
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        reduction: bool,
        reduction_prev: bool,
        alphas: nn.ParameterList,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module = (
            FactorizedReduce(c_prev_prev, channels, affine=False)
            if reduction_prev
            else ReLUConvBN(c_prev_prev, channels, 1, affine=False)
        )
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, affine=False)
        kind = "reduce" if reduction else "normal"
        edges: list[MixedOp] = []
        for k, j in _edges():
            stride = 2 if reduction and j < 2 else 1
            op = MixedOp(f"{kind}_node{k}_from{j}", [_search_op(n, channels, stride) for n in ops])
            op.alpha = alphas[len(edges)]  # shared by every cell of this kind
            edges.append(op)
        self.edges = nn.ModuleList(edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        e = 0
        for k in range(NODES):
            node = self.edges[e](states[0])
            for j in range(1, k + 2):
                node = node + self.edges[e + j](states[j])
            e += k + 2
            states.append(node)
        return torch.cat(states[2:], dim=1)


def _edges() -> list[tuple[int, int]]:
    """The (node, input) of each edge of a relaxed cell, node by node (14 edges)."""
    return [(k, j) for k in range(NODES) for j in range(k + 2)]


class DartsSupernet(nn.Module):
    """The weight-sharing network of a `darts_space`: DARTS's search network.

    Every edge of a cell (each of the 2 cell inputs and earlier nodes into
    each of the 4 nodes: 14 edges) is a `MixedOp` over "none" and the space's
    operations, with one `alpha` vector per edge shared by all normal cells
    and one by all reduction cells, as in DARTS. Batch norms have no affine
    parameters and always use the batch's statistics (the paper's search
    setup); pooling is followed by a batch norm, as in DARTS's code.

    `relax()` mixes every edge by softmax(alpha) (DARTS); `set_path(dna)` runs
    the architecture `dna` picks (the two chosen edges of each node, every
    other edge "none"), so ENAS searches the space too. `genotype()` derives
    the architecture by the paper's rule: each node keeps its 2 incoming
    edges whose strongest operation other than "none" is strongest, with that
    operation; `derive()` is the same as DNA of the space.

    Args:
        space: A `darts_space` (its `C`, `layers`, `num_classes`,
            `in_channels`, `stem_multiplier` and operations are used).

    Raises:
        SearchSpaceError: If `space` is not a `darts_space`, or holds a
            decision other than its 24 (a searched width, say).

    >>> from automorph.nn._darts import darts_space
    >>> net = DartsSupernet(darts_space(C=2, layers=3, num_classes=4))
    >>> net.relax()
    >>> net(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 4])
    >>> len(net.genotype().normal), len(list(net.arch_parameters()))
    (8, 28)
    """

    def __init__(self, space: Any) -> None:
        super().__init__()
        args = _darts_args(space)
        self.__dict__["space"] = space
        self.spec: Space = Template(space).spec
        self.op_names: tuple[str, ...] = tuple(
            op for op in DARTS_OPS if op == "none" or op in args["ops"]
        )
        count = len(self.op_names)
        self.alpha_normal = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(count)) for _ in _edges()
        )
        self.alpha_reduce = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(count)) for _ in _edges()
        )
        C, layers = int(args["C"]), int(args["layers"])
        c_curr = int(args["stem_multiplier"]) * C
        self.stem = nn.Sequential(
            nn.Conv2d(int(args["in_channels"]), c_curr, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_curr),
        )
        c_pp, c_p, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3) and layers >= 3
            c_curr = c_curr * 2 if reduction else c_curr
            alphas = self.alpha_reduce if reduction else self.alpha_normal
            self.cells.append(
                _SearchCell(self.op_names, c_pp, c_p, c_curr, reduction, reduction_prev, alphas)
            )
            reduction_prev = reduction
            c_pp, c_p = c_p, NODES * c_curr
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, int(args["num_classes"]))
        self.in_channels = int(args["in_channels"])
        for module in self.modules():  # batch statistics always (DARTS, appendix A.1.1)
            if isinstance(module, nn.BatchNorm2d):
                module.track_running_stats = False
                module.running_mean = module.running_var = module.num_batches_tracked = None
        if args["device"] is not None:
            self.to(args["device"])

    def _mixed(self) -> Iterator[tuple[str, int, MixedOp]]:
        for cell in self.cells:
            assert isinstance(cell, _SearchCell)
            kind = "reduce" if cell.reduction else "normal"
            for e, op in enumerate(cell.edges):
                assert isinstance(op, MixedOp)
                yield kind, e, op

    def relax(self) -> None:
        """Mixes every edge's operations by softmax(`alpha`) (DARTS)."""
        for _, _, op in self._mixed():
            op.relaxed = True
            op.per_input = None

    def set_path(self, dna: DNA) -> None:
        """Runs only the architecture `dna` picks (and turns relaxation off).

        Raises:
            InvalidDNAError: If `dna` does not fit the space.
        """
        self.spec.validate(dna)
        genotype = genotype_from_dna(dna, self.space)
        chosen = {
            kind: {(e // 2, j): name for e, (name, j) in enumerate(getattr(genotype, kind))}
            for kind in ("normal", "reduce")
        }
        edges = _edges()
        for kind, e, op in self._mixed():
            op.relaxed = False
            op.per_input = None
            op.active = self.op_names.index(chosen[kind].get(edges[e], "none"))

    def arch_parameters(self) -> Iterator[nn.Parameter]:
        """The architecture weights: one `alpha` per edge, normal cells' then reduction cells'."""
        yield from self.alpha_normal
        yield from self.alpha_reduce

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        """The shared weights: every parameter except the architecture weights."""
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def genotype(self) -> Genotype:
        """The architecture by DARTS's rule (see the class docstring); each node's
        edges strongest first."""
        none = self.op_names.index("none")
        cells = []
        for alphas in (self.alpha_normal, self.alpha_reduce):
            edges: list[tuple[str, int]] = []
            e = 0
            for k in range(NODES):
                scored = []
                for j in range(k + 2):
                    weights = torch.softmax(alphas[e + j].detach().float(), 0)
                    weights[none] = -1.0
                    best = int(torch.argmax(weights))
                    scored.append((-float(weights[best]), j, self.op_names[best]))
                edges += [(name, j) for _, j, name in sorted(scored)[:2]]
                e += k + 2
            cells.append(edges)
        concat = range(2, NODES + 2)
        return Genotype(cells[0], concat, cells[1], concat)

    def derive(self) -> DNA:
        """`genotype()` as a DNA of the space."""
        return genotype_to_dna(self.genotype(), self.space)

    def alphas(self) -> dict[str, list[float]]:
        """The softmax of each edge's architecture weights (over `op_names`), keyed
        `normal_node{k}_from{j}` / `reduce_...` (input j of node k)."""
        out = {}
        for kind, alphas in (("normal", self.alpha_normal), ("reduce", self.alpha_reduce)):
            for (k, j), alpha in zip(_edges(), alphas, strict=True):
                out[f"{kind}_node{k}_from{j}"] = torch.softmax(alpha.detach(), 0).tolist()
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.pool(s1).flatten(1))  # type: ignore[no-any-return]


def is_darts_space(space: Any) -> bool:
    """Whether `space` is a `DartsNetwork` (a `darts_space`, if it holds its decisions)."""
    return isinstance(space, DartsNetwork)


def _darts_args(space: Any) -> dict[str, Any]:
    if not is_darts_space(space):
        raise SearchSpaceError(
            f"a DARTS supernet needs a `darts_space`, got {type(space).__name__}"
        )
    args = {key: value for key, value in space.sym_items() if key not in ("normal", "reduce")}
    for key, value in args.items():
        if isinstance(value, HyperValue):
            raise SearchSpaceError(
                f"a DARTS supernet searches the cells only; `{key}` is a "
                f"{type(value).__name__} (search it by independent training)",
                path=key,
            )
    try:
        points = _named_points(Template(space).spec)
    except GenotypeError as error:
        raise SearchSpaceError(str(error)) from None
    extra = len(Template(space).spec.decision_points()) - len(points)
    if extra:
        raise SearchSpaceError(
            f"a DARTS supernet searches the 24 decisions of the cells; the space has {extra} more"
        )
    args["ops"] = [ast.literal_eval(v) for v in points["normal_node0_op_a"].literal_values]
    return args
