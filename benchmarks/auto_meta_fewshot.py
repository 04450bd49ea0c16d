"""Auto-Meta on few-shot Fashion-MNIST: PNAS-searched MAML learners against MAML's conv net.

For each number of shots: PNAS proposes cells of `amnn.conv_meta_space`
(each node of the cell an operation among `amnn.CONV_OPS` and an input);
each proposal is meta-trained by MAML on 5-way episodes of the
meta-training classes and scored by its accuracy on validation episodes
(new images of the same classes). The best cell and MAML's hand-designed
network (4 blocks of 3x3 conv, batch norm, ReLU, 2x2 max-pool; Finn et al.
2017) are then meta-trained from scratch for the same number of
iterations and tested on episodes of the five meta-test classes, which
neither ever saw: mean accuracy and 95% confidence interval over
`--test-episodes` episodes, as MAML reports. The untrained MAML network,
adapted the same way, is the floor. Budgets are CPU seconds
(`time.process_time`, one torch thread).

    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 19 python benchmarks/auto_meta_fewshot.py \
        --shots 1 --json auto_meta_1shot.json

The data is found as `amnn.load_fashion_mnist` finds it (`--data`, or
`$AUTOMORPH_DATA`, or Debian's `dataset-fashion-mnist`).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn


def _parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def run(args: argparse.Namespace, shots: int) -> dict[str, Any]:
    """Search, retrain and test for one number of shots; returns the figures."""
    splits = amnn.fashion_mnist_episodes(args.data, ways=args.ways, shots=shots, size=args.size)
    shape = {"ways": args.ways, "filters": args.filters, "image_size": args.size}
    train = {
        "meta_batch": args.meta_batch,
        "inner_steps": args.train_steps,
        "inner_lr": args.inner_lr,
        "meta_lr": args.meta_lr,
    }
    test = {"inner_steps": args.test_steps, "inner_lr": args.inner_lr}
    space = amnn.conv_meta_space(args.nodes, **shape)
    trials: list[dict[str, Any]] = []

    def objective(learner: torch.nn.Module) -> float:
        start = time.process_time()
        amnn.maml_fewshot_train(
            learner, splits["train"], iterations=args.search_iterations, seed=args.seed, **train
        )
        score = amnn.maml_fewshot_evaluate(
            learner, splits["valid"], count=args.valid_episodes, seed=999, **test
        )
        cell = learner.cells[0]
        trials.append(
            {
                "ops": cell.ops,
                "inputs": cell.inputs,
                "valid": score.accuracy,
                "cpu_s": time.process_time() - start,
            }
        )
        print(f"  {shots}-shot trial {len(trials)}: {cell.ops} {cell.inputs} valid {score}")
        return score.accuracy

    torch.manual_seed(args.seed)
    start = time.process_time()
    pnas = algorithms.PNAS(
        levels=args.nodes, per_level=max(1, args.trials // (args.nodes + 1)), beam=3, seed=args.seed
    )
    result = am.tune(objective, space, pnas, args.trials)
    search_cpu = time.process_time() - start
    torch.manual_seed(args.seed + 1)
    found = am.materialize(space, result.best_trial.dna)
    learners = {
        "found cell (PNAS)": found,
        "MAML conv net (hand-designed)": amnn.maml_conv_learner(**shape),
    }
    rows: dict[str, Any] = {}
    for label, learner in learners.items():
        start = time.process_time()
        amnn.maml_fewshot_train(
            learner,
            splits["train"],
            iterations=args.final_iterations,
            seed=args.seed + 1,
            **train,
        )
        train_cpu = time.process_time() - start
        score = amnn.maml_fewshot_evaluate(
            learner, splits["test"], count=args.test_episodes, seed=12345, **test
        )
        rows[label] = {
            "test": score.accuracy,
            "ci95": score.ci95,
            "parameters": _parameters(learner),
            "train_cpu_s": train_cpu,
        }
        print(f"{shots}-shot {label}: meta-test {score} ({train_cpu:.0f} CPU s to meta-train)")
    torch.manual_seed(args.seed + 1)
    floor = amnn.maml_conv_learner(**shape)
    score = amnn.maml_fewshot_evaluate(
        floor, splits["test"], count=args.test_episodes, seed=12345, **test
    )
    rows["MAML conv net, not meta-trained"] = {
        "test": score.accuracy,
        "ci95": score.ci95,
        "parameters": _parameters(floor),
        "train_cpu_s": 0.0,
    }
    print(f"{shots}-shot not meta-trained: meta-test {score}")
    cell = found.cells[0]
    return {
        "shots": shots,
        "found": {"ops": cell.ops, "inputs": cell.inputs, "valid": result.best_reward},
        "search_cpu_s": search_cpu,
        "trials": trials,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Runs the experiment for each `--shots`; prints a table per setting."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="Fashion-MNIST file or folder")
    parser.add_argument("--shots", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--ways", type=int, default=5)
    parser.add_argument("--size", type=int, default=14, help="image side (divides 28)")
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--search-iterations", type=int, default=150)
    parser.add_argument("--final-iterations", type=int, default=1000)
    parser.add_argument("--valid-episodes", type=int, default=100)
    parser.add_argument("--test-episodes", type=int, default=600)
    parser.add_argument("--meta-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=1)
    parser.add_argument("--test-steps", type=int, default=10)
    parser.add_argument("--inner-lr", type=float, default=0.1)
    parser.add_argument("--meta-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = []
    for shots in args.shots:
        out = run(args, shots)
        results.append(out)
        print(
            f"\n{args.ways}-way {shots}-shot; search {out['search_cpu_s']:.0f} CPU s; found "
            f"{out['found']['ops']} inputs {out['found']['inputs']}\n"
            "| learner | meta-test accuracy (95% CI) | parameters | meta-train CPU s |\n"
            "| --- | --- | --- | --- |"
        )
        for label, row in out["rows"].items():
            print(
                f"| {label} | {100 * row['test']:.2f} ± {100 * row['ci95']:.2f}% | "
                f"{row['parameters']:,} | {row['train_cpu_s']:.0f} |"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    return results


if __name__ == "__main__":
    main()
