"""The HTML KPI report, rendered from a hand-made published mart (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest

from dagster_project.report import figures, render_report, sections
from dagster_project.report.sections import SECTIONS, TARGETS, TILES, ChartSpec

OPTIONAL_PARTS = {"experiments", "delivery_on_time", "csat_nps", "scorecard"}
ALL_CHARTS = {part.id for s in SECTIONS for part in s.parts if isinstance(part, ChartSpec)}
CORE_CHARTS = ALL_CHARTS - OPTIONAL_PARTS
GENERATED_AT = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)


def render(mart: Path, tmp_path: Path, **kwargs):
    out = tmp_path / "report" / "kpi_report.html"
    summary = render_report(mart, out, generated_at=GENERATED_AT, **kwargs)
    return summary, out.read_text(encoding="utf-8")


def report_data(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert found, "the report embeds no #report-data JSON"
    return json.loads(found.group(1))


def charts(data: dict) -> dict[str, dict]:
    return {chart["id"]: chart for chart in data["charts"]}


def tiles(data: dict) -> dict[str, dict]:
    return {tile["kpi_id"]: tile for tile in data["tiles"]}


def part_html(html: str, part_id: str) -> str:
    found = re.search(rf'<article[^>]*id="part-{part_id}".*?</article>', html, re.S)
    assert found, f"no card for {part_id}"
    return found.group(0)


# ----------------------------------------------------------------------------- queries


def test_a_query_is_given_the_parameters_it_names_by_whole_name():
    """The report reads its SQL with the pipeline's one loader (core/sql.py). A query gets the
    parameters it names, and no other: DuckDB refuses an unused one, and ``$sche`` is not
    named by ``$schema``."""
    from dagster_project.report.render import SQL

    with duckdb.connect() as con:
        con.execute("create table t (x integer)")
        params = {"schema": "main", "sche": "x", "as_of": dt.date(2025, 7, 1)}
        assert SQL.query(con, "tables.sql", params).fetchall() == [("t",)]


# ------------------------------------------------------------------------ self-contained


def test_report_needs_no_network(core_mart, tmp_path):
    _, html = render(core_mart, tmp_path)

    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""\b(src|href)\s*=|@import|url\((?!#)""", html)
    assert "<svg" in html and "<style>" in html


def test_the_report_is_replaced_whole(core_mart, tmp_path):
    summary, _ = render(core_mart, tmp_path)

    assert [p.name for p in summary.out_file.parent.iterdir()] == ["kpi_report.html"]


# ---------------------------------------------------------------------------- chart data


def test_every_chart_is_embedded_with_points(core_mart, tmp_path):
    summary, html = render(core_mart, tmp_path)
    data = report_data(html)

    assert set(charts(data)) == CORE_CHARTS
    assert summary.point_counts == {
        chart["id"]: sum(len(s["points"]) for s in chart["series"]) for chart in data["charts"]
    }
    assert all(count >= 1 for count in summary.point_counts.values())
    for chart in data["charts"]:
        assert chart["title"] and chart["series"]
        assert all({"x", "y"} <= set(p) for s in chart["series"] for p in s["points"])


