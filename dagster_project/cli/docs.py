"""The generated docs: ``docs/kpis.md`` (the KPI catalogue) and ``docs/tables.md`` (the columns
of every published table), written by ``python -m dagster_project.cli.docs``.

Both come from the dbt project, so they cannot drift from what is built: the KPI catalogue from
the KPI registry (``transform/registry.py``: the KPI metrics' ``meta.kpi``), with, for each KPI,
the file whose SQL computes it, found by reading the macros and the mart's SQL; the column
dictionary from the model YAML that dbt enforces as contracts. A test fails when either file
is out of date.
"""

import re
from pathlib import Path

import jinja2
import yaml

from dagster_project.core.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from dagster_project.publish.publication import is_published
from dagster_project.transform import registry

DOCS_DIR = PROJECT_ROOT / "docs"
KPIS_DOC = DOCS_DIR / "kpis.md"
TABLES_DOC = DOCS_DIR / "tables.md"
COMMAND = ".venv/bin/python -m dagster_project.cli.docs"

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
MACROS_DIR = DBT_PROJECT_DIR / "macros"
KPI_MACROS_DIR = MACROS_DIR / "kpis"


class DocsError(Exception):
    """The docs cannot be generated: the registry names something the dbt project lacks."""


def _generated_note(sources: str) -> str:
    return f"<!-- Generated from {sources} by `{COMMAND}`: edit those, then run it. -->"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _repo_path(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def _link(path: Path, text: str | None = None) -> str:
    """A markdown link from docs/ to a file of the repository."""
    return f"[{text or path.name}](../{_repo_path(path)})"


# --- the dbt project as files --------------------------------------------------------------


def _mart_models() -> dict[str, dict]:
    """Every model documented under models/marts, by name."""
    models = {}
    for path in sorted(MARTS_DIR.rglob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []:
            models[model["name"]] = model
    return models


def _model_sql(name: str) -> Path:
    paths = sorted((DBT_PROJECT_DIR / "models").rglob(f"{name}.sql"))
    if len(paths) != 1:
        raise DocsError(f"{name}: expected one {name}.sql under dbt_models/models, found {paths}")
    return paths[0]


class _Anything:
    """Stands for dbt's context objects (``dbt``, ``adapter``...) while rendering a macro."""

    def __getattr__(self, name: str) -> "_Anything":
        return self

    def __call__(self, *args, **kwargs) -> str:
        return "x"


def _macros() -> dict[str, jinja2.runtime.Macro]:
    """Every macro of the dbt project, callable outside dbt: ref() is the model's name, var()
    its default, anything else of dbt's context a placeholder. One template of all the macro
    files, so that a macro calls the others whatever the order of the files."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.ChainableUndefined)
    anything = _Anything()
    env.globals.update(
        ref=lambda *args: args[-1],
        source=lambda *args: args[-1],
        var=lambda name, default=None: name if default is None else default,
        dbt=anything,
        adapter=anything,
        config=anything,
        exceptions=anything,
    )
    env.globals["return"] = lambda value: value
    sources = []
    for path in sorted(MACROS_DIR.rglob("*.sql")):
        text = path.read_text(encoding="utf-8")
        try:
            env.parse(text)
        except jinja2.TemplateError:
            continue  # dbt's own tags (a generic test): not a macro a KPI is computed in
        sources.append(text)
    module = env.from_string("\n".join(sources)).module
    return {name: value for name, value in vars(module).items() if not name.startswith("_")}


def _macro_outputs(path: Path, macros: dict) -> tuple[set[str], set[str]]:
    """The macros a file defines and the columns they output (``... as <column>``), read from
    the macros rendered with empty arguments (loops over fixed lists unrolled); from the file's
    text when a macro does not render that way."""
    text = path.read_text(encoding="utf-8")
    names = set(re.findall(r"{%-?\s*macro\s+(\w+)\s*\(", text))
    rendered = []
    for name in sorted(names):
        try:
            macro = macros[name]
            rendered.append(str(macro(*[[] for _ in macro.arguments])))
        except Exception:  # any failure: read the file's text instead
            rendered.append(re.sub(r"{#.*?#}", "", text, flags=re.S))
    columns = set(re.findall(r"\bas\s+(\w+)", "\n".join(rendered), flags=re.I))
    return names, columns


def computed_in(kpi: dict, mart_sql: Path, kpi_columns: set[str], macros: dict) -> Path:
    """The file whose SQL computes a KPI: the macro under macros/kpis/ that the mart calls and
    that outputs the KPI (its id, or a mart column tagged with it in ``meta.kpi_id``), else the
    mart's own SQL when it names one of them. Raises when neither does."""
    names = {kpi["id"]} | kpi_columns
    sql = mart_sql.read_text(encoding="utf-8")
    found = [
        path
        for path, (defined, columns) in macros.items()
        if columns & names and any(re.search(rf"\b{m}\s*\(", sql) for m in defined)
    ]
    if len(found) > 1:
        raise DocsError(f"KPI {kpi['id']}: computed in more than one macro: {found}")
    if found:
        return found[0]
    if any(re.search(rf"\b{re.escape(name)}\b", sql) for name in names):
        return mart_sql
    raise DocsError(
        f"KPI {kpi['id']}: no macro under {_repo_path(KPI_MACROS_DIR)}/ called by "
        f"{_repo_path(mart_sql)} outputs it, and that SQL does not name it "
        f"(looked for {sorted(names)})"
    )


# --- docs/kpis.md ---------------------------------------------------------------------------


def kpi_rows() -> list[dict]:
    """The registry's KPIs, each with its mart's SQL file and the file that computes it."""
    models = _mart_models()
    every_macro = _macros()
    macros = {
        path: _macro_outputs(path, every_macro) for path in sorted(KPI_MACROS_DIR.glob("*.sql"))
    }
    rows = []
    for kpi in registry.kpis():
        if kpi["section"] not in registry.SECTIONS:
            raise DocsError(f"KPI {kpi['id']}: section {kpi['section']} has no title")
        if kpi["mart"] not in models:
            raise DocsError(f"KPI {kpi['id']}: mart {kpi['mart']} has no model YAML")
        mart_sql = _model_sql(kpi["mart"])
        tagged = {
            column["name"]
            for column in models[kpi["mart"]].get("columns") or []
            if (column.get("meta") or {}).get("kpi_id") == kpi["id"]
        }
        rows.append(
            {**kpi, "mart_sql": mart_sql, "computed_in": computed_in(kpi, mart_sql, tagged, macros)}
        )
    return rows


def kpis_markdown() -> str:
    unit = next(c for c in registry.dim_kpis_model()["columns"] if c["name"] == "unit")
    rows = kpi_rows()
    lines = [
        "# KPI catalogue",
        "",
        _generated_note("the KPI metrics' definitions and the SQL they point to"),
        "",
        "Every KPI of the department's catalogue, defined once. A KPI is a metric of the "
        "semantic layer ([metrics.md](metrics.md)) whose name is the KPI's id: its name, 中文 "
        "name, formula, unit, direction, grain, mart and sources are the metric's "
        f"`config.meta.kpi`, in the `_<folder>__semantic.yml` files under "
        f"`{_repo_path(registry.KPI_MARTS_DIR)}/`. The three KPIs per product, a stage, a "
        f"flag and a launch's first 30 days, are not metrics: they are in "
        f"{_link(registry.DIM_KPIS_YAML, _repo_path(registry.DIM_KPIS_YAML))}. Both are "
        "published as the table `dim_kpis`. *Computed in* links the SQL that computes the "
        f"formula: the macro under `{_repo_path(KPI_MACROS_DIR)}/` that outputs the KPI, else "
        "the mart's own SQL.",
        "",
        "- Every ratio is published with its numerator and denominator beside the value "
        "(`<id>_numerator`, `<id>_denominator`, `<id>`): re-aggregate by summing those, never by "
        "averaging values. Division by zero gives NULL, never 0 or infinity.",
        "- `kpi_daily` holds the daily KPIs in one long table (`kpi_date`, `kpi_id`, "
        "`dimension`, `dimension_value`, `numerator`, `denominator`, `value`).",
        "- *Sources* are the landing contract tables a KPI cannot be computed without. A KPI "
        "whose source was never delivered is left out of `kpi_daily` and the scorecard "
        "(`dim_kpis.is_available` false) and named in `publication_log.absent_kpis`.",
        f"- Units: {_one_line(unit.get('description'))}",
        "- Every column of the marts: [tables.md](tables.md).",
        "",
    ]
    for section, title in registry.SECTIONS.items():
        lines.append(f"- [{section}. {title}](#{_anchor(f'{section}. {title}')})")
    for section, title in registry.SECTIONS.items():
        lines += [
            "",
            f"## {section}. {title}",
            "",
            "| id | name | 中文 | formula | unit | direction | grain | mart | sources "
            "| computed in |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for kpi in (r for r in rows if r["section"] == section):
            sources = ", ".join(f"`{s}`" for s in kpi["sources"]) or "none"
            direction = "higher is better" if kpi["higher_is_better"] else "lower is better"
            cells = [
                f"`{kpi['id']}`",
                _one_line(kpi["name"]),
                kpi["name_zh"],
                _one_line(str(kpi["formula"])),
                kpi["unit"],
                direction,
                _one_line(kpi["grain"]),
                _link(kpi["mart_sql"], kpi["mart"]),
                sources,
                _link(
                    kpi["computed_in"], _repo_path(kpi["computed_in"]).removeprefix("dbt_models/")
                ),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


# --- docs/tables.md -------------------------------------------------------------------------


def published_models() -> dict[str, dict]:
    """The published tables (marts and dimensions) as their dbt YAML declares them: the
    contracts, with every column's data type."""
    return {
        name: model
        for name, model in sorted(_mart_models().items())
        if is_published(name) and model.get("columns")
    }


def published_tables_markdown() -> str:
    """One section per published table: its description and its columns."""
    sections = []
    for name, model in published_models().items():
        rows = [
            f"| `{c['name']}` | {c.get('data_type', '')} | {_one_line(c.get('description'))} |"
            for c in model["columns"]
        ]
        sections.append(
            f"## `{name}`\n\n{_one_line(model.get('description'))}\n\n"
            "| column | type | description |\n|---|---|---|\n" + "\n".join(rows)
        )
    return "\n\n".join(sections)


def tables_markdown() -> str:
    models = published_models()
    return (
        "# Published tables\n\n"
        + _generated_note("the dbt model YAML under `dbt_models/models/marts/` (the contracts)")
        + "\n\nEvery table of `published/kpi_mart.duckdb` and `published/parquet/`, with its "
        "columns, types and meanings, as the dbt contracts declare and enforce them; every "
        "publication also holds `publication_log` ([bi.md](bi.md#what-to-read)). The KPI "
        "definitions: [kpis.md](kpis.md). How to connect: [bi.md](bi.md).\n\n"
        + "\n".join(f"- [`{name}`](#{name})" for name in models)
        + "\n\n"
        + published_tables_markdown()
        + "\n"
    )


# --- writing --------------------------------------------------------------------------------


def generated() -> dict[Path, str]:
    """Each generated file and the text it must hold."""
    return {KPIS_DOC: kpis_markdown(), TABLES_DOC: tables_markdown()}


def main() -> None:
    try:
        documents = generated()
    except DocsError as error:
        raise SystemExit(f"Error: {error}") from error
    for path, text in documents.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {_repo_path(path)}")


if __name__ == "__main__":
    main()
