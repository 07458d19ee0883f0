"""The vehicle register (DVLA-like) as a DuckDB table, checked against docs/formats.md.

Reference data, like the camera list: a file with unusable rows is refused whole, with the
problems listed, because charges would be judged against it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ringfence.domain.compliance import compliance_sql, latest_evidence_sql
from ringfence.domain.reads import confusion_key_sql, normalise_sql
from ringfence.domain.schemes import DayRules, registrations_sql
from ringfence.errors import InputError, SchemaError
from ringfence.stores.readstore import relation_columns

VEHICLE_TYPES = ("car", "van", "minibus", "motorcycle", "hgv", "bus", "coach", "taxi", "phv")
FUELS = ("petrol", "diesel", "electric", "hybrid_petrol", "hybrid_diesel", "other")
REQUIRED = ("vrm", "vehicle_type", "fuel", "first_registered", "tax_class")
OPTIONAL = {
    "euro_standard": "INTEGER",
    "gross_weight_kg": "INTEGER",
    "seats": "INTEGER",
    "wheelchair_accessible": "BOOLEAN",
    "make": "VARCHAR",
}


def _source(path: Path) -> str:
    p = str(path).replace("'", "''")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return f"read_csv('{p}', header = true, all_varchar = true)"
    if suffix == ".parquet":
        return f"read_parquet('{p}')"
    raise InputError(f"{path}: the vehicle register must be .csv or .parquet")


def load_register(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Create table `register(vehicle_key, vrm, ...facts, confusion_key)`, keyed by the
    normalised VRM. The confusion key is kept with the register (the import stores it) because
    every charge run matches possible misreads against all of it."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW register_file AS SELECT * FROM {_source(path)}")
    columns = relation_columns(con, "register_file")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise SchemaError(f"{path}: missing vehicle columns {', '.join(missing)}")
    optional = ", ".join(
        f"TRY_CAST(NULLIF(trim(CAST({c} AS VARCHAR)), '') AS {t}) AS {c}"
        if c in columns
        else f"NULL::{t} AS {c}"
        for c, t in OPTIONAL.items()
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE register AS
        SELECT *, vrm AS vehicle_key, {confusion_key_sql("vrm")} AS confusion_key FROM (
        SELECT {normalise_sql("CAST(vrm AS VARCHAR)")} AS vrm,
               lower(trim(CAST(vehicle_type AS VARCHAR))) AS vehicle_type,
               lower(trim(CAST(fuel AS VARCHAR))) AS fuel,
               TRY_CAST(NULLIF(trim(CAST(first_registered AS VARCHAR)), '') AS DATE)
                 AS first_registered,
               lower(trim(CAST(tax_class AS VARCHAR))) AS tax_class,
               {optional}
        FROM register_file)
        """
    )
    problems = con.execute(
        f"""
        SELECT vrm, CASE
            WHEN vrm IS NULL OR vrm = '' THEN 'no vrm'
            WHEN vehicle_type NOT IN {VEHICLE_TYPES} THEN 'vehicle_type ' || vehicle_type
            WHEN fuel NOT IN {FUELS} THEN 'fuel ' || fuel
            WHEN euro_standard IS NOT NULL AND euro_standard NOT BETWEEN 1 AND 7
              THEN 'euro_standard ' || euro_standard
            END AS problem
        FROM register WHERE problem IS NOT NULL LIMIT 11
        """
    ).fetchall()
    dupes = con.execute(
        "SELECT vrm FROM register GROUP BY vrm HAVING count(*) > 1 LIMIT 11"
    ).fetchall()
    listed = [f"{v}: {p}" for v, p in problems] + [f"{v}: appears twice" for (v,) in dupes]
    if listed:
        raise InputError(f"{path}: unusable vehicle rows: {'; '.join(listed[:10])}")
    row = con.execute("SELECT count(*) FROM register").fetchone()
    return int(row[0]) if row else 0


def seen_vehicles_sql(sightings: str, rules: DayRules) -> str:
    """A query: each of ``sightings``' rows under ``rules``' scheme whose vehicle is registered,
    with the register's facts, its registration kinds that count that day (`kinds`) and its
    compliance with the scheme (`c`): what `price_sql` prices."""
    scheme_id = rules.scheme_id
    compliance = compliance_sql(scheme_id, vehicle="v", evidence_euro_standard="ev.euro_standard")
    return f"""
        SELECT s.*, v.* EXCLUDE (vehicle_key), rg.kinds, {compliance} AS c
        FROM {sightings} s
        JOIN register v ON v.vehicle_key = s.vehicle_key
        LEFT JOIN ({latest_evidence_sql("evidence", vrm_column="vehicle_key")}) ev
               ON ev.vrm = v.vehicle_key
        LEFT JOIN ({registrations_sql(rules, "registrations")}) rg
               ON rg.vehicle_key = v.vehicle_key
        WHERE s.scheme_id = '{scheme_id}'
    """
