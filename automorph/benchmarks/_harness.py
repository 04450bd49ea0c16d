"""The experiment harness: algorithms x seeds on a benchmark, resumable, in parallel.

Every run (one algorithm, one seed) is a study in one SQLite file, so an
interrupted experiment resumes where it stopped and a finished run is not run
again. For each run, the incumbent after `n` queries is the trial with the
best search reward among the first `n`; its test score is what the table
reports (for NAS-Bench-201's realistic protocol: selected on 12-epoch
validation accuracy, reported on 200-epoch test accuracy). A benchmark that
reports several figures for a found example (`Benchmark.report`: the
NAS-Bench-201 `paper` protocol's three data sets) gets a second table: the mean
and standard deviation over the runs of each figure of the incumbent, after
each checkpoint's number of queries.

The runs go on the executors of a study's workers (`automorph.tuning.run_tasks`):
"local" (one after another), "process" (spawned worker processes) or "ray".
Ctrl-C stops them cleanly, a worker process that dies is replaced and its
run started again (once), and a progress line on stderr counts the runs.

The figure (`regret.png`) needs matplotlib, the `viz` extra; without it the
tables are written as usual and the result says why there is no figure.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automorph import algorithms
from automorph.benchmarks._base import create as create_benchmark
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.storage import open_storage
from automorph.tuning import Progress, run_tasks, tune
from automorph.utils import FieldValueError, RegistrationError

CHECKPOINTS = (50, 100, 200, 300)
# "Reaches the top 1% in fewer than 100 queries" (the learned-search issue's target).
TOP_FRACTION = 0.01
HIT_WITHIN = 100


@dataclass(frozen=True)
class AlgorithmChoice:
    """A registered algorithm name with options: `name` or `name:key=value:key=value`."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, text: str) -> AlgorithmChoice:
        name, *parts = text.strip().split(":")
        if name not in algorithms.names():
            raise RegistrationError(
                f"no algorithm named {name!r}; registered: {', '.join(algorithms.names())}"
            )
        options = []
        for part in parts:
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise FieldValueError(f"bad algorithm option {part!r} in {text!r}: use key=value")
            options.append((key, json.loads(value) if value[:1] in '-0123456789[{tf"n' else value))
        return cls(name, tuple(options))

    @property
    def label(self) -> str:
        return self.name + "".join(f":{k}={v}" for k, v in self.options)

    def create(self, seed: int) -> algorithms.SearchAlgorithm:
        return algorithms.create(self.name, seed=seed, **dict(self.options))


@dataclass(frozen=True)
class RunSpec:
    benchmark: str
    data: str | None
    algorithm: AlgorithmChoice
    seed: int
    trials: int
    store: str

    @property
    def study(self) -> str:
        return f"{self.algorithm.label}/seed-{self.seed}"


def _benchmark(name: str, data: str | None) -> Any:
    return create_benchmark(name, **({"path": data} if data else {}))


def run_one(spec: RunSpec) -> str:
    """Runs (or resumes, or skips if done) one algorithm-seed run; returns its study name."""
    bench = _benchmark(spec.benchmark, spec.data)
    tune(
        bench.reward,
        bench.space(),
        spec.algorithm.create(spec.seed),
        spec.trials,
        name=spec.study,
        storage=spec.store,
    )
    return spec.study


def run_all(specs: list[RunSpec], executor: str, workers: int, progress: Progress | None) -> None:
    """Runs `specs` on `executor` with `workers` at a time (a worker that dies
    is replaced and its run started again, once).

    Raises:
        Exception: The first run's error, after every other run finished.
    """
    failed = None
    results = run_tasks(
        run_one,
        specs,
        executor=executor,
        num_workers=workers,
        progress=progress,
        label=lambda spec: f"run {spec.study!r}",
        interrupt_message=(
            "the experiment's runs were stopped ({reason}); rerun the same command to resume"
        ),
    )
    with closing(results):
        for result in results:
            if result.status != "done" and failed is None:
                failed = result
    if failed is not None:
        failed.get()


@dataclass
class RunTrace:
    """What a finished run gives the tables.

    Attributes:
        curve: The incumbent's test score after each query.
        first_hit: The first query (1-based) that evaluated an example whose
            test score reaches the threshold (None if none did, or no threshold).
        reports: `Benchmark.report` of the incumbent after each query count
            asked for (a count past the run's end: its last incumbent).
    """

    curve: list[float]
    first_hit: int | None
    reports: dict[int, dict[str, float]]


