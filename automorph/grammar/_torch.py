"""Derivations as PyTorch networks (the `torch` extra, imported on first use).

Terminals map to modules by name (`TERMINALS`, extendable with
`register_terminal`); operators give the topology as in the architecture
graph: `Sequential*` chains, `Residual*` adds its last argument as a parallel
branch, `Cell*` is a NAS-Bench-201-style cell whose nodes sum their inputs.
`down` halves the resolution and doubles the channels; every other terminal
keeps both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from automorph.grammar._derivation import Derivation
from automorph.grammar._grammar import Grammar
from automorph.grammar._terms import GrammarError, Nonterminal, Term, Terminal

if TYPE_CHECKING:
    from torch import nn

__all__ = ["TERMINALS", "register_terminal", "to_module"]

# name -> (channels -> (module, output channels))
TerminalFactory = Callable[[int], tuple[Any, int]]
TERMINALS: dict[str, TerminalFactory] = {}
"""The PyTorch module of each terminal name, as `register_terminal` adds them: a
function of the input channels giving the module and its output channels."""


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:  # pragma: no cover - the torch extra
        raise GrammarError(
            "networks from derivations need PyTorch: pip install 'automorph[torch]'"
        ) from e
    return torch


def register_terminal(name: str, factory: TerminalFactory) -> None:
    """Maps terminal `name` to `factory(channels) -> (module, output channels)`."""
    TERMINALS[name] = factory


def _same(make: Callable[[Any, int], Any]) -> TerminalFactory:
    def factory(channels: int) -> tuple[Any, int]:
        return make(_torch().nn, channels), channels

    return factory


def _conv(kernel: int, dilation: int = 1) -> Callable[[Any, int], Any]:
    pad = dilation * (kernel // 2)
    return lambda nn, c: nn.Conv2d(c, c, kernel, padding=pad, dilation=dilation, bias=False)


def _relu_conv_bn(kernel: int) -> Callable[[Any, int], Any]:
    return lambda nn, c: nn.Sequential(
        nn.ReLU(), nn.Conv2d(c, c, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(c)
    )


def _down(channels: int) -> tuple[Any, int]:
    nn = _torch().nn
    out = 2 * channels
    module = nn.Sequential(
        nn.Conv2d(channels, out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out)
    )
    return module, out


def _defaults() -> None:
    same = {
        # the hierarchical NAS-Bench-201 space
        "zero": lambda nn, c: _modules()["Zero"](),
        "id": lambda nn, c: nn.Identity(),
        "avg_pool": lambda nn, c: nn.AvgPool2d(3, stride=1, padding=1),
        "relu": lambda nn, c: nn.ReLU(),
        "hardswish": lambda nn, c: nn.Hardswish(),
        "mish": lambda nn, c: nn.Mish(),
        "conv1x1": _conv(1),
        "conv3x3": _conv(3),
        "dconv3x3": _conv(3, dilation=2),
        "batch": lambda nn, c: nn.BatchNorm2d(c),
        "instance": lambda nn, c: nn.InstanceNorm2d(c, affine=True),
        "layer": lambda nn, c: nn.GroupNorm(1, c),
        # NAS-Bench-201
        "none": lambda nn, c: _modules()["Zero"](),
        "skip_connect": lambda nn, c: nn.Identity(),
        "nor_conv_1x1": _relu_conv_bn(1),
        "nor_conv_3x3": _relu_conv_bn(3),
        "avg_pool_3x3": lambda nn, c: nn.AvgPool2d(3, stride=1, padding=1),
    }
    for name, make in same.items():
        TERMINALS.setdefault(name, _same(make))
    TERMINALS.setdefault("down", _down)


_MODULES: dict[str, Any] = {}


def _modules() -> dict[str, Any]:
    """The module classes of composite operators, defined once torch is imported."""
    if _MODULES:
        return _MODULES
    torch = _torch()
    nn = torch.nn
    module: Any = nn.Module

    class Zero(module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            return x * 0.0

    class Sum(module):  # type: ignore[misc]
        def __init__(self, branches: list[Any]) -> None:
            super().__init__()
            self.branches = nn.ModuleList(branches)

        def forward(self, x: Any) -> Any:
            return sum(b(x) for b in self.branches)

    class Cell(module):  # type: ignore[misc]
        def __init__(self, edges: list[Any], nodes: int) -> None:
            super().__init__()
            self.edges = nn.ModuleList(edges)
            self.nodes = nodes

        def forward(self, x: Any) -> Any:
            states = [x]
            k = 0
            for _ in range(1, self.nodes):
                total = 0
                for j in range(len(states)):
                    total = total + self.edges[k](states[j])
                    k += 1
                states.append(total)
            return states[-1]

    _MODULES.update(Zero=Zero, Sum=Sum, Cell=Cell)
    return _MODULES


def _build(term: Term, channels: int) -> tuple[Any, int]:
    if isinstance(term, Terminal):
        factory = TERMINALS.get(term.name)
        if factory is None:
            raise GrammarError(
                f"no module for terminal {term.name!r}; register one with `register_terminal` "
                f"(known: {', '.join(sorted(TERMINALS))})"
            )
        return factory(channels)
    if isinstance(term, Nonterminal):
        raise GrammarError(f"cannot build a module for the unexpanded nonterminal {term.name!r}")
    name = term.name.lower()
    if name.startswith("residual") and len(term.args) >= 2:
        main, out = _chain(list(term.args[:-1]), channels)
        skip, skip_out = _build(term.args[-1], channels)
        if skip_out != out:
            raise GrammarError(f"the branches of `{term}` end with {out} and {skip_out} channels")
        return _modules()["Sum"]([main, skip]), out
    if name.startswith("cell"):
        nodes = (1 + math.isqrt(1 + 8 * len(term.args))) // 2
        if nodes * (nodes - 1) // 2 != len(term.args):
            raise GrammarError(f"`{term.name}` needs n(n-1)/2 operations, got {len(term.args)}")
        edges = []
        for arg in term.args:
            module, out = _build(arg, channels)
            if out != channels:
                raise GrammarError(f"an operation inside `{term.name}` changes the channels")
            edges.append(module)
        return _modules()["Cell"](edges, nodes), channels
    return _chain(list(term.args), channels)


def _chain(terms: list[Term], channels: int) -> tuple[Any, int]:
    modules = []
    for term in terms:
        module, channels = _build(term, channels)
        modules.append(module)
    return _torch().nn.Sequential(*modules), channels


def to_module(
    grammar: Grammar,
    derivation: Derivation,
    *,
    in_channels: int = 1,
    channels: int = 8,
    num_classes: int = 10,
    stem_stride: int = 1,
) -> nn.Module:
    """An image classifier: a 3x3 stem to `channels` (of stride `stem_stride`),
    the derivation's network, global average pooling and a linear head.

    >>> import torch
    >>> g = Grammar.parse("S -> Sequential(Cell(OP, OP, OP), down)\\nOP -> conv3x3 | id | zero")
    >>> net = to_module(g, g.from_string("Sequential(Cell(conv3x3, id, zero), down)"))
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])

    Raises:
        GrammarError: If a terminal has no module, or branches disagree on channels.
    """
    _defaults()
    tnn = _torch().nn
    body, out = _build(grammar.expand(derivation), channels)
    stem = tnn.Sequential(
        tnn.Conv2d(in_channels, channels, 3, stride=stem_stride, padding=1, bias=False),
        tnn.BatchNorm2d(channels),
    )
    head = tnn.Sequential(tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(out, num_classes))
    network: nn.Module = tnn.Sequential(stem, body, head)
    return network
