"""Freshness: the daily sources and the published mart must be younger than KPI_FRESHNESS_HOURS.

Dagster's own last-update freshness checks (``build_last_update_freshness_checks``), at the
severity ``policy.yml`` gives (WARN: old data is still the truth until new data arrives, so a
stale check never blocks), run hourly by the ``freshness`` job and whenever these assets are
materialized from the UI. A stale check sends an alert (``alert_stale``, called by the
``alert_on_stale_data`` sensor).

Dagster 1.13 supersedes these checks with ``FreshnessPolicy``, which is judged by a daemon on the
last materialization alone and yields no check a job can run or a sensor can alert on; these
checks also read the ``dagster/last_updated_timestamp`` an asset reports, which the raw rule
needs (below).

What Dagster's check cannot express, kept by hand: a raw table materializes at every run, loaded
or not, while its age is that of its newest file with rows; the raw asset computes that from
the load manifest and reports it as ``dagster/last_updated_timestamp`` (``last_load_metadata``),
which Dagster's check then judges. A table that never loaded a row has no such time, and Dagster
would take the materialization's own; it reports ``NEVER`` instead, so that it is stale.
"""

import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from dagster_project.core.alerts import send_alert
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.quality.policy import Policy, current, dagster_severity
from dagster_project.quality.verdict import PUBLISHED_KEY, check_label

# The metadata Dagster's freshness check reads as an asset's last update (its
# asset_check_factories.utils.LAST_UPDATED_TIMESTAMP_METADATA_KEY).
LAST_UPDATED = "dagster/last_updated_timestamp"
# "Never": the epoch's first second (Dagster reads 0 as unset, and would take the
# materialization's own time).
NEVER = 1.0


def last_load_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dg.MetadataValue]:
    """What the raw asset of ``table`` reports for its freshness check: when its newest file
    with rows was loaded (``NEVER`` when none was)."""
    ((newest,),) = con.execute(
        "select max(loaded_at) from raw._load_manifest where table_name = $t and rows_loaded > 0",
        {"t": table},
    ).fetchall()
    return {LAST_UPDATED: dg.MetadataValue.timestamp(newest.timestamp() if newest else NEVER)}


def _checks(
    keys: list[dg.AssetKey], kind: str, policy: Policy, hours: float
) -> list[dg.AssetChecksDefinition]:
    severity = policy.freshness_severity(kind)
    with warnings.catch_warnings():  # superseded by FreshnessPolicy: see the module's docstring
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return list(
            dg.build_last_update_freshness_checks(
                assets=keys,
                lower_bound_delta=timedelta(hours=hours),
                severity=dagster_severity(severity),
                blocking=severity == "block",
            )
        )


def build_freshness_checks(
    policy: Policy | None = None, settings: Settings | None = None
) -> list[dg.AssetChecksDefinition]:
    """A check of each daily raw table and one of the publication, at the policy's severities;
    KPI_FRESHNESS_HOURS (read when the code location loads) sets the age limit."""
    policy = policy or current()
    hours = (settings or Settings.from_env()).freshness_hours
    daily = [dg.AssetKey(["raw", t.name]) for t in contract.tables().values() if t.is_daily]
    return [
        *_checks(daily, "stale_source", policy, hours),
        *_checks([PUBLISHED_KEY], "stale_publication", policy, hours),
    ]


freshness_checks = build_freshness_checks()
FRESHNESS_CHECK_KEYS = {key for checks in freshness_checks for key in checks.check_keys}


def _what(key: dg.AssetKey) -> str:
    return f"raw.{key.path[-1]}" if key.path[0] == "raw" else key.to_user_string()


def _limit_hours(evaluation: dg.AssetCheckEvaluation) -> float:
    """The age limit the check judged by (its freshness parameters)."""
    return evaluation.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"] / 3600


def stale_message(evaluation: dg.AssetCheckEvaluation) -> str:
    """``raw.orders: last at 2025-06-01 10:00 UTC, 27.0 h ago (limit 26 h)``, or ``nothing yet``."""
    what = _what(evaluation.asset_key)
    updated = evaluation.metadata.get(LAST_UPDATED)
    if updated is None or updated.value <= NEVER:
        return f"{what}: nothing yet"
    newest = datetime.fromtimestamp(updated.value, UTC)
    age_hours = (datetime.now(UTC) - newest).total_seconds() / 3600
    limit = _limit_hours(evaluation)
    return f"{what}: last at {newest:%Y-%m-%d %H:%M} UTC, {age_hours:.1f} h ago (limit {limit:g} h)"


def alert_stale(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Send a ``stale_data`` alert for each freshness check the run found stale; their
    messages."""
    messages = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().event_specific_data
        if evaluation.passed or evaluation.asset_check_key not in FRESHNESS_CHECK_KEYS:
            continue
        message = stale_message(evaluation)
        send_alert(
            "stale_data",
            message,
            check=check_label(evaluation),
            run_id=run_id,
            limit_hours=_limit_hours(evaluation),
        )
        messages.append(message)
    return messages
