"""`main`: the argument parser, opening the store, and turning errors into one line."""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from automorph import __version__
from automorph.cli._commands import COMMANDS, STATES, CliError, Context
from automorph.storage import DEFAULT_FILE, Storage, open_storage
from automorph.utils import AutomorphError

ENV_VAR = "AUTOMORPH_STORAGE"
PROG = "automorph"

_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?://(?P<rest>.*)$")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `automorph [--storage URL_OR_PATH] COMMAND ...`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "List, inspect, export and plot the studies of an automorph store; "
            "enqueue trials and delete studies."
        ),
        epilog=(
            f"The store is --storage if given, else ${ENV_VAR}, else ./{DEFAULT_FILE}: a "
            "SQLite file path, a sqlite:/// URL, or a postgresql+psycopg:// URL. "
            "`automorph zero run --config NAME` runs an AutoML-Zero search; "
            "`automorph data where` shows where the image data sets are found."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(parser, after_command=False)
    # The same options after the command (`automorph show NAME --storage x.db`).
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, after_command=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=help_text, description=help_text)

    add("studies", "List the studies: trials, completed, best reward, created.")
    show = add("show", "Show a study: counts by status, best trial, decisions.")
    show.add_argument("name", help="the study's name")
    trials = add("trials", "List a study's trials as a table.")
    trials.add_argument("name", help="the study's name")
    trials.add_argument("--status", choices=STATES, help="only trials of this status")
    trials.add_argument(
        "--limit",
        type=_count,
        default=50,
        metavar="N",
        help="show at most N trials (default 50; 0 shows all)",
    )
    trials.add_argument(
        "--sort",
        choices=("id", "reward"),
        default="id",
        help=(
            "order by id (default) or by reward, best first in the study's direction "
            "(objective 0 for several)"
        ),
    )
    best = add("best", "Show the best trial (the Pareto front for several objectives).")
    best.add_argument("name", help="the study's name")
    best.add_argument("--json", action="store_true", help="write JSON")
    export = add("export", "Write every trial as flat records (CSV or JSON).")
    export.add_argument("name", help="the study's name")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: stdout)")
    plot = add(
        "plot",
        "Plot a study: writes PREFIX.png and PREFIX.html (--kind importance: PREFIX.png).",
    )
    plot.add_argument("name", help="the study's name")
    plot.add_argument(
        "--output",
        "-o",
        metavar="PREFIX",
        help=(
            "path of the files without suffix (default: the study's name, here; "
            "NAME_importance for --kind importance)"
        ),
    )
    plot.add_argument(
        "--kind",
        choices=("report", "importance"),
        default="report",
        help=(
            "report (default): the history and parallel coordinates, and an HTML page; "
            "importance: the importance of each decision as bars (needs scikit-learn)"
        ),
    )
    _add_importance_options(plot)
    imp = add(
        "importance",
        "Rate each decision by the fraction of the reward's variance it explains "
        "(fANOVA over a random forest; needs scikit-learn).",
    )
    imp.add_argument("name", help="the study's name")
    imp.add_argument("--json", action="store_true", help="write JSON")
    _add_importance_options(imp)
    _add_study_actions(add)
    dashboard = add(
        "dashboard",
        "Serve a live web dashboard of the store's studies (the `dashboard` extra).",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: only this machine)",
    )
    dashboard.add_argument(
        "--port", type=_port, default=8080, metavar="N", help="the port (default 8080)"
    )
    dashboard.add_argument(
        "--allow-writes",
        action="store_true",
        help="let the pages enqueue trials and delete studies (default: read-only)",
    )
    return parser


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {value}")
    return value


def _add_importance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--objective",
        type=_count,
        default=0,
        metavar="K",
        help="importance: which objective of a multi-objective study (default 0)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="importance: the seed of the forest (default 0)",
    )


