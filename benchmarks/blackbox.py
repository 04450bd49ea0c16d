"""Black-box optimization on the BBOB suite (COCO): automorph's algorithms against Optuna's.

The problems are COCO's noiseless BBOB functions f1-f24 (`cocoex`, PyPI
`coco-experiment`) in dimensions 2, 5, 10 and 20, BBOB instances 1-3. The
search space is `am.Dict` of d floats on [-5, 5] (the BBOB domain), the
objective the problem's value, minimized (automorph's rewards are its
negation). Budgets are 20·d and 100·d evaluations; the figure of a run is the
best value found within the budget.

Methods (`all_methods`; `unavailable_methods` says why one cannot run here):

- automorph, by registry name: `gp_bo`, `tpe`, `cmaes`, `gp_bo_cmaes`
  (GP-BO, then CMA-ES warm-started from it), `regularized_evolution`,
  `random` and `auto`. Defaults, seeded with the run's seed.
- Optuna: `GPSampler`, `TPESampler`, `CmaEsSampler` (defaults, seeded),
  with ask/tell in memory; OptunaHub's `AutoSampler` when
  `optunahub.load_module("samplers/auto_sampler")` can fetch it (it needs
  GitHub). HEBO has no adapter (see `unavailable_methods`).

A method is told the budget when it has a field named in `BUDGET_FIELDS`
(`budget_aware`): it runs each budget separately. Every other method runs
once for the largest budget asked for, and its best values after 20·d and
100·d evaluations are the results of both budgets (a sequential method's
first 20·d proposals do not depend on the budget).

Each (method, function, dimension, instance, seed, budget) result is one JSON
line of `--out`; a rerun skips those already there, so the suite can be run
in pieces across sessions (`--dims`, `--functions`, `--methods`, `--seeds`,
`--instances`, `--budgets`, `--max-minutes`). Runs are seeded: a run's seed
is drawn from `SeedSequence([seed, function, dimension, instance])`, the same
for every method, and a run is reproducible from it. `--workers N` runs N
runs at a time on worker processes.

CPU time: `time.process_time()` around each propose (Optuna: `study.ask`
with the search space, which samples every parameter) and each feedback
(Optuna: `study.tell`), summed per run. The "cost" part (`--parts`) measures
the CPU seconds of a proposal after a history of `--cost-histories` random
trials of f15 (GP-BO against GPSampler at 1,000 trials): the first proposal,
which fits the model, and the mean of the next `--cost-steps - 1`.

The report (`--report`, or after every run; see `_blackbox_report.py`) ranks
the methods in each (function, instance, seed, dimension, budget) by their
best value, ties averaged, and averages the ranks per BBOB function group,
per (dimension, budget) and overall.

Run: `python benchmarks/blackbox.py` (needs `pip install -e '.[bench]'`);
`--report` only rebuilds `benchmarks/results/blackbox.md` from the results.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Small matrices: one BLAS thread (several only contend on a busy machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import automorph as am
from automorph import algorithms

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _blackbox_report as report  # after the path is set

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "blackbox.jsonl"
DEFAULT_MARKDOWN = ROOT / "benchmarks" / "results" / "blackbox.md"

DIMS = (2, 5, 10, 20)
FUNCTIONS = tuple(range(1, 25))
INSTANCES = (1, 2, 3)
SEEDS = 5
BUDGETS = (20, 100)  # evaluations per dimension
LOW, HIGH = -5.0, 5.0

#: A method with a field of one of these names is told the run's budget (evaluations).
BUDGET_FIELDS = ("budget", "num_trials", "max_trials")

#: automorph's methods: registry name -> label; names this automorph lacks are left out.
AUTOMORPH = {
    "gp_bo": "automorph GP-BO",
    "tpe": "automorph TPE",
    "cmaes": "automorph CMA-ES",
    "gp_bo_cmaes": "automorph GP-BO then CMA-ES",
    "regularized_evolution": "automorph regularized evolution",
    "random": "automorph random",
    "auto": "automorph Auto",
}
#: Optuna's samplers: key -> label.
OPTUNA = {
    "optuna_gp": "Optuna GPSampler",
    "optuna_tpe": "Optuna TPESampler",
    "optuna_cmaes": "Optuna CmaEsSampler",
    "optuna_auto": "OptunaHub AutoSampler",
}
LABELS = {**AUTOMORPH, **OPTUNA}
HEBO_REASON = (
    "HEBO is not installed: HEBO 0.3.6, the newest on PyPI, pins numpy<1.25 (and scipy "
    "1.12), which automorph (numpy>=1.26) cannot run beside"
)


@dataclass(frozen=True)
class Method:
    """One method of the benchmark.

    Attributes:
        key: Its name in the results (an automorph registry name, or `optuna_*`).
        label: Its name in the tables.
        budget_aware: Whether it is told the budget (then each budget is a run).
    """

    key: str
    label: str
    budget_aware: bool


def _budget_field(name: str) -> str | None:
    """The field of automorph algorithm `name` that takes the budget, if it has one."""
    fields = set(type(algorithms.create(name)).sym_schema().names)
    return next((f for f in BUDGET_FIELDS if f in fields), None)


@functools.cache
def _auto_sampler_module() -> tuple[Any, str]:
    """OptunaHub's AutoSampler module and "", or None and why it cannot be loaded."""
    if importlib.util.find_spec("optunahub") is None:
        return None, "optunahub is not installed (pip install optunahub)"
    try:
        import optunahub

        return optunahub.load_module("samplers/auto_sampler"), ""
    except Exception as error:  # noqa: BLE001 - no network, no registry: say why
        text = " ".join(str(error).split())  # the end says why (git's own message)
        reason = text if len(text) <= 160 else "..." + text[-157:]
        return None, f"optunahub could not load samplers/auto_sampler ({reason})"


