"""Studies and trials, stored: in memory, in a SQLite file, or in PostgreSQL.

Storage stores DNA and measurements as data and knows nothing of search
algorithms. `open_storage(url)` opens a store; every backend passes the
storage contract suite in `automorph.testing`.
"""

from __future__ import annotations

from automorph.storage._base import (
    FINISHED,
    SCHEMA_VERSION,
    Event,
    Storage,
    StudyInfo,
    TrialRecord,
    TrialState,
    events_of,
)
from automorph.storage._memory import MemoryStorage
from automorph.storage._open import DEFAULT_FILE, open_storage

__all__ = [
    "DEFAULT_FILE",
    "FINISHED",
    "SCHEMA_VERSION",
    "Event",
    "MemoryStorage",
    "Storage",
    "StudyInfo",
    "TrialRecord",
    "TrialState",
    "events_of",
    "open_storage",
]
