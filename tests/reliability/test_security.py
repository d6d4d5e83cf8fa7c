"""Issue 8 §5, security: the BI path is read-only, no personal data is published, file names
and contents never become SQL, and the alert webhook (a secret) never reaches a log.

Each test tallies ``security (x) ...: tried N, passed N`` (listed at the end of the run:
tests/conftest.py, record_tally).
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import io
import json
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.core import alerts
from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoader
from dagster_project.ingest.reasons import FileProblem, RowReason
from dagster_project.publish.publication import published_path
from tests.conftest import sha256
from tests.ingest.helpers import deliver


def tally(record_tally, section: str, tried: int, passed: int, detail: str = "") -> None:
    record_tally(
        f"security {section}: tried {tried}, passed {passed}" + (f" ({detail})" if detail else "")
    )


# --- (a) the BI path is read-only ------------------------------------------------------------

# Each statement is a valid write: it succeeds on a writable copy (checked below), so its
# failure through the BI path is the read-only mode at work, not a typo.
WRITES = {
    "create table": "create table {db}hacked as select 1 as x",
    "create view": "create view {db}hacked_view as select 1 as x",
    "create schema": "create schema {db}hacked_schema",
    "create index": "create index hacked_index on {db}publication_log (run_id)",
    "insert": "insert into {db}publication_log select * from {db}publication_log",
    "update": "update {db}publication_log set message = 'hacked'",
    "delete": "delete from {db}publication_log",
    "truncate": "truncate {db}publication_log",
    "alter table": "alter table {db}kpi_daily add column hacked integer",
    "drop table": "drop table {db}kpi_daily",
}


def _contents(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [name for (name,) in con.execute("show tables").fetchall()]
        return {t: con.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in tables}


@contextmanager
def _readme_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """What the README's BI section tells readers: ``duckdb.connect(..., read_only=True)``."""
    with duckdb.connect(str(path), read_only=True) as con:
        yield con


@contextmanager
def _attached_read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The same as a BI connector does it: the file attached READ_ONLY to a session."""
    with duckdb.connect() as con:
        con.execute("attach $path as mart (read_only)", {"path": str(path)})
        yield con


def test_the_bi_path_is_read_only(demo_pipeline, tmp_path, record_tally):
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    bi_section = readme.split("## Connecting a BI tool", 1)[1].split("\n## ", 1)[0]
    assert "read_only=True" in bi_section and "duckdb.read_only=true" in bi_section

    # a private copy of the publication, so that a failing test cannot damage the demo
    published = tmp_path / "published" / published_path(demo_pipeline).name
    published.parent.mkdir()
    shutil.copyfile(published_path(demo_pipeline), published)
    before, contents = sha256(published), _contents(published)
    assert {"kpi_daily", "publication_log"} <= set(contents)

    writable = tmp_path / "writable.duckdb"
    tried = passed = 0
    failures = []
    for way, opener, prefix in (
        ("README connection", _readme_connection, ""),
        ("READ_ONLY attach", _attached_read_only, "mart."),
    ):
        for name, template in WRITES.items():
            tried += 1
            sql = template.format(db=prefix)
            with opener(published) as con:
                try:
                    con.execute(sql)
                    failures.append(f"{way}: {name} was accepted")
                    continue
                except duckdb.Error as error:
                    if "read-only" not in str(error):
                        failures.append(f"{way}: {name} failed for another reason: {error}")
                        continue
            # the control: the same statement changes a writable copy
            shutil.copyfile(published, writable)
            with duckdb.connect(str(writable)) as con:
                con.execute(template.format(db=""))
            passed += 1
    tally(
        record_tally,
        "(a) BI path read-only",
        tried,
        passed,
        f"{len(WRITES)} kinds of write x 2 ways of opening; each write works on a writable copy",
    )
    assert not failures, failures
    assert sha256(published) == before
    assert _contents(published) == contents


# --- (b) no personal data in published tables --------------------------------------------

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# a mobile number as the shop's customers have them (11 digits from 13..19), optionally +86,
# not part of a longer id such as E13012345678 (letters and digits around it do not count)
PHONE = r"(^|[^0-9A-Za-z])(\+?86[ -]?)?1[3-9][0-9]{9}($|[^0-9])"


def _text_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Columns holding text, also inside lists, maps and structs."""
    described = con.execute(f"describe select * from {relation}").fetchall()
    return [name for name, kind, *_ in described if "VARCHAR" in kind or "JSON" in kind]