def test_tiles_compare_the_latest_28_days_with_the_28_before(core_mart, tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_CURRENCY", "EUR")
    summary, html = render(core_mart, tmp_path)
    by_id = tiles(report_data(html))

    assert summary.tiles == tuple(by_id)
    expected = {
        "sessions": (3360, "3,360", "+20.0%"),
        # 168 purchasing sessions of 3,360: not the 5.71% mean of the daily rates
        "session_conversion_rate": (0.05, "5.00%", "+2.00 pp"),
        "orders": (168, "168", "+100.0%"),
        "net_revenue": (15120, "EUR 15,120", "+80.0%"),
        "aov": (100, "EUR 100.00", "\u22129.1%"),
        "repurchase_rate_90d": (0.30, "30.0%", "+5.00 pp"),
        "inventory_turnover_days": (45, "45.0 days", "\u221225.0%"),
        "roas": (9, "9.00", "+80.0%"),
    }
    for kpi_id, (value, value_text, change_text) in expected.items():
        tile = by_id[kpi_id]
        assert tile["value"] == pytest.approx(value), kpi_id
        assert (tile["value_text"], tile["change_text"]) == (value_text, change_text), kpi_id
    assert by_id["repurchase_rate_90d"]["period"] == "Latest complete cohort: Mar 2025"
    assert by_id["sessions"]["period"] == "28 days, Jun 3 \u2013 Jun 30, 2025"


def test_a_lower_is_better_kpi_that_fell_is_shown_as_good(core_mart, tmp_path):
    _, html = render(core_mart, tmp_path)

    turnover = re.search(r'id="tile-inventory_turnover_days".*?</div>\s*</div>', html, re.S)
    assert 'class="change good"' in turnover.group(0)
    aov = re.search(r'id="tile-aov".*?</div>\s*</div>', html, re.S)
    assert 'class="change bad"' in aov.group(0)


def test_charts_hold_the_hand_computed_values(core_mart, tmp_path):
    _, html = render(core_mart, tmp_path)
    by_id = charts(report_data(html))

    traffic = {s["name"]: s["points"] for s in by_id["traffic_by_channel"]["series"]}
    # 61 days hold 8 whole weeks, Monday to Sunday, May 5 - Jun 29; May 1-4 and the as-of date
    # (a Monday) are partial weeks, left out. The last week, Jun 23-29: organic sessions are
    # 100 - 40 on its 3 even days and 140 - 40 on its 4 odd ones.
    assert [len(points) for points in traffic.values()] == [8, 8]
    assert traffic["organic search"][-1] == {"x": "2025-06-29", "y": 3 * 60 + 4 * 100}
    assert traffic["paid search"][-1] == {"x": "2025-06-29", "y": 7 * 40}
    assert list(traffic) == ["organic search", "paid search"]  # the most sessions first

    funnel = by_id["funnel"]["series"][0]["points"]
    assert [(p["x"], p["y"]) for p in funnel] == [
        ("sessions", 2800),
        ("product_view", 1680),
        ("add_to_cart", 840),
        ("begin_checkout", 420),
        ("purchase", 140),
    ]
    assert funnel[-1]["step_rate"] == pytest.approx(1 / 3)
    assert funnel[-1]["cumulative_rate"] == pytest.approx(0.05)

    orders = {s["kpi_id"]: s for s in by_id["orders_aov"]["series"]}
    assert orders["orders"]["points"][-1]["y"] == 42
    assert orders["aov"]["points"][-1]["y"] == pytest.approx(100)
    assert orders["aov"]["axis"] == "right" and orders["aov"]["unit"] == "currency"

    cohorts = by_id["repurchase_cohorts"]["series"][0]
    assert cohorts["name"] == "All customers"
    assert [p["is_partial"] for p in cohorts["points"]] == [False] * 3 + [True] * 3

    turnover = by_id["turnover_days_by_category"]["series"][0]["points"]
    assert [(p["x"], p["y"], p["is_reference"]) for p in turnover] == [
        ("Apparel", 52, False),
        ("Whole shop", 45, True),
        ("Home", 31, False),
    ]
    assert "Jun 2025" in by_id["turnover_days_by_category"]["subtitle"]

    returns = {
        s["name"]: [(p["x"], p["y"]) for p in s["points"]]
        for s in by_id["campaign_returns"]["series"]
    }
    assert returns == {
        "ROAS": [("Newsletter", 12.0), ("Summer Search", 6.0)],
        "ROI": [("Newsletter", 9.0), ("Summer Search", 5.0)],
    }


# ------------------------------------------------------------------------ optional parts


def test_a_week_without_orders_is_drawn_as_zero_orders(core_mart, tmp_path):
    # the shop's last orders two weeks before the as-of date (Olist: orders end 2017-12-31,
    # deliveries 2018-03-27): the chart still shows its whole weeks, those two with 0 orders
    with duckdb.connect(str(core_mart)) as con:
        con.execute("delete from kpi_orders_daily where kpi_date > date '2025-06-15'")
    _, html = render(core_mart, tmp_path)
    orders = {s["kpi_id"]: s["points"] for s in charts(report_data(html))["orders_aov"]["series"]}
    assert [p["x"] for p in orders["orders"]][-3:] == ["2025-06-15", "2025-06-22", "2025-06-29"]
    assert [p["y"] for p in orders["orders"]][-3:] == [42, 0, 0]
    assert [p["y"] for p in orders["aov"]][-2:] == [None, None]


def test_absent_tables_are_reported_not_drawn_empty(core_mart, tmp_path):
    summary, html = render(core_mart, tmp_path)
    data = report_data(html)

    assert set(summary.unavailable) == OPTIONAL_PARTS
    assert {part["id"] for part in data["unavailable"]} == OPTIONAL_PARTS
    assert not OPTIONAL_PARTS & set(charts(data))
    for part_id in OPTIONAL_PARTS:
        card = part_html(html, part_id)
        assert "Not available in this publication" in card
        assert "<svg" not in card and "<table" not in card
    assert "Unpublished build" in html
    assert not summary.is_published and summary.as_of_date == dt.date(2025, 6, 30)
    assert tiles(data)["sessions"]["attainment"] is None


def test_optional_tables_render_when_published(full_mart, tmp_path):
    summary, html = render(full_mart, tmp_path)
    data = report_data(html)
    by_id = charts(data)

    assert summary.unavailable == () and summary.failed == ()
    assert set(by_id) == ALL_CHARTS

    lifts = by_id["experiments"]["series"][0]["points"]
    assert [(p["x"], p["y"], p["y_low"], p["y_high"]) for p in lifts] == [
        ("EXP-01 · treatment", 0.015, 0.0012, 0.0288),
        ("EXP-02 · treatment", -0.004, -0.025, 0.017),
    ]
    delivery = {s["name"]: s["points"][-1]["y"] for s in by_id["delivery_on_time"]["series"]}
    assert delivery == {"SF Express": pytest.approx(0.9), "ZTO": pytest.approx(0.8)}
    service = {s["name"]: s for s in by_id["csat_nps"]["series"]}
    assert service["CSAT"]["points"][-1]["y"] == pytest.approx(0.8)
    assert service["NPS"]["points"][-1]["y"] == pytest.approx(30)
    assert service["NPS"]["axis"] == "right"

    (scorecard,) = data["tables"]
    assert {(row["owner_team"], row["kpi_id"]) for row in scorecard["rows"]} == {
        ("Acquisition", "sessions"),
        ("Growth", "sessions"),
        ("Growth", "roas"),
        ("Merchandising", "inventory_turnover_days"),
    }
    card = part_html(html, "scorecard")
    assert "Team total" in card and "106.0" in card and "111.1" in card
    assert "(channel: paid_search)" in card

    assert tiles(data)["sessions"]["attainment"] == pytest.approx(1.1667)
    assert "117% of Jun target 3,000" in html


def test_the_latest_publication_is_shown(full_mart, tmp_path):
    summary, html = render(full_mart, tmp_path)

    assert summary.is_published
    assert report_data(html)["publication"]["run_id"] == "run-2"
    status = re.search(r'id="publication".*?</div>', html, re.S).group(0)
    assert "Published" in status and "<strong>42</strong> checks passed" in status
    assert "Unpublished" not in html


def test_a_table_with_unexpected_columns_does_not_break_the_report(core_mart, tmp_path):
    with duckdb.connect(str(core_mart)) as con:
        con.execute("create table kpi_experiments (experiment_id varchar, lift double)")
    summary, html = render(core_mart, tmp_path)

    assert [part_id for part_id, _ in summary.failed] == ["experiments"]
    assert "Could not be read" in part_html(html, "experiments")
    assert set(summary.point_counts) == CORE_CHARTS


def test_a_table_without_rows_shows_no_data(core_mart, tmp_path):
    with duckdb.connect(str(core_mart)) as con:
        con.execute("delete from kpi_campaigns")
    summary, html = render(core_mart, tmp_path)

    assert "campaign_returns" in summary.unavailable
    assert "No data" in part_html(html, "campaign_returns")


def test_the_schema_is_a_parameter(mart_builder, tmp_path):
    mart = mart_builder(tmp_path / "build.duckdb", schema="marts")
    summary, _ = render(mart, tmp_path, schema="marts")

    assert set(summary.point_counts) == CORE_CHARTS
    with pytest.raises(ValueError, match="schema"):
        render(mart, tmp_path, schema="marts; drop table x")


def test_the_mart_is_opened_read_only(core_mart, tmp_path):
    with duckdb.connect(str(core_mart), read_only=True) as reader:
        render(core_mart, tmp_path)  # a second read-only opener is fine; a writer would fail
        assert reader.execute("select count(*) from kpi_daily").fetchone()[0] > 0


def test_every_declared_part_names_its_query(core_mart):
    """A query of the metrics (figures.py) or of rows in sql/, never both."""
    sql_dir = Path(__file__).parents[2] / "dagster_project" / "report" / "sql"
    queries = [p for s in SECTIONS for p in s.parts] + [*TILES, TARGETS]
    for part in queries:
        in_sql = (sql_dir / f"{part.query}.sql").is_file()
        in_figures = part.query in figures.CHARTS or part.query in figures.TILES
        assert in_sql != in_figures, part.query
    assert {p.query for p in queries} >= set(figures.CHARTS) | set(figures.TILES)


def test_the_demo_report_shows_what_kpi_query_answers(demo_pipeline):
    """The refresh's report of the demo shop: its weekly conversion, orders and AOV and its
    window tiles are the metrics' answers (what `kpi query` prints), not a second sum."""
    from dagster_project.serve.metrics import Metrics

    data = report_data(demo_pipeline.report_file.read_text(encoding="utf-8"))
    metrics = Metrics(demo_pipeline)
    by_id = charts(data)
    (shop,) = [s for s in by_id["conversion_trend"]["series"] if s["name"] == "All sessions"]
    (orders,) = [s for s in by_id["orders_aov"]["series"] if s["kpi_id"] == "aov"]
    first, last = (
        dt.date.fromisoformat(p["x"]) - dt.timedelta(days=6)
        for p in (shop["points"][0], shop["points"][-1])
    )
    answer = metrics.query(
        ["session_conversion_rate", "aov"],
        ["metric_time__week"],
        start=dt.datetime.combine(first, dt.time()),
        end=dt.datetime.combine(last + dt.timedelta(days=6), dt.time()),
    )
    weeks = {(row[0].date() + dt.timedelta(days=6)).isoformat(): row[1:] for row in answer.rows}
    assert len(shop["points"]) == sections.TREND_WEEKS == len(weeks)
    assert {p["x"]: p["y"] for p in shop["points"]} == pytest.approx(
        {x: float(w[0]) for x, w in weeks.items()}, rel=1e-12
    )
    assert {p["x"]: p["y"] for p in orders["points"]} == pytest.approx(
        {x: float(w[1]) for x, w in weeks.items()}, rel=1e-12
    )
    assert dt.date.fromisoformat(shop["points"][-1]["x"]).weekday() == 6  # a Sunday

    as_of = dt.date.fromisoformat(data["as_of_date"])
    window = [dt.datetime.combine(as_of - dt.timedelta(days=d), dt.time()) for d in (27, 0)]
    tile_ids = ["sessions", "session_conversion_rate", "orders", "net_revenue", "aov", "roas"]
    ((*values,),) = metrics.query(tile_ids, [], start=window[0], end=window[1]).rows
    by_tile = tiles(data)
    assert [by_tile[kpi_id]["value"] for kpi_id in tile_ids] == pytest.approx(
        [float(value) for value in values], rel=1e-12
    )


# ---------------------------------------------------------------------------- screenshot


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium binary")
def test_the_page_renders_to_a_non_blank_screenshot(full_mart, tmp_path):
    summary, _ = render(full_mart, tmp_path)
    png = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--hide-scrollbars",
            "--force-device-scale-factor=0.5",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            summary.out_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    width, height, pixels = decode_png(png.read_bytes())

    colours = set(pixels)
    non_white = sum(1 for p in pixels if p[:3] != (255, 255, 255) and sum(p[:3]) < 700)
    assert width >= 500 and height >= 700
    assert len(colours) > 200, "the page looks blank"
    assert non_white > 0.05 * len(pixels)
    # the chart colours are there, not just text
    assert any(
        abs(r - 0x00) < 12 and abs(g - 0x72) < 12 and abs(b - 0xB2) < 12 for r, g, b, *_ in colours
    )


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Pixels of an 8-bit, non-interlaced RGB(A) PNG (what Chromium writes), row by row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    bpp = 4 if colour_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                corner = previous[i - bpp] if i >= bpp else 0
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                best = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + best) & 0xFF
        pixels.extend(tuple(line[i : i + bpp]) for i in range(0, stride, bpp))
        previous = line
    return width, height, pixels
