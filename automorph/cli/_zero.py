"""`automorph zero ...`: run AutoML-Zero searches from the command line.

automorph zero run --config linear-demo [--seed N] [--checkpoint FILE]
                   [--max-cpu-seconds S] [--max-experiments N]
                   [--max-train-steps N] [--json FILE]
                   [--data PATH]
                   [--islands N [--backend process|ray] [--migrate-every N]
                    [--migrants K] [--rounds N] [--checkpoint-every S]
                    [--ray-address HOST:PORT]]
automorph zero configs

With `--islands N` the search evolves N populations at once, in worker
processes or as Ray actors, with migration around a ring (`zero.run_islands`).

Image configs (`cifar10-binary`) read `cifar10_projected.npz` from `--data`
(the file or its folder), else `$AUTOMORPH_DATA`, else the user data folder
(see `automorph.utils.find_data`; `automorph data where` shows the places).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from automorph import zero
from automorph.cli._subcommand import run_subcommand
from automorph.symbolic import KeyPath
from automorph.utils import DATA_ENV, AutomorphError, user_data_dir


def build_parser() -> argparse.ArgumentParser:
    """The parser of `automorph zero COMMAND ...`."""
    parser = argparse.ArgumentParser(
        prog="automorph zero", description="AutoML-Zero: evolve learning algorithms."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="Run a search and print the best program.")
    run.add_argument(
        "--config", required=True, help=f"a named config ({', '.join(zero.CONFIG_NAMES)})"
    )
    run.add_argument("--seed", type=int, default=1000, help="the search seed (default 1000)")
    run.add_argument("--checkpoint", metavar="FILE", help="save here; resume if it exists")
    run.add_argument("--max-cpu-seconds", type=float, help="stop after this much CPU time")
    run.add_argument("--max-experiments", type=int, help="override the config's limit")
    run.add_argument(
        "--max-train-steps",
        type=int,
        metavar="N",
        help="override the config's training steps per experiment (and island); a checkpoint "
        "resumes under either limit",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.add_argument("--json", metavar="FILE", help="write the result (program JSON) here")
    run.add_argument(
        "--data",
        metavar="PATH",
        help="image data for image configs: the .npz file or its folder "
        f"(default: ${DATA_ENV}, else {user_data_dir()})",
    )
    islands = run.add_argument_group(
        "islands", "evolve several populations at once, with migration (zero.run_islands)"
    )
    islands.add_argument("--islands", type=int, metavar="N", help="the number of populations")
    islands.add_argument(
        "--backend",
        choices=zero.ISLAND_BACKENDS,
        help="worker processes on this machine (default), or Ray actors on a cluster",
    )
    islands.add_argument(
        "--migrate-every",
        type=int,
        metavar="N",
        help="children each island evolves between migrations (default 10 x population size)",
    )
    islands.add_argument(
        "--migrants", type=int, metavar="K", help="members sent to the next island (default 5)"
    )
    islands.add_argument("--rounds", type=int, metavar="N", help="stop after N migration rounds")
    islands.add_argument(
        "--checkpoint-every",
        type=float,
        metavar="S",
        help="seconds between checkpoints (default 60; 0: after every round)",
    )
    islands.add_argument(
        "--ray-address",
        metavar="HOST:PORT",
        help="the Ray cluster's head (default $RAY_ADDRESS, else a local Ray)",
    )
    commands.add_parser("configs", help="List the named configs.")
    return parser


_ISLAND_OPTIONS = (
    "backend", "migrate_every", "migrants", "rounds", "checkpoint_every", "ray_address",
)  # fmt: skip


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Runs `automorph zero ...`; returns the exit status.

    >>> import io
    >>> main(["configs"], out=io.StringIO())
    0
    """
    return run_subcommand(
        "automorph zero",
        build_parser(),
        _dispatch,
        argv,
        (AutomorphError, OSError, ImportError),  # ImportError: the `zero` extra
        out,
        err,
    )


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "configs":
        for name in zero.CONFIG_NAMES:
            out.write(name + "\n")
        return 0
    return _run(args, out, err)


def with_data(config: zero.SearchConfig, data: str) -> zero.SearchConfig:
    """`config` with `data` as the data path of each of its image task sets.

    >>> config = with_data(zero.get_config("cifar10-binary"), "images")
    >>> config.search_tasks.data_path, config.select_tasks.data_path
    ('images', 'images')
    """
    paths: dict[str | KeyPath, Any] = {
        f"{name}.data_path": data
        for name in ("search_tasks", "select_tasks", "final_tasks")
        if getattr(config, name) is not None and getattr(config, name).accuracy
    }
    return config.rebind(paths) if paths else config


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = zero.get_config(args.config)
    if args.max_experiments is not None:
        config = config.rebind({"max_experiments": args.max_experiments})
    if args.max_train_steps is not None:
        config = config.rebind({"max_train_steps": args.max_train_steps})
    if args.data is not None:
        config = with_data(config, args.data)
    progress = None if args.quiet else out
    result: zero.SearchResult | zero.IslandResult
    if args.islands is None:
        given = [
            f"--{n.replace('_', '-')}" for n in _ISLAND_OPTIONS if getattr(args, n) is not None
        ]
        if given:
            raise zero.ConfigError(f"{', '.join(given)} need --islands N")
        result = zero.run_search(
            config,
            seed=args.seed,
            out=progress,
            checkpoint=args.checkpoint,
            max_cpu_seconds=args.max_cpu_seconds,
            err=err,  # the one-time compile is announced here, and not counted in the budget
        )
        counters = result.counters
    else:
        options = {n: getattr(args, n) for n in _ISLAND_OPTIONS if getattr(args, n) is not None}
        result = zero.run_islands(
            config,
            seed=args.seed,
            islands=args.islands,
            checkpoint=args.checkpoint,
            max_cpu_seconds=args.max_cpu_seconds,
            out=progress,
            err=err,
            progress=not args.quiet,
            **options,
        )
        counters = result.totals
    n_features = config.search_tasks.features
    out.write(
        f"{'solved' if result.solved else 'not solved'}: select_fitness="
        f"{result.select_fitness:.6f} experiments={result.experiments} "
        f"cpu_secs={result.cpu_seconds:.1f} programs={counters.get('programs', 0)}\n"
    )
    if result.final_fitness is not None:
        out.write(f"final_fitness={result.final_fitness:.6f}\n")
    out.write(result.program.code(n_features) + "\n")
    if args.json:
        saved: dict[str, Any] = {
            "program": zero.Program.to_json(result.program),
            "select_fitness": result.select_fitness,
            "final_fitness": result.final_fitness,
            "solved": result.solved,
            "experiments": result.experiments,
            "cpu_seconds": result.cpu_seconds,
            "counters": counters,
        }
        if isinstance(result, zero.IslandResult):
            saved.update(islands=result.counters, rounds=result.rounds, restarts=result.restarts)
        with open(args.json, "w") as f:
            json.dump(saved, f, indent=1)
    return 0
