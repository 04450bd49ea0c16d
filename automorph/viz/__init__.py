"""Plots of a study: its history, parallel coordinates, decision importance,
and an HTML report.

Every function takes trials as the storage layer keeps them
(`automorph.storage.TrialRecord`) or as the search loop holds them
(`automorph.tuning.Trial`), or a whole `StudyResult` or stored `Study`;
`plot_importance` takes what `am.importance` returns, or a study. Rewards
are maximized unless `directions` says otherwise; a result or a study
brings its own directions. matplotlib is an optional extra
(`pip install 'automorph[viz]'`), imported only when a plot is drawn;
figures use the Agg backend and never touch pyplot's global state.

>>> import tempfile, pathlib
>>> from automorph.storage import TrialRecord
>>> trials = [
...     TrialRecord("demo", i, {"op": i % 3, "lr": 0.1 * i}, "completed", reward=i % 5 / 4)
...     for i in range(1, 21)
... ]
>>> with tempfile.TemporaryDirectory() as folder:
...     png = plot_parallel_coordinates(trials, pathlib.Path(folder) / "parallel.png")
...     png.stat().st_size > 10_000
True
"""

from __future__ import annotations

from automorph.algorithms import pareto_mask
from automorph.viz._data import Decision, TrialLike, decisions_of
from automorph.viz._importance import plot_importance
from automorph.viz._plots import plot_history, plot_parallel_coordinates
from automorph.viz._report import write_report

__all__ = [
    "Decision",
    "TrialLike",
    "decisions_of",
    "pareto_mask",
    "plot_history",
    "plot_importance",
    "plot_parallel_coordinates",
    "write_report",
]
