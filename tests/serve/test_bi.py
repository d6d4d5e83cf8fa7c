"""`kpi bi` (issue 22): Superset provisioned from the metric definitions on a copy of the
small shop, as a user starts it (`kpi bi --provision-only` on an empty home, then `kpi bi`,
which provisions again in place), read the way its users read it: the chart data API while
publications replace the mart, every chart's numbers against `kpi query` and the mart, SQL
Lab, and every dashboard in headless Chromium."""

from __future__ import annotations

import json
import math
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime

import duckdb
import psutil
import pytest
import requests

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.publish import publication
from dagster_project.publish.publication import published_path
from dagster_project.serve import bi
from dagster_project.serve.metrics import Metrics, meta
from tests.serve.superset import (
    OPEN_RACE_RETRIED,
    Api,
    ChartReader,
    ChartReading,
    Served,
    chromium,
    login_cookies,
)
from tests.serve.superset import serve as serve_superset

pytestmark = pytest.mark.slow

PUBLICATIONS = 3


@pytest.fixture(scope="module")
def settings(small_shop, tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("bi") / "data"
    shutil.copytree(small_shop.data_dir, data_dir, symlinks=True)
    return replace(small_shop, data_dir=data_dir)


@pytest.fixture(scope="module")
def superset(settings, tmp_path_factory) -> Served:
    served = serve_superset(settings.data_dir, tmp_path_factory.mktemp("bi-work"))
    yield served
    served.kill()


@pytest.fixture(scope="module")
def api(superset) -> Api:
    return superset.api()


@pytest.fixture(scope="module")
def planned(settings):
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        targets = [
            k for (k,) in con.execute(f"select distinct kpi_id from {bi.SCORECARD}").fetchall()
        ]
    return bi.plan(Metrics(settings), targets)


def _publish_again(settings: Settings, run_id: str) -> None:
    """What a refresh's last step does (its build and audit leave published/ alone): publish
    the audited build, replacing the mart in one rename, under the warehouse lock."""
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        ((checks,),) = con.execute(
            "select checks_passed from publication_log order by finished_at desc limit 1"
        ).fetchall()
    with warehouse.exclusive(settings, run_id, print):
        publication.publish(settings, run_id, publication.GateResult(checks_passed=checks))


@pytest.fixture(scope="module")
def publications_pass(superset, settings, planned) -> ChartReading:
    """A dashboard user fetching every chart, one after another; three publications of the
    audited build replace the mart along the way, after a quarter, a half and three quarters
    of the charts. (One pass: each of the 85 answers costs Superset about 0.15 s of CPU, and
    `make test` has none to spare; see the closing note of issue 20.)"""
    _, charts = planned
    reader = ChartReader(superset)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        for number in range(PUBLICATIONS):
            while reader.reading.answers < (number + 1) * len(charts) / (PUBLICATIONS + 1):
                assert reader.is_alive() and time.monotonic() < deadline, reader.reading.errors[:3]
                time.sleep(0.1)
            _publish_again(settings, f"bi-loop-{number + 1}")
        while reader.reading.loops < 1:  # the pass, to its end
            assert reader.is_alive() and time.monotonic() < deadline, reader.reading.errors[:3]
            time.sleep(0.1)
    finally:
        reading = reader.stop()
    return reading


def test_every_chart_answers_while_publications_replace_the_mart(
    superset, settings, publications_pass, record_tally
):
    """Zero errors; a connect that met a rename's microseconds retries once
    (bi/superset_config.py) and is counted apart."""
    reading = publications_pass
    races = superset.log.read_text().count(OPEN_RACE_RETRIED)
    record_tally(
        f"superset: a dashboard user while {PUBLICATIONS} publications replaced the mart: "
        f"{reading.answers} chart answers in {reading.loops} pass over every chart, "
        f"{len(reading.errors)} errors, {races} connects met a publication's rename (retried)"
    )
    assert not reading.errors, reading.errors[:5]
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        ((run_id,),) = con.execute(
            "select run_id from publication_log order by finished_at desc limit 1"
        ).fetchall()
    assert run_id == f"bi-loop-{PUBLICATIONS}"


def test_the_home_is_provisioned_from_nothing_with_private_secrets(superset, settings):
    home = settings.bi_home
    assert "admin password, shown once" in superset.provisioned
    for name in ("secret_key", "admin_password"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert (home / "admin_password").read_text().strip() == superset.password
    secret = (home / "secret_key").read_text().strip()
    assert superset.provisioned.count(superset.password) == 1  # shown once, on the terminal
    assert secret not in superset.provisioned
    # and never in a log: Superset's provisioning output, the server's
    for text in ((home / "provision.log").read_text(), superset.log.read_text()):
        assert superset.password not in text and secret not in text
    # the second provisioning (in place) shows no password: it was shown once
    assert "admin password" not in superset.log.read_text()


def test_every_kpi_metric_has_a_chart_on_its_sections_dashboard(settings, planned):
    _, charts = planned
    kpi_metrics = {
        metric.name: meta(metric)["kpi"]["section"]
        for metric in Metrics(settings).manifest.metrics
        if "kpi" in meta(metric)
    }
    charted = {chart.key: chart.sections for chart in charts}
    assert {name: (section,) for name, section in kpi_metrics.items()} == {
        key: sections for key, sections in charted.items() if key in kpi_metrics
    }
    on_dashboards = {section for _, _, sections in bi.DASHBOARDS for section in sections}
    assert set(kpi_metrics.values()) <= on_dashboards


def test_reprovisioning_updates_in_place(api, planned):
    datasets, charts = planned
    assert len(api.listing("chart")) == len(charts)
    assert len(api.listing("dataset")) == len(datasets)
    titles = sorted(d["dashboard_title"] for d in api.listing("dashboard"))
    assert titles == sorted(f"KPI · {title}" for _, title, _ in bi.DASHBOARDS)
    (database,) = api.listing("database")
    assert database["database_name"] == bi.DATABASE_NAME


def test_each_dashboard_filters_by_what_its_tables_are_keyed_by(api):
    """The date range everywhere; the session's channel and platform where the charts' tables
    are keyed by them; the ticket's service channel (a column named channel too) on the
    service dashboard only."""
    found = {}
    for listed in api.listing("dashboard"):
        dashboard = api.get(f"/api/v1/dashboard/{listed['id']}").json()["result"]
        filters = json.loads(dashboard["json_metadata"])["native_filter_configuration"]
        found[dashboard["slug"]] = [f["name"] for f in filters]
    by_session = ["Date range", "Channel", "Platform"]
    assert found == {f"kpi-{slug}": ["Date range"] for slug, _, _ in bi.DASHBOARDS} | {
        "kpi-traffic": by_session,
        "kpi-orders": by_session,
        "kpi-service": ["Date range", "Service channel"],
    }


def _key(value):
    """A group's value as text; a time (Superset's epoch milliseconds, MetricFlow's datetime,
    DuckDB's date) as its ISO day."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _superset_key(row: dict, chart: bi.Chart, temporal: set[str]) -> tuple:
    """The row's group: its time (and any date it is grouped by), which Superset gives in
    epoch milliseconds, as an ISO day."""
    columns = ([chart.time] if chart.time else []) + list(chart.group_by)
    return tuple(
        datetime.fromtimestamp(row[c] / 1000, UTC).date().isoformat() if c in temporal else row[c]
        for c in columns
    )


def _same(found, expected) -> bool:
    if found is None or expected is None:
        return found is None and expected is None
    return math.isclose(float(found), float(expected), rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def published_columns(settings) -> dict[str, dict[str, str]]:
    """The published mart's tables: {column: type}."""
    columns: dict[str, dict[str, str]] = {}
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from information_schema.columns"
        ).fetchall():
            columns.setdefault(table, {})[column] = data_type
    return columns


def _superset_answer(rows: list[dict], chart: bi.Chart, columns: dict) -> dict[tuple, tuple]:
    """A chart's rows from the chart data API: group (as `_superset_key`): metric values."""
    types = columns[chart.table]
    temporal = {column for column, type_ in types.items() if type_ in ("DATE", "TIMESTAMP")}
    return {
        _superset_key(row, chart, temporal): tuple(row[m] for m in chart.metrics) for row in rows
    }


def _kpi_query(metrics: Metrics, chart: bi.Chart, where=()) -> dict[tuple, tuple]:
    """`kpi query`'s answer for the chart's metrics at its grain and keys: group: values."""
    group_by = ([f"metric_time__{chart.grain}"] if chart.time else []) + list(chart.dimensions)
    answer = metrics.query(list(chart.metrics), group_by, where=where)
    width = len(group_by)
    return {tuple(_key(v) for v in row[:width]): row[width:] for row in answer.rows}


def _on_dashboard(charts: list[bi.Chart], slug: str) -> list[bi.Chart]:
    """The charts of the dashboard ``slug``: those of its catalogue sections."""
    (sections,) = [sections for name, _, sections in bi.DASHBOARDS if name == slug]
    return [chart for chart in charts if set(chart.sections) & set(sections)]


def test_every_chart_answers_with_the_numbers_of_kpi_query_and_the_mart(
    settings, api, planned, publications_pass, published_columns
):
    """Each chart's answer in the pass above (every publication there is of the same build)
    against `kpi query` for the same metrics, grain and keys, and against the mart for the
    scorecard's charts."""
    _, charts = planned
    ids = {chart["slice_name"]: chart["id"] for chart in api.listing("chart")}
    metrics = Metrics(settings)
    mismatches, empty, compared = [], [], set()
    for chart in charts:
        rows = publications_pass.data.get(ids[chart.title])
        if rows is None:
            mismatches.append(f"{chart.key}: no answer in the pass")
            continue
        if not rows:
            empty.append(chart.key)
            continue
        found = _superset_answer(rows, chart, published_columns)
        if set(chart.metrics) <= set(bi.SCORECARD_METRICS):
            columns = ([chart.time] if chart.time else []) + list(chart.group_by)
            expected = _scorecard(settings, chart, columns)
        else:
            expected = _kpi_query(metrics, chart)
        if set(found) != set(expected):
            differing = sorted(set(found) ^ set(expected), key=repr)[:4]
            mismatches.append(f"{chart.key}: groups only one side has: {differing}")
            continue
        for key, values in found.items():
            compared.add(chart.key)
            if not all(_same(f, e) for f, e in zip(values, expected[key], strict=True)):
                mismatches.append(f"{chart.key} {key}: {values} != {expected[key]}")
    assert not mismatches, "\n".join(mismatches[:20])
    assert not empty, f"charts without a row: {empty}"
    assert compared == {chart.key for chart in charts}  # every chart, some numbers each


def _scorecard(settings: Settings, chart: bi.Chart, columns: list[str]) -> dict:
    where = " and ".join(f"{column} = '{value}'" for column, value in chart.where) or "true"
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(columns)}, {', '.join(f'max({m})' for m in chart.metrics)}"
            f" from {bi.SCORECARD} where {where} group by all"
        ).fetchall()
    return {tuple(_key(v) for v in row[: len(columns)]): row[len(columns) :] for row in rows}


