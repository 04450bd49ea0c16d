"""Few-shot image classification for Auto-Meta: episodes, convolutional learners, MAML.

An N-way K-shot episode draws N classes, relabels them 0..N-1 in a random
order, and gives K support images and `queries` query images of each. An
`EpisodeSampler` draws episodes from a fixed set of classes of an
`ImageData`; `episode_splits` makes the three samplers of an experiment with
disjoint meta-training and meta-test classes (and validation episodes from
held-out images of the meta-training classes), and `fashion_mnist_episodes`
does so for Fashion-MNIST split 5/5 by class (at random).

Two learners classify an episode's images: `maml_conv_learner` is the
hand-designed network of the MAML paper (blocks of 3x3 convolution, batch
norm, ReLU and 2x2 max-pool, then a linear layer to the N ways), and
`conv_meta_space` is Auto-Meta's space, the same stack with each block a
searched `ConvMetaCell`. Batch norm always normalizes by the statistics of
the batch it sees (MAML's transductive setting). `maml_fewshot_train`
meta-trains either by MAML (second order, or first order) and
`maml_fewshot_evaluate` adapts to new episodes and reports the mean query
accuracy with its 95% confidence interval, as MAML reports it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from automorph.hyper import oneof
from automorph.nn._data import DataShapeError, ImageData, load_fashion_mnist
from automorph.nn._meta import adapt, check_cell
from automorph.nn._modules import own_searchable
from automorph.utils import FieldValueError

CONV_OPS = ["conv3", "dil3", "sep3", "max3", "avg3", "identity"]
"""The operations a `ConvMetaCell` node chooses among: 3x3 convolution, 3x3
convolution dilated 2, 3x3 depthwise-separable convolution (each ReLU, conv,
batch norm), 3x3 max and average pooling (stride 1), and identity."""

FASHION_MNIST_TRAIN_CLASSES = (2, 3, 4, 6, 7)
"""Fashion-MNIST's meta-training classes: pullover, dress, coat, shirt, sneaker (the
first five of `numpy.random.default_rng(0).permutation(10)`)."""
FASHION_MNIST_TEST_CLASSES = (0, 1, 5, 8, 9)
"""Fashion-MNIST's meta-test classes: T-shirt/top, trouser, sandal, bag, ankle boot."""


def _at_least(name: str, value: int, least: int) -> None:
    if value < least:
        raise FieldValueError(f"`{name}` ({value}) must be at least {least}", path=name)


