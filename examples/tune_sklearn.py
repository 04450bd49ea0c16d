"""Tune a scikit-learn classifier on the digits data set with evolution.

The search space is an ordinary scikit-learn pipeline, made symbolic with
`am.symbolize`, in which some arguments are hyper-values: the kind of model
is a choice, and each model has its own continuous hyper-parameters (a
conditional space). Regularized evolution searches it; each trial trains on
a training split and reports validation accuracy.

Run: `python examples/tune_sklearn.py --trials 60`.
"""

from __future__ import annotations

import argparse

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import automorph as am
from automorph import algorithms

SymPipeline = am.symbolize(Pipeline)
SymScaler = am.symbolize(StandardScaler)
SymSVC = am.symbolize(SVC)
SymLogistic = am.symbolize(LogisticRegression)


def search_space() -> Pipeline:
    model = am.oneof(
        [
            SymSVC(C=am.floatv(0.1, 100.0, scale="log"), gamma=am.floatv(1e-4, 1e-1, scale="log")),
            SymLogistic(C=am.floatv(1e-3, 10.0, scale="log"), max_iter=300),
        ],
        name="model",
    )
    return SymPipeline([("scale", SymScaler(with_mean=am.oneof([True, False]))), ("model", model)])


def main(argv: list[str] | None = None) -> am.StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=args.seed)

    def accuracy(pipeline: Pipeline) -> float:
        return float(pipeline.fit(x_train, y_train).score(x_val, y_val))

    evolution = algorithms.regularized_evolution(
        population_size=max(4, args.trials // 5), tournament_size=3, seed=args.seed
    )
    result = am.tune(accuracy, search_space(), evolution, args.trials, progress=args.progress)
    best = result.best_trial
    print(f"best validation accuracy {best.reward:.4f} (trial {best.id} of {len(result.trials)})")
    model = best.example.sym_init_args["steps"][1][1]
    print(f"best model: {model.format(compact=True, hide_defaults=True)}")
    return result


if __name__ == "__main__":
    main()
