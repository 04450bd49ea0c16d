"""The BBOB benchmark's report (`blackbox.py --report`): markdown tables from its results.

Ranks: in each problem (function, instance, seed, dimension, budget) the
methods are ranked by their best value, 1 the best, ties sharing the mean of
their ranks; a best value within `FLOOR` of the optimum counts as the
optimum (COCO's final target), so methods that all solved a problem tie.
A table averages the ranks over the problems that every method in it has
run: with some methods' runs missing (a partial suite), the table of all
methods covers fewer problems, and a second table ranks the methods that
have every run over all of them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- blackbox:begin -->", "<!-- blackbox:end -->"

#: BBOB's function groups: name, functions.
GROUPS = (
    ("separable (f1-5)", range(1, 6)),
    ("low/moderate conditioning (f6-9)", range(6, 10)),
    ("high conditioning (f10-14)", range(10, 15)),
    ("multimodal, adequate structure (f15-19)", range(15, 20)),
    ("multimodal, weak structure (f20-24)", range(20, 25)),
)
#: Best values within this of the optimum are equal (COCO's final target).
FLOOR = 1e-8

Cell = tuple[int, int, int]  # function, instance, seed
Setting = tuple[int, int]  # dimension, budget factor


@dataclass(frozen=True)
class Grid:
    """The full suite: what a complete run covers."""

    dims: Sequence[int]
    functions: Sequence[int]
    instances: Sequence[int]
    seeds: int
    budgets: Sequence[int]

    @property
    def problems(self) -> int:
        """Runs per method and (dimension, budget)."""
        return len(self.functions) * len(self.instances) * self.seeds


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1 (the smallest), ties sharing their mean rank.

    >>> average_ranks([3.0, 1.0, 3.0, 2.0])
    [3.5, 1.0, 3.5, 2.0]
    """
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _value(record: dict[str, Any]) -> float:
    """What ranks compare: the precision floored at FLOOR, or the best value."""
    if record.get("fopt") is None:
        return float(record["best"])
    return max(float(record["best"]) - float(record["fopt"]), FLOOR)


