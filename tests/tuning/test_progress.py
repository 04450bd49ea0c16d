"""Tests of the progress line: in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

import pytest

import automorph as am
from automorph import algorithms
from automorph.tuning import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_terminal_rewrites_one_line_in_place() -> None:
    out, clock = Terminal(), Clock()
    progress = Progress(100, name="cifar", stream=out, clock=clock)
    assert progress.tty and progress.interval == 0.1
    clock.now += 0.05
    progress.update(1, 0.5, 1)  # too soon: nothing written
    assert out.getvalue() == ""
    clock.now += 2.0
    progress.update(50, 0.91234567, 12)
    clock.now += 3661.0
    progress.update(100, None, None)
    progress.close(100, 0.75, 3)
    progress.close(100, 0.75, 3)  # once only
    first = "cifar: 50/100 trials, best 0.912346 (trial 12), 24.4 trials/s, 0:00:02"
    second = "cifar: 100/100 trials, 36.6 s/trial, 1:01:03"  # slow: 3663 s / 100
    last = "cifar: 100/100 trials, best 0.75 (trial 3), 36.6 s/trial, 1:01:03"
    assert out.getvalue() == (
        "\r" + first + "\r" + second + " " * (len(first) - len(second)) + "\r" + last + "\n"
    )


def test_elsewhere_writes_a_plain_line_every_interval() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(None, stream=out, clock=clock)
    assert not progress.tty and progress.interval == 10.0
    for done in range(1, 30):
        clock.now += 1.0
        progress.update(done, float(done), done)
    progress.close(29, 29.0, 29)
    assert out.getvalue().splitlines() == [
        "search: 10 trials, best 10 (trial 10), 1.0 trials/s, 0:00:10",
        "search: 20 trials, best 20 (trial 20), 1.0 trials/s, 0:00:20",
        "search: 29 trials, best 29 (trial 29), 1.0 trials/s, 0:00:29",
    ]


def test_description_of_the_best() -> None:
    progress = Progress(None, stream=io.StringIO(), clock=Clock())
    assert progress.line(3, "3 on the Pareto front", None, 1000.0) == (
        "search: 3 trials, 3 on the Pareto front, 0.0 trials/s, 0:00:00"
    )


def test_sample_with_progress_reports_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 4)), algorithms.Grid(), 5, name="demo", progress=True)
    for example, feedback in loop:
        feedback(float(example["x"]))
    captured = capsys.readouterr()
    assert captured.out == ""
    last = captured.err.splitlines()[-1]
    assert last.startswith("demo: 5/5 trials, best 4 (trial 5), ")
    assert last.endswith(" trials/s, 0:00:00")


def test_tune_with_progress_reports_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    am.tune(lambda ex: 1.0, am.Dict(x=am.intv(0, 2)), algorithms.Grid(), progress=True)
    assert capsys.readouterr().err.startswith("search: 3 trials, best 1 (trial 1), ")


def test_no_progress_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    am.tune(lambda ex: 1.0, am.Dict(x=am.intv(0, 2)), algorithms.Grid())
    assert capsys.readouterr() == ("", "")


def test_multi_objective_progress_shows_no_best(capsys: pytest.CaptureFixture[str]) -> None:
    class TwoObjectives(algorithms.Random, type_name="tests.tuning.progress.TwoObjectives"):
        multi_objective = True

    am.tune(
        lambda ex: (1.0, 2.0), am.Dict(x=am.intv(0, 2)), TwoObjectives(seed=0), 2, progress=True
    )
    err = capsys.readouterr().err
    assert err.startswith("search: 2/2 trials, ") and "best" not in err
