"""Sightings and register matching: misread safety and the charge windows' edges."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from ringfence.engines.matching import match_register
from ringfence.engines.sightings import EvidenceRule, build_sightings, read_ids_for


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _con(
    reads: list[tuple[str, str, str, float, str]], register: list[str]
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register(
        "day_reads",
        pa.table(
            {
                "read_id": [r[0] for r in reads],
                "camera_id": [r[1] for r in reads],
                "captured_at": pa.array([at(r[2]) for r in reads], pa.timestamp("us", tz="UTC")),
                "confidence": [r[3] for r in reads],
                "vehicle_key": [r[4] for r in reads],
                "vrm_text": [r[4] for r in reads],
                "observed_make": pa.nulls(len(reads), pa.string()),
                "observed_type": pa.nulls(len(reads), pa.string()),
            }
        ),
    )
    con.register(
        "cameras",
        pa.table({"camera_id": ["CORDON", "OUTER"], "enforces": ["ccz;ulez;lez", "ulez;lez"]}),
    )
    con.register(
        "charge_windows",
        pa.table(
            {
                "scheme_id": ["ulez", "ccz"],
                "window_start": pa.array(
                    [at("2026-11-27T00:00:00"), at("2026-11-27T07:00:00")],
                    pa.timestamp("us", tz="UTC"),
                ),
                "window_end": pa.array(
                    [at("2026-11-28T00:00:00"), at("2026-11-27T18:00:00")],
                    pa.timestamp("us", tz="UTC"),
                ),
            }
        ),
    )
    con.register("register", pa.table({"vehicle_key": register, "vrm": register}))
    return con


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[str, str], dict[str, object]]:
    rows = con.sql(f"SELECT * FROM {table}").to_arrow_table().to_pylist()
    return {(r["vehicle_key"], r["scheme_id"]): r for r in rows}


def test_evidence_needs_two_confident_reads_or_one_very_confident() -> None:
    con = _con(
        [
            ("a1", "OUTER", "2026-11-27T08:00:00", 0.85, "TWOREADS"),
            ("a2", "OUTER", "2026-11-27T09:00:00", 0.82, "TWOREADS"),
            ("b1", "OUTER", "2026-11-27T08:00:00", 0.90, "ONEWEAK"),
            ("b2", "OUTER", "2026-11-27T09:00:00", 0.40, "ONEWEAK"),
            ("c1", "OUTER", "2026-11-27T08:00:00", 0.96, "ONESURE"),
        ],
        register=["TWOREADS", "ONEWEAK", "ONESURE"],
    )
    build_sightings(con, EvidenceRule())
    got = _rows(con, "sightings")
    assert got[("TWOREADS", "ulez")]["is_sufficient"] is True
    assert got[("ONEWEAK", "ulez")]["is_sufficient"] is False
    assert got[("ONEWEAK", "ulez")]["reads"] == 2
    assert got[("ONESURE", "ulez")]["is_sufficient"] is True
    read_ids_for(con, "sightings")
    listed = {
        (k, s): ids
        for k, s, ids in con.execute(
            "SELECT vehicle_key, scheme_id, read_ids FROM sighting_reads"
        ).fetchall()
    }
    assert listed[("TWOREADS", "ulez")] == ["a1", "a2"]  # in time order


def test_charge_windows_are_half_open_and_cameras_enforce_their_schemes() -> None:
    con = _con(
        [
            ("in", "CORDON", "2026-11-27T17:59:59.999999", 0.99, "LATE"),
            ("edge", "CORDON", "2026-11-27T18:00:00", 0.99, "EDGE"),
            ("early", "CORDON", "2026-11-27T06:59:59", 0.99, "EARLY"),
            ("outer", "OUTER", "2026-11-27T12:00:00", 0.99, "OUTSIDE"),
            ("midnight", "OUTER", "2026-11-28T00:00:00", 0.99, "TOMORROW"),
        ],
        register=["LATE", "EDGE", "EARLY", "OUTSIDE", "TOMORROW"],
    )
    build_sightings(con, EvidenceRule())
    got = _rows(con, "sightings")
    assert ("LATE", "ccz") in got and ("EDGE", "ccz") not in got and ("EARLY", "ccz") not in got
    assert ("OUTSIDE", "ccz") not in got and ("OUTSIDE", "ulez") in got  # camera enforces no CC
    assert ("EDGE", "ulez") in got and ("TOMORROW", "ulez") not in got


def test_unregistered_plates_that_look_like_registered_ones_are_flagged() -> None:
    con = _con(
        [
            ("m1", "OUTER", "2026-11-27T08:00:00", 0.97, "A812CDE"),  # B read as 8 ...
            ("e1", "OUTER", "2026-11-27T08:01:00", 0.97, "AB12CDE"),  # ... and the car itself
            ("m2", "OUTER", "2026-11-27T09:00:00", 0.97, "LX73A8C"),  # a misread alone
            ("u1", "OUTER", "2026-11-27T08:00:00", 0.97, "ZZ99XYZ"),
        ],
        register=["AB12CDE", "LX73ABC"],
    )
    build_sightings(con, EvidenceRule())
    match_register(con)
    got = _rows(con, "unmatched")
    assert ("AB12CDE", "ulez") not in got  # registered: priced by the charge run, not here
    # its misread changes nobody's charge: absorbed, no human needed
    assert got[("A812CDE", "ulez")]["match"] == "absorbed"
    # a misread of a vehicle not otherwise seen: a human must decide
    assert got[("LX73A8C", "ulez")]["match"] == "confusion"
    assert got[("LX73A8C", "ulez")]["candidates"] == ["LX73ABC"]
    assert got[("ZZ99XYZ", "ulez")]["match"] == "unregistered"


def test_evidence_rule_is_validated() -> None:
    with pytest.raises(ValueError):
        EvidenceRule(min_confidence=0.99, single_read_confidence=0.9)