def results(records: Iterable[dict[str, Any]]) -> dict[Setting, dict[Cell, dict[str, float]]]:
    """Values by (dimension, budget), problem and method."""
    out: dict[Setting, dict[Cell, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        if r.get("kind") == "run":
            cell = (r["function"], r["instance"], r["seed"])
            out[(r["dim"], r["budget"])][cell][r["method"]] = _value(r)
    return out


def ranks(
    table: dict[Cell, dict[str, float]], methods: Sequence[str]
) -> dict[Cell, dict[str, float]]:
    """Each problem that every one of `methods` ran: the methods' ranks."""
    out = {}
    for cell, by_method in table.items():
        if all(m in by_method for m in methods):
            out[cell] = dict(
                zip(methods, average_ranks([by_method[m] for m in methods]), strict=True)
            )
    return out


def pairwise(records: Iterable[dict[str, Any]], first: str, second: str) -> list[str]:
    """Lines: in each (dimension, budget) both methods ran, in how many problems
    `first` found the better value, `second` did, and they tied (values as the
    ranks compare them), overall and per function group.
    (`python benchmarks/blackbox.py --compare A,B`; tested in
    tests/benchmarks/test_blackbox.py.)
    """
    out = []
    for setting, table in sorted(results(records).items()):
        both = [(cell, v) for cell, v in table.items() if first in v and second in v]
        if not both:
            continue
        counts = [0, 0, 0]
        groups = [[0, 0] for _ in GROUPS]
        for (function, _, _), v in both:
            k = 0 if v[first] < v[second] else 1 if v[second] < v[first] else 2
            counts[k] += 1
            for g, (_, members) in enumerate(GROUPS):
                if function in members and k < 2:
                    groups[g][k] += 1
        per_group = ", ".join(f"{a}/{b}" for a, b in groups)
        out.append(
            f"{_setting(setting)}: {first} better in {counts[0]}, {second} better in "
            f"{counts[1]}, tied in {counts[2]} of {len(both)}; by group ({first}/{second}): "
            f"{per_group}"
        )
    return out


def challengers(records: Iterable[dict[str, Any]], method: str) -> list[str]:
    """Lines: in each (dimension, budget) and function group, the other method
    that found a better value than `method` in the most problems, those counts
    both ways and the two-sided sign test's p-value of the split (ties left
    out): whether any method beats `method` in a group, or only ties it.
    (`python benchmarks/blackbox.py --challengers A`.)
    """
    from scipy.stats import binomtest  # type: ignore[import-untyped]

    out = []
    for setting, table in sorted(results(records).items()):
        others = sorted({m for v in table.values() for m in v} - {method})
        if not others or not any(method in v for v in table.values()):
            continue
        parts = []
        for name, members in GROUPS:
            best: tuple[int, int, str] | None = None
            for other in others:
                won = lost = 0
                for (function, _, _), v in table.items():
                    if function in members and method in v and other in v:
                        won += v[other] < v[method]
                        lost += v[method] < v[other]
                if won + lost and (best is None or (won, -lost) > (best[0], -best[1])):
                    best = (won, lost, other)
            if best is None:
                continue
            won, lost, other = best
            p = binomtest(won, won + lost).pvalue
            parts.append(f"{name}: {other} {won}/{lost} (p = {p:.2g})")
        out.append(f"{_setting(setting)}: " + "; ".join(parts))
    return out


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "-"


def _bold_min(cells: list[str]) -> list[str]:
    numbers = [float(c) for c in cells if c != "-"]
    if not numbers:
        return cells
    best = min(numbers)
    return [f"**{c}**" if c != "-" and float(c) == best else c for c in cells]


def _setting(setting: Setting) -> str:
    dim, budget = setting
    return f"d={dim}, {budget}·d"


def rank_tables(
    by_setting: dict[Setting, dict[Cell, dict[str, float]]],
    methods_of: dict[Setting, list[str]],
    labels: dict[str, str],
) -> str:
    """Mean ranks: per (dimension, budget) and overall, then per function group.

    In each setting `s`, the methods `methods_of[s]` are ranked over the
    problems all of them ran. The "all" column averages over every setting,
    and is given only when every setting ranks the same methods.
    """
    ranked = {s: ranks(by_setting[s], ms) for s, ms in sorted(methods_of.items()) if len(ms) > 1}
    ranked = {s: r for s, r in ranked.items() if r}
    if not ranked:
        return "_No problem has results of two methods yet._\n"
    settings = list(ranked)
    shown = [m for m in labels if any(m in methods_of[s] for s in settings)]
    same = all(methods_of[s] == methods_of[settings[0]] for s in settings)
    overall: list[Setting | None] = [None] if same else []
    head = [_setting(s) for s in settings] + (["all"] if same else [])
    lines = [
        "Mean rank (1 is the best; - : not ranked in that setting):",
        "",
        "| method | " + " | ".join(head) + " |",
        "|---|" + "---:|" * len(head),
    ]
    columns = []
    for s in [*settings, *overall]:
        keys = settings if s is None else [s]
        cells = [
            _mean([r[m] for key in keys for r in ranked[key].values() if m in r]) for m in shown
        ]
        columns.append(_bold_min(cells))
    for i, m in enumerate(shown):
        lines.append(f"| {labels[m]} | " + " | ".join(col[i] for col in columns) + " |")
    counts = [len(ranked[s]) for s in settings]
    counts += [sum(counts)] if same else []
    lines.append("| _problems_ | " + " | ".join(map(str, counts)) + " |")
    common = [m for m in shown if all(m in methods_of[s] for s in settings)]
    if not same and len(common) > 1:
        overall_ranks = [r for s in settings for r in ranks(by_setting[s], common).values()]
        lines += [
            "",
            f"Overall, the methods ranked in every setting, among themselves "
            f"({len(overall_ranks)} problems):",
            "",
            "| method | " + " | ".join(labels[m] for m in common) + " |",
            "|---|" + "---:|" * len(common),
            "| mean rank | "
            + " | ".join(_bold_min([_mean([r[m] for r in overall_ranks]) for m in common]))
            + " |",
        ]
    lines += [
        "",
        "Mean rank per BBOB function group:",
        "",
        "| setting | method | " + " | ".join(name for name, _ in GROUPS) + " | all |",
        "|---|---|" + "---:|" * (len(GROUPS) + 1),
    ]
    for s in settings:
        columns = []
        for _, functions in [*GROUPS, ("all", range(1, 25))]:
            cells = [
                _mean([r[m] for cell, r in ranked[s].items() if cell[0] in functions])
                for m in methods_of[s]
            ]
            columns.append(_bold_min(cells))
        for i, m in enumerate(methods_of[s]):
            row = " | ".join(col[i] for col in columns)
            lines.append(f"| {_setting(s)} | {labels[m]} | {row} |")
    return "\n".join(lines) + "\n"


def coverage(
    by_setting: dict[Setting, dict[Cell, dict[str, float]]],
    methods: Sequence[str],
    labels: dict[str, str],
    grid: Grid,
) -> tuple[str, int, int]:
    """The table of runs done per method and (dimension, budget); (table, done, expected)."""
    settings = [(d, b) for d in grid.dims for b in grid.budgets]
    lines = [
        "| method | " + " | ".join(_setting(s) for s in settings) + " |",
        "|---|" + "---:|" * len(settings),
    ]
    done = 0
    for m in methods:
        counts = [sum(m in r for r in by_setting.get(s, {}).values()) for s in settings]
        done += sum(counts)
        cells = [str(c) if c == grid.problems else f"{c}/{grid.problems}" for c in counts]
        lines.append(f"| {labels[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", done, grid.problems * len(settings) * len(methods)


def cpu_table(
    records: Iterable[dict[str, Any]], methods: Sequence[str], labels: dict[str, str]
) -> str:
    """Mean CPU milliseconds per proposal and per feedback, by dimension and run length."""
    runs: dict[tuple[str, int, int], dict[tuple[int, int, int], tuple[float, float, int]]] = (
        defaultdict(dict)
    )
    for r in records:
        if r.get("kind") == "run":
            key = (r["method"], r["dim"], r["run_budget"] * r["dim"])
            cell = (r["function"], r["instance"], r["seed"])
            runs[key][cell] = (r["cpu_propose"], r["cpu_feedback"], r["proposals"])
    lengths = sorted({(d, n) for _, d, n in runs})
    if not lengths:
        return ""
    lines = [
        "| method | " + " | ".join(f"d={d}, {n} trials" for d, n in lengths) + " |",
        "|---|" + "---:|" * len(lengths),
    ]
    for m in methods:
        cells = []
        for d, n in lengths:
            done = runs.get((m, d, n))
            if not done:
                cells.append("-")
                continue
            proposals = sum(p for _, _, p in done.values())
            propose = 1000 * sum(c for c, _, _ in done.values()) / proposals
            feedback = 1000 * sum(c for _, c, _ in done.values()) / proposals
            cells.append(f"{propose:.3g} / {feedback:.2g}")
        lines.append(f"| {labels[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def cost_table(records: Iterable[dict[str, Any]], labels: dict[str, str]) -> str:
    """CPU seconds of a proposal after a history of h random trials."""
    costs = {(r["method"], r["dim"], r["history"]): r for r in records if r.get("kind") == "cost"}
    if not costs:
        return ""
    columns = sorted({(d, h) for _, d, h in costs})
    methods = list(dict.fromkeys(m for m, _, _ in costs))
    lines = [
        "| method | " + " | ".join(f"d={d}, h={h}" for d, h in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for m in methods:
        cells = []
        for d, h in columns:
            r = costs.get((m, d, h))
            cells.append("-" if r is None else f"{r['first_s']:.3g} / {r['next_s']:.3g}")
        lines.append(f"| {labels.get(m, m)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(
    records: list[dict[str, Any]],
    methods: Sequence[str],
    labels: dict[str, str],
    unavailable: dict[str, str],
    grid: Grid,
) -> str:
    """The report: coverage, mean ranks, CPU time per proposal, what could not run."""
    by_setting = results(records)
    table, done, expected = coverage(by_setting, methods, labels, grid)
    present = {r["method"] for r in records if r.get("kind") == "run"}
    methods = [m for m in methods if m in present]
    parts = []
    if done < expected:
        parts.append(
            f"**Partial results: {done} of the {expected} runs of the full suite** (the methods "
            f"below, d = {', '.join(map(str, grid.dims))}, budgets "
            f"{' and '.join(f'{b}·d' for b in grid.budgets)}, {len(grid.functions)} functions "
            f"x {len(grid.instances)} instances x {grid.seeds} seeds = {grid.problems} runs "
            "per cell). Runs done:\n"
        )
    else:
        parts.append(f"All {expected} runs of the suite. Runs per cell:\n")
    parts.append(table)
    order = {m: i for i, m in enumerate(methods)}
    present_of = {
        s: sorted({m for r in t.values() for m in r if m in order}, key=order.__getitem__)
        for s, t in by_setting.items()
    }
    complete_of = {
        s: [m for m in ms if all(m in r for r in by_setting[s].values())]
        for s, ms in present_of.items()
    }
    parts.append(
        "In each (dimension, budget), the methods that ran every problem run there so far:\n"
    )
    parts.append(rank_tables(by_setting, complete_of, labels))
    partly = {s: ms for s, ms in present_of.items() if ms != complete_of[s]}
    if partly:
        parts.append(
            "Where some methods ran only some problems: every method that ran any, over the "
            "problems all of them ran:\n"
        )
        parts.append(rank_tables(by_setting, partly, labels))
    cpu = cpu_table(records, methods, labels)
    if cpu:
        parts.append(
            "CPU milliseconds per trial, propose / feedback (Optuna: `ask` / `tell`), "
            "averaged over the runs of each length:\n"
        )
        parts.append(cpu)
    cost = cost_table(records, labels)
    if cost:
        parts.append(
            "CPU seconds of one proposal after h random trials of f15 (instance 1): the first "
            "proposal (it fits the model on the whole history) / the mean of the next ones:\n"
        )
        parts.append(cost)
    if unavailable:
        parts.append("Not run here:\n\n" + "".join(f"- {k}: {v}\n" for k, v in unavailable.items()))
    return "\n".join(parts)


def write(path: Path, text: str) -> None:
    """Puts `text` between the BEGIN and END markers of `path` (a new page if there is none).

    Raises:
        SystemExit: If `path` exists without the markers.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# BBOB black-box suite\n\n{BEGIN}\n{text}\n{END}\n")
        return
    page = path.read_text()
    if BEGIN not in page or END not in page:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} block to put the report in")
    head, rest = page.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
