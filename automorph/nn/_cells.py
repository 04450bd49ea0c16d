"""A small convolutional cell space (DARTS-like) for image classification.

A `Cell` has `nodes` intermediate nodes; node j sums one operation applied
to each earlier state (the input and nodes before j), so a cell of 3 nodes
has 6 edges. `cell_space` makes every edge an `am.oneof` over `cell_ops`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from automorph.hyper import oneof
from automorph.nn._modules import ModuleError, cell_ops, own_searchable


class _Cell(nn.Module):
    def __init__(self, edges: list[nn.Module], nodes: int = 3) -> None:
        super().__init__()
        expected = nodes * (nodes + 1) // 2
        if nodes < 1 or len(edges) != expected:
            raise ModuleError(f"a cell of {nodes} nodes needs {expected} edges, got {len(edges)}")
        self.nodes = nodes
        self.edges = nn.ModuleList(edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        k = 0
        for j in range(self.nodes):
            total = self.edges[k](states[0])
            for i in range(1, j + 1):
                total = total + self.edges[k + i](states[i])
            k += j + 1
            states.append(total)
        return sum(states[1:]) / self.nodes  # type: ignore[return-value]


class _Network(nn.Module):
    def __init__(
        self,
        cell: nn.Module,
        channels: int = 8,
        num_classes: int = 10,
        input_shape: tuple[int, int, int] = (1, 28, 28),
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.MaxPool2d(2),
        )
        self.cell = cell
        self.head = nn.Sequential(
            nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(4 * channels, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cell(self.stem(x)))  # type: ignore[no-any-return]


Cell = own_searchable(_Cell, "Cell")
"""A cell of `nodes` nodes (searchable): node j sums one edge module over the cell's
input and each earlier node; the cell's output is the mean of its nodes. `edges`
lists the `nodes * (nodes + 1) / 2` edge modules, node by node."""
Network = own_searchable(_Network, "Network")
"""A small image classifier around one cell (searchable): a convolution stem of
`channels` channels, the `cell`, then pooling and a linear head of `num_classes`."""


def cell_space(
    channels: int = 8,
    nodes: int = 3,
    num_classes: int = 10,
    input_shape: tuple[int, int, int] = (1, 28, 28),
    ops: list[Any] | None = None,
) -> Any:
    """A `Network` whose cell edges each choose among `ops` (default `cell_ops(channels)`).

    `ops` are the candidate modules of every edge (copied per edge).

    >>> import automorph as am
    >>> am.dna_spec(cell_space(4, nodes=2)).size == 6**3
    True
    """
    candidates = cell_ops(channels) if ops is None else ops
    edges = [
        oneof([op.clone(deep=True) for op in candidates]) for _ in range(nodes * (nodes + 1) // 2)
    ]
    return Network(Cell(edges, nodes), channels, num_classes, input_shape)
