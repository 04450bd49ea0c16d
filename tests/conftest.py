"""Test setup: where the tests find the data kept outside the repository.

The image data (Fashion-MNIST, projected CIFAR-10) is reached only through the
resolver users have, `automorph.utils.find_data`: when a `shared/data/images`
folder lies beside the clone (`../shared/data/images`, as on the project's
machines and in CI), `AUTOMORPH_DATA` is set to it for the whole session,
unless it is set already. Tests that need data the resolver cannot find skip
with the resolver's message as the reason.

The NAS benchmark tables ship with the package. Their source files beside the
clone (`../shared/data/nasbench`) serve one purpose: checking that the shipped
copies equal them, through the `nasbench_source` fixture and the environment
variables users have (`AUTOMORPH_NB201`, `AUTOMORPH_NB101_SAMPLE`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automorph.utils import DATA_ENV, DataNotFoundError, find_data

# `../shared/data` beside the clone; a checkout elsewhere (a git worktree) names the
# folder with AUTOMORPH_TEST_SHARED instead.
SHARED = Path(
    os.environ.get("AUTOMORPH_TEST_SHARED")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)

if (SHARED / "images").is_dir() and not os.environ.get(DATA_ENV):
    os.environ[DATA_ENV] = str(SHARED / "images")

# Ray reads its authentication mode once per process. The multi-node test joins
# nodes started by `ray start` without a shared token, so every Ray use in the
# session (local instances included) runs with token authentication off.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def data_or_skip(name: str) -> Path:
    """The file of data set `name` as users' resolver finds it, or skip the test."""
    try:
        return find_data(name)
    except DataNotFoundError as error:
        pytest.skip(f"no {name} data: {error.message[:300]}")


@pytest.fixture(scope="session")
def nasbench_source() -> Path:
    """The folder of the NAS benchmark source files beside the clone, or skip."""
    folder = SHARED / "nasbench"
    if not folder.is_dir():
        pytest.skip(f"no NAS benchmark source files at {folder}")
    return folder


@pytest.fixture(scope="session")
def fashion_mnist_path() -> Path:
    """Fashion-MNIST as the resolver finds it (a .npz file or an IDX folder), or skip."""
    return data_or_skip("fashion_mnist")


@pytest.fixture(scope="session")
def cifar10_path() -> Path:
    """`cifar10_projected.npz` as the resolver finds it, or skip."""
    return data_or_skip("cifar10_projected")
