"""Make an existing model-building function searchable, without restructuring it.

`build_model` is ordinary code that builds a scikit-learn regression
pipeline. Calling hyper-values inside it (`am.intv`, `am.oneof`,
`am.floatv`) is all it takes: `am.define_by_run` collects the decisions on a
first run, and every trial runs the function again with the decisions of a
DNA. Random search then picks the polynomial degree, the regularizer and its
strength on the diabetes data set.

Run: `python examples/define_by_run.py --trials 40`.
"""

from __future__ import annotations

import argparse
import warnings

from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import automorph as am
from automorph import algorithms


def build_model() -> Pipeline:
    """Builds the model; the hyper-values mark what may be searched."""
    degree = am.intv(1, 3, name="degree")
    penalty = am.oneof(["ridge", "lasso"], name="penalty")
    alpha = am.floatv(1e-3, 1e2, scale="log", name="alpha")
    regressor = Ridge(alpha=alpha) if penalty == "ridge" else Lasso(alpha=alpha, max_iter=5000)
    return make_pipeline(PolynomialFeatures(degree), StandardScaler(), regressor)


def main(argv: list[str] | None = None) -> am.StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    x, y = load_diabetes(return_X_y=True)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # weak alphas on Lasso

    def r2(model: Pipeline) -> float:
        return float(cross_val_score(model, x, y, cv=3, scoring="r2").mean())

    space = am.define_by_run(build_model)
    print("decisions:", ", ".join(p.location for p in am.dna_spec(space).decision_points()))
    result = am.tune(
        r2, space, algorithms.Random(seed=args.seed), args.trials, progress=args.progress
    )
    best = result.best_trial
    print(f"best cross-validated R² {best.reward:.4f}: {best.example}")
    return result


if __name__ == "__main__":
    main()
