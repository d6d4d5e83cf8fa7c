"""The CSV files of the landing zone as a producer writes them (the demo shop, an adapter).

A header row of the contract's column names, then one line per row; NULL is an empty
unquoted field, which the loader reads as NULL (an empty CSV field is NULL, says the contract).
"""

import pyarrow as pa
import pyarrow.csv as pa_csv


def csv_bytes(rows: pa.Table, quote: bool = True) -> bytes:
    """CSV text with an unquoted header row; NULL is an empty unquoted field.

    ``quote`` quotes every text value (names and JSON values may hold commas and quotes);
    without it nothing is quoted, which is faster and right only for tables of ids, labels
    and timestamps (never a comma, quote or newline).
    """
    body = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed" if quote else "none")
    pa_csv.write_csv(rows, body, options)
    return (",".join(rows.column_names) + "\n").encode() + body.getvalue().to_pybytes()
