"""Re-deliveries: one row version per business day on which a row changed.

A source system extracts each day the rows that changed that day, in their state at the end
of the day. Given each row's change times (stages in chronological order, ``NEVER`` for a
stage that does not happen), this yields the versions to deliver: the last stage reached on
each business day, dated by its change time (the ``updated_at``), inside the period only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import Timeline

NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Versions:
    row: np.ndarray  # index of the source row
    stage: np.ndarray  # last stage reached when the version was extracted
    at: np.ndarray  # change time = updated_at
    day: np.ndarray  # business day = landing folder


def versions(stage_times: np.ndarray, timeline: Timeline) -> Versions:
    """Versions of rows whose stage times are the columns of ``stage_times`` (rows x stages).

    Stages that happen must lie in the period and be chronological along a row; anything
    else is a generator bug (e.g. arithmetic on ``NEVER``) and raises.
    """
    happened = stage_times < timeline.end
    row, stage = np.nonzero(happened)  # row-major: by row, then stage
    at = stage_times[row, stage]
    same_row = row[1:] == row[:-1]
    if (at < timeline.day_starts[0]).any() or (same_row & (at[1:] < at[:-1])).any():
        raise ValueError("stage times must lie in the period and be chronological per row")
    day = timeline.day_of(at)
    last_of_day = np.ones(len(row), dtype=bool)
    last_of_day[:-1] = ~same_row | (day[1:] != day[:-1])
    keep = last_of_day
    return Versions(row[keep], stage[keep], at[keep], day[keep])
