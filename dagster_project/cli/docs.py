"""The README's list of published tables, generated from the dbt model YAML (the contracts).

BI users read table and column names, types and meanings from the README; they come from the
same YAML that dbt enforces as contracts, so the two cannot drift. Regenerate with
``python -m dagster_project.cli.docs`` (a test fails when the README is out of date).
"""

import yaml

from dagster_project.core.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from dagster_project.publish.publication import is_published

README = PROJECT_ROOT / "README.md"
START, END = "<!-- published-tables:start -->", "<!-- published-tables:end -->"


def _models() -> dict[str, dict]:
    models = {}
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").rglob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            if is_published(model["name"]) and model.get("columns"):
                models[model["name"]] = model
    return models


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def published_tables_markdown() -> str:
    sections = []
    for name, model in sorted(_models().items()):
        rows = [
            f"| `{c['name']}` | {c.get('data_type', '')} | {_one_line(c.get('description'))} |"
            for c in model["columns"]
        ]
        sections.append(
            f"<details><summary><code>{name}</code> — {_one_line(model.get('description'))}"
            "</summary>\n\n| column | type | description |\n|---|---|---|\n"
            + "\n".join(rows)
            + "\n\n</details>"
        )
    return "\n\n".join(sections)


def readme_with_tables(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{published_tables_markdown()}\n{END}{tail}"


def main() -> None:
    README.write_text(readme_with_tables(README.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
