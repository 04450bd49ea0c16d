"""`open_storage`: a store from a URL or a path."""

from __future__ import annotations

import os
from typing import Any

from automorph.storage._base import Storage
from automorph.storage._memory import MemoryStorage

DEFAULT_FILE = "automorph.db"
"""The SQLite file a study is kept in when `storage` names none (the command line's default)."""


def open_storage(target: Storage | str | os.PathLike[str] | None = None, **options: Any) -> Storage:
    """A store: a `Storage` as is; None or "memory://" for memory; a path or
    "sqlite:///path" for a SQLite file; "postgresql+psycopg://user@host/db"
    for PostgreSQL (`options` go to the SQL backend).

    Raises:
        StorageError: If the target cannot be opened (the message says why).
    """
    if isinstance(target, Storage):
        return target
    if target is None or str(target) == "memory://":
        return MemoryStorage()
    text = os.fspath(target)
    from automorph.storage._sql import SQLStorage

    if "://" not in text:
        text = f"sqlite:///{os.path.abspath(text)}"
    return SQLStorage(text, **options)