def _add_study_actions(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The verbs that change a study: `enqueue` and `delete`."""
    enqueue = add("enqueue", "Queue a trial that runs before any new proposal (a warm start).")
    enqueue.add_argument("name", help="the study's name")
    given = enqueue.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--params",
        metavar="JSON",
        help='an example of the study\'s space as JSON, e.g. \'{"lr": 0.01, "depth": 3}\'',
    )
    given.add_argument(
        "--dna",
        metavar="JSON",
        help='the decisions as JSON, by decision id or name, e.g. \'{"lr": 0.01, "depth": 1}\'',
    )
    delete = add("delete", "Delete a study and its trials.")
    delete.add_argument("name", help="the study's name")
    delete.add_argument(
        "--yes", "-y", action="store_true", help="do not ask (needed without a terminal)"
    )


def _add_common(parser: argparse.ArgumentParser, after_command: bool) -> None:
    # After the command, an option left out must not undo one given before it.
    keep = argparse.SUPPRESS
    parser.add_argument(
        "--storage",
        metavar="URL_OR_PATH",
        default=keep if after_command else None,
        help=f"the store (default: ${ENV_VAR}, else ./{DEFAULT_FILE})",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        default=keep if after_command else False,
        help="on an error, print the Python traceback too",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv: list[str] | None = None, storage: Storage | None = None) -> int:
    """Runs the `automorph` command line and returns its exit status.

    Args:
        argv: The arguments (by default `sys.argv[1:]`).
        storage: A store to use instead of opening `--storage` (for tests
            and for programs that embed the command line).

    Returns:
        0 on success; 1 when the command cannot run (an unknown study, a
        store that cannot be opened: one line on stderr says why); 2 for a
        command line argparse cannot read.

    >>> from automorph.storage import MemoryStorage, StudyInfo
    >>> store = MemoryStorage()
    >>> _ = store.create_study(StudyInfo("demo", created=1.0))
    >>> main(["show", "demo"], storage=store)  # doctest: +ELLIPSIS
    Study:      demo
    ...
    0
    """
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["zero"]:  # AutoML-Zero searches need no store
        from automorph.cli._zero import main as zero_main

        return zero_main(words[1:])
    if words[:1] == ["data"]:  # data sets need no store
        from automorph.cli._data import main as data_main

        return data_main(words[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or arguments argparse cannot read
        return stop.code if isinstance(stop.code, int) else 2
    err: TextIO = sys.stderr
    out: TextIO = sys.stdout
    opened: Storage | None = None
    try:
        if storage is None:
            opened = storage = open_store(args.storage)
            where = describe(args.storage)
        else:
            where = "the store"
        return COMMANDS[args.command](Context(storage, where, out), args)
    except BrokenPipeError:
        # The reader went away (`automorph export x | head`): not an error worth a word.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
    except (AutomorphError, OSError, ImportError, ValueError) as e:
        if args.traceback:
            traceback.print_exc(file=err)
        err.write(f"{PROG}: error: {_one_line(e)}\n")
        return 1
    except Exception as e:  # noqa: BLE001 - a command line prints one line, not a traceback
        if args.traceback:
            traceback.print_exc(file=err)
        err.write(
            f"{PROG}: error: {type(e).__name__}: {_one_line(e)} "
            "(run with --traceback for details)\n"
        )
        return 1
    finally:
        if opened is not None:
            opened.close()


def open_store(target: str | None) -> Storage:
    """Opens the store named by `--storage`, else `$AUTOMORPH_STORAGE`, else
    `./automorph.db`, refusing to create one.

    Raises:
        CliError: If a SQLite file does not exist, or the store cannot be opened.
    """
    source = "--storage" if target else ENV_VAR if os.environ.get(ENV_VAR) else "default"
    text = target or os.environ.get(ENV_VAR) or DEFAULT_FILE
    how = {
        "--storage": "",
        ENV_VAR: f" (from ${ENV_VAR})",
        "default": f" (the default; give --storage or set ${ENV_VAR})",
    }[source]
    if text.startswith("memory:"):
        raise CliError(
            f"{text!r} is a store in memory, empty in a new process; "
            f"give a SQLite file or a database URL{how}"
        )
    path = sqlite_path(text)
    if path is not None:
        if str(path) in ("", ":memory:"):
            raise CliError(f"{text!r} is a SQLite store in memory, empty in a new process{how}")
        if not path.exists():
            raise CliError(f"no automorph store at {path}: the file does not exist{how}")
        if path.is_dir():
            raise CliError(f"{path} is a folder, not an automorph store{how}")
    try:
        return open_storage(text)
    except ModuleNotFoundError as e:
        if e.name is not None and e.name.startswith("automorph"):
            raise CliError(
                f"cannot open {describe(text)}: this automorph has no SQL storage"
            ) from None
        raise CliError(f"cannot open {describe(text)}: {e}") from None
    except AutomorphError as e:  # the store's own message names it and says why
        raise CliError(_one_line(e)) from None
    except (ImportError, OSError, ValueError) as e:
        raise CliError(f"cannot open {describe(text)}: {_one_line(e)}") from None


def sqlite_path(text: str) -> Path | None:
    """The file of a SQLite path or URL; None for other URLs.

    >>> sqlite_path("runs/a.db"), sqlite_path("sqlite:////tmp/a.db"), sqlite_path("sqlite:///a.db")
    (PosixPath('runs/a.db'), PosixPath('/tmp/a.db'), PosixPath('a.db'))
    >>> sqlite_path("postgresql+psycopg://u@host/db") is None
    True
    """
    match = _SQLITE_URL.match(text)
    if match is None:
        return None if "://" in text else Path(text)
    rest = match.group("rest")
    if not rest.startswith("/"):
        return Path("")
    return Path(rest[1:].split("?", 1)[0])


def describe(target: str | None) -> str:
    """The store as messages name it, without a password.

    >>> describe("postgresql+psycopg://me:secret@db/studies")
    'postgresql+psycopg://me:***@db/studies'
    """
    text = target or os.environ.get(ENV_VAR) or DEFAULT_FILE
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", text)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured)
        pass
