"""The README's published-table list is generated from the dbt contracts and up to date."""

from dagster_project.cli.docs import README, published_tables_markdown, readme_with_tables


def test_readme_lists_the_published_tables_as_the_contracts_declare_them():
    text = README.read_text(encoding="utf-8")
    assert text == readme_with_tables(text), "run: .venv/bin/python -m dagster_project.cli.docs"


def test_every_published_kpi_mart_is_listed():
    listed = published_tables_markdown()
    for table in ("kpi_daily", "kpi_orders_daily", "kpi_campaigns", "dim_kpis", "dim_date"):
        assert f"<code>{table}</code>" in listed
