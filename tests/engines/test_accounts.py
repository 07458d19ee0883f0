"""Payments and registrations load exactly (pounds to pence without floats) or are refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from ringfence.engines.accounts import load_payments, load_registrations
from ringfence.errors import InputError


def test_payments_convert_pounds_to_exact_pence(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "vrm,scheme,charge_day,amount,paid_at\n"
        "ab12 cde,ULEZ,2026-11-27,12.50,2026-11-27T10:00:00+00:00\n"
        "LX73ABC,ccz,2026-11-27,0.29,2026-11-29T23:59:59+00:00\n"
    )
    con = duckdb.connect()
    assert load_payments(con, path) == 2
    rows = con.execute(
        "SELECT vehicle_key, scheme_id, amount_pence FROM payments ORDER BY 1"
    ).fetchall()
    assert rows == [("AB12CDE", "ulez", 1250), ("LX73ABC", "ccz", 29)]  # 0.29 * 100 is not 28


def test_bad_payment_rows_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("vrm,scheme,charge_day,amount,paid_at\nAB12CDE,ulez,someday,12.50,x\n")
    with pytest.raises(InputError, match="unusable"):
        load_payments(duckdb.connect(), path)


def test_registrations_and_empty_inputs(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("vrm,kind,scheme,valid_from,valid_to\nAB12CDE,resident,ccz,2026-01-01,\n")
    con = duckdb.connect()
    assert load_registrations(con, path) == 1
    assert con.execute("SELECT kind, valid_from, valid_to FROM registrations").fetchall() == [
        ("resident", date(2026, 1, 1), None)
    ]
    assert load_payments(con, None) == 0
    assert con.execute("SELECT count(*) FROM payments").fetchone() == (0,)
