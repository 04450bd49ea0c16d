"""The per-trial path of a stored study on PostgreSQL: the functions that
claim, propose and finish in one round trip each, and a lone worker that
neither reads the events nor looks for queued trials while nothing changes."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import automorph as am
from automorph import algorithms
from automorph.storage import StudyInfo, _sql_pg
from automorph.storage._sql import SQLStorage
from automorph.utils import StudyNotFoundError, TrialStateError
from tests.storage.postgres import PostgresServer

SPACE = am.Dict(x=am.floatv(-2.0, 2.0), n=am.intv(0, 5), k=am.oneof(["a", "b", "c"]))


def objective(example: Any) -> float:
    return -((example["x"] - 0.5) ** 2) - example["n"] + (example["k"] == "b")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """Counts the round trips of stores in this process: SQLAlchemy's
    statements by their first words, and the functions' calls by name."""
    counts: collections.Counter[str] = collections.Counter()
    original = _sql_pg.PgCalls._call

    def call(self: Any, statement: str, params: dict[str, Any]) -> Any:
        counts[statement.split("FROM ", 1)[1].split("(", 1)[0]] += 1
        return original(self, statement, params)

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        counts[" ".join(text.split()[:3])] += 1

    monkeypatch.setattr(_sql_pg.PgCalls, "_call", call)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", statement)


def test_one_worker_makes_two_round_trips_per_trial(
    fresh_postgres_url: str, calls: collections.Counter[str]
) -> None:
    am.tune(objective, SPACE, algorithms.Random(seed=1), 20, name="s", storage=fresh_postgres_url)
    calls.clear()  # the study, its lease and the proposer are set up: count what a trial costs
    result = am.tune(
        objective, SPACE, algorithms.Random(seed=1), 220, name="s", storage=fresh_postgres_url
    )
    assert result.num_completed == 220
    assert calls["automorph_add"] == 200 and calls["automorph_finish"] == 200, calls
    # Opening the study again, the proposer's looks (a few a second) and the
    # result read at the end: far less than a statement per trial.
    others = sum(calls.values()) - 400
    assert others < 60, calls
    assert calls["automorph_claim"] <= 2, calls  # looked for queued trials only at the start


@pytest.mark.parametrize("name", ["regularized_evolution", "tpe", "gp_bo"])
def test_one_postgresql_worker_searches_exactly_as_in_memory(
    name: str, fresh_postgres_url: str
) -> None:
    alone = am.tune(objective, SPACE, algorithms.create(name, seed=5), 16)
    first = am.tune(
        objective, SPACE, algorithms.create(name, seed=5), 8, name="s", storage=fresh_postgres_url
    )
    assert [t.dna for t in first.trials] == [t.dna for t in alone.trials[:8]]
    resumed = am.tune(
        objective, SPACE, algorithms.create(name, seed=5), 16, name="s", storage=fresh_postgres_url
    )
    assert [t.dna for t in resumed.trials] == [t.dna for t in alone.trials]
    assert [t.reward for t in resumed.trials] == [t.reward for t in alone.trials]


