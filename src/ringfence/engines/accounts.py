"""Payments and registrations (discounts, exemptions, grace) from interchange files.

Amounts in interchange files are pounds with up to two decimals (`12.50`); inside Ringfence
money is integer pence, converted exactly through DECIMAL (never through floats).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ringfence.domain.reads import normalise_sql
from ringfence.errors import InputError, SchemaError
from ringfence.stores.readstore import relation_columns


def _source(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    p = str(path).replace("'", "''")
    if path.suffix.lower() == ".csv":
        return f"read_csv('{p}', header = true, all_varchar = true)"
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{p}')"
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return f"read_json('{p}', format = 'newline_delimited')"
    raise InputError(f"{path}: use .csv, .jsonl or .parquet")


def _columns(con: duckdb.DuckDBPyConnection, view: str, path: Path, need: tuple[str, ...]) -> None:
    have = relation_columns(con, view)
    missing = [c for c in need if c not in have]
    if missing:
        raise SchemaError(f"{path}: missing columns {', '.join(missing)}")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _refuse_bad(con: duckdb.DuckDBPyConnection, table: str, path: Path, check: str) -> None:
    bad = con.execute(f"SELECT * FROM {table} WHERE NOT ({check}) LIMIT 5").fetchall()
    if bad:
        raise InputError(f"{path}: unusable rows (first {len(bad)}): {bad}")


def load_payments(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Table `payments(vehicle_key, scheme_id, charge_day, amount_pence, paid_at)`."""
    if path is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE payments (vehicle_key VARCHAR, scheme_id VARCHAR, "
            "charge_day DATE, amount_pence BIGINT, paid_at TIMESTAMPTZ)"
        )
        return 0
    con.execute(f"CREATE OR REPLACE TEMP VIEW payments_file AS SELECT * FROM {_source(path)}")
    _columns(con, "payments_file", path, ("vrm", "scheme", "charge_day", "amount", "paid_at"))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE payments AS
        SELECT {normalise_sql("CAST(vrm AS VARCHAR)")} AS vehicle_key,
               lower(trim(CAST(scheme AS VARCHAR))) AS scheme_id,
               TRY_CAST(CAST(charge_day AS VARCHAR) AS DATE) AS charge_day,
               CAST(TRY_CAST(CAST(amount AS VARCHAR) AS DECIMAL(12, 2)) * 100 AS BIGINT)
                 AS amount_pence,
               TRY_CAST(CAST(paid_at AS VARCHAR) AS TIMESTAMPTZ) AS paid_at
        FROM payments_file
        """
    )
    _refuse_bad(
        con,
        "payments",
        path,
        "vehicle_key <> '' AND charge_day IS NOT NULL AND amount_pence >= 0 "
        "AND paid_at IS NOT NULL",
    )
    return _count(con, "payments")


def load_registrations(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Table `registrations(vehicle_key, kind, scheme_id, valid_from, valid_to, holder_ref)`."""
    if path is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE registrations (vehicle_key VARCHAR, kind VARCHAR, "
            "scheme_id VARCHAR, valid_from DATE, valid_to DATE, holder_ref VARCHAR)"
        )
        return 0
    con.execute(f"CREATE OR REPLACE TEMP VIEW reg_file AS SELECT * FROM {_source(path)}")
    _columns(con, "reg_file", path, ("vrm", "kind", "scheme", "valid_from", "valid_to"))
    have = relation_columns(con, "reg_file")
    holder = "NULLIF(trim(CAST(holder_ref AS VARCHAR)), '')" if "holder_ref" in have else "NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE registrations AS
        SELECT {normalise_sql("CAST(vrm AS VARCHAR)")} AS vehicle_key,
               lower(trim(CAST(kind AS VARCHAR))) AS kind,
               lower(trim(CAST(scheme AS VARCHAR))) AS scheme_id,
               TRY_CAST(CAST(valid_from AS VARCHAR) AS DATE) AS valid_from,
               TRY_CAST(NULLIF(trim(CAST(valid_to AS VARCHAR)), '') AS DATE) AS valid_to,
               {holder}::VARCHAR AS holder_ref
        FROM reg_file
        """
    )
    _refuse_bad(
        con,
        "registrations",
        path,
        "vehicle_key <> '' AND valid_from IS NOT NULL "
        "AND (valid_to IS NULL OR valid_to >= valid_from)",
    )
    return _count(con, "registrations")


EVIDENCE_KINDS = ("certificate_of_conformity", "v5c", "manufacturer_letter")


def load_evidence(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Table `evidence(vehicle_key, kind, euro_standard, recorded_by, recorded_at)`: documents
    that settle a vehicle's Euro standard, each with who recorded it and when."""
    if path is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE evidence (vehicle_key VARCHAR, kind VARCHAR, "
            "euro_standard INTEGER, recorded_by VARCHAR, recorded_at TIMESTAMPTZ)"
        )
        return 0
    con.execute(f"CREATE OR REPLACE TEMP VIEW evidence_file AS SELECT * FROM {_source(path)}")
    _columns(
        con, "evidence_file", path, ("vrm", "kind", "euro_standard", "recorded_by", "recorded_at")
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE evidence AS
        SELECT {normalise_sql("CAST(vrm AS VARCHAR)")} AS vehicle_key,
               lower(trim(CAST(kind AS VARCHAR))) AS kind,
               TRY_CAST(CAST(euro_standard AS VARCHAR) AS INTEGER) AS euro_standard,
               NULLIF(trim(CAST(recorded_by AS VARCHAR)), '') AS recorded_by,
               TRY_CAST(CAST(recorded_at AS VARCHAR) AS TIMESTAMPTZ) AS recorded_at
        FROM evidence_file
        """
    )
    _refuse_bad(
        con,
        "evidence",
        path,
        f"vehicle_key <> '' AND kind IN {EVIDENCE_KINDS} AND euro_standard BETWEEN 1 AND 7 "
        "AND recorded_by IS NOT NULL AND recorded_at IS NOT NULL",
    )
    return _count(con, "evidence")


def load_autopay(
    con: duckdb.DuckDBPyConnection,
    path: Path | None,
    *,
    personal_max_vehicles: int = 5,
    fleet_min_vehicles: int = 6,
) -> int:
    """Table `autopay(vehicle_key, account_id, account_kind, valid_from, valid_to)`.

    Auto Pay accounts bill their vehicles' charges monthly at the standard rate. A personal
    account holds at most `personal_max_vehicles`; a fleet account at least
    `fleet_min_vehicles` (both settings). A file breaking the limits is refused, naming the
    accounts.
    """
    if path is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE autopay (vehicle_key VARCHAR, account_id VARCHAR, "
            "account_kind VARCHAR, valid_from DATE, valid_to DATE)"
        )
        return 0
    con.execute(f"CREATE OR REPLACE TEMP VIEW autopay_file AS SELECT * FROM {_source(path)}")
    _columns(con, "autopay_file", path, ("account_id", "kind", "vrm", "valid_from", "valid_to"))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE autopay AS
        SELECT {normalise_sql("CAST(vrm AS VARCHAR)")} AS vehicle_key,
               trim(CAST(account_id AS VARCHAR)) AS account_id,
               lower(trim(CAST(kind AS VARCHAR))) AS account_kind,
               TRY_CAST(CAST(valid_from AS VARCHAR) AS DATE) AS valid_from,
               TRY_CAST(NULLIF(trim(CAST(valid_to AS VARCHAR)), '') AS DATE) AS valid_to
        FROM autopay_file
        """
    )
    _refuse_bad(
        con,
        "autopay",
        path,
        "vehicle_key <> '' AND account_id <> '' AND account_kind IN ('personal', 'fleet') "
        "AND valid_from IS NOT NULL AND (valid_to IS NULL OR valid_to >= valid_from)",
    )
    over = con.execute(
        """
        SELECT account_id, account_kind, count(DISTINCT vehicle_key) AS n FROM autopay
        GROUP BY ALL
        HAVING (account_kind = 'personal' AND n > ?) OR (account_kind = 'fleet' AND n < ?)
        ORDER BY 1 LIMIT 5
        """,
        [personal_max_vehicles, fleet_min_vehicles],
    ).fetchall()
    if over:
        raise InputError(
            f"{path}: Auto Pay accounts break the vehicle limits (personal at most "
            f"{personal_max_vehicles}, fleet at least {fleet_min_vehicles}): {over}"
        )
    twice = con.execute(
        "SELECT vehicle_key FROM autopay GROUP BY 1 HAVING count(DISTINCT account_id) > 1 LIMIT 5"
    ).fetchall()
    if twice:
        raise InputError(f"{path}: vehicles on more than one Auto Pay account: {twice}")
    return _count(con, "autopay")
