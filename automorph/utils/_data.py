"""Where image data sets are found: one resolver for `nn`, `zero`, the examples and benchmarks.

`find_data(name, data)` looks for a data set in this order and returns the
first place that holds it:

1. `data`, the path the caller gives (a file, or a folder holding the file);
   when given, nothing else is tried.
2. The folder named by the environment variable `AUTOMORPH_DATA`.
3. The user data folder, `user_data_dir()`: `$XDG_CACHE_HOME/automorph` or
   `~/.cache/automorph` on Linux, `~/Library/Caches/automorph` on macOS,
   `%LOCALAPPDATA%\\automorph\\Cache` on Windows.
4. For Fashion-MNIST only, the files of Debian's `dataset-fashion-mnist`
   package in `/usr/share/datasets/fashion-mnist/`.

A data set that is nowhere is a `DataNotFoundError` that lists every place
looked and says how to get the data. `load_data(name, data)` reads it as a
dict of numpy arrays.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from automorph.utils._errors import BenchmarkDataError

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "DEBIAN_FASHION_MNIST",
    "DataNotFoundError",
    "DatasetInfo",
    "data_locations",
    "find_data",
    "load_data",
    "read_idx",
    "user_data_dir",
]

DATA_ENV = "AUTOMORPH_DATA"
"""The environment variable that names a folder of data files."""

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's `dataset-fashion-mnist` package installs the Fashion-MNIST IDX files."""

_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_FASHION_LABELS = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_CIFAR_LABELS = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


class DataNotFoundError(BenchmarkDataError, FileNotFoundError):
    """A data file is in none of the places looked; the message lists them and
    says how to get the file. It is also a `FileNotFoundError`."""


@dataclass(frozen=True)
class DatasetInfo:
    """A data set `find_data` knows: its file name, its arrays and how to get it.

    >>> DATASETS["fashion_mnist"].file
    'fashion_mnist.npz'
    """

    name: str
    file: str
    arrays: tuple[str, ...]
    how_to_get: str


CIFAR10_RECIPE = (
    "Build it from the official CIFAR-10 python release "
    "(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) with "
    "`automorph data build-cifar10 --source cifar-10-python.tar.gz --output DIR`, then pass DIR "
    f"or set {DATA_ENV}=DIR. The recipe: flatten each image in CIFAR-10's own layout "
    "(3072 = 3 channels x 32 rows x 32 columns, channel-major), scale to [0, 1] as "
    "`pixels / 255.0` in float64; for each d in (16, 64) draw a fresh "
    "`P_d = numpy.random.default_rng(0).standard_normal((3072, d)) / sqrt(3072)`; "
    "store `x{d}_train`, `x{d}_test` = `x @ P_d` (float64, saved as float32), `proj{d}` = "
    "P_d as float32, `y_train`, `y_test` (uint8) and `label_names`."
)

DATASETS: Mapping[str, DatasetInfo] = {
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        "fashion_mnist.npz",
        ("x_train", "y_train", "x_test", "y_test"),
        "Install Debian's package (`apt-get install dataset-fashion-mnist`), or download the "
        "four *-ubyte.gz files of https://github.com/zalandoresearch/fashion-mnist (folder "
        "data/fashion) into a folder and pass that folder, or save fashion_mnist.npz "
        "(arrays x_train, y_train, x_test, y_test: uint8, as keras.datasets.fashion_mnist "
        "gives them) in one of the folders above.",
    ),
    "cifar10_projected": DatasetInfo(
        "cifar10_projected",
        "cifar10_projected.npz",
        ("x16_train", "x16_test", "x64_train", "x64_test", "y_train", "y_test"),
        CIFAR10_RECIPE,
    ),
}
"""The data sets, by name."""


def data_help(name: str) -> str:
    """The help text of a `--data` option for the data set `name`.

    >>> data_help("cifar10_projected").split(" (")[0]
    'cifar10_projected.npz or its folder'
    """
    info = _info(name)
    if name == "fashion_mnist":
        what = f"{info.file}, its folder, or a folder of its IDX files"
        places = f"${DATA_ENV}, the user data folder, then Debian's dataset-fashion-mnist"
    else:
        what = f"{info.file} or its folder"
        places = f"${DATA_ENV}, then the user data folder"
    return f"{what} (default: {places}; `automorph data where` shows where it looks)"


