"""Issue 8 §3 and §4 on the shared small shop (crash_helpers.shared_history): run A published
days 1-6; then, with 4 reader processes querying the published mart throughout, three
consecutive refreshes: B (``--date`` day 7), C (``--date`` day 7 again: the same inputs) and D
(``--date`` day 6, after day 6's orders file was re-delivered with one order's discount
1.00 higher and a newer mtime).

§3 Concurrent readers: each query is a new read-only connection that reads the newest
publication_log entry, every table's row count and a fingerprint of kpi_daily in one statement;
its counts must equal that entry's rows_per_table (one publication, not a mix). Zero errors
(a connect that fails before reading anything because it straddled the rename is counted apart:
tests/publish/reader.py, OPEN_RACE);
every reader sees the publications of A, B, C and D in that order (never an older one after a
newer one), each with a single fingerprint.

§4 Idempotency and determinism: B and C publish identical tables (content hashes of every
table, in the mart and in Parquet) and leave identical raw tables and facts. The re-delivered
file changes only its day: in the build, only that file's rows and manifest entry, and in the
facts only the changed order; in the publication, rows of other days of every daily table
(``kpi_date``) are identical, day 6's order KPIs move by exactly the discount, dimensions are
identical, and every other changed row belongs to day 6's week or month, to the order's
products or to the campaigns whose day-3 rows changed.

Tallies ``readers: ...`` and ``idempotency: ...`` (tests/conftest.py, record_tally).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import duckdb
import pytest

from tests.reliability.crash_helpers import (
    READERS,
    REDELIVERED_DAY,
    float_only_difference,
    shared_history,
)

MIN_ANSWERS = 100  # per reader, over the three refreshes
PERIOD_COLUMNS = {
    "kpi_month": "month",
    "month": "month",
    "cohort_month": "month",
    "launch_month": "month",
    "week_start": "week",
}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    history = shared_history(tmp_path_factory)
    history.wait()
    return history


def test_four_readers_see_one_whole_publication_per_query(history, record_tally):
    expected = [history.run_a_id, *(history.runs[r].run_id for r in "BCD")]
    results = history.reader_results
    passed = 0
    problems = []
    for n, result in enumerate(results, start=1):
        order = [run_id for run_id, _, _ in result["seen"]]
        mine = []
        if result["errors"]:
            mine.append(f"{len(result['errors'])} errors, e.g. {result['errors'][:3]}")
        if result["answers"] < MIN_ANSWERS:
            mine.append(f"only {result['answers']} answers")
        if order != expected:
            mine.append(f"saw publications {order}, expected {expected} in that order")
        mixed = {run_id: prints for run_id, _, prints in result["seen"] if len(prints) != 1}
        if mixed:
            mine.append(f"one run id, several contents: {mixed}")
        passed += not mine
        problems += [f"reader {n}: {p}" for p in mine]
    answers = sum(r["answers"] for r in results)
    errors = sum(len(r["errors"]) for r in results)
    open_races = sum(r["open_races"] for r in results)
    seconds = {r: round(history.runs[r].seconds) for r in "BCD"}
    record_tally(
        f"readers: {len(results)} readers during 3 refreshes ({seconds} s, after run A "
        f"{history.run_a_seconds:.0f} s): "
        f"{answers} queries ({', '.join(str(r['answers']) for r in results)}), {errors} errors, "
        f"{open_races} connects lost the open race (retried), "
        f"publications seen per reader {[len(r['seen']) for r in results]}; "
        f"passed {passed}/{len(results)}"
    )
    assert len(results) == READERS
    assert not problems, "\n".join(problems)


def _differing(found: dict, expected: dict) -> list[str]:
    return sorted(t for t in set(found) | set(expected) if found.get(t) != expected.get(t))


def test_two_refreshes_on_the_same_inputs_publish_identical_tables(history, record_tally):
    b, c = history.runs["B"], history.runs["C"]
    comparisons = {
        "published tables": (b.publication.hashes, c.publication.hashes),
        "parquet files": (b.publication.parquet_hashes, c.publication.parquet_hashes),
        "raw tables": (b.build.raw, c.build.raw),
        "facts": (b.build.facts, c.build.facts),
    }
    tried = sum(len(first) for first, _ in comparisons.values())
    differing = {what: _differing(*pair) for what, pair in comparisons.items()}
    floats = {
        t: float_only_difference(history.root / "B.duckdb", history.root / "C.duckdb", t)
        for t in differing["published tables"]
    }
    failed = sum(len(d) for d in differing.values())
    record_tally(
        f"idempotency: refreshes B and C on the same inputs: {tried} tables compared "
        f"({', '.join(f'{len(p[0])} {w}' for w, p in comparisons.items())}), "
        f"identical {tried - failed}/{tried}"
        + (
            f"; differing {differing}; only in the last digits of doubles: {floats}"
            if failed
            else ""
        )
    )
    assert not failed, (
        f"same inputs, different results: {differing} (differences only in the last digits of "
        f"doubles, i.e. a floating-point sum in a nondeterministic order: {floats})"
    )


@pytest.fixture(scope="module")
def redelivery(history):
    """C's and D's publications and builds, attached to one connection."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name in ("C", "D"):
        con.execute(f"attach '{history.root / f'{name}.duckdb'}' as pub_{name} (read_only)")
        con.execute(f"attach '{history.root / f'{name}-build.duckdb'}' as build_{name} (read_only)")
    yield con, history.redelivery
    con.close()


