"""Architecture search over one space: weight sharing (ENAS, DARTS) or not.

`enas_search` trains a `Supernet` on paths proposed by any automorph
algorithm (rewards are the supernet's accuracy on a validation batch);
`darts_search` trains architecture weights by gradient and derives the
choice from them; `independent_search` trains every proposal from scratch.
`search(..., method=...)` switches between them with one argument.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from automorph.algorithms import Random, SearchAlgorithm
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.nn._data import ImageData
from automorph.nn._supernet import Supernet
from automorph.nn._train import Progress, _input_check, batches, evaluate, fit
from automorph.utils import FieldValueError, SearchSpaceError


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
    """

    dna: DNA
    model: nn.Module
    score: float
    history: list[tuple[DNA, float]] = field(default_factory=list)
    seconds: float = 0.0
    supernet: Supernet | None = None


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise FieldValueError(f"`{name}` ({value}) must be at least 1", path=name)


def _check_data(model: nn.Module, train: ImageData, valid: ImageData) -> None:
    """The check `fit` and `evaluate` make, on both splits, before any training."""
    _input_check(model, train, "train")
    _input_check(model, valid, "valid")


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
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """ENAS: shared weights trained on paths an automorph algorithm proposes.

    Each step the algorithm proposes a DNA, the supernet trains one
    minibatch on that path, and the path's accuracy on a validation batch
    is the algorithm's reward. At the end the `final_candidates` best
    distinct paths are scored on all of `valid` and the best is chosen.

    Raises:
        SearchSpaceError: If the space cannot share weights (see `Supernet`).
        DataShapeError: If the data do not fit the model.
    """
    _check_positive(steps=steps, reward_batch=reward_batch, final_candidates=final_candidates)
    start = time.process_time()
    torch.manual_seed(seed)
    supernet = Supernet(space)
    _check_data(supernet.net, train, valid)
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
        x, y = next(train_stream)
        loss = nn.functional.cross_entropy(supernet(x), y)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(supernet.weight_parameters(), 5.0)
        optimizer.step()
        schedule.step()
        reward = _batch_accuracy(supernet, *next(valid_stream))
        algorithm.feedback(dna, reward)
        history.append((dna, reward))
        if shown is not None:
            best = max(r for _, r in history[-50:])
            shown.update(step, loss=loss.item(), reward=reward, best50=best)
    dna, score = _final_choice(supernet, history, valid, final_candidates)
    model = Template(space).materialize(dna)
    return SearchResult(dna, model, score, history, time.process_time() - start, supernet)


def _final_choice(
    supernet: Supernet, history: list[tuple[DNA, float]], valid: ImageData, count: int
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
        scored.append((_shared_accuracy(supernet, valid), dna))
    score, best = max(scored, key=lambda item: item[0])
    return best, score


@torch.no_grad()
def _shared_accuracy(supernet: Supernet, data: ImageData) -> float:
    # Batch statistics (train mode) as in ENAS: the running ones mix all paths.
    correct = 0
    for start in range(0, len(data), 500):
        logits = supernet(data.x[start : start + 500])
        correct += int((logits.argmax(1) == data.y[start : start + 500]).sum())
    return correct / len(data)


def darts_search(
    space: Any,
    train: ImageData,
    valid: ImageData,
    *,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 0.05,
    arch_lr: float = 3e-3,
    warmup: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """DARTS (first order): weights on `train`, architecture weights on `valid`.

    Every choice mixes its candidates by softmax(alpha); each step updates
    the weights on a training batch and the alphas (Adam) on a validation
    batch, after `warmup` steps (default a quarter) that train the weights
    alone, so that parameter-free candidates do not win while the
    convolutions are still untrained. The choice is the largest alpha of
    every active decision.

    Raises:
        SearchSpaceError: If the space cannot share weights (see `Supernet`).
        DataShapeError: If the data do not fit the model.
    """
    _check_positive(steps=steps)
    start = time.process_time()
    torch.manual_seed(seed)
    supernet = Supernet(space)
    _check_data(supernet.net, train, valid)
    supernet.relax()
    weights = torch.optim.SGD(supernet.weight_parameters(), lr=lr, momentum=0.9, weight_decay=3e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(weights, steps)
    arch = torch.optim.Adam(
        supernet.arch_parameters(), lr=arch_lr, betas=(0.5, 0.999), weight_decay=1e-3
    )
    generator = torch.Generator().manual_seed(seed)
    train_stream = batches(train, batch_size, generator)
    valid_stream = batches(valid, batch_size, generator)
    shown = Progress("darts", steps) if progress else None
    supernet.train()
    warmup = steps // 4 if warmup is None else warmup
    arch_loss = torch.tensor(float("nan"))
    for step in range(steps):
        if step >= warmup:
            x, y = next(valid_stream)
            arch_loss = nn.functional.cross_entropy(supernet(x), y)
            arch.zero_grad()
            arch_loss.backward()  # type: ignore[no-untyped-call]
            arch.step()
        x, y = next(train_stream)
        loss = nn.functional.cross_entropy(supernet(x), y)
        weights.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(supernet.weight_parameters(), 5.0)
        weights.step()
        schedule.step()
        if shown is not None:
            shown.update(step, loss=loss.item(), valid_loss=arch_loss.item())
    dna = supernet.derive()
    supernet.set_path(dna)
    score = _shared_accuracy(supernet, valid)
    model = Template(space).materialize(dna)
    return SearchResult(dna, model, score, [], time.process_time() - start, supernet)


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
