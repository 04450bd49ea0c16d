"""Architecture search over one space: weight sharing (ENAS, DARTS) or not.

`enas_search` trains a `Supernet` on paths proposed by any automorph
algorithm (rewards are the supernet's accuracy on a validation batch);
`darts_search` trains architecture weights by gradient (first order, or
DARTS's second-order approximation, `architecture_gradient`) and derives the
choice from them; `independent_search` trains every proposal from scratch.
`search(..., method=...)` switches between them with one argument. On a
`darts_space` the weight-sharing searches use a `DartsSupernet`. The
weight-sharing searches take a `device` (CUDA when present by default) and
`amp` (bfloat16 autocast).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import torch
from torch import nn

from automorph.algorithms import Random, SearchAlgorithm
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.nn._darts import genotype_from_dna
from automorph.nn._data import DataShapeError, ImageData
from automorph.nn._genotype import Genotype
from automorph.nn._supernet import DartsSupernet, Supernet, is_darts_space
from automorph.nn._train import Progress, _input_check, batches, evaluate, fit
from automorph.utils import FieldValueError, SearchSpaceError

AnySupernet = Supernet | DartsSupernet


class PathNet(Protocol):
    """A weight-sharing network that runs one path (a DNA) at a time: the
    supernets here and `SuperkernelNet`."""

    def set_path(self, dna: DNA) -> None: ...
    def parameters(self) -> Any: ...
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class SearchResult:
    """What an architecture search found.

    Attributes:
        dna: The chosen architecture's DNA.
        model: The chosen architecture, materialized (untrained for weight
            sharing; trained for independent search).
        score: The validation accuracy the choice was made on.
        history: Every (DNA, reward) the search algorithm received.
        seconds: CPU seconds the search took (`time.process_time`).
        supernet: The trained supernet (weight-sharing methods only).
        genotype: The chosen cells in DARTS's notation (searches of a
            `darts_space` only).
    """

    dna: DNA
    model: nn.Module
    score: float
    history: list[tuple[DNA, float]] = field(default_factory=list)
    seconds: float = 0.0
    supernet: AnySupernet | None = None
    genotype: Genotype | None = None


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise FieldValueError(f"`{name}` ({value}) must be at least 1", path=name)


def _check_data(model: nn.Module, train: ImageData, valid: ImageData) -> None:
    """The check `fit` and `evaluate` make, on both splits, before any training."""
    for data, where in ((train, "train"), (valid, "valid")):
        _input_check(model, data, where)
        if isinstance(model, DartsSupernet) and data.shape[0] != model.in_channels:
            raise DataShapeError(
                f"the DARTS space takes {model.in_channels}-channel images, got {data.shape[0]} "
                f"channels (shape {data.shape})",
                path=f"{where}.x",
            )


def _weight_sharing(space: Any) -> AnySupernet:
    """The supernet of `space`: a `DartsSupernet` for a `darts_space`, else a `Supernet`."""
    return DartsSupernet(space) if is_darts_space(space) else Supernet(space)


def _network(supernet: AnySupernet) -> nn.Module:
    return supernet.net if isinstance(supernet, Supernet) else supernet


def resolve_device(device: torch.device | str | None) -> torch.device:
    """`device` as a `torch.device`; None is CUDA when present, else the CPU.

    Raises:
        FieldValueError: If `device` is not a device name, or names a CUDA
            device that is not there.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise FieldValueError(f"`device` {device!r} is not a torch device: {error}") from None
    if resolved.type == "cuda" and (
        not torch.cuda.is_available()
        or (resolved.index is not None and resolved.index >= torch.cuda.device_count())
    ):
        raise FieldValueError(
            f"`device` {str(device)!r}: no such CUDA device here "
            f"(torch.cuda.device_count() is {torch.cuda.device_count()})",
            path="device",
        )
    return resolved


