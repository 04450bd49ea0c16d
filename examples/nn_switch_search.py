"""One space, three searches: switch weight sharing on or off with one argument.

The same cell space is searched by ENAS (a supernet trained on paths that
regularized evolution proposes), by DARTS (architecture weights trained by
gradient) or by independent training (every proposal trained from scratch):
only `--method` changes. The found cell is then retrained and tested.

Run: `python examples/nn_switch_search.py --method enas` (or darts, independent).
"""

from __future__ import annotations

import argparse

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn
from automorph.utils import data_help


def main(argv: list[str] | None = None) -> float:
    """Runs the search; returns the found cell's test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", choices=["enas", "darts", "independent"], default="enas")
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--budget", type=int, default=400, help="training steps of the search")
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--retrain-steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=args.train, valid=2000, test=2000, size=14)
    space = amnn.cell_space(8, nodes=2, input_shape=(1, 14, 14))
    algorithm = algorithms.regularized_evolution(
        population_size=10, tournament_size=3, seed=args.seed
    )
    found = amnn.search(  # the one argument: method=
        space,
        data["train"],
        data["valid"],
        algorithm,
        method=args.method,
        budget=args.budget,
        seed=args.seed,
    )
    model = amnn.fit(am.materialize(space, found.dna), data["train"], steps=args.retrain_steps)
    accuracy = amnn.evaluate(model, data["test"])
    print(f"{args.method}: found {found.dna.to_dict()}; test accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
