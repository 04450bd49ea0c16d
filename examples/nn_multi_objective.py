"""Accuracy against parameter count: multi-objective architecture search with NSGA-II.

The space varies the cell operations and the width; NSGA-II keeps the
networks no other network beats on both accuracy and size, and the Pareto
front is printed from smallest to largest.

Run: `python examples/nn_multi_objective.py --trials 24`.
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
    """Networks of three widths, each with its own searched 2-node cell."""
    return am.oneof(
        [amnn.cell_space(width, nodes=2, input_shape=(1, 14, 14)) for width in (4, 8, 16)]
    )


def main(argv: list[str] | None = None) -> am.StudyResult:
    """Runs the search; returns the study (its `pareto_front` is the result)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--steps", type=int, default=150, help="training steps per trial")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=10000, valid=2000, test=2000, size=14)

    def objective(network: torch.nn.Module) -> tuple[float, float]:
        model = amnn.fit(network, data["train"], steps=args.steps, seed=args.seed)
        params = sum(p.numel() for p in model.parameters())
        return amnn.evaluate(model, data["valid"]), -params / 1000.0

    algorithm = algorithms.nsga2(population_size=8, seed=args.seed)
    result = am.tune(objective, space(), algorithm, args.trials)
    for trial in sorted(result.pareto_front, key=lambda t: -t.reward[1]):  # type: ignore[index]
        accuracy, size = trial.reward  # type: ignore[misc]
        print(f"pareto: {-size:.2f}k parameters, accuracy {accuracy:.3f}, {trial.dna.to_dict()}")
    return result


if __name__ == "__main__":
    main()