def _columns(con, catalog: str, schema: str, table: str) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = $c"
            " and table_schema = $s and table_name = $t order by ordinal_position",
            {"c": catalog, "s": schema, "t": table},
        ).fetchall()
    ]


def _changes(con, before: str, after: str, columns: list[str], where: str = "true", rounded=()):
    """Rows only in ``before`` and rows only in ``after`` (as multisets), over ``columns``
    (those in ``rounded`` rounded to 8 decimals)."""
    cols = ", ".join(f'round("{c}", 8)' if c in rounded else f'"{c}"' for c in columns)
    old = con.execute(
        f"select {cols} from {before} where {where} except all"
        f" select {cols} from {after} where {where}"
    ).fetchall()
    new = con.execute(
        f"select {cols} from {after} where {where} except all"
        f" select {cols} from {before} where {where}"
    ).fetchall()
    return old, new


def test_a_redelivered_file_changes_only_its_days_rows_and_kpis(redelivery, record_tally):
    con, changed = redelivery
    day = REDELIVERED_DAY
    order = changed["order_id"]
    delta = Decimal(changed["discount_after"]) - Decimal(changed["discount_before"])
    checks, problems = 0, []

    def check(ok: bool, message: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            problems.append(message)

    # --- the build: only the re-delivered file was reloaded, only its order changed
    raw_tables = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'build_C'"
            " and table_schema = 'raw' and table_name not like '\\_%' escape '\\' order by 1"
        ).fetchall()
    ]
    for table in raw_tables:
        columns = _columns(con, "build_C", "raw", table)
        other = f"_source_file <> '{changed['file']}'"
        old, new = _changes(con, f"build_C.raw.{table}", f"build_D.raw.{table}", columns, other)
        check(not old and not new, f"raw.{table}: rows of other files changed: {old} -> {new}")
    columns = [c for c in _columns(con, "build_C", "raw", "orders") if c != "_loaded_at"]
    old, new = _changes(
        con,
        "build_C.raw.orders",
        "build_D.raw.orders",
        columns,
        f"_source_file = '{changed['file']}'",
    )
    check(
        [r[0] for r in old] == [r[0] for r in new] == [order],
        f"raw.orders: the re-delivered file should change exactly {order}: {old} -> {new}",
    )
    manifest = _columns(con, "build_C", "raw", "_load_manifest")
    old, new = _changes(con, "build_C.raw._load_manifest", "build_D.raw._load_manifest", manifest)
    check(
        [r[0] for r in old] == [r[0] for r in new] == [changed["file"]],
        f"load manifest: only {changed['file']} should change: {old} -> {new}",
    )
    facts = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'build_C'"
            " and table_schema = 'marts' and table_name like 'fct\\_%' escape '\\' order by 1"
        ).fetchall()
    ]
    changed_facts = []
    for table in facts:
        columns = [
            c
            for c in _columns(con, "build_C", "marts", table)
            if c not in ("_loaded_at", "_dbt_invocation_id")
        ]
        old, new = _changes(con, f"build_C.marts.{table}", f"build_D.marts.{table}", columns)
        if old or new:
            changed_facts.append(table)
            keyed = "order_id" in columns
            index = columns.index("order_id") if keyed else None
            check(
                keyed and {r[index] for r in old + new} == {order},
                f"{table}: rows other than order {order} changed: {old} -> {new}",
            )
    check("fct_orders" in changed_facts, f"fct_orders should show the new discount of {order}")

    # --- the publication
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'pub_C'"
            " and table_name <> 'publication_log' order by 1"
        ).fetchall()
    ]
    products = {
        p
        for (p,) in con.execute(
            "select product_id from build_D.marts.fct_order_items where order_id = $o",
            {"o": order},
        ).fetchall()
    }
    old, new = _changes(
        con,
        "pub_C.kpi_campaigns_daily",
        "pub_D.kpi_campaigns_daily",
        _columns(con, "pub_C", "main", "kpi_campaigns_daily"),
    )
    campaigns = {r[0] for r in old + new}
    periods = {"month": day.replace(day=1), "week": day - timedelta(days=day.weekday())}
    changed_tables = {}
    for table in tables:
        columns = _columns(con, "pub_C", "main", table)
        before, after = f"pub_C.main.{table}", f"pub_D.main.{table}"
        if "kpi_date" in columns:
            other_days = f"kpi_date <> '{day}'"
            old, new = _changes(con, before, after, columns, other_days)
            doubles = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog ="
                    " 'pub_C' and table_name = $t and data_type = 'DOUBLE'",
                    {"t": table},
                ).fetchall()
            ]
            floats = (old or new) and _changes(
                con, before, after, columns, other_days, doubles
            ) == ([], [])
            check(
                not old and not new,
                f"{table}: rows of other days changed: {old[:3]} -> {new[:3]}"
                + (
                    " (only in the last digits of doubles: a floating-point sum in a "
                    "nondeterministic order, see test_two_refreshes_...)"
                    if floats
                    else ""
                ),
            )
            old, new = _changes(con, before, after, columns, f"kpi_date = '{day}'")
        else:
            old, new = _changes(con, before, after, columns)
            if table.startswith("dim_"):
                check(not old and not new, f"{table}: a dimension changed: {old[:3]} -> {new[:3]}")
            for row in old + new:
                values = dict(zip(columns, row, strict=True))
                scoped = [
                    values[c] == periods[PERIOD_COLUMNS[c]] for c in PERIOD_COLUMNS if c in values
                ]
                if "product_id" in values:
                    scoped.append(values["product_id"] in products)
                if "campaign_id" in values:
                    scoped.append(values["campaign_id"] in campaigns)
                check(
                    bool(scoped) and all(scoped),
                    f"{table}: a row outside day {day}'s week/month, the order's products "
                    f"{sorted(products)} and campaigns {sorted(campaigns)} changed: {values}",
                )
        if old or new:
            changed_tables[table] = len(new)
    check(
        {"kpi_orders_daily", "kpi_daily"} <= set(changed_tables),
        f"day {day}'s order KPIs should change: changed tables {changed_tables}",
    )
    sums = "sum(orders), sum(gmv), sum(discount_amount), sum(net_revenue)"
    (before,) = con.execute(
        f"select {sums} from pub_C.kpi_orders_daily where kpi_date = '{day}'"
    ).fetchall()
    (after,) = con.execute(
        f"select {sums} from pub_D.kpi_orders_daily where kpi_date = '{day}'"
    ).fetchall()
    check(
        after == (before[0], before[1], before[2] + delta, before[3] - delta),
        f"kpi_orders_daily on {day}: (orders, gmv, discount, net revenue) {before} -> {after}, "
        f"expected the discount up and the net revenue down by {delta}",
    )
    record_tally(
        f"idempotency: re-delivered {changed['file']} (order {order}: discount "
        f"{changed['discount_before']} -> {changed['discount_after']}); changed facts "
        f"{changed_facts}, changed published tables (rows of the new version) {changed_tables}; "
        f"checks {checks}, passed {checks - len(problems)}"
    )
    assert not problems, "\n".join(problems)
