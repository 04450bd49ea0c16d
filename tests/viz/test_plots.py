"""Tests of `automorph.viz`: history, parallel coordinates, the HTML report."""

from __future__ import annotations

import base64
import re
import struct
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import LineCollection

import automorph as am
from automorph.storage import StudyInfo, TrialRecord, TrialState
from automorph.viz import (
    decisions_of,
    pareto_mask,
    plot_history,
    plot_parallel_coordinates,
    write_report,
)
from automorph.viz._data import collect
from automorph.viz._plots import (
    draw_history,
    draw_parallel_coordinates,
    new_figure,
)

SPACE = am.Dict(
    op=am.oneof(["conv3x3", "conv5x5", "maxpool"]),
    lr=am.floatv(1e-4, 1e-1, scale="log"),
    depth=am.intv(2, 12),
    head=am.oneof([am.Dict(units=am.intv(8, 64)), "none"]),
    dropout=am.floatv(0.0, 0.5),
)
SPEC = am.dna_spec(SPACE)
SPEC_JSON = am.to_json_str(SPEC)


def make_trials(
    n: int, multi: bool = False, seed: int = 0, failed_every: int = 17, skipped_every: int = 23
) -> list[TrialRecord]:
    """A study's trials: rewards rise with the trial number, some fail or are skipped."""
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(1, n + 1):
        dna = SPEC.random_dna(rng).to_json()
        status: TrialState | None = (
            "failed" if i % failed_every == 0 else "skipped" if i % skipped_every == 0 else None
        )
        acc = float(np.tanh(i / max(n, 1)) - 0.05 * (np.log10(dna["lr"]) + 2.5) ** 2)
        acc += float(rng.normal(0, 0.02))
        reward: Any = [acc, float(-dna["depth"] + rng.normal())] if multi else acc
        trials.append(
            TrialRecord(
                "study",
                i,
                dna,
                status or "completed",
                reward=None if status else reward,
                measurements=[] if status else [{"reward": reward, "metrics": {"loss": 1 - acc}}],
            )
        )
    return trials


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file, from its header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_sensible_png(path: Path) -> None:
    width, height = png_size(path)
    assert 600 <= width <= 4000 and 400 <= height <= 3000, (width, height)
    assert 10_000 < path.stat().st_size < 8_000_000


def texts_of(figure: Any) -> list[str]:
    """Every text drawn on a figure: titles, labels, legends, tick texts."""
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


# --- history -------------------------------------------------------------------------


def test_history_of_one_objective_writes_a_png(tmp_path: Path) -> None:
    path = plot_history(make_trials(300), tmp_path / "history.png")
    assert path == tmp_path / "history.png"
    assert_sensible_png(path)


def test_history_marks_the_best_trial_and_the_failed_and_skipped_ones() -> None:
    trials = [
        TrialRecord("s", 1, {"x": 1}, "completed", reward=0.2),
        TrialRecord("s", 2, {"x": 2}, "failed"),
        TrialRecord("s", 3, {"x": 3}, "completed", reward=0.9),
        TrialRecord("s", 4, {"x": 4}, "skipped"),
        TrialRecord("s", 5, {"x": 5}, "completed", reward=0.5),
        TrialRecord("s", 6, {"x": 6}, "running"),
    ]
    figure = new_figure(9, 5)
    draw_history(figure, collect(trials))
    texts = texts_of(figure)
    assert "best: trial 3 (0.9)" in texts
    assert "failed (1)" in texts and "skipped (1)" in texts
    assert any("6 trials, 3 completed" in t for t in texts)
    # The best-so-far line: 0.2, then 0.9 from trial 3 on, to the last trial.
    line = next(line for line in figure.axes[0].get_lines() if line.get_label() == "best so far")
    assert np.asarray(line.get_ydata()).tolist() == [0.2, 0.9, 0.9, 0.9]
    assert np.asarray(line.get_xdata()).tolist() == [1, 3, 5, 6]


def test_history_of_several_objectives_highlights_the_pareto_front(tmp_path: Path) -> None:
    trials = make_trials(300, multi=True)
    assert_sensible_png(plot_history(trials, tmp_path / "pareto.png"))
    figure = new_figure(9, 5)
    table = collect(trials)
    draw_history(figure, table)
    front = int(pareto_mask(table.rewards[table.completed]).sum())
    texts = texts_of(figure)
    assert f"Pareto front ({front})" in texts
    assert any(t.startswith("Objectives 0 and 1 of 2") for t in texts)


