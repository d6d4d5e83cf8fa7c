"""The loader against hand-made landing files whose right outcome is known line by line."""

import gzip
import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.reasons import FileProblem, RowReason
from dagster_project.ingest.sql_templates import TEMPLATES
from tests.ingest.helpers import ITEMS_HEADER, deliver, load


def rejected(con, source_file=None) -> dict[int, str]:
    rows = con.execute(
        "select line, reason_code from raw._rejected_rows"
        " where $f is null or source_file = $f order by line",
        {"f": source_file},
    ).fetchall()
    return dict(rows)


def test_each_row_rule_rejects_its_line_with_its_reason(con, landing):
    deliver(
        landing,
        "order_items",
        "items.csv",
        f"{ITEMS_HEADER},extra\n"
        "O1,1,P1,2,10.50,0,x\n"  # 2 good
        "O1,2,P2,-1,3.00,0,x\n"  # 3 quantity below 1
        "O1,3,P3,1,3.00,0,x,y\n"  # 4 too many columns
        "O2,1,P1,1,abc,0,x\n"  # 5 not a decimal
        ",1,P1,1,1.50,0,x\n"  # 6 null key
        "O3,1,,1,1.50,0,x\n"  # 7 null required column
        "O3,2,P1,2.5,1.50,0,x\n"  # 8 not an integer (DuckDB would round it)
        'O4,1,P1,1,"1.5",0,x\n'  # 9 good (quoted)
        "O4,1,P9,1,2,0,x\n"  # 10 duplicate of line 9's key
        "O5,1,P1,1,1.005,0,x\n",  # 11 three decimal places
    )
    (outcome,) = load(con, landing, "order_items").outcomes
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (
        "loaded",
        10,
        2,
        8,
    )
    assert rejected(con) == {
        3: RowReason.OUT_OF_RANGE,
        4: RowReason.MALFORMED_LINE,
        5: RowReason.INVALID_TYPE,
        6: RowReason.NULL_KEY,
        7: RowReason.NULL_VALUE,
        8: RowReason.INVALID_TYPE,
        10: RowReason.DUPLICATE_KEY,
        11: RowReason.INVALID_TYPE,
    }
    loaded = con.execute(
        "select order_id, line_number, unit_price, _source_line from raw.order_items order by 4"
    ).fetchall()
    assert [(o, n, str(p), line) for o, n, p, line in loaded] == [
        ("O1", 1, "10.50", 2),
        ("O4", 1, "1.50", 9),
    ]
    reason = con.execute(
        "select reason from raw._rejected_rows where reason_code = 'duplicate_key'"
    ).fetchall()[0][0]
    assert "first seen on line 9" in reason


def test_line_numbers_stay_right_after_a_multiline_field_and_rejects(con, landing):
    deliver(
        landing,
        "order_items",
        "items.csv",
        f"{ITEMS_HEADER}\n"
        "O1,1,P1,1,1.00,0\n"
        "O1,2,P1,1,1.00\n"  # 3 too few columns
        "O1,3,P1,1,1.00,0,9\n"  # 4 too many columns
        'O1,4,"P1\nsecond physical line",1,1.00,0\n'  # record 5
        "O1,5,P1,0,1.00,0\n",  # record 6: quantity 0
    )
    load(con, landing, "order_items")
    assert rejected(con) == {
        3: RowReason.MALFORMED_LINE,
        4: RowReason.MALFORMED_LINE,
        6: RowReason.OUT_OF_RANGE,
    }
    assert con.execute("select list(_source_line order by 1) from raw.order_items").fetchall() == [
        ([2, 5],)
    ]