@dataclass(frozen=True)
class Episode:
    """One N-way K-shot task: support and query images with labels 0..N-1.

    `classes[i]` is the data set's class that label i stands for.

    >>> data = ImageData(torch.rand(12, 1, 4, 4), torch.arange(12) % 3)
    >>> episode = EpisodeSampler(data, [0, 1, 2], ways=3, shots=2, queries=1).sample(
    ...     torch.Generator().manual_seed(0))
    >>> episode.support_y.tolist(), sorted(episode.classes)
    ([0, 0, 1, 1, 2, 2], [0, 1, 2])
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    classes: tuple[int, ...]


class EpisodeSampler:
    """Draws N-way K-shot episodes from the images of `classes` in `data`.

    Each episode picks `ways` of the classes, gives them labels 0..ways-1 in
    a random order, and draws `shots + queries` distinct images of each
    (the first `shots` are the support set). The same seed gives the same
    episodes.

    >>> data = ImageData(torch.rand(40, 1, 8, 8), torch.arange(40) % 4)
    >>> sampler = EpisodeSampler(data, [0, 1, 2], ways=2, shots=1, queries=3)
    >>> episode = next(sampler.episodes(1, seed=0))
    >>> tuple(episode.support_x.shape), tuple(episode.query_y.shape), len(episode.classes)
    ((2, 1, 8, 8), (6,), 2)

    Raises:
        FieldValueError: If `ways` is below 2, `shots` or `queries` below 1,
            `classes` repeats a class or has fewer than `ways` classes.
        DataShapeError: If a class has fewer than `shots + queries` images
            in `data`.
    """

    def __init__(
        self,
        data: ImageData,
        classes: Sequence[int],
        *,
        ways: int = 5,
        shots: int = 1,
        queries: int = 15,
    ) -> None:
        _at_least("ways", ways, 2)
        _at_least("shots", shots, 1)
        _at_least("queries", queries, 1)
        classes = [int(c) for c in classes]
        if len(set(classes)) != len(classes):
            raise FieldValueError(f"`classes` repeats a class: {classes}", path="classes")
        if len(classes) < ways:
            raise FieldValueError(
                f"{ways}-way episodes need at least {ways} classes, got {len(classes)}: {classes}",
                path="classes",
            )
        self.data = data
        self.classes = tuple(classes)
        self.ways, self.shots, self.queries = ways, shots, queries
        self._indices = []
        for c in classes:
            index = torch.nonzero(data.y == c).flatten()
            if len(index) < shots + queries:
                raise DataShapeError(
                    f"class {c} has {len(index)} images; an episode needs shots + queries = "
                    f"{shots + queries} of each",
                    path="classes",
                )
            self._indices.append(index)

    def __repr__(self) -> str:
        return (
            f"EpisodeSampler({self.ways}-way {self.shots}-shot, {self.queries} queries, "
            f"classes {list(self.classes)})"
        )

    def sample(self, generator: torch.Generator) -> Episode:
        """One episode drawn with `generator`."""
        picked = torch.randperm(len(self.classes), generator=generator)[: self.ways].tolist()
        support, query = [], []
        for slot in picked:
            index = self._indices[slot]
            chosen = index[torch.randperm(len(index), generator=generator)]
            support.append(chosen[: self.shots])
            query.append(chosen[self.shots : self.shots + self.queries])
        labels = torch.arange(self.ways)
        s, q = torch.cat(support), torch.cat(query)
        return Episode(
            self.data.x[s],
            labels.repeat_interleave(self.shots),
            self.data.x[q],
            labels.repeat_interleave(self.queries),
            tuple(self.classes[slot] for slot in picked),
        )

    def episodes(self, count: int, seed: int = 0) -> Iterator[Episode]:
        """`count` episodes drawn from `seed` (the same seed, the same episodes)."""
        generator = torch.Generator().manual_seed(seed)
        for _ in range(count):
            yield self.sample(generator)


def episode_splits(
    train: ImageData,
    held_out: ImageData,
    *,
    train_classes: Sequence[int],
    test_classes: Sequence[int],
    ways: int = 5,
    shots: int = 1,
    queries: int = 15,
) -> dict[str, EpisodeSampler]:
    """Episode samplers for meta-training, validation and meta-test.

    "train" draws from `train`'s images of `train_classes`; "valid" from
    `held_out`'s images of the same classes (new images, for scoring a
    search); "test" from `held_out`'s images of `test_classes`, classes the
    learner never saw.

    Raises:
        FieldValueError: If the class sets share a class, or as `EpisodeSampler`.
        DataShapeError: As `EpisodeSampler`.
    """
    shared = sorted(set(train_classes) & set(test_classes))
    if shared:
        raise FieldValueError(
            f"meta-training and meta-test classes must be disjoint; both have {shared}",
            path="test_classes",
        )
    options = {"ways": ways, "shots": shots, "queries": queries}
    return {
        "train": EpisodeSampler(train, train_classes, **options),
        "valid": EpisodeSampler(held_out, train_classes, **options),
        "test": EpisodeSampler(held_out, test_classes, **options),
    }


def fashion_mnist_episodes(
    path: str | os.PathLike[str] | None = None,
    *,
    ways: int = 5,
    shots: int = 1,
    queries: int = 15,
    size: int = 28,
    train_classes: Sequence[int] = FASHION_MNIST_TRAIN_CLASSES,
    test_classes: Sequence[int] = FASHION_MNIST_TEST_CLASSES,
) -> dict[str, EpisodeSampler]:
    """`episode_splits` of Fashion-MNIST: meta-training on the training images of
    `train_classes`, validation and meta-test on the test images.

    `path` is as for `load_fashion_mnist` (None: found by `find_data`);
    `size` average-pools the images (it must divide 28).

    Raises:
        DataNotFoundError: If the data is nowhere.
        DataShapeError: If `size` does not divide 28.
        FieldValueError: As `episode_splits`.
    """
    train, test = load_fashion_mnist(path)
    return episode_splits(
        train.resized(size),
        test.resized(size),
        train_classes=train_classes,
        test_classes=test_classes,
        ways=ways,
        shots=shots,
        queries=queries,
    )


def _conv_op(name: str, channels: int) -> nn.Module:
    def bn() -> nn.Module:
        return nn.BatchNorm2d(channels, track_running_stats=False)

    if name == "conv3":
        return nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), bn())
    if name == "dil3":
        return nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=2, dilation=2), bn()
        )
    if name == "sep3":
        return nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            nn.Conv2d(channels, channels, 1),
            bn(),
        )
    if name == "max3":
        return nn.MaxPool2d(3, 1, 1)
    if name == "avg3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    return nn.Identity()


class _ConvMetaCell(nn.Module):
    def __init__(self, ops: list[str], inputs: list[int], channels: int = 32) -> None:
        super().__init__()
        check_cell(ops, inputs, CONV_OPS, "operation")
        self.ops = list(ops)
        self.inputs = list(inputs)
        used = set(inputs)
        self.outputs = [j + 1 for j in range(len(ops)) if j + 1 not in used]
        self.layers = nn.ModuleList([_conv_op(op, channels) for op in ops])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for source, layer in zip(self.inputs, self.layers, strict=True):
            states.append(layer(states[source]))
        out = states[self.outputs[0]]
        for k in self.outputs[1:]:
            out = out + states[k]
        return out


def _pooled_side(side: int, blocks: int) -> int:
    for _ in range(blocks):
        side = math.ceil(side / 2)
    return side


class _ConvMetaLearner(nn.Module):
    def __init__(
        self,
        ops: list[str],
        inputs: list[int],
        ways: int = 5,
        channels: int = 1,
        filters: int = 32,
        blocks: int = 4,
        image_size: int = 28,
    ) -> None:
        super().__init__()
        _at_least("blocks", blocks, 1)
        self.stem = nn.Sequential(
            nn.Conv2d(channels, filters, 3, padding=1),
            nn.BatchNorm2d(filters, track_running_stats=False),
        )
        self.cells = nn.ModuleList([_ConvMetaCell(ops, inputs, filters) for _ in range(blocks)])
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.head = nn.Linear(filters * _pooled_side(image_size, blocks) ** 2, ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = self.pool(cell(x))
        return self.head(torch.relu(x).flatten(1))  # type: ignore[no-any-return]


class _MAMLConvNet(nn.Module):
    def __init__(
        self,
        ways: int = 5,
        channels: int = 1,
        filters: int = 32,
        blocks: int = 4,
        image_size: int = 28,
    ) -> None:
        super().__init__()
        _at_least("blocks", blocks, 1)
        layers: list[nn.Module] = []
        for b in range(blocks):
            layers += [
                nn.Conv2d(channels if b == 0 else filters, filters, 3, padding=1),
                nn.BatchNorm2d(filters, track_running_stats=False),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(filters * _pooled_side(image_size, blocks) ** 2, ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))  # type: ignore[no-any-return]


ConvMetaCell = own_searchable(_ConvMetaCell, "ConvMetaCell")
"""Auto-Meta's convolutional cell (searchable): node j applies `ops[j]` (one of
`CONV_OPS`, over `channels` channels) to node `inputs[j]` (0 is the cell's input);
the cell's output is the sum of the nodes no other node takes as input."""
ConvMetaLearner = own_searchable(_ConvMetaLearner, "ConvMetaLearner")
"""A few-shot image classifier around a searched cell (searchable): a 3x3
convolution stem of `filters` channels with batch norm, then `blocks` times the
cell of `ops` and `inputs` (each block its own weights) and a 2x2 max-pool, then a
linear layer to `ways` outputs. `image_size` is the side of the input images."""
MAMLConvNet = own_searchable(_MAMLConvNet, "MAMLConvNet")
"""The MAML paper's few-shot classifier (searchable): `blocks` blocks of 3x3
convolution (`filters` channels), batch norm, ReLU and 2x2 max-pool, then a linear
layer to `ways` outputs. `image_size` is the side of the input images."""


def maml_conv_learner(
    ways: int = 5, channels: int = 1, filters: int = 32, blocks: int = 4, image_size: int = 28
) -> nn.Module:
    """The hand-designed MAML learner (Finn et al. 2017): 4 conv blocks and a linear head.

    MAML used 64 filters on Omniglot and 32 on miniImageNet; a side of
    `image_size` is halved by each block (rounding up), so any size works.

    >>> net = maml_conv_learner(ways=5, filters=8, image_size=14)
    >>> net(torch.zeros(3, 1, 14, 14)).shape
    torch.Size([3, 5])
    """
    return MAMLConvNet(ways, channels, filters, blocks, image_size)


def conv_meta_space(
    nodes: int = 2,
    *,
    ways: int = 5,
    channels: int = 1,
    filters: int = 32,
    blocks: int = 4,
    image_size: int = 28,
) -> Any:
    """A `ConvMetaLearner` whose cell's nodes each choose an operation and an input.

    >>> import automorph as am
    >>> am.dna_spec(conv_meta_space(2)).size == 6 * 6 * 2
    True
    """
    _at_least("nodes", nodes, 1)
    ops = [oneof(list(CONV_OPS)) for _ in range(nodes)]
    inputs = [oneof(list(range(j + 1))) if j else 0 for j in range(nodes)]
    return ConvMetaLearner(ops, inputs, ways, channels, filters, blocks, image_size)


def _cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, y)