def _has_optuna() -> bool:
    return importlib.util.find_spec("optuna") is not None


@functools.cache
def all_methods() -> dict[str, Method]:
    """Every method that can run here, in table order."""
    registered = set(algorithms.names())
    methods = {
        key: Method(key, label, _budget_field(key) is not None)
        for key, label in AUTOMORPH.items()
        if key in registered
    }
    if _has_optuna():
        for key, label in OPTUNA.items():
            if key != "optuna_auto" or _auto_sampler_module()[0] is not None:
                methods[key] = Method(key, label, False)
    return methods


def unavailable_methods() -> dict[str, str]:
    """The methods this benchmark would run that cannot run here: label -> why."""
    out: dict[str, str] = {}
    if "auto" not in algorithms.names():
        out[AUTOMORPH["auto"]] = "this automorph registers no `auto` algorithm"
    if not _has_optuna():
        for label in OPTUNA.values():
            out[label] = "Optuna is not installed (pip install -e '.[bench]')"
    elif _auto_sampler_module()[0] is None:
        out[OPTUNA["optuna_auto"]] = _auto_sampler_module()[1]
    if importlib.util.find_spec("hebo") is None:
        out["HEBO"] = HEBO_REASON
    else:
        out["HEBO"] = "installed, but this benchmark has no HEBO adapter"
    return out


# --- one run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One run of a method on one problem.

    Attributes:
        method: The method's key.
        function, dim, instance, seed: The problem and the benchmark seed.
        budgets: Budget factors whose best values the run records; it lasts
            `max(budgets) * dim` evaluations.
        deadline: `time.time()` after which the run gives up (nothing is recorded).
    """

    method: str
    function: int
    dim: int
    instance: int
    seed: int
    budgets: tuple[int, ...]
    deadline: float | None = None

    @property
    def evaluations(self) -> int:
        return max(self.budgets) * self.dim

    @property
    def run_seed(self) -> int:
        """The seed of the method and of the run, the same for every method."""
        sequence = np.random.SeedSequence([self.seed, self.function, self.dim, self.instance])
        return int(sequence.generate_state(1)[0])

    def label(self) -> str:
        return (
            f"{self.method} f{self.function:02d} d{self.dim} i{self.instance} s{self.seed} "
            f"({self.evaluations} evaluations)"
        )


class OutOfTime(Exception):
    """The run passed its deadline."""


@dataclass
class Trace:
    """What a run measured."""

    best_at: dict[int, float] = field(default_factory=dict)  # evaluations -> best value
    cpu_propose: float = 0.0
    cpu_feedback: float = 0.0
    proposals: int = 0


class Problem:
    """COCO's BBOB problem (function, dimension, instance), called with x.

    It holds its suite: cocoex frees a suite's problems with the suite.
    """

    def __init__(self, function: int, dim: int, instance: int) -> None:
        import cocoex

        options = f"dimensions:{dim} function_indices:{function}"
        self.suite = cocoex.Suite("bbob", f"instances:{instance}", options)
        self.problem = self.suite.get_problem(0)
        self.id = self.problem.id

    def __call__(self, x: Any) -> float:
        return float(self.problem(x))


def problem(function: int, dim: int, instance: int) -> Problem:
    """COCO's BBOB problem (function, dimension, instance)."""
    return Problem(function, dim, instance)


