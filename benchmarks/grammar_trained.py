"""Grammar BO against regularized evolution and random search, every architecture trained.

A small version of the protocol of Schrodi et al., "Construction of
Hierarchical Neural Architecture Search Spaces based on Context-free
Grammars" (NeurIPS 2023): each method searches the hierarchical
NAS-Bench-201 grammar (`am.grammar.hierarchical_nb201_grammar`), and every
architecture it proposes is built as a PyTorch network and trained, here
briefly on a subset of Fashion-MNIST on the CPU.

- Methods: `grammar_bo` (`am.grammar.GraphBO`: GP over the hierarchical WL
  kernel, expected improvement), `evolution` (regularized evolution,
  population 10, tournament 3) and `random` (random derivations).
- Budget: each run (one method, one seed) stops after the first trial that
  takes its CPU seconds to `--budget`. A trial's CPU seconds are
  `time.process_time()` of this process: the training and scoring of the
  network, plus the search's own work since the previous training ended (the
  algorithm's proposal, e.g. the GP fit and acquisition, and the store's
  bookkeeping). Runs are sequential in one process with one torch thread.
- Score: the validation error (1 - accuracy) on `--val` images held out
  from Fashion-MNIST's training set; the test set is not used.
- Regret: a run's best validation error so far minus the lowest validation
  error that any trial of any run reported reached; curves are over CPU
  seconds (up to the longest run's end) and over architectures trained.
- Storage: each run is a stored study (`<method>-s<seed>`) in the SQLite file
  `--store`; running the script again resumes every run where it stopped,
  and a larger `--budget` continues finished runs.

Run: `nice -n 19 python benchmarks/grammar_trained.py --data fashion_mnist.npz`
(writes `<out>.json` and `<out>.png` beside the store).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import automorph as am
from automorph import grammar
from automorph.utils import load_data

METHODS = ("grammar_bo", "evolution", "random")


@dataclass(frozen=True)
class Setup:
    """What one training is: data subset sizes, steps and network width."""

    train: int = 1000
    val: int = 500
    steps: int = 30
    batch: int = 32
    channels: int = 4
    data_seed: int = 0


def make_algorithm(method: str, seed: int) -> am.algorithms.SearchAlgorithm:
    """The search algorithm of `method` (one of `METHODS`), seeded.

    Raises:
        ValueError: If `method` is not one of `METHODS`.
    """
    if method == "grammar_bo":
        return grammar.GraphBO(num_initial=5, num_candidates=16, seed=seed)
    if method == "evolution":
        return am.algorithms.regularized_evolution(population_size=10, tournament_size=3, seed=seed)
    if method == "random":
        return am.algorithms.Random(seed=seed)
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def load_subset(path: Path | None, setup: Setup) -> tuple[np.ndarray, ...]:
    """`setup.train` training and `setup.val` validation images (disjoint, both
    from Fashion-MNIST's training set, scaled to [0, 1]) with their labels.

    Raises:
        DataNotFoundError: If the data is nowhere (a `FileNotFoundError`).
        ValueError: If the training set has fewer than `train + val` images.
    """
    data = load_data("fashion_mnist", path)
    n = len(data["x_train"])
    if setup.train + setup.val > n:
        raise ValueError(
            f"--train {setup.train} + --val {setup.val} exceed the {n} training images"
        )
    order = np.random.default_rng(setup.data_seed).permutation(n)
    i, j = order[: setup.train], order[setup.train : setup.train + setup.val]
    x, y = data["x_train"], data["y_train"]
    return (
        x[i].astype(np.float32) / 255.0,
        y[i].astype(np.int64),
        x[j].astype(np.float32) / 255.0,
        y[j].astype(np.int64),
    )


def train_error(net: Any, data: tuple[np.ndarray, ...], setup: Setup, seed: int) -> float:
    """Trains `net` with Adam for `setup.steps` mini-batches; its validation error."""
    import torch

    torch.manual_seed(seed)
    x_train, y_train, x_val, y_val = (torch.from_numpy(a) for a in data)
    x_train, x_val = x_train[:, None], x_val[:, None]
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(setup.steps):
        batch = torch.randint(len(x_train), (setup.batch,), generator=generator)
        loss = torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    net.eval()
    with torch.no_grad():
        return 1.0 - float((net(x_val).argmax(1) == y_val).float().mean())


class _Objective:
    """Trains each proposed derivation; ends the loop once the CPU budget is spent."""

    def __init__(
        self, g: grammar.Grammar, data: tuple[np.ndarray, ...], setup: Setup,
        seed: int, spent: float, budget: float,
    ) -> None:  # fmt: skip
        self.g, self.data, self.setup, self.seed = g, data, setup, seed
        self.spent, self.budget = spent, budget
        self.mark = time.process_time()

    def __call__(self, derivation: grammar.Derivation, feedback: Any) -> None:
        start = time.process_time()
        net = grammar.to_module(self.g, derivation, channels=self.setup.channels, stem_stride=2)
        error = train_error(net, self.data, self.setup, self.seed)
        end = time.process_time()
        search_s, train_s = start - self.mark, end - start
        self.spent += search_s + train_s
        feedback(
            error,
            metrics={"train_cpu_s": train_s, "search_cpu_s": search_s, "cpu_s": self.spent},
        )
        if self.spent >= self.budget:
            feedback.end_loop()
        self.mark = time.process_time()


def completed(store: Path, name: str) -> list[am.Trial]:
    """The completed trials of study `name` in `store`, in order; [] if no such study."""
    if not store.exists():
        return []
    try:
        study = am.load_study(name, str(store))
    except am.StudyNotFoundError:
        return []
    return sorted((t for t in study.trials if t.status == "completed"), key=lambda t: t.id)


def _error(trial: am.Trial) -> float:
    """The validation error `trial` reported."""
    assert isinstance(trial.reward, float), trial.reward
    return trial.reward


def _cpu(trial: am.Trial) -> float:
    """The CPU seconds its run had spent when `trial` ended."""
    return float(trial.measurements[-1].metrics["cpu_s"])


def within_budget(trials: list[am.Trial], budget: float) -> list[am.Trial]:
    """`trials` up to the first that took its run's CPU seconds to `budget`
    (a store run with a larger budget keeps more)."""
    for i, t in enumerate(trials):
        if _cpu(t) >= budget:
            return trials[: i + 1]
    return trials


def run_one(
    store: Path, method: str, seed: int, budget: float, data: tuple[np.ndarray, ...],
    setup: Setup, g: grammar.Grammar | None = None,
) -> list[am.Trial]:  # fmt: skip
    """Runs (or resumes) the study `<method>-s<seed>` until its CPU seconds
    reach `budget`; returns its completed trials. Nothing runs if they
    already have."""
    g = g or grammar.hierarchical_nb201_grammar()
    name = f"{method}-s{seed}"
    done = completed(store, name)
    spent = _cpu(done[-1]) if done else 0.0
    if spent >= budget:
        return done
    objective = _Objective(g, data, setup, seed, spent, budget)
    am.tune(
        objective, grammar.grammar_space(g), make_algorithm(method, seed),
        name=name, storage=str(store), minimize=True,
    )  # fmt: skip
    return completed(store, name)


def curves(runs: dict[str, dict[int, list[am.Trial]]], grid: np.ndarray) -> dict[str, Any]:
    """Regret curves from the runs' trials (`runs[method][seed]`).

    The reference is the lowest validation error of any trial of any run;
    a run's regret at CPU second `c` is its best error among the trials that
    ended by `c` minus the reference (NaN before its first trial; after its
    last trial it stays at its final value), and at query `k` likewise over
    its first `k` trials (up to the fewest trials any run of the method has).

    Raises:
        ValueError: If there are no trials.
    """
    errors = [_error(t) for per in runs.values() for ts in per.values() for t in ts]
    if not errors:
        raise ValueError("no completed trials to draw regret curves from")
    best = min(errors)
    out: dict[str, Any] = {"reference_error": best, "cpu_grid": grid.tolist(), "methods": {}}
    for method, per in runs.items():
        by_cpu, by_query = [], []
        for trials in per.values():
            err = np.minimum.accumulate([_error(t) for t in trials]) - best
            cpu = np.array([_cpu(t) for t in trials])
            at = np.searchsorted(cpu, grid, side="right") - 1
            by_cpu.append(np.where(at >= 0, err[np.maximum(at, 0)], np.nan))
            by_query.append(err)
        queries = min(len(q) for q in by_query)
        cpu_mat = np.array(by_cpu)
        query_mat = np.array([q[:queries] for q in by_query])
        out["methods"][method] = {
            "seeds": sorted(per),
            "trials": [len(ts) for ts in per.values()],
            "regret_cpu_mean": _nanmean(cpu_mat),
            "regret_cpu_se": _se(cpu_mat),
            "regret_query_mean": query_mat.mean(0).tolist(),
            "regret_query_se": _se(query_mat),
            "final_error": [min(_error(t) for t in ts) for ts in per.values()],
        }
    return out


def _nanmean(matrix: np.ndarray) -> list[float]:
    """Each column's mean over its non-NaN values (NaN where there are none)."""
    n = np.sum(~np.isnan(matrix), 0)
    total = np.nansum(matrix, 0)
    return [float(v) for v in np.where(n > 0, total / np.maximum(n, 1), np.nan)]


def _se(matrix: np.ndarray) -> list[float]:
    """The standard error of each column's mean (NaNs ignored; 0 for one value)."""
    n = np.sum(~np.isnan(matrix), 0)
    sd = [float(np.nanstd(c, ddof=1)) if k > 1 else 0.0 for c, k in zip(matrix.T, n, strict=True)]
    return [float(v) for v in np.array(sd) / np.sqrt(np.maximum(n, 1))]


def plot(result: dict[str, Any], path: Path) -> None:
    """Mean regret ± one standard error over CPU seconds and over queries."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.array(result["cpu_grid"])
    for method, r in result["methods"].items():
        m, s = np.array(r["regret_cpu_mean"]), np.array(r["regret_cpu_se"])
        axes[0].plot(grid, m, label=method)
        axes[0].fill_between(grid, m - s, m + s, alpha=0.2)
        m, s = np.array(r["regret_query_mean"]), np.array(r["regret_query_se"])
        k = np.arange(1, len(m) + 1)
        axes[1].plot(k, m, label=method)
        axes[1].fill_between(k, m - s, m + s, alpha=0.2)
    axes[0].set_xlabel("CPU seconds (training + search)")
    axes[1].set_xlabel("architectures trained")
    for ax in axes:
        ax.set_ylabel("validation-error regret")
        ax.legend()
    fig.suptitle("hierarchical NB201 grammar on Fashion-MNIST")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def unpack(store: Path) -> None:
    """Makes `store` from `store`.gz when only the compressed copy is there
    (the repository keeps the runs compressed: the store is 40 MB, its copy 1)."""
    packed = store.with_name(store.name + ".gz")
    if not store.exists() and packed.exists():
        with gzip.open(packed, "rb") as src, open(store, "wb") as dst:
            shutil.copyfileobj(src, dst)


def pack(store: Path) -> None:
    """Writes `store`.gz, a compressed copy of the store with its log folded in."""
    with sqlite3.connect(store) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with open(store, "rb") as src, gzip.open(store.with_name(store.name + ".gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="fashion_mnist.npz or its folder")
    parser.add_argument(
        "--store", type=Path, default=Path("benchmarks/results/grammar-trained/studies.db")
    )
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=120.0, help="CPU seconds per run")
    parser.add_argument("--train", type=int, default=Setup.train)
    parser.add_argument("--val", type=int, default=Setup.val)
    parser.add_argument("--steps", type=int, default=Setup.steps)
    parser.add_argument("--channels", type=int, default=Setup.channels)
    parser.add_argument("--grammar", type=Path, default=None, help="a grammar file")
    parser.add_argument("--report-only", action="store_true", help="run nothing; report")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        make_algorithm(m, 0)  # an unknown method fails before any training
    import torch

    torch.set_num_threads(1)
    setup = Setup(args.train, args.val, args.steps, channels=args.channels)
    g = (
        grammar.Grammar.parse(args.grammar.read_text())
        if args.grammar
        else grammar.hierarchical_nb201_grammar()
    )
    args.store.parent.mkdir(parents=True, exist_ok=True)
    unpack(args.store)
    data = None if args.report_only else load_subset(args.data, setup)
    runs: dict[str, dict[int, list[am.Trial]]] = {m: {} for m in methods}
    for seed in range(args.seeds):  # seed by seed, so an interrupted run leaves whole seeds
        for m in methods:
            if data is None:
                trials = completed(args.store, f"{m}-s{seed}")
            else:
                trials = run_one(args.store, m, seed, args.budget, data, setup, g)
                print(f"{m} seed {seed}: {len(trials)} trials", flush=True)
            trials = within_budget(trials, args.budget)
            if trials and _cpu(trials[-1]) >= args.budget:  # unfinished runs are left out
                runs[m][seed] = trials
    if data is not None:
        pack(args.store)
    runs = {m: r for m, r in runs.items() if r}
    if not runs:
        raise ValueError(f"no run in {args.store} has reached the budget of {args.budget} s")
    end = max((_cpu(ts[-1]) for r in runs.values() for ts in r.values()), default=args.budget)
    result = curves(runs, np.linspace(0.0, end, 41))
    result["budget_cpu_s"] = args.budget
    result["setup"] = vars(setup)
    stem = args.store.with_suffix("")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    plot(result, stem.with_suffix(".png"))
    for m, r in result["methods"].items():
        print(
            f"{m}: seeds {r['seeds']}, trials {r['trials']}, "
            f"mean regret at the end {r['regret_cpu_mean'][-1]:.4f}"
        )
    return result


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
