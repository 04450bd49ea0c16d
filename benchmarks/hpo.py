"""Model-based HPO: GP-BO and TPE against Optuna's TPE on synthetic functions, in one run.

Two parts:

1. Quality. On branin, hartmann6, rosenbrock (4-D), ackley (4-D) and levy
   (4-D) (`automorph.benchmarks`), automorph's `gp_bo`, `tpe`, `random` and
   `cmaes_lq` (`CMAES(surrogate="lq")`, lq-CMA-ES) and Optuna's
   `TPESampler` (its defaults; ask/tell in memory) each run
   `max(budgets)` trials per seed. Since every algorithm is sequential, the
   best value after `b` trials of that run is what a run of budget `b`
   gives. Reported: mean ± standard error over seeds of the simple regret
   `f(best x) - f_min` at each budget.
2. Cost per proposal against the history size. For each history size `h`,
   an algorithm is given `h` random trials of hartmann6 (feedback for ours,
   `study.add_trials` for Optuna), then runs `--cost-trials` more ask/tell
   steps; trials per CPU second over those steps (`time.process_time`).

Run: `python benchmarks/hpo.py` (Optuna: `pip install -e '.[bench]'`);
`--quick` runs small sizes (used by the test suite); `--processes 2` runs the
quality part in two processes; `--algorithms` runs some of the algorithms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# Small matrices: one BLAS thread (several only contend on a busy machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import automorph as am
from automorph import algorithms, benchmarks

FUNCTIONS = ["branin", "hartmann6", "rosenbrock", "ackley", "levy"]
OURS = ["gp_bo", "tpe", "random", "cmaes_lq"]
OPTUNA = "optuna_tpe"
LABELS = {
    "gp_bo": "automorph GP-BO",
    "tpe": "automorph TPE",
    "random": "automorph random",
    "cmaes_lq": "automorph lq-CMA-ES",
    OPTUNA: "Optuna TPESampler",
}
# Names of this benchmark that are a registered algorithm with options.
CONFIGURED: dict[str, tuple[str, dict[str, Any]]] = {"cmaes_lq": ("cmaes", {"surrogate": "lq"})}


def create(name: str, seed: int) -> algorithms.SearchAlgorithm:
    """automorph algorithm `name` of this benchmark, seeded."""
    registered, options = CONFIGURED.get(name, (name, {}))
    return algorithms.create(registered, seed=seed, **options)


def _has_optuna() -> bool:
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True


def run_ours(name: str, function: str, seed: int, trials: int) -> list[float]:
    """Best-so-far regret after each trial of automorph algorithm `name`."""
    bench = benchmarks.create(function)
    spec = am.dna_spec(bench.space())
    algorithm = create(name, seed)
    algorithm.setup(spec)
    best, curve = -math.inf, []
    for _ in range(trials):
        dna = algorithm.propose()
        reward = -float(bench.function(np.array([dna[key] for key in bench.keys])))
        algorithm.feedback(dna, reward)
        best = max(best, reward)
        curve.append(bench.optimum - best)
    return curve


def run_optuna(function: str, seed: int, trials: int) -> list[float]:
    """Best-so-far regret after each trial of Optuna's TPESampler (defaults)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bench = benchmarks.create(function)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    best, curve = math.inf, []
    for _ in range(trials):
        trial = study.ask()
        x = np.array(
            [
                trial.suggest_float(key, low, high)
                for key, (low, high) in zip(bench.keys, bench.bounds, strict=True)
            ]
        )
        value = float(bench.function(x))
        study.tell(trial, value)
        best = min(best, value)
        curve.append(best + bench.optimum)  # optimum = -f_min
    return curve


def _run_one(job: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], float]:
    name, function, seed, trials = job
    start = time.process_time()
    if name == OPTUNA:
        curve = run_optuna(function, seed, trials)
    else:
        curve = run_ours(name, function, seed, trials)
    return name, function, seed, curve, time.process_time() - start


def quality(
    names: list[str], functions: list[str], seeds: int, budgets: list[int], processes: int
) -> dict[str, Any]:
    """Regret curves of every (algorithm, function, seed), summarized per budget."""
    jobs = [(n, f, s, max(budgets)) for f in functions for n in names for s in range(seeds)]
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            results = list(pool.map(_run_one, jobs))
    else:
        results = [_run_one(job) for job in jobs]
    curves: dict[str, dict[str, list[list[float]]]] = {}
    cpu: dict[str, float] = {}
    for name, function, _, curve, seconds in results:
        curves.setdefault(function, {}).setdefault(name, []).append(curve)
        cpu[name] = cpu.get(name, 0.0) + seconds
    summary: dict[str, dict[str, dict[str, list[float]]]] = {}
    for function, by_name in curves.items():
        for name, runs in by_name.items():
            table = np.array(runs)
            summary.setdefault(function, {})[name] = {
                str(b): [
                    float(table[:, b - 1].mean()),
                    float(table[:, b - 1].std(ddof=1) / math.sqrt(len(runs)))
                    if len(runs) > 1
                    else 0.0,
                ]
                for b in budgets
            }
    return {"summary": summary, "cpu_seconds": cpu, "curves": curves}


