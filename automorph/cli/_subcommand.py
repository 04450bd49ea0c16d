"""What `automorph zero` and `automorph data` share: parse, run, and turn
errors into one line and an exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

from automorph.utils import AutomorphError

Body = Callable[[argparse.Namespace, TextIO, TextIO], int]


def run_subcommand(
    prog: str,
    parser: argparse.ArgumentParser,
    body: Body,
    argv: list[str],
    errors: tuple[type[BaseException], ...] = (AutomorphError, OSError),
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Runs `body(args, out, err)` on `argv` parsed by `parser`; returns its
    exit status, 2 for a usage error (argparse has printed it), or 1 after
    one line `PROG: error: ...` on `err` for an error of `errors`."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return body(args, out, err)
    except errors as e:
        err.write(f"{prog}: error: {' '.join(str(e).split())}\n")
        return 1