def maml_fewshot_train(
    model: nn.Module,
    episodes: EpisodeSampler,
    *,
    iterations: int = 1000,
    meta_batch: int = 4,
    inner_steps: int = 1,
    inner_lr: float = 0.1,
    meta_lr: float = 1e-3,
    first_order: bool = False,
    budget_s: float | None = None,
    seed: int = 0,
) -> nn.Module:
    """Meta-trains `model` by MAML on episodes drawn from `episodes`.

    Each iteration adapts to `meta_batch` episodes by `inner_steps`
    gradient steps of size `inner_lr` on the support set and takes one Adam
    step (`meta_lr`) on the query loss after adaptation; `first_order`
    drops the second derivatives. Training stops after `iterations`, or
    earlier once `budget_s` CPU seconds (`time.process_time`) are spent.

    Raises:
        FieldValueError: If `iterations`, `meta_batch` or `inner_steps` is below 1.
    """
    for name, value in (
        ("iterations", iterations),
        ("meta_batch", meta_batch),
        ("inner_steps", inner_steps),
    ):
        _at_least(name, value, 1)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=meta_lr)
    start = time.process_time()
    for _ in range(iterations):
        loss = torch.zeros(())
        for _ in range(meta_batch):
            ep = episodes.sample(generator)
            params = adapt(
                model,
                ep.support_x,
                ep.support_y,
                inner_steps,
                inner_lr,
                create_graph=not first_order,
                loss_fn=_cross_entropy,
            )
            loss = loss + _cross_entropy(functional_call(model, params, (ep.query_x,)), ep.query_y)
        optimizer.zero_grad()
        (loss / meta_batch).backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if budget_s is not None and time.process_time() - start >= budget_s:
            break
    return model


