"""Rows of `SQLStorage`'s tables to records and back: trial records from
rows of `TRIAL_COLUMNS` (their JSON columns decoded in one pass, a column
that does not read back named), a trial's row for INSERT, a study's info."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from automorph.storage._base import StudyInfo, TrialRecord
from automorph.storage._json import dumps, loads, loads_rows
from automorph.storage._sql_schema import JSON_AT, JSON_FIELDS, TRIAL_COLUMNS, TRIAL_FIELDS
from automorph.utils import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Row


def records(study: str, rows: Sequence[Sequence[Any]]) -> list[TrialRecord]:
    """Trial records from rows of `TRIAL_COLUMNS` (TrialRecord's fields, in order).

    Raises:
        StorageError: If a stored JSON column does not read back, naming the
            study, the trial and the column.
    """
    texts: list[str] = []
    for row in rows:
        texts += (row[i] or "null" for i in JSON_AT)

    def where() -> Iterator[tuple[int, str]]:  # (trial id, column) of each text
        return ((row[0], name) for row in rows for name in JSON_FIELDS)

    values = iter(loads_rows(texts, study, where))
    out: list[TrialRecord] = []
    for row in rows:
        fields = list(row)
        for i in JSON_AT:
            fields[i] = next(values)
        out.append(TrialRecord(study, *fields))
    return out


class Unreadable(Exception):
    """A trial's stored columns cannot be read (`error`): its transaction
    rolls back, and the trial is failed in one of its own."""

    def __init__(self, error: StorageError, trial_id: int = 0) -> None:
        super().__init__(str(error))
        self.error, self.trial_id = error, trial_id


def record(study: str, row: Sequence[Any]) -> TrialRecord:
    return records(study, [row])[0]


def trial_row(study_id: int, trial: TrialRecord) -> dict[str, Any]:
    """The row of `trial`, for INSERT_TRIAL."""
    row: dict[str, Any] = {"study_id": study_id}
    for name, column in zip(TRIAL_FIELDS, TRIAL_COLUMNS, strict=True):
        value = getattr(trial, name)
        stored = name in JSON_FIELDS and value is not None
        row[column.name] = dumps(value, name) if stored else value
    return row


def study_info(row: Row[Any]) -> StudyInfo:
    m = row._mapping
    return StudyInfo(
        name=m["name"],
        space=m["space"],
        algorithm=m["algorithm"],
        dna_spec=m["dna_spec"],
        multi_objective=bool(m["multi_objective"]),
        created=m["created"],
        metadata=loads(m["metadata"], m["name"], None, "metadata"),
    )


def not_running(study: str, trial_id: int, status: str, owner: str | None, worker: str) -> str:
    return (
        f"trial {trial_id} of {study!r} is {status}"
        f"{' for worker ' + repr(owner) if owner else ''}, not running for {worker!r}"
    )
