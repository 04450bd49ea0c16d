"""`automorph data ...`: where the image data sets are, and building projected CIFAR-10.

automorph data where [--data PATH]
automorph data build-cifar10 --source cifar-10-python.tar.gz [--output DIR]
"""

from __future__ import annotations

import argparse
from typing import TextIO

from automorph.cli._subcommand import run_subcommand
from automorph.utils import (
    DATA_ENV,
    DATASETS,
    DataNotFoundError,
    build_cifar10_projected,
    data_locations,
    find_data,
    user_data_dir,
)

_BUILD_HELP = (
    "Build cifar10_projected.npz from the official CIFAR-10 python release "
    "(cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html). Each image "
    "is flattened channel-major (3 x 32 x 32), scaled by /255 in float64 and projected by "
    "numpy.random.default_rng(0).standard_normal((3072, d)) / sqrt(3072), a fresh generator "
    "for each d in (16, 64); projections are stored as float32. Verified: the projection "
    "matrices have the sha256 of the reference copy automorph's tests use, and a small "
    "tarball in the official format gives exactly the recipe's arrays. The reference copy "
    "was itself made from JPEG re-encodings of CIFAR-10, so its x16/x64 arrays differ from "
    "the ones built here from the official pixels (about 6% median relative difference); "
    "labels, order and projections are the same."
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `automorph data COMMAND ...`."""
    parser = argparse.ArgumentParser(
        prog="automorph data",
        description=(
            "Image data sets (Fashion-MNIST, projected CIFAR-10): where automorph finds "
            f"them (--data, else ${DATA_ENV}, else {user_data_dir()}, and for Fashion-MNIST "
            "Debian's dataset-fashion-mnist files) and how to build them."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    where = commands.add_parser("where", help="Show where each data set is found, or not.")
    where.add_argument("--data", metavar="PATH", help="a file or folder to look in first")
    build = commands.add_parser(
        "build-cifar10", help="Build cifar10_projected.npz.", description=_BUILD_HELP
    )
    build.add_argument(
        "--source",
        required=True,
        metavar="FILE",
        help="cifar-10-python.tar.gz (or its extracted cifar-10-batches-py folder)",
    )
    build.add_argument(
        "--output",
        metavar="DIR",
        default=None,
        help=f"folder (or .npz path) to write (default: {user_data_dir()})",
    )
    return parser


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Runs `automorph data ...`; returns the exit status.

    >>> import io
    >>> main(["where", "--data", "nowhere"], out=io.StringIO())
    1
    """
    return run_subcommand("automorph data", build_parser(), _dispatch, argv, out=out, err=err)


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "where":
        return _where(args.data, out)
    target = build_cifar10_projected(args.source, args.output or user_data_dir())
    out.write(f"wrote {target}\n")
    return 0


def _where(data: str | None, out: TextIO) -> int:
    missing = 0
    for name in DATASETS:
        try:
            out.write(f"{name}: {find_data(name, data)}\n")
        except DataNotFoundError:
            missing += 1
            out.write(f"{name}: not found; looked in:\n")
            for path, why in data_locations(name, data):
                out.write(f"    {path} ({why})\n")
    return 1 if missing else 0
