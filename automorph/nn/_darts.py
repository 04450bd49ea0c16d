"""The DARTS search space: its 8 operations, cells, network and genotype conversions.

The space of Liu et al., "DARTS: Differentiable Architecture Search" (ICLR
2019), as NAS-Bench-301 samples it: a cell has 2 inputs (the outputs of the
two previous cells) and 4 intermediate nodes; node k sums one operation on
each of 2 distinct inputs chosen among the cell inputs and nodes before k;
the cell outputs the concatenation of its nodes. A network is a convolution
stem and `layers` cells, the cells at 1/3 and 2/3 depth being reduction cells
(stride 2 on the cell inputs, twice the channels).

`darts_space` is that space as automorph hyper-values (an `am.oneof` for each
node's pair of inputs and for each of its two operations), so any automorph
algorithm searches it and `am.materialize` builds a `DartsNetwork`;
`genotype_to_dna` and `genotype_from_dna` convert between its DNA and a
`Genotype` (the DARTS notation and the NB301 encoding are in
`automorph.nn._genotype`).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from automorph.geno import DNA
from automorph.hyper import Template, oneof
from automorph.nn._genotype import (
    DARTS_OPS,
    NB301_OPS,
    NODES,
    Genotype,
    GenotypeError,
    canonical_genotype,
    check_genotype,
    parse_genotype,
)
from automorph.nn._modules import own_searchable

Device = torch.device | str | None


# --- operations ------------------------------------------------------------------------------


class ReLUConvBN(nn.Sequential):
    """ReLU, a convolution (no bias), batch norm: the DARTS building block.

    >>> ReLUConvBN(4, 8, 1)(torch.zeros(2, 4, 8, 8)).shape
    torch.Size([2, 8, 8, 8])
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        affine: bool = True,
        device: Device = None,
    ) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False, device=device),
            nn.BatchNorm2d(c_out, affine=affine, device=device),
        )


class DilConv(nn.Sequential):
    """ReLU, a dilated depthwise convolution, a 1x1 convolution, batch norm (DARTS).

    >>> DilConv(4, 4, 3, 2, 2, 2)(torch.zeros(2, 4, 8, 8)).shape
    torch.Size([2, 4, 4, 4])
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
        device: Device = None,
    ) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(
                c_in,
                c_in,
                kernel,
                stride,
                padding,
                dilation=dilation,
                groups=c_in,
                bias=False,
                device=device,
            ),
            nn.Conv2d(c_in, c_out, 1, bias=False, device=device),
            nn.BatchNorm2d(c_out, affine=affine, device=device),
        )


class SepConv2x(nn.Sequential):
    """DARTS's separable convolution: a `DilConv` of dilation 1 (with the stride), twice.

    >>> SepConv2x(4, 4, 5, 1, 2)(torch.zeros(2, 4, 8, 8)).shape
    torch.Size([2, 4, 8, 8])
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int,
        padding: int,
        affine: bool = True,
        device: Device = None,
    ) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel, stride, padding, 1, affine, device),
            DilConv(c_in, c_out, kernel, 1, padding, 1, affine, device),
        )