def optimal_value(function: int, dim: int, instance: int) -> float | None:
    """The problem's optimal value f(x_opt), or None if cocoex does not give x_opt.

    cocoex writes x_opt to a file in the working directory
    (`Problem._best_parameter("print")`), so it is read in a temporary one;
    the problem is a fresh one, not the one a method is evaluated on.
    """
    target = problem(function, dim, instance)
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            target.problem._best_parameter("print")
            x_opt = np.atleast_1d(np.loadtxt("._bbob_problem_best_parameter.txt"))
    except Exception:  # noqa: BLE001 - an older cocoex: no precision, ranks still hold
        return None
    return float(target(x_opt))


def keys(dim: int) -> list[str]:
    return [f"x{i:02d}" for i in range(dim)]


def space(dim: int) -> Any:
    """The search space: d floats on the BBOB domain [-5, 5]."""
    return am.Dict(**{key: am.floatv(LOW, HIGH) for key in keys(dim)})


def _record(trace: Trace, evaluations: int, value: float, marks: set[int]) -> None:
    best = min(value, trace.best_at.get(-1, math.inf))
    trace.best_at[-1] = best
    if evaluations in marks:
        trace.best_at[evaluations] = best


def _check_time(run: Run) -> None:
    if run.deadline is not None and time.time() > run.deadline:
        raise OutOfTime(run.label())


def run_automorph(run: Run, target: Any) -> Trace:
    """`run` with automorph algorithm `run.method` (defaults, the run's seed)."""
    names = keys(run.dim)
    options: dict[str, Any] = {"seed": run.run_seed}
    budget_field = _budget_field(run.method)
    if budget_field is not None:
        options[budget_field] = run.evaluations
    algorithm = algorithms.create(run.method, **options)
    algorithm.setup(am.dna_spec(space(run.dim)))
    trace, marks = Trace(), {b * run.dim for b in run.budgets}
    for evaluation in range(1, run.evaluations + 1):
        _check_time(run)
        start = time.process_time()
        dna = algorithm.propose()
        trace.cpu_propose += time.process_time() - start
        value = float(target(np.array([dna[key] for key in names])))
        start = time.process_time()
        algorithm.feedback(dna, -value)
        trace.cpu_feedback += time.process_time() - start
        trace.proposals += 1
        _record(trace, evaluation, value, marks)
    return trace


def optuna_sampler(key: str, seed: int) -> Any:
    """Optuna's sampler `key` (defaults) with `seed`."""
    import optuna

    if key == "optuna_gp":
        return optuna.samplers.GPSampler(seed=seed)
    if key == "optuna_tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if key == "optuna_cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if key == "optuna_auto":
        module, reason = _auto_sampler_module()
        if module is None:
            raise RuntimeError(reason)
        return module.AutoSampler(seed=seed)
    raise ValueError(f"unknown Optuna method {key!r}; known: {', '.join(OPTUNA)}")


def _optuna_study(key: str, seed: int) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna.create_study(direction="minimize", sampler=optuna_sampler(key, seed))


def _distributions(dim: int) -> dict[str, Any]:
    import optuna

    return {key: optuna.distributions.FloatDistribution(LOW, HIGH) for key in keys(dim)}


def run_optuna(run: Run, target: Any) -> Trace:
    """`run` with Optuna's sampler `run.method`, ask/tell in memory."""
    names, distributions = keys(run.dim), _distributions(run.dim)
    study = _optuna_study(run.method, run.run_seed)
    trace, marks = Trace(), {b * run.dim for b in run.budgets}
    for evaluation in range(1, run.evaluations + 1):
        _check_time(run)
        start = time.process_time()
        trial = study.ask(distributions)
        trace.cpu_propose += time.process_time() - start
        value = float(target(np.array([trial.params[key] for key in names])))
        start = time.process_time()
        study.tell(trial, value)
        trace.cpu_feedback += time.process_time() - start
        trace.proposals += 1
        _record(trace, evaluation, value, marks)
    return trace


