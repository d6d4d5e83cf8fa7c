"""`kpi`: the command line."""

from dagster_project.cli.main import main

__all__ = ["main"]
