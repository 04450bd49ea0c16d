"""A throwaway PostgreSQL server for tests and benchmarks.

`PostgresServer()` finds the server binaries (`initdb`, `pg_ctl`) on PATH or
in `/usr/lib/postgresql/<version>/bin` (where Debian's `postgresql` package
puts them; `.ci/run` installs it), makes a cluster in a fresh temporary
directory with trust authentication, and starts it on 127.0.0.1 on a free
port, its unix socket in that directory too. `new_database()` creates an
empty database and returns its URL; `stop()` stops the server and deletes
the directory.

PostgreSQL refuses to run as root. When this process is root (as CI is),
the cluster belongs to the `postgres` system user (which the Debian package
creates), or to `nobody` if there is no such user: the data directory is
made in the system temp directory (not under pytest's root-only tmp dirs),
handed to that user, and `initdb`/`pg_ctl` run as that user through
`subprocess`'s `user=`/`group=` arguments (setuid before exec). The tests
connect over TCP, so they need no access to the directory.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
    "/usr/lib/postgresql/*/bin; .ci/run installs them (the Debian `postgresql` package)"
)
SUPERUSER = "automorph"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


def find_binaries() -> Path:
    """The directory that holds `initdb` and `pg_ctl`.

    Raises:
        PostgresUnavailable: If there is none.
    """
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")],
    )
    for path in reversed(found):
        if (Path(path).parent / "pg_ctl").exists():
            return Path(path).parent
    raise PostgresUnavailable(INSTALL_HINT)


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None for this process's own user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root, and there is no `postgres` or `nobody` user")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server of its own, in a temporary directory.

    Args:
        directory: Where to put the cluster, if the server's user can use it
            (when running as root the server's user rarely can: then, and
            when None, a fresh directory in the system temp directory).
        max_connections: The server's connection limit (a benchmark with
            many worker processes, each with a pool, needs more than 200).

    Raises:
        PostgresUnavailable: If the binaries are missing.
        RuntimeError: If the server does not start (with its log).
    """

    def __init__(self, directory: Path | str | None = None, max_connections: int = 200) -> None:
        self.bin = find_binaries()
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="automorph-pg-"))
        if directory is not None and self.user is None:
            shutil.rmtree(self.root)
            self.root = Path(directory)
            self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._run(
            "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        for _ in range(3):  # another process may take the free port first
            self.port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off "
                f"-c max_connections={max_connections}"
            )
            done = self._run(
                "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.log,
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
                check=False,
            )
            if done.returncode == 0:
                atexit.register(self.stop)  # should the caller never get to it
                return
        log = self.log.read_text() if self.log.exists() else "(no log)"
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}\n{log}")

    def _run(
        self, program: str, *args: Any, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *map(str, args)]
        extra: dict[str, Any] = {}
        if self.user is not None:
            extra = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "HOME": str(self.root)}
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, env=env, **extra
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        return done

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """The URL of one of the server's databases."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str | None = None, driver: str = "postgresql+psycopg") -> str:
        """Creates an empty database and returns its URL."""
        import psycopg

        name = name or f"test_{uuid.uuid4().hex[:12]}"
        conninfo = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name, driver)

    def stop(self) -> None:
        """Stops the server and deletes its directory (again: does nothing)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