def execute(run: Run) -> list[dict[str, Any]]:
    """Runs `run`; its results, one record per budget (none if it ran out of time)."""
    if run.deadline is not None and time.time() > run.deadline:
        return []
    target = problem(run.function, run.dim, run.instance)
    started = time.time()
    try:
        if run.method.startswith("optuna_"):
            trace = run_optuna(run, target)
        else:
            trace = run_automorph(run, target)
    except OutOfTime:
        return []
    wall = time.time() - started
    fopt = optimal_value(run.function, run.dim, run.instance)
    records = []
    for budget in sorted(run.budgets):
        best = trace.best_at[budget * run.dim]
        records.append(
            {
                "kind": "run",
                "method": run.method,
                "function": run.function,
                "dim": run.dim,
                "instance": run.instance,
                "seed": run.seed,
                "budget": budget,
                "evaluations": budget * run.dim,
                "best": best,
                "fopt": fopt,
                "precision": None if fopt is None else best - fopt,
                "run_budget": max(run.budgets),
                "run_seed": run.run_seed,
                "proposals": trace.proposals,
                "cpu_propose": _round(trace.cpu_propose),
                "cpu_feedback": _round(trace.cpu_feedback),
                "wall": _round(wall),
                "versions": versions(),
            }
        )
    return records


def _round(seconds: float) -> float:
    """Timings to 4 significant digits (the file stays small; no timing is that exact)."""
    return float(f"{seconds:.4g}")


@functools.cache
def versions() -> str:
    """The versions of the libraries a record came from: "automorph=..., optuna=..., ..."."""
    out = [f"automorph={getattr(am, '__version__', None)}"]
    for name in ("optuna", "cocoex"):
        try:
            out.append(f"{name}={__import__(name).__version__}")
        except ImportError:
            out.append(f"{name}=None")
    return ",".join(out)


# --- the cost of a proposal after a long history ----------------------------------------


@dataclass(frozen=True)
class Cost:
    """CPU seconds of `steps` proposals of `method` after `history` random trials of
    BBOB f15 (instance 1) in `dim` dimensions."""

    method: str
    dim: int
    history: int
    steps: int
    deadline: float | None = None

    def label(self) -> str:
        return f"cost {self.method} d{self.dim} after {self.history} trials"


def execute_cost(cost: Cost) -> list[dict[str, Any]]:
    """Measures `cost`; one record (none if past the deadline)."""
    if cost.deadline is not None and time.time() > cost.deadline:
        return []
    target = problem(15, cost.dim, 1)
    rng = np.random.default_rng(cost.history)
    names = keys(cost.dim)
    past = rng.uniform(LOW, HIGH, size=(cost.history, cost.dim))
    values = [float(target(x)) for x in past]
    seconds: list[float] = []
    if cost.method.startswith("optuna_"):
        import optuna

        distributions = _distributions(cost.dim)
        study = _optuna_study(cost.method, 0)
        study.add_trials(
            [
                optuna.trial.create_trial(
                    params=dict(zip(names, map(float, x), strict=True)),
                    distributions=distributions,
                    value=v,
                )
                for x, v in zip(past, values, strict=True)
            ]
        )
        for _ in range(cost.steps):
            start = time.process_time()
            trial = study.ask(distributions)
            seconds.append(time.process_time() - start)
            study.tell(trial, float(target(np.array([trial.params[k] for k in names]))))
    else:
        algorithm = algorithms.create(cost.method, seed=0)
        spec = am.dna_spec(space(cost.dim))
        algorithm.setup(spec)
        for x, v in zip(past, values, strict=True):
            dna = am.DNA.from_dict(spec, dict(zip(names, map(float, x), strict=True)))
            algorithm.feedback(dna, -v)
        for _ in range(cost.steps):
            start = time.process_time()
            dna = algorithm.propose()
            seconds.append(time.process_time() - start)
            algorithm.feedback(dna, -float(target(np.array([dna[k] for k in names]))))
    rest = seconds[1:] or seconds
    return [
        {
            "kind": "cost",
            "method": cost.method,
            "dim": cost.dim,
            "history": cost.history,
            "steps": cost.steps,
            "first_s": seconds[0],
            "next_s": sum(rest) / len(rest),
            "versions": versions(),
        }
    ]


