"""Search a small symbolic program: find a formula that fits data.

The program is a tree of symbolic objects (`Var`, `Const`, `BinOp`) that
evaluates itself. Its shape is fixed, but which operator sits at each node,
and whether each leaf is the variable or a constant (of what value), are
decisions: an expression search space. Evolution finds a formula close to
the hidden target y = 3x² + 2x - 1 on [-2, 2].

Run: `python examples/search_program.py --trials 2000`.
"""

from __future__ import annotations

import argparse
from typing import Literal

import numpy as np

import automorph as am
from automorph import algorithms


class Expr(am.Object):
    """An expression of one variable."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Var(Expr):
    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x

    def __str__(self) -> str:
        return "x"


class Const(Expr):
    value: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.full_like(x, self.value)

    def __str__(self) -> str:
        return f"{self.value:.3g}"


class BinOp(Expr):
    op: Literal["+", "-", "*"]
    left: Expr
    right: Expr

    def __call__(self, x: np.ndarray) -> np.ndarray:
        a, b = self.left(x), self.right(x)
        return a + b if self.op == "+" else a - b if self.op == "-" else a * b

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


def leaf() -> object:
    return am.oneof([Var(), Const(am.floatv(-4.0, 4.0))])


def node(depth: int) -> object:
    if depth == 0:
        return leaf()
    return BinOp(am.oneof(["+", "-", "*"]), node(depth - 1), node(depth - 1))


def main(argv: list[str] | None = None) -> am.StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    x = np.linspace(-2.0, 2.0, 41)
    target = 3 * x**2 + 2 * x - 1

    def fit(expr: Expr) -> float:
        return -float(np.mean((expr(x) - target) ** 2))  # higher is better

    space = node(depth=3)
    print(f"search space: {am.dna_spec(space).size} expressions of depth 3")
    evolution = algorithms.regularized_evolution(
        population_size=50, tournament_size=10, seed=args.seed
    )
    result = am.tune(fit, space, evolution, args.trials, progress=args.progress)
    best = result.best_trial
    print(f"best formula after {len(result.trials)} trials: y = {best.example}")
    print(f"mean squared error {-best.reward:.4f}")
    return result


if __name__ == "__main__":
    main()
