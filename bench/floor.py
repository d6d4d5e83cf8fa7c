"""The floor: the least work that computes the same marts, to measure the pipeline against.

One plain DuckDB connection, configured like every pipeline connection
(``warehouse.connect``: ``Settings.duckdb_config()`` and UTC), to a fresh ``build.duckdb`` (so
the compiled SQL's ``"build"."<schema>"."<name>"`` relations resolve in it):

- each raw table is created as ingestion creates it (``create_raw_table.sql``) and filled by
  reading all its landing files at once with DuckDB's readers, typed by the contract (CSV
  files whose header is the contract's columns by position, others by name) -- no per-file
  transactions, checksums, manifest or rejected-row rules;
- the seeds are read from their CSV files;
- every model the marts need is built from ``dbt compile``'s SQL in dependency order, as its
  materialization says (views as views; tables and incremental models as tables, the
  incremental ones as their first, full build; enforced contracts as typed tables).

No Dagster, no dbt runner, no Great Expectations, no tests. Only the DuckDB work is timed.
Run as ``python -m bench.floor`` so its memory can be measured apart.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.core import warehouse
from dagster_project.core.settings import DBT_PROJECT_DIR, Settings
from dagster_project.ingest import contract
from dagster_project.ingest.contract import Table
from dagster_project.ingest.loader import discover
from dagster_project.ingest.sql_templates import TEMPLATES

MART_FOLDER = "marts"  # models under models/marts/: the facts, dimensions and KPI marts


def compile_models(compile_dir: Path, env: Mapping[str, str]) -> Path:
    """``dbt compile`` the models into ``compile_dir``, against an empty warehouse there (so
    incremental models compile to their full build); returns the manifest's path. With
    ``KPI_DBT_PARSE_CACHE`` in ``env`` dbt starts from the parse it holds."""
    import shutil

    # here, not at the top: it imports dagster-dbt (3 s), which the bench needs only to compile
    from dagster_project.transform.project import start_from_cached_parse

    if compile_dir.exists():
        shutil.rmtree(compile_dir)
    (compile_dir / "warehouse").mkdir(parents=True)
    target = compile_dir / "target"
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "--quiet",
        "compile",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(compile_dir / "logs"),
        "--select",
        "resource_type:model",
    ]
    cache = env.get("KPI_DBT_PARSE_CACHE")
    command += start_from_cached_parse(Path(cache) if cache else None)
    child_env = dict(env) | {"KPI_DATA_DIR": str(compile_dir)}
    done = subprocess.run(command, env=child_env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dbt compile failed:\n{done.stdout}\n{done.stderr}")
    return target / "manifest.json"


@dataclass(frozen=True)
class Node:
    """A model or seed to build: its relation and how."""

    unique_id: str
    name: str
    schema: str
    relation: str  # "build"."<schema>"."<name>"
    materialized: str  # view | table | incremental | ephemeral | seed
    sql: str  # compiled SQL (models) or the CSV path (seeds)
    columns: tuple[tuple[str, str], ...]  # enforced contract columns, or seed column types
    is_mart: bool


def plan(manifest: Mapping) -> list[Node]:
    """The models (and seeds) the mart models need, in dependency order."""
    nodes = manifest["nodes"]
    buildable = {
        uid: node for uid, node in nodes.items() if node["resource_type"] in ("model", "seed")
    }
    marts = [
        uid
        for uid, node in buildable.items()
        if node["resource_type"] == "model" and node["fqn"][1] == MART_FOLDER
    ]
    needed: set[str] = set()
    stack = list(marts)
    while stack:
        uid = stack.pop()
        if uid in needed:
            continue
        needed.add(uid)
        stack.extend(d for d in buildable[uid]["depends_on"].get("nodes", []) if d in buildable)

    order: list[str] = []
    done: set[str] = set()
    remaining = sorted(needed)
    while remaining:
        ready = [
            uid
            for uid in remaining
            if all(d in done for d in buildable[uid]["depends_on"].get("nodes", []) if d in needed)
        ]
        if not ready:
            raise ValueError(f"dependency cycle among {remaining}")
        order.extend(ready)
        done.update(ready)
        remaining = [uid for uid in remaining if uid not in done]
    return [_node(buildable[uid]) for uid in order]


def _node(node: Mapping) -> Node:
    config = node["config"]
    if node["resource_type"] == "seed":
        path = Path(node["root_path"]) / node["original_file_path"]
        columns = tuple((config.get("column_types") or {}).items())
        materialized, sql = "seed", str(path.resolve())
    else:
        materialized = config["materialized"]
        if "compiled_code" not in node:
            raise ValueError(f"{node['unique_id']} was not compiled")
        sql = node["compiled_code"].strip().rstrip(";")
        enforced = (config.get("contract") or {}).get("enforced", False)
        columns = tuple(
            (c["name"], c["data_type"])
            for c in node["columns"].values()
            if enforced and c.get("data_type")
        )
    return Node(
        node["unique_id"],
        node["alias"] or node["name"],
        node["schema"],
        node["relation_name"],
        materialized,
        sql,
        columns,
        node["resource_type"] == "model" and node["fqn"][1] == MART_FOLDER,
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_header(path: Path) -> tuple[str, ...]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return tuple(next(csv.reader(handle), []))


def _reader(fmt: str) -> str:
    """A DuckDB reader of every ``$files`` of one kind, typed by the contract (``$types``).

    ``csv`` is for files whose header is exactly the contract's columns (read by position, no
    sniffing); ``csv_by_name`` for any other header (columns matched by name).
    """
    if fmt == "csv":
        return (
            "read_csv($files, header = true, auto_detect = false, columns = $types, "
            "delim = ',', quote = '\"', escape = '\"', filename = true, "
            "hive_partitioning = false)"
        )
    if fmt == "csv_by_name":
        return (
            "read_csv($files, header = true, delim = ',', quote = '\"', escape = '\"', "
            "union_by_name = true, types = $types, filename = true, hive_partitioning = false)"
        )
    if fmt == "jsonl":
        return (
            "read_json($files, format = 'newline_delimited', columns = $types, "
            "filename = true, hive_partitioning = false)"
        )
    if fmt == "parquet":
        return (
            "read_parquet($files, union_by_name = true, filename = true, hive_partitioning = false)"
        )
    raise ValueError(f"no reader for {fmt} files")


def load_raw(
    con: duckdb.DuckDBPyConnection, landing: Path, table: Table, loaded_at: datetime
) -> int:
    """Create ``raw.<table>`` as ingestion does and insert all its landing files; returns the
    number of files read.

    Lineage: ``_source_file`` and ``_business_date`` come from the file's path;
    ``_loaded_at`` is one load time; ``_source_line`` is 0 (line numbers only break ties
    between rows with the same key and version within one file, which the clean demo data
    never has).
    """
    con.execute("create schema if not exists raw")
    for statement in TEMPLATES.render("create_raw_table.sql", table=table):
        con.execute(statement)
    files: dict[str, list[str]] = {}
    for landing_file in discover(landing, table.name):
        if landing_file.problem is not None or landing_file.format is None:
            continue
        fmt = landing_file.format
        if fmt == "csv" and _csv_header(landing_file.path) != table.column_names:
            fmt = "csv_by_name"
        files.setdefault(fmt, []).append(str(landing_file.path))
    prefix = str(landing.resolve()) + os.sep
    types = {c.name: c.type for c in table.columns}
    columns = ",\n".join(
        f"cast({_quote(c.name)} as {c.type}) as {_quote(c.name)}" for c in table.columns
    )
    for fmt, paths in sorted(files.items()):
        sql = f"""
            insert into raw.{_quote(table.name)} by name
            select
                {columns},
                replace(filename, $prefix, '') as _source_file,
                0 as _source_line,
                cast(regexp_extract(filename, 'dt=([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})', 1)
                    as date) as _business_date,
                $loaded_at as _loaded_at,
            from {_reader(fmt)}
        """
        params = {"files": paths, "types": types, "prefix": prefix, "loaded_at": loaded_at}
        con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    return sum(len(p) for p in files.values())


def build_node(con: duckdb.DuckDBPyConnection, node: Node) -> None:
    """Create one model or seed the way its materialization says."""
    con.execute(f"create schema if not exists {_quote(node.schema)}")
    if node.materialized == "seed":
        types = ", types = $types" if node.columns else ""
        con.execute(
            f"create or replace table {node.relation} as "
            f"select * from read_csv($path, header = true{types})",
            {"path": node.sql} | ({"types": dict(node.columns)} if node.columns else {}),
        )
    elif node.materialized == "view":
        con.execute(f"create or replace view {node.relation} as\n{node.sql}")
    elif node.materialized in ("table", "incremental"):
        if node.columns:  # an enforced contract: a typed table, filled by position
            definitions = ", ".join(f"{_quote(n)} {t}" for n, t in node.columns)
            names = ", ".join(_quote(n) for n, _ in node.columns)
            con.execute(f"create or replace table {node.relation} ({definitions})")
            con.execute(
                f"insert into {node.relation} select {names} from (\n{node.sql}\n) as model_subq"
            )
        else:
            con.execute(f"create or replace table {node.relation} as\n{node.sql}")
    elif node.materialized != "ephemeral":  # ephemeral models are inlined where used
        raise ValueError(f"{node.unique_id}: unsupported materialization {node.materialized}")


def run_floor(settings: Settings, landing: Path, manifest_path: Path) -> dict:
    """Build the marts from ``landing`` into ``settings.build_db`` (which must not exist yet)
    and return the timings (s) and the marts' row counts."""
    if settings.build_db.exists():
        raise FileExistsError(f"the floor needs a fresh database: {settings.build_db} exists")
    nodes = plan(json.loads(manifest_path.read_text(encoding="utf-8")))
    model_seconds: dict[str, float] = {}
    loaded_at = datetime.now(UTC)

    began = time.perf_counter()
    with warehouse.connect(settings) as con:
        files = 0
        for table in contract.tables().values():
            files += load_raw(con, landing, table, loaded_at)
        raw_done = time.perf_counter()
        for node in nodes:
            started = time.perf_counter()
            build_node(con, node)
            model_seconds[node.name] = time.perf_counter() - started
        models_done = time.perf_counter()
        con.execute("checkpoint")
    ended = time.perf_counter()

    with warehouse.connect(settings, read_only=True) as con:
        raw_rows = {
            name: con.execute(f"select count(*) from raw.{_quote(name)}").fetchone()[0]
            for name in contract.tables()
        }
        mart_rows = {
            node.name: con.execute(f"select count(*) from {node.relation}").fetchone()[0]
            for node in nodes
            if node.is_mart
        }
    seeds = {n.name for n in nodes if n.materialized == "seed"}
    return {
        "floor_s": ended - began,
        "stage_s": {
            "load_raw": raw_done - began,
            "seeds": sum(s for n, s in model_seconds.items() if n in seeds),
            "models": sum(s for n, s in model_seconds.items() if n not in seeds),
            "checkpoint": ended - models_done,
        },
        "files": files,
        "models": sum(n.materialized not in ("seed", "ephemeral") for n in nodes),
        "model_s": model_seconds,
        "raw_rows": raw_rows,
        "mart_rows": mart_rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, required=True, help="dbt compile's manifest")
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the result")
    arguments = parser.parse_args(argv)
    # KPI_DATA_DIR names the floor's own data directory: its warehouse/build.duckdb and tmp/
    result = run_floor(Settings.from_env(), arguments.landing, arguments.manifest)
    arguments.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