def _autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on `device` when `amp` (no gradient scaling needed), else nothing."""
    if not amp:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _on(
    batch: Batch,
    device: torch.device,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Batch:
    x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
    return (transform(x) if transform is not None else x), y


@torch.no_grad()
def _batch_accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((net(x).argmax(1) == y).float().mean())


def enas_search(
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
    device: torch.device | str | None = None,
    amp: bool = False,
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """ENAS: shared weights trained on paths an automorph algorithm proposes.

    Each step the algorithm proposes a DNA, the supernet trains one
    minibatch on that path, and the path's accuracy on a validation batch
    is the algorithm's reward. At the end the `final_candidates` best
    distinct paths are scored on all of `valid` and the best is chosen.
    A `darts_space` is searched on its `DartsSupernet`. The supernet runs on
    `device` (see `resolve_device`), under bfloat16 autocast if `amp`.

    Raises:
        SearchSpaceError: If the space cannot share weights (see `Supernet`).
        DataShapeError: If the data do not fit the model.
        FieldValueError: If `device` is not a device here.
    """
    _check_positive(steps=steps, reward_batch=reward_batch, final_candidates=final_candidates)
    dev = resolve_device(device)
    start = time.process_time()
    torch.manual_seed(seed)
    supernet = _weight_sharing(space)
    _check_data(_network(supernet), train, valid)
    supernet.to(dev)
    algorithm = algorithm if algorithm is not None else Random(seed=seed)
    algorithm.setup(supernet.spec)
    optimizer = torch.optim.SGD(
        supernet.weight_parameters(), lr=lr, momentum=0.9, weight_decay=3e-4
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    train_stream = batches(train, batch_size, generator)
    valid_stream = batches(valid, min(reward_batch, len(valid)), generator)
    shown = Progress("enas", steps) if progress else None
    history: list[tuple[DNA, float]] = []
    supernet.train()
    for step in range(steps):
        dna = algorithm.propose()
        supernet.set_path(dna)
        x, y = _on(next(train_stream), dev)
        with _autocast(dev, amp):
            loss = nn.functional.cross_entropy(supernet(x), y)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(supernet.weight_parameters(), 5.0)
        optimizer.step()
        schedule.step()
        with _autocast(dev, amp):
            reward = _batch_accuracy(supernet, *_on(next(valid_stream), dev))
        algorithm.feedback(dna, reward)
        history.append((dna, reward))
        if shown is not None:
            best = max(r for _, r in history[-50:])
            shown.update(step, loss=loss.item(), reward=reward, best50=best)
    dna, score = final_choice(supernet, history, valid, final_candidates)
    genotype = genotype_from_dna(dna, space) if isinstance(supernet, DartsSupernet) else None
    return _result(space, supernet, dna, score, history, start, dev, genotype)


def _result(
    space: Any,
    supernet: AnySupernet,
    dna: DNA,
    score: float,
    history: list[tuple[DNA, float]],
    start: float,
    device: torch.device,
    genotype: Genotype | None,
) -> SearchResult:
    model = Template(space).materialize(dna).to(device)
    seconds = time.process_time() - start
    return SearchResult(dna, model, score, history, seconds, supernet, genotype)


def final_choice(
    supernet: PathNet, history: list[tuple[DNA, float]], valid: ImageData, count: int
) -> tuple[DNA, float]:
    recent = sorted(history[len(history) // 2 :], key=lambda item: -item[1])
    chosen: list[DNA] = []
    for dna, _ in recent:
        if all(dna != other for other in chosen):
            chosen.append(dna)
        if len(chosen) == count:
            break
    scored = []
    for dna in chosen:
        supernet.set_path(dna)
        scored.append((shared_accuracy(supernet, valid), dna))
    score, best = max(scored, key=lambda item: item[0])
    return best, score


@torch.no_grad()
def shared_accuracy(supernet: PathNet, data: ImageData) -> float:
    """The accuracy of `supernet`'s current path on `data`, on its device."""
    # Batch statistics (train mode) as in ENAS: the running ones mix all paths.
    device = next(supernet.parameters()).device
    correct = 0
    for start in range(0, len(data), 500):
        x, y = _on((data.x[start : start + 500], data.y[start : start + 500]), device)
        correct += int((supernet(x).argmax(1) == y).sum())
    return correct / len(data)


