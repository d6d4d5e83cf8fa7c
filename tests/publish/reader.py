"""A BI reader: queries the published mart read-only in a loop until told to stop.

Usage: python reader.py PUBLISHED_FILE OUT_JSON STOP_FILE

Each answer is (run_id of the newest publication_log entry, publication_log rows, kpi_daily
rows, sum of kpi_daily values), all read on one connection, so every answer should describe
exactly one publication. Errors are counted, not raised; a connect that lost the open race
below is counted apart. After each answer the run id it saw is written to OUT_JSON with the
suffix .seen, so that a test can wait for the reader to keep up.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

# DuckDB opens a database file three times when it connects (magic bytes, then the headers,
# then the blocks: strace shows three openat calls). A connect whose second and third opens
# straddle a publication's rename reads the headers of one file and the blocks of the other,
# and fails with this error before returning any data; a new connection succeeds
# (docs/bi.md). Readers count these apart from real errors.
OPEN_RACE = "Failed to load metadata pointer"

QUERY = """
select
    (select run_id from publication_log order by finished_at desc limit 1),
    (select count(*) from publication_log),
    (select count(*) from kpi_daily),
    (select round(sum(value), 6) from kpi_daily)
"""


def main() -> None:
    published, out, stop = (Path(arg) for arg in sys.argv[1:4])
    seen = out.with_suffix(".seen")
    answers, errors, open_races = [], [], []
    while not stop.exists():
        try:
            con = duckdb.connect(str(published), read_only=True)
            try:
                answers.append(list(con.execute(QUERY).fetchall()[0]))
                seen.write_text(answers[-1][0])
            finally:
                con.close()
        except duckdb.Error as error:
            (open_races if OPEN_RACE in str(error) else errors).append(str(error))
        time.sleep(0.01)
    out.write_text(json.dumps({"answers": answers, "errors": errors, "open_races": open_races}))


if __name__ == "__main__":
    main()