def execute_task(task: Run | Cost) -> list[dict[str, Any]]:
    """One task of either kind (a module-level function: worker processes call it)."""
    return execute_cost(task) if isinstance(task, Cost) else execute(task)


# --- planning and running -----------------------------------------------------------------


def load(path: Path) -> list[dict[str, Any]]:
    """The records of a results file (a line cut short by a crash is skipped)."""
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            print(f"{path}:{number}: not a JSON line, skipped", file=sys.stderr)
    return out


def run_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[k] for k in ("method", "function", "dim", "instance", "seed", "budget"))


def cost_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[k] for k in ("method", "dim", "history", "steps"))


def plan(
    methods: Sequence[Method],
    dims: Iterable[int],
    functions: Sequence[int],
    instances: Sequence[int],
    seeds: Sequence[int],
    budgets: Sequence[int],
    done: set[tuple[Any, ...]],
    deadline: float | None = None,
) -> list[Run]:
    """The runs still to do, seed by seed (a partial suite covers every function).

    A method told the budget gets a run per missing budget; any other one run
    as long as its largest missing budget, which records every missing budget.
    """
    runs = []
    for dim in dims:
        for seed in seeds:
            for instance in instances:
                for function in functions:
                    for method in methods:
                        missing = tuple(
                            b
                            for b in sorted(budgets)
                            if (method.key, function, dim, instance, seed, b) not in done
                        )
                        groups = [(b,) for b in missing] if method.budget_aware else [missing]
                        runs.extend(
                            Run(method.key, function, dim, instance, seed, group, deadline)
                            for group in groups
                            if group
                        )
    return runs


def run_all(
    tasks: Sequence[Run | Cost], out: Path, workers: int = 1, quiet: bool = False
) -> tuple[int, int, int]:
    """Runs `tasks` (on `workers` processes if more than one), appending each
    record to `out` as its task ends. Returns (done, out of time, failed)."""
    from automorph.tuning import run_tasks

    out.parent.mkdir(parents=True, exist_ok=True)
    done = late = failed = 0
    started = time.time()
    executor = "process" if workers > 1 else "local"
    results = run_tasks(
        execute_task,
        list(tasks),
        executor=executor,
        num_workers=workers,
        label=lambda task: task.label(),
    )
    with contextlib.closing(results), out.open("a") as file:
        for result in results:
            task = result.task
            if result.status != "done":
                failed += 1
                print(f"FAILED {task.label()}: {result.error}\n{result.detail}", file=sys.stderr)
                continue
            records = result.value
            if not records:
                late += 1
                continue
            for record in records:
                file.write(json.dumps(record, separators=(",", ":")) + "\n")
            file.flush()
            done += 1
            if not quiet:
                print(_line(done, len(tasks), records, time.time() - started), flush=True)
    return done, late, failed


def _line(done: int, total: int, records: list[dict[str, Any]], elapsed: float) -> str:
    last = records[-1]
    if last["kind"] == "cost":
        return (
            f"[{done}/{total}] cost {last['method']} d{last['dim']} h={last['history']}: "
            f"{last['first_s']:.3g} s first, {last['next_s']:.3g} s next ({elapsed:.0f} s)"
        )
    values = ", ".join(
        f"{r['budget']}d: {r['best']:.6g}"
        + ("" if r["precision"] is None else f" ({r['precision']:.2e})")
        for r in records
    )
    per = (last["cpu_propose"] + last["cpu_feedback"]) / max(1, last["proposals"])
    return (
        f"[{done}/{total}] {last['method']} f{last['function']:02d} d{last['dim']} "
        f"i{last['instance']} s{last['seed']}: {values}; {1000 * per:.2f} ms CPU/trial, "
        f"{last['wall']:.1f} s ({elapsed:.0f} s)"
    )


