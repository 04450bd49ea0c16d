"""Search a small convolutional cell on Fashion-MNIST with DARTS and with ENAS.

One search space (`amnn.cell_space`: a 3-node cell whose 6 edges each pick
one of 6 operations) is searched two ways with shared weights: DARTS trains
architecture weights by gradient, ENAS trains the supernet on paths that an
automorph algorithm proposes (any registered name: `regularized_evolution`,
`random`, or a learned controller). The found cell and random cells of the
same space are then retrained standalone under the same budget and scored
on the Fashion-MNIST test set.

Run (the figures in benchmarks/RESULTS.md), from any directory:
`python examples/nas_fashion_mnist.py --method both --data PATH`, where PATH is
`fashion_mnist.npz`, its folder or a folder of its IDX files; without `--data`
the data is found in `$AUTOMORPH_DATA`, the user data folder or Debian's
`dataset-fashion-mnist` files (`automorph data where` shows the places).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn
from automorph.utils import data_help


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--method", choices=["darts", "enas", "both"], default="both")
    parser.add_argument("--algorithm", default="regularized_evolution", help="drives ENAS")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--train-size", type=int, default=50000)
    parser.add_argument("--valid-size", type=int, default=10000)
    parser.add_argument("--test-size", type=int, default=10000)
    parser.add_argument("--darts-steps", type=int, default=400)
    parser.add_argument("--enas-steps", type=int, default=1000)
    parser.add_argument("--retrain-steps", type=int, default=800)
    parser.add_argument("--random-archs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def _algorithm(name: str, seed: int, steps: int) -> algorithms.SearchAlgorithm:
    if name == "regularized_evolution":
        size = max(4, min(100, steps // 10))
        return algorithms.regularized_evolution(
            population_size=size, tournament_size=max(2, size // 4), seed=seed
        )
    return algorithms.create(name, seed=seed)


def _retrain(
    space: Any, dna: am.DNA, data: dict[str, amnn.ImageData], args: argparse.Namespace, label: str
) -> float:
    torch.manual_seed(args.seed)
    model = am.materialize(space, dna)
    every = max(1, args.retrain_steps // 5)
    progress = None if args.quiet else amnn.Progress(label, args.retrain_steps, every)
    amnn.fit(model, data["train"], steps=args.retrain_steps, seed=args.seed, progress=progress)
    return amnn.evaluate(model, data["test"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the searches; returns test accuracies and the found DNA by method."""
    args = _args(argv)
    torch.set_num_threads(args.threads)
    train, test = amnn.load_fashion_mnist(args.data)
    end = 60000 - args.valid_size
    data = {
        "train": train.subset(0, min(args.train_size, end)),
        "valid": train.subset(end, 60000),
        "test": test.subset(0, args.test_size),
    }
    space = amnn.cell_space(args.channels, nodes=3)
    spec = am.dna_spec(space)
    print(
        f"space: {spec.size:.0f} cells; data: {len(data['train'])} train, "
        f"{len(data['valid'])} valid, {len(data['test'])} test"
    )
    results: dict[str, Any] = {}
    methods = ["darts", "enas"] if args.method == "both" else [args.method]
    for method in methods:
        start = time.process_time()
        if method == "darts":
            found = amnn.darts_search(
                space,
                data["train"],
                data["valid"],
                steps=args.darts_steps,
                seed=args.seed,
                progress=not args.quiet,
            )
        else:
            algorithm = _algorithm(args.algorithm, args.seed, args.enas_steps)
            found = amnn.enas_search(
                space,
                data["train"],
                data["valid"],
                algorithm,
                steps=args.enas_steps,
                seed=args.seed,
                progress=not args.quiet,
            )
        accuracy = _retrain(space, found.dna, data, args, f"{method} retrain")
        cpu = time.process_time() - start
        print(
            f"{method}: found {found.dna.to_dict()}; supernet valid {found.score:.3f}; "
            f"test accuracy {accuracy:.4f}; search {found.seconds:.0f}s CPU, total {cpu:.0f}s CPU"
        )
        results[method] = {"dna": found.dna, "test_accuracy": accuracy, "cpu_seconds": cpu}
    rng = np.random.default_rng(args.seed + 1000)
    randoms = [
        _retrain(space, spec.random_dna(rng), data, args, f"random {i}")
        for i in range(args.random_archs)
    ]
    results["random"] = randoms
    if randoms:
        print(
            f"random cells: test accuracy {', '.join(f'{a:.4f}' for a in randoms)} "
            f"(mean {np.mean(randoms):.4f})"
        )
    return results


if __name__ == "__main__":
    main()
