"""The embedded demo-data generator: a deterministic, simulated shop's landing zone.

``generate`` writes every raw table of the contract for any period and size, so the
pipeline runs on a fresh machine with no data of the user's. The data carries planted truths
(``truths.py``) that the KPI mart must recover, and optional defects (``defects.py``) that the
ingestion gate must catch.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from . import defects as defect_registry
from .dimensions import write_dimensions
from .fulfilment import fulfil
from .marketing import write_marketing
from .shop import Shop
from .timeline import Timeline
from .writer import LandingWriter

__all__ = ["GenerationSummary", "generate"]


@dataclass(frozen=True)
class GenerationSummary:
    """What a run wrote (clean rows per table; defect files listed separately) and how fast."""

    rows: dict[str, int]
    files: list[Path]
    defect_files: list[Path]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else float("inf")


def generate(
    out: Path,
    start: date,
    days: int,
    sessions_per_day: int,
    seed: int,
    defects: Iterable[str] = (),
    timezone: str = "Asia/Shanghai",
) -> GenerationSummary:
    """Write the landing zone ``out/<table>/dt=<business date>/…`` for ``days`` from ``start``.

    Same arguments give byte-identical files. Files an earlier run wrote are replaced (other
    files under ``out`` are left alone). ``defects`` names entries of
    ``defects.DEFECTS``; each adds one extra file next to the clean ones.
    """
    chosen = defect_registry.select(defects)
    if sessions_per_day < 1:
        raise ValueError(f"sessions_per_day must be >= 1, got {sessions_per_day}")
    began = time.perf_counter()
    timeline = Timeline(start, days, timezone)
    rng = np.random.default_rng(seed)
    writer = LandingWriter(Path(out), timeline.epoch_day)
    writer.clear()
    try:
        shop = Shop(timeline, sessions_per_day, rng, writer)
        shop.run()
        delivered = fulfil(shop, writer, rng)
        write_dimensions(shop, writer, rng)
        write_marketing(shop, writer, delivered, rng)
    finally:
        writer.close()
    defect_files = defect_registry.write_defects(chosen, timeline, writer.folder)
    return GenerationSummary(
        rows=dict(writer.rows),
        files=list(writer.files),
        defect_files=defect_files,
        seconds=time.perf_counter() - began,
    )
