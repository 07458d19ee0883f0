"""Police requests for reads and the releases that answer them.

Two kinds: a ``vehicle_history`` names VRMs (the reads of those plates in a window); a
``location`` query names cameras or boroughs (every read there in a window: the release then
recovers the clear VRMs of those reads from the vault, the only place they leave it for policing).

A request goes ``submitted`` -> ``authorised`` (by an independent officer of sufficient rank for the
data's age) -> ``approved`` or ``narrowed`` (by a data-sharing officer) -> ``released``; any step
may end it ``refused``, and the requester may withdraw it until it is released. Every allow/refuse
comes from `ringfence.policy.decide`, and every decision is stored whole on the request
(``decisions``: each step with ALL its reasons) and audited. The policy is asked again at release,
on the day of release, so a revoked instrument or a lapsed DPIA stops a release that was approved
before.

A request holds the VRMs the police supplied (the request itself names them), never read data.
A release is a JSON file under ``<data-dir>/releases/<release_id>.json`` (owner-only), holding
only the reads of those VRMs in the approved window, on cameras of the approved networks, with
minimised fields: ``read_id``, ``captured_at``, ``camera_id``, the camera's ``lat``/``lon``, the
clear ``vrm`` (it is the approved scope) and ``image_ref`` only when ``contextual_images`` was
approved. Its SHA-256 is stored on the `ReleaseRow` and in the audit log, and who it disclosed is
kept as keyed digests (`ReleaseSubjectRow`) for subject access after the file is gone. A release
expires: `expire_releases` deletes the files past their expiry and records it.

Crash safety: a release file is written under a temporary name, the rows committed, then the file
renamed into place; `settle_release_files` (run before every release and expiry) renames
temporaries whose release was committed and deletes the others, so no file of clear VRMs is ever
left without its record.

Governance is the book in force (`services.governance.current_book`) unless a book is passed.
Days (window, data age) are London days; the window is inclusive of its last day.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.domain.sharing import GovernanceBook, Seriousness
from ringfence.domain.vrm import normalise
from ringfence.errors import InputError, NotFoundError, RingfenceError, StateError
from ringfence.faults import crash_point
from ringfence.policy import (
    BulkFeed,
    Decision,
    IssueRelease,
    Officer,
    PolicyContext,
    QueryReads,
    decide,
)
from ringfence.services.cameras import camera_lookup
from ringfence.services.governance import current_book
from ringfence.services.reads import reads_at_cameras, vrm_history
from ringfence.stores.readstore import as_utc, charge_day_of, london_day_bounds
from ringfence.stores.state import AccessRequestRow, ReleaseRow, ReleaseSubjectRow
from ringfence.workspace import Workspace

__all__ = [
    "CONTEXTUAL_IMAGES",
    "KINDS",
    "STATUSES",
    "AccessRefusedError",
    "Outcome",
    "Release",
    "authorise",
    "expire_releases",
    "list_requests",
    "release",
    "review",
    "settle_release_files",
    "show",
    "submit",
    "vehicle_reads_in_scope",
    "withdraw",
]

KINDS = ("vehicle_history", "location", "bulk_feed")
"""A bulk feed (every read on some networks, continuously) is asked of the policy like the others;
London's instruments allow none, so it is refused. Delivering a feed is not built: an allowed
feed request stops at review (`release` refuses it)."""
STATUSES = ("submitted", "authorised", "approved", "narrowed", "refused", "released", "withdrawn")
WITHDRAWABLE = ("submitted", "authorised", "approved", "narrowed")
REVIEW_DECISIONS = ("approve", "narrow", "refuse")
CONTEXTUAL_IMAGES = "contextual_images"
RELEASE_FORMAT = "ringfence-release/1"
DEFAULT_EXPIRY_DAYS = 28
AWAITING_AUTHORISATION = frozenset({"authoriser:missing"})
"""Failures expected of a request not yet authorised: anything else refuses it at submission."""


class AccessRefusedError(RingfenceError):
    """The policy refused a step; ``decision`` has every reason (already stored and audited)."""

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(message)
        self.decision = decision


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a request stands after a step, with the decision taken (None: no policy asked)."""

    request_id: str
    status: str
    decision: Decision | None

    @property
    def failure_codes(self) -> frozenset[str]:
        return frozenset() if self.decision is None else self.decision.failure_codes


