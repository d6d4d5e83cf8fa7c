"""Whether dbt's parse of the project (its manifests) is current: no dbt, no Dagster imported,
so a reader (``kpi query``) can tell in milliseconds."""

from pathlib import Path

from dagster_project.core.settings import DBT_PROJECT_DIR

# What dbt parses: a change to any of these files (or a file added to or removed from one of
# these folders) makes the manifest stale. The seeds live beside the project (../seeds).
_PARSED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
_PARSED = [
    *(DBT_PROJECT_DIR / name for name in ("dbt_project.yml", "models", "macros", "tests")),
    DBT_PROJECT_DIR.parent / "seeds",
]


def is_current(artefact: Path) -> bool:
    """``artefact`` (a manifest dbt's parse wrote) exists and is newer than every parsed file."""
    return artefact.exists() and artefact.stat().st_mtime >= _newest_source_mtime()


def _newest_source_mtime() -> float:
    return max(
        path.stat().st_mtime
        for parsed in _PARSED
        for path in [parsed, *parsed.rglob("*")]
        if path.suffix in _PARSED_SUFFIXES or path.is_dir()
    )