def incumbent_curve(
    spec: RunSpec,
    bench: Any,
    template: Template,
    threshold: float | None = None,
    points: tuple[int, ...] = (),
) -> RunTrace:
    """The incumbent's test score after each query of a finished run, and its
    reported figures after each of `points` queries (see `RunTrace`)."""
    store = open_storage(spec.store)
    try:
        trials = store.get_trials(spec.study)
    finally:
        store.close()
    curve: list[float] = []
    best_reward, best_test, best_dna = -math.inf, math.nan, None
    first_hit: int | None = None
    cache: dict[str, float] = {}
    reports: dict[int, dict[str, float]] = {}

    def example_of(dna: Any) -> Any:
        return template.materialize(DNA.from_json(dna), validate=False)

    def test_score(dna: Any) -> float:
        key = json.dumps(dna, sort_keys=True)
        if key not in cache:
            cache[key] = float(bench.test_score(example_of(dna)))
        return cache[key]

    def report() -> dict[str, float]:
        if best_dna is None:
            return {}
        return {k: float(v) for k, v in bench.report(example_of(best_dna)).items()}

    for query, record in enumerate(trials[: spec.trials], 1):
        if record.status == "completed" and isinstance(record.reward, float):
            if record.reward > best_reward:
                best_reward, best_test, best_dna = record.reward, test_score(record.dna), record.dna
            if first_hit is None and threshold is not None and test_score(record.dna) >= threshold:
                first_hit = query
        curve.append(best_test)
        if query in points:
            reports[query] = report()
    for point in points:
        reports.setdefault(point, report())
    return RunTrace(curve, first_hit, reports)


NO_FIGURE = "no regret.png: figures need matplotlib (pip install 'automorph[viz]')"


def can_plot() -> bool:
    """Whether matplotlib (the `viz` extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def run_experiment(
    benchmark: str,
    algorithm_texts: list[str],
    trials: int,
    seeds: int,
    workers: int,
    output: Path,
    data: str | None = None,
    log: Any = print,
    executor: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Runs every algorithm for every seed and writes results.md, results.json and regret.png.

    Args:
        benchmark: A registered benchmark name.
        algorithm_texts: Algorithms as `name` or `name:key=value:...`.
        trials: Queries per run.
        seeds: Runs per algorithm (seeds 0 .. seeds - 1).
        workers: Runs at a time.
        output: The folder for the store (`runs.db`) and the results.
        data: The benchmark's data file (default: the shipped table).
        log: Where the line "N runs done (S s)" goes when the runs are done.
        executor: "local", "process" or "ray" (default: "local" for one
            worker, else "process"). With "ray" on a cluster, `output` must
            be on a file system every node sees.
        progress: Write a progress line (runs done) to stderr.

    Returns:
        `{"table": markdown, "summary": ..., "seconds": float, "figure": path}`;
        `figure` is None when matplotlib is missing (the tables are written all
        the same).

    Raises:
        FieldValueError: For counts below 1 or an unknown executor.
        Exception: The first error of a run, after the other runs finished
            (they are stored; a rerun resumes).
    """
    bench = _benchmark(benchmark, data)  # fails early on a bad name or missing data
    choices = [AlgorithmChoice.parse(t) for t in algorithm_texts]
    if trials < 1 or seeds < 1 or workers < 1:
        raise FieldValueError("`trials`, `seeds` and `workers` must be at least 1")
    executor = executor or ("local" if workers == 1 else "process")
    if executor not in ("local", "process", "ray"):
        raise FieldValueError(f"`executor` must be 'local', 'process' or 'ray', got {executor!r}")
    output.mkdir(parents=True, exist_ok=True)
    store = str(output / "runs.db")
    specs = [
        RunSpec(benchmark, data, c, seed, trials, store) for c in choices for seed in range(seeds)
    ]
    start = time.perf_counter()
    open_storage(store).close()  # create the store once, before the workers race to
    meter = Progress(len(specs), benchmark, unit="runs") if progress else None
    run_all(specs, executor, workers, meter)
    log(f"  {len(specs)} runs done ({time.perf_counter() - start:.0f} s)")
    template = Template(bench.space())
    threshold = bench.top_threshold(TOP_FRACTION)
    points = checkpoints(trials)
    curves: dict[str, list[list[float]]] = {}
    first_hits: dict[str, list[int | None]] = {}
    reports: dict[str, list[dict[int, dict[str, float]]]] = {}
    for c in choices:
        runs = [
            incumbent_curve(s, bench, template, threshold, points)
            for s in specs
            if s.algorithm == c
        ]
        curves[c.label] = [run.curve for run in runs]
        first_hits[c.label] = [run.first_hit for run in runs]
        reports[c.label] = [run.reports for run in runs]
    summary = summarize(curves, trials, bench.optimum, first_hits if threshold else None, reports)
    (output / "results.json").write_text(
        json.dumps(
            {
                "benchmark": benchmark,
                "trials": trials,
                "seeds": seeds,
                "optimum": bench.optimum,
                "top_fraction": TOP_FRACTION,
                "top_threshold": threshold,
                "summary": summary,
                "curves": curves,
                "first_top_hits": first_hits,
                "reports": {
                    label: [{str(p): r for p, r in run.items()} for run in runs]
                    for label, runs in reports.items()
                },
            },
            indent=1,
        )
    )
    table = markdown_table(benchmark, summary, trials, seeds)
    extra = report_table(benchmark, summary, seeds)
    if extra:
        table += "\n\n" + extra
    (output / "results.md").write_text(table + "\n")
    figure = output / "regret.png" if can_plot() else None
    if figure is not None:
        plot_regret(curves, bench.optimum, benchmark, figure)
    return {
        "table": table,
        "summary": summary,
        "seconds": time.perf_counter() - start,
        "figure": figure,
    }


