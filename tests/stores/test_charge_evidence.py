"""The charge runs' evidence files: which reads each liability rests on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ringfence.stores.charge_evidence import ChargeEvidence
from ringfence.stores.state import LiabilityRow

DAY = date(2026, 11, 26)


def _write(evidence: ChargeEvidence, run_id: str, rows: list[tuple[str, bytes, list[str]]]) -> Path:
    con = duckdb.connect()
    con.execute("CREATE TABLE l (scheme_id VARCHAR, vehicle_key BLOB, read_ids VARCHAR[])")
    con.executemany("INSERT INTO l VALUES (?, ?, ?)", rows)
    return evidence.write(
        con, "SELECT scheme_id, vehicle_key AS vrm_pseudonym, read_ids FROM l", DAY, run_id
    )


def test_a_runs_read_ids_are_found_by_liability(tmp_path: Path) -> None:
    evidence = ChargeEvidence(tmp_path / "charges")
    path = _write(
        evidence, "a1", [("ulez", b"p1", ["r2", "r1"]), ("ccz", b"p1", ["r3"]), ("ulez", b"p2", [])]
    )
    assert path == tmp_path / "charges" / "2026-11-26" / "a1.parquet"
    assert pq.read_schema(path).names == ["scheme_id", "vrm_pseudonym", "read_ids"]
    found = evidence.read_ids(
        [(DAY, "a1", "ulez", b"p1"), (DAY, "a1", "ccz", b"p1"), (DAY, "zz", "ulez", b"p1")]
    )
    # a run writes its lists as sets; a look-up gives them sorted, whatever the file's order
    assert found == {(DAY, "a1", "ulez", b"p1"): ["r1", "r2"], (DAY, "a1", "ccz", b"p1"): ["r3"]}


def _liability(
    liability_id: int, run_id: str, pseudonym: bytes, ids: list[str] | None
) -> LiabilityRow:
    return LiabilityRow(
        id=liability_id,
        charge_day=DAY,
        run_id=run_id,
        scheme_id="ulez",
        vrm_pseudonym=pseudonym,
        read_ids=ids,
    )


def test_rows_that_still_hold_their_ids_keep_them(tmp_path: Path) -> None:
    evidence = ChargeEvidence(tmp_path / "charges")
    _write(evidence, "b2", [("ulez", b"p1", ["r1"])])
    ids = evidence.of_liabilities(
        [
            _liability(1, "b2", b"p1", None),  # in the run's file
            _liability(2, "old", b"p9", ["x1", "x2"]),  # decided before the files
            _liability(3, "gone", b"p3", None),  # its file is missing
        ]
    )
    assert ids == {1: ["r1"], 2: ["x1", "x2"], 3: []}


def test_prune_keeps_only_the_runs_rows_refer_to(tmp_path: Path) -> None:
    evidence = ChargeEvidence(tmp_path / "charges")
    for run in ("c1", "c2", "c3"):
        _write(evidence, run, [("ulez", b"p", [run])])
    (tmp_path / "charges" / "2026-11-26" / "c4.partial").write_bytes(b"half")
    removed = evidence.prune(DAY, {"c2", "c3"})
    assert sorted(p.name for p in removed) == ["c1.parquet", "c4.partial"]
    assert sorted(p.name for p in (tmp_path / "charges" / "2026-11-26").iterdir()) == [
        "c2.parquet",
        "c3.parquet",
    ]
    assert evidence.prune(date(2026, 1, 1), set()) == []


def test_a_run_id_cannot_name_a_path_outside(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a run id"):
        ChargeEvidence(tmp_path).path(DAY, "../x")
