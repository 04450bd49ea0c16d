"""`SQLStorage`: opening stores, refusing what is not one, SQLite settings, queries."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from automorph.storage import SCHEMA_VERSION, StudyInfo, open_storage
from automorph.storage._sql import SQLStorage
from automorph.storage._sql_schema import CLAIM_OLDEST, EVENTS, LOCK_STALE, TAKE_SEQ, TRIALS_OF
from automorph.utils import StorageError, StudyNotFoundError


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_store(path: Path, trials: int = 0) -> SQLStorage:
    store = SQLStorage(sqlite_url(path))
    store.create_study(StudyInfo("study"))
    for _ in range(trials):
        trial = store.propose_trial("study", "w", 0, lambda events: ({"n": [1] * 50}, "x" * 200))
        assert trial is not None
        store.finish_trial("study", trial.id, "w", "completed", reward=1.0)
    return store


def refuses(url: str, path: Path, match: str) -> None:
    """Opening `url` raises StorageError matching `match`, and `path` is unchanged."""
    before = path.read_bytes()
    with pytest.raises(StorageError, match=match):
        SQLStorage(url)
    assert path.read_bytes() == before, "a refused store was written to"


# --- refusing what is not a store ------------------------------------------------------


def test_a_sqlite_database_of_someone_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.close()
    refuses(
        sqlite_url(path), path, r"other\.db is not an automorph store: it has tables \(customers\)"
    )


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    refuses(sqlite_url(path), path, r"the file .*notes\.txt is not a SQLite database")


def test_a_truncated_store_is_refused(tmp_path: Path) -> None:
    make_store(tmp_path / "whole.db", trials=100).close()
    whole = (tmp_path / "whole.db").read_bytes()
    assert len(whole) > 8 * 4096, "the store is too small for this test"
    path = tmp_path / "cut.db"
    path.write_bytes(whole[: len(whole) // 2])
    refuses(sqlite_url(path), path, r"the SQLite file .*cut\.db is truncated")


def test_a_store_cut_inside_its_header_is_refused(tmp_path: Path) -> None:
    make_store(tmp_path / "whole.db").close()
    path = tmp_path / "cut.db"
    path.write_bytes((tmp_path / "whole.db").read_bytes()[:60])
    refuses(sqlite_url(path), path, r"cut\.db is truncated \(60 bytes\)")


def test_a_corrupt_store_names_the_file(tmp_path: Path) -> None:
    make_store(tmp_path / "store.db").close()
    path = tmp_path / "store.db"
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page: garbage
    path.write_bytes(bytes(data))
    refuses(sqlite_url(path), path, r"cannot open the SQLite file .*store\.db: .*malformed")


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    make_store(path, trials=3).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE automorph_meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    refuses(
        sqlite_url(path),
        path,
        rf"written by automorph schema 99; this automorph reads schema {SCHEMA_VERSION}",
    )


def test_a_meta_table_without_the_mark_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "impostor.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE automorph_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.close()
    refuses(sqlite_url(path), path, "does not mark it as one")


def test_a_missing_directory_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(
        StorageError, match=r"cannot open the SQLite file .*nowhere.*unable to open"
    ):
        SQLStorage(sqlite_url(tmp_path / "nowhere" / "store.db"))


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("sqlite://", "needs a SQLite file"),
        ("sqlite:///:memory:", "needs a SQLite file"),
        ("mysql://user@host/db", "SQLite or PostgreSQL, not 'mysql'"),
        ("not a url", "cannot read the store URL"),
    ],
)
def test_urls_that_are_not_stores_are_refused(url: str, match: str) -> None:
    with pytest.raises(StorageError, match=match):
        SQLStorage(url)


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    with pytest.raises(
        StorageError, match=r"driver 'psycopg'.*pip install 'automorph\[postgres\]'"
    ):
        SQLStorage("postgresql+psycopg://nobody@127.0.0.1:1/nothing")


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open the PostgreSQL database"):
        SQLStorage("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2")


def test_a_postgres_database_of_someone_else_is_refused(fresh_postgres_url: str) -> None:
    engine = sa.create_engine(fresh_postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id SERIAL PRIMARY KEY)")
    with pytest.raises(
        StorageError, match=r"is not an automorph store: it has tables \(customers\)"
    ):
        SQLStorage(fresh_postgres_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["customers"], "tables were created"
    engine.dispose()


def test_another_schema_version_is_refused_on_postgres(fresh_postgres_url: str) -> None:
    SQLStorage(fresh_postgres_url).close()
    engine = sa.create_engine(fresh_postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE automorph_meta SET value = '0' WHERE key = 'schema_version'")
    engine.dispose()
    with pytest.raises(StorageError, match="written by automorph schema 0; this automorph reads"):
        SQLStorage(fresh_postgres_url)


# --- a working store ------------------------------------------------------------------------


def test_sqlite_stores_use_a_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = make_store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    store.close()


def test_a_missing_study_lists_the_studies(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store.db")
    store.create_study(StudyInfo("other"))
    with pytest.raises(
        StudyNotFoundError, match=r"no study named 'nope' \(studies: study, other\)"
    ):
        store.get_trials("nope")
    store.close()


def test_a_store_reopens_with_its_studies(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    make_store(path, trials=3).close()
    again = open_storage(path)
    assert isinstance(again, SQLStorage) and again.shared
    assert [t.id for t in again.get_trials("study")] == [1, 2, 3]
    assert [e.seq for e in again.events("study", 4)] == [5, 6]
    again.close()


def test_a_store_pickles_by_url(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store.db", trials=2)
    copy = pickle.loads(pickle.dumps(store))
    assert copy.url == store.url and len(copy.get_trials("study")) == 2
    copy.close()
    store.close()


def test_the_url_hides_the_password() -> None:
    with pytest.raises(StorageError) as info:
        SQLStorage("postgresql://me:secret@127.0.0.1:1/db?connect_timeout=2")
    assert "secret" not in str(info.value) and "***" in str(info.value)


def test_a_held_write_lock_times_out_as_a_storage_error(tmp_path: Path) -> None:
    # Waited out, retrying, for `lock_wait_s` (tests/storage/test_locks.py); then an error.
    path = tmp_path / "store.db"
    store = make_store(path, trials=1)
    impatient = SQLStorage(sqlite_url(path), busy_timeout_s=0.1, lock_wait_s=0.3)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another connection is writing
    try:
        with pytest.raises(StorageError, match=r"lock on the SQLite file .*database is locked"):
            impatient.propose_trial("study", "w", 0, lambda events: ({}, None))
        # Readers do not wait for the writer.
        assert [t.id for t in impatient.get_trials("study")] == [1]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert impatient.propose_trial("study", "w", 0, lambda events: ({}, None)) is not None
    impatient.close()
    store.close()


def test_reading_trials_is_one_query(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store.db", trials=300)
    statements: list[str] = []
    sa.event.listen(
        store._engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statements.append(statement),
    )
    assert len(store.get_trials("study")) == 300
    assert len(store.events("study", 0)) == 600
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, f"get_trials and events should be one query each: {selects}"
    store.close()


@pytest.mark.parametrize(
    "statement",
    [EVENTS, TRIALS_OF, CLAIM_OLDEST, LOCK_STALE, TAKE_SEQ],
    ids=["events", "trials", "claim", "stale", "take-seq"],
)
def test_hot_queries_use_indexes(tmp_path: Path, statement: sa.Executable) -> None:
    path = tmp_path / "store.db"
    make_store(path, trials=50).close()
    sql = str(statement.compile(dialect=sa.dialects.sqlite.dialect()))  # type: ignore[attr-defined]
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [1] * sql.count("?"))]
    conn.close()
    scans = [step for step in plan if step.startswith("SCAN")]
    assert not scans, f"a query scans a table: {plan}"


def test_a_copied_store_file_is_a_store(tmp_path: Path) -> None:
    make_store(tmp_path / "a.db", trials=2).close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    copy = SQLStorage(sqlite_url(tmp_path / "b.db"))
    assert len(copy.get_trials("study")) == 2
    copy.close()


def _propose_one(store: SQLStorage) -> None:
    trial = store.propose_trial("study", "child", 0, lambda events: ({"child": True}, None))
    raise SystemExit(0 if trial is not None and trial.id == 2 else 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_store_works_in_a_forked_child(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store.db", trials=1)
    assert len(store.get_trials("study")) == 1  # the parent's pool now holds a connection
    child = multiprocessing.get_context("fork").Process(target=_propose_one, args=(store,))
    child.start()
    child.join(60)
    assert child.exitcode == 0, "the forked child could not use the store"
    assert [t.worker for t in store.get_trials("study")] == ["w", "child"]
    store.close()


def test_the_file_header_is_read_once_per_file_and_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Closing any descriptor of a file drops this process's POSIX locks on it,
    # SQLite's too, so the raw header read must never run while a connection of
    # this process may be open on the file: it runs the first time only.
    import automorph.storage._sql_engine as sql

    read: list[str] = []
    real_read = sql._check_header
    monkeypatch.setattr(sql, "_check_header", lambda path: (read.append(path), real_read(path))[1])
    make_store(tmp_path / "s.db", trials=3).close()
    assert read == []  # SQLite created the file: nothing to check
    shutil.copy(tmp_path / "s.db", tmp_path / "copy.db")
    first = SQLStorage(sqlite_url(tmp_path / "copy.db"))
    assert len(read) == 1
    second = SQLStorage(sqlite_url(tmp_path / "." / "copy.db"))  # the same file, another path
    first.close()
    SQLStorage(sqlite_url(tmp_path / "copy.db")).close()
    assert len(read) == 1
    assert len(second.get_trials("study")) == 3
    second.close()


def _write_in_rounds(path: str, stop: Any, wrote: Any) -> None:
    """Opens the store, writes a trial, closes it, over and over: each close
    (the last connection) checkpoints the log into the file, growing it, and
    deletes the log."""
    rounds = 0
    while not stop.is_set():
        store = SQLStorage(f"sqlite:///{path}")
        name = f"s{rounds % 20}"
        store.create_study(StudyInfo(name), exist_ok=True)
        trial = store.propose_trial(
            name, "w", 10**12, lambda events: ({"n": [1] * 200}, "x" * 3000)
        )
        assert trial is not None
        store.finish_trial(name, trial.id, "w", "completed", reward=1.0)
        store.close()
        rounds += 1
        wrote.set()


@contextlib.contextmanager
def _slow_file_calls(delay_s: float) -> Iterator[None]:
    """Every `os.stat` and `open` of this thread takes `delay_s` longer, as
    when a process opening a store on a loaded machine loses the CPU between
    its reads of the file (which is how the race showed there: 29 of 4,716
    opens under load were refused; here it shows in about 1 open of 8)."""
    slow = (os.stat, io.open)

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and arg in slow:
            time.sleep(delay_s)

    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(None)


def test_a_store_that_another_process_writes_is_never_refused_as_truncated(
    tmp_path: Path,
) -> None:
    # A checkpoint writes the header (more pages) before it grows the file, and
    # deletes the log after: a check that read the file's size first, then the
    # header, then found no log, took the file for a truncated one.
    import automorph.storage._sql_engine as sql

    path = tmp_path / "busy.db"
    make_store(path, trials=1).close()
    spawn = multiprocessing.get_context("spawn")
    stop, wrote = spawn.Event(), spawn.Event()
    writer = spawn.Process(target=_write_in_rounds, args=(str(path), stop, wrote))
    writer.start()
    refused: list[str] = []
    opens = 0
    try:
        assert wrote.wait(60), "the writer never wrote"
        deadline = time.monotonic() + 4.0
        with _slow_file_calls(0.002):
            while time.monotonic() < deadline or opens < 100:
                # Each open reads the header again, as in a process of its own.
                sql._CHECKED.discard((os.stat(path).st_dev, os.stat(path).st_ino))
                try:
                    SQLStorage(sqlite_url(path)).close()
                except StorageError as error:
                    refused.append(str(error))
                opens += 1
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0, "the writer failed"
    assert refused == [], f"{len(refused)} of {opens} opens refused the store: {refused[:3]}"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def _descriptors_of(path: Path) -> list[str]:
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(path)):
            names.append(target)
    return names


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_store_dropped_without_close_leaves_no_descriptor(tmp_path: Path) -> None:
    # An engine sits in reference cycles; its connections must not wait for the
    # garbage collector, or they outlive every store that knows of them.
    import gc

    gc.disable()
    try:
        make_store(tmp_path / "s.db", trials=2).close()
        for _ in range(3):
            store = SQLStorage(sqlite_url(tmp_path / "s.db"))
            assert len(store.get_trials("study")) == 2
            assert _descriptors_of(tmp_path / "s.db")
            del store
            assert _descriptors_of(tmp_path / "s.db") == []
    finally:
        gc.enable()


def _write_trials_through_dropped_stores(path: str, worker: str, count: int) -> None:
    import gc

    for i in range(count):
        store = SQLStorage(f"sqlite:///{path}")  # never closed, as `tune(storage=path)`
        trial = store.propose_trial("study", worker, 0, lambda events: ({"n": 1}, None))
        assert trial is not None
        store.finish_trial("study", trial.id, worker, "completed", reward=1.0)
        del store
        if i % 3 == 0:
            gc.collect()  # whatever the store left behind goes at some later time


def test_processes_opening_and_dropping_stores_lose_no_trial(tmp_path: Path) -> None:
    make_store(tmp_path / "s.db").close()
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(
            target=_write_trials_through_dropped_stores,
            args=(str(tmp_path / "s.db"), f"w{i}", 100),
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = SQLStorage(sqlite_url(tmp_path / "s.db"))
    assert len(store.get_trials("study")) == 200
    store.close()


def test_a_postgresql_server_that_does_not_answer_is_an_error_within_the_timeout() -> None:
    # A real listener on loopback that accepts the connection and never answers
    # libpq's startup message: before the connect timeout, opening hung forever.
    import socket
    import subprocess
    import sys
    import textwrap

    pytest.importorskip("psycopg")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import time
        from automorph.storage import open_storage
        from automorph.utils import StorageError
        start = time.monotonic()
        try:
            open_storage("postgresql+psycopg://u@127.0.0.1:{port}/db", connect_timeout_s=2)
        except StorageError as error:
            print(round(time.monotonic() - start, 1), error)
        """
    )
    try:
        run = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        server.close()
    assert run.returncode == 0, run.stderr[-2000:]
    seconds, message = run.stdout.split(" ", 1)
    assert float(seconds) < 30
    assert "no answer within the connect timeout (2 s" in message and f":{port}/db" in message


