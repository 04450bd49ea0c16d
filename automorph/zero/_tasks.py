"""Tasks: random-teacher regression and projected binary image classification.

A `TaskSpec` is a symbolic description; `TaskSpec.build()` makes the arrays
the evaluator runs (`TaskSet`: a leading task axis on every array).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

import automorph as am
from automorph.utils import BenchmarkDataError, DataNotFoundError, find_data, load_data
from automorph.zero._errors import ConfigError, TaskDataError
from automorph.zero._program import MAX_FEATURES

KINDS = ("linear", "nonlinear", "cifar10", "fashion_mnist")
DEFAULT_PARAM_SEEDS = (1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003)
DEFAULT_DATA_SEEDS = (11001, 11012, 11010, 11000, 11006, 11008, 11007, 11003)
ALL_PAIRS = tuple(itertools.combinations(range(10), 2))
HELD_OUT_PAIRS = ((4, 6), (3, 5), (8, 9), (3, 8), (0, 9), (2, 9), (1, 8), (3, 6), (0, 5))
"""The class pairs of the binary image tasks kept out of search: a `TaskSpec` with
`held_out=True` draws from these, for selecting and testing found programs."""
SEARCH_PAIRS = tuple(p for p in ALL_PAIRS if p not in HELD_OUT_PAIRS)
_DATASETS = {"cifar10": "cifar10_projected", "fashion_mnist": "fashion_mnist"}
_LOADED: dict[str, dict[str, NDArray[np.float64]]] = {}


@dataclass
class TaskSet:
    """The arrays of a set of tasks of equal sizes.

    Attributes:
        x, y: Training features [T, N, F] and labels [T, N].
        order: Example order per epoch [T, E, N] (epoch 0 natural, then shuffles).
        x_valid, y_valid: Validation features [T, V, F] and labels [T, V].
        accuracy: Whether fitness is accuracy (binary) rather than RMS error.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    order: NDArray[np.int64]
    x_valid: NDArray[np.float64]
    y_valid: NDArray[np.float64]
    accuracy: bool

    @property
    def num_tasks(self) -> int:
        """The number of tasks."""
        return int(self.x.shape[0])

    def arrays(self) -> tuple[NDArray[np.float64], ...]:
        """(x, y, order, x_valid, y_valid), the form the kernels take."""
        return (self.x, self.y, self.order, self.x_valid, self.y_valid)  # type: ignore[return-value]

    def task(self, t: int) -> tuple[NDArray[np.float64], ...]:
        """The arrays of task t alone (the reference interpreter's form)."""
        return tuple(a[t] for a in self.arrays())


