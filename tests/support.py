"""Builders for test inputs: camera and read files in every documented format."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SIMULATED_DAY = date(2026, 11, 26)
"""The charge day (a Thursday) of the shared tiny simulation (the `simulated` fixture)."""

CAMERAS = [
    # camera_id, lat, lon, borough_gss, network, enforces, site_kind, commissioned, decommissioned
    ("C1", 51.515, -0.09, "E09000001", "cc_lez_2015", "ccz;ulez;lez", "cordon", "2015-01-01", ""),
    ("C2", 51.52, -0.12, "E09000007", "ulez_inner_2021", "ulez;lez", "internal", "2021-10-25", ""),
    ("C3", 51.40, -0.30, "E09000021", "ulez_london_2023", "ulez;lez", "internal", "2023-08-29", ""),
    (
        "C4",
        51.45,
        0.10,
        "E09000004",
        "ulez_london_2023",
        "ulez;lez",
        "cordon",
        "2023-08-29",
        "2026-11-01",
    ),
]
CAMERA_COLUMNS = [
    "camera_id",
    "lat",
    "lon",
    "borough_gss",
    "network",
    "enforces",
    "site_kind",
    "commissioned_on",
    "decommissioned_on",
]


VEHICLE_COLUMNS = [
    "vrm",
    "vehicle_type",
    "fuel",
    "euro_standard",
    "first_registered",
    "tax_class",
    "gross_weight_kg",
    "seats",
    "wheelchair_accessible",
    "make",
]
"""The vehicle register's interchange columns (docs/formats.md)."""


def write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_cameras(path: Path, rows: list[tuple[object, ...]] = CAMERAS) -> Path:
    return write_csv(path, CAMERA_COLUMNS, rows)


READ_COLUMNS = [
    "read_id",
    "camera_id",
    "captured_at",
    "plate",
    "confidence",
    "direction",
    "lane",
    "image_ref",
]


OBSERVED_COLUMNS = ["observed_make", "observed_type"]
"""Optional: written only when a row has them, so files without them stay the common case."""


def write_reads(path: Path, rows: list[dict[str, object]]) -> Path:
    """Write reads as CSV, JSON Lines or Parquet by the path's suffix."""
    columns = READ_COLUMNS + [c for c in OBSERVED_COLUMNS if any(c in r for r in rows)]
    if path.suffix == ".csv":
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in columns})
    elif path.suffix == ".jsonl":
        with open(path, "w") as fh:
            for r in rows:
                fh.write(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n")
    else:
        table = pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows])
        pq.write_table(table, path)
    return path


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (through the server at ``admin_url``), dropped after."""
    import psycopg

    name = f"ringfence_t_{uuid.uuid4().hex[:12]}"
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def state_database(request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    """The state URL for a fixture parametrized by database (`sqlite`, `postgresql`) at a scope
    wider than one test, where the function-scoped `state_url` fixture cannot serve."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp / 'state.sqlite'}"
        return
    with fresh_pg_database(request.getfixturevalue("pg_admin")) as url:
        yield url
