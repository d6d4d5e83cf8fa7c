"""The generated docs (docs/kpis.md, docs/tables.md) are current, and the links of the docs
lead somewhere inside the repository."""

import re
from collections import Counter
from pathlib import Path

import pytest

from dagster_project.cli.docs import (
    COMMAND,
    KPI_MACROS_DIR,
    KPIS_DOC,
    TABLES_DOC,
    DocsError,
    _macro_outputs,
    _macros,
    _model_sql,
    computed_in,
    generated,
    published_tables_markdown,
)
from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.transform import registry

LINK = re.compile(r"\]\(([^)\s]+)\)")
KPI_ROW = re.compile(r"^\| `(\w+)` \|", re.M)


def _registry_ids() -> list[str]:
    return [kpi["id"] for kpi in registry.kpis()]


def _anchors(text: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _broken_links(doc: Path) -> list[str]:
    """Links of a markdown file that leave the repository or lead to nothing."""
    text = doc.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            broken.append(f"{target}: leaves the repository")
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.is_relative_to(PROJECT_ROOT) or not file.exists():
            broken.append(f"{target}: no such file in the repository")
        elif (
            anchor
            and file.suffix == ".md"
            and anchor not in _anchors(file.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no such heading")
    return broken


@pytest.mark.parametrize("doc", [KPIS_DOC, TABLES_DOC], ids=lambda p: p.name)
def test_the_generated_docs_are_current(doc):
    expected = generated()[doc]
    actual = doc.read_text(encoding="utf-8") if doc.exists() else ""
    assert actual == expected, f"{doc.relative_to(PROJECT_ROOT)} is out of date: run {COMMAND}"


def test_the_kpi_catalogue_lists_every_registry_id_exactly_once():
    listed = Counter(KPI_ROW.findall(KPIS_DOC.read_text(encoding="utf-8")))
    registry = Counter(_registry_ids())
    assert registry and all(n == 1 for n in registry.values()), "an id repeats in the registry"
    assert listed == registry


def test_every_link_of_the_kpi_catalogue_points_to_a_file():
    text = KPIS_DOC.read_text(encoding="utf-8")
    assert len(LINK.findall(text)) > 2 * len(_registry_ids())  # a mart and a SQL file each
    assert _broken_links(KPIS_DOC) == []


def test_the_newcomers_path_to_aov_ends_in_the_macro_that_computes_it():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/kpis.md)" in readme
    lines = KPIS_DOC.read_text(encoding="utf-8").splitlines()
    (row,) = [line for line in lines if line.startswith("| `aov` |")]
    assert "(GMV \N{MINUS SIGN} discounts) ÷ valid orders" in row
    assert "(../dbt_models/macros/kpis/order_kpis.sql)" in row
    assert "(../dbt_models/models/marts/kpi/kpi_orders_daily.sql)" in row


def test_a_kpi_that_nothing_computes_fails_the_generator():
    macros = _macros()
    outputs = {path: _macro_outputs(path, macros) for path in sorted(KPI_MACROS_DIR.glob("*.sql"))}
    mart = _model_sql("kpi_orders_daily")
    assert computed_in({"id": "aov"}, mart, {"aov"}, outputs).name == "order_kpis.sql"
    with pytest.raises(DocsError, match="no_such_kpi"):
        computed_in({"id": "no_such_kpi"}, mart, set(), outputs)


def test_every_published_kpi_mart_is_listed():
    listed = published_tables_markdown()
    for table in ("kpi_daily", "kpi_orders_daily", "kpi_campaigns", "dim_kpis", "dim_date"):
        assert f"## `{table}`" in listed


@pytest.mark.parametrize(
    "doc",
    [
        PROJECT_ROOT / "README.md",
        PROJECT_ROOT / "bench" / "README.md",
        *sorted((PROJECT_ROOT / "docs").glob("*.md")),
    ],
    ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix(),
)
def test_the_links_of_the_docs_lead_into_the_repository(doc):
    assert _broken_links(doc) == []


def test_the_readme_is_short_and_stays_inside_the_repository():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 350, "the details belong in docs/"
    assert "http" not in readme and "../" not in readme
