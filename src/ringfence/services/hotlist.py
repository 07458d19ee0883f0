"""Police hotlists: entries with provenance and a hard expiry, real-time matching of incoming
reads on covered networks only, historical hits only under an approved request, and a human
confirmation of every hit before any action.

Every step is asked of the policy point and audited:

- adding an entry: `AddHotlistEntry` (networks, purpose, legal basis, expiry within
  ``access.hotlist_max_days``); refused entries are not stored, the refusal is audited;
- matching: `MatchHotlistRead` per entry and network on the day of matching, so a revocation, a
  lapsed DPIA or the entry's expiry stops alerts at once. Entries past their last day are marked
  ``expired`` (audited) before every match;
- a historical search of one entry's VRM over past reads needs a vehicle-history request of the
  same force, naming that VRM, approved (or released): its approved scope bounds the search;
- a hit is ``pending`` until a person compares the image with the text and records ``confirmed``,
  ``misread`` or ``no_action``. The hit card is confusion-aware: it lists registered vehicles
  whose plates differ from the hotlisted one only by confusable characters (0/O, 1/I, 8/B...),
  the usual cause of a false alert.

Hotlisted VRMs are those the police supplied; reads are never un-pseudonymised to match them:
each entry's VRM is pseudonymised under each live key epoch instead (the *watch table*).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa
from sqlalchemy import select

from ringfence.domain.hotlist import WATCH_SCHEMA, WatchIndex, empty_watch
from ringfence.domain.reads import confusion_key_sql
from ringfence.domain.sharing import GovernanceBook, Seriousness
from ringfence.domain.vrm import confusion_key, normalise
from ringfence.errors import InputError, NotFoundError, StateError
from ringfence.policy import (
    AddHotlistEntry,
    Decision,
    MatchHotlistRead,
    Officer,
    PolicyContext,
    decide,
)
from ringfence.services.cameras import camera_lookup
from ringfence.services.governance import current_book
from ringfence.services.requests import AccessRefusedError, vehicle_reads_in_scope
from ringfence.stores.readstore import as_utc, charge_day_of
from ringfence.stores.state import AccessRequestRow, CameraRow, HotlistEntryRow, HotlistHitRow
from ringfence.workspace import Workspace

__all__ = [
    "OUTCOMES",
    "Matcher",
    "add_entry",
    "expire_entries",
    "hit_card",
    "list_entries",
    "list_hits",
    "match_batch",
    "match_reads",
    "remove_entry",
    "review_hit",
    "search_past",
]

OUTCOMES = ("confirmed", "misread", "no_action")
SEARCHABLE = ("approved", "narrowed", "released")


def _context(book: GovernanceBook, officer: Officer, today: date) -> PolicyContext:
    # Hotlist steps need no authorising officer: the seriousness bands apply to read queries.
    return PolicyContext(book, officer, None, Seriousness.STANDARD, today)


def _codes(decision: Decision) -> str:
    return ", ".join(sorted(decision.failure_codes)) or "none"


# --- Entries ------------------------------------------------------------------------------------


def add_entry(
    ws: Workspace,
    *,
    officer: Officer,
    vrm: str,
    reason: str,
    purpose: str,
    legal_basis: str,
    case_ref: str,
    networks: Sequence[str],
    expires_on: date,
    now: datetime,
    warning_markers: Sequence[str] = (),
    book: GovernanceBook | None = None,
) -> dict[str, object]:
    """Add a VRM to the hotlist if the policy allows it; raises `AccessRefusedError` if not."""
    now = as_utc(now)
    clear = normalise(vrm)
    if not clear:
        raise InputError(f"{vrm!r} has no characters of a VRM")
    for name, value in (("reason", reason), ("case reference", case_ref)):
        if not value.strip():
            raise InputError(f"a hotlist entry needs a {name}")
    book = book or current_book(ws)
    action = AddHotlistEntry(
        networks=frozenset(networks),
        purpose=purpose,
        legal_basis=legal_basis,
        expires_on=expires_on,
    )
    decision = decide(action, _context(book, officer, charge_day_of(now)))
    attrs = {"force": officer.force, "purpose": purpose, "legal_basis": legal_basis}
    if not decision.allowed:
        ws.record(
            "hotlist-entry-refused",
            subject=f"officer:{officer.officer_id}",
            why=f"refused by policy: {_codes(decision)}",
            attrs={**attrs, "reasons": ";".join(sorted(decision.failure_codes))},
        )
        raise AccessRefusedError(f"hotlist entry refused: {_codes(decision)}", decision)
    entry_id = f"HOT-{charge_day_of(now):%Y%m%d}-{uuid.uuid4().hex[:10].upper()}"
    row = HotlistEntryRow(
        entry_id=entry_id,
        vrm=clear,
        subject_index=ws.keys.subject_index([clear])[0],
        status="active",
        force=officer.force,
        officer_id=officer.officer_id,
        officer_rank=officer.rank,
        reason=reason.strip(),
        purpose=purpose,
        legal_basis=legal_basis,
        case_ref=case_ref.strip(),
        warning_markers=sorted(set(warning_markers)),
        networks=sorted(set(networks)),
        created_at=now,
        expires_on=expires_on,
    )
    with ws.state.session() as s:
        s.add(row)
        shown = _entry_json(row)
    ws.record(
        "hotlist-entry-added",
        subject=entry_id,
        why=f"by {officer.officer_id} ({officer.force}) for case {case_ref}: {reason}",
        counts={"networks": len(row.networks)},
        attrs={**attrs, "reason": reason.strip()[:80], "expires_on": expires_on.isoformat()},
    )
    return shown


def _entry_json(row: HotlistEntryRow) -> dict[str, object]:
    return {
        "entry_id": row.entry_id,
        "vrm": row.vrm,
        "status": row.status,
        "force": row.force,
        "officer": row.officer_id,
        "reason": row.reason,
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "case_ref": row.case_ref,
        "warning_markers": row.warning_markers,
        "networks": row.networks,
        "created_at": row.created_at.isoformat(),
        "expires_on": row.expires_on.isoformat(),
        "ended_at": None if row.ended_at is None else row.ended_at.isoformat(),
        "ended_why": row.ended_why,
    }


def remove_entry(ws: Workspace, entry_id: str, *, by: str, why: str, now: datetime) -> None:
    """Take an entry off the hotlist before its expiry (e.g. the vehicle was found)."""
    now = as_utc(now)
    if not by.strip() or not why.strip():
        raise InputError("removing an entry needs who (--by) and why (--why)")
    with ws.state.session() as s:
        row = s.get(HotlistEntryRow, entry_id)
        if row is None:
            raise NotFoundError(f"no hotlist entry {entry_id!r}")
        if row.status != "active":
            raise StateError(f"hotlist entry {entry_id} is already {row.status}")
        row.status, row.ended_at, row.ended_by, row.ended_why = "removed", now, by, why
        force = row.force
    ws.record(
        "hotlist-entry-removed", subject=entry_id, why=f"by {by}: {why}", attrs={"force": force}
    )


def expire_entries(ws: Workspace, now: datetime) -> list[str]:
    """Mark entries past their last day ``expired``; returns their ids (audited once)."""
    now = as_utc(now)
    today = charge_day_of(now)
    with ws.state.session() as s:
        rows = s.scalars(
            select(HotlistEntryRow).where(
                HotlistEntryRow.status == "active", HotlistEntryRow.expires_on < today
            )
        ).all()
        for row in rows:
            row.status, row.ended_at, row.ended_by = "expired", now, "ringfence"
            row.ended_why = f"expiry {row.expires_on} passed"
        ids = [r.entry_id for r in rows]
    if ids:
        ws.record(
            "hotlist-entry-expired",
            subject=f"hotlist:{len(ids)}",
            why=f"entries past their expiry on {today}",
            counts={"entries": len(ids)},
            attrs={"entry_ids": ";".join(ids)},
        )
    return ids


def list_entries(ws: Workspace, *, status: str | None = None) -> list[dict[str, object]]:
    with ws.state.session() as s:
        query = select(HotlistEntryRow).order_by(HotlistEntryRow.created_at)
        if status:
            query = query.where(HotlistEntryRow.status == status)
        return [_entry_json(r) for r in s.scalars(query)]


# --- Matching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Matcher:
    """What matching needs, built once per hotlist/keys/governance state and reused per
    micro-batch: the watch table and the camera networks."""

    watch: pa.Table
    forces: dict[str, str]
    """entry_id -> force, for the audit."""
    boroughs: dict[str, str]
    """camera_id -> borough GSS code, for the audit."""
    index: WatchIndex

    def match(self, reads: pa.Table) -> pa.Table:
        return self.index.match(reads)


def build_matcher(
    ws: Workspace, now: datetime, epochs: Iterable[int], *, book: GovernanceBook | None = None
) -> Matcher:
    """The watch table for the active entries on ``now``'s day, over the given key epochs."""
    now = as_utc(now)
    today = charge_day_of(now)
    book = book or current_book(ws)
    t = HotlistEntryRow
    with ws.state.session() as s:
        # Plain rows, not ORM objects: a large hotlist is read on every batch.
        entries = s.execute(
            select(
                t.entry_id, t.vrm, t.force, t.officer_id, t.officer_rank, t.purpose,
                t.legal_basis, t.networks, t.expires_on, t.created_at,
            ).where(t.status == "active", t.expires_on >= today)
        ).all()  # fmt: skip
    allowed: list[tuple[str, str, str, datetime]] = []  # entry, vrm, network, created
    cache: dict[tuple[str, str, str, str, str, date], bool] = {}
    for e in entries:
        for network in e.networks:
            key = (e.force, e.officer_rank, e.purpose, e.legal_basis, network, e.expires_on)
            if key not in cache:
                officer = Officer(e.officer_id, e.officer_rank, e.force)
                action = MatchHotlistRead(network, e.purpose, e.legal_basis, e.expires_on)
                cache[key] = decide(action, _context(book, officer, today)).allowed
            if cache[key]:
                allowed.append((e.entry_id, e.vrm, network, e.created_at))
    forces = {e.entry_id: e.force for e in entries}
    epochs = sorted(set(epochs))
    parts: list[pa.Table] = []
    vrms = sorted({vrm for _, vrm, _, _ in allowed})
    for epoch in epochs:
        info = ws.keys.get(epoch)
        if info.is_destroyed or not vrms:
            continue
        pseudonym = dict(zip(vrms, ws.keys.keys(epoch).pseudonymise(vrms), strict=True))
        parts.append(
            pa.table(
                {
                    "key_epoch": pa.array([epoch] * len(allowed), pa.int32()),
                    "vrm_pseudonym": pa.array([pseudonym[v] for _, v, _, _ in allowed]),
                    "network": [n for _, _, n, _ in allowed],
                    "entry_id": [e for e, _, _, _ in allowed],
                    "not_before": pa.array(
                        [c for _, _, _, c in allowed], pa.timestamp("us", tz="UTC")
                    ),
                },
                schema=WATCH_SCHEMA,
            )
        )
    cams = ws.cameras_table()
    watch = pa.concat_tables(parts) if parts else empty_watch()
    return Matcher(
        watch=watch,
        index=WatchIndex(cams, watch),
        forces=forces,
        boroughs=camera_lookup(cams, "borough_gss"),
    )


