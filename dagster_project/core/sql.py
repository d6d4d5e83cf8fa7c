"""SQL kept in ``.sql`` files beside the code that runs it, rendered with Jinja.

Templates only ever see names and rules the project declares (the contract, the catalogue of
the build warehouse); values from files and users reach DuckDB as bound parameters
(``$path``, ``$source_file``...), never as SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import duckdb
import jinja2


class SqlTemplates:
    """The ``sql/`` folder of one package."""

    def __init__(self, package: str, **helpers: Callable[..., str]):
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader(package, "sql"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._env.filters["sql_string"] = sql_string
        self._env.globals.update(helpers)

    def render(self, name: str, **context: object) -> list[str]:
        """The statements of template ``name``, rendered, one string per statement."""
        text = self._env.get_template(name).render(**context)
        statements = (s.strip() for s in re.split(r";\s*$", text, flags=re.MULTILINE))
        return [s for s in statements if s and not _only_comments(s)]

    def execute(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        params: Mapping[str, object],
        **context: object,
    ) -> None:
        """Run every statement of template ``name``, each with the parameters it names."""
        for sql in self.render(name, **context):
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})

    def fetchall(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        params: Mapping[str, object],
        **context: object,
    ) -> list[tuple]:
        """The rows of the single statement of template ``name``."""
        sql = self.statement(name, **context)
        return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchall()

    def statement(self, name: str, **context: object) -> str:
        """The single statement of template ``name``."""
        (only,) = self.render(name, **context)
        return only


def sql_string(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _only_comments(statement: str) -> bool:
    return all(line.strip().startswith("--") for line in statement.splitlines() if line.strip())
