"""The benchmark tables shipped inside the package (`automorph/benchmarks/data/`).

They are xz-compressed and read through `importlib.resources`, so they load
from an installed wheel or a zip as well as from a source tree. Their sources,
columns and licences are in `data/PROVENANCE.md`.
"""

from __future__ import annotations

import io
import lzma
from importlib import resources

from automorph.utils import BenchmarkDataError

NB201_FILE = "nb201_merged.csv.xz"
NB101_FILE = "zc_nasbench101.json.xz"


def shipped_name(name: str) -> str:
    """How messages name a shipped file.

    >>> shipped_name(NB201_FILE)
    'automorph/benchmarks/data/nb201_merged.csv.xz (shipped with automorph)'
    """
    return f"automorph/benchmarks/data/{name} (shipped with automorph)"


def read_shipped(name: str, override: str) -> str:
    """The decompressed text of the shipped file `name`.

    Args:
        name: The file in `automorph/benchmarks/data/`.
        override: How the user can give the file instead (for the message).

    Raises:
        BenchmarkDataError: If the file is missing from this installation or
            cannot be decompressed.
    """
    resource = resources.files("automorph.benchmarks").joinpath("data").joinpath(name)
    try:
        with resource.open("rb") as raw, lzma.open(raw) as unpacked:
            return io.TextIOWrapper(unpacked, encoding="utf-8", newline="").read()
    except (OSError, lzma.LZMAError, UnicodeDecodeError) as error:
        raise BenchmarkDataError(
            f"cannot read {shipped_name(name)}: {error}; this installation of automorph lacks "
            f"its data (reinstall it), or {override}"
        ) from error
