"""The publication SQL (``sql/*.sql``)."""

from dagster_project.sql_templates import SqlTemplates

TEMPLATES = SqlTemplates(__package__)
statement = TEMPLATES.statement
