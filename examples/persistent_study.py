"""A study that lives in a SQLite file: resumable, shared by workers, inspectable.

The formula search of `search_program.py`, run as a stored study: every
trial goes to the SQLite file as it ends. Run it twice and the second run
resumes where the first stopped; run it with `--workers 4` and four processes
share the study; kill any of them and the others finish its trials. Then look
at it from the command line:

    python examples/persistent_study.py --storage study.db --trials 500
    automorph --storage study.db studies
    automorph --storage study.db best formula
    automorph --storage study.db plot formula --output formula

Run: `python examples/persistent_study.py [--storage PATH] [--trials N] [--workers W]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import automorph as am
from automorph import algorithms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_program import Expr, node

X = np.linspace(-2.0, 2.0, 41)
TARGET = 3 * X**2 + 2 * X - 1


def fit(expr: Expr) -> float:
    """Negative mean squared error against the hidden formula (higher is better)."""
    return -float(np.mean((expr(X) - TARGET) ** 2))


def main(argv: list[str] | None = None) -> am.tuning.StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--storage", default="automorph.db", help="SQLite path or PostgreSQL URL")
    parser.add_argument("--name", default="formula")
    parser.add_argument("--trials", type=int, default=500, help="the study's total budget")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    evolution = algorithms.regularized_evolution(
        population_size=50, tournament_size=10, seed=args.seed
    )
    result = am.tune(
        fit,
        node(depth=3),
        evolution,
        args.trials,
        name=args.name,
        storage=args.storage,
        executor="local" if args.workers == 1 else "process",
        num_workers=args.workers,
        progress=True,
    )
    best = result.best_trial
    print(f"study {args.name!r} in {args.storage}: {result.num_completed} trials completed")
    print(f"best formula: y = {best.example} (mean squared error {-best.reward:.4f})")
    return result


if __name__ == "__main__":
    main()
