"""Refunds due from a charge run over files: each one's amount and reason.

CC in November 2026: 18.00 on time (by the end of the charge day), 21.00 late (by the third
day after). Payments are by VRM; the stateless run keys vehicles by their VRM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ringfence.services.charging import evaluate_files
from support import VEHICLE_COLUMNS, write_csv

DAY = "2026-11-24"  # Tuesday
CAMERAS = (
    "camera_id,lat,lon,borough_gss,network,enforces,site_kind,commissioned_on,decommissioned_on\n"
    "CC1,51.51,-0.09,E09000001,cc_lez_2015,ccz;ulez;lez,cordon,2015-01-01,\n"
)
PETROL = ["AB12CDE", "car", "petrol", "5", "2012-03-01", "standard", "1500", "5", "false", "Ford"]
LATE = ["AB13CDE", "car", "petrol", "5", "2013-03-01", "standard", "1500", "5", "false", "Ford"]
NOT_SEEN = ["AB14CDE", "car", "petrol", "5", "2014-03-01", "standard", "1500", "5", "false", "Ford"]
TAXI = ["AB15CDE", "taxi", "diesel", "6", "2015-03-01", "standard", "1900", "5", "true", "LEVC"]
BLURRED = ["AB16CDE", "car", "petrol", "5", "2016-03-01", "standard", "1500", "5", "false", "Kia"]
"""Seen once, with low confidence: too little to charge on, so held for review."""


def refunds(tmp_path: Path, payments: list[list[str]]) -> dict[tuple[str, str], dict[str, Any]]:
    seen = [v[0] for v in (PETROL, LATE, TAXI)]
    reads = [
        [f"r{i}{j}", "CC1", f"{DAY}T10:0{j}:00Z", vrm, "0.95"]
        for i, vrm in enumerate(seen)
        for j in range(2)
    ] + [["blurred", "CC1", f"{DAY}T11:00:00Z", BLURRED[0], "0.50"]]
    (tmp_path / "cameras.csv").write_text(CAMERAS)
    result = evaluate_files(
        reads=write_csv(
            tmp_path / "reads.csv",
            ["read_id", "camera_id", "captured_at", "plate", "confidence"],
            reads,
        ),
        cameras=tmp_path / "cameras.csv",
        vehicles=write_csv(
            tmp_path / "vehicles.csv", VEHICLE_COLUMNS, [PETROL, LATE, NOT_SEEN, TAXI, BLURRED]
        ),
        payments=write_csv(
            tmp_path / "payments.csv",
            ["vrm", "scheme", "charge_day", "amount", "paid_at"],
            payments,
        ),
    )
    (day,) = result.days
    assert day.refunds == day.refunds_due.num_rows
    assert day.refunds_pence == sum(day.refunds_due.column("refund_pence").to_pylist())
    return {(r["vehicle_key"], r["scheme_id"]): r for r in day.refunds_due.to_pylist()}


def test_a_day_not_seen_is_refunded_in_full(tmp_path: Path) -> None:
    got = refunds(tmp_path, [["AB14CDE", "ccz", DAY, "18.00", f"{DAY}T07:00:00Z"]])
    row = got[("AB14CDE", "ccz")]
    assert (row["paid_pence"], row["due_pence"], row["refund_pence"]) == (1800, 0, 1800)
    assert row["reason"] == "paid 1800p; not seen under ccz in charging hours"


def test_overpaid_on_time_keeps_the_standard_rate_late_keeps_the_late_rate(
    tmp_path: Path,
) -> None:
    got = refunds(
        tmp_path,
        [
            ["AB12CDE", "ccz", DAY, "21.00", f"{DAY}T09:00:00Z"],  # on time: owes 18.00
            ["AB13CDE", "ccz", DAY, "25.00", "2026-11-26T09:00:00Z"],  # late: owes 21.00
        ],
    )
    on_time = got[("AB12CDE", "ccz")]
    assert (on_time["due_pence"], on_time["refund_pence"]) == (1800, 300)
    assert on_time["reason"] == "paid 2100p; owed 1800p (paid on time)"
    late = got[("AB13CDE", "ccz")]
    assert (late["due_pence"], late["refund_pence"]) == (2100, 400)
    assert late["reason"] == "paid 2500p; owed 2100p (paid late)"


def test_exact_payments_are_not_refunded(tmp_path: Path) -> None:
    got = refunds(
        tmp_path,
        [
            ["AB12CDE", "ccz", DAY, "18.00", f"{DAY}T09:00:00Z"],
            ["AB13CDE", "ccz", DAY, "21.00", "2026-11-26T09:00:00Z"],
        ],
    )
    assert got == {}


def test_exempt_and_compliant_vehicles_are_refunded_with_the_rule(tmp_path: Path) -> None:
    got = refunds(
        tmp_path,
        [
            ["AB15CDE", "ccz", DAY, "18.00", f"{DAY}T09:00:00Z"],
            ["AB12CDE", "ulez", DAY, "12.50", f"{DAY}T09:00:00Z"],
        ],
    )
    taxi = got[("AB15CDE", "ccz")]
    assert taxi["refund_pence"] == 1800
    assert taxi["reason"].startswith("paid 1800p; vehicle exempt: ")
    assert taxi["reason"] == "paid 1800p; vehicle exempt: vehicle:london_taxi"
    compliant = got[("AB12CDE", "ulez")]
    assert compliant["refund_pence"] == 1250
    assert compliant["reason"].startswith("paid 1250p; compliant: compliance:")


def test_a_payment_short_of_the_charge_is_refunded_and_the_charge_stays_unpaid(
    tmp_path: Path,
) -> None:
    got = refunds(tmp_path, [["AB12CDE", "ccz", DAY, "10.00", f"{DAY}T09:00:00Z"]])
    row = got[("AB12CDE", "ccz")]
    assert (row["due_pence"], row["refund_pence"]) == (0, 1000)
    assert row["reason"] == (
        "paid 1000p; short of the 1800p charge (2100p if paid late), which stays unpaid"
    )


def test_a_payment_for_a_charge_under_review_is_not_refunded_yet(tmp_path: Path) -> None:
    got = refunds(tmp_path, [["AB16CDE", "ccz", DAY, "18.00", f"{DAY}T09:00:00Z"]])
    assert got == {}
