"""Searchable PyTorch modules: symbolic `torch.nn` layers and the cell operations.

`searchable(cls)` makes any `torch.nn.Module` subclass symbolic (its
constructor arguments become fields that may hold hyper-values), keeping
torch's identity-based equality. The common layers are made searchable once
here; `am.materialize` of a space built from them is a plain `nn.Module`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import torch
from torch import nn

from automorph.symbolic import symbolize
from automorph.utils import AutomorphError

M = TypeVar("M", bound=nn.Module)


class ModuleError(AutomorphError, TypeError):
    """A value cannot be used as a searchable module (not a `torch.nn.Module`)."""


def searchable(cls: type[M], *, type_name: str | None = None) -> type[M]:
    """The symbolic version of a `torch.nn.Module` subclass.

    Instances are real modules of `cls`; their constructor arguments are
    symbolic fields, so they may hold hyper-values (`am.oneof`, `am.intv`).
    The layers this module makes searchable (`Linear`, `Conv2d`, ...) are
    returned as they are, so a class has one searchable version.

    Args:
        cls: The module class.
        type_name: The name JSON stores for it; `module.qualname` by default.

    Raises:
        ModuleError: If `cls` is not a `torch.nn.Module` subclass.

    >>> import automorph as am
    >>> from automorph import nn as amnn
    >>> Linear = amnn.searchable(torch.nn.Linear)
    >>> space = Linear(4, am.oneof([8, 16]))
    >>> am.materialize(space, am.DNA({"out_features": 1})).out_features
    16
    """
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        shown = cls.__qualname__ if isinstance(cls, type) else type(cls).__name__
        raise ModuleError(
            f"cannot make {shown} ({cls!r}) a searchable module: it is not a "
            "torch.nn.Module subclass"
        )
    made = _SEARCHABLE.get(cls) if type_name is None else None
    if made is not None:
        return made
    return symbolize(cls, type_name=type_name, symbolic_eq=False)


# The searchable versions made here, by the torch class they wrap.
_SEARCHABLE: dict[type, type] = {}


def own_searchable(cls: type[M], name: str) -> type[M]:
    """`cls` made searchable under the public type name `automorph.nn.<name>`."""
    made = searchable(cls, type_name=f"automorph.nn.{name}")
    made.__name__ = made.__qualname__ = name
    _SEARCHABLE[cls] = made
    return made


Sequential = own_searchable(nn.Sequential, "Sequential")
"""`torch.nn.Sequential`, searchable: its arguments may hold hyper-values."""
Linear = own_searchable(nn.Linear, "Linear")
"""`torch.nn.Linear`, searchable: its arguments may hold hyper-values."""
Conv2d = own_searchable(nn.Conv2d, "Conv2d")
"""`torch.nn.Conv2d`, searchable: its arguments may hold hyper-values."""
BatchNorm2d = own_searchable(nn.BatchNorm2d, "BatchNorm2d")
"""`torch.nn.BatchNorm2d`, searchable: its arguments may hold hyper-values."""
ReLU = own_searchable(nn.ReLU, "ReLU")
"""`torch.nn.ReLU`, searchable: its arguments may hold hyper-values."""
MaxPool2d = own_searchable(nn.MaxPool2d, "MaxPool2d")
"""`torch.nn.MaxPool2d`, searchable: its arguments may hold hyper-values."""
AvgPool2d = own_searchable(nn.AvgPool2d, "AvgPool2d")
"""`torch.nn.AvgPool2d`, searchable: its arguments may hold hyper-values."""
Flatten = own_searchable(nn.Flatten, "Flatten")
"""`torch.nn.Flatten`, searchable: its arguments may hold hyper-values."""
Dropout = own_searchable(nn.Dropout, "Dropout")
"""`torch.nn.Dropout`, searchable: its arguments may hold hyper-values."""
Identity = own_searchable(nn.Identity, "Identity")
"""`torch.nn.Identity`, searchable: its arguments may hold hyper-values."""


class _ConvBNReLU(nn.Module):
    def __init__(self, channels: int, kernel: int = 3, dilation: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(
                channels,
                channels,
                kernel,
                padding=dilation * (kernel - 1) // 2,
                dilation=dilation,
                bias=False,
            ),
            nn.BatchNorm2d(channels, affine=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # type: ignore[no-any-return]


class _SepConv(nn.Module):
    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels, affine=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # type: ignore[no-any-return]


class _Pool(nn.Module):
    def __init__(self, kind: str = "max") -> None:
        super().__init__()
        if kind not in ("max", "avg"):
            raise ModuleError(f"`kind` must be 'max' or 'avg', got {kind!r}")
        self.kind = kind
        self.pool: nn.Module = (
            nn.MaxPool2d(3, 1, 1)
            if kind == "max"
            else nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)  # type: ignore[no-any-return]


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.0


ConvBNReLU = own_searchable(_ConvBNReLU, "ConvBNReLU")
"""ReLU, convolution (`kernel`, `dilation`, same size) and batch norm over `channels`
channels, searchable: a candidate operation of a cell's edge."""
SepConv = own_searchable(_SepConv, "SepConv")
"""ReLU, a depthwise-separable convolution (`kernel`) and batch norm over `channels`
channels, searchable: a candidate operation of a cell's edge."""
Pool = own_searchable(_Pool, "Pool")
"""3x3 pooling with stride 1 (`kind` "max" or "avg"), searchable: a candidate
operation of a cell's edge."""
Zero = own_searchable(_Zero, "Zero")
"""The operation that outputs zeros (an edge that is not there), searchable: a
candidate operation of a cell's edge."""


def cell_ops(channels: int) -> list[Any]:
    """The candidate operations of one cell edge (DARTS-like, without `Zero`).

    >>> [type(op).__name__ for op in cell_ops(4)]
    ['ConvBNReLU', 'ConvBNReLU', 'SepConv', 'Pool', 'Pool', 'Identity']
    """
    return [
        ConvBNReLU(channels, 3),
        ConvBNReLU(channels, 3, 2),
        SepConv(channels, 5),
        Pool("max"),
        Pool("avg"),
        Identity(),
    ]