class FactorizedReduce(nn.Module):
    """Halves the resolution: two 1x1 stride-2 convolutions, one shifted by a pixel,
    concatenated (DARTS's `skip_connect` at stride 2). `c_out` must be even.

    Odd sizes are padded so both halves agree (DARTS itself needs even sizes).

    >>> FactorizedReduce(4, 8)(torch.zeros(2, 4, 7, 7)).shape
    torch.Size([2, 8, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True, device: Device = None) -> None:
        super().__init__()
        if c_out % 2:
            raise GenotypeError(f"FactorizedReduce needs an even `c_out`, got {c_out}")
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False, device=device)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False, device=device)
        self.bn = nn.BatchNorm2d(c_out, affine=affine, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))  # type: ignore[no-any-return]


class Zero(nn.Module):
    """DARTS's "none": zeros, of the strided shape at stride 2.

    >>> Zero(2)(torch.ones(1, 3, 8, 8)).shape
    torch.Size([1, 3, 4, 4])
    """

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x * 0.0
        return x[:, :, :: self.stride, :: self.stride] * 0.0


def darts_op(
    name: str, channels: int, stride: int = 1, affine: bool = True, device: Device = None
) -> nn.Module:
    """DARTS operation `name` (one of `DARTS_OPS`) on `channels` channels.

    Args:
        name: The operation's DARTS name.
        channels: Input and output channels.
        stride: 1, or 2 on a reduction cell's inputs.
        affine: Whether batch norms learn a scale and shift (False in DARTS's
            search network, True in the evaluation network).
        device: Where the parameters live.

    Raises:
        GenotypeError: If `name` is not a DARTS operation or `stride` not 1 or 2.

    >>> darts_op("sep_conv_3x3", 4, 2)(torch.zeros(2, 4, 8, 8)).shape
    torch.Size([2, 4, 4, 4])
    """
    if stride not in (1, 2):
        raise GenotypeError(f"a DARTS operation's stride is 1 or 2, got {stride}")
    c = channels
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine, device)
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        k = int(name[-1])
        return SepConv2x(c, c, k, stride, k // 2, affine, device)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        k = int(name[-1])
        return DilConv(c, c, k, stride, k - 1, 2, affine, device)
    raise GenotypeError(f"unknown DARTS operation {name!r}; the operations are {list(DARTS_OPS)}")


# --- cells and network -------------------------------------------------------------------------


def _nodes_of(edges: Sequence[tuple[str, int]]) -> list[list[Any]]:
    return [
        [[edges[2 * k][1], edges[2 * k + 1][1]], [edges[2 * k][0], edges[2 * k + 1][0]]]
        for k in range(NODES)
    ]


def _edges_of(nodes: Sequence[Any], cell: str) -> list[tuple[str, int]]:
    if len(nodes) != NODES:
        raise GenotypeError(f"`{cell}` must list {NODES} nodes, got {len(nodes)}")
    edges: list[tuple[str, int]] = []
    for k, node in enumerate(nodes):
        if not (len(node) == 2 and len(node[0]) == 2 and len(node[1]) == 2):
            raise GenotypeError(
                f"`{cell}[{k}]` must be [[input_a, input_b], [op_a, op_b]], got {node!r}"
            )
        edges += [(str(node[1][0]), int(node[0][0])), (str(node[1][1]), int(node[0][1]))]
    return edges


class DartsCell(nn.Module):
    """A DARTS cell built from 8 `(op, input)` edges (a `Genotype`'s `normal` or `reduce`).

    Args:
        edges: Two `(op, input)` edges per node, node by node.
        concat: The states concatenated into the output.
        c_prev_prev: Channels of the cell two back (input 0).
        c_prev: Channels of the cell one back (input 1).
        channels: Channels of every node.
        reduction: Whether ops on the cell inputs have stride 2.
        reduction_prev: Whether the previous cell reduced (input 0 is then
            twice the size: a `FactorizedReduce` brings it down).
        affine: Batch norms' `affine`.
        device: Where the parameters live.

    >>> from automorph.nn import nb301_decode
    >>> g = nb301_decode([[(0, 3), (1, 2)] * 4, [(0, 0), (1, 4)] * 4])
    >>> cell = DartsCell(g.reduce, g.reduce_concat, 8, 8, 4, reduction=True)
    >>> cell(torch.zeros(2, 8, 8, 8), torch.zeros(2, 8, 8, 8)).shape
    torch.Size([2, 16, 4, 4])
    """

    def __init__(
        self,
        edges: Sequence[tuple[str, int]],
        concat: Sequence[int],
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        reduction: bool = False,
        reduction_prev: bool = False,
        affine: bool = True,
        device: Device = None,
    ) -> None:
        super().__init__()
        check_genotype(Genotype(list(edges), concat, list(edges), concat))
        self.reduction = reduction
        self.inputs = [node_input for _, node_input in edges]
        self.concat = list(concat)
        self.preprocess0: nn.Module = (
            FactorizedReduce(c_prev_prev, channels, affine, device)
            if reduction_prev
            else ReLUConvBN(c_prev_prev, channels, 1, affine=affine, device=device)
        )
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, affine=affine, device=device)
        self.ops = nn.ModuleList(
            darts_op(op, channels, 2 if reduction and i < 2 else 1, affine, device)
            for op, i in edges
        )

    @property
    def multiplier(self) -> int:
        """How many node outputs the cell concatenates."""
        return len(self.concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        """The cell's output; in training, `drop_prob` drops each non-identity edge of
        each example with that probability (drop path)."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        drop = drop_prob if self.training else 0.0
        for k in range(NODES):
            total = None
            for e in (2 * k, 2 * k + 1):
                out = self.ops[e](states[self.inputs[e]])
                if drop > 0.0 and not isinstance(self.ops[e], nn.Identity):
                    out = drop_path(out, drop)
                total = out if total is None else total + out
            assert total is not None
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """`x` with each example zeroed with probability `prob`, the rest scaled by
    1 / (1 - `prob`) (NASNet's and DARTS's path dropout).

    >>> drop_path(torch.ones(4, 2), 0.0).sum().item()
    8.0
    """
    if prob <= 0.0:
        return x
    keep = 1.0 - prob
    mask = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device, dtype=x.dtype)
    return x * mask.bernoulli_(keep) / keep