@dataclass(frozen=True)
class MetaTestScore:
    """Meta-test accuracy: the mean over episodes and its 95% confidence interval.

    `ci95` is 1.96 standard deviations of the per-episode accuracies over the
    square root of their number, as MAML's evaluation computes it.

    >>> score = MetaTestScore.of([0.5, 0.7, 0.6, 0.6])
    >>> round(score.accuracy, 3), round(score.ci95, 3), str(score)
    (0.6, 0.069, '60.00 ± 6.93%')
    """

    accuracy: float
    ci95: float
    accuracies: tuple[float, ...]

    @classmethod
    def of(cls, accuracies: Sequence[float]) -> MetaTestScore:
        """The score of per-episode accuracies."""
        values = torch.tensor(list(accuracies), dtype=torch.float64)
        std = float(values.std(unbiased=False)) if len(values) > 1 else 0.0
        return cls(float(values.mean()), 1.96 * std / math.sqrt(len(values)), tuple(accuracies))

    def __str__(self) -> str:
        return f"{100 * self.accuracy:.2f} ± {100 * self.ci95:.2f}%"


def maml_fewshot_evaluate(
    model: nn.Module,
    episodes: EpisodeSampler,
    *,
    count: int = 600,
    inner_steps: int = 10,
    inner_lr: float = 0.1,
    seed: int = 12345,
) -> MetaTestScore:
    """Query accuracy after adapting `model` to each of `count` new episodes.

    Each episode starts from `model`'s weights (left unchanged) and takes
    `inner_steps` gradient steps of size `inner_lr` on its support set.

    Raises:
        FieldValueError: If `count` or `inner_steps` is below 1.
    """
    _at_least("count", count, 1)
    _at_least("inner_steps", inner_steps, 1)
    accuracies = []
    for ep in episodes.episodes(count, seed):
        params = adapt(
            model,
            ep.support_x,
            ep.support_y,
            inner_steps,
            inner_lr,
            create_graph=False,
            loss_fn=_cross_entropy,
        )
        with torch.no_grad():
            logits = functional_call(model, params, (ep.query_x,))
        accuracies.append(float((logits.argmax(1) == ep.query_y).float().mean()))
    return MetaTestScore.of(accuracies)
