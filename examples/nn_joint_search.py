"""Joint search of an architecture and its training hyper-parameters.

One symbolic space holds the network (cell operations and width) next to
the learning rate and batch size; regularized evolution searches all of
them together, each proposal trained independently.

Run: `python examples/nn_joint_search.py --trials 20`.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn
from automorph.utils import data_help


def space() -> Any:
    """The network and its training settings, in one space."""
    cell = amnn.Cell([am.oneof(amnn.cell_ops(8)) for _ in range(3)], 2)
    return am.Dict(
        model=amnn.Network(cell, 8, 10, (1, 14, 14)),
        lr=am.floatv(0.005, 0.2, scale="log"),
        batch_size=am.oneof([32, 64, 128]),
    )


def main(argv: list[str] | None = None) -> am.StudyResult:
    """Runs the search; returns the study."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--steps", type=int, default=150, help="training steps per trial")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=10000, valid=2000, test=2000, size=14)

    def objective(example: Any) -> float:
        model = amnn.fit(
            example["model"],
            data["train"],
            steps=args.steps,
            batch_size=example["batch_size"],
            lr=example["lr"],
            seed=args.seed,
        )
        return amnn.evaluate(model, data["valid"])

    algorithm = algorithms.regularized_evolution(
        population_size=8, tournament_size=3, seed=args.seed
    )
    result = am.tune(objective, space(), algorithm, args.trials)
    best = result.best_example
    print(
        f"best: lr {best['lr']:.4f}, batch {best['batch_size']}, "
        f"dna {result.best_trial.dna.to_dict()}; valid accuracy {result.best_reward:.3f}"
    )
    return result


if __name__ == "__main__":
    main()
