"""`automorph importance NAME` and `automorph plot NAME --kind importance`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.cli import main
from automorph.storage import MemoryStorage, Storage

SPACE = am.Dict(
    op=am.oneof(["conv", "pool", "skip"]),
    lr=am.floatv(1e-4, 1e-1, scale="log"),
    head=am.oneof([am.Dict(units=am.intv(8, 64)), "none"]),
)


def value(example: Any) -> float:
    head = example["head"]
    units = head["units"] / 64 if isinstance(head, dict) else 0.0
    return {"conv": 0.0, "pool": 1.0, "skip": 2.0}[example["op"]] + units


def run(capsys: pytest.CaptureFixture[str], store: Storage, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), storage=store)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def store() -> Storage:
    store = MemoryStorage()
    random = am.algorithms.Random
    am.tune(value, SPACE, random(seed=0), 40, name="cnn", storage=store, minimize=True)
    am.tune(value, SPACE, random(seed=0), 3, name="short", storage=store)
    two = am.Dict(a=am.floatv(0.0, 1.0), b=am.floatv(0.0, 1.0))
    am.tune(lambda e: (e["a"], 5 * e["b"]), two, am.algorithms.nsga2(seed=0), 20, name="mo",
            storage=store)  # fmt: skip
    return store


def test_importance_prints_a_table(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, err = run(capsys, store, "importance", "cnn")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Importance of the decisions of 'cnn' (40 completed trials)")
    assert lines[1].split() == ["rank", "decision", "importance", "std", "kind"]
    rows = [line.split() for line in lines[3:-1]]
    assert [r[1] for r in rows][:2] == ["op", "head"]
    assert rows[0][:3] == ["1", "op", rows[0][2]] and float(rows[0][2]) > 0.7
    assert " ".join(rows[0][4:]) == "choice of 3 (conv, pool, skip)"
    assert {r[1] for r in rows} == {"op", "lr", "head", "head[=0].units"}
    assert lines[-1].startswith("interactions: ")
    # The table shows what the API computes.
    imp = am.importance(am.load_study("cnn", store))
    assert [r[2] for r in rows] == [f"{v:.3f}" for v in imp.values()]


def test_importance_as_json_with_a_seed(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "importance", "cnn", "--json", "--seed", "4")
    data = json.loads(out)
    assert code == 0 and data["study"] == "cnn" and data["num_trials"] == 40
    expected = am.importance(am.load_study("cnn", store), seed=4)
    assert {d["id"]: d["importance"] for d in data["decisions"]} == dict(expected)
    assert [d["id"] for d in data["decisions"]] == list(expected)


def test_importance_of_one_objective(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "importance", "mo", "--objective", "1")
    assert code == 0 and "(20 completed trials, objective 1)" in out.splitlines()[0]
    assert out.splitlines()[3].split()[1] == "b"
    code, out, _ = run(capsys, store, "importance", "mo")
    assert out.splitlines()[3].split()[1] == "a"


def test_importance_errors_are_one_line(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, err = run(capsys, store, "importance", "cn")
    assert (code, out) == (1, "")
    assert err == (
        "automorph: error: no study named 'cn' in the store (studies: cnn, short, mo); "
        "did you mean 'cnn'?\n"
    )
    code, _, err = run(capsys, store, "importance", "short")
    assert code == 1 and err == (
        "automorph: error: study 'short' has 3 completed trials with a finite reward; "
        "importance needs at least 5\n"
    )
    code, _, err = run(capsys, store, "importance", "mo", "--objective", "2")
    assert code == 1 and "has 2 objectives (0 to 1)" in err
    code, _, err = run(capsys, store, "importance", "cnn", "--objective", "-1")
    assert code == 2 and "must be 0 or more" in err


def test_importance_without_scikit_learn_names_the_extra(
    capsys: pytest.CaptureFixture[str], store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # import raises ImportError
    code, _, err = run(capsys, store, "importance", "cnn")
    assert code == 1 and "pip install 'automorph[importance]'" in err


def test_plot_kind_importance_writes_a_png(
    capsys: pytest.CaptureFixture[str],
    store: Storage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "plots" / "cnn"
    code, out, _ = run(capsys, store, "plot", "cnn", "--kind", "importance", "-o", str(target))
    assert (code, out) == (0, f"{target}.png\n")
    assert (tmp_path / "plots" / "cnn.png").stat().st_size > 10_000
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, store, "plot", "mo", "--kind", "importance", "--objective", "1")
    assert (code, out) == (0, "mo_importance.png\n")
    assert (tmp_path / "mo_importance.png").stat().st_size > 10_000
    assert not (tmp_path / "mo_importance.html").exists()