@dataclass(frozen=True, slots=True)
class Release:
    """A release issued: the file, its digest and what it holds (counts, never the reads)."""

    release_id: str
    request_id: str
    path: Path
    sha256: str
    issued_at: datetime
    expires_at: datetime
    networks: list[str]
    data_classes: list[str]
    window_start: date
    window_end: date
    read_count: int
    vrm_count: int
    epochs_destroyed: list[int] = field(default_factory=list)
    """Key epochs in the window already destroyed: their reads cannot be found by VRM."""


def _release_of(row: ReleaseRow, *, epochs_destroyed: list[int]) -> Release:
    """The summary of a stored release (the row is the record; this is what callers see)."""
    return Release(
        release_id=row.release_id,
        request_id=row.request_id,
        path=Path(row.path),
        sha256=row.sha256,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        networks=list(row.networks),
        data_classes=list(row.data_classes),
        window_start=row.window_start,
        window_end=row.window_end,
        read_count=row.read_count,
        vrm_count=row.vrm_count,
        epochs_destroyed=epochs_destroyed,
    )


# --- Helpers ------------------------------------------------------------------------------------


def _text(name: str, value: str) -> str:
    if not value.strip():
        raise InputError(f"{name} must not be empty")
    return value.strip()


def _decision_json(step: str, at: datetime, by: str, decision: Decision) -> dict[str, object]:
    return {
        "step": step,
        "at": at.isoformat(),
        "by": by,
        "allowed": decision.allowed,
        "reasons": [
            {"code": r.code, "message": r.message, "ref": r.ref, "passed": r.passed}
            for r in decision.reasons
        ],
    }


def _codes(decision: Decision) -> str:
    return ", ".join(sorted(decision.failure_codes)) or "none"


def _attrs(row: AccessRequestRow, **extra: str) -> dict[str, str]:
    """What the transparency report groups requests by (never the VRMs asked about)."""
    boroughs = row.scope.get("boroughs", [])
    return {
        "kind": row.kind,
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "force": row.requester_force,
        "seriousness": row.seriousness,
        "networks": ";".join(row.networks),
        "borough": ";".join(str(b) for b in boroughs) if isinstance(boroughs, list) else "",
        **extra,
    }


def _decided(step: str, outcome: str, decision: Decision | None) -> dict[str, str]:
    reasons = "" if decision is None else ";".join(sorted(decision.failure_codes))
    return {"step": step, "outcome": outcome, "reasons": reasons}


def _load(s: Session, request_id: str) -> AccessRequestRow:
    row = s.get(AccessRequestRow, request_id)
    if row is None:
        raise NotFoundError(f"no access request {request_id!r}")
    return row


def _expect(row: AccessRequestRow, *statuses: str) -> None:
    if row.status not in statuses:
        raise StateError(
            f"request {row.request_id} is {row.status}; this step needs it {' or '.join(statuses)}"
        )


def _requester(row: AccessRequestRow) -> Officer:
    return Officer(row.requester_id, row.requester_rank, row.requester_force)


def _authoriser(row: AccessRequestRow) -> Officer | None:
    if row.authoriser_id is None or row.authoriser_rank is None:
        return None
    return Officer(row.authoriser_id, row.authoriser_rank)


def _context(
    book: GovernanceBook, row: AccessRequestRow, authoriser: Officer | None, today: date
) -> PolicyContext:
    return PolicyContext(
        book=book,
        requester=_requester(row),
        authoriser=authoriser,
        seriousness=Seriousness(row.seriousness),
        today=today,
    )


@dataclass(frozen=True, slots=True)
class _Scope:
    networks: frozenset[str]
    data_classes: frozenset[str]
    window_start: date
    window_end: date

    def to_json(self) -> dict[str, object]:
        return {
            "networks": sorted(self.networks),
            "data_classes": sorted(self.data_classes),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
        }

    @classmethod
    def asked(cls, row: AccessRequestRow) -> _Scope:
        return cls(
            frozenset(row.networks), frozenset(row.data_classes), row.window_start, row.window_end
        )

    @classmethod
    def from_json(cls, d: dict[str, object]) -> _Scope:
        return cls(
            frozenset(str(n) for n in _list(d["networks"])),
            frozenset(str(c) for c in _list(d["data_classes"])),
            date.fromisoformat(str(d["window_start"])),
            date.fromisoformat(str(d["window_end"])),
        )

    @classmethod
    def approved(cls, row: AccessRequestRow) -> _Scope:
        if row.approved_scope is None:
            raise StateError(f"request {row.request_id} has no approved scope")
        return cls.from_json(row.approved_scope)

    def bounds(self) -> tuple[datetime, datetime]:
        """The window as UTC instants: London midnight of its first day to the midnight after
        its last (the window includes its last day)."""
        return london_day_bounds(self.window_start)[0], london_day_bounds(self.window_end)[1]

    def within(self, other: _Scope) -> bool:
        return (
            self.networks <= other.networks
            and self.data_classes <= other.data_classes
            and other.window_start <= self.window_start
            and self.window_end <= other.window_end
        )


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise StateError(f"expected a list in a stored scope, got {value!r}")
    return value


