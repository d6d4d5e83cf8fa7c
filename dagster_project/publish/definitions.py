"""Publish's part of the code location: the published mart (write-audit-publish) and the
report rendered from it."""

import dagster as dg

from dagster_project.publish.assets import kpi_report, publication_asset
from dagster_project.transform.definitions import marts

defs = dg.Definitions(assets=[publication_asset(marts), kpi_report])
