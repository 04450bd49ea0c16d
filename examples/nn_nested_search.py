"""Architecture search inside a search over training settings.

The outer loop (random search with `am.tune`) picks the learning rate and
the batch size; for each setting an inner ENAS search finds a cell with
those settings, and the cell retrained standalone is the outer reward. Any
algorithm drives either loop.

Run: `python examples/nn_nested_search.py --outer 4`.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn
from automorph.utils import data_help


def main(argv: list[str] | None = None) -> am.StudyResult:
    """Runs both loops; returns the outer study."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--outer", type=int, default=4, help="training settings tried")
    parser.add_argument("--inner-steps", type=int, default=200, help="ENAS steps per setting")
    parser.add_argument("--retrain-steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=10000, valid=2000, test=2000, size=14)
    cells = amnn.cell_space(8, nodes=2, input_shape=(1, 14, 14))
    settings = am.Dict(lr=am.floatv(0.01, 0.2, scale="log"), batch_size=am.oneof([32, 64]))

    def outer(setting: Any) -> float:
        inner = algorithms.regularized_evolution(
            population_size=8, tournament_size=3, seed=args.seed
        )
        found = amnn.enas_search(
            cells,
            data["train"],
            data["valid"],
            inner,
            steps=args.inner_steps,
            batch_size=setting["batch_size"],
            lr=setting["lr"],
            seed=args.seed,
        )
        model = amnn.fit(
            am.materialize(cells, found.dna),
            data["train"],
            steps=args.retrain_steps,
            batch_size=setting["batch_size"],
            lr=setting["lr"],
            seed=args.seed,
        )
        accuracy = amnn.evaluate(model, data["valid"])
        print(
            f"lr {setting['lr']:.3f} batch {setting['batch_size']}: cell "
            f"{found.dna.to_dict()} -> valid accuracy {accuracy:.3f}"
        )
        return accuracy

    result = am.tune(outer, settings, algorithms.Random(seed=args.seed), args.outer)
    best = result.best_example
    print(
        f"best setting: lr {best['lr']:.3f}, batch {best['batch_size']}; "
        f"valid accuracy {result.best_reward:.3f}"
    )
    return result


if __name__ == "__main__":
    main()
