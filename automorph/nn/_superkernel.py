"""Superkernels: searchable convolution blocks whose candidates share one set of weights.

NASIB (Singh et al., "NASIB: Neural Architecture Search withIn Budget",
arXiv:1910.08665) searches "an augmented search space induced by
Superkernels" holding 12x the candidate operations of the usual cell spaces.
A superkernel is the single-path weight sharing of Stamoulis et al.
("Single-Path NAS", arXiv:1904.02877): the candidate convolutions of a block
are subsets of one over-parameterized kernel, so choosing an operation is
choosing which slice of the kernel's weights to use.

Here a block is an `MBConv` (an inverted bottleneck without residual: a 1x1
convolution expanding `channels` to `expansion * channels`, the activation,
a depthwise convolution of shape `kernel`, a 1x1 projection back to
`channels`, batch norm). Its `SuperKernel` holds the largest of each weight;
a candidate takes

- the centre of the depthwise superkernel: a 3x3 kernel is the middle 3x3 of
  a 9x9 one, and a dilated kernel ("3x3_d2") the taps every `d` entries
  around the centre (the 3x3 of dilation 2 sits on the 5x5 centre's corners,
  edges and middle);
- the first `expansion * channels` hidden channels of the expansion,
  depthwise and projection weights.

So every candidate's weights ARE a slice of the superkernel (a view of the
same storage): training one candidate trains the overlapping part of all
the others. Activations and the parameter-free operations have no weights.

`superkernel_ops(channels)` is one edge's candidates: an `MBConv` whose
`kernel` is one of 9 shapes (1x1; 3x3 of dilation 1 to 4; 5x5 of dilation
1 and 2; 7x7; 9x9: every one inside a 9x9 superkernel), `expansion` one of
1..6 and `activation` one of relu and silu (9 x 6 x 2 = 108 convolutions),
plus DARTS's 4 parameter-free operations (none, skip_connect, 3x3 max and
average pooling): 112 candidate operations per edge, 14 times the 8 of the
DARTS space (`DARTS_OPS`). `superkernel_space` puts them on every edge of a
`cell_space` cell; `darts_cell_ops` gives the 8 DARTS operations for the
same cell, to compare the two spaces on one skeleton.

Any automorph algorithm searches such a space: `am.materialize(space, dna)`
builds a standalone network (independent training), and `SuperkernelNet`
shares weights: it runs the path of a DNA (`set_path`) or materializes the
DNA's child network whose parameters are views of the shared weights
(`child`). `superkernel_search` trains the shared weights on the paths an
algorithm proposes, by default NASIB's budget-aware schedule with its
budget set to the number of steps.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from automorph.algorithms import NASIB, SearchAlgorithm
from automorph.geno import DNA, Space, join
from automorph.hyper import DynamicSpace, HyperValue, OneOf, Template, oneof
from automorph.nn._cells import cell_space
from automorph.nn._darts import darts_op
from automorph.nn._data import ImageData
from automorph.nn._genotype import DARTS_OPS
from automorph.nn._modules import Identity, Pool, Zero, own_searchable
from automorph.nn._search import SearchResult, final_choice
from automorph.nn._train import Progress, _input_check, batches
from automorph.symbolic import Key, KeyPath, Symbolic, rebuild
from automorph.utils import AutomorphError, FieldValueError, SearchSpaceError

KERNELS: tuple[str, ...] = (
    "1x1",
    "3x3",
    "3x3_d2",
    "3x3_d3",
    "3x3_d4",
    "5x5",
    "5x5_d2",
    "7x7",
    "9x9",
)
"""The kernel shapes of `superkernel_ops`: every odd square kernel and dilation whose
reach fits a 9x9 superkernel ("KxK" or "KxK_dD", dilation D)."""

EXPANSIONS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
"""The expansion ratios of `superkernel_ops` (hidden channels over block channels)."""

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "relu6": F.relu6,
    "silu": F.silu,
    "hardswish": F.hardswish,
}
"""The activations an `MBConv` may use, by name (`superkernel_ops` searches relu and silu)."""

FREE_OPS: tuple[str, ...] = ("none", "skip_connect", "max_pool_3x3", "avg_pool_3x3")
"""The parameter-free DARTS operations `superkernel_ops` adds to the convolutions."""


class SuperkernelError(AutomorphError, ValueError):
    """A superkernel block or space is misconfigured (a bad kernel, width or activation)."""


_KERNEL = re.compile(r"([0-9]+)x([0-9]+)(?:_d([0-9]+))?")


@functools.lru_cache(maxsize=256)
def kernel_shape(kernel: str) -> tuple[int, int]:
    """The (size, dilation) of a kernel written "KxK" or "KxK_dD".

    Raises:
        SuperkernelError: If `kernel` is not such a string, the size is even
            or not square, the dilation is below 1, or a 1x1 kernel is
            dilated (the same operation as "1x1").

    >>> kernel_shape("3x3"), kernel_shape("5x5_d2")
    ((3, 1), (5, 2))
    """
    match = _KERNEL.fullmatch(kernel) if isinstance(kernel, str) else None
    if match is None:
        raise SuperkernelError(
            f"a kernel is written 'KxK' or 'KxK_dD' (size K, dilation D), got {kernel!r}"
        )
    size, dilation = int(match[1]), int(match[3] or 1)
    if match[1] != match[2] or size % 2 == 0 or size < 1:
        raise SuperkernelError(f"kernel {kernel!r}: the size must be square and odd")
    if dilation < 1 or (size == 1 and dilation > 1):
        raise SuperkernelError(
            f"kernel {kernel!r}: the dilation must be at least 1 (and 1 for a 1x1 kernel)"
        )
    return size, dilation


def kernel_reach(kernel: str) -> int:
    """The side of the square a kernel spans, `dilation * (size - 1) + 1`.

    >>> kernel_reach("3x3_d4")
    9
    """
    size, dilation = kernel_shape(kernel)
    return dilation * (size - 1) + 1


def _check_block(channels: Any, expansion: Any, activation: Any, where: str) -> None:
    if type(channels) is not int or channels < 1:
        raise SuperkernelError(f"{where}: `channels` must be an int >= 1, got {channels!r}")
    if type(expansion) is not int or expansion < 1:
        raise SuperkernelError(f"{where}: `expansion` must be an int >= 1, got {expansion!r}")
    if activation not in ACTIVATIONS:
        raise SuperkernelError(
            f"{where}: unknown activation {activation!r}; the activations are {list(ACTIVATIONS)}"
        )


def _mbconv(
    x: torch.Tensor,
    expand: torch.Tensor,
    depthwise: torch.Tensor,
    project: torch.Tensor,
    bn: nn.Module,
    dilation: int,
    activation: str,
) -> torch.Tensor:
    act = ACTIVATIONS[activation]
    h = F.conv2d(act(x), expand)
    pad = dilation * (depthwise.shape[-1] - 1) // 2
    h = F.conv2d(act(h), depthwise, padding=pad, dilation=dilation, groups=h.shape[1])
    return bn(F.conv2d(h, project))  # type: ignore[no-any-return]


def _layers(channels: int, hidden: int, size: int) -> tuple[nn.Conv2d, nn.Conv2d, nn.Conv2d]:
    return (
        nn.Conv2d(channels, hidden, 1, bias=False),
        nn.Conv2d(hidden, hidden, size, groups=hidden, bias=False),
        nn.Conv2d(hidden, channels, 1, bias=False),
    )


class _MBConv(nn.Module):
    def __init__(
        self, channels: int, kernel: str = "3x3", expansion: int = 1, activation: str = "relu"
    ) -> None:
        super().__init__()
        size, self.dilation = kernel_shape(kernel)
        _check_block(channels, expansion, activation, "MBConv")
        self.act = activation
        self.expand, self.depthwise, self.project = _layers(channels, expansion * channels, size)
        self.bn = nn.BatchNorm2d(channels, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _mbconv(
            x,
            self.expand.weight,
            self.depthwise.weight,
            self.project.weight,
            self.bn,
            self.dilation,
            self.act,
        )


MBConv = own_searchable(_MBConv, "MBConv")
"""An inverted-bottleneck convolution block (searchable), `channels` in and out:
the activation, a 1x1 convolution to `expansion * channels`, the activation, a
depthwise convolution of shape `kernel` ("3x3", "5x5_d2": size and dilation, same
output size), a 1x1 projection back, batch norm without affine weights. No residual
(a cell adds its edges). With hyper-values in `kernel`, `expansion` and
`activation`, one block is a choice among operations sharing a `SuperKernel`."""


class SuperKernel(nn.Module):
    """The weights every `MBConv` of `channels` channels within the bounds shares.

    Holds the expansion, depthwise and projection weights of the largest
    block (`max_kernel` x `max_kernel`, `max_expansion * channels` hidden
    channels) and a batch norm. `weights(kernel, expansion)` are a block's
    slices of them (see the module docstring), and `forward` runs that block.

    Args:
        channels: The blocks' input and output channels.
        max_kernel: The side of the depthwise superkernel (odd).
        max_expansion: The widest expansion ratio.

    Raises:
        SuperkernelError: If a size is below 1 or `max_kernel` is even.

    >>> sk = SuperKernel(4, max_kernel=5, max_expansion=2)
    >>> [tuple(w.shape) for w in sk.weights("3x3", 1)]
    [(4, 4, 1, 1), (4, 1, 3, 3), (4, 4, 1, 1)]
    >>> sk(torch.zeros(2, 4, 8, 8), "5x5", 2).shape
    torch.Size([2, 4, 8, 8])
    """

    def __init__(self, channels: int, max_kernel: int = 9, max_expansion: int = 6) -> None:
        super().__init__()
        _check_block(channels, max_expansion, "relu", "SuperKernel")
        if type(max_kernel) is not int or max_kernel < 1 or max_kernel % 2 == 0:
            raise SuperkernelError(f"`max_kernel` must be an odd int >= 1, got {max_kernel!r}")
        self.channels, self.max_kernel, self.max_expansion = channels, max_kernel, max_expansion
        self.expand, self.depthwise, self.project = _layers(
            channels, max_expansion * channels, max_kernel
        )
        self.bn = nn.BatchNorm2d(channels, affine=False)

    def weights(
        self, kernel: str, expansion: int, *, detach: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The expansion, depthwise and projection weights of the block
        (`kernel`, `expansion`): views of the superkernel's (detached: no
        autograd history, the same storage).

        Raises:
            SuperkernelError: If the kernel reaches beyond `max_kernel` or the
                expansion exceeds `max_expansion`.
        """
        size, dilation = kernel_shape(kernel)
        if kernel_reach(kernel) > self.max_kernel or not 1 <= expansion <= self.max_expansion:
            raise SuperkernelError(
                f"block ({kernel}, expansion {expansion}) does not fit the superkernel "
                f"({self.max_kernel}x{self.max_kernel}, expansion {self.max_expansion})"
            )
        hidden = expansion * self.channels
        middle, half = self.max_kernel // 2, dilation * (size - 1) // 2
        taps = slice(middle - half, middle + half + 1, dilation)
        expand, depthwise, project = (
            (w.detach() if detach else w)
            for w in (self.expand.weight, self.depthwise.weight, self.project.weight)
        )
        return expand[:hidden], depthwise[:hidden, :, taps, taps], project[:, :hidden]

    def forward(
        self, x: torch.Tensor, kernel: str = "3x3", expansion: int = 1, activation: str = "relu"
    ) -> torch.Tensor:
        expand, depthwise, project = self.weights(kernel, expansion)
        return _mbconv(x, expand, depthwise, project, self.bn, kernel_shape(kernel)[1], activation)


