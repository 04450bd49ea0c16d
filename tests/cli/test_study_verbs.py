"""The command line on minimized studies, and the verbs `enqueue` and `delete`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.cli import main
from automorph.storage import MemoryStorage, Storage

SPACE = am.Dict(x=am.intv(0, 9), op=am.oneof(["a", "b"]))


def value(example: Any) -> float:
    return float(example["x"]) + (0.5 if example["op"] == "b" else 0.0)


def run(capsys: pytest.CaptureFixture[str], store: Storage, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), storage=store)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def store() -> Storage:
    store = MemoryStorage()
    am.tune(value, SPACE, am.algorithms.Grid(), 6, name="low", storage=store, minimize=True)
    am.tune(value, SPACE, am.algorithms.Grid(), 6, name="high", storage=store)
    return store


def test_the_commands_say_and_use_the_direction(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    # Grid: x=0 a, x=0 b, x=1 a, ... rewards 0, 0.5, 1, 1.5, 2, 2.5
    code, out, _ = run(capsys, store, "studies")
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert code == 0 and "0 (min)" in rows["low"] and "2.5" in rows["high"]
    code, out, _ = run(capsys, store, "show", "low")
    assert "Objectives: one, minimized" in out and "Best trial: 1 (reward 0)" in out
    code, out, _ = run(capsys, store, "show", "high")
    assert "Objectives: one, maximized" in out and "Best trial: 6 (reward 2.5)" in out
    code, out, _ = run(capsys, store, "best", "low")
    assert "Best trial of 'low': trial 1" in out and "reward: 0 (minimized)" in out
    code, out, _ = run(capsys, store, "best", "low", "--json")
    assert json.loads(out)["id"] == 1
    code, out, _ = run(capsys, store, "trials", "low", "--sort", "reward")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["1", "2", "3", "4", "5", "6"]
    code, out, _ = run(capsys, store, "trials", "high", "--sort", "reward")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["6", "5", "4", "3", "2", "1"]


def test_the_pareto_front_follows_the_directions(capsys: pytest.CaptureFixture[str]) -> None:
    store = MemoryStorage()
    am.tune(lambda e: (float(e["x"]), float(e["x"] % 3)), SPACE, am.algorithms.nsga2(seed=2),
            12, name="mo", storage=store, direction=["maximize", "minimize"])  # fmt: skip
    study = am.load_study("mo", store)
    code, out, _ = run(capsys, store, "best", "mo", "--json")
    assert code == 0
    assert sorted(t["id"] for t in json.loads(out)) == sorted(t.id for t in study.pareto_front)
    code, out, _ = run(capsys, store, "best", "mo")
    assert "(objectives 0: maximized, 1: minimized)" in out


def test_enqueue_by_params_and_by_dna(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, err = run(capsys, store, "enqueue", "low", "--params", '{"x": 7, "op": "b"}')
    assert (code, err) == (0, "")
    assert out == "Enqueued trial 7 of 'low': it runs before any new proposal.\n"
    code, out, _ = run(capsys, store, "enqueue", "low", "--dna", '{"x": 9, "op": 0}')
    assert code == 0 and "Enqueued trial 8" in out
    result = am.tune(value, SPACE, am.algorithms.Grid(), 9, name="low", storage=store)
    assert [t.example for t in result.trials[6:8]] == [{"x": 7, "op": "b"}, {"x": 9, "op": "a"}]
    assert [t.status for t in result.trials] == ["completed"] * 9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--params", "{x"], "--params must be JSON, got '{x'"),
        (["--params", '{"x": 70, "op": "a"}'], "cannot encode"),
        (["--dna", "[1, 2]"], "--dna must be a JSON object of decision values"),
        (["--dna", '{"op": 1}'], "missing the decision 'x'"),
    ],
)
def test_enqueue_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], store: Storage, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, store, "enqueue", "low", *argv)
    assert code == 1 and out == ""
    assert err.startswith("automorph: error: ") and message in err and err.count("\n") == 1


def test_enqueue_needs_params_or_dna(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, _, err = run(capsys, store, "enqueue", "low")
    assert code == 2 and "one of the arguments --params --dna is required" in err


class Keyboard(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_delete_asks_or_needs_yes(
    capsys: pytest.CaptureFixture[str], store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal
    code, out, err = run(capsys, store, "delete", "low")
    assert code == 1 and out == ""
    assert "not deleting study 'low' (6 trials) without a confirmation" in err
    assert "automorph delete low --yes" in err
    assert "low" in [s.name for s in store.list_studies()]
    monkeypatch.setattr("sys.stdin", Keyboard("n\n"))
    code, out, _ = run(capsys, store, "delete", "low")
    assert code == 1 and out == "Delete study 'low' and its 6 trials? [y/N] Not deleted.\n"
    assert "low" in [s.name for s in store.list_studies()]
    monkeypatch.setattr("sys.stdin", Keyboard("y\n"))
    code, out, _ = run(capsys, store, "delete", "low")
    assert code == 0 and out.endswith("Deleted study 'low' (6 trials) from the store.\n")
    assert [s.name for s in store.list_studies()] == ["high"]
    code, out, _ = run(capsys, store, "delete", "high", "--yes")
    assert code == 0 and store.list_studies() == []
    code, _, err = run(capsys, store, "delete", "high", "--yes")
    assert code == 1 and "no study named 'high'" in err


def test_delete_and_enqueue_on_a_sqlite_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(tmp_path / "s.db")
    am.tune(value, SPACE, am.algorithms.Random(seed=1), 2, name="s", storage=path)
    assert main(["enqueue", "s", "--storage", path, "--params", '{"x": 3, "op": "a"}']) == 0
    assert am.load_study("s", path).trials[-1].status == "pending"
    assert main(["delete", "s", "--storage", path, "--yes"]) == 0
    assert main(["studies", "--storage", path]) == 0
    assert "No studies in" in capsys.readouterr().out
