"""Issue 8 §2, crash safety: SIGKILL ``kpi refresh`` at seeded random points in ingest, audit,
dbt and publish; after every kill the published mart is the old or the new complete
publication, and the next run completes with exactly the result of an uninterrupted run.

The shop (crash_helpers.shared_history): 7 generated days. Run A (the real ``kpi refresh
--from`` day 1 ``--to`` day 6) published the *old* publication. Run B, uninterrupted, then
refreshed day 7 on a copy of that state: its publication and build are the expected result.
All kills are chained, from run A's state: the state a kill leaves is where the next trial
starts. The publish kills come first, on run A's build (it passed its audit; B runs meanwhile),
then the refresh kills, with day 7 still to load. One recovery ends them:
``kpi refresh --date`` day 7, to completion, from what every kill left behind.

- Kills in a refresh: ``kpi refresh --date`` day 7 is forked (crash_helpers.Zygote: exactly
  the ``kpi`` console script, in its own session) and killed with ``os.killpg(SIGKILL)``, dbt
  included, at a seeded random moment of the aimed stage: drawn uniformly over the stage's
  duration in run B and located in B's event stream (the k-th event after the stage's first
  STEP_START, then the seconds it took after that event), so that it lands inside the stage
  whatever the machine's load. An ingest kill fires as a raw step of a table this run still
  has to load starts (crash_helpers.ingest_kill_step: the steps are shorter than the
  observer's reaction). Where the kill landed is read back from the event log; the tallies
  count kills by where they landed.
- Kills in publish: publication takes ~1 s, and its part that touches what readers see (two
  renames) microseconds, so time-random kills would almost never hit it. ``publish()`` runs
  in its own forked process under the warehouse lock, as in a run, on a build that passed the
  audit (run A's), and SIGKILLs itself just before executing a chosen line of
  ``publication.py``: the line a dry run executed at a seeded random position of its ~700
  executed lines, then every line of the swap phase, from the ``os.replace`` of the new file
  on (crash_helpers.publish_kill_points finds the same point again in a run whose loops over
  leftovers differ).

After every kill: ``published/kpi_mart.duckdb`` opens read-only and is complete (its newest
publication_log entry's rows_per_table equals the row counts of exactly the tables present);
it is either unchanged (the run id and content hashes from before the kill) or the killed
run's publication with the content it publishes (run B's for a refresh, run A's for
publish); ``published/parquet/`` likewise, with its own publication_log.parquet; no process
of the killed run survives.
After the recovery: exit 0; the published content hashes (DuckDB and Parquet) equal run B's;
the build's raw tables and facts equal run B's (content hashes without load times); raw keys
are unique per file and match the load manifest; every manifest row balances; no temporary
file is left in published/ or warehouse/.

Tally ``crash safety: kills N (...), then a recovery; passed ...`` (tests/conftest.py,
record_tally).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dagster_project.publish import publication
from tests.reliability.crash_helpers import (
    NEW_DAY,
    PUBLISHED_FILE,
    TARGETS,
    Build,
    Events,
    Publication,
    Zygote,
    float_only_difference,
    ingest_kill_step,
    inspect_build,
    inspect_publication,
    kill_point,
    landed_in,
    leftover_files,
    log,
    process_group_alive,
    publish_kill_points,
    shared_history,
    stage_clock,
    stage_of,
    tables_to_load,
)

SEED = 20250607
# The publish kills: 14 before a random line, then one before every line of the swap phase
PUBLISH_RANDOM_KILLS = 14
# then the refresh kills, chained, and the recovery: with the publish kills, 20 at random. Each
# kill's moment is drawn over the aimed stage of run B (the uninterrupted refresh of the same
# day). Ingest kills come first: once a run got past ingest, day 7 is loaded and later ingests
# have little to do.
REFRESH_KILLS = ("ingest", "ingest", "audit_pre", "audit_pre", "dbt", "dbt")
SWAP_PHASE_STARTS_AT = "    os.replace(staging_file, published_path(settings))"
POLL_S = 0.05


@dataclass
class Kill:
    kind: str  # refresh | publish-random | publish-swap
    aimed: str
    killed_run: str
    before: Publication
    after: Publication | None = None
    landed: str = ""
    stage: str = ""  # where it landed: ingest | audit | dbt | publish | report
    file_copy: Path | None = None  # the published file, when the killed run published
    problems: list[str] = field(default_factory=list)
    mart: str = ""
    parquet: str = ""


@dataclass
class Recovery:
    status: int
    output: str
    run_ids: set[str]
    publication: Publication
    build: Build
    leftovers: list[str]
    file_copy: Path
    problems: list[str] = field(default_factory=list)


@dataclass
class Trials:
    kills: list[Kill] = field(default_factory=list)
    recovery: Recovery | None = None
    seconds: float = 0.0
    tally: str = ""  # cases tried / passed (the failures: in the tests' messages)


def _differences(found: dict, expected: dict) -> list[str]:
    return sorted(t for t in set(found) | set(expected) if found.get(t) != expected.get(t))


def _judge_kill(kill: Kill, expected: Publication, expected_file: Path) -> None:
    """The mart and the Parquet directory after a kill: each 'old' (exactly as before the
    kill) or 'new' (the killed run's complete publication with run B's content)."""

    def judge(part, prefix, run_before, before, run_after, after, wanted) -> str:
        broken_before = [p for p in kill.before.problems if p.startswith(prefix)]
        broken_after = [p for p in kill.after.problems if p.startswith(prefix)]
        if (run_after, after, broken_after) == (run_before, before, broken_before):
            return "old"
        if broken_after:
            kill.problems.extend(f"{part}: {p}" for p in broken_after)
            return "broken"
        if run_after != kill.killed_run:
            kill.problems.append(
                f"{part}: the published run {run_after} is neither the old {run_before} nor "
                f"the killed {kill.killed_run}"
            )
            return "foreign"
        differing = _differences(after, wanted)
        if differing:
            floats = bool(kill.file_copy) and all(
                float_only_difference(kill.file_copy, expected_file, t) for t in differing
            )
            kill.problems.append(
                f"{part}: the killed run published other content in {differing}"
                + (" (only in the last digits of doubles)" if floats else "")
            )
            return "other content"
        return "new"

    before, after = kill.before, kill.after
    kill.mart = judge(
        "mart",
        PUBLISHED_FILE,
        before.run_id,
        before.hashes,
        after.run_id,
        after.hashes,
        expected.hashes,
    )
    kill.parquet = judge(
        "parquet",
        "parquet",
        before.parquet_run_id,
        before.parquet_hashes,
        after.parquet_run_id,
        after.parquet_hashes,
        expected.parquet_hashes,
    )


def _judge_recovery(recovery: Recovery, baseline, expected_file: Path) -> None:
    problems = recovery.problems
    published = recovery.publication
    if recovery.status != 0 or "published " not in recovery.output:
        problems.append(f"exit {recovery.status}: {recovery.output[-3000:]}")
    problems += published.problems
    if len(recovery.run_ids) != 1 or {published.run_id, published.parquet_run_id} != set(
        recovery.run_ids
    ):
        problems.append(
            f"published runs {published.run_id} / {published.parquet_run_id}, the recovery "
            f"was {recovery.run_ids}"
        )
    expected = baseline.publication
    for what, found, wanted in (
        ("published tables", published.hashes, expected.hashes),
        ("parquet files", published.parquet_hashes, expected.parquet_hashes),
        ("raw tables", recovery.build.raw, baseline.build.raw),
        ("facts", recovery.build.facts, baseline.build.facts),
    ):
        differing = _differences(found, wanted)
        if differing:
            floats = what == "published tables" and all(
                float_only_difference(recovery.file_copy, expected_file, t) for t in differing
            )
            problems.append(
                f"{what} differ from the uninterrupted run's: {differing}"
                + (" (only in the last digits of doubles)" if floats else "")
            )
    problems += recovery.build.duplicate_problems()
    if recovery.leftovers:
        problems.append(f"temporary files left: {recovery.leftovers}")


class Trial:
    """The trial directory, its zygote, and what happened in it."""

    def __init__(self, history, rng: random.Random):
        self.history = history
        self.dir = history.trial_dir
        self.published = self.dir / "published"
        self.copies = history.root / "copies"
        self.copies.mkdir(exist_ok=True)
        self.events = Events(self.dir)
        self.zygote = Zygote(self.dir, history.root / "logs-trial")
        self.rng = rng
        self.result = Trials()
        self.current = inspect_publication(self.published)

    def _inspect_after(self, kill: Kill) -> None:
        kill.after = inspect_publication(self.published)
        if kill.after.run_id == kill.killed_run:
            kill.file_copy = self.copies / f"kill-{len(self.result.kills) + 1:02d}.duckdb"
            shutil.copy(self.published / PUBLISHED_FILE, kill.file_copy)
        self.result.kills.append(kill)
        self.current = kill.after
        log(
            f"kill {len(self.result.kills):2d} [{kill.kind}] aimed at {kill.aimed}, landed in "
            f"{kill.landed}: published {str(kill.after.run_id)[:16]} / parquet "
            f"{str(kill.after.parquet_run_id)[:16]}"
            + (f" {kill.after.problems}" if kill.after.problems else "")
        )

    def kill_refresh(self, aimed: str) -> None:
        events = self.history.baseline.events
        pending = (
            {f"raw__{table}" for table in tables_to_load(self.dir, NEW_DAY)}
            if aimed == "ingest"
            else set()
        )
        if pending:
            first = not any(k.aimed == "ingest" for k in self.result.kills)
            step, index, delay = ingest_kill_step(events, pending, self.rng, first), None, 0.0
        else:
            step, (index, delay) = None, kill_point(stage_clock(events, aimed), self.rng)
        mark = self.events.last_id()
        pid, out = self.zygote.start(
            {"kind": "kpi", "name": f"kill-{aimed}", "args": ["refresh", "--date", str(NEW_DAY)]}
        )
        kill = Kill("refresh", aimed, "", self.current)
        seen, started, fire_at, status = mark, None, None, None
        deadline = time.monotonic() + 900
        while fire_at is None or time.monotonic() < fire_at:
            for event in self.events.since(seen, every=True):
                seen, kill.killed_run = event[0], event[1]
                if started is None:
                    if event[2] == "STEP_START" and TARGETS[aimed](event[3]):
                        started = 0
                    else:
                        continue
                else:
                    started += 1
                if event[2] == "STEP_START" and not TARGETS[aimed](event[3]):
                    fire_at = time.monotonic()  # the stage is over (this run is faster): now
                elif fire_at is None and (
                    event[2:4] == ("STEP_START", step) if step else started >= index
                ):
                    fire_at = time.monotonic() + delay
            status = self.zygote.poll(pid)
            if status is not None or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        if status is None:
            with contextlib.suppress(ProcessLookupError):  # it may have ended just now
                os.killpg(pid, signal.SIGKILL)
            status = self.zygote.wait(pid)
        survivors = []
        for _ in range(100):
            survivors = process_group_alive(pid)
            if not survivors:
                break
            time.sleep(0.1)
        run_events = [e for e in self.events.since(mark) if e[1] == kill.killed_run]
        step = landed_in(run_events)
        kill.stage = stage_of(step) if step in {e[3] for e in run_events} else "none"
        kill.landed = f"{step} ({kill.stage})"
        if status != -signal.SIGKILL:
            kill.stage = "ended"
            kill.problems.append(
                f"the run ended (exit {status}) before the kill:\n{out.read_text()[-3000:]}"
            )
        if survivors:
            kill.problems.append(f"processes of the killed run survived: {survivors}")
        self._inspect_after(kill)

    def kill_publish(self, how: str, position: int, lines: list[int], checks_passed: int):
        """Kill publish() before the line it executed at ``position`` in the dry run."""
        run_id = f"publish-kill-{len(self.result.kills) + 1:02d}"
        kill_at = publish_kill_points(lines)[position]
        pid, out = self.zygote.start(
            {
                "kind": "publish",
                "name": run_id,
                "run_id": run_id,
                "kill_at": kill_at,
                "checks_passed": checks_passed,
            }
        )
        status = self.zygote.wait(pid)
        kill = Kill(f"publish-{how}", "publish", run_id, self.current, stage="publish")
        where = Path(f"{out}.where")
        landed = json.loads(where.read_text()) if where.exists() else {"line": "?"}
        kill.landed = f"publication.py:{landed['line']} (#{position + 1}/{len(lines)})"
        if status != -signal.SIGKILL:
            kill.problems.append(f"publish ended (exit {status}):\n{out.read_text()[-3000:]}")
        self._inspect_after(kill)

    def recover(self) -> None:
        mark = self.events.last_id()
        status, output = self.zygote.kpi("refresh", "--date", str(NEW_DAY), name="R")
        copy = self.copies / "R.duckdb"
        shutil.copy(self.published / PUBLISHED_FILE, copy)
        self.current = inspect_publication(self.published)
        self.result.recovery = Recovery(
            status,
            output,
            {e[1] for e in self.events.since(mark)},
            self.current,
            inspect_build(self.dir / "warehouse" / "build.duckdb"),
            leftover_files(self.dir),
            copy,
        )
        log(f"recovery R: exit {status}, published {str(self.current.run_id)[:16]}")


@pytest.fixture(scope="module")
def trials(tmp_path_factory) -> Trials:
    history = shared_history(tmp_path_factory)
    started = time.monotonic()
    trial = Trial(history, random.Random(SEED))
    run_a = trial.current  # what publish() of run A's build publishes again
    run_a_file = trial.copies / "A.duckdb"
    shutil.copy(trial.published / PUBLISHED_FILE, run_a_file)
    try:
        # publish() alone on run A's build, killed before its k-th executed line of
        # publication.py (run B runs in the chain meanwhile: the refresh kills aim by its events)
        checks_passed = trial.current.checks_passed
        pid, out = trial.zygote.start(
            {
                "kind": "publish",
                "name": "publish-dry",
                "run_id": "publish-dry-run",
                "checks_passed": checks_passed,
            }
        )
        assert trial.zygote.wait(pid) == 0, out.read_text()[-3000:]
        lines = json.loads(out.read_text().strip().splitlines()[-1])["lines"]
        trial.current = inspect_publication(trial.published)
        assert trial.current.run_id == "publish-dry-run", trial.current
        assert not trial.current.problems, trial.current.problems
        source = Path(publication.__file__).read_text().splitlines()
        swap_from = lines.index(source.index(SWAP_PHASE_STARTS_AT) + 1)  # 0-based position
        log(
            f"publish executes {len(lines)} lines of publication.py; the swap phase is lines "
            f"#{swap_from + 1}..#{len(lines)}"
        )
        for _ in range(PUBLISH_RANDOM_KILLS):
            position = trial.rng.randrange(len(lines))
            trial.kill_publish("random", position, lines, checks_passed)
        for position in range(swap_from, len(lines)):
            trial.kill_publish("swap", position, lines, checks_passed)

        for aimed in REFRESH_KILLS:
            trial.kill_refresh(aimed)
        trial.recover()
    finally:
        trial.zygote.close()
    result = trial.result
    result.seconds = time.monotonic() - started

    baseline = history.baseline  # the refresh kills and the recovery compare with run B
    baseline_file = history.root / "B.duckdb"
    for kill in result.kills:
        if kill.kind == "refresh":
            _judge_kill(kill, baseline.publication, baseline_file)
        else:
            _judge_kill(kill, run_a, run_a_file)
    _judge_recovery(result.recovery, baseline, baseline_file)

    kills = result.kills
    stages = [k.stage for k in kills]
    random_kills = [k for k in kills if k.kind != "publish-swap"]
    result.tally = (
        f"crash safety: kills {len(kills)} (landed in ingest {stages.count('ingest')}, audit "
        f"{stages.count('audit')}, dbt {stages.count('dbt')}, publish {stages.count('publish')}"
        + "".join(f", {s} {stages.count(s)}" for s in ("report", "ended", "none") if s in stages)
        + f"; {len(random_kills)} at random points, {len(kills) - len(random_kills)} before "
        f"every line of publish's swap phase), then a recovery; passed: kills "
        f"{sum(not k.problems for k in kills)}/{len(kills)}, recovery "
        f"{'no' if result.recovery.problems else 'yes'}; after the "
        f"kills the mart was old {[k.mart for k in kills].count('old')}, new "
        f"{[k.mart for k in kills].count('new')}, parquet old "
        f"{[k.parquet for k in kills].count('old')}, new {[k.parquet for k in kills].count('new')}"
        f"; {result.seconds:.0f} s"
    )
    return result


def test_at_least_20_random_kills_in_ingest_audit_dbt_and_publish(trials, record_tally):
    record_tally(trials.tally)
    stages = [k.stage for k in trials.kills if k.kind != "publish-swap"]
    assert len(stages) >= 20
    for stage in ("ingest", "audit", "dbt", "publish"):
        assert stages.count(stage) >= 2, (stage, stages)


def test_after_every_kill_the_mart_is_the_old_or_the_new_complete_publication(trials):
    failed = [
        f"kill {n} [{k.kind}] in {k.landed}: {k.problems}"
        for n, k in enumerate(trials.kills, start=1)
        if k.problems
    ]
    assert not failed, "\n".join(failed)


def test_the_next_run_completes_with_the_uninterrupted_result(trials):
    assert not trials.recovery.problems, "\n".join(trials.recovery.problems)
