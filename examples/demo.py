"""automorph demo: programs as trees that other programs rewrite and search.

Part 1 writes a small convolutional network as symbolic objects and does by
hand what a search does to a program: inspects it, rewrites it (by path and
by a function over the whole tree), compares versions, saves and loads them.

Part 2 runs a real search: a formula is a symbolic program whose operators
and leaves are decisions; regularized evolution and random search, with the
same budget, look for the formula that fits y = 3x² + 2x - 1, and the best
programs are printed.

Run: `make demo`, or `python examples/demo.py [--trials N]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import numpy as np

import automorph as am
from automorph import algorithms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_program import Expr, node


class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 4096)]
    kernel: Literal[1, 3, 5, 7] = 3
    activation: Literal["relu", "gelu", "swish"] = "relu"


class Pool(am.Object):
    size: int = 2


class Dense(am.Object):
    units: Annotated[int, am.Bounds(1, 1_000_000)]


class Network(am.Object):
    stem: Conv
    body: list[Conv | Pool]
    head: Dense
    input_channels: int = 1
    _params: int = 0

    def _on_bound(self) -> None:
        # Derived state, kept consistent by automorph after every change.
        channels, total = self.input_channels, 0
        for layer in [self.stem, *self.body]:
            if isinstance(layer, Conv):
                total += layer.kernel * layer.kernel * channels * layer.filters + layer.filters
                channels = layer.filters
        self._params = total + channels * self.head.units + self.head.units

    @property
    def num_params(self) -> int:
        return self._params


@am.symbolize
def train(
    model: Network, learning_rate: Annotated[float, am.Bounds(0.0, 1.0)], epochs: int = 3
) -> float:
    """A stand-in for training: a deterministic score from the program's shape."""
    capacity = model.num_params**0.25
    return round(capacity * learning_rate * epochs / (1.0 + 0.01 * model.num_params**0.5), 4)


def tour() -> None:
    net = Network(
        stem=Conv(16, kernel=5),
        body=[Conv(32), Pool(), Conv(64), Pool()],
        head=Dense(10),
    )
    print("== the program, as a tree ==")
    print(net)
    print(f"parameters: {net.num_params:,}")

    print("\n== inspect: every convolution, by key path ==")
    for path, conv in net.query(type=Conv).items():
        print(f"  {path}: {conv!r}")

    print("\n== rewrite by path (validated, all-or-nothing) ==")
    wider = net.clone(deep=True).rebind({"body[0].filters": 48, "head.units": 20})
    print(f"  parameters now {wider.num_params:,} (derived state followed the change)")
    try:
        wider.rebind({"body[2].filters": 64, "body[0].kernel": 4})
    except am.AutomorphError as error:
        print(f"  rejected: {error}")
        print(f"  body[2].filters is still {wider.body[2].filters}: nothing changed")

    print("\n== rewrite by a function over the tree: gelu everywhere, kernels of 3 ==")
    rewritten = net.clone(deep=True).rebind(
        lambda path, value, parent: (
            Conv(value.filters, kernel=3, activation="gelu") if isinstance(value, Conv) else value
        )
    )
    print(am.diff(net, rewritten))

    print("\n== a hand-made 'search' over rewrites of the same program ==")
    experiment = train.partial(learning_rate=0.1)
    for width in (8, 16, 32, 64):
        candidate = net.clone(deep=True).rebind(
            lambda path, value, parent, w=width: value * w // 16 if path.key == "filters" else value
        )
        score = experiment(model=candidate)
        print(f"  width x{width / 16:<4} params {candidate.num_params:>8,}  score {score}")

    print("\n== exact JSON round trip (only registered types are ever constructed) ==")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment.json"
        am.save(experiment.rebind(model=net), path)
        loaded = am.load(path)
        print(f"  saved {path.stat().st_size} bytes; loaded == saved: {loaded == experiment}")
        print(f"  the loaded experiment runs: score {loaded()}")
    try:
        am.from_json({"_type": "os.system", "command": "echo pwned"})
    except am.UnknownTypeError as error:
        print(f"  untrusted JSON: {error}")


def search(trials: int, seed: int) -> None:
    x = np.linspace(-2.0, 2.0, 41)
    target = 3 * x**2 + 2 * x - 1

    def fit(expr: Expr) -> float:
        return -float(np.mean((expr(x) - target) ** 2))

    space = node(depth=3)
    spec = am.dna_spec(space)
    print(
        f"search space: expression trees of depth 3, {len(spec.decision_points())} decisions "
        "(operators, variable-or-constant leaves, constants)"
    )
    runs = {
        "regularized evolution": algorithms.regularized_evolution(
            population_size=50, tournament_size=10, seed=seed
        ),
        "random search": algorithms.Random(seed=seed),
    }
    for label, algorithm in runs.items():
        result = am.tune(fit, space, algorithm, trials, name=label, progress=True)
        best = result.best_trial
        print(f"  {label}: best y = {best.example}")
        print(f"  {'':{len(label)}}  mean squared error {-best.reward:.4f} (trial {best.id})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="automorph demo")
    parser.add_argument("--trials", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("#### Part 1: a program as a tree that another program rewrites\n")
    tour()
    print("\n#### Part 2: a real search over symbolic programs\n")
    search(args.trials, args.seed)


if __name__ == "__main__":
    main()
