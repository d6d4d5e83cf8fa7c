"""Shared fixtures: every test gets its own data directory; nothing touches ./data."""

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Point KPI_DATA_DIR (and Dagster's home) at a fresh directory for each test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KPI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return data_dir
