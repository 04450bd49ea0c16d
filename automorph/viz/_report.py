"""`write_report`: a study's plots as one PNG, and a self-contained HTML page."""

from __future__ import annotations

import base64
import html
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automorph.algorithms import pareto_mask
from automorph.geno import Space
from automorph.storage import DIRECTIONS_KEY, StudyInfo
from automorph.tuning import Study, StudyResult
from automorph.viz._data import (
    Decision,
    TrialLike,
    TrialTable,
    checked_directions,
    collect,
    decisions_of,
    spec_of,
)
from automorph.viz._plots import (
    MAX_AXES,
    MAX_LINES,
    draw_history,
    draw_parallel_coordinates,
    new_figure,
    save,
)

TOP_ROWS = 50  # rows of the table of top trials
MAX_COLUMNS = 12  # decision columns, at most; more decisions share one column

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #fff4d6; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.meta { color: #555; }
"""


def write_report(
    study: StudyInfo | StudyResult | Study | str,
    trials: Iterable[TrialLike],
    path_prefix: str | os.PathLike[str],
    *,
    dna_spec: Space | str | None = None,
    max_lines: int = MAX_LINES,
    directions: str | Sequence[str] | None = None,
) -> tuple[Path, Path]:
    """Writes `<prefix>.png` (the history and parallel-coordinate plots in
    one figure) and `<prefix>.html` (a page that needs no other file: the
    study's name and counts, its best trial or Pareto front, the PNG
    embedded, and the top trials).

    Args:
        study: The study (its name, creation time, directions and DNASpec
            are used): its stored `StudyInfo`, a stored `Study`, a
            `StudyResult` held in memory, or just its name (then the study
            is taken to be maximized unless `directions` says otherwise).
        trials: The study's trials: storage `TrialRecord`s or tuning `Trial`s.
        path_prefix: Where to write, without the suffixes; folders that do
            not exist are created.
        dna_spec: The DNASpec (or its JSON text); by default the study's.
        max_lines: The most lines of the parallel-coordinate plot.
        directions: "maximize" or "minimize" per objective (one for all);
            by default the study's.

    Returns:
        The paths of the PNG and the HTML page.

    Raises:
        ImportError: If matplotlib is not installed.
        FieldValueError: If a direction is neither "maximize" nor "minimize".

    >>> import tempfile, pathlib
    >>> from automorph.storage import StudyInfo, TrialRecord
    >>> trials = [
    ...     TrialRecord("demo", i, {"x": i}, "completed", reward=-abs(i - 3)) for i in range(6)
    ... ]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png, page = write_report(StudyInfo("demo"), trials, pathlib.Path(folder) / "demo")
    ...     png.name, page.name, "trial 3" in page.read_text()
    ('demo.png', 'demo.html', True)
    """
    info = _info_of(study)
    if dna_spec is not None:
        spec: Space | str | None = dna_spec
    else:
        spec = spec_of(study) if isinstance(study, StudyResult) else info.dna_spec
    trial_list = list(trials)
    wanted = checked_directions(directions) or info.directions
    table = collect(trial_list, info.multi_objective or None, wanted)
    decisions = decisions_of(spec)
    prefix = Path(path_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    png = prefix.with_name(prefix.name + ".png")
    page = prefix.with_name(prefix.name + ".html")

    width = max(10.0, min(4.0 + 1.15 * min(len(table.decision_ids), MAX_AXES), 26.0))
    figure = new_figure(width, 10.4)
    panels = np.asarray(figure.subfigures(2, 1, height_ratios=[4.8, 5.6]), dtype=object)
    top, bottom = panels[0], panels[1]
    draw_history(top, table, title=None)
    draw_parallel_coordinates(bottom, table, decisions, max_lines=max_lines)
    figure.suptitle(f"Study {info.name!r}", fontweight="bold")
    save(figure, png)

    image = base64.b64encode(png.read_bytes()).decode("ascii")
    page.write_text(_page(info, table, trial_list, decisions, image), encoding="utf-8")
    return png, page


def _info_of(study: StudyInfo | StudyResult | Study | str) -> StudyInfo:
    """The study as `write_report` shows it (a result held in memory as a
    `StudyInfo` that is not stored anywhere)."""
    if isinstance(study, StudyInfo):
        return study
    if isinstance(study, Study):
        return study.info
    if isinstance(study, StudyResult):
        return StudyInfo(
            study.name or "unnamed",
            multi_objective=study.multi_objective,
            metadata={DIRECTIONS_KEY: list(study.directions)},
        )
    return StudyInfo(study)


def _page(
    info: StudyInfo,
    table: TrialTable,
    trials: list[TrialLike],
    decisions: Mapping[str, Decision],
    image: str,
) -> str:
    name = html.escape(info.name)
    counts = Counter(table.status)
    count_text = ", ".join(f"{n:,} {s}" for s, n in counts.most_common()) or "none"
    created = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.created)) if info.created else "-"
    )
    objectives = _objectives_text(table)
    if table.constrained:
        done = table.completed
        feasible = int((done & table.feasible).sum())
        objectives += f" &middot; {feasible:,} of {int(done.sum()):,} completed trials feasible"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>automorph study {name}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Study {name}</h1>",
        f'<p class="meta">Created {created} &middot; {len(table):,} trials ({count_text}) '
        f"&middot; {objectives}</p>",
    ]
    parts += _best_section(table, trials, decisions)
    parts += [
        "<h2>Plots</h2>",
        f'<img src="data:image/png;base64,{image}" alt="History and parallel coordinates '
        f'of study {name}">',
    ]
    parts += _top_section(table, decisions)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _objectives_text(table: TrialTable) -> str:
    """'one objective, minimized', '2 objectives, each maximized', or each
    objective's direction when they differ."""
    words = [
        "minimized" if table.minimized(k) else "maximized" for k in range(table.num_objectives)
    ]
    if not table.multi_objective:
        return f"one objective, {words[0]}"
    if len(set(words)) == 1:
        return f"{table.num_objectives} objectives, each {words[0]}"
    each = ", ".join(f"objective {k} {word}" for k, word in enumerate(words))
    return f"{table.num_objectives} objectives: {each}"


