"""dbt's loggers format only the events their level keeps (transform/warehouse_plugin.py):
the same lines reach the console and dbt.log, without formatting the debug events first."""

import io
import json

import pytest
from dbt.adapters.events.types import SQLQuery
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.functions import get_stdout_config
from dbt_common.events.logger import LineFormat, _JsonLogger
from dbt_common.events.types import Note, PrintEvent

from dagster_project.transform.warehouse_plugin import skip_events_below_level

EVENTS = [
    SQLQuery(conn_name="model.a", sql="select 1", node_info={}),  # debug
    Note(msg="a note"),  # info
    PrintEvent(msg="printed"),  # info, but written at any level
]


def _log(level: EventLevel, skip: bool, monkeypatch) -> tuple[list[str], int]:
    """(the events a JSON console logger at ``level`` wrote, how many lines it formatted)."""
    formatted = []
    create_line = _JsonLogger.create_line
    monkeypatch.setattr(
        _JsonLogger, "create_line", lambda self, msg: formatted.append(1) or create_line(self, msg)
    )
    out = io.StringIO()
    config = get_stdout_config(LineFormat.Json, False, level, False)
    config.output_stream = out
    manager = EventManager()
    manager.add_logger(config)
    if skip:
        skip_events_below_level(manager)
    for event in EVENTS:
        manager.fire_event(event)
    written = [json.loads(line)["info"]["name"] for line in out.getvalue().splitlines()]
    return written, len(formatted)


@pytest.mark.parametrize(
    ("level", "written"),
    [
        (EventLevel.DEBUG, ["SQLQuery", "Note", "PrintEvent"]),
        (EventLevel.INFO, ["Note", "PrintEvent"]),
        (EventLevel.ERROR, ["PrintEvent"]),
    ],
)
def test_a_logger_writes_the_same_lines_and_formats_only_those(level, written, monkeypatch):
    assert _log(level, skip=False, monkeypatch=monkeypatch) == (written, len(EVENTS))
    assert _log(level, skip=True, monkeypatch=monkeypatch) == (written, len(written))