class AuxiliaryHead(nn.Module):
    """The auxiliary classifier (tower) of DARTS's evaluation network, on the output of
    the second reduction cell: ReLU, 5x5 average pooling of stride 3 to 2x2 (adaptive
    pooling to 2x2 where the map is not 8 to 10 pixels wide, as it is on CIFAR-10),
    a 1x1 convolution to 128 channels, a 2x2 one to 768, and a linear classifier.

    >>> AuxiliaryHead(16, 10)(torch.zeros(2, 16, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, channels: int, num_classes: int, device: Device = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 128, 1, bias=False, device=device),
            nn.BatchNorm2d(128, device=device),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False, device=device),
            nn.BatchNorm2d(768, device=device),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        side = int(x.shape[-1])
        if 8 <= side <= 10:
            x = F.avg_pool2d(x, 5, stride=3, count_include_pad=False)
        else:
            x = F.adaptive_avg_pool2d(x, 2)
        return self.classifier(self.features(x).flatten(1))  # type: ignore[no-any-return]


class _DartsNetwork(nn.Module):
    def __init__(
        self,
        normal: Sequence[Any],
        reduce: Sequence[Any],
        C: int = 16,
        layers: int = 8,
        num_classes: int = 10,
        in_channels: int = 3,
        stem_multiplier: int = 3,
        affine: bool = True,
        device: Device = None,
        auxiliary: bool = False,
    ) -> None:
        super().__init__()
        if C < 1 or layers < 1 or num_classes < 1:
            raise GenotypeError(
                f"`C` ({C}), `layers` ({layers}) and `num_classes` ({num_classes}) must be >= 1"
            )
        normal_edges, reduce_edges = _edges_of(normal, "normal"), _edges_of(reduce, "reduce")
        concat = range(2, NODES + 2)
        self.genotype = check_genotype(Genotype(normal_edges, concat, reduce_edges, concat))
        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False, device=device),
            nn.BatchNorm2d(c_curr, device=device),
        )
        c_pp, c_p, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = 0
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3) and layers >= 3
            if reduction:
                c_curr *= 2
            edges = reduce_edges if reduction else normal_edges
            cell = DartsCell(
                edges, concat, c_pp, c_p, c_curr, reduction, reduction_prev, affine, device
            )
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c_curr
            if auxiliary and i == 2 * layers // 3:
                c_aux = c_p
        self.auxiliary: AuxiliaryHead | None = None
        if auxiliary:
            if layers < 3:
                raise GenotypeError(f"an auxiliary head needs `layers` >= 3, got {layers}")
            self.auxiliary = AuxiliaryHead(c_aux, num_classes, device)
        self.drop_path_prob = 0.0
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes, device=device)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The logits, and in training with an auxiliary head, the head's logits."""
        s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if self.auxiliary is not None and self.training and i == 2 * len(self.cells) // 3:
                aux = self.auxiliary(s1)
        return self.classifier(self.pool(s1).flatten(1)), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_and_aux(x)[0]


