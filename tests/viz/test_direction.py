"""Plots of minimized studies: best-so-far curves go down, fronts follow directions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import automorph as am
from automorph.storage import DIRECTIONS_KEY, StudyInfo, TrialRecord
from automorph.utils import FieldValueError
from automorph.viz import plot_history, plot_parallel_coordinates, write_report
from automorph.viz._data import collect
from automorph.viz._plots import draw_history, draw_parallel_coordinates, new_figure

TRIALS = [
    TrialRecord("s", 1, {"x": 1}, "completed", reward=0.5),
    TrialRecord("s", 2, {"x": 2}, "failed"),
    TrialRecord("s", 3, {"x": 3}, "completed", reward=0.9),
    TrialRecord("s", 4, {"x": 4}, "completed", reward=0.2),
    TrialRecord("s", 5, {"x": 5}, "completed", reward=0.4),
]


def texts_of(figure: object) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]  # type: ignore[attr-defined]


def test_the_best_so_far_of_a_minimized_study_goes_down() -> None:
    table = collect(TRIALS, directions=["minimize"])
    assert table.best_index() == 3  # trial 4, reward 0.2
    figure = new_figure(9, 5)
    draw_history(figure, table)
    line = next(line for line in figure.axes[0].get_lines() if line.get_label() == "best so far")
    assert np.asarray(line.get_ydata()).tolist() == [0.5, 0.5, 0.2, 0.2, 0.2]
    assert np.asarray(line.get_xdata()).tolist() == [1, 3, 4, 5, 5]
    texts = texts_of(figure)
    assert "best: trial 4 (0.2)" in texts
    assert any("completed, minimized)" in t for t in texts)
    low, high = figure.axes[0].get_ylim()
    assert low < 0.2 < 0.9 < high  # an upright axis: the curve is seen going down
    # Maximized, as before: 0.5, 0.5, 0.9, ...
    figure = new_figure(9, 5)
    draw_history(figure, collect(TRIALS))
    line = next(line for line in figure.axes[0].get_lines() if line.get_label() == "best so far")
    assert np.asarray(line.get_ydata()).tolist() == [0.5, 0.9, 0.9, 0.9, 0.9]


def test_the_pareto_front_follows_the_directions() -> None:
    trials = [
        TrialRecord("m", i, {"x": i}, "completed", reward=list(r))
        for i, r in enumerate([(1.0, 1.0), (2.0, 2.0), (2.0, 0.5), (0.5, 0.5)], start=1)
    ]
    table = collect(trials, directions=["maximize", "minimize"])
    figure = new_figure(9, 5)
    draw_history(figure, table)
    texts = texts_of(figure)
    assert "Pareto front (1)" in texts and "objective 1 (minimized)" in texts
    assert "Pareto front (1)" in texts_of(_drawn(collect(trials, directions=["maximize"])))


def _drawn(table: object) -> object:
    figure = new_figure(9, 5)
    draw_history(figure, table)  # type: ignore[arg-type]
    return figure


def test_parallel_coordinates_draw_the_best_lines_last() -> None:
    from matplotlib.collections import LineCollection

    for directions, best_y in ((["minimize"], 0.0), (["maximize"], 1.0)):
        figure = new_figure(9, 5)
        draw_parallel_coordinates(figure, collect(TRIALS, directions=directions), {})
        lines = next(c for c in figure.axes[0].collections if isinstance(c, LineCollection))
        last = lines.get_segments()[-1]  # drawn last, on top: the best trial
        assert last[-1][1] == best_y  # its place on the reward axis (lowest or highest)


def test_a_report_and_a_png_of_a_minimized_study(tmp_path: Path) -> None:
    info = StudyInfo("s", metadata={DIRECTIONS_KEY: ["minimize"]})
    png, page = write_report(info, TRIALS, tmp_path / "s")
    text = page.read_text()
    assert "The best is trial 4, with reward 0.2 (the reward is minimized)." in text
    assert png.stat().st_size > 10_000
    path = plot_history(TRIALS, tmp_path / "h.png", directions=["minimize"])
    assert path.stat().st_size > 10_000


def test_the_plots_of_a_minimizing_search(tmp_path: Path) -> None:
    store = am.storage.MemoryStorage()
    am.tune(lambda e: float(e["x"]), am.Dict(x=am.intv(0, 5)), am.algorithms.Grid(),
            name="g", storage=store, direction="minimize")  # fmt: skip
    _, page = write_report(store.get_study("g"), store.get_trials("g"), tmp_path / "g")
    assert "The best is trial 1, with reward 0 (the reward is minimized)." in page.read_text()


def test_the_report_page_names_the_real_directions(tmp_path: Path) -> None:
    low = StudyInfo("s", metadata={DIRECTIONS_KEY: ["minimize"]})
    text = write_report(low, TRIALS, tmp_path / "low")[1].read_text()
    assert "one objective, minimized" in text and "maximized" not in text
    text = write_report(StudyInfo("s"), TRIALS, tmp_path / "high")[1].read_text()
    assert "one objective, maximized" in text
    multi = [
        TrialRecord("m", i, {"x": i}, "completed", reward=[float(i), 1.0 / i]) for i in (1, 2, 3)
    ]
    both = StudyInfo("m", multi_objective=True, metadata={DIRECTIONS_KEY: ["minimize"]})
    text = write_report(both, multi, tmp_path / "both")[1].read_text()
    assert "2 objectives, each minimized" in text
    mixed = StudyInfo(
        "m", multi_objective=True, metadata={DIRECTIONS_KEY: ["maximize", "minimize"]}
    )
    text = write_report(mixed, multi, tmp_path / "mixed")[1].read_text()
    assert "2 objectives: objective 0 maximized, objective 1 minimized" in text


def test_a_report_of_a_study_given_by_name_takes_its_directions(tmp_path: Path) -> None:
    for directions in (["minimize"], "minimize", ("minimize",)):
        _, page = write_report("s", TRIALS, tmp_path / "s", directions=directions)
        text = page.read_text()
        assert "The best is trial 4, with reward 0.2 (the reward is minimized)." in text
        assert "one objective, minimized" in text
    # Given, they win over the StudyInfo's own.
    _, page = write_report(StudyInfo("s"), TRIALS, tmp_path / "s", directions=["minimize"])
    assert "The best is trial 4" in page.read_text()
    with pytest.raises(FieldValueError, match="'min'"):
        write_report("s", TRIALS, tmp_path / "bad", directions=["min"])
    with pytest.raises(FieldValueError, match="'lowest'"):
        plot_history(TRIALS, tmp_path / "bad.png", directions="lowest")


def test_a_result_or_a_study_carries_its_directions_into_every_plot(tmp_path: Path) -> None:
    store = am.storage.MemoryStorage()
    space = am.Dict(x=am.intv(0, 5), op=am.oneof(["a", "b"]))
    result = am.tune(lambda e: float(e["x"]), space, am.algorithms.Grid(),
                     name="g", storage=store, direction="minimize")  # fmt: skip
    study = am.load_study("g", store)
    for source in (result, study):
        _, page = write_report(source, source.trials, tmp_path / "r")
        text = page.read_text()
        assert "The best is trial 1, with reward 0 (the reward is minimized)." in text
        assert "<h1>Study g</h1>" in text and "one objective, minimized" in text
        assert "(a)</td>" in text  # the choice labelled by its candidate: the DNASpec came too
    _, page = write_report(am.tune(lambda e: -float(e["x"]), space, am.algorithms.Grid(),
                                   minimize=True), [], tmp_path / "unnamed")  # fmt: skip
    assert "<h1>Study unnamed</h1>" in page.read_text()

    def png(draw: object, name: str, **options: object) -> bytes:
        return draw(options.pop("source", result), tmp_path / name, **options).read_bytes()  # type: ignore[operator, no-any-return]

    minimized = png(plot_history, "h1.png", source=result.trials, directions=["minimize"])
    assert png(plot_history, "h2.png") == minimized
    assert png(plot_history, "h3.png", source=study) == minimized
    assert png(plot_history, "h4.png", source=result.trials) != minimized
    spec = result.dna_spec
    minimized = png(plot_parallel_coordinates, "p1.png", source=result.trials,
                    dna_spec=spec, directions=["minimize"])  # fmt: skip
    assert png(plot_parallel_coordinates, "p2.png") == minimized
    assert png(plot_parallel_coordinates, "p3.png", source=study) == minimized
    maximized = png(plot_parallel_coordinates, "p4.png", source=result.trials, dna_spec=spec)
    assert maximized != minimized
