"""The landing contract (``contract.yml``) as typed Python objects.

Everything that needs to know what a raw table looks like -- the generator, ingestion, the
dbt sources test, the docs -- reads it from here, so the contract is declared exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    not_future: bool = False
    references: str | None = None
    description: str = ""

    @property
    def is_timestamp(self) -> bool:
        return self.type == "TIMESTAMPTZ"


@dataclass(frozen=True)
class Table:
    name: str
    source_system: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    version_column: str | None = None
    is_daily: bool = False  # delivers every business day (`cadence: daily`)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def unique_key(self) -> tuple[str, ...]:
        """Key of one row within a delivery: the business key plus the version, if any."""
        return self.key + ((self.version_column,) if self.version_column else ())


def _column(name: str, spec: dict, is_key: bool) -> Column:
    values = spec.get("values")
    return Column(
        name=name,
        type=spec["type"],
        nullable=spec.get("nullable", True) and not is_key,
        values=tuple(values) if values else None,
        min=spec.get("min"),
        max=spec.get("max"),
        not_future=spec.get("not_future", False),
        references=spec.get("references"),
        description=spec.get("description", ""),
    )


@cache
def tables() -> dict[str, Table]:
    """All raw tables of the contract, by name, in declaration order."""
    text = resources.files(__package__).joinpath("contract.yml").read_text(encoding="utf-8")
    declared = yaml.safe_load(text)["tables"]
    result = {}
    for name, spec in declared.items():
        key = tuple(spec["key"])
        result[name] = Table(
            name=name,
            source_system=spec["source_system"],
            description=spec["description"],
            key=key,
            columns=tuple(_column(c, s, c in key) for c, s in spec["columns"].items()),
            version_column=spec.get("version_column"),
            is_daily=spec.get("cadence") == "daily",
        )
    return result


def table(name: str) -> Table:
    return tables()[name]
