"""Fixtures of the ingestion tests: an empty landing zone and a fresh build database."""

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def landing(tmp_path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()
