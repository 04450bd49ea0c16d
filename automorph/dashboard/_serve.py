"""Starting the dashboard: the app over a store, and serving it with uvicorn.

The web stack (Starlette, uvicorn, Jinja2, Plotly: the `dashboard` extra) is
imported when the app is made, so `import automorph.dashboard` works without
it and the error says which extra to install.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from automorph.storage import Storage, open_storage
from automorph.utils import FieldValueError

logger = logging.getLogger("automorph.dashboard")


def create_app(
    storage: Storage | str | os.PathLike[str], *, allow_writes: bool = False, refresh_s: float = 0.5
) -> Any:
    """The dashboard over a store, as an ASGI application.

    Args:
        storage: A `Storage`, a URL (`sqlite:///file.db`,
            `postgresql+psycopg://...`) or a SQLite file's path.
        allow_writes: Whether the pages may enqueue trials and delete
            studies (off: every write endpoint answers 403).
        refresh_s: A study is read again at most this often (seconds).

    Returns:
        A Starlette application (serve it with uvicorn, or `serve`).

    Raises:
        ImportError: If the `dashboard` extra is not installed.

    >>> from automorph.storage import MemoryStorage
    >>> app = create_app(MemoryStorage())
    >>> sorted(r.path for r in app.routes if r.path.startswith("/api/s"))
    ['/api/studies', '/api/study']
    """
    from automorph.dashboard._app import create_app as make

    store = storage if isinstance(storage, Storage) else open_storage(storage)
    return make(store, allow_writes=allow_writes, refresh_s=refresh_s)


def serve(
    storage: Storage | str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    allow_writes: bool = False,
    log_level: str = "warning",
) -> None:
    """Serves the dashboard until interrupted (Ctrl-C or SIGTERM).

    Args:
        storage: The store (see `create_app`).
        host: The address to listen on: loopback unless you say otherwise.
        port: The port (0: any free one).
        allow_writes: See `create_app`.
        log_level: uvicorn's log level.

    Raises:
        FieldValueError: If `port` is out of range.
        ImportError: If the `dashboard` extra is not installed.
    """
    if not 0 <= port <= 65535:
        raise FieldValueError(f"port must be in 0..65535, got {port}")
    app = create_app(storage, allow_writes=allow_writes)
    import uvicorn

    if not _loopback(host):
        logger.warning(
            "the dashboard listens on %s, not only on this machine: anyone who can reach it "
            "can read every study of the store%s",
            host,
            " and change them (--allow-writes)" if allow_writes else "",
        )
    with _stop_signals():
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


class _Stopped(Exception):
    """SIGINT or SIGTERM, after uvicorn has shut down on it."""


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """uvicorn shuts down on SIGINT and SIGTERM, then raises the signal again
    for the handler it found: this handler turns that into a normal return,
    so a dashboard stopped either way exits with status 0. (Outside the main
    thread no handler can be set; uvicorn then installs none either.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stopped:
        logger.info("the dashboard stopped on a signal")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
