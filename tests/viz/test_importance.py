"""Tests of `automorph.viz.plot_importance`."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.container import BarContainer
from matplotlib.patches import Rectangle

import automorph as am
from automorph.storage import MemoryStorage
from automorph.tuning import Importances
from automorph.viz import plot_importance
from automorph.viz._importance import draw_importance
from automorph.viz._plots import new_figure

SPACE = am.Dict(
    op=am.oneof(["conv", "pool", "skip"]),
    lr=am.floatv(1e-4, 1e-1, scale="log"),
    units=am.intv(8, 64),
)


def objective(example: Any) -> float:
    return {"conv": 0.0, "pool": 1.0, "skip": 2.0}[example["op"]] + example["units"] / 64


def texts_of(figure: Any) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


def bars_of(figure: Any) -> list[float]:
    axes = figure.axes[0]
    return [p.get_width() for p in axes.patches if isinstance(p, Rectangle)]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_study_is_plotted_most_important_on_top(tmp_path: Path) -> None:
    store = MemoryStorage()
    am.tune(objective, SPACE, am.algorithms.Random(seed=0), 40, name="cnn", storage=store)
    study = am.load_study("cnn", store)
    png = plot_importance(study, tmp_path / "imp.png")
    width, height = png_size(png)
    assert width >= 800 and height >= 300 and png.stat().st_size > 10_000

    imp = am.importance(study)
    figure = new_figure(8, 3)
    draw_importance(figure, imp)
    # Bars top to bottom in order of importance, with their values written on.
    assert np.allclose(bars_of(figure), list(imp.values()))
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == list(imp) and labels[0] == "op"
    texts = texts_of(figure)
    assert any(t.startswith("Decision importance of study 'cnn' (40 trials)") for t in texts)
    assert f"  {imp['op']:.3f}" in texts


def test_many_decisions_are_cut_and_counted() -> None:
    values = {f"d{i}": 0.01 * i for i in range(30)}
    figure = new_figure(8, 6)
    draw_importance(figure, values, max_bars=5)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == [
        "d29",
        "d28",
        "d27",
        "d26",
        "d25",
    ]
    assert any("25 less important decisions not shown" in t for t in texts_of(figure))


def test_an_importances_value_is_drawn_with_its_spread(tmp_path: Path) -> None:
    imp = Importances({"a": 0.5, "b": 0.3}, {"a": 0.1, "b": 0.05}, 20, objective=1)
    figure = new_figure(8, 3)
    draw_importance(figure, imp)
    assert any("20 trials, objective 1" in t for t in texts_of(figure))
    assert any("interactions: 0.200" in t for t in texts_of(figure))
    bars = next(c for c in figure.axes[0].containers if isinstance(c, BarContainer))
    assert bars.errorbar is not None  # the whiskers of the spread over trees
    with pytest.raises(am.FieldValueError, match="max_bars"):
        plot_importance(imp, tmp_path / "x.png", max_bars=0)
