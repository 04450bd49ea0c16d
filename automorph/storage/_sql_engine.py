"""Engines for SQL stores: making one for a URL (SQLite set up for many
processes: WAL, busy timeout, immediate transactions), ending its
connections with the store, and checking that a SQLite file is one before
SQLAlchemy opens it."""

from __future__ import annotations

import math
import os
from typing import Any

from automorph.storage._sql_schema import NO_SQLALCHEMY
from automorph.utils import StorageError

try:
    import sqlalchemy as sa
    from sqlalchemy import exc
    from sqlalchemy.engine import Connection, Engine
except ImportError as _error:  # pragma: no cover - SQLAlchemy is a base dependency
    raise StorageError(NO_SQLALCHEMY) from _error

# What to install when a database driver is missing, by backend.
_DRIVER_HINTS = {
    "postgresql": "pip install 'automorph[postgres]' (psycopg)",
    "sqlite": "SQLite is part of Python's standard library; use a Python built with sqlite3",
}


def make_engine(
    url: str, busy_timeout_s: float, echo: bool, connect_timeout_s: float = 5.0
) -> tuple[Engine, str]:
    """The engine for `url`, and how messages name the store. A PostgreSQL
    connection gives up after `connect_timeout_s` (libpq counts whole seconds,
    at least 2) unless the URL sets connect_timeout itself."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as error:
        raise StorageError(f"cannot read the store URL {url!r}: {error}") from error
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise StorageError(
                f"a SQL store needs a SQLite file (sqlite:///path/to/file.db), not {url!r}; "
                "MemoryStorage keeps studies in memory"
            )
        parsed = parsed.set(database=os.path.abspath(database))
        where = f"the SQLite file {parsed.database}"
        connect_args["timeout"] = busy_timeout_s
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        where = f"the PostgreSQL database {parsed.render_as_string(hide_password=True)}"
        if "options" not in parsed.query:
            connect_args["options"] = f"-c lock_timeout={max(1, round(busy_timeout_s * 1000))}"
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout_s))
    else:
        raise StorageError(
            f"automorph stores studies in SQLite or PostgreSQL, not {backend!r} ({url!r})"
        )
    try:
        engine = sa.create_engine(parsed, echo=echo, connect_args=connect_args)
    except ImportError as error:
        raise StorageError(
            f"{where} needs the database driver {error.name or parsed.drivername!r}, "
            f"which is not installed: {_DRIVER_HINTS[backend]}"
        ) from error
    except exc.NoSuchModuleError as error:
        raise StorageError(f"unknown database driver in {url!r}: {error}") from error
    if backend == "sqlite":
        _set_up_sqlite(engine, busy_timeout_s)
    return engine, where


def _set_up_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    """Connections that leave BEGIN to us: `BEGIN IMMEDIATE` for writes."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would open deferred transactions on its own; we emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {max(0, round(busy_timeout_s * 1000))}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("automorph_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def release_engine(engine: Engine, pid: int) -> None:
    """Closes the connections of a store that is gone (in the process that made them)."""
    engine.dispose(close=os.getpid() == pid)


# The SQLite files (device, inode) that this process has checked or opened.
_CHECKED: set[tuple[int, int]] = set()


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def mark_checked(path: str) -> None:
    key = _file_id(path)
    if key is not None:
        _CHECKED.add(key)


def check_sqlite_file(path: str) -> None:
    """Refuses a file that is not a SQLite database, or one cut short.

    SQLite itself reads a short file as if the missing pages were there,
    until a query reaches them; the header says how long the file must be.

    Reading the header opens and closes a descriptor of the file, and closing
    any descriptor of a file drops every POSIX lock this process holds on it,
    SQLite's included; another process could then take the file for its own,
    checkpoint and delete the write-ahead log under this one's connections, and
    commits would be lost. So the header is read only the first time this
    process meets the file, before any connection of the process can be open
    on it (a store's connections may outlive it until they are collected).
    """
    if os.path.isdir(path):
        raise StorageError(
            f"the store path {path} is a directory, not a SQLite file: give a file in it "
            f"(for example {os.path.join(path, 'automorph.db')}), or a database URL"
        )
    key = _file_id(path)
    if key is None or key in _CHECKED:
        return  # a new store (or SQLite will say why it cannot open it); or seen
    size = os.path.getsize(path)
    if size > 0:
        _check_header(path, size)
    _CHECKED.add(key)


def _check_header(path: str, size: int) -> None:
    with open(path, "rb") as f:
        header = f.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        raise StorageError(f"the file {path} is not a SQLite database (and so not a store)")
    if len(header) < 100:
        raise StorageError(f"the SQLite file {path} is truncated ({size} bytes)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    try:
        wal = os.path.getsize(path + "-wal")
    except OSError:
        wal = 0
    # With a non-empty write-ahead log, pages may live in the log for now.
    if pages and counter_valid and wal == 0 and size < pages * page_size:
        raise StorageError(
            f"the SQLite file {path} is truncated: {size} bytes, its header "
            f"says {pages} pages of {page_size}"
        )
