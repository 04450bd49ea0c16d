"""Fixtures for the storage tests: a PostgreSQL server of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.postgres import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (skips without the binaries)."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as error:
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A psycopg URL of a database on the session's server, shared by the session's
    tests (they use study names of their own)."""
    return postgres_server.new_database("automorph_tests")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> str:
    """A psycopg URL of an empty database of this test's own."""
    return postgres_server.new_database()