def test_a_schema_1_store_is_brought_up_to_date_when_opened(tmp_path: Path) -> None:
    """A store written before the proposer lease (schema 1: no lease or waiting
    table) opens, gains the tables, keeps its trials and is searched on."""
    import automorph as am
    from automorph import algorithms

    path = tmp_path / "old.db"
    space = am.Dict(x=am.floatv(0.0, 1.0))
    am.tune(lambda e: e["x"], space, algorithms.Random(seed=1), 3, name="s", storage=str(path))
    with sqlite3.connect(path) as db:  # as automorph of schema 1 left it
        db.execute("DROP TABLE automorph_leases")
        db.execute("DROP TABLE automorph_waiting")
        db.execute("UPDATE automorph_meta SET value = '1' WHERE key = 'schema_version'")
    result = am.tune(
        lambda e: e["x"], space, algorithms.Random(seed=1), 5, name="s", storage=str(path)
    )
    assert result.num_completed == 5
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        version = db.execute(
            "SELECT value FROM automorph_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert {"automorph_leases", "automorph_waiting"} <= tables
    assert version == (str(SCHEMA_VERSION),)


def test_a_schema_2_postgresql_store_gains_the_functions_when_opened(
    fresh_postgres_url: str,
) -> None:
    """A PostgreSQL store of schema 2 (statements only, no functions) opens,
    gains the hot path's functions, and its studies go on."""
    import sqlalchemy as sa

    import automorph as am
    from automorph import algorithms

    space = am.Dict(x=am.floatv(0.0, 1.0))
    am.tune(
        lambda e: e["x"], space, algorithms.Random(seed=1), 3, name="s", storage=fresh_postgres_url
    )
    engine = sa.create_engine(fresh_postgres_url)
    functions = sa.text(
        "SELECT proname FROM pg_proc WHERE proname LIKE 'automorph%' ORDER BY proname"
    )
    with engine.begin() as conn:  # as automorph of schema 2 left it
        assert conn.execute(functions).scalars().all() == [
            "automorph_add",
            "automorph_claim",
            "automorph_finish",
        ]
        for name in ("automorph_add", "automorph_claim", "automorph_finish"):
            conn.execute(sa.text(f"DROP FUNCTION {name}"))
        conn.execute(sa.text("UPDATE automorph_meta SET value = '2' WHERE key = 'schema_version'"))
    result = am.tune(
        lambda e: e["x"], space, algorithms.Random(seed=1), 6, name="s", storage=fresh_postgres_url
    )
    assert result.num_completed == 6 and [t.id for t in result.trials] == [1, 2, 3, 4, 5, 6]
    with engine.begin() as conn:
        assert len(conn.execute(functions).all()) == 3
        version = conn.execute(
            sa.text("SELECT value FROM automorph_meta WHERE key = 'schema_version'")
        ).scalar()
    engine.dispose()
    assert version == str(SCHEMA_VERSION)


def test_an_old_sqlite_library_is_refused_with_the_versions() -> None:
    from automorph.storage._sql_engine import MIN_SQLITE, check_sqlite_version

    check_sqlite_version()  # the SQLite this Python has
    check_sqlite_version(MIN_SQLITE)
    with pytest.raises(StorageError, match=r"need SQLite 3\.35\.0 or newer.*uses SQLite 3\.31\.1"):
        check_sqlite_version((3, 31, 1))


def test_a_schema_3_postgresql_store_gains_the_pending_index_and_new_functions(
    fresh_postgres_url: str,
) -> None:
    """A PostgreSQL store of schema 3 (functions with cached plans, no index of
    pending trials) opens with the functions replaced and the index made; a
    claim then reads its trial from that index."""
    import sqlalchemy as sa

    store = SQLStorage(fresh_postgres_url)
    store.create_study(StudyInfo("s"))
    store.close()
    engine = sa.create_engine(fresh_postgres_url)
    index = sa.text(
        "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_automorph_trials_pending'"
    )
    settings = sa.text("SELECT proconfig FROM pg_proc WHERE proname = 'automorph_claim'")
    with engine.begin() as conn:  # roughly as automorph of schema 3 left it
        assert conn.execute(index).all()
        conn.execute(sa.text("DROP INDEX ix_automorph_trials_pending"))
        conn.execute(sa.text("ALTER FUNCTION automorph_claim RESET ALL"))
        conn.execute(sa.text("UPDATE automorph_meta SET value = '3' WHERE key = 'schema_version'"))
        assert conn.execute(settings).scalar() is None
    store = SQLStorage(fresh_postgres_url)
    assert store.enqueue_trial("s", {"x": 0.5}, None) is not None
    claimed = store.claim_trial("s", "w1")
    assert claimed is not None and claimed.id == 1
    store.close()
    with engine.begin() as conn:
        assert conn.execute(index).all()
        assert conn.execute(settings).scalar() == ["plan_cache_mode=force_custom_plan"]
        version = conn.execute(
            sa.text("SELECT value FROM automorph_meta WHERE key = 'schema_version'")
        ).scalar()
    engine.dispose()
    assert version == str(SCHEMA_VERSION) == "4"