def scan(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> tuple[dict, int, int]:
    """Personal data in ``relations`` (label -> SQL relation), as {label.column: findings}.

    Flags a value that IS a customer's e-mail or phone (temp table ``pii``), and any text that
    contains an e-mail- or phone-shaped string. Returns (findings, text columns, values).
    """
    findings: dict[str, list[str]] = {}
    columns = values = 0
    for label, relation in relations.items():
        for column in _text_columns(con, relation):
            columns += 1
            text = f'cast("{column}" as varchar)'
            (count, exact, shaped) = con.execute(
                f"""
                select
                    count({text}),
                    list(distinct {text}) filter ({text} in (select value from pii)),
                    list(distinct {text}) filter (
                        regexp_matches({text}, $email) or regexp_matches({text}, $phone)
                    ),
                from {relation}
                """,
                {"email": EMAIL, "phone": PHONE},
            ).fetchall()[0]
            values += count
            if exact or shaped:
                findings[f"{label}.{column}"] = sorted({*(exact or []), *(shaped or [])})[:5]
    return findings, columns, values


def _load_pii(con: duckdb.DuckDBPyConnection, build_db: Path) -> int:
    con.execute("attach $path as build (read_only)", {"path": str(build_db)})
    con.execute(
        "create temp table pii as select distinct value from ("
        " select email as value from build.raw.customers union all"
        " select phone from build.raw.customers) where value is not null"
    )
    con.execute("detach build")
    return con.execute("select count(*) from pii").fetchall()[0][0]


def test_the_scan_finds_planted_personal_data(tmp_path):
    """The control: the scanner below does find e-mails and phones wherever they hide."""
    planted = tmp_path / "leaky.duckdb"
    with duckdb.connect(str(planted)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.customers (email varchar, phone varchar)")
        con.execute("insert into raw.customers values ('user000000042@example.com', '13912345678')")
    with duckdb.connect() as con:
        assert _load_pii(con, planted) == 2
        con.execute(
            "create table leaky as select * from (values"
            " ('clean', ['a'], 1, 'E13912345678'),"
            " ('user000000042@example.com', ['a'], 2, 'ok'),"
            " ('call 13912345678 now', ['b'], 3, 'ok'),"
            " ('ok', ['x', 'someone@else.org'], 4, 'ok'),"
            " ('ok', ['a'], 5, '+86 13800000000')"
            ") as t(note, tags, n, other)"
        )
        findings, columns, values = scan(con, {"leaky": "leaky"})
    assert set(findings) == {"leaky.note", "leaky.tags", "leaky.other"}
    assert findings["leaky.note"] == ["call 13912345678 now", "user000000042@example.com"]
    assert findings["leaky.other"] == ["+86 13800000000"]  # E13912345678 is an id, not a phone
    assert (columns, values) == (3, 15)  # n is not text


def test_no_personal_data_in_published_tables(demo_pipeline, record_tally):
    settings = demo_pipeline
    with duckdb.connect() as con:
        pii = _load_pii(con, settings.build_db)
        assert pii > 1000, "the demo's customers should have e-mails and phones to look for"
        con.execute("attach $path as mart (read_only)", {"path": str(published_path(settings))})
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'mart'"
            ).fetchall()
        ]
        relations = {t: f'mart.main."{t}"' for t in tables}
        parquet = sorted((settings.published_dir / "parquet").glob("*.parquet"))
        relations |= {f"parquet/{p.name}": f"read_parquet('{p}')" for p in parquet}
        findings, columns, values = scan(con, relations)
        report = settings.report_file.read_text(encoding="utf-8")
        in_report = [
            match.group(0) for pattern in (EMAIL, PHONE) for match in re.finditer(pattern, report)
        ]
        in_report += [
            value for (value,) in con.execute("select value from pii").fetchall() if value in report
        ]
    assert len(tables) >= 10 and len(parquet) == len(tables)
    assert "dim_customers" in tables  # the table that holds customers is among those scanned
    tried = len(relations) + 1
    passed = tried - len({label.split(".")[0] for label in findings}) - bool(in_report)
    tally(
        record_tally,
        "(b) no personal data published",
        tried,
        passed,
        f"{len(tables)} tables + {len(parquet)} Parquet files + the report; {columns} text "
        f"columns, {values:,} values checked against {pii:,} raw e-mails/phones and the "
        f"e-mail/phone patterns",
    )
    assert not findings, findings
    assert not in_report, in_report[:5]