def _database_id(api: Api) -> int:
    (database,) = api.listing("database")
    return database["id"]


def _sql_lab(api: Api, database_id: int, sql: str) -> requests.Response:
    return api.post(
        "/api/v1/sqllab/execute/",
        {"database_id": database_id, "sql": sql, "runAsync": False, "schema": bi.SCHEMA},
    )


def test_sql_lab_reads_the_mart_and_nothing_else(api, settings):
    database_id = _database_id(api)
    read = _sql_lab(api, database_id, "select sum(orders) as orders from kpi_orders_daily")
    assert read.status_code == 200, read.text[:500]
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        (orders,) = con.execute("select sum(orders) from kpi_orders_daily").fetchone()
    assert read.json()["data"] == [{"orders": orders}]
    writes = ["create table hacked as select 1 as x", "delete from kpi_orders_daily"]
    for sql in writes:
        refused = _sql_lab(api, database_id, sql)
        assert refused.status_code >= 400, (sql, refused.text[:300])
    refused = _sql_lab(api, database_id, "select * from read_csv('/etc/passwd')")
    assert refused.status_code >= 400, refused.text[:300]
    # an admin who allows DML in Superset still meets a read-only connection
    allowed = api.put(f"/api/v1/database/{database_id}", {"allow_dml": True})
    assert allowed.status_code == 200, allowed.text[:300]
    try:
        for sql in writes:
            refused = _sql_lab(api, database_id, sql)
            assert refused.status_code >= 400, (sql, refused.text[:300])
            assert "read-only" in refused.text, (sql, refused.text[:300])
    finally:
        api.put(f"/api/v1/database/{database_id}", {"allow_dml": False})
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        assert con.execute("select sum(orders) from kpi_orders_daily").fetchone() == (orders,)
        tables = [t for (t,) in con.execute("show tables").fetchall()]
    assert "hacked" not in tables


