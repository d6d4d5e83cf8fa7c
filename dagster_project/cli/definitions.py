"""The command line's part of the code location: the logger `kpi refresh` configures (runs
that configure no logger, the daemon's and the UI's, get Dagster's console logger)."""

import dagster as dg

from dagster_project.cli.console import LOGGER, kpi_console

defs = dg.Definitions(loggers={"console": dg.colored_console_logger, LOGGER: kpi_console})
