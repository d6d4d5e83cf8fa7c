"""Quality's part of the code location: the Great Expectations audits and the freshness checks
(the raw contract checks come with ingest, dbt's tests with transform)."""

import dagster as dg

from dagster_project.publish.publication import is_published
from dagster_project.quality.checks import audit_checks
from dagster_project.quality.freshness import freshness_checks
from dagster_project.transform.definitions import marts

published_tables = [key.path[-1] for key in marts if is_published(key.path[-1])]

defs = dg.Definitions(asset_checks=[*audit_checks(published_tables), *freshness_checks])