def _query(row: AccessRequestRow, scope: _Scope) -> QueryReads:
    return QueryReads(
        networks=scope.networks,
        data_classes=scope.data_classes,
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        case_ref=row.case_ref,
        necessity=row.necessity,
        window_start=scope.window_start,
        window_end=scope.window_end,
        requested_on=charge_day_of(row.submitted_at),
        kind=row.kind,
    )


def _issue(row: AccessRequestRow, scope: _Scope, approved_by: str | None) -> IssueRelease:
    return IssueRelease(
        networks=scope.networks,
        data_classes=scope.data_classes,
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        case_ref=row.case_ref,
        necessity=row.necessity,
        window_start=scope.window_start,
        window_end=scope.window_end,
        requested_on=charge_day_of(row.submitted_at),
        approved_by=approved_by,
    )


def _outcome(row: AccessRequestRow, decision: Decision | None) -> Outcome:
    return Outcome(request_id=row.request_id, status=row.status, decision=decision)


def _vrms(row: AccessRequestRow) -> list[str]:
    return [str(v) for v in _list(row.scope.get("vrms", []))]


def _places(row: AccessRequestRow) -> tuple[list[str], list[str]]:
    cameras = [str(c) for c in _list(row.scope.get("cameras", []))]
    boroughs = [str(b) for b in _list(row.scope.get("boroughs", []))]
    return cameras, boroughs


def _clear_vrms(vrms: Sequence[str]) -> list[str]:
    clear: list[str] = []
    for vrm in vrms:
        n = normalise(vrm)
        if not n:
            raise InputError(f"{vrm!r} has no characters of a VRM")
        if n not in clear:
            clear.append(n)
    return clear


def _location_scope(
    ws: Workspace, cameras: Sequence[str], boroughs: Sequence[str]
) -> dict[str, object]:
    known = ws.cameras_table()
    ids = set(known.column("camera_id").to_pylist())
    areas = {str(b) for b in known.column("borough_gss").to_pylist() if b}
    if unknown := sorted(set(cameras) - ids):
        raise InputError(f"unknown cameras: {', '.join(unknown[:10])}")
    if unknown := sorted(set(boroughs) - areas):
        raise InputError(f"no cameras in borough(s): {', '.join(unknown[:10])}")
    if not cameras and not boroughs:
        raise InputError("a location query needs cameras or boroughs")
    return {"cameras": sorted(set(cameras)), "boroughs": sorted(set(boroughs))}


# --- Steps --------------------------------------------------------------------------------------


