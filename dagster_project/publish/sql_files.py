"""The publication SQL (``sql/*.sql``)."""

from dagster_project.core.sql import SqlTemplates

TEMPLATES = SqlTemplates(__package__)
statement = TEMPLATES.statement
