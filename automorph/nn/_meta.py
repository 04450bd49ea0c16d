"""Architecture search for a gradient-based meta-learner (Auto-Meta) on sinusoids.

Tasks are sinusoid regressions `y = a sin(x - p)` (amplitude in [0.1, 5],
phase in [0, pi], x in [-5, 5]); a learner sees `shots` points of a task and
adapts by `inner_steps` gradient steps (MAML). The learner's body is a
`MetaCell`, whose nodes each pick an input (an earlier node) and an
activation, so any automorph algorithm (PNAS, evolution, ...) can search
the cell; `maml_train` meta-trains a learner and `maml_evaluate` gives its
meta-test error after adaptation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from automorph.hyper import oneof
from automorph.nn._modules import ModuleError, own_searchable
from automorph.utils import FieldValueError

ACTIVATIONS = ["relu", "tanh", "elu", "sin"]


def _activate(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "elu":
        return nn.functional.elu(x)
    return torch.sin(x)


def check_cell(ops: list[str], inputs: list[int], allowed: Sequence[str], what: str) -> None:
    """Raises ModuleError unless node j of the cell takes one input in 0..j
    (0 is the cell's input) and runs one of `allowed` (each a `what`)."""
    if len(inputs) != len(ops) or any(not 0 <= i <= j for j, i in enumerate(inputs)):
        raise ModuleError(
            f"node j of a cell takes input 0..j (0 is the cell's input), one per op; "
            f"got ops {list(ops)} and inputs {list(inputs)}"
        )
    for op in ops:
        if op not in allowed:
            raise ModuleError(f"unknown {what} {op!r}; expected one of {allowed}")


class _MetaCell(nn.Module):
    def __init__(self, ops: list[str], inputs: list[int], width: int = 40) -> None:
        super().__init__()
        check_cell(ops, inputs, ACTIVATIONS, "activation")
        self.ops = list(ops)
        self.inputs = list(inputs)
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in ops])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for op, source, layer in zip(self.ops, self.inputs, self.layers, strict=True):
            states.append(_activate(op, layer(states[source])))
        return states[-1]


class _Learner(nn.Module):
    def __init__(self, cell: nn.Module, width: int = 40) -> None:
        super().__init__()
        self.stem = nn.Linear(1, width)
        self.cell = cell
        self.head = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cell(torch.relu(self.stem(x))))  # type: ignore[no-any-return]


MetaCell = own_searchable(_MetaCell, "MetaCell")
"""Auto-Meta's cell (searchable): node j applies a linear layer of `width` units and the
activation `ops[j]` (one of `ACTIVATIONS`) to node `inputs[j]` (0 is the cell's input);
the cell's output is its last node."""
Learner = own_searchable(_Learner, "Learner")
"""The sinusoid regressor that meta-learning trains (searchable): a linear stem to
`width` units, the `cell`, and a linear head to one output."""


def meta_cell_space(nodes: int = 3, width: int = 40) -> Any:
    """A `Learner` whose cell's nodes each choose an activation and an input.

    >>> import automorph as am
    >>> am.dna_spec(meta_cell_space(2)).size == 4 * 4 * 2
    True
    """
    ops = [oneof(list(ACTIVATIONS)) for _ in range(nodes)]
    inputs = [oneof(list(range(j + 1))) if j else 0 for j in range(nodes)]
    return Learner(MetaCell(ops, inputs, width), width)


def hand_designed_learner(width: int = 40) -> nn.Module:
    """The MAML paper's sinusoid network: two hidden ReLU layers of `width`."""
    return Learner(MetaCell(["relu"], [0], width), width)


def sinusoid_tasks(
    count: int, shots: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """`count` tasks of `shots` support and `shots` query points: x (T, K, 1), y (T, K, 1)."""
    amplitude = 0.1 + 4.9 * torch.rand(count, 1, 1, generator=generator)
    phase = math.pi * torch.rand(count, 1, 1, generator=generator)
    x = 10.0 * torch.rand(count, 2 * shots, 1, generator=generator) - 5.0
    y = amplitude * torch.sin(x - phase)
    return x[:, :shots], y[:, :shots], x[:, shots:], y[:, shots:]


def adapt(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float,
    create_graph: bool,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.mse_loss,
) -> dict[str, torch.Tensor]:
    """`model`'s parameters after `steps` gradient steps of size `lr` on `loss_fn` at (x, y).

    With `create_graph` the steps stay differentiable (second-order MAML);
    without, the result still depends on the parameters linearly (first order).
    """
    params: dict[str, torch.Tensor] = dict(model.named_parameters())
    for _ in range(steps):
        loss = loss_fn(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(
            loss, list(params.values()), create_graph=create_graph, allow_unused=True
        )
        params = {  # a node no path uses gets no gradient
            name: p if g is None else p - lr * g
            for (name, p), g in zip(params.items(), grads, strict=True)
        }
    return params


def maml_train(
    model: nn.Module,
    *,
    iterations: int = 1000,
    shots: int = 10,
    meta_batch: int = 4,
    inner_lr: float = 0.01,
    meta_lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """Meta-trains `model` by MAML (one second-order inner step) on sinusoid tasks.

    Raises:
        FieldValueError: If `iterations`, `shots` or `meta_batch` is below 1.
    """
    for name, value in (("iterations", iterations), ("shots", shots), ("meta_batch", meta_batch)):
        if value < 1:
            raise FieldValueError(f"`{name}` ({value}) must be at least 1", path=name)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=meta_lr)
    for _ in range(iterations):
        xs, ys, xq, yq = sinusoid_tasks(meta_batch, shots, generator)
        loss = torch.zeros(())
        for t in range(meta_batch):
            params = adapt(model, xs[t], ys[t], 1, inner_lr, create_graph=True)
            loss = loss + nn.functional.mse_loss(functional_call(model, params, (xq[t],)), yq[t])
        optimizer.zero_grad()
        (loss / meta_batch).backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    return model


def maml_evaluate(
    model: nn.Module,
    *,
    tasks: int = 100,
    shots: int = 10,
    inner_steps: int = 1,
    inner_lr: float = 0.01,
    seed: int = 12345,
) -> float:
    """Mean query MSE after adapting to each of `tasks` new tasks from `shots` points."""
    generator = torch.Generator().manual_seed(seed)
    xs, ys, xq, yq = sinusoid_tasks(tasks, shots, generator)
    total = 0.0
    for t in range(tasks):
        params = adapt(model, xs[t], ys[t], inner_steps, inner_lr, create_graph=False)
        with torch.no_grad():
            total += float(nn.functional.mse_loss(functional_call(model, params, (xq[t],)), yq[t]))
    return total / tasks
