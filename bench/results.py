"""The bench's results: figures over repeated runs, the goals of issue 7, JSON and markdown.

A figure is ``{"median", "min", "max", "runs"}`` over the runs that produced it. Goals are
computed from the medians of the same invocation; each says at which size it is set
(``applies_at``) and whether this size's figures meet it. The figures are reported whether or
not they meet a goal.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tabulate import tabulate

from bench import SIZES, BenchPaths
from bench.measure import STAGES

GIB = 1024**3
SCHEMA_VERSION = 1
STAGE_ORDER = ("startup", *STAGES, "orchestration", "other")
GOAL_LABELS = {
    "full_refresh_over_floor": "full refresh / floor",
    "incremental_over_full_refresh": "one-day incremental / full refresh",
    "audit_share_of_full_refresh": "audit stage / full refresh",
    "peak_rss_gib": "peak RSS (GiB)",
    "generator_million_rows_per_s": "generator (M rows/s)",
    "incremental_growth_with_history": "incremental: full history / short history",
    "completes_within_memory_limit": "completes within the memory limit",
    "large_over_medium_full_refresh": "full refresh: large / medium",
}


def figure(values: Iterable[float | int | None]) -> dict | None:
    """Median, min and max of the values that are not None (None when there are none)."""
    runs = [v for v in values if v is not None]
    if not runs:
        return None
    median = statistics.median(runs)
    return {"median": median, "min": min(runs), "max": max(runs), "runs": runs}


def median(value: Mapping | None) -> float | None:
    return None if value is None else value["median"]


def per_key(records: Sequence[Mapping[str, float] | None], keys: Iterable[str]) -> dict:
    return {key: figure((r or {}).get(key) for r in records) for key in keys}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _goal(
    value: float | None, limit: float, at: str | list[str], size: str, at_least: bool = False
) -> dict:
    applies_at = [at] if isinstance(at, str) else at
    met = None if value is None else (value >= limit if at_least else value <= limit)
    return {
        "value": value,
        "goal": f"{'>=' if at_least else '<='} {limit:g}",
        "met": met,
        "applies_at": applies_at,
        "applies": size in applies_at,
    }


def run_ratios(records: Sequence[Mapping]) -> dict[str, dict | None]:
    """Per-run ratios of figures measured in the same run, as figures over the runs."""

    def each(numerator, denominator) -> list[float | None]:
        return [_ratio(numerator(r), denominator(r)) for r in records]

    def full(r: Mapping) -> float:
        return r["full_refresh"]["wall_s"]

    return {
        "full_refresh_over_floor": figure(
            each(full, lambda r: (r.get("floor") or {}).get("floor_s"))
        ),
        "incremental_over_full_refresh": figure(
            each(lambda r: (r.get("incremental") or {}).get("wall_s"), full)
        ),
        "audit_share_of_full_refresh": figure(
            each(lambda r: r["full_refresh"]["stage_s"].get("audit"), full)
        ),
    }


def goals(result: Mapping, other_results: Mapping[str, Mapping] | None = None) -> dict:
    """Issue 7's goals, from one invocation's figures (and the other sizes' results, for the
    large-to-medium ratio)."""
    size = result["size"]
    full = median(result.get("full_refresh_s"))
    incremental = median(result.get("incremental_s"))
    audit = median((result.get("stage_s") or {}).get("audit"))
    ratios = result.get("ratios") or {}

    def ratio(name: str, numerator: float | None, denominator: float | None) -> float | None:
        """The median of the per-run ratios (each run's figures measured together), else
        the ratio of the medians."""
        return median(ratios.get(name)) if ratios.get(name) else _ratio(numerator, denominator)

    computed = {
        "full_refresh_over_floor": _goal(
            ratio("full_refresh_over_floor", full, median(result.get("floor_s"))),
            1.5,
            "medium",
            size,
        ),
        "incremental_over_full_refresh": _goal(
            ratio("incremental_over_full_refresh", incremental, full), 0.10, "large", size
        ),
        "audit_share_of_full_refresh": _goal(
            ratio("audit_share_of_full_refresh", audit, full), 0.10, "medium", size
        ),
        "peak_rss_gib": _goal(
            _ratio(median(result.get("peak_rss_bytes")), GIB), 6.0, "medium", size
        ),
        "generator_million_rows_per_s": _goal(
            _ratio(result.get("generator_rows_per_s"), 1e6), 1.0, list(SIZES), size, True
        ),
    }
    history = result.get("history_check") or {}
    growth = _goal(
        _ratio(incremental, history.get("incremental_s")), 1.2, ["medium", "large"], size
    )
    growth["note"] = (
        "one-day incremental on the full history over the same on a "
        f"{history.get('history_days', '?')}-day history; 1.0 is no growth, 1.2 is the "
        "harness's allowance for noise (the issue sets no number)"
    )
    computed["incremental_growth_with_history"] = growth
    completed = all(run.get("completed") for run in result.get("runs", [])) and bool(
        result.get("runs")
    )
    computed["completes_within_memory_limit"] = {
        "value": completed,
        "goal": "every refresh exits 0, no out-of-memory error",
        "met": completed,
        "applies_at": ["large"],
        "applies": size == "large",
        "peak_spill_bytes": median(result.get("peak_spill_bytes")),
    }
    ratio = None
    others = other_results or {}
    if size == "large" and "medium" in others:
        ratio = _ratio(full, median(others["medium"].get("full_refresh_s")))
    elif size == "medium" and "large" in others:
        ratio = _ratio(median(others["large"].get("full_refresh_s")), full)
    computed["large_over_medium_full_refresh"] = _goal(ratio, 4.4, "large", size) | {
        "note": "needs both medium.json and large.json; read from the other file"
    }
    return computed


def load_results(results_dir: Path) -> dict[str, dict]:
    """The results of each size found in ``results_dir``, in size order."""
    found = {}
    for size in SIZES:
        path = results_dir / f"{size}.json"
        if path.exists():
            found[size] = json.loads(path.read_text(encoding="utf-8"))
    return found


def write_results(result: dict, paths: BenchPaths) -> tuple[Path, Path]:
    paths.results_dir.mkdir(parents=True, exist_ok=True)
    json_path = paths.result_json(result["size"])
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    md_path = paths.result_markdown(result["size"])
    md_path.write_text(render_markdown(result), encoding="utf-8")
    return json_path, md_path


# ---------------------------------------------------------------------------------- markdown


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s" if value >= 10 else f"{value:,.2f} s"


def _bytes(value: float | None) -> str:
    return "-" if value is None else f"{value / GIB:,.2f} GiB"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str) -> list[str]:
    """A markdown table, its columns padded; ``align``: one letter a column, l or r. The cells
    are text already formatted: tabulate must not read "2.000" as a number and reformat it."""
    columns = ["left" if a == "l" else "right" for a in align]
    text = tabulate(rows, headers, tablefmt="pipe", colalign=columns, disable_numparse=True)
    return text.splitlines()


def _figure_row(label: str, value: Mapping | None, fmt) -> list[str]:
    if value is None:
        return [label, "-", "-", "-"]
    return [label, fmt(value["median"]), fmt(value["min"]), fmt(value["max"])]


def _goal_value(name: str, goal: Mapping) -> str:
    value = goal["value"]
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value).lower()
    if name == "generator_million_rows_per_s":
        return f"{value:,.2f} M rows/s"
    if name == "peak_rss_gib":
        return f"{value:,.2f} GiB"
    return f"{value:,.3f}"


def render_markdown(result: Mapping) -> str:
    """One size's results as a markdown section: figures, stages, goals, provenance."""
    size = result["size"]
    parameters = result["parameters"]
    machine = result["machine"]
    git = result["git"]
    lines = [
        f"# Benchmark: {size}",
        "",
        f"{parameters['days']} days x {parameters['sessions_per_day']:,} sessions/day "
        f"({result['rows_total']:,} raw rows); median, min and max of {result['repeat']} "
        f"run(s); {result['timestamp']}, commit `{(git.get('commit') or '?')[:12]}`"
        + (" (with uncommitted changes)" if git.get("dirty") else "")
        + ".",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{_bytes(machine['memory_bytes'])} RAM, {machine['os']}; Python {machine['python']}, "
        f"DuckDB {machine['duckdb']}. DuckDB memory_limit "
        f"{result['settings']['duckdb_memory_limit']}, threads "
        f"{result['settings']['duckdb_threads']}."
        + (
            f" Machine load (1-min average at the start and end of each measured command): "
            f"median {load['median']:.1f}, max {load['max']:.1f}."
            if (load := result.get("load_average_1min"))
            else ""
        ),
        "",
    ]
    figures = [
        _figure_row(
            f"full refresh ({result['history_days']} days)", result["full_refresh_s"], _seconds
        ),
    ]
    figures += [
        _figure_row(f"&nbsp;&nbsp;{stage}", result["stage_s"].get(stage), _seconds)
        for stage in STAGE_ORDER
        if result["stage_s"].get(stage) and result["stage_s"][stage]["max"] != 0
    ]
    figures += [
        _figure_row(
            f"one-day incremental ({result['incremental_day']})",
            result["incremental_s"],
            _seconds,
        ),
        _figure_row("floor (plain DuckDB, same marts)", result["floor_s"], _seconds),
        _figure_row("peak RSS, refresh process tree", result["peak_rss_bytes"], _bytes),
        _figure_row("peak RSS, floor", result.get("floor_peak_rss_bytes"), _bytes),
        _figure_row("peak DuckDB spill", result.get("peak_spill_bytes"), _bytes),
        [
            "generator",
            f"{result['generator_rows_per_s']:,.0f} rows/s",
            "",
            "(measured when generated)",
        ],
    ]
    history = result.get("history_check")
    if history:
        figures.append(
            [
                f"one-day incremental on a {history['history_days']}-day history",
                _seconds(history.get("incremental_s")),
                "",
                "(1 run)",
            ]
        )
    lines += _table(["figure", "median", "min", "max"], figures, "lrrr")
    goal_rows = []
    for name, goal in result["goals"].items():
        met = "-" if goal["met"] is None else "yes" if goal["met"] else "**no**"
        spread = (result.get("ratios") or {}).get(name)
        goal_rows.append(
            [
                GOAL_LABELS.get(name, name),
                goal["goal"],
                _goal_value(name, goal)
                + (
                    f" ({spread['min']:,.3f} to {spread['max']:,.3f})"
                    if spread and spread["min"] != spread["max"]
                    else ""
                ),
                met,
                ", ".join(goal["applies_at"]),
            ]
        )
    lines += ["", *_table(["goal", "target", "value", "met", "set at"], goal_rows, "llrll")]
    lines += ["", "Raw rows per table (all days):", ""]
    incremental_rows = result.get("incremental_rows") or {}
    lines += _table(
        ["table", "rows", "incremental day"],
        [
            [table, f"{rows:,}", f"{incremental_rows.get(table, 0):,}"]
            for table, rows in result["rows"].items()
        ],
        "lrr",
    )
    if result.get("floor_rows_match"):
        floor_rows = "The floor computed the same row count as the pipeline for every mart table."
    elif median(result.get("floor_s")) is None:
        floor_rows = "The floor did not finish (see the problems): no mart row counts to compare."
    else:
        floor_rows = (
            "The floor's mart row counts were not all the pipeline's: see "
            "`floor_row_mismatches` in the JSON."
        )
    lines += ["", floor_rows]
    if result.get("problems"):
        lines += ["", "Problems:", ""] + [f"- {p}" for p in result["problems"]]
    return "\n".join(lines) + "\n"


def readme_section(results_dir: Path | None = None) -> str:
    """The README's results table: one column per size found in ``results_dir``."""
    results = load_results(results_dir or BenchPaths.default().results_dir)
    if not results:
        return "No benchmark results yet: run `kpi-bench --size small`.\n"
    sizes = list(results)
    # recomputed from each file's figures, so the large-to-medium ratio pairs the files on hand
    # (each JSON keeps the ratio against the other size's file at the time it was written)
    current_goals = {size: goals(result, results) for size, result in results.items()}

    def cells(get) -> list[str]:
        return [get(results[size]) for size in sizes]

    def stage(name: str):
        return lambda r: _seconds(median((r["stage_s"] or {}).get(name)))

    rows = [
        (
            "days x sessions/day",
            cells(lambda r: f"{r['parameters']['days']} x {r['parameters']['sessions_per_day']:,}"),
        ),
        ("raw rows", cells(lambda r: f"{r['rows_total']:,}")),
        (
            "generator",
            cells(lambda r: f"{r['generator_rows_per_s'] / 1e6:,.2f} M rows/s"),
        ),
        ("full refresh", cells(lambda r: _seconds(median(r["full_refresh_s"])))),
    ]
    rows += [(f"&nbsp;&nbsp;{s}", cells(stage(s))) for s in STAGE_ORDER if s != "other"]
    rows += [
        ("one-day incremental", cells(lambda r: _seconds(median(r["incremental_s"])))),
        ("floor", cells(lambda r: _seconds(median(r["floor_s"])))),
        ("peak RSS", cells(lambda r: _bytes(median(r["peak_rss_bytes"])))),
        ("peak spill", cells(lambda r: _bytes(median(r.get("peak_spill_bytes"))))),
    ]
    for name, first_goal in current_goals[sizes[0]].items():
        target = first_goal["goal"]

        def goal_cell(r, name=name) -> str:
            goal = current_goals[r["size"]].get(name)
            if goal is None:
                return "-"
            text = _goal_value(name, goal)
            if goal["applies"] and goal["met"] is not None:
                text += " ✓" if goal["met"] else " ✗"
            return text

        rows.append((f"{GOAL_LABELS.get(name, name)} ({target})", cells(goal_cell)))
    rows.append(
        (
            "run",
            cells(
                lambda r: (
                    f"{r['timestamp'][:10]}, `{(r['git'].get('commit') or '?')[:8]}`"
                    + (" +dirty" if r["git"].get("dirty") else "")
                    + f", {r['repeat']} run(s)"
                )
            ),
        )
    )
    first = results[sizes[0]]
    lines = [
        *_table(["", *sizes], [[label, *values] for label, values in rows], "l" + "r" * len(sizes)),
        "",
        f"Medians; ✓/✗ mark a goal at the size it is set for. Machine: "
        f"{first['machine']['cpu']}, {first['machine']['cores']} cores, "
        f"{_bytes(first['machine']['memory_bytes'])} RAM; DuckDB memory_limit "
        f"{first['settings']['duckdb_memory_limit']}, threads "
        f"{first['settings']['duckdb_threads']}. Details: `bench/results/<size>.md`.",
    ]
    return "\n".join(lines) + "\n"
