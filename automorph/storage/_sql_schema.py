"""The layout of a SQL store, and the statements `SQLStorage` runs on it.

Five tables hold a store:

- `automorph_meta`: key/value rows; `store` = "automorph" marks the database
  as an automorph store and `schema_version` says which layout it has
  (`SCHEMA_VERSION`; bump it when anything here changes).
- `automorph_studies`: one row per study (JSON text fields) with `next_seq`,
  the number its next event will take.
- `automorph_leases`: per study, which worker holds the proposer lease
  until when, and whether the algorithm ran out of proposals.
- `automorph_waiting`: the workers waiting for a trial, with when they last
  said so (a claim deletes the row).
- `automorph_trials`: one row per trial, keyed by (study, trial id), with its
  two event numbers `proposed_seq` and `finished_seq`. A study's event
  sequence is read from these two columns (both indexed), so there is no
  separate event table to keep in step.

JSON values are stored as text (not a JSON column type): both databases
read them back exactly as Python's `json` wrote them, NaN included.
Statements are built once, here; SQLAlchemy caches their compiled form.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from automorph.storage._base import TrialRecord
from automorph.utils import StorageError

NO_SQLALCHEMY = (
    "SQL stores (SQLite files, PostgreSQL) need SQLAlchemy, a dependency of automorph that is "
    "missing here: pip install 'sqlalchemy>=2.0' (or reinstall automorph)"
)

try:
    import sqlalchemy as sa
except ImportError as _error:  # pragma: no cover - SQLAlchemy is a base dependency
    raise StorageError(NO_SQLALCHEMY) from _error

SCHEMA = sa.MetaData()

META = sa.Table(
    "automorph_meta",
    SCHEMA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

STUDIES = sa.Table(
    "automorph_studies",
    SCHEMA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("space", sa.Text),
    sa.Column("algorithm", sa.Text),
    sa.Column("dna_spec", sa.Text),
    sa.Column("multi_objective", sa.Boolean, nullable=False),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("next_seq", sa.BigInteger, nullable=False),
)

TRIALS = sa.Table(
    "automorph_trials",
    SCHEMA,
    sa.Column(
        "study_id",
        sa.Integer,
        sa.ForeignKey("automorph_studies.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("dna", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("measurements", sa.Text, nullable=False),
    sa.Column("reward", sa.Text),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("example", sa.Text),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("started", sa.Double),
    sa.Column("finished", sa.Double),
    sa.Column("worker", sa.String),
    sa.Column("heartbeat", sa.Double),
    sa.Column("retries", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("proposed_seq", sa.BigInteger, nullable=False),
    sa.Column("finished_seq", sa.BigInteger),
    sa.Index("ix_automorph_trials_status", "study_id", "status", "trial_id"),
    # Unique: two events of a study never share a number, whatever goes wrong.
    sa.Index("ix_automorph_trials_proposed", "study_id", "proposed_seq", unique=True),
    sa.Index("ix_automorph_trials_finished", "study_id", "finished_seq", unique=True),
)

LEASES = sa.Table(
    "automorph_leases",
    SCHEMA,
    sa.Column(
        "study_id",
        sa.Integer,
        sa.ForeignKey("automorph_studies.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("worker", sa.String),
    sa.Column("expires", sa.Double, nullable=False),
    sa.Column("exhausted", sa.Boolean, nullable=False),
)

WAITING = sa.Table(
    "automorph_waiting",
    SCHEMA,
    sa.Column(
        "study_id",
        sa.Integer,
        sa.ForeignKey("automorph_studies.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("worker", sa.String, primary_key=True),
    sa.Column("since", sa.Double, nullable=False),
)

_S, _T = STUDIES.c, TRIALS.c
_P = sa.bindparam
STUDY_ID = sa.select(_S.id).where(_S.name == _P("name")).scalar_subquery()
# A trial's columns in the order of TrialRecord's fields (after `study`), and
# where the JSON ones are.
TRIAL_FIELDS = [f.name for f in dataclasses.fields(TrialRecord)][1:]
TRIAL_COLUMNS = [TRIALS.c["trial_id" if name == "id" else name] for name in TRIAL_FIELDS]
JSON_FIELDS = ("dna", "measurements", "reward", "metadata")
JSON_AT = [TRIAL_FIELDS.index(name) for name in JSON_FIELDS]

# Statements are built once; SQLAlchemy caches their compiled form.
SELECT_STUDY = sa.select(STUDIES).where(_S.name == _P("name"))
LOCK_STUDY = sa.select(_S.id, _S.next_seq).where(_S.name == _P("name")).with_for_update()
STUDY_NAMES = sa.select(_S.name).order_by(_S.id)
SET_STUDY_METADATA = sa.update(STUDIES).where(_S.id == _P("sid")).values(metadata=_P("v_metadata"))
SET_SEQ = sa.update(STUDIES).where(_S.id == _P("sid")).values(next_seq=_P("seq"))
# Locks the study row and takes `count` event numbers in one round trip: the
# row's id and its new next number (the first taken is that less `count`).
TAKE_SEQ = (
    sa.update(STUDIES)
    .where(_S.name == _P("b_name"))
    .values(next_seq=_S.next_seq + sa.bindparam("count", type_=sa.Integer))
    .returning(_S.id, _S.next_seq)
)


def _last_trial_id(study_id: Any) -> Any:
    """The study's highest trial id, or 0: read from the end of the primary
    key, the one index in that order. (With `max(trial_id)`, a PostgreSQL plan
    made while the table was small read the whole status index of the study.)"""
    last = (
        sa.select(_T.trial_id)
        .where(_T.study_id == study_id)
        .order_by(_T.study_id.desc(), _T.trial_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(last, 0)


NEXT_TRIAL_ID = sa.select(_last_trial_id(_P("sid")) + 1)
THIS_TRIAL = sa.and_(_T.study_id == _P("sid"), _T.trial_id == _P("tid"))
# The writes to one trial name its expected status too: all three columns of
# the status index, so that index fits the lookup whole. With only (study_id,
# trial_id), a PostgreSQL plan made while the table was small could read the
# trial through it bound on study_id alone: a scan of the whole study per call
# (see `automorph.storage._sql_pg` on plans).
IN_STATE = sa.and_(_T.study_id == _P("sid"), _T.status == _P("state"), _T.trial_id == _P("tid"))
LOCK_TRIAL = sa.select(*TRIAL_COLUMNS).where(IN_STATE).with_for_update()
TRIAL_BY_NAME = sa.and_(_T.study_id == STUDY_ID, _T.trial_id == _P("tid"))
GET_TRIAL = sa.select(*TRIAL_COLUMNS).where(TRIAL_BY_NAME)
RUNNING_BY_NAME = sa.and_(_T.study_id == STUDY_ID, _T.status == "running", _T.trial_id == _P("tid"))
TRIALS_OF = sa.select(*TRIAL_COLUMNS).where(_T.study_id == STUDY_ID).order_by(_T.trial_id)
TRIALS_WITH_STATUS = TRIALS_OF.where(_T.status == _P("status"))
TRIALS_AFTER = TRIALS_OF.where(_T.trial_id > _P("after")).limit(_P("limit"))
MEASUREMENTS = sa.select(_T.worker, _T.measurements).where(RUNNING_BY_NAME).with_for_update()
HEARTBEAT = (
    sa.update(TRIALS).where(RUNNING_BY_NAME, _T.worker == _P("owner")).values(heartbeat=_P("now"))
)
_PENDING = TRIALS.alias("pending")
# Claims the study's oldest pending trial and returns its columns, in one
# statement; on PostgreSQL a trial that another claim has locked is skipped.
CLAIM_OLDEST = (
    sa.update(TRIALS)
    .where(
        _T.study_id == _P("sid"),
        _T.status == "pending",
        _T.trial_id
        == sa.select(_PENDING.c.trial_id)
        .where(_PENDING.c.study_id == _P("sid"), _PENDING.c.status == "pending")
        .order_by(_PENDING.c.trial_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
    )
    .values(status="running", worker=_P("v_worker"), started=_P("v_now"), heartbeat=_P("v_now"))
    .returning(*TRIAL_COLUMNS)
)
STALE = sa.and_(
    _T.study_id == _P("sid"),
    _T.status == "running",
    sa.func.coalesce(_T.heartbeat, 0.0) < _P("cutoff"),
)
ANY_STALE = sa.select(_T.trial_id).where(STALE).limit(1)
LOCK_STALE = (
    sa.select(_T.trial_id, _T.retries, _T.worker)
    .where(STALE)
    .order_by(_T.trial_id)
    .with_for_update()
)
INSERT_STUDY = sa.insert(STUDIES)
ALL_STUDIES = sa.select(STUDIES).order_by(_S.id)
DELETE_TRIALS = sa.delete(TRIALS).where(_T.study_id == _P("sid"))
DELETE_STUDY = sa.delete(STUDIES).where(_S.id == _P("sid"))
_L, _W = LEASES.c, WAITING.c
LEASE = sa.select(_L.worker, _L.expires, _L.exhausted).where(_L.study_id == _P("sid"))
INSERT_LEASE = sa.insert(LEASES)
SET_LEASE = (
    sa.update(LEASES)
    .where(_L.study_id == _P("sid"))
    .values(worker=_P("v_worker"), expires=_P("v_expires"))
)
RELEASE_LEASE = (
    sa.update(LEASES)
    .where(_L.study_id == _P("sid"), _L.worker == _P("owner"))
    .values(worker=None, expires=0.0, exhausted=sa.or_(_L.exhausted, _P("v_exhausted")))
)
DELETE_LEASE = sa.delete(LEASES).where(_L.study_id == _P("sid"))
NOT_WAITING = sa.delete(WAITING).where(_W.study_id == _P("sid"), _W.worker == _P("worker"))
# A waiting worker's row, added or its time renewed, in one statement
# (nothing if there is no such study).
SAY_WAITING = sa.text(
    "INSERT INTO automorph_waiting (study_id, worker, since) "
    "SELECT id, :worker, :since FROM automorph_studies WHERE name = :name "
    "ON CONFLICT (study_id, worker) DO UPDATE SET since = excluded.since"
)
STOP_WAITING = sa.delete(WAITING).where(_W.study_id == STUDY_ID, _W.worker == _P("worker"))
DELETE_WAITING = sa.delete(WAITING).where(_W.study_id == _P("sid"))
# (study id, a pending trial id or NULL): no row if there is no such study.
ANY_PENDING = sa.select(
    _S.id,
    sa.select(_T.trial_id)
    .where(_T.study_id == _S.id, _T.status == "pending")
    .limit(1)
    .scalar_subquery(),
).where(_S.name == _P("name"))
_SID = STUDY_ID
# Everything `demand` reads, in one statement (one round trip); the study's id
# comes first (NULL if there is no such study).
DEMAND = sa.select(
    _SID,
    sa.select(sa.func.count())
    .where(_W.study_id == _SID, _W.since >= _P("since"))
    .scalar_subquery(),
    sa.select(sa.func.count()).where(_T.study_id == _SID, _T.status == "pending").scalar_subquery(),
    sa.select(sa.func.count()).where(_T.study_id == _SID, _T.status == "running").scalar_subquery(),
    _last_trial_id(_SID),
    sa.select(_L.worker).where(_L.study_id == _SID).scalar_subquery(),
    sa.select(_L.expires).where(_L.study_id == _SID).scalar_subquery(),
    sa.select(_L.exhausted).where(_L.study_id == _SID).scalar_subquery(),
)
INSERT_TRIAL = sa.insert(TRIALS)
# SET values take `v_` names: SQLAlchemy reserves the column names for itself.
APPEND = (
    sa.update(TRIALS)
    .where(RUNNING_BY_NAME)
    .values(measurements=_P("v_measurements"), heartbeat=_P("v_now"))
)
FINISH = (
    sa.update(TRIALS)
    .where(IN_STATE)
    .values(
        status=_P("v_status"),
        reward=_P("v_reward"),
        error=_P("v_error"),
        metadata=_P("v_metadata"),
        example=_P("v_example"),
        measurements=_P("v_measurements"),
        finished=_P("v_now"),
        finished_seq=_P("v_seq"),
    )
)
FAIL = (
    sa.update(TRIALS)
    .where(IN_STATE)
    .values(status="failed", error=_P("v_error"), finished=_P("v_now"), finished_seq=_P("v_seq"))
)
REQUEUE = (
    sa.update(TRIALS)
    .where(_T.study_id == _P("sid"), _T.trial_id.in_(_P("tids", expanding=True)))
    .values(status="pending", retries=_T.retries + 1, measurements="[]")
)
# Two index range scans (an OR of the two would scan the study's trials).
EVENTS = sa.union_all(
    sa.select(
        _T.proposed_seq,
        sa.literal_column("0"),
        _T.trial_id,
        _T.dna,
        sa.literal_column("NULL"),
        sa.literal_column("NULL"),
    ).where(_T.study_id == STUDY_ID, _T.proposed_seq > _P("since")),
    sa.select(
        _T.finished_seq, sa.literal_column("1"), _T.trial_id, _T.dna, _T.reward, _T.metadata
    ).where(_T.study_id == STUDY_ID, _T.finished_seq > _P("since")),
)
# What changed after event `since` (for readers that keep a copy): trials
# proposed or finished after it, and every pending or running one; three
# index range scans, without the (large) `example` column.
_LIGHT = [sa.literal_column("NULL") if c.name == "example" else c for c in TRIAL_COLUMNS]
# ... and for a first look at a large study, without the DNA and the measurements either.
_LIGHTER = [
    sa.literal_column({"dna": "'{}'", "measurements": "'[]'"}[c.name])
    if c.name in ("dna", "measurements")
    else c
    for c in _LIGHT
]
NEXT_SEQ = sa.select(_S.next_seq).where(_S.name == _P("name"))


def _changed(columns: list[Any]) -> Any:
    return sa.union_all(
        sa.select(*columns).where(_T.study_id == STUDY_ID, _T.proposed_seq > _P("since")),
        sa.select(*columns).where(_T.study_id == STUDY_ID, _T.finished_seq > _P("since")),
        sa.select(*columns).where(_T.study_id == STUDY_ID, _T.status.in_(("pending", "running"))),
    )


# By (whether `since` > 0, light): from event 0 every trial changed, and one
# scan of the study's trials in key order beats the union (which reads each twice).
CHANGED = {
    (True, False): _changed(_LIGHT),
    (True, True): _changed(_LIGHTER),
    (False, False): sa.select(*_LIGHT).where(_T.study_id == STUDY_ID),
    (False, True): sa.select(*_LIGHTER).where(_T.study_id == STUDY_ID),
}