# --- the weight-sharing network ----------------------------------------------------------------


class _Choice(nn.Module):
    """One choice among modules: runs its active candidate."""

    def __init__(self, decision_id: str, candidates: list[nn.Module]) -> None:
        super().__init__()
        self.decision_id = decision_id
        self.candidates = nn.ModuleList(candidates)
        self.active = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.candidates[self.active](x)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Field:
    decision_id: str | None  # None: a fixed value
    values: tuple[Any, ...]


class _SharedBlock(nn.Module):
    """An `MBConv` of a space, run on (a slice of) a superkernel."""

    def __init__(self, superkernel: SuperKernel, fields: dict[str, _Field]) -> None:
        super().__init__()
        self.superkernel = superkernel
        self.fields = fields
        self.setting = {name: field.values[0] for name, field in fields.items()}

    def setting_for(self, dna: DNA) -> dict[str, Any]:
        out = dict(self.setting)
        for name, field in self.fields.items():
            if field.decision_id is not None and field.decision_id in dna:
                out[name] = field.values[int(dna[field.decision_id])]
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.superkernel(x, **self.setting)  # type: ignore[no-any-return]


def _child_location(location: str, key: Key) -> str:
    keys = (*KeyPath.parse(location).keys, key) if location else (key,)
    return str(KeyPath._trusted(keys))