def checkpoints(trials: int) -> tuple[int, ...]:
    """The query counts the tables show: those of `CHECKPOINTS` up to `trials`, and `trials`."""
    points = [p for p in CHECKPOINTS if p <= trials] or [trials]
    if trials not in points:
        points.append(trials)
    return tuple(points)


def summarize(
    curves: dict[str, list[list[float]]],
    trials: int,
    optimum: float | None,
    first_hits: dict[str, list[int | None]] | None = None,
    reports: dict[str, list[dict[int, dict[str, float]]]] | None = None,
) -> dict[str, Any]:
    """Mean and standard error at each checkpoint, and mean rank at the last query.

    With `first_hits` (per run, the first query that reached the top
    `TOP_FRACTION` of the space), also how many runs got there in fewer than
    `HIT_WITHIN` queries, and the median number of queries it took. With
    `reports` (per run, the incumbent's reported figures at each checkpoint),
    also each figure's mean, standard deviation and standard error over the
    runs at each checkpoint (`"report"`).
    """
    points = list(checkpoints(trials))
    out: dict[str, Any] = {}
    labels = list(curves)
    finals = np.array([[run[-1] for run in curves[label]] for label in labels])  # algo x seed
    ranks = np.zeros_like(finals)
    for seed in range(finals.shape[1]):
        order = (-finals[:, seed]).argsort(kind="stable")
        values = finals[order, seed]
        r = np.empty(len(labels))
        i = 0
        while i < len(labels):  # ties share their mean rank
            j = i
            while j + 1 < len(labels) and values[j + 1] == values[i]:
                j += 1
            r[order[i : j + 1]] = (i + j) / 2 + 1
            i = j + 1
        ranks[:, seed] = r
    for a, label in enumerate(labels):
        runs = np.array(curves[label])
        stats = {}
        for p in points:
            col = runs[:, p - 1]
            stats[str(p)] = {
                "mean": float(col.mean()),
                "sem": float(col.std(ddof=1) / math.sqrt(len(col))) if len(col) > 1 else 0.0,
            }
        out[label] = {"at": stats, "mean_rank": float(ranks[a].mean())}
        if reports is not None:
            out[label]["report"] = report_stats(reports[label], points)
        if first_hits is not None:
            hits = first_hits[label]
            reached = sorted(h if h is not None else math.inf for h in hits)
            median = float(np.median(reached))
            out[label]["top"] = {
                "fraction": TOP_FRACTION,
                "within": HIT_WITHIN,
                "runs": sum(h is not None and h < HIT_WITHIN for h in hits),
                "of": len(hits),
                "median_queries": median if math.isfinite(median) else None,
            }
    return out


