"""Purpose-bound retention: receipts, legal holds, quarantine expiry, key destruction."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ringfence.errors import InputError
from ringfence.services.ingest import ingest_file
from ringfence.services.reads import vrm_history
from ringfence.services.retention import (
    list_holds,
    list_receipts,
    place_hold,
    purge_reads,
    release_hold,
    run_retention,
)
from ringfence.settings import RetentionRule
from ringfence.workspace import Workspace
from support import write_reads

DAY1, DAY2 = "2026-11-20", "2026-11-27"


def _fill(ws: Workspace, tmp_path: Path, now: datetime) -> None:
    rows = []
    for day in (DAY1, DAY2):
        for i, vrm in enumerate(["AB12CDE", "LX73ABC", "M123ABC"]):
            rows.append(
                {
                    "read_id": f"{day}-{i}",
                    "camera_id": "C1",
                    "captured_at": f"{day}T0{i + 1}:00:00Z",
                    "plate": vrm,
                    "confidence": 0.9,
                }
            )
    rows.append(
        {
            "camera_id": "C9",
            "captured_at": f"{DAY2}T01:00:00Z",
            "plate": "AB12CDE",
            "confidence": 0.9,
        }
    )
    ingest_file(ws, write_reads(tmp_path / "r.csv", rows), now=now)


def _ids(ws: Workspace) -> list[str]:
    files = ws.reads.all_files()
    if not files:
        return []
    return [
        r[0]
        for r in duckdb.execute(f"SELECT read_id FROM {ws.reads.scan(files)} ORDER BY 1").fetchall()
    ]


def test_reads_past_their_rule_are_deleted_with_a_receipt(
    ws_any: Workspace, tmp_path: Path, now: datetime
) -> None:
    _fill(ws_any, tmp_path, now)
    as_of = date.fromisoformat(DAY1) + timedelta(days=36)  # DAY1 past 35 days, DAY2 not
    receipts = run_retention(ws_any, as_of=as_of, now=now)
    reads_receipts = [r for r in receipts if r.target == "reads"]
    assert [(r.charge_day, r.deleted, r.held_back) for r in reads_receipts] == [(DAY1, 3, 0)]
    expected = hashlib.sha256("\n".join(f"{DAY1}-{i}" for i in range(3)).encode()).hexdigest()
    assert reads_receipts[0].deleted_ids_sha256 == expected
    assert _ids(ws_any) == [f"{DAY2}-{i}" for i in range(3)]
    # the receipt is on disk too, without personal data
    files = list(ws_any.settings.receipts_dir.glob("*.json"))
    assert any(json.loads(f.read_text())["rule"] == "reads-charging" for f in files)
    assert not any(b"AB12CDE" in f.read_bytes() for f in files)
    # idempotent: a second run finds nothing more to delete
    again = [r for r in run_retention(ws_any, as_of=as_of, now=now) if r.target == "reads"]
    assert again == []
    assert len(list_receipts(ws_any)) == len(receipts)


def test_a_legal_hold_exempts_named_reads_until_released(
    ws_any: Workspace, tmp_path: Path, now: datetime
) -> None:
    _fill(ws_any, tmp_path, now)
    window = (
        datetime.fromisoformat(f"{DAY1}T00:00:00+00:00"),
        datetime.fromisoformat(f"{DAY1}T23:00:00+00:00"),
    )
    hold = place_hold(
        ws_any,
        reason="case 01/2345, preserve",
        created_by="dpo@operator",
        now=now,
        vrm="LX73 ABC",
        window=window,
    )
    assert hold.reads == 1
    as_of = date.fromisoformat(DAY1) + timedelta(days=60)
    receipts = run_retention(ws_any, as_of=as_of, now=now)
    day1 = next(r for r in receipts if r.charge_day == DAY1)
    assert (day1.deleted, day1.held_back) == (2, 1)
    assert _ids(ws_any) == [f"{DAY1}-1"]
    # the held read's epoch keeps its key, so the read can still be found by VRM
    assert not any(r.target == "key" for r in receipts)
    assert vrm_history(ws_any, "LX73ABC", *window).reads.num_rows == 1

    release_hold(ws_any, hold.hold_id, released_by="dpo@operator", now=now)
    assert [h.is_active for h in list_holds(ws_any)] == [False]
    later = run_retention(ws_any, as_of=as_of, now=now)
    assert _ids(ws_any) == []
    assert any(r.target == "key" for r in later)  # now nothing holds the epoch back


def test_purge_of_named_vehicles_only(ws: Workspace, tmp_path: Path, now: datetime) -> None:
    _fill(ws, tmp_path, now)
    day = date.fromisoformat(DAY2)
    epoch = ws.keys.epoch_for_day(day)
    assert epoch is not None
    targets = ws.keys.keys(epoch.epoch).pseudonymise(["AB12CDE", "M123ABC"])
    rule = RetentionRule("charging-matched", "charging", "reads", 0)
    receipt = purge_reads(ws, day, rule, now=now, only_pseudonyms=targets)
    assert receipt.deleted == 2 and receipt.details == {"vehicles": 2}
    assert _ids(ws) == [f"{DAY1}-{i}" for i in range(3)] + [f"{DAY2}-1"]


def test_quarantine_expires_under_its_own_rule(ws: Workspace, tmp_path: Path, now: datetime):
    _fill(ws, tmp_path, now)
    kept = run_retention(ws, as_of=now.date() + timedelta(days=14), now=now)
    assert not [r for r in kept if r.target == "quarantine"]
    gone = run_retention(ws, as_of=now.date() + timedelta(days=15), now=now)
    assert next(r for r in gone if r.target == "quarantine").deleted == 1


def test_holds_need_a_reason_and_existing_reads(ws: Workspace, tmp_path: Path, now: datetime):
    _fill(ws, tmp_path, now)
    with pytest.raises(InputError):
        place_hold(ws, reason=" ", created_by="x", now=now, read_ids=[f"{DAY1}-0"])
    from ringfence.errors import NotFoundError

    with pytest.raises(NotFoundError):
        place_hold(ws, reason="case", created_by="x", now=now, read_ids=["nope"])
    hold = place_hold(ws, reason="case", created_by="x", now=now, read_ids=[f"{DAY1}-0"])
    assert hold.reads == 1