def submit(
    ws: Workspace,
    *,
    requester: Officer,
    purpose: str,
    legal_basis: str,
    case_ref: str,
    seriousness: Seriousness | str,
    necessity: str,
    networks: Iterable[str],
    data_classes: Iterable[str],
    window_start: date,
    window_end: date,
    now: datetime,
    vrms: Sequence[str] = (),
    cameras: Sequence[str] = (),
    boroughs: Sequence[str] = (),
    kind: str = "vehicle_history",
    book: GovernanceBook | None = None,
) -> Outcome:
    """Record a request and ask the policy; refused at once if it fails for anything but the
    authorisation still to come (``authoriser:missing``).

    A vehicle history names ``vrms``; a location query names ``cameras`` and/or ``boroughs``.
    """
    now = as_utc(now)
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    try:
        level = Seriousness(seriousness)
    except ValueError as exc:
        known = ", ".join(s.value for s in Seriousness)
        raise InputError(f"seriousness must be one of {known}, not {seriousness!r}") from exc
    scope: dict[str, object]
    if kind == "vehicle_history":
        if cameras or boroughs:
            raise InputError("a vehicle history names VRMs, not cameras or boroughs")
        clear = _clear_vrms(vrms)
        if not clear:
            raise InputError("a vehicle history request needs at least one VRM")
        scope = {"vrms": clear}
    elif kind == "location":
        if vrms:
            raise InputError("a location query names cameras or boroughs, not VRMs")
        scope = _location_scope(ws, cameras, boroughs)
    else:
        if vrms or cameras or boroughs:
            raise InputError("a bulk feed names networks only")
        scope = {}
    _text("requester officer id", requester.officer_id)
    book = book or current_book(ws)
    request_id = f"REQ-{charge_day_of(now):%Y%m%d}-{uuid.uuid4().hex[:10].upper()}"
    row = AccessRequestRow(
        request_id=request_id,
        kind=kind,
        status="submitted",
        requester_id=requester.officer_id,
        requester_force=requester.force,
        requester_rank=requester.rank,
        purpose=purpose,
        legal_basis=legal_basis,
        case_ref=case_ref,
        seriousness=level.value,
        necessity=necessity,
        scope=scope,
        networks=sorted(set(networks)),
        data_classes=sorted(set(data_classes)),
        window_start=window_start,
        window_end=window_end,
        approved_scope=None,
        decisions=[],
        submitted_at=now,
        updated_at=now,
    )
    context = _context(book, row, None, charge_day_of(now))
    if kind == "bulk_feed":
        decision = decide(BulkFeed(networks=frozenset(row.networks), purpose=purpose), context)
    else:
        decision = decide(_query(row, _Scope.asked(row)), context)
    refused = bool(decision.failure_codes - AWAITING_AUTHORISATION)
    row.decisions = [_decision_json("submitted", now, requester.officer_id, decision)]
    if refused:
        row.status = "refused"
    with ws.state.session() as s:
        s.add(row)
    places = _places(row)
    ws.record(
        "request-submitted",
        subject=request_id,
        why=f"{kind} request by {requester.officer_id} ({requester.force}) for case {case_ref}",
        counts={
            "vehicles": len(_vrms(row)),
            "cameras": len(places[0]),
            "boroughs": len(places[1]),
            "networks": len(row.networks),
        },
        attrs=_attrs(row),
    )
    if refused:
        ws.record(
            "request-decided",
            subject=request_id,
            why=f"refused at submission by policy: {_codes(decision)}",
            attrs=_attrs(row, **_decided("submit", "refused", decision)),
        )
    return _outcome(row, decision)


def authorise(
    ws: Workspace,
    request_id: str,
    authoriser: Officer,
    now: datetime,
    *,
    book: GovernanceBook | None = None,
) -> Outcome:
    """An officer authorises a submitted request: the policy checks independence and rank against
    the data's age (on ``now``'s London day); a failure refuses the request."""
    now = as_utc(now)
    book = book or current_book(ws)
    with ws.state.session() as s:
        row = _load(s, request_id)
        _expect(row, "submitted")
        decision = decide(
            _query(row, _Scope.asked(row)), _context(book, row, authoriser, charge_day_of(now))
        )
        row.authoriser_id = authoriser.officer_id
        row.authoriser_rank = authoriser.rank
        row.authorised_at = now
        row.status = "authorised" if decision.allowed else "refused"
        row.decisions = [
            *row.decisions,
            _decision_json("authorise", now, authoriser.officer_id, decision),
        ]
        row.updated_at = now
        outcome = _outcome(row, decision)
        attrs = _attrs(row, **_decided("authorise", row.status, decision))
    verdict = "authorised" if decision.allowed else f"refused at authorisation: {_codes(decision)}"
    ws.record(
        "request-decided",
        subject=request_id,
        why=f"{verdict} (by {authoriser.officer_id})",
        attrs=attrs,
    )
    return outcome