DartsNetwork = own_searchable(_DartsNetwork, "DartsNetwork")
"""The DARTS evaluation network (searchable): a 3x3 convolution stem of
`stem_multiplier * C` channels, `layers` cells (reduction cells at `layers // 3`
and `2 * layers // 3`, doubling the channels), global pooling and a linear
classifier of `num_classes`. `normal` and `reduce` list 4 nodes each, as
`[[input_a, input_b], [op_a, op_b]]`; `darts_network` builds one from a
`Genotype`, `darts_space` makes the nodes choices. The DARTS paper's training
extras are here: `auxiliary=True` adds an `AuxiliaryHead` after the cell at
2/3 depth (`logits_and_aux(x)` returns its logits in training; `forward` only
the main ones), and the `drop_path_prob` attribute (0 by default, set by the
training loop) drops paths in training (see `drop_path`)."""


def darts_network(
    genotype: Genotype | str,
    C: int = 16,
    layers: int = 8,
    num_classes: int = 10,
    *,
    in_channels: int = 3,
    auxiliary: bool = False,
    device: Device = None,
) -> Any:
    """The `DartsNetwork` of `genotype` (a `Genotype` or its text), with an auxiliary
    head if `auxiliary`.

    Raises:
        GenotypeError: If the genotype is malformed or its concats are not all 4 nodes.

    >>> from automorph.nn import nb301_decode
    >>> g = nb301_decode([[(0, 3), (1, 2)] * 4, [(0, 0), (1, 4)] * 4])
    >>> darts_network(g, C=4, layers=3)(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
    """
    g = parse_genotype(genotype) if isinstance(genotype, str) else check_genotype(genotype)
    for cell in ("normal", "reduce"):
        if list(getattr(g, f"{cell}_concat")) != list(range(2, NODES + 2)):
            raise GenotypeError(f"DartsNetwork concatenates all 4 nodes; {cell}_concat differs")
    return DartsNetwork(
        _nodes_of(g.normal),
        _nodes_of(g.reduce),
        C,
        layers,
        num_classes,
        in_channels,
        device=device,
        auxiliary=auxiliary,
    )


# --- the search space --------------------------------------------------------------------------


def _pairs(k: int) -> list[list[int]]:
    return [list(p) for p in combinations(range(k + 2), 2)]


def darts_space(
    C: int = 16,
    layers: int = 8,
    num_classes: int = 10,
    *,
    in_channels: int = 3,
    ops: Sequence[str] = NB301_OPS,
    device: Device = None,
) -> Any:
    """The DARTS space: a `DartsNetwork` whose nodes choose their inputs and operations.

    Each node of each cell has 3 decisions, named `{cell}_node{k}_inputs` (an
    `am.oneof` over the distinct pairs among the k + 2 earlier states),
    `{cell}_node{k}_op_a` and `_op_b` (an `am.oneof` over `ops`, the operation
    on the pair's smaller and larger input): 24 decisions, `(7**2)**8 * 180**2`
    architectures with the 7 genotype operations.

    Raises:
        GenotypeError: If `ops` holds an unknown or repeated operation.

    >>> import automorph as am
    >>> am.dna_spec(darts_space()).size == 7 ** 16 * (1 * 3 * 6 * 10) ** 2
    True
    """
    if not ops or any(op not in DARTS_OPS for op in ops) or len(set(ops)) != len(ops):
        raise GenotypeError(f"`ops` must be distinct DARTS operations {list(DARTS_OPS)}, got {ops}")

    def cell(name: str) -> list[Any]:
        return [
            [
                oneof(_pairs(k), name=f"{name}_node{k}_inputs"),
                [
                    oneof(list(ops), name=f"{name}_node{k}_op_a"),
                    oneof(list(ops), name=f"{name}_node{k}_op_b"),
                ],
            ]
            for k in range(NODES)
        ]

    return DartsNetwork(
        cell("normal"), cell("reduce"), C, layers, num_classes, in_channels, device=device
    )


