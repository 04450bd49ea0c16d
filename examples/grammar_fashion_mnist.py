"""Search the hierarchical NAS-Bench-201 grammar on Fashion-MNIST, on the CPU.

Each trial builds the network of a derivation of the hierarchical
NAS-Bench-201 grammar (about 10^446 architectures; see
`am.grammar.hierarchical_nb201_grammar`), trains it briefly on a subset of
Fashion-MNIST and reports its accuracy on held-out images. Bayesian
optimization with the hierarchical Weisfeiler-Lehman kernel (`grammar_bo`)
proposes the derivations; the best derivation is printed at the end.

The data is Fashion-MNIST: `--data` names `fashion_mnist.npz` (arrays
`x_train`, `y_train`, `x_test`, `y_test`, 28x28 uint8 images), its folder or
a folder of its IDX files; without it, `automorph.utils.find_data` looks in
`$AUTOMORPH_DATA`, the user data folder, then Debian's `dataset-fashion-mnist`
files (`automorph data where` shows the places).

Run, from any directory: `python examples/grammar_fashion_mnist.py --trials 12 --steps 30`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import automorph as am
from automorph import grammar
from automorph.utils import data_help
from automorph.utils import load_data as load_dataset


def load_data(path: Path | None, train: int, test: int, seed: int) -> tuple[np.ndarray, ...]:
    """`train` training and `test` test images (scaled to [0, 1]) with their labels.

    Raises:
        DataNotFoundError: If the data is nowhere (a `FileNotFoundError`); the
            message lists the places looked and how to get the data.
    """
    data = load_dataset("fashion_mnist", path)
    rng = np.random.default_rng(seed)
    i = rng.choice(len(data["x_train"]), train, replace=False)
    j = rng.choice(len(data["x_test"]), test, replace=False)
    return (
        data["x_train"][i].astype(np.float32) / 255.0,
        data["y_train"][i].astype(np.int64),
        data["x_test"][j].astype(np.float32) / 255.0,
        data["y_test"][j].astype(np.int64),
    )


def train_and_score(net: Any, data: tuple[np.ndarray, ...], steps: int, seed: int) -> float:
    """Trains `net` for `steps` mini-batches of 32; returns its test accuracy."""
    import torch

    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    x_train, x_test = x_train[:, None], x_test[:, None]
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(steps):
        batch = torch.randint(len(x_train), (32,), generator=generator)
        loss = torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        return float((net(x_test).argmax(1) == y_test).float().mean())


def main(argv: list[str] | None = None) -> am.StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=data_help("fashion_mnist"),
    )
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--steps", type=int, default=30, help="training mini-batches per trial")
    parser.add_argument("--train", type=int, default=2000, help="training images used")
    parser.add_argument("--test", type=int, default=500, help="test images scored")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algorithm", default="grammar_bo")
    parser.add_argument(
        "--grammar", default=None, help="a grammar file (default: hierarchical NB201)"
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    data = load_data(args.data, args.train, args.test, args.seed)
    g = (
        grammar.Grammar.parse(Path(args.grammar).read_text())
        if args.grammar
        else grammar.hierarchical_nb201_grammar()
    )
    print(f"grammar space: {g.size()} architectures (10^{len(str(g.size())) - 1})")

    def objective(derivation: grammar.Derivation) -> float:
        net = grammar.to_module(g, derivation, channels=args.channels, stem_stride=2)
        start = time.process_time()
        accuracy = train_and_score(net, data, args.steps, args.seed)
        print(f"  accuracy {accuracy:.3f} ({time.process_time() - start:.1f} s CPU)")
        return accuracy

    options = {"num_initial": max(2, args.trials // 3)} if args.algorithm == "grammar_bo" else {}
    algorithm = am.algorithms.create(args.algorithm, seed=args.seed, **options)
    result = am.tune(objective, grammar.grammar_space(g), algorithm, args.trials)
    best = result.best_trial
    print(f"best accuracy: {best.reward:.3f}")
    print(f"best derivation: {g.to_string(result.best_example)}")
    return result


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