def _hartmann_reward(values: list[float]) -> float:
    return -float(benchmarks.hartmann6(np.array(values)))


def cost_ours(name: str, history: int, steps: int) -> float:
    """Trials per CPU second of `name` after `history` random trials of hartmann6."""
    bench = benchmarks.create("hartmann6")
    spec = am.dna_spec(bench.space())
    rng = np.random.default_rng(history)
    algorithm = create(name, 0)
    algorithm.setup(spec)
    for _ in range(history):
        dna = spec.random_dna(rng)
        algorithm.feedback(dna, _hartmann_reward([dna[k] for k in bench.keys]))
    start = time.process_time()
    for _ in range(steps):
        dna = algorithm.propose()
        algorithm.feedback(dna, _hartmann_reward([dna[k] for k in bench.keys]))
    return steps / (time.process_time() - start)


def cost_optuna(history: int, steps: int) -> float:
    """Trials per CPU second of Optuna's TPESampler after `history` random trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bench = benchmarks.create("hartmann6")
    distributions: dict[str, Any] = {
        key: optuna.distributions.FloatDistribution(low, high)
        for key, (low, high) in zip(bench.keys, bench.bounds, strict=True)
    }
    rng = np.random.default_rng(history)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    past = []
    for _ in range(history):
        params = {key: float(rng.uniform(d.low, d.high)) for key, d in distributions.items()}
        value = -_hartmann_reward(list(params.values()))
        past.append(
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
        )
    study.add_trials(past)
    start = time.process_time()
    for _ in range(steps):
        trial = study.ask()
        values = [trial.suggest_float(key, d.low, d.high) for key, d in distributions.items()]
        study.tell(trial, -_hartmann_reward(values))
    return steps / (time.process_time() - start)


def cost(names: list[str], histories: list[int], steps: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in names:
        for history in histories:
            rate = (
                cost_optuna(history, steps) if name == OPTUNA else cost_ours(name, history, steps)
            )
            out.setdefault(name, {})[str(history)] = rate
    return out


def _print_quality(result: dict[str, Any], budgets: list[int], seeds: int) -> None:
    summary = result["summary"]
    names = list(next(iter(summary.values())))
    print(f"\nSimple regret f(best) - f_min, mean ± SE over {seeds} seeds (lower is better)\n")
    head = " | ".join(f"{b} trials" for b in budgets)
    print(f"| function | algorithm | {head} |")
    print("|---|---|" + "---:|" * len(budgets))
    for function, by_name in summary.items():
        for name in names:
            cells = []
            for b in budgets:
                mean, se = by_name[name][str(b)]
                best = min(by_name[n][str(b)][0] for n in names)
                cell = f"{mean:.4g} ± {se:.2g}"
                cells.append(f"**{cell}**" if mean == best else cell)
            print(f"| {function} | {LABELS[name]} | " + " | ".join(cells) + " |")
    print("\nCPU seconds per run (all functions): ", end="")
    runs = seeds * len(summary)
    print(", ".join(f"{LABELS[n]} {s / runs:.2f}" for n, s in result["cpu_seconds"].items()))


def _print_cost(rates: dict[str, dict[str, float]], histories: list[int]) -> None:
    print("\nTrials per CPU second (propose + feedback) after a history of h trials (hartmann6)\n")
    print("| algorithm | " + " | ".join(f"h = {h}" for h in histories) + " | last / first |")
    print("|---|" + "---:|" * (len(histories) + 1))
    for name, by_history in rates.items():
        values = [by_history[str(h)] for h in histories]
        cells = " | ".join(f"{v:.1f}" for v in values)
        print(f"| {LABELS[name]} | {cells} | {values[-1] / values[0]:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", default="100,200", help="comma-separated trial budgets")
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--histories", default="100,500,1000")
    parser.add_argument("--cost-trials", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--algorithms",
        help=f"comma-separated, of {', '.join([*OURS, OPTUNA])} (default: all available)",
    )
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    histories = [int(h) for h in args.histories.split(",")]
    functions, seeds, steps = args.functions.split(","), args.seeds, args.cost_trials
    if args.quick:
        budgets, histories, functions, seeds, steps = [12, 15], [12, 30], ["branin"], 2, 3
    names = OURS + ([OPTUNA] if _has_optuna() else [])
    if OPTUNA not in names:
        print("Optuna is not installed (pip install -e '.[bench]'): automorph only")
    if args.algorithms:
        asked = args.algorithms.split(",")
        unknown = [n for n in asked if n not in [*OURS, OPTUNA]]
        if unknown:
            parser.error(f"--algorithms: unknown {', '.join(unknown)}; known: {', '.join(LABELS)}")
        names = [n for n in names if n in asked]
    started = time.time()
    result = quality(names, functions, seeds, budgets, args.processes)
    _print_quality(result, budgets, seeds)
    rates = cost([n for n in names if n != "random"], histories, steps)
    _print_cost(rates, histories)
    print(f"\nwall time {time.time() - started:.0f} s")
    if args.json:
        figures = {
            "budgets": budgets,
            "seeds": seeds,
            "functions": functions,
            "regret": result["summary"],
            "cpu_seconds": result["cpu_seconds"],
            "trials_per_second": rates,
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
