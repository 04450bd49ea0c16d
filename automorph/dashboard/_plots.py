"""The data behind the study page's plots, computed from a study's columns.

Each function returns plain JSON values that the page hands to Plotly. Plots
of many trials draw a sample (`sample_rows`): every trial when there are few,
else the best ones and an even spread of the rest, so a 100,000-trial study
draws as fast as a 2,000-trial one and its best trials are always there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automorph.algorithms import hypervolume, pareto_mask
from automorph.dashboard._data import StudyData, curve_of, direction_signs_text
from automorph.geno import DNA
from automorph.tuning import Measurement, StudyResult, Trial, importance
from automorph.utils import AutomorphError, FieldValueError

PLOT_TRIALS = 2000
"""How many trials a plot of many trials draws, at most."""


def sample_rows(data: StudyData, rows: list[int], limit: int, objective: int = 0) -> list[int]:
    """At most `limit` of `rows` (completed trials), in id order: the best
    quarter of the limit by `objective`, and an even spread of the rest."""
    if len(rows) <= limit:
        return rows
    sign = -1.0 if direction_signs_text(data)[objective] == "minimize" else 1.0
    ranked = sorted(rows, key=lambda i: -sign * data.values[i][objective])  # type: ignore[index]
    best = set(ranked[: limit // 4])
    rest = [i for i in rows if i not in best]
    step = len(rest) / (limit - len(best))
    spread = {rest[int(k * step)] for k in range(limit - len(best))}
    return sorted(best | spread)


def _completed(data: StudyData) -> list[int]:
    width = data.objectives
    return [i for i, v in enumerate(data.values) if v is not None and len(v) == width]


def _objective(data: StudyData, objective: int) -> None:
    if not 0 <= objective < data.objectives:
        raise FieldValueError(
            f"objective must be in 0..{data.objectives - 1} for study {data.name!r}, "
            f"got {objective}"
        )


def curves_view(data: StudyData, limit: int = 200) -> dict[str, Any]:
    """The intermediate values (learning curves) of the latest `limit`
    trials that reported any, and of the best trial; early-stopped trials
    are marked (`stopped`: the step the policy said to stop at)."""
    with_curves = [i for i, m in enumerate(data.measurements) if m]
    shown = with_curves[-limit:]
    completed = _completed(data)
    if completed and data.objectives == 1:
        sign = -1.0 if direction_signs_text(data)[0] == "minimize" else 1.0
        best = max(completed, key=lambda i: sign * data.values[i][0])  # type: ignore[index]
        if data.measurements[best] and best not in shown:
            shown = sorted([*shown, best])
    else:
        best = None
    curves = []
    for i in shown:
        steps, values = curve_of(data.measurements[i])
        if steps:
            curves.append(
                {
                    "id": data.ids[i],
                    "state": data.status[i],
                    "steps": steps,
                    "values": values,
                    "stopped": data.stopped[i],
                }
            )
    return {
        "trials": len(with_curves),
        "best": None if best is None else data.ids[best],
        "curves": curves,
    }


def params_view(data: StudyData, objective: int = 0, limit: int = PLOT_TRIALS) -> dict[str, Any]:
    """The decisions and final rewards of (a sample of) the completed trials:
    for parallel coordinates and slice plots. A choice is given by its
    candidate's index (with `labels`); a decision a trial does not have (it
    sits under another candidate) is null."""
    _objective(data, objective)
    completed = _completed(data)
    rows = sample_rows(data, completed, limit, objective)
    decisions = [d for d in data.decisions().values() if d.kind != "custom"]
    params: dict[str, list[float | None]] = {}
    for d in decisions:
        column: list[float | None] = []
        for i in rows:
            raw = data.dna[i].get(d.id)
            column.append(float(raw) if isinstance(raw, (int, float)) else None)
        params[d.id] = column
    return {
        "completed": len(completed),
        "shown": len(rows),
        "objective": objective,
        "direction": direction_signs_text(data)[objective] if data.objectives else "maximize",
        "ids": [data.ids[i] for i in rows],
        "value": [data.values[i][objective] for i in rows],  # type: ignore[index]
        "decisions": [
            {"id": d.id, "kind": d.kind, "labels": list(d.labels), "log": d.log} for d in decisions
        ],
        "params": params,
    }


def importance_view(
    data: StudyData, objective: int = 0, limit: int = PLOT_TRIALS, seed: int = 0
) -> dict[str, Any]:
    """Each decision's importance (fANOVA, `am.importance`) over (a sample
    of) the completed trials, or `error` saying why there is none (too few
    trials, or scikit-learn, the `importance` extra, is missing)."""
    _objective(data, objective)
    from automorph.symbolic import from_json_str

    rows = sample_rows(data, _completed(data), limit, objective)
    trials = [
        Trial(
            id=data.ids[i],
            dna=DNA.from_json(data.dna[i]),
            status="completed",
            final_measurement=Measurement(
                data.values[i] if data.objectives > 1 else data.values[i][0]  # type: ignore[index,arg-type]
            ),
        )
        for i in rows
    ]
    try:
        spec = from_json_str(data.info.dna_spec) if data.info.dna_spec else None
        if spec is None:
            return {"error": "the study has no stored DNASpec"}
        result = StudyResult(
            trials,
            spec,
            multi_objective=data.objectives > 1,
            name=data.name,
            directions=tuple(data.directions),
        )
        found = importance(result, objective=objective, num_trees=32, seed=seed)
    except ImportError as missing:
        return {"error": f"{missing} (pip install 'automorph[importance]')"}
    except AutomorphError as e:
        return {"error": str(e)}
    return {
        "trials": found.num_trials,
        "decisions": list(found),
        "importance": [found[k] for k in found],
        "spread": [found.std[k] for k in found],
    }


def pareto_view(data: StudyData, limit: int = PLOT_TRIALS, checkpoints: int = 60) -> dict[str, Any]:
    """For a multi-objective study: the completed trials' rewards (a sample,
    with every trial of the Pareto front), the front, and the hypervolume of
    the front after each of `checkpoints` points of the study, over a fixed
    reference point (the worst reward of every objective, less a tenth of
    its range)."""
    if data.objectives < 2:
        return {"error": f"study {data.name!r} has one objective: no Pareto front"}
    rows = _completed(data)
    if not rows:
        return {"front": [], "ids": [], "values": [], "hypervolume": [], "reference": None}
    signs = np.array([-1.0 if d == "minimize" else 1.0 for d in direction_signs_text(data)])
    points = np.array([data.values[i] for i in rows], dtype=float)
    signed = points * signs
    front = pareto_mask(signed)
    low, high = signed.min(axis=0), signed.max(axis=0)
    reference = low - 0.1 * np.where(high > low, high - low, 1.0)
    shown = set(sample_rows(data, rows, limit)) | {rows[j] for j in np.flatnonzero(front)}
    keep = [j for j, i in enumerate(rows) if i in shown]
    history: list[list[float]] = []
    ends = sorted({int(k) for k in np.rint(np.linspace(1, len(rows), min(checkpoints, len(rows))))})
    for end in ends:
        upto = signed[:end]
        history.append([data.ids[rows[end - 1]], hypervolume(upto[pareto_mask(upto)], reference)])
    return {
        "directions": direction_signs_text(data),
        "ids": [data.ids[rows[j]] for j in keep],
        "values": [list(points[j]) for j in keep],
        "front": [bool(front[j]) for j in keep],
        "front_size": int(front.sum()),
        "reference": list(reference * signs),
        "hypervolume": history,
    }
