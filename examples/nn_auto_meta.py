"""Auto-Meta: progressive search (PNAS) of the cell of a MAML learner.

Each node of the learner's cell picks an operation and an input; PNAS
proposes cells, each is meta-trained briefly by MAML and scored on
validation tasks after adaptation. The found cell and the MAML paper's
hand-designed learner are then meta-trained with the same, longer budget
and compared on new test tasks.

`--task sinusoid` (default): regression of sinusoids from 10 points; the
hand-designed learner is two ReLU layers of 40. `--task fashion-mnist`:
5-way few-shot classification (`--shots`) whose meta-test classes are five
Fashion-MNIST classes the learners never saw in meta-training; the
hand-designed learner is MAML's conv net (4 blocks of 3x3 conv, batch norm,
ReLU, 2x2 max-pool), and the score is meta-test accuracy with its 95%
confidence interval. `benchmarks/auto_meta_fewshot.py` runs the full
experiment.

Run: `python examples/nn_auto_meta.py [--task fashion-mnist --shots 1]`.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import automorph as am
from automorph import algorithms
from automorph import nn as amnn


def sinusoid(args: argparse.Namespace) -> dict[str, Any]:
    """Searches sinusoid learners; returns the found cell and the test MSE of both learners."""
    space = amnn.meta_cell_space(nodes=3)

    def objective(learner: torch.nn.Module) -> float:
        amnn.maml_train(learner, iterations=args.search_iterations, seed=args.seed)
        return -amnn.maml_evaluate(learner, tasks=50, seed=999)  # validation tasks

    pnas = algorithms.PNAS(levels=3, per_level=max(1, args.trials // 4), beam=3, seed=args.seed)
    result = am.tune(objective, space, pnas, args.trials)
    found = am.materialize(space, result.best_trial.dna)
    print(
        f"found cell: ops {found.cell.ops}, inputs {found.cell.inputs} "
        f"(validation MSE {-result.best_reward:.3f})"
    )
    scores = {}
    for label, learner in (("found", found), ("hand-designed", amnn.hand_designed_learner())):
        torch.manual_seed(args.seed)
        amnn.maml_train(learner, iterations=args.final_iterations, seed=args.seed + 1)
        scores[label] = amnn.maml_evaluate(learner, tasks=200)
        print(f"{label}: meta-test MSE after one adaptation step {scores[label]:.3f}")
    return {"dna": result.best_trial.dna, **scores}


def fashion_mnist(args: argparse.Namespace) -> dict[str, Any]:
    """Searches few-shot conv learners; returns the found cell and both meta-test scores."""
    splits = amnn.fashion_mnist_episodes(shots=args.shots, size=14)
    shape = {"filters": 16, "image_size": 14}
    space = amnn.conv_meta_space(nodes=2, **shape)

    def objective(learner: torch.nn.Module) -> float:
        amnn.maml_fewshot_train(
            learner, splits["train"], iterations=args.search_iterations, seed=args.seed
        )
        return amnn.maml_fewshot_evaluate(learner, splits["valid"], count=50, seed=999).accuracy

    torch.manual_seed(args.seed)
    pnas = algorithms.PNAS(levels=2, per_level=max(1, args.trials // 3), beam=3, seed=args.seed)
    result = am.tune(objective, space, pnas, args.trials)
    found = am.materialize(space, result.best_trial.dna)
    print(
        f"found cell: ops {found.cells[0].ops}, inputs {found.cells[0].inputs} "
        f"(validation accuracy {100 * result.best_reward:.2f}%)"
    )
    scores = {}
    for label, learner in (("found", found), ("hand-designed", amnn.maml_conv_learner(**shape))):
        amnn.maml_fewshot_train(
            learner, splits["train"], iterations=args.final_iterations, seed=args.seed + 1
        )
        scores[label] = amnn.maml_fewshot_evaluate(learner, splits["test"], count=args.episodes)
        print(f"{label}: 5-way {args.shots}-shot meta-test accuracy {scores[label]}")
    return {"dna": result.best_trial.dna, **scores}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the search for `--task`; returns the found cell and both learners' scores."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=["sinusoid", "fashion-mnist"], default="sinusoid")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--search-iterations", type=int, default=200)
    parser.add_argument("--final-iterations", type=int, default=1500)
    parser.add_argument("--shots", type=int, default=1, help="fashion-mnist: shots per class")
    parser.add_argument("--episodes", type=int, default=600, help="fashion-mnist: test episodes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    return sinusoid(args) if args.task == "sinusoid" else fashion_mnist(args)


if __name__ == "__main__":
    main()
