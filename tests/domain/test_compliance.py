"""Vehicle compliance: the published standards as scenarios, and the SQL form equal to `assess`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    FUELS,
    VEHICLE_TYPES,
    ComplianceStatus,
    Evidence,
    Standard,
    StandardLevel,
    VehicleFacts,
    assess,
    compliance_sql,
    latest_evidence_sql,
)
from ringfence.domain.schemes import load_scheme_book

BOOK = load_scheme_book()
C, NC, UNK = ComplianceStatus.COMPLIANT, ComplianceStatus.NON_COMPLIANT, ComplianceStatus.UNKNOWN
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def vehicle(
    vehicle_type: str = "car",
    fuel: str = "petrol",
    euro: int | None = None,
    registered: date | None = date(2010, 1, 1),
    *,
    weight: int | None = 1500,
    vrm: str = "AB12CDE",
) -> VehicleFacts:
    return VehicleFacts(
        vrm=vrm,
        vehicle_type=vehicle_type,
        fuel=fuel,
        euro_standard=euro,
        first_registered=registered,
        tax_class="standard",
        gross_weight_kg=weight,
        seats=5,
        wheelchair_accessible=False,
        make="Ford",
    )


# scheme, vehicle type, fuel, Euro standard, first registered | status, rule, band ("-": none).
# Heavy types get 18,000 kg, the others 1,500 kg.
SCENARIOS = """
ulez car petrol - 2006-01-01            | compliant petrol_car:registration_date -
ulez car petrol - 2005-12-31            | unknown petrol_car:registration_date -
ulez car diesel - 2015-09-01            | compliant diesel_car:registration_date -
ulez car diesel - 2015-08-31            | unknown diesel_car:registration_date -
ulez phv hybrid_diesel - 2015-08-31     | unknown diesel_car:registration_date -
ulez car hybrid_petrol - 2006-01-01     | compliant petrol_car:registration_date -
ulez van petrol - 2007-01-01            | compliant petrol_van:registration_date -
ulez van petrol - 2006-12-31            | unknown petrol_van:registration_date -
ulez minibus diesel - 2016-09-01        | compliant diesel_van:registration_date -
ulez van diesel - 2016-08-31            | unknown diesel_van:registration_date -
ulez motorcycle petrol - 2007-07-01     | compliant motorcycle:registration_date -
ulez motorcycle petrol - 2007-06-30     | unknown motorcycle:registration_date -
ulez car diesel 5 2018-06-01            | non_compliant diesel_car:euro_standard non_compliant
ulez car diesel 6 2014-06-01            | compliant diesel_car:euro_standard -
ulez car petrol 4 2003-06-01            | compliant petrol_car:euro_standard -
ulez car petrol 3 2010-06-01            | non_compliant petrol_car:euro_standard non_compliant
ulez motorcycle petrol 3 2001-01-01     | compliant motorcycle:euro_standard -
ulez motorcycle petrol 2 -              | non_compliant motorcycle:euro_standard non_compliant
ulez car electric 1 1999-01-01          | compliant zero_emission -
ulez car other - 2020-01-01             | unknown no_standard -
ulez car petrol - -                     | unknown petrol_car:no_data -
lez hgv diesel 6 2012-01-01             | compliant heavy_duty:euro_standard -
lez hgv diesel 5 2012-01-01             | non_compliant heavy_duty:euro_standard below_euro_vi
lez coach diesel 4 -                    | non_compliant heavy_duty:euro_standard below_euro_vi
lez bus diesel 3 2016-01-01             | non_compliant heavy_duty:euro_standard below_euro_iv
lez hgv diesel - 2014-01-01             | compliant heavy_duty:registration_date -
lez hgv diesel - 2013-12-31             | unknown heavy_duty:registration_date -
lez hgv diesel - 2006-09-30             | unknown heavy_duty:registration_date -
lez hgv electric - -                    | compliant zero_emission -
lez car petrol 6 2020-01-01             | unknown no_standard -
ccz car diesel 6 2020-01-01             | unknown no_standard -
"""
HEAVY = {"hgv", "bus", "coach"}


def _scenario(line: str) -> tuple[str, VehicleFacts, str, str, str | None]:
    given_, expected = line.split("|")
    scheme, vtype, fuel, euro, registered = given_.split()
    status, rule, band = expected.split()
    facts = vehicle(
        vtype,
        fuel,
        None if euro == "-" else int(euro),
        None if registered == "-" else date.fromisoformat(registered),
        weight=18000 if vtype in HEAVY else 1500,
    )
    return scheme, facts, status, rule, None if band == "-" else band


@pytest.mark.parametrize("line", SCENARIOS.strip().splitlines())
def test_published_standards(line: str) -> None:
    scheme, facts, status, rule, band = _scenario(line)
    decision = assess(facts, scheme)
    assert (decision.status.value, decision.rule, decision.band) == (status, rule, band)
    assert decision.reason


def test_unknown_says_what_evidence_would_settle_it() -> None:
    decision = assess(vehicle("car", "diesel", None, date(2014, 2, 1)), "ulez")
    assert decision.status is UNK
    assert "certificate of conformity" in decision.reason
    assert "2015-09-01" in decision.reason


def test_lez_unknown_says_euro_iv_is_met_by_date() -> None:
    reason = assess(vehicle("hgv", "diesel", None, date(2010, 1, 1), weight=18000), "lez").reason
    assert "presumed to meet Euro 4" in reason


def evidence(euro: int, at: datetime = AT, by: str = "officer-7", vrm: str = "AB12CDE") -> Evidence:
    return Evidence(vrm, "certificate_of_conformity", euro, by, at)


def test_evidence_overrides_the_register_and_says_who_and_when() -> None:
    facts = vehicle("car", "diesel", 5, date(2014, 1, 1))
    decision = assess(facts, "ulez", evidence=[evidence(6)])
    assert (decision.status, decision.rule) == (C, "diesel_car:evidence")
    assert "officer-7" in decision.reason and AT.isoformat() in decision.reason


def test_latest_evidence_wins_and_ties_take_the_lower_standard() -> None:
    facts = vehicle("car", "diesel", None, date(2014, 1, 1))
    later = datetime(2026, 3, 3, tzinfo=UTC)
    assert assess(facts, "ulez", evidence=[evidence(6), evidence(5, later)]).status is NC
    assert assess(facts, "ulez", evidence=[evidence(5), evidence(6, later)]).status is C
    assert assess(facts, "ulez", evidence=[evidence(6), evidence(5)]).status is NC


def test_evidence_for_another_vehicle_is_ignored() -> None:
    facts = vehicle("car", "diesel", 5, date(2014, 1, 1))
    assert assess(facts, "ulez", evidence=[evidence(6, vrm="ZZ99ZZZ")]).status is NC


@pytest.mark.parametrize(
    ("kind", "at"),
    [("photo", AT), ("v5c", datetime(2026, 3, 2, 9, 30))],
)
def test_evidence_is_checked(kind: str, at: datetime) -> None:
    with pytest.raises(ValueError):
        Evidence("AB12CDE", kind, 6, "officer-7", at)


def test_standards_are_data_any_table_can_be_passed() -> None:
    strict = Standard(
        "petrol_any",
        None,
        frozenset({"petrol"}),
        (StandardLevel("non_compliant", 6, date(2015, 9, 1)),),
        "petrol: Euro 6",
    )
    facts = vehicle("car", "petrol", None, date(2010, 1, 1))
    assert assess(facts, "ulez").status is C
    assert assess(facts, "elsewhere", standards=[strict]).status is UNK
    assert assess(replace(facts, euro_standard=5), "elsewhere", standards=[strict]).status is NC


def test_levels_must_be_strictest_first() -> None:
    with pytest.raises(ValueError, match="strictest first"):
        Standard(
            "bad",
            None,
            None,
            (
                StandardLevel("below_iv", 4, date(2006, 10, 1)),
                StandardLevel("below_vi", 6, date(2014, 1, 1)),
            ),
            "bad",
        )


# --- The SQL form equals assess, through DuckDB -------------------------------------------------

BOUNDARY_DATES = sorted(
    {
        day
        for scheme in BOOK.scheme_ids()
        for std in BOOK.standards(scheme)
        for level in std.levels
        for day in (level.registered_from, level.registered_from - timedelta(days=1))
    }
)
"""Every threshold of the packaged standards and the day before it."""
STAMPS = [datetime(2026, 1, d, 12, tzinfo=UTC) for d in (1, 2, 3)]

facts_strategy = st.builds(
    VehicleFacts,
    vrm=st.just(""),
    vehicle_type=st.sampled_from((*VEHICLE_TYPES, "tractor")),
    fuel=st.sampled_from((*FUELS, "steam")),
    euro_standard=st.none() | st.integers(1, 7),
    first_registered=st.none()
    | st.sampled_from(BOUNDARY_DATES)
    | st.sampled_from(BOUNDARY_DATES)
    | st.dates(date(1960, 1, 1), date(2030, 12, 31)),
    tax_class=st.sampled_from(["standard", "disabled", "historic", "military"]),
    gross_weight_kg=st.none() | st.integers(500, 44000),
    seats=st.none() | st.integers(1, 70),
    wheelchair_accessible=st.booleans(),
    make=st.none() | st.just("Ford"),
)

con = duckdb.connect()

REGISTER_SCHEMA = pa.schema(
    [
        ("vrm", pa.string()),
        ("vehicle_type", pa.string()),
        ("fuel", pa.string()),
        ("euro_standard", pa.int32()),
        ("first_registered", pa.date32()),
    ]
)
EVIDENCE_SCHEMA = pa.schema(
    [
        ("vrm", pa.string()),
        ("kind", pa.string()),
        ("euro_standard", pa.int32()),
        ("recorded_by", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(facts_strategy, min_size=1, max_size=30),
    st.lists(
        st.tuples(st.integers(0, 29), st.integers(1, 7), st.sampled_from(STAMPS)), max_size=12
    ),
    st.sampled_from(["ulez", "lez", "ccz"]),
)
def test_compliance_sql_equals_assess(
    drawn: list[VehicleFacts], raw_evidence: list[tuple[int, int, datetime]], scheme: str
) -> None:
    vehicles = [replace(v, vrm=f"V{i}") for i, v in enumerate(drawn)]
    evidence = [
        Evidence(f"V{i}", "v5c", euro, "clerk", at)
        for i, euro, at in raw_evidence
        if i < len(drawn)
    ]
    register = pa.Table.from_pylist(
        [{f: getattr(v, f) for f in REGISTER_SCHEMA.names} for v in vehicles],
        schema=REGISTER_SCHEMA,
    )
    evidence_table = pa.Table.from_pylist(
        [{f: getattr(e, f) for f in EVIDENCE_SCHEMA.names} for e in evidence],
        schema=EVIDENCE_SCHEMA,
    )
    con.register("register", register)
    con.register("evidence", evidence_table)
    expression = compliance_sql(scheme, vehicle="v", evidence_euro_standard="ev.euro_standard")
    rows = con.execute(
        f"SELECT vrm, c.status, c.rule, c.band FROM (SELECT v.vrm, {expression} AS c "
        f"FROM register v LEFT JOIN ({latest_evidence_sql('evidence')}) ev ON ev.vrm = v.vrm)"
    ).fetchall()
    got = sorted(rows)
    expected = []
    for v in vehicles:
        d = assess(v, scheme, evidence=evidence, standards=BOOK.standards(scheme))
        expected.append((v.vrm, d.status.value, d.rule, d.band))
    assert got == sorted(expected)


def test_latest_evidence_sql_matches_on_ties_and_order() -> None:
    later = datetime(2026, 3, 3, tzinfo=UTC)
    cases = {
        "TIE": [evidence(6, vrm="TIE"), evidence(5, vrm="TIE")],
        "NEWER": [evidence(6, vrm="NEWER"), evidence(5, later, vrm="NEWER")],
        "OLDER": [evidence(5, vrm="OLDER"), evidence(6, later, vrm="OLDER")],
    }
    rows = [e for group in cases.values() for e in group]
    table = pa.Table.from_pylist(
        [{f: getattr(e, f) for f in EVIDENCE_SCHEMA.names} for e in rows], schema=EVIDENCE_SCHEMA
    )
    con.register("evidence", table)
    got = dict(con.execute(latest_evidence_sql("evidence")).fetchall())
    assert got == {"TIE": 5, "NEWER": 5, "OLDER": 6}
