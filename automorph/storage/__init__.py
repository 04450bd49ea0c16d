"""Studies and trials, stored: in memory, in a SQLite file, or in PostgreSQL.

Storage stores DNA and measurements as data and knows nothing of search
algorithms. `open_storage(url)` opens a store; every backend passes the
storage contract suite in `automorph.testing`.
"""

from __future__ import annotations

from automorph.storage._base import (
    CONSTRAINTS_KEY,
    DIRECTIONS,
    DIRECTIONS_KEY,
    FINISHED,
    SCHEMA_VERSION,
    Demand,
    Event,
    Storage,
    StudyInfo,
    TrialRecord,
    TrialState,
    direction_signs,
    events_of,
)
from automorph.storage._export import (
    EXPORT_FORMATS,
    RecordLayout,
    csv_cell,
    json_safe,
    write_records,
)
from automorph.storage._memory import MemoryStorage
from automorph.storage._open import DEFAULT_FILE, open_storage

__all__ = [
    "CONSTRAINTS_KEY",
    "DEFAULT_FILE",
    "DIRECTIONS",
    "DIRECTIONS_KEY",
    "FINISHED",
    "SCHEMA_VERSION",
    "EXPORT_FORMATS",
    "Demand",
    "Event",
    "MemoryStorage",
    "RecordLayout",
    "Storage",
    "StudyInfo",
    "TrialRecord",
    "TrialState",
    "csv_cell",
    "direction_signs",
    "events_of",
    "json_safe",
    "open_storage",
    "write_records",
]
