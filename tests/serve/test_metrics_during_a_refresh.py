"""`kpi query`'s engine keeps answering while a refresh builds and publishes: a late order
arrives for the small shop's last day, `kpi refresh --date` that day runs in its own process,
and the metrics are queried in a loop the whole time. No query fails, and every answer is
exactly the old publication's or the new one's (orders and GMV of the same publication)."""

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from dagster_project.serve.metrics import Metrics
from tests.conftest import LATE_ORDER_GMV, SMALL_SHOP, write_late_order

LAST = SMALL_SHOP.start + timedelta(days=SMALL_SHOP.days - 1)


def _answer(metrics: Metrics) -> tuple:
    (row,) = metrics.query(["orders", "gmv"]).rows
    return tuple(row)


def test_queries_answer_from_one_publication_while_a_refresh_publishes(small_shop_copy):
    settings = small_shop_copy
    metrics = Metrics(settings)
    old = _answer(metrics)
    write_late_order(settings.landing_dir, LAST)
    refresh = subprocess.Popen(
        [str(Path(sys.executable).with_name("kpi")), "refresh", "--date", str(LAST)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answers, errors = [], []
    deadline = time.monotonic() + 900
    while refresh.poll() is None and time.monotonic() < deadline:
        try:
            answers.append(_answer(metrics))
        except Exception as error:  # counted: the test reads them
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.1)
    output, _ = refresh.communicate(timeout=60)
    assert refresh.returncode == 0, output[-3000:]
    new = _answer(metrics)

    assert new == (old[0] + 1, old[1] + LATE_ORDER_GMV), (old, new)
    assert errors == []
    assert len(answers) > 20
    assert set(answers) <= {old, new}, set(answers) - {old, new}
