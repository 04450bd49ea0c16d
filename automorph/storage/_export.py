"""Flat records of a study's trials, written as CSV or JSON.

One implementation serves `automorph export` and `Study.export`: the keys
are gathered from every trial (`RecordLayout`), then the trials are streamed
and written (`write_records`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from automorph.storage._base import Storage, TrialRecord

EXPORT_FORMATS: tuple[str, ...] = ("csv", "json")
"""The formats a study exports to (`study.export`, `automorph export --format`)."""

TAIL_KEYS = ("worker", "retries", "created", "started", "finished")


@dataclass
class RecordLayout:
    """The keys of flat records, gathered from every trial of a study.

    Keys: `id`, `status`, the reward (`reward`; `reward.0`, `reward.1`, ...
    for several objectives), `step` and `elapsed` of the last measurement,
    `error`, `dna.<decision id>`, `metrics.<name>` of the last measurement,
    `metadata.<key>`, then `worker`, `retries` and the timestamps `created`,
    `started`, `finished` (seconds since the epoch), as
    `StudyResult.to_records` writes them.
    """

    multi_objective: bool
    objectives: int = 1
    dna: dict[str, None] = field(default_factory=dict)
    metrics: dict[str, None] = field(default_factory=dict)
    metadata: dict[str, None] = field(default_factory=dict)

    def add(self, trial: TrialRecord) -> None:
        """Takes in the keys of one more trial."""
        if isinstance(trial.reward, list):
            self.objectives = max(self.objectives, len(trial.reward))
        self.dna.update(dict.fromkeys(trial.dna))
        self.metrics.update(dict.fromkeys(_last(trial).get("metrics") or {}))
        self.metadata.update(dict.fromkeys(trial.metadata))

    @property
    def reward_keys(self) -> list[str]:
        """`["reward"]`, or `["reward.0", "reward.1", ...]`."""
        if not self.multi_objective:
            return ["reward"]
        return [f"reward.{k}" for k in range(self.objectives)]

    def keys(self) -> list[str]:
        """Every key, in order."""
        return [
            "id",
            "status",
            *self.reward_keys,
            "step",
            "elapsed",
            "error",
            *(f"dna.{k}" for k in self.dna),
            *(f"metrics.{k}" for k in self.metrics),
            *(f"metadata.{k}" for k in self.metadata),
            *TAIL_KEYS,
        ]

    def record(self, trial: TrialRecord) -> dict[str, Any]:
        """One trial as a flat dict with every key (None where it has no value)."""
        last = _last(trial)
        row: dict[str, Any] = {"id": trial.id, "status": trial.status}
        reward = trial.reward
        if self.multi_objective:
            values = reward if isinstance(reward, list) else [] if reward is None else [reward]
            for k, key in enumerate(self.reward_keys):
                row[key] = values[k] if k < len(values) else None
        else:
            row["reward"] = reward[0] if isinstance(reward, list) and reward else reward
        row["step"] = last.get("step")
        row["elapsed"] = last.get("elapsed")
        row["error"] = trial.error
        for key in self.dna:
            row[f"dna.{key}"] = trial.dna.get(key)
        metrics = last.get("metrics") or {}
        for key in self.metrics:
            row[f"metrics.{key}"] = metrics.get(key)
        for key in self.metadata:
            row[f"metadata.{key}"] = trial.metadata.get(key)
        row["worker"] = trial.worker
        row["retries"] = trial.retries
        row["created"] = trial.created or None
        row["started"] = trial.started
        row["finished"] = trial.finished
        return row


def _last(trial: TrialRecord) -> dict[str, Any]:
    return trial.measurements[-1] if trial.measurements else {}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP's CSV-injection list)."""


def csv_cell(value: Any) -> str | int | float:
    """A record value for CSV, safe to open in a spreadsheet.

    Numbers stay numbers: an int or a float is returned as it is (written in
    full precision, unquoted, so `-1.5` is still the number -1.5). Everything
    else becomes text: '' for None, 'true'/'false', compact JSON for
    structures, `str()` otherwise. Text that a spreadsheet would run as a
    formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return:
    a parameter, an error message or a metadata string can) gets a leading
    single quote, as OWASP advises against CSV injection; `csv_writer` also
    quotes every text cell. Only text is escaped, never a number.

    >>> csv_cell(-1.5), csv_cell(3), csv_cell("-1.5"), csv_cell("=1+2"), csv_cell(None)
    (-1.5, 3, "'-1.5", "'=1+2", '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = (
        json.dumps(value, separators=(",", ":")) if isinstance(value, (dict, list)) else str(value)
    )
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_writer(stream: TextIO, keys: Sequence[str]) -> Any:
    """Writes the header `keys` to `stream` and returns a writer for rows of
    `csv_cell` values: every text cell in double quotes (doubled inside),
    numbers bare. The header is written plainly: every key starts with a
    fixed name (`id`, `dna.`, `metadata.`, ...), never with a formula sign.
    """
    csv.writer(stream, lineterminator="\n").writerow(keys)
    return csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)


def json_safe(value: Any) -> Any:
    """`value` with non-finite floats as None (JSON has no NaN or infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def write_records(
    store: Storage, study: str, multi_objective: bool, fmt: str, stream: TextIO
) -> int:
    """Writes every trial of `study` to `stream` as flat records (`RecordLayout`)
    in `fmt` ("csv" or "json"), streaming the trials twice (once for the keys,
    once to write); returns how many were written.

    Raises:
        ValueError: If `fmt` is not "csv" or "json".
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"the export format must be 'csv' or 'json', got {fmt!r}")
    layout = RecordLayout(multi_objective)
    for trial in store.iter_trials(study):
        layout.add(trial)
    keys = layout.keys()
    count = 0
    if fmt == "csv":
        writer = csv_writer(stream, keys)
        for trial in store.iter_trials(study):
            record = layout.record(trial)
            writer.writerow([csv_cell(record[k]) for k in keys])
            count += 1
        return count
    stream.write("[")
    for trial in store.iter_trials(study):
        record = json_safe(layout.record(trial))
        stream.write(("\n" if count == 0 else ",\n") + json.dumps(record, allow_nan=False))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count