def review(
    ws: Workspace,
    request_id: str,
    decision: str,
    *,
    by: str,
    reason: str,
    now: datetime,
    networks: Iterable[str] | None = None,
    window_start: date | None = None,
    window_end: date | None = None,
    data_classes: Iterable[str] | None = None,
    book: GovernanceBook | None = None,
) -> Outcome:
    """A data-sharing officer's review of an authorised request: approve it as asked, narrow it
    (networks, window and data classes may only shrink) or refuse it, with a reason.

    Approving or narrowing asks the policy about the release of that scope (so the reviewer must
    be independent of the requester and authoriser); a refusal by the policy refuses the request.
    """
    now = as_utc(now)
    if decision not in REVIEW_DECISIONS:
        raise InputError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
    _text("by", by)
    _text("reason", reason)
    narrowing = any(v is not None for v in (networks, window_start, window_end, data_classes))
    if narrowing and decision != "narrow":
        raise InputError("networks, window and data classes are given only to narrow")
    if decision == "narrow" and not narrowing:
        raise InputError("narrowing needs networks, a window or data classes")
    book = book or current_book(ws)
    policy: Decision | None = None
    with ws.state.session() as s:
        row = _load(s, request_id)
        _expect(row, "authorised")
        asked = _Scope.asked(row)
        if decision == "refuse":
            row.status = "refused"
            entry: dict[str, object] = {
                "step": "review",
                "at": now.isoformat(),
                "by": by,
                "allowed": False,
                "reasons": [
                    {"code": "review:refused", "message": reason, "ref": by, "passed": False}
                ],
            }
        else:
            scope = asked
            if decision == "narrow":
                scope = _Scope(
                    frozenset(networks) if networks is not None else asked.networks,
                    frozenset(data_classes) if data_classes is not None else asked.data_classes,
                    window_start or asked.window_start,
                    window_end or asked.window_end,
                )
                if scope.window_start > scope.window_end:
                    raise InputError("the narrowed window starts after it ends")
                if not scope.within(asked):
                    raise InputError(
                        "narrowing may only shrink the scope: networks and data classes must be "
                        f"among those asked, the window within {asked.window_start} to "
                        f"{asked.window_end}"
                    )
                if scope == asked:
                    raise InputError("the narrowed scope is the scope asked: approve it instead")
            policy = decide(
                _issue(row, scope, by), _context(book, row, _authoriser(row), charge_day_of(now))
            )
            if policy.allowed:
                row.status = "approved" if decision == "approve" else "narrowed"
                row.approved_scope = scope.to_json()
            else:
                row.status = "refused"
            entry = _decision_json("review", now, by, policy)
            entry["review"] = decision
            entry["reason"] = reason
        row.reviewer_id = by
        row.reviewed_at = now
        row.decisions = [*row.decisions, entry]
        row.updated_at = now
        outcome = _outcome(row, policy)
        attrs = _attrs(row, **_decided("review", row.status, policy))
        if policy is None:
            attrs["reasons"] = "review:refused"
    why = f"{row.status} on review by {by}: {reason}"
    if policy is not None and not policy.allowed:
        why = f"refused on review ({decision}) by policy: {_codes(policy)}"
    ws.record("request-decided", subject=request_id, why=why, attrs=attrs)
    return outcome


