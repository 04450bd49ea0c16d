"""`python -m automorph.benchmarks`: run algorithms on a benchmark over many seeds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automorph.benchmarks import names
from automorph.benchmarks._harness import NO_FIGURE, run_experiment
from automorph.benchmarks._suite import PRESETS, resolve, run_suite
from automorph.utils import AutomorphError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m automorph.benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run algorithms x seeds on a benchmark")
    run.add_argument("--benchmark", required=True, help="a registered benchmark name")
    run.add_argument(
        "--algorithms",
        required=True,
        help="comma-separated registered names, each optionally name:key=value:...",
    )
    run.add_argument("--trials", type=int, default=300)
    run.add_argument("--seeds", type=int, default=10)
    run.add_argument("--workers", type=int, default=1, help="runs at a time")
    run.add_argument(
        "--executor",
        choices=("local", "process", "ray"),
        default=None,
        help="where the runs go: this process, worker processes or Ray "
        "(default: local for one worker, else process)",
    )
    run.add_argument("--output", default=None, help="folder (default: benchmarks/out/BENCHMARK)")
    run.add_argument(
        "--data",
        default=None,
        help="the benchmark's data file (default: the table shipped with automorph)",
    )
    suite = commands.add_parser(
        "suite", help="run several benchmarks x algorithms; one table and one figure"
    )
    suite.add_argument("--preset", default=None, help=f"one of: {', '.join(sorted(PRESETS))}")
    suite.add_argument("--benchmarks", default=None, help="comma-separated (replaces the preset's)")
    suite.add_argument("--algorithms", default=None, help="comma-separated (replaces the preset's)")
    suite.add_argument("--trials", type=int, default=None)
    suite.add_argument("--seeds", type=int, default=None)
    suite.add_argument("--workers", type=int, default=1, help="runs at a time")
    suite.add_argument(
        "--executor",
        choices=("local", "process", "ray"),
        default=None,
        help="where the runs go: this process, worker processes or Ray "
        "(default: local for one worker, else process)",
    )
    suite.add_argument("--output", default=None, help="folder (default: benchmarks/out/PRESET)")
    suite.add_argument(
        "--data",
        default=None,
        help="the benchmarks' data file (default: the table shipped with automorph)",
    )
    commands.add_parser("list", help="list the registered benchmarks and suite presets")
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(names()))
        print("\nsuite presets: " + ", ".join(sorted(PRESETS)))
        return 0
    if args.command == "suite":
        output = Path(args.output or f"benchmarks/out/{args.preset or 'suite'}")
        return _report(output, lambda: _run_suite(args, output))
    output = Path(args.output or f"benchmarks/out/{args.benchmark}")
    return _report(
        output,
        lambda: run_experiment(
            args.benchmark,
            args.algorithms.split(","),
            args.trials,
            args.seeds,
            args.workers,
            output,
            data=args.data,
            executor=args.executor,
        ),
    )


def _run_suite(args: argparse.Namespace, output: Path) -> dict[str, Any]:
    suite = resolve(
        args.preset,
        benchmarks=args.benchmarks,
        algorithms=args.algorithms,
        trials=args.trials,
        seeds=args.seeds,
    )
    return run_suite(suite, output, workers=args.workers, data=args.data, executor=args.executor)


def _report(output: Path, run: Callable[[], dict[str, Any]]) -> int:
    """Runs `run`, then prints its table and the files written (exit status 0), or the error (1)."""
    try:
        result = run()
    except AutomorphError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(result["table"])
    figure = result.get("figure")
    files = [output / "results.md", output / "results.json", *([figure] if figure else [])]
    note = "" if figure else f" ({NO_FIGURE})"
    print(f"\nwrote {', '.join(map(str, files))} in {result['seconds']:.0f} s{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
