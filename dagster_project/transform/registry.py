"""The KPI registry as the dbt project defines it, read from its YAML (no dbt import).

A KPI is defined once. Most KPIs are metrics of the semantic layer: the metric's name is the
KPI's id and its ``config.meta.kpi`` holds the catalogue's fields (``_*__semantic.yml`` beside
the marts). The three per product that are not metrics (a stage, a flag, a launch ratio) are in
``dim_kpis``'s own ``meta.kpis``. dim_kpis.sql reads the same two places from dbt's graph.
"""

from pathlib import Path
from typing import Any

import yaml

from dagster_project.core.settings import DBT_PROJECT_DIR

KPI_MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts" / "kpi"
DIM_KPIS_YAML = KPI_MARTS_DIR / "_kpi__registry.yml"
# The sections of the department's KPI catalogue (a KPI's `section`).
SECTIONS = {
    1: "Traffic",
    2: "Conversion",
    3: "A/B tests",
    4: "Orders & customers",
    5: "Merchandise & inventory",
    6: "Supply chain & logistics",
    7: "Marketing campaigns",
    8: "Customer service",
    9: "Scorecard",
}
# the catalogue's fields of a KPI, besides its id
FIELDS = (
    "section",
    "name",
    "name_zh",
    "unit",
    "higher_is_better",
    "grain",
    "mart",
    "formula",
    "sources",
)


def semantic_files() -> list[Path]:
    return sorted(KPI_MARTS_DIR.rglob("_*__semantic.yml"))


def dim_kpis_model() -> dict[str, Any]:
    """dim_kpis's model YAML."""
    models = yaml.safe_load(DIM_KPIS_YAML.read_text(encoding="utf-8"))["models"]
    (model,) = (m for m in models if m["name"] == "dim_kpis")
    return model


def kpis() -> list[dict[str, Any]]:
    """Every KPI: its id and FIELDS, the metrics' in file order, then dim_kpis's own."""
    found = []
    for path in semantic_files():
        for metric in yaml.safe_load(path.read_text(encoding="utf-8")).get("metrics") or []:
            kpi = ((metric.get("config") or {}).get("meta") or {}).get("kpi")
            if kpi is not None:
                found.append({"id": metric["name"], **kpi})
    return found + list(dim_kpis_model()["config"]["meta"]["kpis"])