def release(
    ws: Workspace,
    request_id: str,
    *,
    by: str,
    now: datetime,
    book: GovernanceBook | None = None,
    expiry_days: int = DEFAULT_EXPIRY_DAYS,
) -> Release:
    """Issue the release of an approved (or narrowed) request, after asking the policy again.

    Raises `AccessRefusedError` (the request is then refused, the decision stored and audited)
    when the policy refuses on ``now``'s London day, e.g. because an instrument was revoked.
    """
    now = as_utc(now)
    _text("by", by)
    if expiry_days < 1:
        raise InputError("a release must expire at least one day after it is issued")
    book = book or current_book(ws)
    today = charge_day_of(now)
    with ws.writer():
        settle_release_files(ws)
        with ws.state.session() as s:
            row = _load(s, request_id)
            _expect(row, "approved", "narrowed")
            scope = _Scope.approved(row)
            decision = decide(
                _issue(row, scope, row.reviewer_id), _context(book, row, _authoriser(row), today)
            )
            if not decision.allowed:
                row.status = "refused"
                row.decisions = [*row.decisions, _decision_json("release", now, by, decision)]
                row.updated_at = now
            kind, vrms, places = row.kind, _vrms(row), _places(row)
            force, case_ref = row.requester_force, row.case_ref
            attrs = _attrs(row)
            header = {
                "request_id": row.request_id,
                "kind": row.kind,
                "case_ref": row.case_ref,
                "purpose": row.purpose,
                "legal_basis": row.legal_basis,
                "recipient": {"force": force, "officer_id": row.requester_id},
                "authorised_by": row.authoriser_id,
                "approved_by": row.reviewer_id,
            }
        if not decision.allowed:
            ws.record(
                "request-decided",
                subject=request_id,
                why=f"release refused by policy on {today}: {_codes(decision)}",
                attrs={**attrs, **_decided("release", "refused", decision)},
            )
            raise AccessRefusedError(
                f"release of {request_id} refused: {_codes(decision)}", decision
            )
        if kind == "bulk_feed":
            raise StateError("delivering a bulk feed is not built: no release is made")
        if kind == "vehicle_history":
            reads, destroyed = _released_reads(ws, vrms, scope)
            place: dict[str, object] = {"vrms": vrms}
        else:
            reads, destroyed = _location_reads(ws, request_id, *places, scope)
            place = {"cameras": places[0], "boroughs": places[1]}
        release_id = f"REL-{today:%Y%m%d}-{uuid.uuid4().hex[:10].upper()}"
        expires_at = now + timedelta(days=expiry_days)
        payload = {
            "format": RELEASE_FORMAT,
            "release_id": release_id,
            **header,
            "issued_by": by,
            "issued_at": now.isoformat(),
            "expires_at": expires_at.isoformat(),
            **scope.to_json(),
            **place,
            "epochs_destroyed": destroyed,
            "reads": reads,
        }
        directory = _releases_dir(ws)
        tmp, digest = _write_pending(directory, release_id, payload)
        crash_point("release-pending-written")
        per_vrm: dict[str, int] = {}
        for r in reads:
            per_vrm[str(r["vrm"])] = per_vrm.get(str(r["vrm"]), 0) + 1
        index = ws.keys.subject_index(per_vrm)
        final = directory / f"{release_id}.json"
        with ws.state.session() as s:
            row = _load(s, request_id)
            released = ReleaseRow(
                release_id=release_id,
                request_id=request_id,
                issued_by=by,
                issued_at=now,
                expires_at=expires_at,
                networks=sorted(scope.networks),
                data_classes=sorted(scope.data_classes),
                window_start=scope.window_start,
                window_end=scope.window_end,
                read_count=len(reads),
                vrm_count=len(per_vrm),
                sha256=digest,
                path=str(final),
            )
            s.add(released)
            s.flush()
            s.add_all(
                ReleaseSubjectRow(release_id=release_id, subject_index=i, reads=n)
                for i, n in zip(index, per_vrm.values(), strict=True)
            )
            row.status = "released"
            row.decisions = [*row.decisions, _decision_json("release", now, by, decision)]
            row.updated_at = now
        crash_point("release-committed")
        _publish(tmp, final)
    ws.record(
        "release-issued",
        subject=request_id,
        why=f"release {release_id} to {force} for case {case_ref} by {by}, expires "
        f"{expires_at.date()}",
        counts={
            "reads": len(reads),
            "vehicles": len(per_vrm),
            "networks": len(scope.networks),
        },
        attrs={
            **attrs,
            "release_id": release_id,
            "data_classes": ";".join(sorted(scope.data_classes)),
        },
        digest=digest,
    )
    return _release_of(released, epochs_destroyed=destroyed)


def _releases_dir(ws: Workspace) -> Path:
    return ws.data_dir / "releases"


def _reads_json(rows: Iterable[tuple[Any, ...]], images: bool) -> list[dict[str, object]]:
    reads: list[dict[str, object]] = []
    for r in rows:
        read: dict[str, object] = {
            "vrm": r[0],
            "read_id": r[1],
            "captured_at": r[2].astimezone(UTC).isoformat(),
            "camera_id": r[3],
            "lat": r[4],
            "lon": r[5],
        }
        if images:
            read["image_ref"] = r[6]
        reads.append(read)
    return reads


def _in_scope(ws: Workspace, history: pa.Table, scope: _Scope) -> list[dict[str, object]]:
    """The minimised reads of ``history`` (vrm, read_id, captured_at, camera_id, image_ref) on
    the scope's networks and in its window: the one filter every release goes through."""
    start_at, end_at = scope.bounds()
    images = CONTEXTUAL_IMAGES in scope.data_classes
    con = ws.engine()
    try:
        con.register("history", history)
        con.register("cams", ws.cameras_table())
        image = ", h.image_ref" if images else ""
        rows = con.execute(
            "SELECT h.vrm, h.read_id, h.captured_at, h.camera_id, c.lat, c.lon"
            f"{image} FROM history h JOIN cams c USING (camera_id) "
            "WHERE c.network IN (SELECT unnest(?)) AND h.captured_at >= ? AND h.captured_at < ? "
            "ORDER BY h.captured_at, h.read_id",
            [sorted(scope.networks), start_at, end_at],
        ).fetchall()
    finally:
        con.close()
    return _reads_json(rows, images)