def _store_hits(
    ws: Workspace,
    hits: pa.Table,
    now: datetime,
    *,
    forces: Mapping[str, str],
    boroughs: Mapping[str, str],
    request_id: str | None = None,
) -> list[str]:
    """Save new hits (a hit already recorded for the same entry and read is skipped) and audit
    each one."""
    if hits.num_rows == 0:
        return []
    made: list[tuple[str, dict[str, object]]] = []
    with ws.state.session() as s:
        for h in hits.to_pylist():
            seen = s.scalars(
                select(HotlistHitRow.hit_id).where(
                    HotlistHitRow.entry_id == h["entry_id"], HotlistHitRow.read_id == h["read_id"]
                )
            ).first()
            if seen is not None:
                continue
            hit_id = f"HIT-{charge_day_of(now):%Y%m%d}-{uuid.uuid4().hex[:10].upper()}"
            s.add(
                HotlistHitRow(
                    hit_id=hit_id,
                    entry_id=h["entry_id"],
                    read_id=h["read_id"],
                    camera_id=h["camera_id"],
                    network=h["network"],
                    captured_at=h["captured_at"],
                    confidence=float(h["confidence"]),
                    image_ref=h["image_ref"],
                    key_epoch=int(h["key_epoch"]),
                    historical=request_id is not None,
                    request_id=request_id,
                    matched_at=now,
                    status="pending",
                )
            )
            made.append((hit_id, h))
    for hit_id, h in made:
        ws.record(
            "hotlist-hit",
            subject=hit_id,
            why=f"a read at {h['camera_id']} matched entry {h['entry_id']}"
            + (f" (historical, request {request_id})" if request_id else ""),
            counts={"hits": 1},
            attrs={
                "entry_id": str(h["entry_id"]),
                "network": str(h["network"]),
                "borough": str(boroughs.get(str(h["camera_id"])) or ""),
                "force": forces.get(str(h["entry_id"]), ""),
                "historical": "yes" if request_id else "no",
            },
        )
    return [hit_id for hit_id, _ in made]


