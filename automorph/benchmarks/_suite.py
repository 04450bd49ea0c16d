"""Suites: several benchmarks x several algorithms, one command, one table and one figure.

A suite names its benchmarks, algorithms, budget and seeds, so that a
published table is reproduced by one command:

    python -m automorph.benchmarks suite --preset learned-search --workers 2

Each benchmark's runs go to `OUTPUT/BENCHMARK/` (resumable, as with `run`);
the suite writes `OUTPUT/results.md` (one table over every benchmark),
`OUTPUT/results.json` and `OUTPUT/regret.png` (one panel per benchmark; only
with matplotlib, the `viz` extra).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from automorph.benchmarks._base import names
from automorph.benchmarks._harness import (
    HIT_WITHIN,
    TOP_FRACTION,
    AlgorithmChoice,
    can_plot,
    draw_regret,
    new_figure,
    report_table,
    run_experiment,
    top_cells,
)
from automorph.benchmarks._nasbench201 import NB201_PAPER_BUDGET
from automorph.utils import FieldValueError, RegistrationError

_NB201 = tuple(
    f"nb201-{dataset}{protocol}"
    for protocol in ("", "-oracle")
    for dataset in ("cifar10", "cifar100", "imagenet16")
)


@dataclass(frozen=True)
class Suite:
    """Benchmarks x algorithms at one budget and number of seeds.

    Attributes:
        benchmarks: Registered benchmark names.
        algorithms: Algorithm texts as the harness reads them
            (`name` or `name:key=value:...`).
        trials: Queries per run.
        seeds: Runs per algorithm and benchmark (seeds 0 .. seeds - 1).
        description: One line saying what the suite compares.
    """

    benchmarks: tuple[str, ...]
    algorithms: tuple[str, ...]
    trials: int
    seeds: int
    description: str = ""


PRESETS: dict[str, Suite] = {
    "learned-search": Suite(
        benchmarks=_NB201,
        algorithms=(
            "random",
            "regularized_evolution:population_size=20:tournament_size=5",
            "tpe",
            "reinforce",
            "ppo",
            "reinforce:policy=autoregressive:memory_size=100",
            "gp_bo",
            "nases",
            "nasib:budget=200",
            "pnas",
        ),
        trials=200,
        seeds=50,
        description=(
            "learned and model-based search on NAS-Bench-201, realistic and oracle protocols"
        ),
    ),
    "nb201-paper": Suite(
        benchmarks=("nb201-paper",),
        algorithms=("regularized_evolution:population_size=10:tournament_size=3", "random"),
        trials=NB201_PAPER_BUDGET,
        seeds=500,
        description=(
            "NAS-Bench-201 as its paper ran it: searched on CIFAR-10's 12-epoch validation "
            "accuracy, the found cell reported by its 200-epoch test accuracy on CIFAR-10, "
            "CIFAR-100 and ImageNet16-120 (the last table: mean ± standard deviation over the "
            "runs, as the paper's table)"
        ),
    ),
    "grammar-bo": Suite(
        benchmarks=tuple(f"nb201-{d}-grammar" for d in ("cifar10", "cifar100", "imagenet16")),
        algorithms=(
            "grammar_bo:num_candidates=16:acquisition_rounds=1",
            "random",
            "regularized_evolution",
            "regularized_evolution:population_size=20:tournament_size=5",
        ),
        trials=200,
        seeds=20,
        description=(
            "BO with the hierarchical WL kernel on NAS-Bench-201 written as a grammar, "
            "realistic protocol"
        ),
    ),
}


def preset(name: str) -> Suite:
    """The suite registered as `name`.

    Raises:
        RegistrationError: If there is none (the message lists the presets).
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise RegistrationError(
            f"no suite preset named {name!r}; presets: {', '.join(sorted(PRESETS))}"
        ) from None


