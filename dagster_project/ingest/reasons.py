"""Why a row or a file was not loaded: stable codes that tests, checks and docs share."""

from enum import StrEnum


class RowReason(StrEnum):
    """A rejected row's reason code (``raw._rejected_rows.reason_code``)."""

    MALFORMED_LINE = "malformed_line"  # the reader could not parse the line
    NULL_KEY = "null_key"  # a key column is empty
    NULL_VALUE = "null_value"  # a non-nullable column is empty
    INVALID_TYPE = "invalid_type"  # the value does not cast to the declared type
    NOT_ACCEPTED = "not_accepted"  # the value is not one of the accepted values
    OUT_OF_RANGE = "out_of_range"  # below `min` or above `max`
    TIMESTAMP_WITHOUT_ZONE = "timestamp_without_zone"
    FUTURE_TIMESTAMP = "future_timestamp"  # after the extract's business day (+1 day grace)
    DUPLICATE_KEY = "duplicate_key"  # the same key earlier in the same file


class FileProblem(StrEnum):
    """Why a whole file was not loaded (``raw._load_failures.problem``)."""

    MISSING_COLUMN = "missing_column"
    UNREADABLE = "unreadable"
    UNSUPPORTED_NAME = "unsupported_name"  # outside <table>/dt=YYYY-MM-DD/<name>.<ext>
    # re-delivered with most of its earlier rows gone (an empty file above all), unconfirmed
    SHRUNK_REDELIVERY = "shrunk_redelivery"


class Flag(StrEnum):
    """Loaded, but reported by a raw-table check."""

    ORPHAN_FOREIGN_KEY = "orphan_foreign_key"
    EMPTY_FILE = "empty_file"  # a zero-byte or header-only file: recorded, loads no rows
