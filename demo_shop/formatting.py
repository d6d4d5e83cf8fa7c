"""Vectorised text rendering of generated values (ids, timestamps, dates, amounts).

Tens of millions of ids and timestamps are rendered per benchmark run, and Arrow's
``strftime`` / string joins cost about a microsecond per value. Fixed-width values are
therefore built as a ``(rows, width)`` byte matrix with numpy arithmetic and handed to Arrow
as one buffer, with no per-row Python and no per-value formatting call.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400
_ZERO = ord("0")


def _string_array(matrix: np.ndarray, valid: np.ndarray | None = None) -> pa.StringArray:
    """Wrap a C-contiguous uint8 matrix (one row per value) as an Arrow string array."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int(rows - valid.sum())
    return pa.StringArray.from_buffers(
        rows,
        pa.py_buffer(offsets),
        pa.py_buffer(np.ascontiguousarray(matrix)),
        validity,
        null_count,
    )


def _digit_table(width: int) -> np.ndarray:
    """All ``10**width`` zero-padded numbers as a ``(10**width, width)`` byte matrix."""
    numbers = np.arange(10**width)
    table = np.empty((10**width, width), dtype=np.uint8)
    for position in range(width - 1, -1, -1):
        table[:, position] = _ZERO + numbers % 10
        numbers //= 10
    return table


_FOUR_DIGITS = _digit_table(4)
_TIME_OF_DAY = np.empty((SECONDS_PER_DAY, 8), dtype=np.uint8)
_TIME_OF_DAY[:, 0:2] = _FOUR_DIGITS[np.arange(SECONDS_PER_DAY) // 3600, 2:]
_TIME_OF_DAY[:, 2] = ord(":")
_TIME_OF_DAY[:, 3:5] = _FOUR_DIGITS[np.arange(SECONDS_PER_DAY) // 60 % 60, 2:]
_TIME_OF_DAY[:, 5] = ord(":")
_TIME_OF_DAY[:, 6:8] = _FOUR_DIGITS[np.arange(SECONDS_PER_DAY) % 60, 2:]


def _put_digits(matrix: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` zero-padded into ``matrix[:, column:column + width]``.

    Four digits at a time through a lookup table: one division per four digits.
    """
    remaining = values.astype(np.int64, copy=True)
    end = column + width
    while end > column:
        start = max(column, end - 4)
        group, remaining = remaining % 10_000, remaining // 10_000
        matrix[:, start:end] = _FOUR_DIGITS[group, 4 - (end - start) :]
        end = start


def ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Render ids like ``S000012345``: a prefix and a zero-padded number of fixed width."""
    head = prefix.encode()
    matrix = np.empty((len(numbers), len(head) + width), dtype=np.uint8)
    matrix[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    _put_digits(matrix, len(head), numbers, width)
    return _string_array(matrix, valid)


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (H. Hinnant's algorithm, vectorised)."""
    z = days.astype(np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _date_matrix(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` rows; each distinct day is rendered once and then looked up."""
    first = int(days.min()) if len(days) else 0
    span = np.arange(first, (int(days.max()) if len(days) else 0) + 1)
    year, month, day = _civil_from_days(span)
    table = np.empty((len(span), 10), dtype=np.uint8)
    _put_digits(table, 0, year, 4)
    table[:, 4] = ord("-")
    _put_digits(table, 5, month, 2)
    table[:, 7] = ord("-")
    _put_digits(table, 8, day, 2)
    return table[days - first]


def timestamps(epoch_seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Render UTC epoch seconds as ``2025-06-01T03:04:05Z`` (ISO-8601 with zone)."""
    seconds = epoch_seconds
    if valid is not None:  # nulls get a harmless in-range value, masked out below
        seconds = np.where(valid, epoch_seconds, epoch_seconds[valid].min() if valid.any() else 0)
    days, second_of_day = np.divmod(seconds.astype(np.int64), SECONDS_PER_DAY)
    matrix = np.empty((len(seconds), 20), dtype=np.uint8)
    matrix[:, :10] = _date_matrix(days)
    matrix[:, 10] = ord("T")
    matrix[:, 11:19] = _TIME_OF_DAY[second_of_day]
    matrix[:, 19] = ord("Z")
    return _string_array(matrix, valid)


def dates(epoch_days: np.ndarray) -> pa.Array:
    """Render days since 1970-01-01 as ``YYYY-MM-DD``."""
    return _string_array(_date_matrix(np.asarray(epoch_days, dtype=np.int64)))


def amounts(cents: np.ndarray) -> pa.Array:
    """Render integer cents as a decimal with two places (``12.30``); amounts are >= 0."""
    whole = pc.cast(pa.array(cents // 100), pa.string())
    fraction = ids("", cents % 100, 2)
    return pc.binary_join_element_wise(whole, fraction, ".")


def integers(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Integers as text (negative values allowed: defects plant them)."""
    mask = None if valid is None else ~valid
    return pc.cast(pa.array(values, mask=mask), pa.string())


def booleans(values: np.ndarray) -> pa.Array:
    """Booleans as ``true`` / ``false``."""
    return pc.if_else(pa.array(values), "true", "false")


def choices(
    labels: tuple[str, ...], codes: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """Map integer codes to their labels (dictionary decode, no per-row Python)."""
    mask = None if valid is None else ~valid
    codes = np.where(valid, codes, 0) if valid is not None else codes
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels)).cast(pa.string())
