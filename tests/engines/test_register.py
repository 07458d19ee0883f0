"""The vehicle register loads by the documented columns and refuses unusable rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ringfence.engines.register import load_register
from ringfence.errors import InputError, SchemaError

HEADER = "vrm,vehicle_type,fuel,euro_standard,first_registered,tax_class,gross_weight_kg,seats\n"


def test_loads_and_normalises(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        HEADER + "ab12 cde,Car,petrol,,2012-03-01,standard,1500,5\n"
        "LX73ABC,van,diesel,6,2023-09-02,standard,3000,3\n"
    )
    con = duckdb.connect()
    assert load_register(con, path) == 2
    rows = con.execute(
        "SELECT vehicle_key, vehicle_type, euro_standard FROM register ORDER BY 1"
    ).fetchall()
    assert rows == [("AB12CDE", "car", None), ("LX73ABC", "van", 6)]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("AB12CDE,tank,petrol,,2012-03-01,standard,1,1", "vehicle_type tank"),
        ("AB12CDE,car,coal,,2012-03-01,standard,1,1", "fuel coal"),
        ("AB12CDE,car,petrol,9,2012-03-01,standard,1,1", "euro_standard 9"),
    ],
)
def test_refuses_unusable_rows_with_the_reason(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "v.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(InputError, match=problem):
        load_register(duckdb.connect(), path)


def test_refuses_duplicates_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        HEADER + "AB12CDE,car,petrol,,2012-03-01,standard,1,1\n"
        "ab12 cde,car,petrol,,2012-03-01,standard,1,1\n"
    )
    with pytest.raises(InputError, match="appears twice"):
        load_register(duckdb.connect(), path)
    path.write_text("vrm,fuel\nAB12CDE,petrol\n")
    with pytest.raises(SchemaError, match="vehicle_type"):
        load_register(duckdb.connect(), path)