FILTERED = "orders"  # the dashboard opened with its Channel filter set


def test_every_dashboard_shows_every_chart_drawn(
    superset, api, planned, settings, published_columns, tmp_path
):
    """Each dashboard as its user opens it, logged in, in headless Chromium: its title, and
    every chart it holds drawn (a canvas or a table), none "No results", none an error; and a
    screenshot of each (one browser, the eight dashboards one after another). The orders
    dashboard opens with its Channel filter set to the busiest channel, as a link to it
    carries it: the filter shows that channel, and exactly the charts whose table has the
    column say the filter narrowed them (the others, monthly rates, cohorts and targets,
    ignore it)."""
    _, charts = planned
    (aov,) = [chart for chart in charts if chart.key == "aov"]
    chinese = aov.title.split(" · ")[1]  # its title: the KPI's English and Chinese names
    channel = _busiest_channel(settings)
    cookies = login_cookies(superset.base, bi.ADMIN, superset.password)
    expected, shown = {}, {}
    with chromium(cookies, superset.base) as browser:
        for slug, title, _ in bi.DASHBOARDS:
            on = _on_dashboard(charts, slug)
            address = f"{superset.base}/superset/dashboard/kpi-{slug}/"
            narrowed, chosen = 0, []
            if slug == FILTERED:
                address += f"?native_filters={_channel_filter(slug, channel)}"
                narrowed = sum("channel" in published_columns[c.table] for c in on)
                chosen = [channel]
            expected[slug] = (f"KPI · {title}", len(on), len(on), 0, 0, narrowed, chosen, True)
            state = browser.open_dashboard(address, len(on), tuple(chosen))
            screenshot = browser.screenshot()
            (tmp_path / f"{slug}.png").write_bytes(screenshot)
            if aov in on:
                aov_fonts = browser.fonts_drawing(aov.title)
            shown[slug] = (
                state.title,
                state.charts,
                state.drawn,
                state.no_results,
                state.errors,
                state.filtered,
                state.chosen,
                len(screenshot) > 10_000,  # a page, not a blank
            )
    assert expected[FILTERED][5] > 0  # charts the filter narrows
    assert shown == expected
    # The Chinese name drawn in a font that has its characters, not as boxes: Chromium falls
    # back from the page's Latin font to a system font for them, with or without the glyphs
    # (CI installs a CJK font beside Chromium, as a Chinese-reading user's machine has one).
    latin = len(aov.title) - len(chinese)
    (drawn_by,) = [family for family, glyphs in aov_fonts.items() if glyphs != latin]
    assert aov_fonts[drawn_by] == len(chinese), aov_fonts
    assert drawn_by in _families_with(chinese), (drawn_by, aov_fonts)