def _best_section(
    table: TrialTable, trials: list[TrialLike], decisions: Mapping[str, Decision]
) -> list[str]:
    best = table.best_index()
    if best is None:
        return ["<h2>Best trial</h2>", "<p>No trial has completed yet.</p>"]
    infeasible = "" if table.feasible[best] else " No trial meets every constraint: "
    if infeasible:
        infeasible += "these are the trials that break them least."
    if table.multi_objective:
        front = int(pareto_mask(table.signed[table.leading()]).sum())
        which = "feasible trials" if table.constrained and not infeasible else "completed trials"
        return [
            "<h2>Pareto front</h2>",
            f"<p>{front:,} {which} are on the Pareto front (no other trial is at "
            "least as good on every objective and better on one); they are listed below."
            f"{infeasible}</p>",
        ]
    trial = trials[best]
    rows = [("trial", str(int(table.ids[best]))), ("reward", _number(table.rewards[best, 0]))]
    for decision_id, value in table.dna[best].items():
        rows.append((f"dna.{decision_id}", _value(value, decisions.get(decision_id))))
    for metric, value in _last_metrics(trial).items():
        rows.append((f"metrics.{metric}", _value(value, None)))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return [
        "<h2>Best trial</h2>",
        f"<p>The best is trial {int(table.ids[best])}, with reward "
        f"{_number(table.rewards[best, 0])}"
        f"{' (the reward is minimized)' if table.minimized(0) else ''}"
        f"{', the best of the feasible trials' if table.constrained and not infeasible else ''}."
        f"{infeasible}</p>",
        f'<table class="best">{body}</table>',
    ]


def _top_section(table: TrialTable, decisions: Mapping[str, Decision]) -> list[str]:
    done = np.flatnonzero(table.completed)
    if done.size == 0:
        return []
    if table.multi_objective:
        leading = np.flatnonzero(table.leading())
        front = leading[pareto_mask(table.signed[leading])]
        rows = front[np.argsort(-table.signed[front, 0], kind="stable")][:TOP_ROWS]
        heading = f"Pareto front ({front.size:,} trials"
        heading += f"; the first {TOP_ROWS} by objective 0)" if front.size > TOP_ROWS else ")"
        reward_heads = [f"reward.{k}" for k in range(table.num_objectives)]
    else:
        # Deb's rules: feasible trials by reward, then infeasible ones by violation.
        violation = table.violation[done]
        score = np.where(violation > 0.0, 0.0, -table.signed[done, 0])
        rows = done[np.lexsort((score, violation))][:TOP_ROWS]
        heading = f"Top {rows.size} trials by reward (of {done.size:,} completed)"
        reward_heads = ["reward"]
    ids = table.decision_ids
    wide = len(ids) > MAX_COLUMNS
    extra = ["feasible"] if table.constrained else []
    heads = ["rank", "trial", *reward_heads, *extra]
    heads += ["dna"] if wide else [f"dna.{d}" for d in ids]
    lines = ["<h2>" + html.escape(heading) + "</h2>", "<table><thead><tr>"]
    lines.append("".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr></thead><tbody>")
    for rank, row in enumerate(rows, start=1):
        cells = [_num_cell(str(rank)), _num_cell(str(int(table.ids[row])))]
        cells += [_num_cell(_number(r)) for r in table.rewards[row]]
        if table.constrained:
            excess = float(table.violation[row])
            cells.append(f"<td>{'yes' if excess == 0.0 else f'no ({_number(excess)})'}</td>")
        dna = table.dna[row]
        if wide:
            text = ", ".join(f"{k}={_value(v, decisions.get(k))}" for k, v in dna.items())
            cells.append(f"<td>{html.escape(text[:200])}</td>")
        else:
            for decision_id in ids:
                value = dna.get(decision_id)
                cells.append(f"<td>{html.escape(_value(value, decisions.get(decision_id)))}</td>")
        css = ' class="best"' if rank == 1 and not table.multi_objective else ""
        lines.append(f"<tr{css}>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return lines


def _num_cell(text: str) -> str:
    return f'<td class="num">{html.escape(text)}</td>'


def _number(value: float) -> str:
    return f"{float(value):.6g}"


def _value(value: Any, decision: Decision | None) -> str:
    """A decision's value for a table: a choice shows its candidate too."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if (
        decision is not None
        and decision.kind == "choice"
        and isinstance(value, int)
        and 0 <= value < len(decision.labels)
    ):
        return f"{value} ({decision.labels[value]})"
    return str(value)


def _last_metrics(trial: TrialLike) -> dict[str, Any]:
    """The metrics of a trial's last measurement (a stored dict or a `Measurement`)."""
    measurements = getattr(trial, "measurements", None)
    if not measurements:
        return {}
    last = measurements[-1]
    metrics = last.get("metrics") if isinstance(last, Mapping) else getattr(last, "metrics", None)
    return dict(metrics) if isinstance(metrics, Mapping) else {}