class SuperkernelNet(nn.Module):
    """The weight-sharing network of a space with superkernel blocks.

    Every `MBConv` of the space runs on a `SuperKernel` sized for all the
    blocks its hyper-values allow; the `MBConv` candidates of one `am.oneof`
    share one superkernel (they must have the same channels). Other
    candidates of a choice hold their own weights, once. The DNA are those
    of `am.dna_spec(space)`, so any automorph algorithm proposes them.

    Args:
        space: A symbolic search space of modules: `am.oneof`s among modules
            and `MBConv`s whose `kernel`, `expansion` and `activation` may be
            `am.oneof`s of values.

    Raises:
        SearchSpaceError: If the space is define-by-run, has no decision, or
            holds a hyper-value that is not a choice among modules or of an
            `MBConv` field (a searched width outside `MBConv`, a float), or
            the `MBConv`s of one choice differ in channels.
        SuperkernelError: If an `MBConv` value is malformed (see `MBConv`).

    >>> import automorph as am
    >>> space = superkernel_space(4, nodes=1, num_classes=2, input_shape=(1, 8, 8))
    >>> net = SuperkernelNet(space)
    >>> net.set_path(net.spec.first_dna())
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 2])
    >>> len(net.superkernels)
    1
    """

    def __init__(self, space: Any) -> None:
        super().__init__()
        if isinstance(space, DynamicSpace):
            raise SearchSpaceError(
                "superkernel weight sharing needs a symbolic space; a define-by-run space "
                "cannot share weights"
            )
        self.__dict__["space"] = space  # an abstract space is no module
        self.spec: Space = Template(space).spec
        self._choices: dict[str, _Choice] = {}
        self._blocks: list[_SharedBlock] = []
        self._superkernels: dict[str, SuperKernel] = {}
        net = self._build(space, "", "")
        if not self.spec.decision_points():
            raise SearchSpaceError(f"the space has no decision to search: {space!r}")
        if not isinstance(net, nn.Module):
            raise SearchSpaceError(f"the space is not a module, got {type(net).__name__}")
        self.net = net

    # --- building --------------------------------------------------------------------

    def _build(self, value: Any, prefix: str, location: str) -> Any:
        if isinstance(value, OneOf):
            return self._choice(value, join(prefix, location))
        if isinstance(value, _MBConv):
            return self._block(value, prefix, location, None)
        if isinstance(value, HyperValue):
            raise SearchSpaceError(
                f"superkernels share weights across choices among modules and `MBConv` "
                f"fields; {type(value).__name__} {value!r} is neither (search it by "
                "independent training)",
                path=join(prefix, location),
            )
        if isinstance(value, Symbolic):
            built = {
                key: self._build(child, prefix, _child_location(location, key))
                for key, child in value.sym_items()
            }
            return rebuild(value, built, [k for k, c in value.sym_items() if isinstance(c, OneOf)])
        return value

    def _fields(self, block: Any, prefix: str, location: str) -> dict[str, _Field]:
        items = dict(block.sym_items())
        where = join(prefix, location) or "the space"
        if isinstance(items["channels"], HyperValue):
            raise SearchSpaceError(
                "an MBConv's `channels` cannot be searched (its `expansion` can)", path=where
            )
        fields: dict[str, _Field] = {}
        for name in ("kernel", "expansion", "activation"):
            value = items[name]
            if isinstance(value, OneOf):
                values = tuple(value.candidates)
                decision = join(prefix, _child_location(location, name))
            elif isinstance(value, HyperValue):
                raise SearchSpaceError(
                    f"an MBConv's `{name}` must be a value or an `am.oneof` of values, "
                    f"got {type(value).__name__}",
                    path=where,
                )
            else:
                values, decision = (value,), None
            for v in values:
                if name == "kernel":
                    kernel_shape(v)
                _check_block(
                    items["channels"],
                    v if name == "expansion" else 1,
                    v if name == "activation" else "relu",
                    f"MBConv at {where}",
                )
            fields[name] = _Field(decision, values)
        fields["channels"] = _Field(None, (items["channels"],))
        return fields

    def _block(
        self, block: Any, prefix: str, location: str, superkernel: SuperKernel | None
    ) -> _SharedBlock:
        fields = self._fields(block, prefix, location)
        channels = fields.pop("channels").values[0]
        if superkernel is None:
            superkernel = SuperKernel(
                channels,
                max(kernel_reach(k) for k in fields["kernel"].values),
                max(fields["expansion"].values),
            )
            self._superkernels[join(prefix, location)] = superkernel
        shared = _SharedBlock(superkernel, fields)
        self._blocks.append(shared)
        return shared

    def _choice(self, hyper: OneOf, decision_id: str) -> _Choice:
        blocks = [
            (i, self._fields(c, f"{decision_id}[={i}]", ""))
            for i, c in enumerate(hyper.candidates)
            if isinstance(c, _MBConv)
        ]
        superkernel = None
        if blocks:
            widths = {f["channels"].values[0] for _, f in blocks}
            if len(widths) > 1:
                raise SearchSpaceError(
                    f"the MBConv candidates of one choice share a superkernel and need the "
                    f"same channels, got {sorted(widths)}",
                    path=decision_id,
                )
            superkernel = SuperKernel(
                widths.pop(),
                max(kernel_reach(k) for _, f in blocks for k in f["kernel"].values),
                max(e for _, f in blocks for e in f["expansion"].values),
            )
            self._superkernels[decision_id] = superkernel
        candidates: list[nn.Module] = []
        for index, candidate in enumerate(hyper.candidates):
            prefix = f"{decision_id}[={index}]"
            if isinstance(candidate, _MBConv):
                module: Any = self._block(candidate, prefix, "", superkernel)
            else:
                module = self._build(candidate, prefix, "")
            if not isinstance(module, nn.Module):
                raise SearchSpaceError(
                    f"every candidate of a choice must be a torch.nn.Module; candidate "
                    f"{index} is {type(module).__name__} ({module!r})",
                    path=decision_id,
                )
            candidates.append(module)
        choice = _Choice(decision_id, candidates)
        self._choices[decision_id] = choice
        return choice

    # --- paths and children ----------------------------------------------------------------

    @property
    def superkernels(self) -> dict[str, SuperKernel]:
        """The superkernels, by the id of the choice (or location of the block) they serve."""
        return dict(self._superkernels)

    def set_path(self, dna: DNA) -> None:
        """Runs the operations `dna` picks, on the shared weights.

        Raises:
            InvalidDNAError: If `dna` does not fit the space.
        """
        self.spec.validate(dna)
        for decision_id, choice in self._choices.items():
            if decision_id in dna:
                choice.active = int(dna[decision_id])
        for block in self._blocks:
            block.setting = block.setting_for(dna)

    def child(self, dna: DNA, *, share: bool = True) -> nn.Module:
        """The network `dna` picks (`am.materialize(space, dna)`), on the shared weights.

        With `share`, its parameters and batch-norm buffers are the
        supernet's (an `MBConv`'s are views of its superkernel's slices), so
        training the child trains the supernet and the reverse; without, they
        are copies (the child inherits the weights and goes its own way).

        Raises:
            InvalidDNAError: If `dna` does not fit the space.
        """
        self.spec.validate(dna)
        child: nn.Module = Template(self.space).materialize(dna)
        self._tie(child, self.net, dna, "net")
        if not share:
            for module in child.modules():
                for name, p in module._parameters.items():
                    if p is not None:
                        module._parameters[name] = nn.Parameter(p.detach().clone(), p.requires_grad)
                for name, b in module._buffers.items():
                    if b is not None:
                        module._buffers[name] = b.clone()
        return child

    def _tie(self, child: nn.Module, shared: nn.Module, dna: DNA, where: str) -> None:
        if isinstance(shared, _Choice):
            picked = shared.candidates[int(dna[shared.decision_id])]
            self._tie(child, picked, dna, where)
            return
        if isinstance(shared, _SharedBlock):
            if not isinstance(child, _MBConv):
                raise SearchSpaceError(
                    f"the child holds a {type(child).__name__} where the supernet has an MBConv",
                    path=where,
                )
            setting = shared.setting_for(dna)
            sk = shared.superkernel
            views = sk.weights(setting["kernel"], setting["expansion"], detach=True)
            for layer, view in zip(("expand", "depthwise", "project"), views, strict=True):
                conv = getattr(child, layer)
                assert conv.weight.shape == view.shape, (where, layer)
                conv.weight = nn.Parameter(view)
            child.bn._buffers.update(sk.bn._buffers)  # the running statistics
            return
        if type(child) is not type(shared):
            raise SearchSpaceError(
                f"the child's {type(child).__name__} does not match the supernet's "
                f"{type(shared).__name__}",
                path=where,
            )
        for name, p in shared._parameters.items():
            child._parameters[name] = p
        for name, b in shared._buffers.items():
            child._buffers[name] = b
        for name, sub in shared._modules.items():
            if sub is not None:
                self._tie(child._modules[name], sub, dna, f"{where}.{name}")  # type: ignore[arg-type]

    def forward(self, *args: Any) -> Any:
        return self.net(*args)


