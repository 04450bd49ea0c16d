"""Instance-aware search (InstaNAS): one architecture per input, accuracy against FLOPs.

A supernet of the cell space is trained with uniformly sampled paths (ENAS
with random search, i.e. one-shot training). A controller then learns to pick,
for each image, the path that keeps it correct at the lowest FLOPs, for a few
weights of the FLOPs cost. Each is compared with single fixed architectures
evaluated with the same shared weights: the best path ENAS found and the
cheapest and the most expensive cells.

Run: `python examples/nn_instance_aware.py`.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn
from automorph.utils import data_help


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the searches; returns (accuracy, MFLOPs) per controller and fixed cell."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--supernet-steps", type=int, default=1500)
    parser.add_argument("--controller-steps", type=int, default=400)
    parser.add_argument("--costs", type=float, nargs="+", default=[0.1, 0.5, 1.0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=20000, valid=2000, test=5000, size=14)
    space = amnn.cell_space(8, nodes=2, input_shape=(1, 14, 14))
    shared = amnn.enas_search(
        space,
        data["train"],
        data["valid"],
        algorithms.Random(seed=args.seed),
        steps=args.supernet_steps,
        seed=args.seed,
    )
    assert shared.supernet is not None
    supernet = shared.supernet
    _, table = amnn.path_flops(supernet, (1, 14, 14))
    ids = supernet.decision_ids
    cheapest = am.DNA({i: min(range(len(table[i])), key=table[i].__getitem__) for i in ids})
    costliest = am.DNA({i: max(range(len(table[i])), key=table[i].__getitem__) for i in ids})
    results: dict[str, Any] = {}
    for label, dna in (
        ("fixed: ENAS best", shared.dna),
        ("fixed: cheapest", cheapest),
        ("fixed: costliest", costliest),
    ):
        results[label] = amnn.evaluate_fixed(supernet, dna, data["test"])
    for cost in args.costs:
        found = amnn.instance_search(
            supernet,
            data["train"],
            data["valid"],
            cost_weight=cost,
            steps=args.controller_steps,
            seed=args.seed,
        )
        results[f"per-input, cost weight {cost}"] = amnn.evaluate_instance(
            supernet, found.controller, data["test"]
        )
    for label, (accuracy, mflops) in results.items():
        print(f"{label:28s} test accuracy {accuracy:.4f}  {mflops:.3f} MFLOPs per image")
    return results


if __name__ == "__main__":
    main()