def _named_points(spec: Any) -> dict[str, Any]:
    points = {p.name: p for p in spec.decision_points() if p.name}
    expected = [
        f"{c}_node{k}_{d}"
        for c in ("normal", "reduce")
        for k in range(NODES)
        for d in ("inputs", "op_a", "op_b")
    ]
    missing = [n for n in expected if n not in points]
    if missing:
        raise GenotypeError(f"the space is not a `darts_space`: it lacks decision(s) {missing[:3]}")
    return {n: points[n] for n in expected}


def genotype_to_dna(genotype: Genotype | str, space: Any) -> DNA:
    """The DNA of `space` (a `darts_space`) that materializes `genotype`.

    A node's edges are put in input order (the sum does not depend on it), so
    `genotype_from_dna` returns `canonical_genotype(genotype)`.

    Raises:
        GenotypeError: If the genotype is malformed, a node takes one input
            twice, or an op is not among the space's `ops`.

    >>> from automorph.nn import nb301_decode
    >>> g = nb301_decode([[(1, 3), (0, 2)] * 4, [(0, 0), (1, 4)] * 4])
    >>> space = darts_space()
    >>> genotype_from_dna(genotype_to_dna(g, space), space).normal[:2]
    [('skip_connect', 0), ('sep_conv_3x3', 1)]
    """
    g = parse_genotype(genotype) if isinstance(genotype, str) else check_genotype(genotype)
    g = canonical_genotype(g)
    spec = Template(space).spec
    points = _named_points(spec)
    values: dict[str, int] = {}
    for cell in ("normal", "reduce"):
        edges = getattr(g, cell)
        for k in range(NODES):
            (op_a, a), (op_b, b) = edges[2 * k], edges[2 * k + 1]
            if a == b:
                raise GenotypeError(
                    f"genotype.{cell} node {k} takes input {a} twice; the DARTS space "
                    "picks 2 distinct inputs"
                )
            name = f"{cell}_node{k}"
            values[f"{name}_inputs"] = _pairs(k).index([a, b])
            for side, op in (("op_a", op_a), ("op_b", op_b)):
                literals = points[f"{name}_{side}"].literal_values
                if repr(op) not in literals:
                    raise GenotypeError(
                        f"genotype.{cell} node {k}: {op!r} is not among the space's ops {literals}"
                    )
                values[f"{name}_{side}"] = literals.index(repr(op))
    return spec.dna_from_dict(values)


def genotype_from_dna(dna: DNA, space: Any) -> Genotype:
    """The genotype that `dna` picks out of `space` (a `darts_space`), without building
    the network (see `genotype_to_dna`).

    Raises:
        InvalidDNAError: If `dna` does not fit `space`.
    """
    spec = Template(space).spec
    spec.validate(dna)
    points = _named_points(spec)
    cells = []
    for cell in ("normal", "reduce"):
        edges = []
        for k in range(NODES):
            name = f"{cell}_node{k}"
            a, b = _pairs(k)[dna[points[f"{name}_inputs"].location]]
            ops = [
                ast.literal_eval(
                    points[f"{name}_{s}"].literal_values[dna[points[f"{name}_{s}"].location]]
                )
                for s in ("op_a", "op_b")
            ]
            edges += [(ops[0], a), (ops[1], b)]
        cells.append(edges)
    concat = range(2, NODES + 2)
    return Genotype(cells[0], concat, cells[1], concat)