# --- spaces ------------------------------------------------------------------------------------


def superkernel_ops(
    channels: int,
    *,
    kernels: Sequence[str] = KERNELS,
    expansions: Sequence[int] = EXPANSIONS,
    activations: Sequence[str] = ("relu", "silu"),
    free_ops: bool = True,
) -> list[Any]:
    """One edge's candidates: an `MBConv` choosing its kernel, expansion and
    activation (one superkernel), and with `free_ops` the parameter-free DARTS
    operations (none, skip_connect, max and average 3x3 pooling).

    With the defaults, `9 * 6 * 2 + 4 = 112` operations per edge (see the
    module docstring); a field with one value is fixed, not a decision.

    Raises:
        SuperkernelError: If a list is empty, repeats a value, or holds a
            malformed kernel, expansion or activation.

    >>> import automorph as am
    >>> am.dna_spec(am.oneof(superkernel_ops(8))).size
    112
    """
    lists = {"kernels": kernels, "expansions": expansions, "activations": activations}
    for name, values in lists.items():
        if not values or len(set(values)) != len(values):
            raise SuperkernelError(f"`{name}` must list distinct values, got {values!r}")
    for k in kernels:
        kernel_shape(k)
    for e in expansions:
        _check_block(channels, e, "relu", "superkernel_ops")
    for a in activations:
        _check_block(channels, 1, a, "superkernel_ops")

    def field(values: Sequence[Any]) -> Any:
        return oneof(list(values)) if len(values) > 1 else values[0]

    block = MBConv(channels, field(kernels), field(expansions), field(activations))
    free = [Zero(), Identity(), Pool("max"), Pool("avg")] if free_ops else []
    return [block, *free]