def test_the_functions_refuse_as_the_statements_do(fresh_postgres_url: str) -> None:
    """What the functions cannot do is reported with the store's own errors,
    and nothing of it is written."""
    store = SQLStorage(fresh_postgres_url)
    store.create_study(StudyInfo("s"))
    with pytest.raises(StudyNotFoundError, match=r"no study named 'nope' \(studies: s\)"):
        store.claim_trial("nope", "w1")
    assert store.take_lease("s", "w1", 60.0)
    first = store.add_trials("s", "w1", [({"x": 1}, None), ({"x": 2}, '{"e": 1}')], keep=True)
    assert first is not None
    assert [(t.id, t.status, t.worker, t.proposed_seq) for t in first] == [
        (1, "running", "w1", 1),
        (2, "pending", None, 2),
    ]
    assert first[1].example == '{"e": 1}'
    assert store.add_trials("s", "w2", [({"x": 3}, None)]) is None  # w2 has no lease
    claimed = store.claim_trial("s", "w2")
    assert claimed is not None and (claimed.id, claimed.worker) == (2, "w2")
    assert store.claim_trial("s", "w2") is None
    with pytest.raises(TrialStateError, match=r"trial 2 of 's' is running for worker 'w2'"):
        store.finish_trial("s", 2, "w1", "completed", reward=1.0)
    done = store.finish_trial(
        "s", 2, "w2", "completed", reward=0.5, measurement={"reward": 0.5, "step": 3}
    )
    assert (done.status, done.reward, done.finished_seq) == ("completed", 0.5, 3)
    assert done.measurements == [{"reward": 0.5, "step": 3}]
    with pytest.raises(TrialStateError, match=r"trial 2 of 's' is completed"):
        store.finish_trial("s", 2, "w2", "completed", reward=0.7)
    with pytest.raises(StudyNotFoundError):
        store.finish_trial("nope", 1, "w1", "completed", reward=1.0)
    # Event numbers stay one sequence: no refused call took one.
    assert [e.seq for e in store.events("s")] == [1, 2, 3]
    assert len(store.get_trials("s")) == 2
    store.close()


def test_a_trials_statements_read_only_its_rows_as_the_study_grows(
    postgres_server: PostgresServer,
) -> None:
    """Every statement of a trial's life reads the trial's own rows, not the
    study's, after the study has grown. PostgreSQL caches a generic plan for
    a statement a connection runs often; one made while the trials table was
    nearly empty read a trial through an index bound on `study_id` alone (a
    scan of the whole study per call), and a 5,000-trial study's throughput
    fell by half as it grew. Here PostgreSQL's auto_explain writes each
    statement's plan, run with row counts, to the server log, for the same
    connections from the study's first trial to its 300th."""
    url = postgres_server.new_database()
    database = sa.engine.make_url(url).database
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for setting in (
            "session_preload_libraries = 'auto_explain'",
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_analyze = on",
        ):
            conn.execute(sa.text(f'ALTER DATABASE "{database}" SET {setting}'))
    admin.dispose()
    store = SQLStorage(url)
    store.create_study(StudyInfo("s"))
    assert store.take_lease("s", "w1", 60.0)

    def trial(i: int) -> None:
        made = store.add_trials("s", "w1", [({"x": i}, None), ({"y": i}, None)], keep=True)
        assert made is not None
        mine, queued = made
        other = store.claim_trial("s", "w2")
        assert other is not None and other.id == queued.id
        assert store.heartbeat("s", other.id, "w2")
        store.add_measurement("s", other.id, "w2", {"reward": 0.1, "step": 1})
        store.finish_trial("s", mine.id, "w1", "completed", reward=1.0)  # one function call
        store.finish_trial("s", other.id, "w2", "completed", reward=0.5, metadata={"k": i})

    for i in range(150):  # 300 trials
        trial(i)
    before = postgres_server.log.stat().st_size
    for i in range(150, 155):
        trial(i)
    store.close()
    with postgres_server.log.open() as log:
        log.seek(before)
        text = log.read()
    assert text.count("Query Text:") > 40, text[-2000:]  # auto_explain saw the statements
    # A node of a plan over the trials table: how many rows it returned or removed.
    read = re.compile(
        r"(?:Scan|Scan Backward) (?:using \w+ )?on automorph_trials.*?rows=(\d+) loops=\d+\)"
        r"(?:\n\s+Index Cond:[^\n]*)?(?:\n\s+Filter:[^\n]*\n\s+Rows Removed by Filter: (\d+))?"
    )
    counts = [int(rows) + int(removed or 0) for rows, removed in read.findall(text)]
    assert len(counts) > 20, text[-2000:]
    big = [m.group(0) for m in read.finditer(text) if int(m.group(1)) + int(m.group(2) or 0) > 4]
    assert not big, big[:3]
