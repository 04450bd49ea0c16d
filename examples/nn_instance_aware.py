"""Instance-aware search (InstaNAS): one architecture per input, accuracy against latency.

A supernet of the cell space is trained with uniformly sampled paths (ENAS
with random search, i.e. one-shot training). A latency table is measured on
this machine: the forward time of every candidate operation at its place in
the network. A controller then learns to pick, for each image, the path that
keeps it correct at the lowest measured latency (or FLOPs, with `--cost
flops`), for a few weights of the cost. Each is compared with single fixed
architectures evaluated with the same shared weights: the best path ENAS
found and the cheapest and the most expensive cells. `benchmarks/
instanas_latency.py` runs the full experiment (a front over many weights).

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

SHAPE = (1, 14, 14)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the searches; returns (accuracy, MFLOPs, ms) per controller and fixed cell."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--supernet-steps", type=int, default=1500)
    parser.add_argument("--controller-steps", type=int, default=400)
    parser.add_argument("--cost", choices=["latency", "flops"], default="latency")
    parser.add_argument("--costs", type=float, nargs="+", default=[0.05, 0.2, 1.0])
    parser.add_argument("--latency-repeats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = amnn.fashion_mnist_splits(args.data, train=20000, valid=2000, test=5000, size=14)
    space = amnn.cell_space(8, nodes=2, input_shape=SHAPE)
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
    latency = amnn.measure_latency(supernet, SHAPE, repeats=args.latency_repeats, seed=args.seed)
    print(
        f"latency table: batch {latency.method['batch_size']}, {latency.method['threads']} "
        f"thread, median of {latency.method['repeats']} rounds, torch {latency.method['torch']}"
    )
    _, flops = amnn.path_flops(supernet, SHAPE)
    table = latency.ops if args.cost == "latency" else flops
    ids = supernet.decision_ids
    cheapest = am.DNA({i: min(range(len(table[i])), key=table[i].__getitem__) for i in ids})
    costliest = am.DNA({i: max(range(len(table[i])), key=table[i].__getitem__) for i in ids})
    results: dict[str, Any] = {}
    for label, dna in (
        ("fixed: ENAS best", shared.dna),
        ("fixed: cheapest", cheapest),
        ("fixed: costliest", costliest),
    ):
        accuracy, mflops = amnn.evaluate_fixed(supernet, dna, data["test"])
        results[label] = (accuracy, mflops, latency.architecture_ms(dna))
    for cost in args.costs:
        found = amnn.instance_search(
            supernet,
            data["train"],
            data["valid"],
            cost_weight=cost,
            latency=latency if args.cost == "latency" else None,
            steps=args.controller_steps,
            seed=args.seed,
        )
        accuracy, mflops = amnn.evaluate_instance(supernet, found.controller, data["test"])
        _, ms = amnn.evaluate_latency(supernet, found.controller, data["test"], latency)
        results[f"per-input, cost weight {cost}"] = (accuracy, mflops, ms)
    for label, (accuracy, mflops, ms) in results.items():
        print(
            f"{label:28s} test accuracy {accuracy:.4f}  {mflops:.3f} MFLOPs per image  "
            f"{ms:.3f} ms per image"
        )
    return results


if __name__ == "__main__":
    main()