# --- (c) file names and contents never become SQL -------------------------------------------

MARK = "PWN"  # in every payload: no SQL statement text may ever contain it
PAYLOADS = [
    f"x'); drop table raw.orders; --{MARK}1",
    f"'; delete from raw._load_manifest; --{MARK}2",
    f'a"b""c{MARK}3',
    f"semi;colon;{MARK}4",
    f"$path $source_file ? %s {MARK}5",
    f"{{{{ table.name }}}} {{% if 1 %}}{MARK}6",
    f"\\'; select 1; --{MARK}7",
    f"Robert'); DROP TABLE raw.customers;--{MARK}8",
]


class RecordingConnection:
    """A DuckDB connection that remembers the text of every statement it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.statements: list[str] = []

    def execute(self, sql, parameters=None):
        self.statements.append(sql)
        return self.con.execute(sql, parameters)

    def __getattr__(self, name):
        return getattr(self.con, name)


CUSTOMER_COLUMNS = list(contract.table("customers").column_names)


def _customers_csv(
    ids: list[str],
    cities: list[str] | None = None,
    tier: str = "none",
    extra: tuple[str, str] | None = None,
) -> str:
    """Valid customers ``ids`` (with ``cities``), optionally with one extra column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CUSTOMER_COLUMNS + ([extra[0]] if extra else []))
    for i, customer in enumerate(ids):
        writer.writerow(
            [customer, "V1", "2025-06-01T01:00:00Z", "a@example.com", "13000000000",
             cities[i] if cities else "Shanghai", tier, "2025-06-01T01:00:00Z"]
            + ([extra[1]] if extra else [])
        )  # fmt: skip
    return out.getvalue()