def user_data_dir() -> Path:
    """The user's data folder for automorph (it need not exist).

    `$XDG_CACHE_HOME/automorph` (default `~/.cache/automorph`) on Linux and other
    Unix systems, `~/Library/Caches/automorph` on macOS,
    `%LOCALAPPDATA%\\automorph\\Cache` on Windows.

    >>> user_data_dir().name in ("automorph", "Cache")
    True
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "automorph" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "automorph"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base_dir = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base_dir / "automorph"


def _info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise BenchmarkDataError(
            f"unknown data set {name!r}; known: {sorted(DATASETS)}", path="name"
        ) from None


def data_locations(name: str, data: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """Every place `find_data` looks for `name`, in order, each with where it comes from.

    >>> [why for _, why in data_locations("cifar10_projected", "x.npz")]
    ['given']
    """
    info = _info(name)
    if data is not None:
        given = Path(data).expanduser()
        return [(given / info.file if given.is_dir() else given, "given")]
    places: list[tuple[Path, str]] = []
    env = os.environ.get(DATA_ENV)
    if env:
        places.append((Path(env).expanduser() / info.file, f"${DATA_ENV}"))
    places.append((user_data_dir() / info.file, "user data folder"))
    if name == "fashion_mnist":
        places.append((DEBIAN_FASHION_MNIST, "Debian's dataset-fashion-mnist"))
    return places


def _idx_folder(folder: Path) -> bool:
    return all(_idx_file(folder, stem) is not None for stem in _IDX_FILES.values())


def _idx_file(folder: Path, stem: str) -> Path | None:
    for suffix in (".gz", ""):
        if (folder / (stem + suffix)).is_file():
            return folder / (stem + suffix)
    return None


def find_data(name: str, data: str | os.PathLike[str] | None = None) -> Path:
    """The file of data set `name` (for Fashion-MNIST, possibly a folder of IDX files).

    Args:
        name: `"fashion_mnist"` or `"cifar10_projected"` (see `DATASETS`).
        data: A file, or a folder holding the file (`fashion_mnist.npz`,
            `cifar10_projected.npz`; for Fashion-MNIST also a folder of its
            four IDX files). When given, it is the only place looked.

    Raises:
        DataNotFoundError: If no place holds the data; the message lists
            every place looked and how to get the data.
        BenchmarkDataError: If `name` is not a known data set.
    """
    info = _info(name)
    places = data_locations(name, data)
    for path, _ in places:
        if path.is_file():
            return path
        folder = path if path.is_dir() else path.parent
        if name == "fashion_mnist" and folder.is_dir() and _idx_folder(folder):
            return folder
    looked = "; ".join(f"{path} ({why})" for path, why in places)
    unset = "" if os.environ.get(DATA_ENV) or data is not None else f" (${DATA_ENV} is not set)"
    raise DataNotFoundError(
        f"no {info.name} data ({info.file}) found; looked in: {looked}{unset}. "
        f"Pass the file or its folder (`--data` on the command line), set {DATA_ENV} to "
        f"its folder, or put it in {user_data_dir()}. {info.how_to_get}"
    )


def load_data(name: str, data: str | os.PathLike[str] | None = None) -> dict[str, NDArray[Any]]:
    """The arrays of data set `name`, found by `find_data`.

    Fashion-MNIST gives `x_train` (60000, 28, 28), `y_train`, `x_test`,
    `y_test` (uint8) and `label_names`, from `fashion_mnist.npz` or from the
    IDX files. Projected CIFAR-10 gives the arrays of `cifar10_projected.npz`.

    Raises:
        DataNotFoundError: If the data is not found (see `find_data`).
        BenchmarkDataError: If the file lacks an array or cannot be read.
    """
    info = _info(name)
    path = find_data(name, data)
    if path.is_dir():
        arrays = {
            key: read_idx(_idx_file(path, stem) or path / stem) for key, stem in _IDX_FILES.items()
        }
    else:
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except (OSError, ValueError) as error:
            raise BenchmarkDataError(
                f"cannot read {info.name} data from {str(path)!r}: {error}"
            ) from error
    missing = [key for key in info.arrays if key not in arrays]
    if missing:
        raise BenchmarkDataError(
            f"{path} has no array {missing[0]!r} (is it the {info.file} file? "
            f"it has {sorted(arrays)})"
        )
    if "label_names" not in arrays:
        labels = _FASHION_LABELS if name == "fashion_mnist" else _CIFAR_LABELS
        arrays["label_names"] = np.array(labels)
    return arrays


_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike[str]) -> NDArray[Any]:
    """An array from an IDX file (MNIST's format), gzipped (`.gz`) or not.

    The header is two zero bytes, a type code (0x08 for uint8) and the number
    of dimensions, then each dimension as a big-endian 32-bit integer; the
    values follow.

    Raises:
        BenchmarkDataError: If the file cannot be read, or its header or size
            is not that of an IDX file.
    """
    path = Path(path)
    try:
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw: bytes = handle.read()
    except (OSError, EOFError) as error:
        raise BenchmarkDataError(f"cannot read IDX file {str(path)!r}: {error}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise BenchmarkDataError(
            f"{path} is not an IDX file: its first bytes {raw[:4].hex()!r} should be "
            "00 00, a type code (08 for uint8) and the number of dimensions"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    offset = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = offset + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise BenchmarkDataError(
            f"{path}: an IDX file of shape {tuple(dims)} has {expected} bytes, this one {len(raw)}"
        )
    values: NDArray[Any] = np.frombuffer(raw, dtype, offset=offset).reshape(dims)
    return values.astype(dtype.newbyteorder("="), copy=True)