def superkernel_space(
    channels: int = 8,
    nodes: int = 3,
    num_classes: int = 10,
    input_shape: tuple[int, int, int] = (1, 28, 28),
    **options: Any,
) -> Any:
    """A `cell_space` network whose every edge chooses among `superkernel_ops(channels,
    **options)`: 112 operations per edge by default, `112 ** 6` cells of 3 nodes.

    >>> import automorph as am
    >>> am.dna_spec(superkernel_space(4, nodes=2)).size == 112 ** 3
    True
    """
    ops = superkernel_ops(channels, **options)
    return cell_space(channels, nodes, num_classes, input_shape, ops=ops)


class _DartsOp(nn.Module):
    def __init__(self, op: str, channels: int) -> None:
        super().__init__()
        self.body = darts_op(op, channels, stride=1, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # type: ignore[no-any-return]


DartsOp = own_searchable(_DartsOp, "DartsOp")
"""DARTS operation `op` (one of `DARTS_OPS`) on `channels` channels at stride 1, batch
norms without affine weights as in the DARTS search network (searchable): a
candidate of a `cell_space` edge."""


def darts_cell_ops(channels: int) -> list[Any]:
    """The 8 DARTS operations as one edge's candidates (for `cell_space(ops=...)`).

    >>> [op.sym_get("op") for op in darts_cell_ops(4)][:3]
    ['none', 'max_pool_3x3', 'avg_pool_3x3']
    """
    return [DartsOp(name, channels) for name in DARTS_OPS]


# --- search ------------------------------------------------------------------------------------


@dataclass
class SuperkernelResult(SearchResult):
    """A `SearchResult` of `superkernel_search`; `shared` is the trained
    `SuperkernelNet` (`shared.child(dna)` gives the found network on its weights)."""

    shared: SuperkernelNet | None = None


@torch.no_grad()
def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((net(x).argmax(1) == y).float().mean())


def superkernel_search(
    space: Any,
    train: ImageData,
    valid: ImageData,
    algorithm: SearchAlgorithm | None = None,
    *,
    steps: int = 500,
    batch_size: int = 64,
    lr: float = 0.05,
    reward_batch: int = 256,
    final_candidates: int = 8,
    seed: int = 0,
    progress: bool = False,
) -> SuperkernelResult:
    """Weight-sharing search of a space on a `SuperkernelNet`.

    Each step the algorithm proposes a DNA (one query), the shared weights
    train one minibatch on that path, and the path's accuracy on a
    validation batch is the algorithm's reward. At the end the
    `final_candidates` best distinct paths of the second half are scored on
    all of `valid` and the best is chosen. The algorithm defaults to NASIB
    with `budget=steps`: its exploration falls as the steps are spent.

    Raises:
        FieldValueError: If a count is below 1, or a NASIB's `budget` is not `steps`.
        SearchSpaceError: If the space cannot share weights (see `SuperkernelNet`).
        DataShapeError: If the data do not fit the network.
    """
    for name, value in (
        ("steps", steps),
        ("reward_batch", reward_batch),
        ("final_candidates", final_candidates),
    ):
        if value < 1:
            raise FieldValueError(f"`{name}` ({value}) must be at least 1", path=name)
    if isinstance(algorithm, NASIB) and algorithm.budget != steps:
        raise FieldValueError(
            f"NASIB's `budget` ({algorithm.budget}) must be `steps` ({steps}): its schedule "
            "is a function of the fraction of the budget spent",
            path="algorithm.budget",
        )
    start = time.process_time()
    torch.manual_seed(seed)
    net = SuperkernelNet(space)
    _input_check(net.net, train, "train")
    _input_check(net.net, valid, "valid")
    algorithm = algorithm if algorithm is not None else NASIB(budget=steps, seed=seed)
    algorithm.setup(net.spec)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=3e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    train_stream = batches(train, batch_size, generator)
    valid_stream = batches(valid, min(reward_batch, len(valid)), generator)
    shown = Progress("superkernel", steps) if progress else None
    history: list[tuple[DNA, float]] = []
    net.train()
    for step in range(steps):
        dna = algorithm.propose()
        net.set_path(dna)
        x, y = next(train_stream)
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        reward = _accuracy(net, *next(valid_stream))
        algorithm.feedback(dna, reward)
        history.append((dna, reward))
        if shown is not None:
            shown.update(step, loss=loss.item(), reward=reward)
    dna, score = final_choice(net, history, valid, final_candidates)
    model = Template(space).materialize(dna)
    seconds = time.process_time() - start
    return SuperkernelResult(dna, model, score, history, seconds, None, shared=net)
