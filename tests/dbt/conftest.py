"""Fixtures of the dbt tests."""

import duckdb
import pytest


@pytest.fixture(scope="module")
def mart(demo_pipeline):
    """The demo pipeline's build warehouse, read-only."""
    con = duckdb.connect(str(demo_pipeline.build_db), read_only=True)
    yield con
    con.close()