def _released_reads(
    ws: Workspace, vrms: Sequence[str], scope: _Scope
) -> tuple[list[dict[str, object]], list[int]]:
    """The minimised reads of ``vrms`` in the scope's window, on its networks only."""
    start_at, end_at = scope.bounds()
    parts: list[pa.Table] = []
    destroyed: set[int] = set()
    for vrm in vrms:
        found = vrm_history(ws, vrm, start_at, end_at)
        destroyed.update(found.epochs_destroyed)
        table = found.reads.select(["read_id", "captured_at", "camera_id", "image_ref"])
        parts.append(table.append_column("vrm", pa.array([vrm] * table.num_rows, pa.string())))
    history = pa.concat_tables(parts) if parts else None
    if history is None or history.num_rows == 0:
        return [], sorted(destroyed)
    return _in_scope(ws, history, scope), sorted(destroyed)


def vehicle_reads_in_scope(ws: Workspace, vrm: str, approved: dict[str, object]) -> pa.Table:
    """The stored reads of one VRM inside an approved scope (networks and window), with their
    camera, time, confidence, image reference and key epoch: what a historical hotlist search
    under that request may look at."""
    scope = _Scope.from_json(approved)
    found = vrm_history(ws, vrm, *scope.bounds()).reads
    networks = camera_lookup(ws.cameras_table(), "network")
    keep = [networks.get(c) in scope.networks for c in found.column("camera_id").to_pylist()]
    return found.filter(pa.array(keep, pa.bool_())).select(
        ["read_id", "camera_id", "captured_at", "confidence", "image_ref", "key_epoch"]
    )


def _location_reads(
    ws: Workspace,
    request_id: str,
    cameras: Sequence[str],
    boroughs: Sequence[str],
    scope: _Scope,
) -> tuple[list[dict[str, object]], list[int]]:
    """Every read at the cameras (and in the boroughs) asked, on the approved networks and in
    the window, with the clear VRMs recovered from the vault (audited per epoch)."""
    start_at, end_at = scope.bounds()
    known = ws.cameras_table()
    wanted = set(cameras) | {
        c
        for c, b, n in zip(
            known.column("camera_id").to_pylist(),
            known.column("borough_gss").to_pylist(),
            known.column("network").to_pylist(),
            strict=True,
        )
        if b in boroughs and n in scope.networks
    }
    found = reads_at_cameras(ws, sorted(wanted), start_at, end_at)
    destroyed = sorted(
        e.epoch
        for e in ws.keys.epochs()
        if e.is_destroyed and e.starts_on <= scope.window_end and e.ends_on > scope.window_start
    )
    clear: dict[tuple[int, bytes], str] = {}
    epochs = found.column("key_epoch").to_pylist()
    pseudonyms = found.column("vrm_pseudonym").to_pylist()
    for epoch in sorted(set(epochs) - set(destroyed)):
        asked = [p for e, p in zip(epochs, pseudonyms, strict=True) if e == epoch]
        got = ws.vault.recover(ws.keys.keys(epoch), asked)
        ws.record(
            "vault-recovered",
            subject=request_id,
            why=f"release of a location query (epoch {epoch})",
            counts={"asked": len(set(asked)), "recovered": len(got)},
        )
        clear.update({(epoch, p): v for p, v in got.items()})
    vrm_column = [clear.get((e, bytes(p))) for e, p in zip(epochs, pseudonyms, strict=True)]
    history = pa.table(
        {
            "vrm": pa.array(vrm_column, pa.string()),
            "read_id": found.column("read_id"),
            "captured_at": found.column("captured_at"),
            "camera_id": found.column("camera_id"),
            "image_ref": found.column("image_ref"),
        }
    ).filter(pa.array([v is not None for v in vrm_column]))
    if history.num_rows == 0:
        return [], destroyed
    return _in_scope(ws, history, scope), destroyed