def test_files_loaded_together_keep_their_own_lines_keys_and_failures(con, landing):
    # Small files of one table load in one batch: each keeps its own line numbers, a key is a
    # duplicate only within its own file, and a file the reader cannot read fails on its own.
    deliver(
        landing, "order_items", "a.csv", f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\nO1,1,P2,1,1.00,0\n"
    )
    deliver(
        landing,
        "order_items",
        "b.csv",
        f"{ITEMS_HEADER}\nO2,1,P1,1,1.00\nO1,1,P1,2,1.00,0\nO2,2,P1,0,1.00,0\n",
        day="2025-06-02",
    )
    body = (f"{ITEMS_HEADER}\n" + "".join(f"O{i},1,P1,1,1.00,0\n" for i in range(5000))).encode()
    deliver(landing, "order_items", "cut.csv.gz", gzip.compress(body)[:2000], day="2025-06-03")
    deliver(
        landing, "order_items", "c.csv", f"{ITEMS_HEADER}\nO3,1,P1,1,1.00,0\n", day="2025-06-04"
    )
    outcomes = load(con, landing, "order_items").outcomes
    assert [(o.source_file.rsplit("/", 1)[1], o.status) for o in outcomes] == [
        ("a.csv", "loaded"),
        ("b.csv", "loaded"),
        ("cut.csv.gz", "failed"),
        ("c.csv", "loaded"),
    ]
    assert [(o.rows_read, o.rows_loaded, o.rows_rejected) for o in outcomes if o.rows_read] == [
        (2, 1, 1),
        (3, 1, 2),
        (1, 1, 0),
    ]
    lines = con.execute(
        "select split_part(source_file, '/', 3), line, reason_code from raw._rejected_rows"
        " order by all"
    ).fetchall()
    assert lines == [
        ("a.csv", 3, RowReason.DUPLICATE_KEY),
        ("b.csv", 2, RowReason.MALFORMED_LINE),
        ("b.csv", 4, RowReason.OUT_OF_RANGE),
    ]
    loaded = con.execute(
        "select split_part(_source_file, '/', 3), _business_date::varchar, order_id, _source_line"
        " from raw.order_items order by all"
    ).fetchall()
    assert loaded == [
        ("a.csv", "2025-06-01", "O1", 2),
        ("b.csv", "2025-06-02", "O1", 3),
        ("c.csv", "2025-06-04", "O3", 2),
    ]


def test_timestamps_need_a_zone_and_may_not_lie_after_the_extract(con, landing):
    deliver(
        landing,
        "surveys",
        "s.jsonl",
        '{"survey_id":"S1","ticket_id":null,"customer_id":"C1",'
        '"responded_at":"2025-06-01T02:00:00Z","csat_score":5,"nps_score":9}\n'
        "{not json\n"
        '{"survey_id":"S2","ticket_id":null,"customer_id":"C1",'
        '"responded_at":"2025-06-01T02:00:00","csat_score":5,"nps_score":null}\n'
        '{"survey_id":"S3","ticket_id":null,"customer_id":"C1",'
        '"responded_at":"2025-07-01T02:00:00Z","csat_score":null,"nps_score":3}\n'
        '{"survey_id":"S4","ticket_id":null,"customer_id":"C1",'
        '"responded_at":"2025-06-02T23:59:59+00:00","csat_score":1,"nps_score":11}\n'
        '{"survey_id":"S5","ticket_id":"T1","customer_id":"C1",'
        '"responded_at":"2025-06-02T23:59:59+00:00","csat_score":4}\n'
        "\n",
    )
    (outcome,) = load(con, landing, "surveys").outcomes
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (6, 2, 4)
    assert rejected(con) == {
        2: RowReason.MALFORMED_LINE,
        3: RowReason.TIMESTAMP_WITHOUT_ZONE,
        4: RowReason.FUTURE_TIMESTAMP,
        5: RowReason.OUT_OF_RANGE,
    }
    # A key missing from one JSON line is NULL, as an empty CSV field would be.
    assert con.execute("select survey_id, nps_score from raw.surveys order by 1").fetchall() == [
        ("S1", 9),
        ("S5", None),
    ]