def match_reads(
    ws: Workspace, reads: pa.Table, now: datetime, *, book: GovernanceBook | None = None
) -> list[str]:
    """Match incoming reads (already stored) against the hotlist; returns the new hit ids."""
    now = as_utc(now)
    if reads.num_rows == 0 or not _live_entries(ws, now):
        return []
    return _match(ws, reads, now, book)


def _live_entries(ws: Workspace, now: datetime) -> bool:
    """Expire what is past its day first, then: is any entry left to match against?"""
    expire_entries(ws, now)
    with ws.state.session() as s:
        found = s.scalars(
            select(HotlistEntryRow.entry_id).where(HotlistEntryRow.status == "active").limit(1)
        ).first()
        return found is not None


def _match(ws: Workspace, reads: pa.Table, now: datetime, book: GovernanceBook | None) -> list[str]:
    epochs = set(reads.column("key_epoch").to_pylist())
    matcher = build_matcher(ws, now, epochs, book=book)
    return _store_hits(
        ws, matcher.match(reads), now, forces=matcher.forces, boroughs=matcher.boroughs
    )


def match_batch(ws: Workspace, batch_id: str, days: Sequence[date], now: datetime) -> list[str]:
    """Real-time matching of one ingested batch (called by ingest once the batch is stored)."""
    now = as_utc(now)
    if not days or not _live_entries(ws, now):
        return []
    files = [f for day in sorted(set(days)) for f in ws.reads.files(day)]
    if not files:
        return []
    con = ws.engine()
    try:
        reads = con.sql(
            "SELECT read_id, camera_id, captured_at, vrm_pseudonym, key_epoch, confidence, "
            f"image_ref FROM {ws.reads.scan(files)} WHERE batch_id = ?",
            params=[batch_id],
        ).to_arrow_table()
    finally:
        con.close()
    return _match(ws, reads, now, None) if reads.num_rows else []