def run_suite(
    suite: Suite,
    output: Path,
    *,
    workers: int = 1,
    data: str | None = None,
    log: Callable[[str], Any] = print,
    executor: str | None = None,
) -> dict[str, Any]:
    """Runs every benchmark of `suite` and writes the combined table, JSON and figure.

    `workers` runs go at a time on `executor` ("local", "process" or "ray";
    by default "local" for one worker, else "process"), as in `run_experiment`.

    Returns:
        `{"table": markdown, "results": {benchmark: summary}, "seconds": float,
        "figure": path}`; `figure` is None when matplotlib is missing.

    Raises:
        FieldValueError: If the suite has no benchmark or no algorithm.
        RegistrationError: If a benchmark or algorithm name is not registered
            (checked before anything runs).
    """
    if not suite.benchmarks or not suite.algorithms:
        raise FieldValueError("a suite needs at least one benchmark and one algorithm")
    for algorithm in suite.algorithms:
        AlgorithmChoice.parse(algorithm)
    for benchmark in suite.benchmarks:
        if benchmark not in names():
            raise RegistrationError(
                f"no benchmark named {benchmark!r}; registered: {', '.join(names())}"
            )
    start = time.perf_counter()
    results: dict[str, Any] = {}
    for i, benchmark in enumerate(suite.benchmarks, 1):
        log(f"[{i}/{len(suite.benchmarks)}] {benchmark}")
        results[benchmark] = run_experiment(
            benchmark,
            list(suite.algorithms),
            suite.trials,
            suite.seeds,
            workers,
            output / benchmark,
            data=data,
            log=log,
            executor=executor,
        )
    summaries = {name: result["summary"] for name, result in results.items()}
    table = suite_table(suite, summaries)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.md").write_text(table + "\n")
    (output / "results.json").write_text(
        json.dumps(
            {
                "benchmarks": list(suite.benchmarks),
                "algorithms": list(suite.algorithms),
                "trials": suite.trials,
                "seeds": suite.seeds,
                "summaries": summaries,
            },
            indent=1,
        )
    )
    figure = output / "regret.png" if can_plot() else None
    if figure is not None:
        plot_suite(output, suite.benchmarks, figure)
    return {
        "table": table,
        "results": summaries,
        "seconds": time.perf_counter() - start,
        "figure": figure,
    }


def suite_table(suite: Suite, summaries: dict[str, dict[str, Any]]) -> str:
    """One markdown table: a row per benchmark and algorithm, the best mean in bold."""
    first = next(iter(summaries.values()))
    points = list(next(iter(first.values()))["at"])
    top = all("top" in s for summary in summaries.values() for s in summary.values())
    head = "| benchmark | algorithm | " + " | ".join(f"{p}" for p in points) + " | mean rank |"
    rule = "|---|---|" + "---:|" * (len(points) + 1)
    if top:
        head += f" top {TOP_FRACTION:.0%} in < {HIT_WITHIN} | median queries to top |"
        rule += "---:|---:|"
    rows = [head, rule]
    for benchmark, summary in summaries.items():
        best = {p: max(s["at"][p]["mean"] for s in summary.values()) for p in points}
        for label, stats in summary.items():
            cells = []
            for p in points:
                text = f"{stats['at'][p]['mean']:.2f} ± {stats['at'][p]['sem']:.2f}"
                cells.append(f"**{text}**" if stats["at"][p]["mean"] == best[p] else text)
            row = f"| {benchmark} | {label} | " + " | ".join(cells)
            row += f" | {stats['mean_rank']:.2f} |" + (top_cells(stats["top"]) if top else "")
            rows.append(row)
    title = (
        f"Test score of the incumbent after 50/100/.../{suite.trials} queries (mean ± standard "
        f"error over {suite.seeds} seeds). {suite.description}"
    )
    reports = [report_table(name, summary, suite.seeds) for name, summary in summaries.items()]
    return "\n".join([title, "", *rows, *(f"\n{table}" for table in reports if table)])


def plot_suite(output: Path, benchmarks: tuple[str, ...], path: Path) -> None:
    """One regret panel per benchmark, from each benchmark's `results.json`."""
    columns = min(3, len(benchmarks))
    rows = math.ceil(len(benchmarks) / columns)
    figure = new_figure((5.2 * columns, 3.8 * rows + 0.8))
    handles: list[Any] = []
    for i, benchmark in enumerate(benchmarks):
        data = json.loads((output / benchmark / "results.json").read_text())
        axes = figure.add_subplot(rows, columns, i + 1)
        draw_regret(axes, short_labels(data["curves"]), data["optimum"], benchmark)
        axes.get_legend().remove()
        handles = axes.get_lines()
    figure.legend(
        handles, [h.get_label() for h in handles], loc="lower center", ncol=min(5, len(handles))
    )
    figure.tight_layout(rect=(0, 0.8 / (3.8 * rows + 0.8) + 0.02, 1, 1))
    figure.savefig(path)


def short_labels(curves: dict[str, Any]) -> dict[str, Any]:
    """`curves` keyed by algorithm name alone where that name is unique among the keys."""
    bare = [label.split(":")[0] for label in curves]
    return {
        (name if bare.count(name) == 1 else label): value
        for name, (label, value) in zip(bare, curves.items(), strict=True)
    }


def resolve(
    name: str | None,
    *,
    benchmarks: str | None = None,
    algorithms: str | None = None,
    trials: int | None = None,
    seeds: int | None = None,
) -> Suite:
    """A preset (or an empty suite) with the given fields replaced."""
    suite = preset(name) if name else Suite((), (), 200, 10)
    changes: dict[str, Any] = {}
    if benchmarks:
        changes["benchmarks"] = tuple(b.strip() for b in benchmarks.split(",") if b.strip())
    if algorithms:
        changes["algorithms"] = tuple(a.strip() for a in algorithms.split(",") if a.strip())
    if trials is not None:
        changes["trials"] = trials
    if seeds is not None:
        changes["seeds"] = seeds
    return replace(suite, **changes)