def test_history_without_a_completed_trial_says_so(tmp_path: Path) -> None:
    trials = [TrialRecord("s", 1, {"x": 1}, "failed"), TrialRecord("s", 2, {"x": 2}, "running")]
    figure = new_figure(9, 5)
    draw_history(figure, collect(trials))
    assert any("no completed trial" in t for t in texts_of(figure))
    assert_sensible_png(plot_history(trials, tmp_path / "empty.png"))


def test_history_accepts_the_trials_of_a_search() -> None:
    result = am.tune(lambda ex: float(ex["x"]), am.Dict(x=am.intv(0, 9)), am.algorithms.Grid())
    figure = new_figure(9, 5)
    draw_history(figure, collect(result.trials))
    assert "best: trial 10 (9)" in texts_of(figure)


# --- parallel coordinates --------------------------------------------------------------


def test_parallel_coordinates_write_a_png(tmp_path: Path) -> None:
    path = plot_parallel_coordinates(make_trials(300), tmp_path / "p.png", dna_spec=SPEC)
    assert_sensible_png(path)


def test_parallel_coordinates_label_choices_by_candidate_and_numbers_by_range() -> None:
    trials = [
        TrialRecord("s", 1, {"op": 0, "lr": 1e-4, "depth": 2, "head": 1}, "completed", reward=1.0),
        TrialRecord(
            "s",
            2,
            {"op": 2, "lr": 1e-2, "depth": 12, "head": 0, "head[=0].units": 8},
            "completed",
            reward=2.0,
        ),
    ]
    figure = new_figure(12, 5)
    draw_parallel_coordinates(figure, collect(trials), decisions_of(SPEC_JSON))
    texts = texts_of(figure)
    assert {"conv3x3", "conv5x5", "maxpool"} <= set(texts)  # a choice's candidates
    assert {"0.0001", "0.001", "0.01"} <= set(texts)  # a log-scale float: log axis
    assert {"2", "7", "12"} <= set(texts)  # an int, over its observed range
    assert "(inactive)" in texts  # trial 1 has no `head[=0].units`
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert ticks == ["op", "lr", "depth", "head", "head[=0].units", "reward"]
    assert "Parallel coordinates: 2 completed trials" in texts


def test_parallel_coordinates_read_kinds_from_values_without_a_spec() -> None:
    trials = [
        TrialRecord("s", i, {"k": i % 3, "x": i / 7, "name": f"n{i % 2}"}, "completed", reward=i)
        for i in range(1, 31)
    ]
    figure = new_figure(12, 5)
    draw_parallel_coordinates(figure, collect(trials), {})
    texts = texts_of(figure)
    assert {"0", "1", "2"} <= set(texts)  # few distinct ints: categories
    assert {"0.1429", "4.286"} <= set(texts)  # floats: their range
    assert {"'n0'", "'n1'"} <= set(texts)  # strings: categories


def test_parallel_coordinates_subsample_many_trials_and_say_so() -> None:
    trials = make_trials(5000)
    table = collect(trials)
    figure = new_figure(12, 5)
    draw_parallel_coordinates(figure, table, {}, max_lines=500)
    done = int(table.completed.sum())
    title = figure.axes[0].get_title()
    assert f"500 of {done:,} completed trials drawn (best 50 always" in title
    lines = figure.axes[0].collections[0]
    assert isinstance(lines, LineCollection)
    assert len(lines.get_segments()) == 500
    # The best trial is always drawn (last, so on top): its reward tops the reward axis.
    assert lines.get_segments()[-1][-1][1] == pytest.approx(1.0)


