"""Bad input gets a clear error and loses nothing.

Metadata that cannot be stored as JSON fails its trial (with the reason)
instead of leaving it running; a store path that is a directory, and a store
changed outside automorph (an integer too long for Python to read, JSON
nested too deeply), are `StorageError`s that name the study, the trial and the
column. The stores here are real: SQLite files tampered with through
`sqlite3`, a real directory, and a PostgreSQL server where one is installed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.cli import main
from automorph.storage import MemoryStorage, Storage, StudyInfo, open_storage
from automorph.utils import SerializationError, StorageError

SPACE = am.Dict(x=am.intv(0, 9), y=am.floatv(0.0, 1.0))
HUGE = "7" * 5000  # more digits than Python reads as an int (4300 by default)
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's JSON decoder goes


def algorithm() -> am.algorithms.Random:
    return am.algorithms.Random(seed=1)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage | str]:
    """A store for a study: in memory, a SQLite file, or a PostgreSQL database."""
    if request.param == "memory":
        yield MemoryStorage()
    elif request.param == "sqlite":
        yield str(tmp_path / "studies.db")
    else:
        yield request.getfixturevalue("fresh_postgres_url")


def stored_trials(target: Storage | str, name: str) -> list[Any]:
    store = open_storage(target)
    try:
        return store.get_trials(name)
    finally:
        if not isinstance(target, Storage):
            store.close()


# --- metadata that cannot be stored ------------------------------------------------------


def test_metadata_that_is_not_json_fails_the_trial_with_the_reason(
    target: Storage | str,
) -> None:
    with pytest.raises(
        SerializationError, match=r"trial 2 of 'meta': metadata 'obj' cannot be stored as JSON"
    ):
        with am.sample(SPACE, algorithm(), 3, name="meta", storage=target) as loop:
            for _, feedback in loop:
                feedback.set_metadata("ok", feedback.id)
                if feedback.id == 2:
                    feedback.metadata["obj"] = object()  # past set_metadata's check
                feedback(0.5)
    trials = stored_trials(target, "meta")
    assert [t.status for t in trials] == ["completed", "failed"]
    failed = trials[1]
    assert failed.reward is None
    assert "metadata 'obj' cannot be stored as JSON" in (failed.error or "")
    assert failed.metadata == {"ok": 2}  # what could be stored is kept
    assert loop.result.trials[1].status == "failed"


def test_metadata_with_an_integer_too_long_to_write_fails_the_trial(tmp_path: Path) -> None:
    db = tmp_path / "studies.db"
    with pytest.raises(SerializationError, match=r"metadata 'big'.*more than 4300 digits"):
        with am.sample(SPACE, algorithm(), 2, name="big", storage=str(db)) as loop:
            for _, feedback in loop:
                feedback.set_metadata("big", 10**5000)
                feedback(1.0)
    with sqlite3.connect(db) as raw:
        rows = raw.execute("SELECT status, error FROM automorph_trials").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "failed" and "more than 4300 digits" in rows[0][1]


def test_tune_reports_unstorable_metadata_and_resumes(tmp_path: Path) -> None:
    db = str(tmp_path / "studies.db")

    def objective(example: Any, feedback: Any) -> float:
        if feedback.id == 2:
            feedback.metadata["tags"] = {"a", "b"}  # a set: not JSON
        return float(example["y"])

    with pytest.raises(SerializationError, match=r"metadata 'tags'.*type set"):
        am.tune(objective, SPACE, algorithm(), 4, name="t", storage=db)
    assert [t.status for t in stored_trials(db, "t")] == ["completed", "failed"]
    result = am.tune(lambda e: float(e["y"]), SPACE, algorithm(), 4, name="t", storage=db)
    assert [t.status for t in result.trials] == ["completed", "failed", "completed", "completed"]
    assert "its result cannot be stored" in (result.trials[1].error or "")


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _cycle() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (print, r"a value of type builtin_function_or_method"),
        (10**5000, r"more than 4300 digits"),
        (_nested(100_000), r"it is nested too deeply"),
        (_cycle(), r"it contains itself"),
        ({("a", 1): 2}, r"keys must be str"),
    ],
    ids=["function", "huge-int", "deep", "cycle", "tuple-key"],
)
@pytest.mark.parametrize("store", [MemoryStorage, None], ids=["memory", "sqlite"])
def test_finish_trial_refuses_unstorable_metadata_and_changes_nothing(
    store: type[Storage] | None, value: Any, why: str, tmp_path: Path
) -> None:
    storage = store() if store is not None else open_storage(tmp_path / "s.db")
    storage.create_study(StudyInfo("s"))
    trial = storage.propose_trial("s", "w", 0, lambda events: ({"x": 1}, None))
    assert trial is not None
    with pytest.raises(
        SerializationError, match=rf"trial 1 of 's': metadata 'f' cannot be stored as JSON: .*{why}"
    ) as info:
        storage.finish_trial("s", 1, "w", "completed", 1.0, metadata={"a": 1, "f": value})
    assert info.value.path == "f"
    assert storage.get_trial("s", 1).status == "running"
    storage.close()


# --- a store path that is a directory -------------------------------------------------


def test_a_directory_as_store_path_is_a_storage_error(tmp_path: Path) -> None:
    message = rf"{tmp_path} is a directory, not a SQLite file.*{tmp_path / 'automorph.db'}"
    with pytest.raises(StorageError, match=message):
        open_storage(tmp_path)
    with pytest.raises(StorageError, match=message):
        open_storage(f"sqlite:///{tmp_path}")
    with pytest.raises(StorageError, match=message):
        am.tune(lambda e: 1.0, SPACE, algorithm(), 1, name="s", storage=str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # nothing written into it


# --- a store changed outside automorph -------------------------------------------------


@pytest.fixture
def study_db(tmp_path: Path) -> Path:
    """A SQLite study "s" of 4 completed trials (rewards 0.1 to 0.4)."""
    db = tmp_path / "studies.db"
    with am.sample(SPACE, algorithm(), 4, name="s", storage=str(db)) as loop:
        for _, feedback in loop:
            feedback.set_metadata("n", feedback.id)
            feedback(feedback.id / 10)
    am.tune(lambda e: 1.0, SPACE, algorithm(), 1, name="other", storage=str(db))
    return db


def tamper(db: Path, sql: str, *params: Any) -> None:
    with sqlite3.connect(db) as raw:
        raw.execute(sql, params)


def test_an_integer_too_long_in_a_stored_trial_is_a_storage_error(study_db: Path) -> None:
    tamper(
        study_db, "UPDATE automorph_trials SET metadata = ? WHERE trial_id = 2", f'{{"n":{HUGE}}}'
    )
    store = open_storage(study_db)
    message = r"stored metadata of trial 2 of study 's' cannot be read: .*more than 4300 digits"
    with pytest.raises(StorageError, match=message):
        store.get_trials("s")
    with pytest.raises(StorageError, match=message):
        list(store.iter_trials("s"))
    with pytest.raises(StorageError, match=message):
        store.get_trial("s", 2)
    # The rest of the store still reads.
    assert store.get_trial("s", 1).metadata == {"n": 1}
    assert store.get_trials("s", status="failed") == []
    assert [s.name for s in store.list_studies()] == ["s", "other"]
    assert len(store.get_trials("other")) == 1
    assert [e.trial_id for e in store.events("s")][:2] == [1, 1]
    store.close()


def test_json_nested_too_deeply_in_a_stored_trial_is_a_storage_error(study_db: Path) -> None:
    tamper(study_db, "UPDATE automorph_trials SET measurements = ? WHERE trial_id = 3", DEEP)
    store = open_storage(study_db)
    message = r"stored measurements of trial 3 of study 's' cannot be read: it is nested too deeply"
    with pytest.raises(StorageError, match=message):
        store.get_trials("s")
    with pytest.raises(StorageError, match=message):
        list(store.iter_trials("s", chunk=2))
    assert store.get_trial("s", 4).reward == 0.4
    store.close()


def test_tampered_study_metadata_is_a_storage_error(study_db: Path) -> None:
    tamper(study_db, "UPDATE automorph_studies SET metadata = ? WHERE name = 's'", DEEP)
    store = open_storage(study_db)
    with pytest.raises(StorageError, match=r"stored metadata of study 's' cannot be read"):
        store.get_study("s")
    assert len(store.get_trials("other")) == 1
    store.close()


def test_a_tampered_stored_algorithm_is_named_on_resume_and_skipped_by_show(
    study_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(study_db, "UPDATE automorph_studies SET algorithm = ? WHERE name = 's'", DEEP)
    with pytest.raises(
        SerializationError, match=r"the stored algorithm of study 's': .*nested too deeply"
    ):
        am.tune(lambda e: 1.0, SPACE, algorithm(), 6, name="s", storage=str(study_db))
    assert main(["--storage", str(study_db), "show", "s"]) == 0
    out = capsys.readouterr().out
    assert "Trials:     4 (4 completed)" in out and "Algorithm:" not in out


def test_the_cli_names_the_tampered_trial(
    study_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        study_db, "UPDATE automorph_trials SET metadata = ? WHERE trial_id = 2", f'{{"n":{HUGE}}}'
    )
    for argv in (["trials", "s"], ["export", "s"], ["show", "s"]):
        assert main(["--storage", str(study_db), *argv]) == 1
        err = capsys.readouterr().err
        assert "stored metadata of trial 2 of study 's' cannot be read" in err, argv
    assert main(["--storage", str(study_db), "trials", "other"]) == 0


def test_a_study_resumes_past_tampered_metadata(study_db: Path) -> None:
    tamper(study_db, "UPDATE automorph_trials SET metadata = ? WHERE trial_id = 2", DEEP)
    with am.sample(SPACE, algorithm(), 6, name="s", storage=str(study_db)) as loop:
        ids = []
        for _, feedback in loop:
            ids.append(feedback.id)
            feedback(0.9)
    assert ids == [5, 6]  # the algorithm replays what it needs: DNA and rewards
    with pytest.raises(StorageError, match=r"metadata of trial 2 of study 's'"):
        loop.result  # noqa: B018 - reading it is the test


def test_resuming_past_a_tampered_reward_is_a_storage_error(study_db: Path) -> None:
    tamper(study_db, "UPDATE automorph_trials SET reward = ? WHERE trial_id = 1", HUGE)
    with pytest.raises(StorageError, match=r"stored reward of trial 1 of study 's' cannot be read"):
        am.tune(lambda e: 1.0, SPACE, algorithm(), 6, name="s", storage=str(study_db))


def test_a_running_trial_whose_row_was_tampered_with_is_failed_and_recorded(
    tmp_path: Path,
) -> None:
    db = tmp_path / "studies.db"
    with pytest.raises(StorageError, match=r"stored metadata of trial 2 of study 's'"):
        with am.sample(SPACE, algorithm(), 3, name="s", storage=str(db)) as loop:
            for _, feedback in loop:
                if feedback.id == 2:  # changed under the running trial
                    tamper(db, "UPDATE automorph_trials SET metadata = ? WHERE trial_id = 2", DEEP)
                feedback(0.5)
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT trial_id, status, error, length(metadata) FROM automorph_trials"
        ).fetchall()
    assert [r[:2] for r in rows] == [(1, "completed"), (2, "failed")]
    assert "stored metadata of trial 2 of study 's' cannot be read" in rows[1][2]
    assert rows[1][3] == len(DEEP)  # the tampered column is left as it is
    # The study goes on (its result reads once the tampered row is repaired).
    with am.sample(SPACE, algorithm(), 3, name="s", storage=str(db)) as again:
        ids = []
        for _, feedback in again:
            ids.append(feedback.id)
            feedback(0.5)
    assert ids == [3]


def test_a_pending_trial_whose_row_was_tampered_with_is_failed_when_claimed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "studies.db"
    store = open_storage(db)
    store.create_study(StudyInfo("s"))
    store.propose_trial("s", "w1", 0, lambda events: ({"x": 1}, None))
    assert store.requeue_stale("s", timeout=-1.0, retry_limit=2) == [1]  # w1 died
    tamper(db, "UPDATE automorph_trials SET dna = ? WHERE trial_id = 1", f'{{"x":{HUGE}}}')
    with pytest.raises(StorageError, match=r"stored dna of trial 1 of study 's' cannot be read"):
        store.claim_trial("s", "w2")
    with sqlite3.connect(db) as raw:
        status, error = raw.execute("SELECT status, error FROM automorph_trials").fetchone()
    assert status == "failed" and "stored dna of trial 1" in error
    assert store.claim_trial("s", "w2") is None  # not claimed again
    store.close()


def test_a_tampered_postgres_store_is_a_storage_error(fresh_postgres_url: str) -> None:
    import sqlalchemy as sa

    am.tune(lambda e: 1.0, SPACE, algorithm(), 2, name="s", storage=fresh_postgres_url)
    engine = sa.create_engine(fresh_postgres_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE automorph_trials SET metadata = :m WHERE trial_id = 2"),
            {"m": f'{{"n":{HUGE}}}'},
        )
    engine.dispose()
    store = open_storage(fresh_postgres_url)
    with pytest.raises(StorageError, match=r"stored metadata of trial 2 of study 's'"):
        store.get_trials("s")
    assert store.get_trial("s", 1).status == "completed"
    store.close()