def test_typed_parquet_loads_and_a_naive_timestamp_is_rejected(con, landing):
    table = pa.table(
        {
            "experiment_id": ["E1", "E1"],
            "visitor_id": ["V1", "V2"],
            "variant": ["control", "treatment"],
            "assigned_at": pa.array(
                [1748743200000000, 1748743200000000], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    path = deliver(landing, "experiment_assignments", "a.parquet", b"")
    pq.write_table(table, path)
    naive = table.set_column(3, "assigned_at", table["assigned_at"].cast(pa.timestamp("us")))
    pq.write_table(naive, deliver(landing, "experiment_assignments", "b.parquet", b""))
    outcomes = load(con, landing, "experiment_assignments").outcomes
    assert [(o.rows_loaded, o.rows_rejected) for o in outcomes] == [(2, 0), (0, 2)]
    assert set(rejected(con).values()) == {RowReason.TIMESTAMP_WITHOUT_ZONE}


def test_loading_twice_loads_nothing_twice(con, landing):
    path = deliver(landing, "order_items", "items.csv", f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\n")
    first = load(con, landing, "order_items")
    os.utime(path, ns=(1, 1))  # same content, new modification time: checksum decides
    second = load(con, landing, "order_items", run_id="run-2")
    third = load(con, landing, "order_items", run_id="run-3")
    assert [o.status for o in first.outcomes] == ["loaded"]
    assert [o.status for o in second.outcomes + third.outcomes] == ["unchanged", "unchanged"]
    assert con.execute(
        "select count(*), max(_loaded_at) = min(_loaded_at) from raw.order_items"
    ).fetchall() == [(1, True)]
    assert con.execute("select run_id from raw._load_manifest").fetchall() == [("run-1",)]


def test_a_redelivered_file_replaces_its_earlier_rows_and_rejects(con, landing):
    deliver(
        landing,
        "order_items",
        "items.csv",
        f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\nO1,2,P1,-5,1.00,0\nO1,3,P1,1,1.00,0\n",
    )
    deliver(landing, "order_items", "other.csv", f"{ITEMS_HEADER}\nO9,1,P1,1,1.00,0\n")
    load(con, landing, "order_items")
    deliver(
        landing, "order_items", "items.csv", f"{ITEMS_HEADER}\nO1,1,P1,3,1.00,0\nO1,2,P1,2,1.00,0\n"
    )
    (changed, unchanged) = load(con, landing, "order_items", run_id="run-2").outcomes
    assert (changed.status, changed.rows_loaded, changed.rows_rejected) == ("loaded", 2, 0)
    assert unchanged.status == "unchanged"
    assert con.execute(
        "select order_id, line_number, quantity from raw.order_items order by all"
    ).fetchall() == [("O1", 1, 3), ("O1", 2, 2), ("O9", 1, 1)]
    assert rejected(con) == {}


def test_a_file_missing_a_column_fails_alone_and_keeps_its_earlier_delivery(con, landing):
    deliver(landing, "order_items", "items.csv", f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\n")
    load(con, landing, "order_items")
    renamed = ITEMS_HEADER.replace("quantity", "qty")
    deliver(landing, "order_items", "items.csv", f"{renamed}\nO1,1,P1,7,1.00,0\n")
    deliver(
        landing, "order_items", "more.csv", f"{ITEMS_HEADER}\nO2,1,P1,1,1.00,0\n", day="2025-06-02"
    )
    failed, loaded = load(con, landing, "order_items", run_id="run-2").outcomes
    assert failed.status == "failed" and failed.problem == FileProblem.MISSING_COLUMN
    assert "landing/order_items/dt=2025-06-01/items.csv" in failed.message
    assert "quantity" in failed.message and "qty" in failed.message
    assert loaded.status == "loaded"
    assert con.execute("select order_id, quantity from raw.order_items order by 1").fetchall() == [
        ("O1", 1),
        ("O2", 1),
    ]
    # The same broken file is not retried on the next run.
    again = load(con, landing, "order_items", run_id="run-3").outcomes
    assert again[0].status == "failed"
    assert con.execute("select count(*) from raw._load_failures").fetchall() == [(1,)]


def test_truncated_gzip_and_empty_files(con, landing):
    body = (f"{ITEMS_HEADER}\n" + "".join(f"O{i},1,P1,1,1.00,0\n" for i in range(5000))).encode()
    deliver(landing, "order_items", "cut.csv.gz", gzip.compress(body)[:2000])
    deliver(landing, "order_items", "empty.csv", b"")
    deliver(landing, "order_items", "header_only.csv", f"{ITEMS_HEADER}\n")
    outcomes = {
        o.source_file.rsplit("/", 1)[1]: o for o in load(con, landing, "order_items").outcomes
    }
    assert outcomes["cut.csv.gz"].status == "failed"
    assert outcomes["cut.csv.gz"].problem == FileProblem.UNREADABLE
    assert "cut.csv.gz" in outcomes["cut.csv.gz"].message
    assert outcomes["empty.csv"].status == "empty"
    assert outcomes["header_only.csv"].status == "empty"
    assert con.execute("select count(*) from raw.order_items").fetchall() == [(0,)]


def test_names_outside_the_pattern_and_links_out_of_the_landing_zone_fail(con, landing, tmp_path):
    good = f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\n"
    deliver(landing, "order_items", "ok.csv", good)
    (landing / "order_items" / "loose.csv").write_text(good)
    deliver(landing, "order_items", "notes.txt", "hello")
    deliver(landing, "order_items", "x.csv", good, day="2025-13-40")
    outside = tmp_path / "secret.csv"
    outside.write_text(good)
    (landing / "order_items" / "dt=2025-06-01" / "link.csv").symlink_to(outside)
    outcomes = {o.source_file: o for o in load(con, landing, "order_items").outcomes}
    assert outcomes.pop("order_items/dt=2025-06-01/ok.csv").status == "loaded"
    assert {f: o.problem for f, o in outcomes.items()} == {
        "order_items/loose.csv": FileProblem.UNSUPPORTED_NAME,
        "order_items/dt=2025-06-01/notes.txt": FileProblem.UNSUPPORTED_NAME,
        "order_items/dt=2025-13-40/x.csv": FileProblem.UNSUPPORTED_NAME,
        "order_items/dt=2025-06-01/link.csv": FileProblem.UNSUPPORTED_NAME,
    }
    assert "outside the landing zone" in outcomes["order_items/dt=2025-06-01/link.csv"].message
    assert con.execute("select count(*) from raw.order_items").fetchall() == [(1,)]


def test_a_source_that_never_delivered_loads_as_an_empty_table(con, landing):
    result = load(con, landing, "refunds")
    assert result.outcomes == []
    columns = [row[0] for row in con.execute("describe raw.refunds").fetchall()]
    assert columns[: len(contract.table("refunds").columns)] == list(
        contract.table("refunds").column_names
    )
    assert con.execute("select count(*) from raw.refunds").fetchall() == [(0,)]


def test_lines_are_not_numbered_when_a_files_rows_were_read_interleaved():
    """A CSV line's number is its row id counted from its file's first: right only while each
    file's rows are read in one run, which DuckDB's insertion order gives; if not, loud."""
    statements = TEMPLATES.render(
        "stage_file.sql", format="csv", table=contract.tables()["order_items"]
    )
    (number_files,) = [s for s in statements if "temp table file_rows" in s]
    (check,) = [s for s in statements if s.startswith("select error(")]
    with duckdb.connect() as con:
        con.execute("create temp table parsed as select * from (values ('a'), ('a'), ('b'))")
        con.execute("alter table parsed rename column col0 to _path")
        con.execute(number_files)
        con.execute(check)  # a, a, b: each file in one run
        con.execute("insert into parsed values ('a')")  # a, a, b, a
        con.execute(number_files)
        with pytest.raises(duckdb.InvalidInputException, match="rows of a were not read in one"):
            con.execute(check)


def open_failures(con) -> dict[str, str]:
    return dict(con.execute("select source_file, problem from raw._open_failures").fetchall())


def items(count: int, quantity: int = 1) -> str:
    return f"{ITEMS_HEADER}\n" + "".join(f"O{i},1,P1,{quantity},1.00,0\n" for i in range(count))


@pytest.mark.parametrize(
    ("name", "content", "rows_now"),
    [
        ("items.csv", b"", 0),  # zero bytes
        ("items.csv", f"{ITEMS_HEADER}\n".encode(), 0),  # header only
        ("items.csv", items(1).encode(), 1),  # 1 of 4 rows
    ],
    ids=["zero-bytes", "header-only", "three-quarters-gone"],
)
def test_a_redelivery_that_drops_most_rows_fails_and_keeps_the_earlier_rows(
    con, landing, name, content, rows_now
):
    deliver(landing, "order_items", name, items(4, quantity=2))
    load(con, landing, "order_items")
    deliver(landing, "order_items", name, content)
    (outcome,) = load(con, landing, "order_items", run_id="run-2").outcomes
    assert (outcome.status, outcome.problem) == ("failed", FileProblem.SHRUNK_REDELIVERY)
    assert outcome.message.startswith(
        f"landing/order_items/dt=2025-06-01/{name}: shrunk_redelivery: holds {rows_now} rows"
    )
    assert "held 4" in outcome.message
    assert "landing/order_items/dt=2025-06-01/_SHRINK_OK" in outcome.message
    assert con.execute("select count(*), min(quantity) from raw.order_items").fetchall() == [(4, 2)]
    assert con.execute("select status, rows_read from raw._load_manifest").fetchall() == [
        ("loaded", 4)
    ]
    assert open_failures(con) == {f"order_items/dt=2025-06-01/{name}": "shrunk_redelivery"}


def test_a_redelivery_keeping_half_its_rows_replaces_the_earlier_one(con, landing):
    deliver(landing, "order_items", "items.csv", items(4))
    load(con, landing, "order_items")
    deliver(landing, "order_items", "items.csv", items(2, quantity=3))
    (outcome,) = load(con, landing, "order_items", run_id="run-2").outcomes
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)
    assert con.execute("select count(*), min(quantity) from raw.order_items").fetchall() == [(2, 3)]


def test_a_shrink_confirmed_after_the_earlier_load_replaces_it(con, landing):
    deliver(landing, "order_items", "items.csv", items(4))
    deliver(landing, "order_items", "other.csv", items(3))
    stale = deliver(landing, "order_items", "_SHRINK_OK", b"")
    os.utime(stale, (1, 1))  # written long before the earlier delivery loaded: not a yes
    load(con, landing, "order_items")
    deliver(landing, "order_items", "items.csv", b"")
    deliver(landing, "order_items", "other.csv", items(1))
    failed = load(con, landing, "order_items", run_id="run-2").outcomes
    assert [o.problem for o in failed] == [FileProblem.SHRUNK_REDELIVERY] * 2

    deliver(landing, "order_items", "_SHRINK_OK", b"")  # the producer confirms, now
    items_csv, other_csv = load(con, landing, "order_items", run_id="run-3").outcomes
    assert (items_csv.status, other_csv.status, other_csv.rows_loaded) == ("empty", "loaded", 1)
    assert con.execute("select count(*) from raw.order_items").fetchall() == [(1,)]
    assert open_failures(con) == {}


def test_a_failure_clears_when_the_file_returns_to_the_version_that_loaded(con, landing):
    good = f"{ITEMS_HEADER}\nO1,1,P1,1,1.00,0\n"
    path = deliver(landing, "order_items", "items.csv", good)
    load(con, landing, "order_items")
    loaded_stat = path.stat()
    broken = good.replace("quantity", "qty")
    deliver(landing, "order_items", "items.csv", broken)
    assert load(con, landing, "order_items", run_id="run-2").outcomes[0].status == "failed"
    assert open_failures(con) == {"order_items/dt=2025-06-01/items.csv": "missing_column"}

    deliver(landing, "order_items", "items.csv", good)  # same bytes, a new modification time
    result = load(con, landing, "order_items", run_id="run-3")
    assert [o.status for o in result.outcomes] == ["unchanged"]
    assert open_failures(con) == {}
    assert "back to the version loaded before" in result.cleared[0]

    # The broken version again: it fails again (a resolved failure is not a pass for it).
    deliver(landing, "order_items", "items.csv", broken)
    assert load(con, landing, "order_items", run_id="run-4").outcomes[0].status == "failed"
    # Restored with its original modification time (cp -p): unchanged without a checksum.
    deliver(landing, "order_items", "items.csv", good)
    os.utime(path, ns=(loaded_stat.st_atime_ns, loaded_stat.st_mtime_ns))
    assert load(con, landing, "order_items", run_id="run-5").outcomes[0].status == "unchanged"
    assert open_failures(con) == {}
    assert con.execute(
        "select count(*), count(resolved_at) from raw._load_failures"
    ).fetchall() == [(2, 2)]


def test_a_failed_file_removed_from_the_landing_zone_needs_no_attention(con, landing):
    path = deliver(landing, "order_items", "items.csv", "order_id\nO1\n")
    deliver(landing, "order_items", "kept.csv", items(1))
    assert load(con, landing, "order_items").outcomes[0].status == "failed"
    path.unlink()
    result = load(con, landing, "order_items", run_id="run-2")
    assert [o.status for o in result.outcomes] == ["unchanged"]
    assert result.cleared == [
        "landing/order_items/dt=2025-06-01/items.csv: removed: its failure is cleared"
    ]
    assert open_failures(con) == {}


def test_a_warehouse_from_before_resolved_failures_is_upgraded(con, landing):
    con.execute("create schema raw")
    con.execute(
        "create table raw._load_failures (source_file varchar not null, table_name varchar,"
        " size_bytes bigint, mtime_ns bigint, checksum varchar, problem varchar not null,"
        " message varchar not null, failed_at timestamptz not null, run_id varchar)"
    )
    deliver(landing, "order_items", "items.csv", "order_id\nO1\n")
    assert load(con, landing, "order_items").outcomes[0].status == "failed"
    assert open_failures(con) == {"order_items/dt=2025-06-01/items.csv": "missing_column"}
