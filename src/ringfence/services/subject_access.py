"""Data-subject access: what Ringfence holds about one VRM and who it was disclosed to.

For authorised operator use (it looks the plate up in every live key epoch, and is audited).
The report lists

- reads held, per charge day and network, with the purpose and retention rule that keeps them
  and the day they are due to go; epochs already crypto-shredded are named (their reads, if any
  remain, can no longer be linked to the plate);
- police releases that included the VRM (from the keyed disclosure log, so releases whose file
  has expired are still reported): when, to which force, for what purpose and legal basis, how
  many reads;
- hotlist entries naming the VRM, and their hits;
- ``delayed_notice``: true while an investigation may be live (an active hotlist entry, or a
  release within ``subject_access.notice_delay_days``). The operator then decides with the
  force whether a restriction applies before telling the subject about police processing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from ringfence.domain.vrm import normalise
from ringfence.errors import InputError
from ringfence.services.cameras import camera_lookup
from ringfence.services.reads import vrm_history
from ringfence.stores.readstore import charge_day_of, london_day_bounds
from ringfence.stores.state import (
    AccessRequestRow,
    HotlistEntryRow,
    HotlistHitRow,
    ReleaseRow,
    ReleaseSubjectRow,
)
from ringfence.workspace import Workspace

__all__ = ["subject_access"]


def _reads_held(ws: Workspace, vrm: str) -> tuple[list[dict[str, object]], list[int]]:
    days = ws.reads.days()
    if not days:
        return [], []
    found = vrm_history(ws, vrm, london_day_bounds(days[0])[0], london_day_bounds(days[-1])[1])
    networks = camera_lookup(ws.cameras_table(), "network")
    per: dict[tuple[date, str], int] = {}
    for camera, at in zip(
        found.reads.column("camera_id").to_pylist(),
        found.reads.column("captured_at").to_pylist(),
        strict=True,
    ):
        key = (charge_day_of(at), networks.get(camera, "unknown"))
        per[key] = per.get(key, 0) + 1
    rules = [r for r in ws.settings.retention if r.target == "reads"]
    rows: list[dict[str, object]] = []
    for (day, network), count in sorted(per.items()):
        rows.append(
            {
                "charge_day": day.isoformat(),
                "network": network,
                "reads": count,
                "purposes": sorted({r.purpose for r in rules}),
                "retention": [
                    {
                        "rule": r.name,
                        "delete_after": (day + timedelta(days=r.max_age_days)).isoformat(),
                        "selector": r.selector,
                    }
                    for r in rules
                ],
            }
        )
    return rows, found.epochs_destroyed


def subject_access(ws: Workspace, vrm: str, *, by: str, now: datetime) -> dict[str, object]:
    """The subject-access report for ``vrm`` (see the module docstring); audited."""
    clear = normalise(vrm)
    if not clear:
        raise InputError(f"{vrm!r} has no characters of a VRM")
    if not by.strip():
        raise InputError("a subject-access search needs who runs it (--by)")
    now = now.astimezone(UTC)
    reads, destroyed = _reads_held(ws, clear)
    index = ws.keys.subject_index([clear])[0]
    recent = now - timedelta(days=ws.settings.subject_notice_delay_days)
    with ws.state.session() as s:
        disclosed = s.execute(
            select(ReleaseSubjectRow, ReleaseRow, AccessRequestRow)
            .join(ReleaseRow, ReleaseSubjectRow.release_id == ReleaseRow.release_id)
            .join(AccessRequestRow, ReleaseRow.request_id == AccessRequestRow.request_id)
            .where(ReleaseSubjectRow.subject_index == index)
            .order_by(ReleaseRow.issued_at)
        ).all()
        releases = [
            {
                "release_id": rel.release_id,
                "issued_at": rel.issued_at.isoformat(),
                "force": req.requester_force,
                "purpose": req.purpose,
                "legal_basis": req.legal_basis,
                "kind": req.kind,
                "reads": sub.reads,
                "window_start": rel.window_start.isoformat(),
                "window_end": rel.window_end.isoformat(),
                "file_expired": rel.expired_at is not None,
                "recent": rel.issued_at >= recent,
            }
            for sub, rel, req in disclosed
        ]
        entries = s.scalars(
            select(HotlistEntryRow).where(HotlistEntryRow.subject_index == index)
        ).all()
        hotlist = []
        for e in entries:
            hits = s.scalar(
                select(func.count())
                .select_from(HotlistHitRow)
                .where(HotlistHitRow.entry_id == e.entry_id)
            )
            hotlist.append(
                {
                    "entry_id": e.entry_id,
                    "force": e.force,
                    "status": e.status,
                    "created_at": e.created_at.isoformat(),
                    "expires_on": e.expires_on.isoformat(),
                    "hits": int(hits or 0),
                }
            )
    because = [
        f"hotlist entry {h['entry_id']} is active" for h in hotlist if h["status"] == "active"
    ]
    because += [
        f"release {r['release_id']} issued within the notice delay" for r in releases if r["recent"]
    ]
    report: dict[str, object] = {
        "vrm": clear,
        "generated_at": now.isoformat(),
        "generated_by": by,
        "reads_held": reads,
        "read_count": sum(int(str(r["reads"])) for r in reads),
        "epochs_destroyed": destroyed,
        "police_releases": releases,
        "hotlist_entries": hotlist,
        "delayed_notice": bool(because),
        "delayed_because": because,
    }
    ws.record(
        "subject-access",
        subject=f"subject:{index[:16]}",
        why=f"subject-access search by {by}",
        counts={
            "reads": int(str(report["read_count"])),
            "releases": len(releases),
            "hotlist_entries": len(hotlist),
        },
        attrs={"delayed_notice": "yes" if because else "no"},
    )
    return report
