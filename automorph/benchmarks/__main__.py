"""`python -m automorph.benchmarks`: run algorithms on a benchmark over many seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automorph.benchmarks import names
from automorph.benchmarks._harness import run_experiment
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
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--output", default=None, help="folder (default: benchmarks/out/BENCHMARK)")
    run.add_argument("--data", default=None, help="path of the benchmark's data file")
    commands.add_parser("list", help="list the registered benchmarks")
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(names()))
        return 0
    output = Path(args.output or f"benchmarks/out/{args.benchmark}")
    try:
        result = run_experiment(
            args.benchmark,
            args.algorithms.split(","),
            args.trials,
            args.seeds,
            args.workers,
            output,
            data=args.data,
        )
    except AutomorphError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(result["table"])
    print(
        f"\nwrote {output / 'results.md'}, {output / 'results.json'}, {output / 'regret.png'} "
        f"in {result['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
