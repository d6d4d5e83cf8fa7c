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
from tests.conftest import SMALL_SHOP

LAST = SMALL_SHOP.start + timedelta(days=SMALL_SHOP.days - 1)
LATE_ORDER = (
    "order_id,customer_id,session_id,ordered_at,status,platform,discount_amount,shipping_fee,"
    "tax_amount,coupon_code,updated_at\n"
    '"O-LATE-1","C000000001",,"{day}T04:00:00Z","paid","web","0.00","0.00","0.00",,'
    '"{day}T04:00:00Z"\n'
)
LATE_ITEMS = (
    "order_id,line_number,product_id,quantity,unit_price,discount_amount\n"
    '"O-LATE-1","1","P00001","2","50.00","0.00"\n'
)


def _answer(metrics: Metrics) -> tuple:
    (row,) = metrics.query(["orders", "gmv"]).rows
    return tuple(row)


def test_queries_answer_from_one_publication_while_a_refresh_publishes(small_shop_copy):
    settings = small_shop_copy
    metrics = Metrics(settings)
    old = _answer(metrics)
    (settings.landing_dir / "orders" / f"dt={LAST}" / "late.csv").write_text(
        LATE_ORDER.format(day=LAST)
    )
    (settings.landing_dir / "order_items" / f"dt={LAST}" / "late.csv").write_text(LATE_ITEMS)
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

    assert new == (old[0] + 1, old[1] + 100), (old, new)  # the late order: 2 units at 50.00
    assert errors == []
    assert len(answers) > 20
    assert set(answers) <= {old, new}, set(answers) - {old, new}
