"""Charge runs from files: scenarios from the published rules, and properties.

Each scenario writes small interchange files (cameras, vehicles, reads, payments,
registrations), evaluates them statelessly, and checks the liabilities.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.services.charging import Evaluation, evaluate_files
from support import VEHICLE_COLUMNS, write_csv

CAMERAS = (
    "camera_id,lat,lon,borough_gss,network,enforces,site_kind,commissioned_on,decommissioned_on\n"
    "CC1,51.51,-0.09,E09000001,cc_lez_2015,ccz;ulez;lez,cordon,2015-01-01,\n"
    "OUT1,51.40,-0.30,E09000021,ulez_london_2023,ulez;lez,internal,2023-08-29,\n"
)
PETROL_OK = [
    "AB12CDE",
    "car",
    "petrol",
    "5",
    "2012-03-01",
    "standard",
    "1500",
    "5",
    "false",
    "Ford",
]
DIESEL_OLD = ["LX09ABC", "car", "diesel", "4", "2009-05-01", "standard", "1700", "5", "false", "VW"]
OLD_VAN = ["LN58XYZ", "van", "diesel", "4", "2008-11-01", "standard", "3000", "3", "false", "Ford"]
HGV_OLD = ["LK05HGV", "hgv", "diesel", "3", "2005-06-01", "standard", "18000", "2", "false", "MAN"]


def run(
    tmp_path: Path,
    reads: list[tuple[str, str, str, float]],
    *,
    vehicles: list[list[str]] = (PETROL_OK, DIESEL_OLD, OLD_VAN, HGV_OLD),  # type: ignore[assignment]
    payments: list[list[str]] | None = None,
    registrations: list[list[str]] | None = None,
    evidence: list[list[str]] | None = None,
    autopay: list[list[str]] | None = None,
) -> dict[tuple[str, str, str], dict[str, str]]:
    """Evaluate; liabilities keyed by (vrm, scheme, charge_day)."""
    (tmp_path / "cameras.csv").write_text(CAMERAS)
    read_rows = [
        [f"r{i}", cam, at, plate, str(conf)] for i, (cam, at, plate, conf) in enumerate(reads)
    ]
    out = tmp_path / "liabilities.csv"
    evaluate_files(
        reads=write_csv(
            tmp_path / "reads.csv",
            ["read_id", "camera_id", "captured_at", "plate", "confidence"],
            read_rows,
        ),
        cameras=tmp_path / "cameras.csv",
        vehicles=write_csv(tmp_path / "vehicles.csv", VEHICLE_COLUMNS, list(vehicles)),
        payments=write_csv(
            tmp_path / "payments.csv",
            ["vrm", "scheme", "charge_day", "amount", "paid_at"],
            payments,
        )
        if payments
        else None,
        registrations=write_csv(
            tmp_path / "reg.csv", ["vrm", "kind", "scheme", "valid_from", "valid_to"], registrations
        )
        if registrations
        else None,
        evidence=write_csv(
            tmp_path / "evidence.csv",
            ["vrm", "kind", "euro_standard", "recorded_by", "recorded_at"],
            evidence,
        )
        if evidence
        else None,
        autopay=write_csv(
            tmp_path / "autopay.csv",
            ["account_id", "kind", "vrm", "valid_from", "valid_to"],
            autopay,
        )
        if autopay
        else None,
        out=out,
    )
    with open(out) as fh:
        return {(r["vrm"], r["scheme"], r["charge_day"]): r for r in csv.DictReader(fh)}


def twice(cam: str, at: str, plate: str) -> list[tuple[str, str, str, float]]:
    """Two confident reads a minute apart: enough evidence to charge on."""
    later = (datetime.fromisoformat(at) + timedelta(minutes=1)).isoformat()
    return [(cam, at, plate, 0.90), (cam, later, plate, 0.88)]


def test_compliant_pays_nothing_non_compliant_owes_ulez(tmp_path: Path) -> None:
    got = run(
        tmp_path,
        [
            *twice("OUT1", "2026-11-24T08:00:00Z", "AB12CDE"),
            *twice("OUT1", "2026-11-24T09:00:00Z", "LX09 ABC"),
        ],
    )
    assert ("AB12CDE", "ulez", "2026-11-24") not in got
    owed = got[("LX09ABC", "ulez", "2026-11-24")]
    assert (owed["amount"], owed["status"]) == ("12.50", "unpaid")
    assert owed["read_ids"] == "r2;r3"


def test_one_vehicle_can_owe_both_ulez_and_cc(tmp_path: Path) -> None:
    got = run(tmp_path, twice("CC1", "2026-11-24T10:00:00Z", "LX09ABC"))  # a Tuesday
    assert got[("LX09ABC", "ulez", "2026-11-24")]["amount"] == "12.50"
    assert got[("LX09ABC", "ccz", "2026-11-24")]["amount"] == "18.00"
    assert ("AB12CDE", "ccz", "2026-11-24") not in got


@pytest.mark.parametrize(
    ("at", "charged"),
    [
        ("2026-11-24T06:59:59Z", False),  # before 07:00
        ("2026-11-24T07:00:00Z", True),
        ("2026-11-24T17:59:59Z", True),
        ("2026-11-24T18:00:00Z", False),  # the 18:00 edge is outside
        ("2026-11-28T11:59:59Z", False),  # Saturday: from 12:00
        ("2026-11-28T12:30:00Z", True),
        ("2026-08-31T10:00:00+01:00", False),  # summer bank holiday morning
        ("2026-08-31T13:00:00+01:00", True),
        ("2026-12-25T12:30:00Z", False),  # Christmas to New Year: no CC
        ("2026-12-29T12:30:00Z", False),
    ],
)
def test_congestion_charge_hours(tmp_path: Path, at: str, charged: bool) -> None:
    got = run(tmp_path, [("CC1", at, "AB12CDE", 0.98)])
    assert any(k[0] == "AB12CDE" and k[1] == "ccz" for k in got) is charged


def test_christmas_day_lez_charges_ulez_does_not(tmp_path: Path) -> None:
    reads = [
        *twice("OUT1", "2026-12-25T10:00:00Z", "LK05HGV"),
        *twice("OUT1", "2026-12-25T11:00:00Z", "LX09ABC"),
    ]
    got = run(tmp_path, reads)
    assert got[("LK05HGV", "lez", "2026-12-25")]["amount"] == "300.00"  # not even Euro IV
    assert ("LX09ABC", "ulez", "2026-12-25") not in got


def test_a_trip_across_midnight_is_two_charge_days(tmp_path: Path) -> None:
    got = run(
        tmp_path,
        [
            ("OUT1", "2026-11-24T23:59:00Z", "LX09ABC", 0.97),
            ("OUT1", "2026-11-25T00:01:00Z", "LX09ABC", 0.97),
        ],
    )
    assert {k for k in got if k[0] == "LX09ABC"} == {
        ("LX09ABC", "ulez", "2026-11-24"),
        ("LX09ABC", "ulez", "2026-11-25"),
    }


def test_the_london_day_on_a_clock_change(tmp_path: Path) -> None:
    # 2026-10-25: 00:30 BST is 23:30 UTC on the 24th, still the 25th in London
    got = run(tmp_path, [("OUT1", "2026-10-24T23:30:00Z", "LX09ABC", 0.97)])
    assert ("LX09ABC", "ulez", "2026-10-25") in got


@pytest.mark.parametrize(
    ("amount", "paid_at", "status"),
    [
        ("18.00", "2026-11-24T20:00:00Z", "paid"),  # on the day
        ("18.00", "2026-11-01T09:00:00Z", "paid"),  # in advance
        ("18.00", "2026-11-25T09:00:00Z", "unpaid"),  # late needs 21.00
        ("21.00", "2026-11-27T23:00:00Z", "paid"),  # late, by the third day after
        ("21.00", "2026-11-28T00:00:01Z", "unpaid"),  # too late
    ],
)
def test_cc_payment_windows_and_late_rate(
    tmp_path: Path, amount: str, paid_at: str, status: str
) -> None:
    got = run(
        tmp_path,
        twice("CC1", "2026-11-24T10:00:00Z", "AB12CDE"),
        payments=[["AB12CDE", "ccz", "2026-11-24", amount, paid_at]],
    )
    assert got[("AB12CDE", "ccz", "2026-11-24")]["status"] == status


def test_resident_discount(tmp_path: Path) -> None:
    got = run(
        tmp_path,
        twice("CC1", "2026-11-24T10:00:00Z", "AB12CDE"),
        registrations=[["AB12CDE", "resident", "ccz", "2026-01-01", ""]],
    )
    assert got[("AB12CDE", "ccz", "2026-11-24")]["amount"] == "1.80"


def test_a_misread_of_a_compliant_car_is_never_charged(tmp_path: Path) -> None:
    """AB12CDE (compliant) is read twice; once the camera reads it as A812CDE, which happens
    to be a registered, non-compliant car. A812CDE must not be charged on that one read."""
    misread_twin = [
        "A812CDE",
        "car",
        "diesel",
        "4",
        "2009-01-01",
        "standard",
        "1700",
        "5",
        "false",
        "Kia",
    ]
    got = run(
        tmp_path,
        [
            *twice("OUT1", "2026-11-24T08:00:00Z", "AB12CDE"),
            ("OUT1", "2026-11-24T08:02:00Z", "A812CDE", 0.71),
        ],
        vehicles=[PETROL_OK, misread_twin],
    )
    twin = got[("A812CDE", "ulez", "2026-11-24")]
    assert twin["status"] == "review" and twin["rule"] == "evidence:insufficient"
    assert ("AB12CDE", "ulez", "2026-11-24") not in got


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CC1", "OUT1"]),
            st.integers(0, 3 * 86400 - 1),
            st.sampled_from(["AB12CDE", "LX09ABC", "LN58XYZ", "LK05HGV", "LX09A8C"]),
            st.sampled_from([0.5, 0.85, 0.9, 0.97]),
        ),
        max_size=25,
    )
)
def test_one_row_per_vehicle_scheme_day_and_never_negative(
    tmp_path_factory: pytest.TempPathFactory, reads: list[tuple[str, int, str, float]]
) -> None:
    start = datetime.fromisoformat("2026-11-23T00:00:00+00:00")
    rows = [(c, (start + timedelta(seconds=s)).isoformat(), p, conf) for c, s, p, conf in reads]
    base = tmp_path_factory.mktemp("prop")
    if not rows:
        return
    run(base, rows)
    with open(base / "liabilities.csv") as fh:
        got = list(csv.DictReader(fh))
    keys = [(r["vrm"], r["scheme"], r["charge_day"]) for r in got]
    assert len(keys) == len(set(keys))
    assert all(float(r["amount"]) >= 0 for r in got)
    assert {r["status"] for r in got} <= {"unpaid", "paid", "exempt", "review"}
    assert all(date.fromisoformat(r["charge_day"]) >= date(2026, 11, 23) for r in got)


def test_evidence_overrides_settle_compliance(tmp_path: Path) -> None:
    """A diesel with Euro 4 on file owes the ULEZ until a certificate of conformity shows
    Euro 6; a 2004 petrol car with no Euro data is `unknown` (review, not a charge) until
    evidence settles it."""
    old_petrol = [
        "LT04PET",
        "car",
        "petrol",
        "",
        "2004-06-01",
        "standard",
        "1300",
        "5",
        "false",
        "Ford",
    ]
    reads = [
        *twice("OUT1", "2026-11-24T08:00:00Z", "LX09ABC"),
        *twice("OUT1", "2026-11-24T09:00:00Z", "LT04PET"),
    ]
    before = run(tmp_path, reads, vehicles=[DIESEL_OLD, old_petrol])
    assert before[("LX09ABC", "ulez", "2026-11-24")]["status"] == "unpaid"
    unknown = before[("LT04PET", "ulez", "2026-11-24")]
    assert unknown["status"] == "review" and "registration_date" in unknown["rule"]
    after = run(
        tmp_path,
        reads,
        vehicles=[DIESEL_OLD, old_petrol],
        evidence=[
            [
                "LX09ABC",
                "certificate_of_conformity",
                "6",
                "officer:42",
                "2026-11-20T10:00:00+00:00",
            ],
            ["LT04PET", "v5c", "4", "officer:42", "2026-11-20T10:00:00+00:00"],
        ],
    )
    assert ("LX09ABC", "ulez", "2026-11-24") not in after
    assert ("LT04PET", "ulez", "2026-11-24") not in after


def test_auto_pay_bills_the_standard_rate_monthly(tmp_path: Path) -> None:
    reads = twice("CC1", "2026-11-24T10:00:00Z", "AB12CDE")
    got = run(tmp_path, reads, autopay=[["A-1", "personal", "AB12CDE", "2026-11-01", ""]])
    billed = got[("AB12CDE", "ccz", "2026-11-24")]
    assert (billed["status"], billed["rule"], billed["amount"]) == ("paid", "autopay", "18.00")
    assert "Auto Pay account A-1" in billed["reason"]
    # an account that has ended no longer covers the day
    ended = run(
        tmp_path, reads, autopay=[["A-1", "personal", "AB12CDE", "2026-01-01", "2026-11-23"]]
    )
    assert ended[("AB12CDE", "ccz", "2026-11-24")]["status"] == "unpaid"


def test_auto_pay_account_limits_are_enforced(tmp_path: Path) -> None:
    from ringfence.errors import InputError

    six = [["A-1", "personal", f"AB12CD{c}", "2026-11-01", ""] for c in "ABCDEF"]
    with pytest.raises(InputError, match="personal at most 5"):
        run(tmp_path, twice("CC1", "2026-11-24T10:00:00Z", "AB12CDE"), autopay=six)
    small_fleet = [["F-1", "fleet", "AB12CDE", "2026-11-01", ""]]
    with pytest.raises(InputError, match="fleet at least 6"):
        run(tmp_path, twice("CC1", "2026-11-24T10:00:00Z", "AB12CDE"), autopay=small_fleet)


PAYMENTS_WITH_REFUNDS = [
    ["AB12CDE", "ulez", "2026-11-24", "12.50", "2026-11-24T09:00:00Z"],  # compliant
    ["AB12CDE", "ccz", "2026-11-24", "21.00", "2026-11-24T09:00:00Z"],  # 3.00 over
    ["LX09ABC", "ulez", "2026-11-24", "12.50", "2026-11-20T09:00:00Z"],  # not seen
]


def _evaluate_with_payments(tmp_path: Path, **kwargs: Any) -> Evaluation:
    """AB12CDE (a compliant petrol car) seen twice in the CC zone, and these payments."""
    (tmp_path / "cameras.csv").write_text(CAMERAS)
    reads = [
        ["r1", "CC1", "2026-11-24T10:00:00Z", "AB12CDE", "0.97"],
        ["r2", "CC1", "2026-11-24T10:01:00Z", "AB12CDE", "0.96"],
    ]
    return evaluate_files(
        reads=write_csv(
            tmp_path / "reads.csv",
            ["read_id", "camera_id", "captured_at", "plate", "confidence"],
            reads,
        ),
        cameras=tmp_path / "cameras.csv",
        vehicles=write_csv(tmp_path / "vehicles.csv", VEHICLE_COLUMNS, [PETROL_OK, DIESEL_OLD]),
        payments=write_csv(
            tmp_path / "payments.csv",
            ["vrm", "scheme", "charge_day", "amount", "paid_at"],
            PAYMENTS_WITH_REFUNDS,
        ),
        **kwargs,
    )


def test_refunds_for_payments_nothing_was_owed_for(tmp_path: Path) -> None:
    (day,) = _evaluate_with_payments(tmp_path).days
    assert (day.refunds, day.refunds_pence) == (3, 1250 + 300 + 1250)


def test_stateless_mode_writes_the_refunds_due(tmp_path: Path) -> None:
    out = tmp_path / "refunds.csv"
    _evaluate_with_payments(tmp_path, refunds_out=out)
    with open(out, newline="") as fh:
        rows = {(r["vrm"], r["scheme"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {("AB12CDE", "ulez"), ("AB12CDE", "ccz"), ("LX09ABC", "ulez")}
    over = rows[("AB12CDE", "ccz")]
    assert (over["paid"], over["due"], over["refund"]) == ("21.00", "18.00", "3.00")
    assert rows[("LX09ABC", "ulez")]["refund"] == "12.50"
    assert "not seen" in rows[("LX09ABC", "ulez")]["reason"]
    assert "compliant" in rows[("AB12CDE", "ulez")]["reason"]
    assert all(r["charge_day"] == "2026-11-24" for r in rows.values())


def test_the_explanation_gives_the_first_sightings_london_time(tmp_path: Path) -> None:
    # In summer time, listed latest first: the earliest read, in London time, is named.
    reads = [
        ("OUT1", "2026-07-14T08:45:00Z", "LX09ABC", 0.90),
        ("OUT1", "2026-07-14T07:30:00Z", "LX09ABC", 0.90),
    ]
    owed = run(tmp_path, reads)[("LX09ABC", "ulez", "2026-07-14")]
    assert owed["status"] == "unpaid"
    assert owed["reason"].startswith("2 read(s) in charging hours, first at 08:30 London time; ")
