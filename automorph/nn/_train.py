"""Plain training and evaluation of a classifier on `ImageData`.

Any training loop works on a materialized model; these two are what the
searches and examples use. `Progress` prints one line every few steps.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import TextIO

import torch
from torch import nn

from automorph.nn._data import ImageData, check_images
from automorph.utils import FieldValueError


class Progress:
    """Prints `[label] step i/n ...` every `every` steps (and the last one).

    >>> import io
    >>> out = io.StringIO()
    >>> p = Progress("demo", 4, every=2, stream=out)
    >>> for i in range(4):
    ...     p.update(i, loss=0.5)
    >>> out.getvalue().count("[demo] step")
    2
    """

    def __init__(
        self, label: str, total: int, every: int = 50, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.every = max(1, every)
        self.stream = stream
        self.start = time.perf_counter()

    def update(self, step: int, **values: float) -> None:
        """Reports step `step` (0-based) with named values."""
        if (step + 1) % self.every and step + 1 != self.total:
            return
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        elapsed = time.perf_counter() - self.start
        print(
            f"[{self.label}] step {step + 1}/{self.total} {shown} ({elapsed:.0f}s)",
            file=self.stream or sys.stdout,
            flush=True,
        )


def _input_check(model: nn.Module, data: ImageData, where: str) -> None:
    shape = getattr(model, "input_shape", None)
    check_images(data.x, data.y, tuple(shape) if shape is not None else None, where)


def batches(
    data: ImageData, batch_size: int, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled minibatches of `data` (all of it, each time, when it
    holds fewer examples than `batch_size`)."""
    if batch_size < 1:
        raise FieldValueError(f"`batch_size` ({batch_size}) must be at least 1", path="batch_size")
    if len(data) == 0:
        raise FieldValueError("the data holds no examples to train on", path="data")
    batch_size = min(batch_size, len(data))
    while True:
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data) - batch_size + 1, batch_size):
            index = order[start : start + batch_size]
            yield data.x[index], data.y[index]


def fit(
    model: nn.Module,
    data: ImageData,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
    progress: Progress | None = None,
) -> nn.Module:
    """Trains `model` by SGD with momentum and cosine decay for `steps` minibatches.

    Raises:
        DataShapeError: If `data` does not fit the model's `input_shape`.
        FieldValueError: If `steps` or `batch_size` is below 1.
    """
    _input_check(model, data, "train")
    if steps < 1:
        raise FieldValueError(f"`steps` ({steps}) must be at least 1", path="steps")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=3e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    model.train()
    stream = batches(data, min(batch_size, len(data)), generator)
    for step in range(steps):
        x, y = next(stream)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        if progress is not None:
            progress.update(step, loss=loss.item())
    return model


@torch.no_grad()
def evaluate(model: nn.Module, data: ImageData, batch_size: int = 500) -> float:
    """The accuracy of `model` on `data` (in eval mode).

    Raises:
        DataShapeError: If `data` does not fit the model's `input_shape`.
    """
    _input_check(model, data, "eval")
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(data), batch_size):
        logits = model(data.x[start : start + batch_size])
        correct += int((logits.argmax(1) == data.y[start : start + batch_size]).sum())
    model.train(was_training)
    return correct / max(1, len(data))
