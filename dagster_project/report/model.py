"""What the report shows, as plain data: charts with series of points, tiles, tables.

The same objects are drawn as SVG and embedded as JSON, so what a reader sees and what a
test checks come from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#7F7F7F",
    "#F0E442",
)


@dataclass
class Point:
    x: str
    y: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, **self.extra}


@dataclass
class Series:
    name: str
    kpi_id: str | None
    unit: str
    points: list[Point]
    color: str = PALETTE[0]
    axis: str = "left"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kpi_id": self.kpi_id,
            "unit": self.unit,
            "axis": self.axis,
            "points": [point.to_json() for point in self.points],
        }


@dataclass
class Chart:
    id: str
    title: str
    kind: str
    subtitle: str
    series: list[Series]
    x_label: str = ""
    y_label: str = ""
    y2_label: str = ""
    note: str = ""
    wide: bool = False

    @property
    def point_count(self) -> int:
        return sum(len(series.points) for series in self.series)

    def series_on(self, axis: str) -> list[Series]:
        return [series for series in self.series if series.axis == axis]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "subtitle": self.subtitle,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "y2_label": self.y2_label,
            "series": [series.to_json() for series in self.series],
        }


@dataclass
class Tile:
    kpi_id: str
    label: str
    unit: str
    value: float | None
    value_text: str
    period_text: str
    previous: float | None = None
    previous_text: str = ""
    change: float | None = None
    change_text: str = ""
    # good / bad / flat: the direction judged with the KPI's higher_is_better
    change_tone: str = "flat"
    target_text: str = ""
    attainment: float | None = None
    attainment_tone: str = ""
    available: bool = True
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kpi_id": self.kpi_id,
            "label": self.label,
            "unit": self.unit,
            "value": self.value,
            "value_text": self.value_text,
            "period": self.period_text,
            "previous": self.previous,
            "change": self.change,
            "change_text": self.change_text,
            "attainment": self.attainment,
            "available": self.available,
        }


@dataclass
class Table:
    id: str
    title: str
    subtitle: str
    columns: list[str]
    # each row: cells as display text, plus a css class for the row
    rows: list[tuple[str, list[str]]]
    values: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "columns": self.columns, "rows": self.values}


@dataclass
class Unavailable:
    """A report part whose tables are not in this publication, or that has no data."""

    id: str
    title: str
    headline: str
    reason: str
    wide: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.headline,
            "reason": self.reason,
        }
