"""The bench's landing files: generated once per size, then linked into each run's data dir."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from bench import Size
from dagster_project.ingest.loader import day_of_folder
from demo_shop.truths import DEMO

MARKER = "generated.json"


def generation_parameters(size: Size, timezone: str) -> dict[str, object]:
    return {
        "start": DEMO.start.isoformat(),
        "days": size.days,
        "sessions_per_day": size.sessions_per_day,
        "seed": DEMO.seed,
        "timezone": timezone,
    }


def _files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def read_marker(cache: Path) -> dict | None:
    try:
        return json.loads((cache / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_cache(
    cache: Path,
    size: Size,
    timezone: str,
    regenerate: bool = False,
    echo: Callable[[str], None] = print,
) -> dict:
    """Generate ``cache/landing`` unless a complete generation with the same parameters is there.

    Returns the marker: the parameters, rows per table, files, and the generator's speed when
    it ran (``cached`` tells whether this call generated or reused).
    """
    landing = cache / "landing"
    parameters = generation_parameters(size, timezone)
    marker = None if regenerate else read_marker(cache)
    if (
        marker is not None
        and marker.get("parameters") == parameters
        and len(_files(landing)) == marker.get("files")
    ):
        echo(
            f"reusing {marker['total_rows']:,} generated rows in {landing} "
            f"(generated {marker['generated_at']})"
        )
        return marker | {"cached": True}

    from demo_shop import generate

    if cache.exists():
        shutil.rmtree(cache)
    landing.mkdir(parents=True)
    echo(f"generating {size.days} days x {size.sessions_per_day:,} sessions/day into {landing} ...")
    summary = generate(
        landing,
        date.fromisoformat(str(parameters["start"])),
        size.days,
        size.sessions_per_day,
        DEMO.seed,
        timezone=timezone,
    )
    marker = {
        "parameters": parameters,
        "rows": summary.rows,
        "total_rows": summary.total_rows,
        "files": len(_files(landing)),
        "bytes": sum(p.stat().st_size for p in _files(landing)),
        "seconds": round(summary.seconds, 3),
        "rows_per_second": round(summary.rows_per_second, 1),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    partial = cache / f".{MARKER}.tmp"
    partial.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    partial.replace(cache / MARKER)  # written last: its presence means the cache is complete
    echo(
        f"generated {summary.total_rows:,} rows in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s)"
    )
    return marker | {"cached": False}


def file_day(landing: Path, path: Path) -> date | None:
    """The business day of a landing file (its ``<table>/dt=<day>/`` folder)."""
    parts = path.relative_to(landing).parts
    return day_of_folder(parts[1]) if len(parts) == 3 else None


def landing_days(landing: Path) -> list[date]:
    """Every business day that has at least one file, in order."""
    return sorted({d for p in _files(landing) if (d := file_day(landing, p)) is not None})


def link_days(source: Path, target: Path, days: Iterable[date]) -> tuple[int, int]:
    """Hard-link (or copy, across file systems) the files of ``days`` from one landing zone
    into another, keeping the layout. Returns (files linked, files copied)."""
    wanted = set(days)
    linked = copied = 0
    for path in _files(source):
        if file_day(source, path) not in wanted:
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
            linked += 1
        except OSError:
            shutil.copy2(path, destination)
            copied += 1
    return linked, copied