def _busiest_channel(settings: Settings) -> str:
    """The channel with the most orders."""
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        ((channel,),) = con.execute(
            "select channel from kpi_orders_daily group by channel"
            " order by sum(orders) desc, channel limit 1"
        ).fetchall()
    return channel


def _channel_filter(slug: str, channel: str) -> str:
    """A dashboard's Channel filter set to ``channel``, in rison, as Superset's address
    carries native filters (``?native_filters=``)."""
    assert channel.replace("_", "").isalnum(), channel  # needs no quoting in rison
    name = f"NATIVE_FILTER-{slug}-channel"
    return (
        f"({name}:(extraFormData:(filters:!((col:channel,op:IN,val:!({channel})))),"
        f"filterState:(label:{channel},value:!({channel})),id:{name},ownState:()))"
    )


def test_the_channel_filter_answers_kpi_query_for_that_channel(
    settings, api, planned, published_columns
):
    """What the orders dashboard's Channel filter asks of each of its charts whose table has
    the column (the chart's own query with ``channel IN (x)`` added, as the page above sends
    it) answers `kpi query`'s numbers for that channel."""
    _, charts = planned
    channel = _busiest_channel(settings)
    narrowed = [
        c for c in _on_dashboard(charts, FILTERED) if "channel" in published_columns[c.table]
    ]
    ids = {chart["slice_name"]: chart["id"] for chart in api.listing("chart")}
    metrics = Metrics(settings)
    mismatches = []
    for chart in narrowed:
        context = json.loads(
            api.get(f"/api/v1/chart/{ids[chart.title]}").json()["result"]["query_context"]
        )
        for query in context["queries"]:
            query["filters"] = [
                *query.get("filters", []),
                {"col": "channel", "op": "IN", "val": [channel]},
            ]
        answered = api.post("/api/v1/chart/data", context)
        assert answered.status_code == 200, answered.text[:500]
        (result,) = answered.json()["result"]
        found = _superset_answer(result["data"], chart, published_columns)
        wanted = _kpi_query(metrics, chart, where=[f"{{{{ Entity('channel') }}}} = '{channel}'"])
        if (
            not found
            or set(found) != set(wanted)
            or not all(
                _same(f, w) for key in found for f, w in zip(found[key], wanted[key], strict=True)
            )
        ):
            mismatches.append(
                f"{chart.key}: {sorted(found.items())[:3]} != {sorted(wanted.items())[:3]}"
            )
    assert len(narrowed) >= 5 and not mismatches, (len(narrowed), mismatches)


def _families_with(text: str) -> set[str]:
    """The installed font families (fontconfig's) that have every character of ``text``."""
    charset = " ".join(f"{ord(character):x}" for character in set(text))
    listed = subprocess.run(
        ["fc-list", f":charset={charset}", "family"], capture_output=True, text=True, check=True
    ).stdout
    return {name for line in listed.splitlines() for name in line.split(",")}


def test_ctrl_c_stops_superset_and_everything_it_started(superset):
    family = psutil.Process(superset.process.pid).children(recursive=True)
    assert family, "kpi bi started no server"
    superset.process.send_signal(signal.SIGINT)  # SIGTERM: kpi ui's test, same supervisor
    assert superset.process.wait(60) == -signal.SIGINT
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, alive