class TaskSpec(am.Object, type_name="automorph.zero.TaskSpec"):
    """A family of tasks, as in the original's TaskSpec.

    `kind` is "linear" (label w.x, teacher w ~ N(0, I)), "nonlinear" (label
    u.ReLU(M x), rows 0 and 2 of M and entries 0 and 2 of u zeroed), "cifar10" or
    "fashion_mnist" (binary classification between two classes, randomly
    projected to `features` dimensions and standardized). Seeds default to the
    original's lists and count up past them. Image data is found by
    `automorph.utils.find_data`: `data_path` (the .npz file or its folder),
    else `$AUTOMORPH_DATA`, else the user data folder (and, for Fashion-MNIST,
    Debian's `dataset-fashion-mnist` files).

    >>> tasks = TaskSpec("linear", features=4, num_train=100, num_valid=100, num_tasks=3).build()
    >>> tasks.x.shape, tasks.order.shape, tasks.accuracy
    ((3, 100, 4), (3, 1, 100), False)
    """

    kind: str = "linear"
    features: int = 4
    num_train: int = 100
    num_valid: int = 100
    num_epochs: int = 1
    num_tasks: int = 10
    data_seeds: list[int] = []
    param_seeds: list[int] = []
    pairs: list[list[int]] = []
    held_out: bool = False
    data_path: str | None = None

    def _on_bound(self) -> None:
        super()._on_bound()
        if self.kind not in KINDS:
            raise ConfigError(f"TaskSpec.kind must be one of {KINDS}, got {self.kind!r}")
        if not 1 <= self.features <= MAX_FEATURES:
            raise ConfigError(
                f"TaskSpec.features must be in 1..{MAX_FEATURES}, got {self.features}"
            )
        for name in ("num_train", "num_valid", "num_epochs", "num_tasks"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TaskSpec.{name} must be >= 1, got {getattr(self, name)}")
        for pair in self.pairs:
            if len(pair) != 2 or pair[0] == pair[1] or not all(0 <= c <= 9 for c in pair):
                raise ConfigError(f"TaskSpec.pairs: {list(pair)} is not two different classes 0..9")

    @property
    def accuracy(self) -> bool:
        """Whether the tasks are classification (fitness = accuracy)."""
        return self.kind in _DATASETS

    def seeds(self) -> tuple[list[int], list[int]]:
        """(data seeds, param seeds), one per task."""
        return (
            _extend(self.data_seeds, DEFAULT_DATA_SEEDS, self.num_tasks),
            _extend(self.param_seeds, DEFAULT_PARAM_SEEDS, self.num_tasks),
        )

    def build(self) -> TaskSet:
        """Generates every task's arrays.

        Raises:
            DataNotFoundError: For image tasks whose data is nowhere (the
                message lists the places looked and how to get the data).
            TaskDataError: For image tasks whose data file is malformed.
        """
        data_seeds, param_seeds = self.seeds()
        parts = [
            self._one(d, p, i) for i, (d, p) in enumerate(zip(data_seeds, param_seeds, strict=True))
        ]
        stacked = [np.stack([part[k] for part in parts]) for k in range(5)]
        return TaskSet(
            stacked[0], stacked[1], stacked[2].astype(np.int64), stacked[3], stacked[4],
            self.accuracy,
        )  # fmt: skip

    def _one(self, data_seed: int, param_seed: int, index: int) -> list[NDArray[np.float64]]:
        n, nv, f = self.num_train, self.num_valid, self.features
        if self.kind in ("linear", "nonlinear"):
            rng = np.random.default_rng(data_seed)
            x = rng.standard_normal((n + nv, f))
            y = _teacher(self.kind, x, np.random.default_rng(param_seed))
        else:
            x, y = self._images(data_seed, param_seed, index)
        shuffles = np.random.default_rng([data_seed, 1])
        order = [np.arange(n)] + [shuffles.permutation(n) for _ in range(self.num_epochs - 1)]
        return [x[:n], y[:n], np.stack(order).astype(np.float64), x[n:], y[n:]]

    def _images(
        self, data_seed: int, param_seed: int, index: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        pool = HELD_OUT_PAIRS if self.held_out else SEARCH_PAIRS
        if self.pairs:
            pos, neg = self.pairs[index % len(self.pairs)]
        else:
            pos, neg = pool[int(np.random.default_rng(param_seed).integers(len(pool)))]
        data = load_images(self.kind, self.data_path)
        labels = data["y"]
        chosen = np.flatnonzero((labels == pos) | (labels == neg))
        need = self.num_train + self.num_valid
        if len(chosen) < need:
            raise ConfigError(
                f"classes {pos} and {neg} of {self.kind} have {len(chosen)} examples; "
                f"num_train + num_valid = {need}"
            )
        rng = np.random.default_rng(data_seed)
        chosen = rng.permutation(chosen)[:need]
        raw = data["x"][chosen].astype(np.float64)
        if self.kind == "fashion_mnist":
            projection = rng.standard_normal((raw.shape[1], self.features))
            x = raw @ projection / np.sqrt(raw.shape[1])
        else:
            x = _cifar_features(data, chosen, self.features)
        mean = x[: self.num_train].mean(axis=0)
        std = x[: self.num_train].std(axis=0) + 1e-12
        return (x - mean) / std, (labels[chosen] == pos).astype(np.float64)


def _cifar_features(
    data: dict[str, NDArray[np.float64]], chosen: NDArray[np.int64], features: int
) -> NDArray[np.float64]:
    key = f"x{features}"
    if key not in data:
        raise ConfigError(
            f"cifar10 tasks come projected to 16 or 64 features; features={features} "
            "(use 16, or fashion_mnist which is projected here to any size)"
        )
    return data[key][chosen].astype(np.float64)


def _teacher(kind: str, x: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    f = x.shape[1]
    if kind == "linear":
        return np.asarray(x @ rng.standard_normal(f), dtype=np.float64)
    weights = np.asarray(rng.standard_normal((f, f)), dtype=np.float64)
    out = np.asarray(rng.standard_normal(f), dtype=np.float64)
    zeroed = [0, 2] if f > 2 else [0]
    weights[zeroed] = 0.0
    out[zeroed] = 0.0
    return np.asarray(np.maximum(x @ weights.T, 0.0) @ out, dtype=np.float64)


def _extend(given: list[int], default: tuple[int, ...], n: int) -> list[int]:
    seeds = list(given) if given else list(default)
    while len(seeds) < n:
        seeds.append(seeds[-1] + 1)
    return seeds[:n]


def load_images(kind: str, data_path: str | None = None) -> dict[str, NDArray[np.float64]]:
    """The training images of `kind` ("cifar10" or "fashion_mnist") as {"x", "y", "x16", ...}.

    `data_path` is the .npz file or its folder; without it the data is looked
    for by `automorph.utils.find_data` (`$AUTOMORPH_DATA`, the user data
    folder, Debian's Fashion-MNIST files). Arrays are read once per file.

    Raises:
        DataNotFoundError: If the data is nowhere; the message lists every
            place looked and how to get the data.
        TaskDataError: If the file lacks the expected arrays.
    """
    if kind not in _DATASETS:
        raise ConfigError(f"image data is one of {sorted(_DATASETS)}, got {kind!r}")
    path = find_data(_DATASETS[kind], data_path)
    key = str(path)
    if key in _LOADED:
        return _LOADED[key]
    try:
        arrays = load_data(_DATASETS[kind], path)
    except DataNotFoundError:
        raise
    except BenchmarkDataError as error:
        raise TaskDataError(error.message) from error
    labels = arrays["y_train"]
    if kind == "cifar10":
        data = {"y": labels, "x16": arrays["x16_train"], "x64": arrays["x64_train"]}
        data["x"] = data["x16"]
    else:
        data = {"y": labels, "x": arrays["x_train"].reshape(len(labels), -1) / 255.0}
    _LOADED[key] = data
    return data
