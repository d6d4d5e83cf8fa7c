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

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


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
            con.execute(sql, _named_in(sql, params))

    def query(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        params: Mapping[str, object],
        **context: object,
    ) -> duckdb.DuckDBPyConnection:
        """Run the single statement of template ``name`` with the parameters it names; returns
        the cursor to fetch its rows from."""
        sql = self.statement(name, **context)
        return con.execute(sql, _named_in(sql, params))

    def fetchall(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        params: Mapping[str, object],
        **context: object,
    ) -> list[tuple]:
        """The rows of the single statement of template ``name``."""
        return self.query(con, name, params, **context).fetchall()

    def statement(self, name: str, **context: object) -> str:
        """The single statement of template ``name``."""
        (only,) = self.render(name, **context)
        return only


def sql_string(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _named_in(sql: str, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters ``sql`` names (``$name``): DuckDB refuses any other."""
    names = set(_PARAMETER.findall(sql))
    return {name: value for name, value in params.items() if name in names}


def _only_comments(statement: str) -> bool:
    return all(line.strip().startswith("--") for line in statement.splitlines() if line.strip())