def search_past(
    ws: Workspace, entry_id: str, request_id: str, *, by: str, now: datetime
) -> list[str]:
    """Historical hits: an entry's VRM over past reads, only within the approved scope of a
    request of the same force that names that VRM."""
    now = as_utc(now)
    with ws.state.session() as s:
        entry = s.get(HotlistEntryRow, entry_id)
        request = s.get(AccessRequestRow, request_id)
        if entry is None:
            raise NotFoundError(f"no hotlist entry {entry_id!r}")
        if request is None:
            raise NotFoundError(f"no access request {request_id!r}")
        problems = []
        if request.status not in SEARCHABLE:
            problems.append(f"request {request_id} is {request.status}, not approved")
        if request.kind != "vehicle_history":
            problems.append("only a vehicle-history request can allow a historical search")
        named = request.scope.get("vrms", [])
        if not isinstance(named, list) or entry.vrm not in named:
            problems.append(f"request {request_id} does not name the entry's VRM")
        if request.requester_force != entry.force:
            problems.append(f"request {request_id} is not from {entry.force}")
        if problems:
            raise StateError("; ".join(problems))
        approved = request.approved_scope or {}
        vrm, force = entry.vrm, entry.force
    cameras = ws.cameras_table()
    hits = _historical_hits(entry_id, vehicle_reads_in_scope(ws, vrm, approved), cameras)
    ws.record(
        "hotlist-historical-search",
        subject=entry_id,
        why=f"by {by} under request {request_id}",
        counts={"reads": hits.num_rows},
        attrs={"request_id": request_id, "force": force},
    )
    return _store_hits(
        ws,
        hits,
        now,
        forces={entry_id: force},
        boroughs=camera_lookup(cameras, "borough_gss"),
        request_id=request_id,
    )


def _historical_hits(entry_id: str, reads: pa.Table, cameras: pa.Table) -> pa.Table:
    located = reads.join(cameras.select(["camera_id", "network"]), "camera_id")
    n = located.num_rows
    return pa.table(
        {
            "entry_id": pa.array([entry_id] * n, pa.string()),
            "read_id": located["read_id"],
            "camera_id": located["camera_id"],
            "network": located["network"],
            "captured_at": located["captured_at"],
            "confidence": located["confidence"].cast(pa.float64()),
            "image_ref": located["image_ref"],
            "key_epoch": located["key_epoch"].cast(pa.int32()),
        }
    )