def test_parallel_coordinates_refuse_no_lines(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`max_lines` \(0\) must be at least 1"):
        plot_parallel_coordinates(make_trials(5), tmp_path / "p.png", max_lines=0)


def test_plots_name_the_viz_extra_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'automorph\[viz\]'"):
        plot_history(make_trials(5), tmp_path / "h.png")


# --- report ------------------------------------------------------------------------------


def test_report_embeds_the_png_and_names_the_best_trial(tmp_path: Path) -> None:
    trials = make_trials(300)
    best = max((t for t in trials if t.status == "completed"), key=lambda t: t.reward or 0.0)
    info = StudyInfo("cnn <search>", dna_spec=SPEC_JSON, created=1.7e9)
    png, page = write_report(info, trials, tmp_path / "out" / "report")
    assert (png.name, page.name) == ("report.png", "report.html")
    assert_sensible_png(png)
    text = page.read_text()
    embedded = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert embedded is not None and base64.b64decode(embedded.group(1)) == png.read_bytes()
    assert "<h1>Study cnn &lt;search&gt;</h1>" in text  # escaped
    assert f"The best is trial {best.id}, with reward {best.reward:.6g}." in text
    assert "(270 completed, 17 failed, 13 skipped)" in text
    top = text[text.index("<h2>Top 50 trials") :]
    assert top.count("<tr") == 51  # the header and 50 trials
    assert f'<tr class="best"><td class="num">1</td><td class="num">{best.id}</td>' in top
    assert "(conv3x3)" in text or "(conv5x5)" in text or "(maxpool)" in text
    assert "metrics.loss" in text


def test_report_of_several_objectives_lists_the_pareto_front(tmp_path: Path) -> None:
    trials = make_trials(200, multi=True)
    table = collect(trials)
    front = int(pareto_mask(table.rewards[table.completed]).sum())
    _, page = write_report(StudyInfo("mo", multi_objective=True), trials, tmp_path / "mo")
    text = page.read_text()
    assert f"{front} completed trials are on the Pareto front" in text
    assert f"<h2>Pareto front ({front} trials)</h2>" in text
    assert "<th>reward.0</th><th>reward.1</th>" in text


def test_report_of_a_study_without_completed_trials(tmp_path: Path) -> None:
    trials = [TrialRecord("s", 1, {"x": 1}, "failed")]
    png, page = write_report("s", trials, tmp_path / "s")
    assert_sensible_png(png)
    assert "No trial has completed yet." in page.read_text()


def test_fifty_thousand_trials_plot_in_seconds(tmp_path: Path) -> None:
    trials = make_trials(50_000, seed=1)
    multi = make_trials(50_000, multi=True, seed=2)
    started = time.perf_counter()
    assert_sensible_png(plot_history(trials, tmp_path / "h.png"))
    assert_sensible_png(plot_parallel_coordinates(trials, tmp_path / "p.png", dna_spec=SPEC))
    png, _ = write_report(StudyInfo("big", dna_spec=SPEC_JSON), trials, tmp_path / "big")
    assert_sensible_png(png)
    png, _ = write_report(StudyInfo("big-mo", multi_objective=True), multi, tmp_path / "mo")
    assert_sensible_png(png)
    elapsed = time.perf_counter() - started
    # Not a benchmark: a guard against drawing that grows faster than the trials.
    assert elapsed < 60, f"plots of 50,000 trials took {elapsed:.1f} s"


# --- data --------------------------------------------------------------------------------


def test_decisions_of_a_nested_space() -> None:
    decisions = decisions_of(SPEC)
    assert list(decisions) == ["op", "lr", "depth", "head", "head[=0].units", "dropout"]
    assert decisions["op"].describe() == "choice of 3 (conv3x3, conv5x5, maxpool)"
    assert decisions["lr"].describe() == "float in [0.0001, 0.1] (log)"
    assert decisions["head[=0].units"].describe() == "int in [8, 64]"
    assert decisions_of(SPEC_JSON) == decisions
    assert decisions_of("not json") == {} and decisions_of(None) == {}
    many = am.dna_spec(am.Dict(ops=am.manyof(2, ["a", "b", "c"])))
    assert list(decisions_of(many)) == ["ops[0]", "ops[1]"]


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=30), st.booleans())
def test_pareto_mask_matches_the_definition(points: list[tuple[int, int]], three: bool) -> None:
    array = np.array([(*p, (p[0] * 7 + p[1]) % 5) if three else p for p in points], dtype=float)
    array = array.reshape(len(points), 3 if three else 2)
    expected = [not any(np.all(q >= p) and np.any(q > p) for q in array) for p in array]
    assert pareto_mask(array).tolist() == expected


def test_collect_reads_rewards_of_every_shape() -> None:
    table = collect(
        [
            TrialRecord("s", 1, {"x": 1}, "completed", reward=[1.0, 2.0]),
            TrialRecord("s", 2, {"y": 1}, "completed", reward=[float("nan"), 1.0]),
            TrialRecord("s", 3, {"x": 2}, "running"),
        ]
    )
    assert table.multi_objective and table.num_objectives == 2
    assert table.completed.tolist() == [True, False, False]
    assert table.decision_ids == ["x", "y"]
    assert table.best_index() == 0