def darts_search(
    space: Any,
    train: ImageData,
    valid: ImageData,
    *,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 0.05,
    lr_min: float = 0.0,
    momentum: float = 0.9,
    weight_decay: float = 3e-4,
    arch_lr: float = 3e-3,
    arch_weight_decay: float = 1e-3,
    warmup: int | None = None,
    order: int = 1,
    xi: float | None = None,
    grad_clip: float = 5.0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    amp: bool = False,
    seed: int = 0,
    progress: bool | Progress = False,
) -> SearchResult:
    """DARTS: weights on `train`, architecture weights on `valid`, by gradient.

    Every choice mixes its candidates by softmax(alpha). Each step updates
    the alphas (Adam, betas (0.5, 0.999)) by the architecture gradient of a
    validation batch (`architecture_gradient` of `order` 1 or 2; the second
    order unrolls the weight step the SGD optimizer is about to take, of
    size `xi`, by default its current learning rate), then the weights (SGD
    with momentum, cosine decay from `lr` to `lr_min`, gradient norm clipped
    to `grad_clip`) on the same training batch, as DARTS's Algorithm 1. The
    first `warmup` steps (default a quarter; the paper uses 0) train the
    weights alone, so that parameter-free candidates do not win while the
    convolutions are still untrained. The choice is the largest alpha of
    every active decision; on a `darts_space` (searched on a
    `DartsSupernet`), the paper's rule: each node's 2 strongest incoming
    edges, by their strongest operation other than "none".

    The paper's CIFAR-10 settings are `lr=0.025, arch_lr=3e-4, warmup=0,
    batch_size=64` for 50 epochs (`benchmarks/darts_cifar10.py` runs them).

    Args:
        transform: Applied to every batch (on `device`) before it is used,
            e.g. a random crop and flip.
        device: Where the supernet runs (see `resolve_device`); the data
            move there a batch at a time (keep them there for speed).
        amp: Runs the forward passes under bfloat16 autocast (the
            second-order finite differences excepted, see
            `architecture_gradient`).
        progress: True prints a line every 50 steps; a `Progress` prints
            with its own settings.

    Raises:
        SearchSpaceError: If the space cannot share weights (see `Supernet`).
        DataShapeError: If the data do not fit the model.
        FieldValueError: If `order` is not 1 or 2, `steps` below 1, or
            `device` not a device here.
    """
    _check_positive(steps=steps)
    if order not in (1, 2):
        raise FieldValueError(f"`order` must be 1 or 2, got {order!r}", path="order")
    dev = resolve_device(device)
    start = time.process_time()
    torch.manual_seed(seed)
    supernet = _weight_sharing(space)
    _check_data(_network(supernet), train, valid)
    supernet.to(dev)
    supernet.relax()
    weights = torch.optim.SGD(
        supernet.weight_parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(weights, steps, eta_min=lr_min)
    arch = torch.optim.Adam(
        supernet.arch_parameters(), lr=arch_lr, betas=(0.5, 0.999), weight_decay=arch_weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    train_stream = batches(train, batch_size, generator)
    valid_stream = batches(valid, batch_size, generator)
    shown = progress if isinstance(progress, Progress) else None
    shown = Progress("darts", steps) if progress is True else shown
    supernet.train()
    warmup = steps // 4 if warmup is None else warmup
    valid_loss = float("nan")
    for step in range(steps):
        x, y = _on(next(train_stream), dev, transform)
        if step >= warmup:
            grads, valid_loss = _architecture_gradient(
                supernet,
                (x, y),
                _on(next(valid_stream), dev, transform),
                order,
                weights.param_groups[0]["lr"] if xi is None else xi,
                weights,
                0.0,
                amp,
            )
            for param, grad in zip(supernet.arch_parameters(), grads, strict=True):
                param.grad = grad
            arch.step()
        with _autocast(dev, amp):
            loss = nn.functional.cross_entropy(supernet(x), y)
        weights.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(supernet.weight_parameters(), grad_clip)
        weights.step()
        schedule.step()
        if shown is not None:
            shown.update(step, loss=loss.item(), valid_loss=valid_loss)
    dna = supernet.derive()
    genotype = supernet.genotype() if isinstance(supernet, DartsSupernet) else None
    supernet.set_path(dna)
    score = shared_accuracy(supernet, valid)
    return _result(space, supernet, dna, score, [], start, dev, genotype)


def _loss(net: nn.Module, batch: Batch, amp: bool) -> torch.Tensor:
    x, y = batch
    with _autocast(x.device, amp):
        return nn.functional.cross_entropy(net(x).float(), y)


def _grads(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    found = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, found, strict=True)]


def architecture_gradient(
    supernet: AnySupernet,
    train_batch: Batch,
    valid_batch: Batch,
    *,
    order: int = 1,
    xi: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    weight_decay: float = 0.0,
    amp: bool = False,
) -> list[torch.Tensor]:
    """DARTS's gradient of the validation loss with respect to the architecture weights.

    `supernet` is a relaxed `Supernet` or `DartsSupernet`; the losses are
    the cross-entropy of its logits on each `(x, y)` batch. Order 1 is
    grad_alpha L_val(w, alpha). Order 2 is Liu et al.'s eq. 7, the gradient
    through one unrolled weight step w' = w - xi * grad_w L_train(w, alpha):

        grad_alpha L_val(w', alpha) - xi * H v,  v = grad_w' L_val(w', alpha),

    with the Hessian-vector product H v = grad^2_{alpha,w} L_train(w, alpha) v
    by the central difference of eq. 8 (w +- eps * v, eps = 0.01 / |v|). If
    `optimizer` (the weights' SGD) is given, the unrolled step is the one it
    would take: its momentum buffer times its momentum and its weight decay
    join the gradient (the paper: "when momentum is enabled ... the unrolled
    objective is modified accordingly"); else `weight_decay` does. With
    `amp`, the passes at w and w' run under bfloat16 autocast; the two at
    w +- eps * v run in full precision, which a perturbation of relative
    size about 0.01 / sqrt(#weights) needs. The weights (and buffers) are
    restored afterwards.

    Returns:
        One gradient per `arch_parameters()` (zeros for unused ones).

    Raises:
        FieldValueError: If `order` is not 1 or 2, or `xi` is negative.

    >>> import automorph as am
    >>> from automorph import nn as amnn
    >>> space = amnn.Sequential(amnn.Linear(3, 3), am.oneof([amnn.ReLU(), amnn.Identity()]))
    >>> net = amnn.Supernet(space)
    >>> net.relax()
    >>> batch = (torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    >>> [g.shape for g in architecture_gradient(net, batch, batch, order=2, xi=0.1)]
    [torch.Size([2])]
    """
    if order not in (1, 2):
        raise FieldValueError(f"`order` must be 1 or 2, got {order!r}", path="order")
    if xi < 0:
        raise FieldValueError(f"`xi` ({xi}) must be at least 0", path="xi")
    grads, _ = _architecture_gradient(
        supernet, train_batch, valid_batch, order, xi, optimizer, weight_decay, amp
    )
    return grads


def _architecture_gradient(
    supernet: AnySupernet,
    train_batch: Batch,
    valid_batch: Batch,
    order: int,
    xi: float,
    optimizer: torch.optim.Optimizer | None,
    weight_decay: float,
    amp: bool,
) -> tuple[list[torch.Tensor], float]:
    """`architecture_gradient`, and the validation loss (at w, or at w' for order 2)."""
    arch: list[torch.Tensor] = list(supernet.arch_parameters())
    if order == 1 or xi == 0:
        loss = _loss(supernet, valid_batch, amp)
        return _grads(loss, arch), float(loss.detach())
    weights: list[torch.Tensor] = [p for p in supernet.weight_parameters() if p.requires_grad]
    saved = [w.detach().clone() for w in weights]
    buffers = [b.detach().clone() for b in supernet.buffers()]
    try:
        # w' = w - xi * (the step the weights' optimizer would take)
        terms = _step_terms(optimizer, weights, weight_decay)
        train_grads = _grads(_loss(supernet, train_batch, amp), weights)
        with torch.no_grad():
            for w, g, (mom, decay, buf) in zip(weights, train_grads, terms, strict=True):
                step = g + decay * w if decay else g
                w.sub_(xi * (step + mom * buf if buf is not None and mom else step))
        loss = _loss(supernet, valid_batch, amp)
        grads = _grads(loss, arch + weights)
        d_alpha, v = grads[: len(arch)], grads[len(arch) :]
        norm = math.sqrt(sum(float((g.float() ** 2).sum()) for g in v))
        if norm == 0.0:
            return d_alpha, float(loss.detach())
        eps = 0.01 / norm
        sides = []
        for sign in (1.0, -1.0):  # eq. 8: grad_alpha L_train at w + eps v and w - eps v
            with torch.no_grad():
                for w, w0, g in zip(weights, saved, v, strict=True):
                    w.copy_(w0 + sign * eps * g)
            sides.append(_grads(_loss(supernet, train_batch, amp=False), arch))
        hessian_v = [(plus - minus) / (2 * eps) for plus, minus in zip(*sides, strict=True)]
        out = [da - xi * hv for da, hv in zip(d_alpha, hessian_v, strict=True)]
        return out, float(loss.detach())
    finally:
        with torch.no_grad():
            for w, value in zip(weights, saved, strict=True):
                w.copy_(value)
            for b, value in zip(supernet.buffers(), buffers, strict=True):
                b.copy_(value)


def _step_terms(
    optimizer: torch.optim.Optimizer | None, weights: list[torch.Tensor], weight_decay: float
) -> list[tuple[float, float, torch.Tensor | None]]:
    """(momentum, weight decay, momentum buffer) of each weight in `optimizer`'s step."""
    found: dict[int, tuple[float, float, torch.Tensor | None]] = {}
    if optimizer is not None:
        for group in optimizer.param_groups:
            for p in group["params"]:
                buf = optimizer.state.get(p, {}).get("momentum_buffer")
                found[id(p)] = (group.get("momentum", 0.0), group.get("weight_decay", 0.0), buf)
    return [found.get(id(w), (0.0, weight_decay, None)) for w in weights]


def independent_search(
    space: Any,
    train: ImageData,
    valid: ImageData,
    algorithm: SearchAlgorithm | None = None,
    *,
    trials: int = 10,
    steps: int = 100,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """Every proposal trained from scratch for `steps` and scored on `valid`.

    Any hyper-value may appear in the space (widths, not only modules).

    Raises:
        SearchSpaceError: If the space has no decision.
        DataShapeError: If the data do not fit the model.
    """
    _check_positive(trials=trials, steps=steps)
    start = time.process_time()
    template = Template(space)
    if not template.spec.decision_points():
        raise SearchSpaceError(f"the space has no decision to search: {space!r}")
    algorithm = algorithm if algorithm is not None else Random(seed=seed)
    algorithm.setup(template.spec)
    shown = Progress("independent", trials, every=1) if progress else None
    history: list[tuple[DNA, float]] = []
    best: tuple[float, DNA, nn.Module] | None = None
    for trial in range(trials):
        dna = algorithm.propose()
        torch.manual_seed(seed + trial)
        model = template.materialize(dna)
        _check_data(model, train, valid)
        model = fit(model, train, steps=steps, batch_size=batch_size, lr=lr, seed=seed)
        reward = evaluate(model, valid)
        algorithm.feedback(dna, reward)
        history.append((dna, reward))
        if best is None or reward > best[0]:
            best = (reward, dna, model)
        if shown is not None:
            shown.update(trial, accuracy=reward, best=best[0])
    assert best is not None
    return SearchResult(best[1], best[2], best[0], history, time.process_time() - start)


Method = Literal["enas", "darts", "independent"]


def search(
    space: Any,
    train: ImageData,
    valid: ImageData,
    algorithm: SearchAlgorithm | None = None,
    *,
    method: Method = "enas",
    budget: int = 300,
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """One entry point for the three searches of one space.

    `budget` counts training steps in total: ENAS and DARTS spend them on the
    supernet; independent search trains `budget // 50` proposals for 50
    steps each. `algorithm` drives ENAS and independent search (DARTS uses
    gradients).

    Every method checks `train` and `valid` against the space's
    `input_shape` before it trains, as `fit` does.

    Raises:
        FieldValueError: If `method` is not one of 'enas', 'darts', 'independent'.
        DataShapeError: If the data do not fit the space's `input_shape`.
    """
    if method == "enas":
        return enas_search(
            space, train, valid, algorithm, steps=budget, seed=seed, progress=progress
        )
    if method == "darts":
        return darts_search(space, train, valid, steps=budget, seed=seed, progress=progress)
    if method == "independent":
        return independent_search(
            space,
            train,
            valid,
            algorithm,
            trials=max(1, budget // 50),
            steps=50,
            seed=seed,
            progress=progress,
        )
    raise FieldValueError(
        f"`method` must be 'enas', 'darts' or 'independent', got {method!r}", path="method"
    )