def _write_pending(directory: Path, release_id: str, payload: dict[str, Any]) -> tuple[Path, str]:
    """Write the release owner-only under a temporary name; return that path and the SHA-256."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = (json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    tmp = directory / f".{release_id}.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp, hashlib.sha256(data).hexdigest()


def _publish(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    os.chmod(final, 0o600)


def settle_release_files(ws: Workspace) -> tuple[int, int]:
    """Finish what a crash interrupted: publish temporary release files whose release was
    committed, delete the others (their release never happened). Returns (published, deleted)."""
    directory = _releases_dir(ws)
    pending = sorted(directory.glob(".REL-*.json.tmp")) if directory.exists() else []
    published = deleted = 0
    for tmp in pending:
        release_id = tmp.name[1:].removesuffix(".json.tmp")
        with ws.state.session() as s:
            row = s.get(ReleaseRow, release_id)
            live = row is not None and row.expired_at is None
        if live:
            _publish(tmp, directory / f"{release_id}.json")
            published += 1
        else:
            tmp.unlink()
            deleted += 1
    return published, deleted


def expire_releases(ws: Workspace, now: datetime) -> list[str]:
    """Enforce release expiry: delete the files of releases past ``expires_at`` (the record and
    who was disclosed stay, for oversight and subject access). Returns the release ids."""
    now = as_utc(now)
    expired: list[str] = []
    with ws.writer():
        settle_release_files(ws)
        with ws.state.session() as s:
            rows = s.scalars(
                select(ReleaseRow)
                .where(ReleaseRow.expired_at.is_(None), ReleaseRow.expires_at <= now)
                .order_by(ReleaseRow.expires_at)
            ).all()
            for row in rows:
                Path(row.path).unlink(missing_ok=True)
                row.expired_at = now
                expired.append(row.release_id)
    if expired:
        ws.record(
            "release-expired",
            subject=f"releases:{len(expired)}",
            why="release expiry enforced: files deleted from the data directory",
            counts={"files": len(expired)},
            attrs={"release_ids": ";".join(expired)},
        )
    return expired


def withdraw(ws: Workspace, request_id: str, *, by: str, reason: str, now: datetime) -> Outcome:
    """The requesting officer withdraws a request not yet released."""
    now = as_utc(now)
    _text("by", by)
    _text("reason", reason)
    with ws.state.session() as s:
        row = _load(s, request_id)
        _expect(row, *WITHDRAWABLE)
        if by != row.requester_id:
            raise InputError(
                f"only the requesting officer ({row.requester_id}) may withdraw {request_id}"
            )
        row.status = "withdrawn"
        row.decisions = [
            *row.decisions,
            {
                "step": "withdraw",
                "at": now.isoformat(),
                "by": by,
                "allowed": True,
                "reasons": [],
                "reason": reason,
            },
        ]
        row.updated_at = now
        outcome = _outcome(row, None)
        attrs = _attrs(row, outcome="withdrawn")
    ws.record(
        "request-withdrawn", subject=request_id, why=f"withdrawn by {by}: {reason}", attrs=attrs
    )
    return outcome


# --- Reading ------------------------------------------------------------------------------------


def _summary(row: AccessRequestRow) -> dict[str, object]:
    return {
        "request_id": row.request_id,
        "kind": row.kind,
        "status": row.status,
        "requester": row.requester_id,
        "force": row.requester_force,
        "case_ref": row.case_ref,
        "purpose": row.purpose,
        "networks": row.networks,
        "window_start": row.window_start.isoformat(),
        "window_end": row.window_end.isoformat(),
        "submitted_at": row.submitted_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def list_requests(
    ws: Workspace, *, status: str | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Requests, newest first (no VRMs: `show` one for its scope)."""
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}")
    with ws.state.session() as s:
        query = select(AccessRequestRow).order_by(
            AccessRequestRow.submitted_at.desc(), AccessRequestRow.request_id
        )
        if status:
            query = query.where(AccessRequestRow.status == status)
        return [_summary(r) for r in s.scalars(query.limit(limit))]


def show(ws: Workspace, request_id: str) -> dict[str, object]:
    """A request whole: scope, approved scope, every decision with its reasons, its releases."""
    with ws.state.session() as s:
        row = _load(s, request_id)
        releases = s.scalars(
            select(ReleaseRow)
            .where(ReleaseRow.request_id == request_id)
            .order_by(ReleaseRow.issued_at)
        ).all()
        return {
            **_summary(row),
            "requester_rank": row.requester_rank,
            "authoriser": row.authoriser_id,
            "authoriser_rank": row.authoriser_rank,
            "reviewer": row.reviewer_id,
            "legal_basis": row.legal_basis,
            "seriousness": row.seriousness,
            "necessity": row.necessity,
            "scope": row.scope,
            "data_classes": row.data_classes,
            "approved_scope": row.approved_scope,
            "decisions": row.decisions,
            "releases": [
                {
                    "release_id": r.release_id,
                    "issued_by": r.issued_by,
                    "issued_at": r.issued_at.isoformat(),
                    "expires_at": r.expires_at.isoformat(),
                    "networks": r.networks,
                    "data_classes": r.data_classes,
                    "window_start": r.window_start.isoformat(),
                    "window_end": r.window_end.isoformat(),
                    "read_count": r.read_count,
                    "vrm_count": r.vrm_count,
                    "sha256": r.sha256,
                    "path": r.path,
                    "expired_at": None if r.expired_at is None else r.expired_at.isoformat(),
                }
                for r in releases
            ],
        }