def _ints(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the results (JSON lines)")
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN, help="the report")
    parser.add_argument("--dims", type=_ints, default=list(DIMS))
    parser.add_argument("--functions", type=_ints, default=list(FUNCTIONS), help="e.g. 1-5,15")
    parser.add_argument("--instances", type=_ints, default=list(INSTANCES))
    parser.add_argument("--seeds", type=_ints, default=list(range(SEEDS)), help="e.g. 0-4")
    parser.add_argument("--budgets", type=_ints, default=list(BUDGETS), help="factors of d")
    parser.add_argument("--methods", help="comma-separated keys (default: all that can run)")
    parser.add_argument("--parts", default="suite,cost", help="suite, cost or both")
    parser.add_argument("--cost-methods", default="gp_bo,optuna_gp")
    parser.add_argument("--cost-dims", type=_ints, default=[5])
    parser.add_argument("--cost-histories", type=_ints, default=[100, 1000])
    parser.add_argument("--cost-steps", type=int, default=5)
    parser.add_argument("--max-minutes", type=float, help="start no run, and end any, after this")
    parser.add_argument("--workers", type=int, default=1, help="runs at a time (processes)")
    parser.add_argument("--report", action="store_true", help="only rebuild the report")
    parser.add_argument(
        "--compare",
        metavar="A,B",
        help="only print in how many problems A and B (keys, or methods of --out) each did better",
    )
    parser.add_argument(
        "--challengers",
        metavar="A",
        help="only print, per setting and group, the method that beat A most often (sign test)",
    )
    args = parser.parse_args(argv)
    if args.challengers is not None:
        if args.challengers not in LABELS:
            parser.error(f"--challengers takes a method key of {', '.join(LABELS)}")
        lines = report.challengers(load(args.out), args.challengers)
        print("\n".join(lines) if lines else f"no problem that {args.challengers} ran")
        return 0
    if args.compare is not None:
        pair = args.compare.split(",")
        records = load(args.out)
        known = set(LABELS) | {r["method"] for r in records if r.get("kind") == "run"}
        if len(pair) != 2 or any(m not in known for m in pair):
            parser.error(f"--compare takes two method keys A,B of {', '.join(sorted(known))}")
        lines = report.pairwise(records, pair[0], pair[1])
        print("\n".join(lines) if lines else f"no problem that both {pair[0]} and {pair[1]} ran")
        return 0
    available = all_methods()
    wanted = args.methods.split(",") if args.methods else list(available)
    unknown = [m for m in wanted if m not in (LABELS if args.report else available)]
    if unknown:
        known = LABELS if args.report else available
        parser.error(f"--methods: unknown or cannot run here: {unknown}; known: {', '.join(known)}")
    for label, reason in unavailable_methods().items():
        print(f"not run: {label}: {reason}")
    if not args.report:
        if importlib.util.find_spec("cocoex") is None:
            parser.error("cocoex is not installed: pip install -e '.[bench]'")
        deadline = None if args.max_minutes is None else time.time() + 60 * args.max_minutes
        records = load(args.out)
        tasks: list[Run | Cost] = []
        parts = set(args.parts.split(","))
        if "suite" in parts:
            done = {run_key(r) for r in records if r.get("kind") == "run"}
            chosen = [available[m] for m in wanted]
            tasks += plan(
                chosen,
                args.dims,
                args.functions,
                args.instances,
                args.seeds,
                args.budgets,
                done,
                deadline,
            )
        if "cost" in parts:
            measured = {cost_key(r) for r in records if r.get("kind") == "cost"}
            tasks += [
                Cost(m, d, h, args.cost_steps, deadline)
                for m in args.cost_methods.split(",")
                if m in available
                for d in args.cost_dims
                for h in args.cost_histories
                if (m, d, h, args.cost_steps) not in measured
            ]
        print(f"{len(tasks)} tasks to run ({args.out})", flush=True)
        began = time.time()
        done_n, late, failed = run_all(tasks, args.out, args.workers)
        print(
            f"{done_n} done, {late} left for later (--max-minutes), {failed} failed, "
            f"in {time.time() - began:.0f} s"
        )
    records = load(args.out)
    present = {r["method"] for r in records if r.get("kind") == "run"}
    if args.report and args.methods:
        shown = [m for m in LABELS if m in wanted]
    else:  # every method that ran or can run here
        shown = [m for m in LABELS if m in available or m in present]
    text = report.markdown(
        records,
        methods=shown,
        labels=LABELS,
        unavailable=unavailable_methods(),
        grid=report.Grid(DIMS, FUNCTIONS, INSTANCES, SEEDS, BUDGETS),
    )
    report.write(args.markdown, text)
    print(f"report: {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