def markdown_table(benchmark: str, summary: dict[str, Any], trials: int, seeds: int) -> str:
    labels = list(summary)
    points = list(next(iter(summary.values()))["at"])
    top = all("top" in summary[label] for label in labels)
    head = "| algorithm | " + " | ".join(f"{p} queries" for p in points) + " | mean rank |"
    rule = "|---|" + "---:|" * (len(points) + 1)
    if top:
        head += f" top {TOP_FRACTION:.0%} in < {HIT_WITHIN} queries | median queries to top |"
        rule += "---:|---:|"
    rows = [
        f"| {label} | "
        + " | ".join(
            f"{summary[label]['at'][p]['mean']:.2f} ± {summary[label]['at'][p]['sem']:.2f}"
            for p in points
        )
        + f" | {summary[label]['mean_rank']:.2f} |"
        + (top_cells(summary[label]["top"]) if top else "")
        for label in labels
    ]
    title = (
        f"{benchmark}: test score of the incumbent (mean ± standard error over {seeds} "
        f"seeds), {trials} queries"
    )
    return "\n".join([title, "", head, rule, *rows])


def report_stats(
    runs: list[dict[int, dict[str, float]]], points: list[int]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per checkpoint and figure: mean, standard deviation (n - 1) and standard error."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for p in points:
        out[str(p)] = {}
        names = dict.fromkeys(name for run in runs for name in run.get(p, {}))
        for name in names:  # a run that evaluated nothing has no incumbent, so no figure
            values = np.array([run[p][name] for run in runs if name in run.get(p, {})])
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            out[str(p)][name] = {
                "mean": float(values.mean()),
                "std": std,
                "sem": std / math.sqrt(len(values)),
            }
    return out


def report_table(benchmark: str, summary: dict[str, Any], seeds: int) -> str:
    """The table of a benchmark's reported figures (mean ± standard deviation over
    the runs), a row per algorithm and checkpoint; "" unless there are several figures."""
    report = next(iter(summary.values())).get("report", {})
    points = list(report)
    names = list(report[points[-1]]) if points else []
    if len(names) < 2:
        return ""
    head = "| algorithm | queries | " + " | ".join(names) + " |"
    rule = "|---|---:|" + "---:|" * len(names)
    rows = [
        f"| {label} | {p} | "
        + " | ".join(
            f"{stats['report'][p][n]['mean']:.2f} ± {stats['report'][p][n]['std']:.2f}"
            for n in names
        )
        + " |"
        for label, stats in summary.items()
        for p in points
    ]
    title = (
        f"{benchmark}: the incumbent's reported figures (mean ± standard deviation over "
        f"{seeds} runs)"
    )
    return "\n".join([title, "", head, rule, *rows])


def top_cells(top: dict[str, Any]) -> str:
    """The two table cells of a run set's top-fraction figures."""
    median = top["median_queries"]
    return f" {top['runs']}/{top['of']} | {'-' if median is None else f'{median:.0f}'} |"


def plot_regret(
    curves: dict[str, list[list[float]]], optimum: float | None, title: str, path: Path
) -> None:
    """Regret (optimum - incumbent test score) against queries, mean with a ±SE band."""
    figure = new_figure((7, 4.2))
    draw_regret(figure.add_subplot(), curves, optimum, title)
    figure.tight_layout()
    figure.savefig(path)


def new_figure(size: tuple[float, float]) -> Any:
    """A matplotlib figure (no pyplot state), or a clear error without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - viz extra
        raise RegistrationError("figures need matplotlib: pip install 'automorph[viz]'") from e
    return Figure(figsize=size, dpi=130)


def draw_regret(
    axes: Any, curves: dict[str, list[list[float]]], optimum: float | None, title: str
) -> None:
    """Draws mean regret curves with ±SE bands on `axes`."""
    for index, (label, runs) in enumerate(curves.items()):
        values = np.array(runs)
        y = (optimum - values) if optimum is not None else -values
        mean = np.nanmean(y, axis=0)
        sem = np.nanstd(y, axis=0, ddof=1) / math.sqrt(len(runs)) if len(runs) > 1 else 0 * mean
        x = np.arange(1, y.shape[1] + 1)
        # Ten colours, then the same colours dashed.
        axes.plot(x, mean, label=label, linestyle="-" if index < 10 else "--")
        axes.fill_between(x, np.maximum(mean - sem, 1e-6), mean + sem, alpha=0.25)
    axes.set_yscale("log")
    axes.set_xlabel("queries")
    axes.set_ylabel("regret of the incumbent's test score" if optimum is not None else "-score")
    axes.set_title(f"{title} ({len(next(iter(curves.values())))} seeds, mean ± SE)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