# --- Hits ---------------------------------------------------------------------------------------


def _hit_json(hit: HotlistHitRow, entry: HotlistEntryRow) -> dict[str, object]:
    return {
        "hit_id": hit.hit_id,
        "entry_id": hit.entry_id,
        "vrm": entry.vrm,
        "status": hit.status,
        "read_id": hit.read_id,
        "camera_id": hit.camera_id,
        "network": hit.network,
        "captured_at": hit.captured_at.isoformat(),
        "confidence": hit.confidence,
        "image_ref": hit.image_ref,
        "historical": hit.historical,
        "request_id": hit.request_id,
        "warning_markers": entry.warning_markers,
        "force": entry.force,
        "matched_at": hit.matched_at.isoformat(),
        "reviewed_by": hit.reviewed_by,
        "note": hit.note,
    }


def list_hits(ws: Workspace, *, status: str | None = None) -> list[dict[str, object]]:
    with ws.state.session() as s:
        query = (
            select(HotlistHitRow, HotlistEntryRow)
            .join(HotlistEntryRow, HotlistHitRow.entry_id == HotlistEntryRow.entry_id)
            .order_by(HotlistHitRow.captured_at, HotlistHitRow.hit_id)
        )
        if status:
            query = query.where(HotlistHitRow.status == status)
        return [_hit_json(h, e) for h, e in s.execute(query).all()]


def hit_card(ws: Workspace, hit_id: str) -> dict[str, object]:
    """What the person confirming a hit needs: the read, the image reference, the warning
    markers, and the registered plates that differ from the hotlisted one only by confusable
    characters (any of them could have been read as it)."""
    with ws.state.session() as s:
        hit = s.get(HotlistHitRow, hit_id)
        if hit is None:
            raise NotFoundError(f"no hotlist hit {hit_id!r}")
        entry = s.get(HotlistEntryRow, hit.entry_id)
        assert entry is not None
        card = _hit_json(hit, entry)
    lookalikes = _lookalikes(ws, str(card["vrm"]))
    card["confusion_key"] = confusion_key(str(card["vrm"]))
    card["lookalikes"] = lookalikes
    check = "Compare the plate in the image with the hotlisted VRM character by character"
    if lookalikes:
        check += f"; {len(lookalikes)} registered vehicle(s) differ only by confusable characters"
    card["check"] = check
    return card


def _lookalikes(ws: Workspace, vrm: str, limit: int = 20) -> list[str]:
    register = ws.data_dir / "register" / "vehicles.parquet"
    if not register.exists():
        return []
    con = ws.engine()
    try:
        rows = con.execute(
            f"SELECT vrm FROM read_parquet(?) WHERE {confusion_key_sql('vrm')} = ? AND vrm <> ? "
            "ORDER BY vrm LIMIT ?",
            [str(register), confusion_key(vrm), vrm, limit],
        ).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


def review_hit(
    ws: Workspace, hit_id: str, outcome: str, *, by: str, note: str, now: datetime
) -> dict[str, object]:
    """Record a person's confirmation of a hit: ``confirmed`` (the image shows the hotlisted
    plate), ``misread`` (it does not) or ``no_action``."""
    now = as_utc(now)
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not by.strip() or not note.strip():
        raise InputError("a hit review needs who (--by) and a note of what was seen (--note)")
    with ws.state.session() as s:
        hit = s.get(HotlistHitRow, hit_id)
        if hit is None:
            raise NotFoundError(f"no hotlist hit {hit_id!r}")
        if hit.status != "pending":
            raise StateError(f"hit {hit_id} was already reviewed: {hit.status}")
        entry = s.get(HotlistEntryRow, hit.entry_id)
        assert entry is not None
        hit.status, hit.reviewed_by, hit.reviewed_at, hit.note = outcome, by, now, note
        shown = _hit_json(hit, entry)
        camera = s.get(CameraRow, hit.camera_id)
        borough, force = (camera.borough_gss if camera else None), entry.force
    ws.record(
        "hotlist-hit-reviewed",
        subject=hit_id,
        why=f"{outcome} by {by}: {note}",
        attrs={"outcome": outcome, "borough": str(borough or ""), "force": force},
    )
    return shown
