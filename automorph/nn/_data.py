"""Image data for the examples: Fashion-MNIST, and shape checks.

`load_fashion_mnist(path)` reads either the `.npz` copy (arrays `x_train`,
`y_train`, `x_test`, `y_test`) or a directory of the original IDX files
(as Debian's `dataset-fashion-mnist` installs them, gzipped or not). Without
a path, the data is found by `automorph.utils.find_data`: `$AUTOMORPH_DATA`,
the user data folder, then Debian's `/usr/share/datasets/fashion-mnist`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from automorph.utils import AutomorphError, load_data


class DataShapeError(AutomorphError, ValueError):
    """Data of the wrong shape or type for a model or a search."""


@dataclass(frozen=True)
class ImageData:
    """Images `x` (N, C, H, W) as float32 tensors and integer labels `y` (N,).

    >>> data = ImageData(torch.zeros(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))
    >>> len(data), data.shape
    (4, (1, 28, 28))
    """

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        check_images(self.x, self.y)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one image (C, H, W)."""
        return tuple(int(d) for d in self.x.shape[1:])

    def subset(self, start: int, stop: int) -> ImageData:
        """Images `start` to `stop` (a view)."""
        return ImageData(self.x[start:stop], self.y[start:stop])

    def resized(self, size: int) -> ImageData:
        """The images average-pooled (or kept) to `size` x `size`.

        Raises:
            DataShapeError: If `size` does not divide the image side.
        """
        side = int(self.x.shape[-1])
        if size < 1 or side % size:
            raise DataShapeError(
                f"`size` ({size}) must divide the image side ({side})", path="size"
            )
        return ImageData(torch.nn.functional.avg_pool2d(self.x, side // size), self.y)


def check_images(
    x: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...] | None = None, where: str = "data"
) -> None:
    """Checks images and labels, naming what is wrong.

    Raises:
        DataShapeError: If `x` is not a float tensor (N, C, H, W), `y` not an
            integer tensor (N,) of the same length, or the image shape is not
            `shape` (when given).
    """
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise DataShapeError(
            f"images and labels must be torch tensors, got {type(x).__name__} and "
            f"{type(y).__name__}",
            path=where,
        )
    if x.dim() != 4 or not x.is_floating_point():
        raise DataShapeError(
            f"images must be a float tensor of shape (N, C, H, W), got {x.dtype} "
            f"of shape {tuple(x.shape)}",
            path=f"{where}.x",
        )
    if y.dim() != 1 or y.is_floating_point() or y.shape[0] != x.shape[0]:
        raise DataShapeError(
            f"labels must be an integer tensor of shape ({x.shape[0]},), got {y.dtype} "
            f"of shape {tuple(y.shape)}",
            path=f"{where}.y",
        )
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise DataShapeError(
            f"images must have shape {tuple(shape)} (C, H, W), got {tuple(x.shape[1:])}",
            path=f"{where}.x",
        )


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None,
) -> tuple[ImageData, ImageData]:
    """The Fashion-MNIST train and test sets, images scaled to [0, 1], shape (1, 28, 28).

    Args:
        path: The `fashion_mnist.npz` file, a folder holding it, or a folder
            of the four IDX files (Debian's `dataset-fashion-mnist`). Without
            it, `automorph.utils.find_data("fashion_mnist")` finds the data.

    Raises:
        DataNotFoundError: If the data is nowhere (the message lists every
            place looked and how to get the data).
        BenchmarkDataError: If the file lacks an array or cannot be read.
    """
    arrays = load_data("fashion_mnist", path)

    def split(x: np.ndarray, y: np.ndarray) -> ImageData:
        images = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
        return ImageData(images, torch.from_numpy(y.astype(np.int64)))

    return split(arrays["x_train"], arrays["y_train"]), split(arrays["x_test"], arrays["y_test"])


def fashion_mnist_splits(
    path: str | os.PathLike[str] | None = None,
    *,
    train: int,
    valid: int,
    test: int,
    size: int = 28,
) -> dict[str, ImageData]:
    """Train, validation (the last `valid` training images) and test subsets.

    `path` is as for `load_fashion_mnist` (None: found by `find_data`).

    Raises:
        DataNotFoundError: If the data is nowhere.
        BenchmarkDataError: If the data cannot be read.
        DataShapeError: If the sizes do not fit (more than 60000 training
            and validation images, more than 10000 test images).
    """
    full_train, full_test = load_fashion_mnist(path)
    if train < 1 or valid < 1 or train + valid > len(full_train) or not 1 <= test <= len(full_test):
        raise DataShapeError(
            f"cannot take {train} train + {valid} valid of {len(full_train)} images "
            f"and {test} test of {len(full_test)}",
            path="train",
        )
    end = len(full_train) - valid
    splits = {
        "train": full_train.subset(0, train),
        "valid": full_train.subset(end, len(full_train)),
        "test": full_test.subset(0, test),
    }
    return {name: data.resized(size) for name, data in splits.items()}
