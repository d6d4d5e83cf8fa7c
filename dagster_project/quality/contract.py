"""The raw `contract` check's verdict on one table: what the raw layer holds of it, each problem
found as a kind of finding, and the policy's severity for each kind (``policy.yml``,
``raw_contract``). The check (ingest) and ``kpi status`` both read it from here."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
import duckdb

from dagster_project.ingest.contract import Table
from dagster_project.ingest.landing_days import MARKER_DIR
from dagster_project.ingest.loader import absent_sources
from dagster_project.ingest.sql_templates import statement
from dagster_project.quality.policy import Policy, current, dagster_severity


def foreign_keys(table: Table) -> list[tuple[str, str, str]]:
    """(column, parent table, parent column) of each declared reference."""
    return [
        (column.name, *column.references.split("."))
        for column in table.columns
        if column.references
    ]


def _day_ranges(days: Sequence[date]) -> str:
    """``2025-12-01 .. 2025-12-03, 2025-12-07``: consecutive days as one range."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]} .. {r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


@dataclass(frozen=True)
class Finding:
    kind: str  # a kind of policy.yml's raw_contract
    message: str


@dataclass(frozen=True)
class ContractState:
    """What the raw layer holds of one table that the contract check judges."""

    table: str
    failures: list[str]  # messages of the open failures, each naming its file and problem
    unbalanced: list[str]  # files whose manifest counts disagree with the rows stored
    rows_read: int
    rows_rejected: int

    @property
    def rejected_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def findings(self, max_rejected_share: float, missing: Sequence[date] = ()) -> list[Finding]:
        """Every problem of the table, one line each, with its kind (not yet its severity)."""
        found = [Finding("failed_file", message) for message in self.failures]
        found += [
            Finding(
                "unbalanced_file",
                f"landing/{f}: unbalanced: the manifest's rows read differ from the rows loaded "
                "plus rejected",
            )
            for f in self.unbalanced
        ]
        if self.rejected_share > max_rejected_share:
            found.append(
                Finding(
                    "rejected_share",
                    f"raw.{self.table}: {self.rows_rejected:,} of {self.rows_read:,} rows "
                    f"rejected ({self.rejected_share:.2%}), more than KPI_MAX_REJECTED_SHARE "
                    f"{max_rejected_share:.2%}: see `kpi status --rejects {self.table}`",
                )
            )
        elif self.rows_rejected:
            found.append(
                Finding(
                    "rejected_rows",
                    f"raw.{self.table}: {self.rows_rejected:,} rows rejected "
                    f"({self.rejected_share:.2%}): see `kpi status --rejects {self.table}`",
                )
            )
        if len(missing) == 1:
            (day,) = missing
            found.append(
                Finding(
                    "missing_day",
                    f"landing/{self.table}/dt={day}/: no file for business day {day} (if the "
                    f"day really had nothing to deliver, write an empty "
                    f"landing/{MARKER_DIR}/dt={day})",
                )
            )
        elif missing:
            found.append(
                Finding(
                    "missing_day",
                    f"landing/{self.table}/: no file for business days {_day_ranges(missing)} "
                    "(if a day really had nothing to deliver, write an empty "
                    f"landing/{MARKER_DIR}/dt=<day>)",
                )
            )
        return found


def contract_state(con: duckdb.DuckDBPyConnection, table: Table) -> ContractState:
    params = {"table_name": table.name}
    failures = con.execute(statement("open_failures.sql"), params).fetchall()
    unbalanced = con.execute(statement("unbalanced_files.sql", table=table), params).fetchall()
    ((rows_read, rows_rejected),) = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0)"
        " from raw._load_manifest where table_name = $table_name",
        params,
    ).fetchall()
    return ContractState(
        table.name,
        [message for _, _, message in failures],
        [f for (f,) in unbalanced],
        rows_read,
        rows_rejected,
    )


def orphans(con: duckdb.DuckDBPyConnection, table: Table) -> list[tuple]:
    """(column, parent, rows, sample) of each foreign key with rows whose parent is not in the
    raw layer. A reference into a source that never delivered cannot be checked: none."""
    existing = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    absent = set(absent_sources(con))
    checked = [fk for fk in foreign_keys(table) if fk[1] in existing and fk[1] not in absent]
    if not checked:
        return []
    sql = statement("orphans.sql", table=table, foreign_keys=checked)
    return [row for row in con.execute(sql).fetchall() if row[2] > 0]


@dataclass(frozen=True)
class ContractVerdict:
    """The contract check's verdict on one table: its findings, judged by the policy."""

    state: ContractState
    findings: list[Finding]
    orphans: list[tuple] = field(default_factory=list)
    policy: Policy = field(default_factory=current)

    def _with(self, severity: str) -> list[str]:
        judge = self.policy.contract_severity
        return [finding.message for finding in self.findings if judge(finding.kind) == severity]

    @property
    def blocking(self) -> list[str]:
        """Why the table blocks publication, one line each; empty when it does not."""
        return self._with("block")

    @property
    def warnings(self) -> list[str]:
        return self._with("warn")


def contract_verdict(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    max_rejected_share: float,
    missing: Sequence[date] = (),
    policy: Policy | None = None,
) -> ContractVerdict:
    """The verdict on what the raw layer holds of ``table``; ``missing`` are days without a file
    of a daily source (landing_days.missing_days)."""
    state = contract_state(con, table)
    found = orphans(con, table)
    findings = state.findings(max_rejected_share, missing)
    findings += [
        Finding(
            "orphan_foreign_key", f"raw.{table.name}: {count:,} rows whose {column} has no {parent}"
        )
        for column, parent, count, _ in found
    ]
    return ContractVerdict(state, findings, found, policy or current())


def evaluate_contract(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    max_rejected_share: float,
    missing: Sequence[date] = (),
    policy: Policy | None = None,
) -> dg.AssetCheckResult:
    """The contract check's result for ``table``: failed at ERROR severity when a finding the
    policy says blocks was found (described by those), else at WARN when one that warns was."""
    verdict = contract_verdict(con, table, max_rejected_share, missing, policy)
    state, blocking, warnings = verdict.state, verdict.blocking, verdict.warnings
    rejected = dict(
        con.execute(
            "select reason_code, count(*) from raw._rejected_rows where table_name = $table_name"
            " group by all order by all",
            {"table_name": table.name},
        ).fetchall()
    )
    return dg.AssetCheckResult(
        passed=not blocking and not warnings,
        severity=dagster_severity("block" if blocking else "warn"),
        description="; ".join(blocking or warnings) or None,
        metadata={
            "failed_files": len(state.failures),
            "rows_read": state.rows_read,
            "rows_rejected": state.rows_rejected,
            "rejected_share": state.rejected_share,
            "max_rejected_share": max_rejected_share,
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {message}" for message in state.failures) or "none"
            ),
            "unbalanced_files": state.unbalanced,
            "missing_days": [day.isoformat() for day in missing],
            "rejected_rows_by_reason": rejected,
            "orphan_rows_by_column": {column: count for column, _, count, _ in verdict.orphans},
            "orphan_foreign_keys": dg.MetadataValue.md(
                "\n".join(
                    f"- {column} → {parent}: {count} rows, e.g. {', '.join(map(str, sample))}"
                    for column, parent, count, sample in verdict.orphans
                )
                or "none"
            ),
        },
    )
