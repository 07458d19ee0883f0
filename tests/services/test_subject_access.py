"""Subject access: reads held with their retention, releases that disclosed the VRM (even after
the release file expired), hotlist entries, and the delayed-notice flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ringfence.policy import Officer
from ringfence.services import hotlist, requests
from ringfence.services.ingest import ingest_file
from ringfence.services.subject_access import subject_access
from ringfence.workspace import Workspace
from support import write_reads

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SUSPECT, OTHER = "AB12CDE", "BD51SMR"
MET = Officer("pc:1", "constable", "metropolitan_police")
SERIOUS = "law_enforcement:serious_crime"


def _ingest(ws: Workspace, tmp: Path) -> None:
    rows = [
        {
            "read_id": f"r{i}-{camera}",
            "camera_id": camera,
            "captured_at": (NOW - timedelta(days=2, hours=i)).isoformat(),
            "plate": plate,
            "confidence": 0.95,
        }
        for i, plate in enumerate([SUSPECT, SUSPECT, OTHER])
        for camera in ("C1", "C2")
    ]
    ingest_file(ws, write_reads(tmp / "r.csv", rows), now=NOW)


def _release(ws: Workspace) -> requests.Release:
    out = requests.submit(
        ws,
        requester=MET,
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        case_ref="OP-1",
        seriousness="serious",
        necessity="needed",
        vrms=[SUSPECT],
        networks=["cc_lez_2015"],
        data_classes=["vrm_text"],
        window_start=date(2026, 11, 25),
        window_end=date(2026, 11, 27),
        now=NOW,
    )
    requests.authorise(ws, out.request_id, Officer("insp:1", "inspector"), NOW)
    requests.review(ws, out.request_id, "approve", by="dso", reason="ok", now=NOW)
    return requests.release(ws, out.request_id, by="dso", now=NOW, expiry_days=7)


def test_reads_releases_and_hotlist_are_reported(ws: Workspace, tmp_path: Path) -> None:
    _ingest(ws, tmp_path)
    empty = subject_access(ws, OTHER, by="dpo", now=NOW)
    assert empty["read_count"] == 2 and empty["police_releases"] == []
    assert empty["delayed_notice"] is False
    rel = _release(ws)
    later = NOW + timedelta(days=10)
    requests.expire_releases(ws, later)  # the file goes; the disclosure record stays
    report = subject_access(ws, "ab12 cde", by="dpo", now=later)
    assert report["read_count"] == 4
    held = report["reads_held"]
    assert isinstance(held, list)
    assert {(h["network"], h["reads"]) for h in held} == {
        ("cc_lez_2015", 2),
        ("ulez_inner_2021", 2),
    }
    assert all(h["retention"] for h in held)
    releases = report["police_releases"]
    assert isinstance(releases, list) and len(releases) == 1
    assert releases[0]["release_id"] == rel.release_id and releases[0]["reads"] == 2
    assert releases[0]["file_expired"] is True
    assert report["delayed_notice"] is True  # a release within the notice delay
    much_later = NOW + timedelta(days=200)
    assert subject_access(ws, SUSPECT, by="dpo", now=much_later)["delayed_notice"] is False
    events = [e for e in ws.audit.entries() if e.event == "subject-access"]
    assert len(events) == 3 and events[1].counts["releases"] == 1
    assert SUSPECT not in (ws.data_dir / "audit" / "log.jsonl").read_text()


def test_an_active_hotlist_entry_delays_notice(ws: Workspace) -> None:
    hotlist.add_entry(
        ws,
        officer=MET,
        vrm=SUSPECT,
        reason="wanted",
        purpose=SERIOUS,
        legal_basis="DPA2018_Part3",
        case_ref="OP-2",
        networks=["cc_lez_2015"],
        expires_on=date(2026, 12, 5),
        now=NOW,
    )
    report = subject_access(ws, SUSPECT, by="dpo", now=NOW)
    entries = report["hotlist_entries"]
    assert isinstance(entries, list) and entries[0]["status"] == "active"
    assert report["delayed_notice"] is True
    assert subject_access(ws, OTHER, by="dpo", now=NOW)["delayed_notice"] is False
