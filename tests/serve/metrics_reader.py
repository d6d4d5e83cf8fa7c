"""A reader of the KPI metrics (what `kpi query` runs): orders and GMV of the whole published
mart, queried in a loop in its own process until told to stop.

Usage: python -m tests.serve.metrics_reader DATA_DIR OUT_JSON STOP_FILE

Touches OUT_JSON with the suffix .ready after its first answer; at the end writes the answers
(orders, GMV as text) and the errors, which are counted, never raised.
"""

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from dagster_project.core.settings import Settings
from dagster_project.serve.metrics import Metrics

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def answer(metrics: Metrics) -> tuple[int, str]:
    ((orders, gmv),) = metrics.query(["orders", "gmv"]).rows
    return int(orders), str(gmv)


class MetricsReader:
    """The reader's process over the published mart of ``settings``, from start to stop."""

    def __init__(self, settings: Settings, work: Path):
        work.mkdir(parents=True, exist_ok=True)
        self.out, self.stop_file = work / "answers.json", work / "stop"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.serve.metrics_reader",
                str(settings.data_dir),
                str(self.out),
                str(self.stop_file),
            ],
            cwd=PROJECT_ROOT,
        )
        deadline = time.monotonic() + 120
        while not self.out.with_suffix(".ready").exists():
            assert self.process.poll() is None, "the metrics reader died"
            assert time.monotonic() < deadline, "the metrics reader gave no first answer"
            time.sleep(0.1)

    def stop(self) -> dict:
        self.stop_file.touch()
        self.process.wait(timeout=120)
        return json.loads(self.out.read_text())


def main() -> None:
    data_dir, out, stop = (Path(arg) for arg in sys.argv[1:4])
    metrics = Metrics(replace(Settings.from_env(), data_dir=data_dir))
    answers, errors = [], []
    while not stop.exists():
        try:
            answers.append(answer(metrics))
            out.with_suffix(".ready").touch()
        except Exception as error:  # counted: the test reads them
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.1)
    out.write_text(json.dumps({"answers": answers, "errors": errors}))


if __name__ == "__main__":
    main()
