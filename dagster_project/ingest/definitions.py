"""Ingest's part of the code location: a raw asset and a contract check per landing table."""

import dagster as dg

from dagster_project.ingest.assets import raw_assets, raw_checks

defs = dg.Definitions(assets=raw_assets, asset_checks=raw_checks)
