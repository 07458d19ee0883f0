"""Reads: why a row can be refused, and the VRM rules in the SQL form the engines run.

The quarantine reasons are a closed vocabulary: reports count them, operators filter on them,
and a vendor can be told exactly what was wrong. The first failing check names the reason.
"""

from __future__ import annotations

from datetime import date

from ringfence.domain import vrm as vrm_rules

QUARANTINE_REASONS: dict[str, str] = {
    "missing_camera": "no camera_id",
    "missing_time": "no captured_at",
    "naive_time": "captured_at has no UTC offset, so the instant is ambiguous",
    "bad_time": "captured_at is not an ISO 8601 date-time",
    "future_time": "captured_at is later than the ingest clock allows",
    "too_old": "captured_at is older than reads may be accepted",
    "unknown_camera": "camera_id is not a registered camera",
    "camera_not_in_service": "the camera was not in service on that charge day",
    "bad_confidence": "confidence is missing, not a number, or outside 0..1",
    "bad_lane": "lane is not a whole number",
    "no_plate": "the camera read no plate",
    "unreadable_plate": "the plate text is not a readable VRM (unreadable characters or rules)",
    "bad_read_id": "read_id is longer than 64 characters",
    "read_id_conflict": "read_id already names a different read",
}


def _strip_class() -> str:
    escaped = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(vrm_rules.SEPARATORS))
    return "[\\s" + escaped.replace("'", "''") + "]"


STRIP_CLASS = _strip_class()


def normalise_sql(column: str) -> str:
    """SQL equal to `vrm.normalise` for one text column (tested against it on random text)."""
    # translate, not upper(): normalise upper-cases ASCII only, and so must the engine.
    return (
        f"translate(regexp_replace({column}, '{STRIP_CLASS}', '', 'g'), "
        "'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"
    )


def confusion_key_sql(column: str) -> str:
    """SQL equal to `vrm.confusion_key` for an already normalised VRM column."""
    pairs = sorted(
        (char, min(c for c in group if c.isdigit()))
        for group in vrm_rules.CONFUSION_GROUPS
        for char in group
    )
    # Chained replace(), not translate(): DuckDB's translate costs about twice as much per row
    # and the charge run keys millions of register rows. Equivalent because every target is a
    # digit that maps to itself, so no replacement feeds another.
    expr = column
    for char, digit in pairs:
        if char != digit:
            expr = f"replace({expr}, '{char}', '{digit}')"
    return expr


def plate_class_sql(column: str, as_of: date) -> str:
    """A SQL CASE giving `vrm.classify(...).vrm_class` for a normalised VRM column."""
    whens = " ".join(
        f"WHEN regexp_full_match({column}, '{pattern}') THEN '{cls.value}'"
        for cls, pattern in vrm_rules.sql_patterns(as_of)
    )
    return f"(CASE {whens} ELSE 'invalid' END)"