def _state(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple:
    return con.execute(
        f'select count(*), coalesce(sum(hash(t)), 0) from "{schema}"."{table}" as t'
    ).fetchall()[0]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    tables = con.execute("select table_name from duckdb_tables() where not temporary")
    return {t for (t,) in tables.fetchall()}


def test_sql_in_file_names_and_contents_stays_data(tmp_path, record_tally):
    # the landing zone itself lives under a path full of SQL
    root = tmp_path / f"it's; drop table raw.orders; --{MARK}0"
    landing = root / "landing"
    deliver(
        landing,
        "orders",
        "orders.csv",
        "order_id,customer_id,session_id,ordered_at,status,platform,discount_amount,"
        "shipping_fee,tax_amount,coupon_code,updated_at\n"
        "O1,C1,,2025-06-01T01:00:00Z,paid,web,0,0,0,,2025-06-01T01:00:00Z\n",
    )
    deliver(landing, "customers", "base.csv", _customers_csv(["C1"]))
    con = RecordingConnection(duckdb.connect(str(root / "build.duckdb")))
    con.execute("set TimeZone = 'UTC'")
    for name in ("orders", "customers"):
        TableLoader(con, landing, contract.table(name)).load()
    orders_before = _state(con.con, "raw", "orders")
    tables_before = _tables(con.con)

    def put(table: str, name: str, content: str | bytes, day: str = "2025-06-02") -> Path:
        return deliver(landing, table, name, content, day=day)

    ids = [f"T{i}" for i in range(len(PAYLOADS))]
    cases: list[tuple[str, Path, str, object]] = []  # what, file, outcome, expected keys/reason
    # names: a file name or a day folder made of SQL is refused and recorded verbatim
    for i, payload in enumerate(PAYLOADS):
        path = put("customers", f"{payload}{i}.csv", _customers_csv([f"N{i}"]))
        cases.append((f"file name {payload!r}", path, "failed", None))
    path = put("customers", "c.csv", _customers_csv(["F1"]), day=f"2025-06-03'; drop--{MARK}")
    cases.append(("day folder made of SQL", path, "failed", None))
    # contents: SQL in keys, free text, accepted-value columns and headers; CSV, JSONL, Parquet
    path = put("customers", "keys.csv", _customers_csv(PAYLOADS))
    cases.append(("CSV keys made of SQL", path, "loaded", PAYLOADS))
    path = put("customers", "texts.csv", _customers_csv(ids, cities=PAYLOADS))
    cases.append(("CSV free text made of SQL", path, "loaded", ids))
    path = put("customers", "tiers.csv", _customers_csv(["R1"], tier=PAYLOADS[0]))
    cases.append(("accepted-value column given SQL", path, "rejected", RowReason.NOT_ACCEPTED))
    path = put("customers", "header.csv", _customers_csv(["H1"], extra=(PAYLOADS[2], "x")))
    cases.append(("CSV header made of SQL", path, "loaded", ["H1"]))
    tickets = [
        {
            "ticket_id": payload,
            "customer_id": "C1",
            "order_id": None,
            "channel": "chat",
            "category": payload,
            "created_at": "2025-06-02T01:00:00Z",
            "first_response_at": None,
            "resolved_at": None,
            "reopened": "false",
            "updated_at": "2025-06-02T01:00:00Z",
            PAYLOADS[0]: payload,
        }
        for payload in PAYLOADS
    ]
    path = put("support_tickets", "t.jsonl", "".join(json.dumps(t) + "\n" for t in tickets))
    cases.append(("JSONL keys and values made of SQL", path, "loaded", PAYLOADS))
    path = put("support_tickets", "t.parquet", b"", day="2025-06-03")
    pq.write_table(
        pa.table({k: pa.array([t[k] for t in tickets], pa.string()) for k in tickets[0]}), path
    )
    cases.append(("Parquet columns and values made of SQL", path, "loaded", PAYLOADS))

    outcomes = {}
    for name in ("customers", "support_tickets"):
        for outcome in TableLoader(con, landing, contract.table(name), "sec").load().outcomes:
            outcomes[outcome.source_file] = outcome

    failures = []
    for what, path, status, expected in cases:
        source = path.relative_to(landing).as_posix()
        outcome = outcomes.get(source)
        table = source.split("/")[0]
        if outcome is None:
            failures.append(f"{what}: no outcome for {source!r}")
        elif status == "failed":
            stored = con.con.execute(
                "select source_file, message from raw._load_failures where source_file = $f",
                {"f": source},
            ).fetchall()
            if not (
                outcome.problem == FileProblem.UNSUPPORTED_NAME
                and len(stored) == 1
                and source in stored[0][1]
            ):
                failures.append(f"{what}: {outcome}, recorded {stored}")
        elif status == "rejected":
            reasons = con.con.execute(
                "select reason_code from raw._rejected_rows where source_file = $f",
                {"f": source},
            ).fetchall()
            if reasons != [(str(expected),)]:
                failures.append(f"{what}: {outcome}, rejected {reasons}")
        else:
            key = contract.table(table).key[0]
            loaded = con.con.execute(
                f"select {key} from raw.{table} where _source_file = $f order by _source_line",
                {"f": source},
            ).fetchall()
            if outcome.rows_rejected or [v for (v,) in loaded] != expected:
                failures.append(f"{what}: {outcome}, loaded {loaded}")
    verbatim = {
        "customers.city": "select city from raw.customers where _source_file like '%/texts.csv'",
        "support_tickets.category (JSONL)": "select category from raw.support_tickets"
        " where _source_file like '%.jsonl'",
        "support_tickets.category (Parquet)": "select category from raw.support_tickets"
        " where _source_file like '%.parquet'",
    }
    for what, sql in verbatim.items():
        stored = [v for (v,) in con.con.execute(sql + " order by _source_line").fetchall()]
        if stored != PAYLOADS:
            failures.append(f"{what} not stored verbatim: {stored}")

    with_mark = [sql for sql in con.statements if MARK in sql]
    orders_after = _state(con.con, "raw", "orders")
    tables_after = _tables(con.con)
    con.con.close()
    tally(
        record_tally,
        "(c) SQL in file names and contents",
        len(cases),
        len(cases) - len(failures),
        f"{len(PAYLOADS)} payloads in file names, a day folder, keys, text, an accepted-value "
        f"column, headers, JSONL and Parquet, under a data directory whose path is SQL too; "
        f"{len(con.statements)} statements run, {len(with_mark)} containing file text",
    )
    assert not failures, failures
    assert not with_mark, with_mark[:3]
    assert tables_after == tables_before | {"support_tickets"}
    assert orders_after == orders_before, "raw.orders changed"


# --- (d) the webhook URL and secrets come only from the environment, never into logs --------

SECRET = "S3cr3tT0ken"


class _Hook(http.server.BaseHTTPRequestHandler):
    status: ClassVar[int] = 204
    delay: ClassVar[float] = 0.0
    received: ClassVar[list[bytes]] = []

    def do_POST(self):
        _Hook.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(_Hook.delay)
        self.send_response(_Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received, _Hook.status, _Hook.delay = [], 204, 0.0
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _alert(monkeypatch, caplog, url: str | None) -> tuple[bool | str, str]:
    """Send one alert with ``url`` as the webhook; (result, everything logged)."""
    if url is None:
        monkeypatch.delenv(alerts.WEBHOOK_ENV, raising=False)
    else:
        monkeypatch.setenv(alerts.WEBHOOK_ENV, url)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        try:
            result: bool | str = alerts.send_alert(
                "publication_blocked", "publication blocked: check x failed", run_id="r1"
            )
        except Exception as error:  # reported, not raised: the test lists it
            result = f"raised {type(error).__name__}: {error}"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    return result, logged


def test_webhook_outcomes_never_log_the_url_or_its_token(monkeypatch, caplog, hook, record_tally):
    closed = hook.rsplit(":", 1)[0] + ":9"  # the discard port: nobody listens
    cases = {
        "accepted": (f"{hook}/hook?token={SECRET}", 204, 0.0, True),
        "server error": (f"{hook}/hook?token={SECRET}", 500, 0.0, False),
        "timeout": (f"{hook}/hook/{SECRET}", 204, 2.0, False),
        "connection refused": (f"{closed}/hook?token={SECRET}", 204, 0.0, False),
        "credentials in URL": (f"http://bot:{SECRET}@127.0.0.1:9/hook", 204, 0.0, False),
        "unsupported scheme": (f"ftp://127.0.0.1:9/{SECRET}", 204, 0.0, False),
    }
    monkeypatch.setattr(alerts, "TIMEOUT_S", 0.5)
    failures = []
    for name, (url, status, delay, accepted) in cases.items():
        _Hook.status, _Hook.delay = status, delay
        result, logged = _alert(monkeypatch, caplog, url)
        lines = logged.splitlines()
        if result is not accepted:
            failures.append(f"{name}: send_alert gave {result!r}, not {accepted}")
        if SECRET in logged or "127.0.0.1" in logged:
            failures.append(f"{name}: the log shows the URL: {logged}")
        if not lines or json.loads(lines[0])["event"] != "publication_blocked":
            failures.append(f"{name}: no JSON alert line: {logged}")
        if not accepted and not any('"alert_webhook_failed"' in line for line in lines):
            failures.append(f"{name}: the failed webhook was not logged: {logged}")
    if not _Hook.received or any(SECRET.encode() in body for body in _Hook.received):
        failures.append(f"no alert arrived, or one carried the token: {_Hook.received}")
    result, logged = _alert(monkeypatch, caplog, None)  # not configured: log only
    if result is not False or len(logged.splitlines()) != 1:
        failures.append(f"without a webhook: {result!r}, {logged!r}")
    tally(
        record_tally,
        "(d) webhook outcomes keep the URL out of logs",
        len(cases) + 1,
        len(cases) + 1 - len(failures),
    )
    assert not failures, failures


@pytest.fixture
def not_http():
    """A webhook host that answers, but not in HTTP."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer():
        with contextlib.suppress(OSError):
            while True:
                client, _ = server.accept()
                with client:
                    client.recv(65536)
                    client.sendall(b"garbage, not HTTP\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_a_bad_webhook_neither_crashes_the_alert_nor_leaks_its_url(
    monkeypatch, caplog, not_http, record_tally
):
    """A typo in KPI_ALERT_WEBHOOK, or an endpoint that does not speak HTTP, must not turn an
    alert into a crash (the run's failure is being reported) whose message and traceback show
    the URL with its token."""
    bad = {
        "no scheme": f"hooks.example.com/{SECRET}",
        "space in host": f"http://exa mple.com/{SECRET}",
        "broken IPv6 host": f"http://[::1/{SECRET}",
        "endpoint not speaking HTTP": f"{not_http}/hook?token={SECRET}",
    }
    failures = {}
    for name, url in bad.items():
        result, logged = _alert(monkeypatch, caplog, url)
        if result is not False:
            failures[name] = f"send_alert {result}"
        elif SECRET in logged or '"alert_webhook_failed"' not in logged:
            failures[name] = f"logged {logged!r}"
    tally(record_tally, "(d) bad webhook URLs and endpoints", len(bad), len(bad) - len(failures))
    assert not failures, failures


SECRET_PATTERNS = {
    "webhook variable set to a value": re.compile(
        r"KPI_ALERT_WEBHOOK[\"']?\s*[:=]\s*[\"']?(https?|ftp)://", re.IGNORECASE
    ),
    "webhook variable exported": re.compile(r"export\s+KPI_ALERT_WEBHOOK\s*=\s*\S"),
    "chat webhook URL": re.compile(
        "|".join(
            re.escape(host)
            for host in (
                "hooks." + "slack.com",
                "discord.com/api/" + "webhooks",
                "oapi." + "dingtalk.com",
                "qyapi." + "weixin.qq.com",
                "open." + "feishu.cn/open-apis/bot",
                "webhook." + "office.com",
            )
        )
    ),
    "token in a URL (other than a local test server)": re.compile(
        r"https?://(?!127\.0\.0\.1|localhost)[^\s\"'<>]*[?&](token|key|secret|access_token)=[A-Za-z0-9]"
    ),
    "private key": re.compile("-----BEGIN [A-Z ]*PRIVATE" + " KEY-----"),
    "cloud access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "chat token": re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}"),
}


UNTRACKED = {".git", ".venv", ".tools", ".cache", "data", "target", "dbt_packages", "logs"}


def _tracked_files() -> list[str]:
    """The repository's files (``git ls-files``; outside a git checkout, the project tree
    without the ignored, generated and installed folders)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
        ).stdout.decode()
        return [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return [
            path.relative_to(PROJECT_ROOT).as_posix()
            for path in PROJECT_ROOT.rglob("*")
            if path.is_file()
            and not UNTRACKED & set(path.relative_to(PROJECT_ROOT).parts)
            and "cache" not in path.as_posix()
        ]


def test_no_webhook_or_secret_is_hard_coded_in_the_repository(record_tally):
    found = []
    scanned = 0
    for name in _tracked_files():
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        scanned += 1
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{name}: {what}: {match.group(0)[:60]}")
        if Path(name).name.startswith(".env"):
            found.append(f"{name}: an .env file is tracked")
    # the only place the webhook is read is the environment, at the moment an alert is sent
    source = (PROJECT_ROOT / "dagster_project" / "core" / "alerts.py").read_text(encoding="utf-8")
    reads = re.findall(r"os\.environ(?:\.get)?\(?\[?\s*([A-Z_]+)", source)
    assert reads == ["WEBHOOK_ENV"] and alerts.WEBHOOK_ENV == "KPI_ALERT_WEBHOOK"
    tally(
        record_tally,
        "(d) no hard-coded webhook or secret",
        scanned,
        scanned - len({f.split(":")[0] for f in found}),
        f"{scanned} tracked text files x {len(SECRET_PATTERNS)} patterns",
    )
    assert scanned > 50
    assert not found, found
