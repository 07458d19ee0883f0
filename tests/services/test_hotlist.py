"""Hotlists: policy on entry, real-time matching only on covered networks and only of reads taken
after the entry, automatic expiry, revocation, historical hits under a request, and a human
confirmation of every hit (confusion-aware)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ringfence.audit import verify
from ringfence.domain.hotlist import WATCH_SCHEMA, WatchIndex, match
from ringfence.errors import InputError, StateError
from ringfence.policy import Officer
from ringfence.services import governance, hotlist, requests
from ringfence.services.ingest import ingest_file
from ringfence.workspace import Workspace
from support import write_reads

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
SUSPECT, LOOKALIKE, OTHER = "AB12CDE", "AB12CDF", "BD51SMR"
MET = Officer("pc:1001", "constable", "metropolitan_police")
SERIOUS = "law_enforcement:serious_crime"
COVERED = ["cc_lez_2015", "ulez_inner_2021"]


def _add(ws: Workspace, *, networks: list[str] = COVERED, days: int = 7, **kw: object) -> str:
    entry = hotlist.add_entry(
        ws,
        officer=MET,
        vrm=str(kw.get("vrm", SUSPECT)),
        reason="vehicle used in an armed robbery",
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        case_ref="OP-HOT-1",
        networks=networks,
        expires_on=NOW.date() + timedelta(days=days),
        warning_markers=["firearms"],
        now=NOW,
    )
    return str(entry["entry_id"])


def _reads(tmp: Path, at: datetime, plates: list[str], name: str) -> Path:
    rows = [
        {
            "read_id": f"{name}-{plate}-{camera}",
            "camera_id": camera,
            "captured_at": (at + timedelta(minutes=i)).isoformat(),
            "plate": plate,
            "confidence": 0.95,
            "image_ref": f"img://{camera}/{name}-{plate}",
        }
        for i, plate in enumerate(plates)
        for camera in ("C1", "C2", "C3")
    ]
    return write_reads(tmp / f"{name}.csv", rows)


def test_entries_are_refused_beyond_the_instruments(ws: Workspace) -> None:
    with pytest.raises(requests.AccessRefusedError) as refused:
        _add(ws, networks=[*COVERED, "ulez_london_2023"])
    assert {"condition:dpia_approved", "condition:mayoral_direction"} <= (
        refused.value.decision.failure_codes
    )
    with pytest.raises(requests.AccessRefusedError) as too_long:
        _add(ws, days=60)
    assert too_long.value.decision.failure_codes == {"hotlist:expiry_too_long"}
    assert hotlist.list_entries(ws) == []
    events = [e.event for e in ws.audit.entries()]
    assert events.count("hotlist-entry-refused") == 2


def test_real_time_hits_only_on_covered_networks_and_after_the_entry(
    ws: Workspace, tmp_path: Path
) -> None:
    before = ingest_file(ws, _reads(tmp_path, NOW - timedelta(hours=2), [SUSPECT], "a"), now=NOW)
    entry_id = _add(ws)
    report = ingest_file(
        ws, _reads(tmp_path, NOW + timedelta(hours=1), [SUSPECT, OTHER], "b"), now=LATER
    )
    assert before.hotlist_hits == []
    hits = hotlist.list_hits(ws)
    assert len(report.hotlist_hits) == 2 == len(hits)
    # C3 is on the London-wide network no instrument covers; OTHER is not hotlisted; the
    # earlier read of SUSPECT predates the entry (a historical read, not an alert).
    assert {h["camera_id"] for h in hits} == {"C1", "C2"}
    assert {h["entry_id"] for h in hits} == {entry_id}
    assert all(h["status"] == "pending" and not h["historical"] for h in hits)
    audited = [e for e in ws.audit.entries() if e.event == "hotlist-hit"]
    assert len(audited) == 2 and {e.attrs["network"] for e in audited} == set(COVERED)
    assert SUSPECT not in (ws.data_dir / "audit" / "log.jsonl").read_text()


def test_expired_entries_stop_matching_automatically(ws: Workspace, tmp_path: Path) -> None:
    _add(ws, days=1)
    later = NOW + timedelta(days=3)
    report = ingest_file(
        ws, _reads(tmp_path, later, [SUSPECT], "late"), now=later + timedelta(hours=1)
    )
    assert report.hotlist_hits == []
    assert [e["status"] for e in hotlist.list_entries(ws)] == ["expired"]
    assert any(e.event == "hotlist-entry-expired" for e in ws.audit.entries())


def test_revocation_stops_matching_at_once(ws: Workspace, tmp_path: Path) -> None:
    _add(ws, networks=["ulez_inner_2021"])
    governance.revoke_instrument(
        ws, "md2977_cc_lez_inner", on=NOW.date(), by="dso", why="revoked", now=NOW
    )
    report = ingest_file(ws, _reads(tmp_path, NOW + timedelta(hours=1), [SUSPECT], "r"), now=NOW)
    assert report.hotlist_hits == []


def test_removed_entries_stop_matching(ws: Workspace, tmp_path: Path) -> None:
    entry_id = _add(ws)
    hotlist.remove_entry(ws, entry_id, by="pc:1001", why="vehicle recovered", now=NOW)
    with pytest.raises(StateError, match="already removed"):
        hotlist.remove_entry(ws, entry_id, by="pc:1001", why="again", now=NOW)
    report = ingest_file(ws, _reads(tmp_path, NOW + timedelta(hours=1), [SUSPECT], "x"), now=LATER)
    assert report.hotlist_hits == []


def test_historical_hits_need_an_approved_request_naming_the_vrm(
    ws: Workspace, tmp_path: Path
) -> None:
    ingest_file(ws, _reads(tmp_path, NOW - timedelta(days=2), [SUSPECT, OTHER], "past"), now=NOW)
    entry_id = _add(ws)
    assert hotlist.list_hits(ws) == []
    out = requests.submit(
        ws,
        requester=MET,
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        case_ref="OP-HOT-1",
        seriousness="serious",
        necessity="Where was the vehicle before the robbery?",
        vrms=[SUSPECT],
        networks=["ulez_inner_2021"],
        data_classes=["vrm_text"],
        window_start=date(2026, 11, 20),
        window_end=date(2026, 11, 27),
        now=NOW,
    )
    with pytest.raises(StateError, match="not approved"):
        hotlist.search_past(ws, entry_id, out.request_id, by="dso", now=NOW)
    requests.authorise(ws, out.request_id, Officer("insp:1", "inspector"), NOW)
    requests.review(ws, out.request_id, "approve", by="dso:1", reason="ok", now=NOW)
    made = hotlist.search_past(ws, entry_id, out.request_id, by="dso:1", now=NOW)
    hits = hotlist.list_hits(ws)
    # only the approved network (inner ULEZ: C2), only SUSPECT
    assert len(made) == 1 and [h["camera_id"] for h in hits] == ["C2"]
    assert hits[0]["historical"] and hits[0]["request_id"] == out.request_id
    # searching again adds nothing
    assert hotlist.search_past(ws, entry_id, out.request_id, by="dso:1", now=NOW) == []


def test_every_hit_needs_a_human_review_with_lookalikes_shown(
    ws: Workspace, tmp_path: Path
) -> None:
    register = ws.data_dir / "register"
    register.mkdir(parents=True)
    pq.write_table(pa.table({"vrm": [SUSPECT, "A812CDE", OTHER]}), register / "vehicles.parquet")
    _add(ws)
    ingest_file(ws, _reads(tmp_path, NOW + timedelta(hours=1), [SUSPECT], "h"), now=LATER)
    first, second = (h["hit_id"] for h in hotlist.list_hits(ws))
    card = hotlist.hit_card(ws, str(first))
    assert card["lookalikes"] == ["A812CDE"]  # B/8 confusable: could have been read as SUSPECT
    assert card["warning_markers"] == ["firearms"] and card["image_ref"]
    with pytest.raises(InputError, match="outcome"):
        hotlist.review_hit(ws, str(first), "maybe", by="op", note="x", now=NOW)
    hotlist.review_hit(ws, str(first), "confirmed", by="op:1", note="plate matches", now=NOW)
    hotlist.review_hit(ws, str(second), "misread", by="op:1", note="image shows A812CDE", now=NOW)
    with pytest.raises(StateError, match="already reviewed"):
        hotlist.review_hit(ws, str(first), "misread", by="op:1", note="x", now=NOW)
    assert sorted(h["status"] for h in hotlist.list_hits(ws)) == ["confirmed", "misread"]
    outcomes = [e.attrs["outcome"] for e in ws.audit.entries() if e.event == "hotlist-hit-reviewed"]
    assert outcomes == ["confirmed", "misread"]
    assert verify(ws.data_dir / "audit").ok


@pytest.mark.parametrize("small_batch", [10, 20_000], ids=["vector-filter", "set-filter"])
def test_pure_match_equals_a_brute_force_check(
    small_batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WatchIndex, "SMALL_BATCH", small_batch)
    rng = random.Random(7)
    cams = pa.table({"camera_id": ["A", "B", "C"], "network": ["n1", "n2", "n3"]})
    plates = [bytes([i]) * 16 for i in range(30)]
    t0 = datetime(2026, 11, 28, tzinfo=UTC)
    reads = pa.table(
        {
            "read_id": [f"r{i}" for i in range(500)],
            "camera_id": [rng.choice("ABC") for _ in range(500)],
            "captured_at": pa.array(
                [t0 + timedelta(minutes=rng.randint(0, 600)) for _ in range(500)],
                pa.timestamp("us", tz="UTC"),
            ),
            "vrm_pseudonym": [rng.choice(plates) for _ in range(500)],
            "key_epoch": pa.array([rng.choice([1, 2]) for _ in range(500)], pa.int32()),
            "confidence": [0.9] * 500,
            "image_ref": [None] * 500,
        }
    )
    watch_rows = [
        {
            "key_epoch": rng.choice([1, 2]),
            "vrm_pseudonym": rng.choice(plates),
            "network": rng.choice(["n1", "n2", "n3"]),
            "entry_id": f"e{i}",
            "not_before": t0 + timedelta(minutes=rng.randint(0, 600)),
        }
        for i in range(40)
    ]
    watch = pa.Table.from_pylist(watch_rows, schema=WATCH_SCHEMA)
    got = {(h["entry_id"], h["read_id"]) for h in match(reads, cams, watch).to_pylist()}
    network = {"A": "n1", "B": "n2", "C": "n3"}
    expected = {
        (w["entry_id"], r["read_id"])
        for r in reads.to_pylist()
        for w in watch_rows
        if r["vrm_pseudonym"] == w["vrm_pseudonym"]
        and r["key_epoch"] == w["key_epoch"]
        and network[r["camera_id"]] == w["network"]
        and r["captured_at"] >= w["not_before"]
    }
    assert got == expected and expected
