"""The governance book in force: the packaged instruments file plus the changes operators record.

Instruments are signed documents shipped as configuration (`ringfence/governance/<city>/`); what
happens to them later (a DPIA approved, a Mayoral direction signed, an instrument revoked) is
recorded here, in the state database (`GovernanceChangeRow`), by a named person with a reason,
and audited (``governance-changed``). `current_book` replays the changes in the order recorded
over the packaged book, so every policy decision sees them at once: a revocation stops new
releases and hotlist matching under the instrument from its day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from ringfence.domain.sharing import (
    DPIA,
    Direction,
    GovernanceBook,
    Instrument,
    load_governance_book,
    parse_direction,
    parse_dpia,
)
from ringfence.errors import InputError
from ringfence.stores.readstore import as_utc
from ringfence.stores.state import GovernanceChangeRow
from ringfence.workspace import Workspace

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "changes",
    "current_book",
    "instrument_status",
    "record_direction",
    "record_dpia",
    "revoke_instrument",
]

CHANGE_KINDS = ("dpia", "direction", "revocation")


@dataclass(frozen=True, slots=True)
class Change:
    change_id: str
    kind: str
    payload: dict[str, object]
    recorded_by: str
    recorded_at: datetime
    why: str


def _dated(payload: Mapping[str, object]) -> dict[str, Any]:
    # Stored as JSON, so dates are ISO strings; the parsers want dates as TOML gives them.
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key.endswith("_on") and isinstance(value, str):
            out[key] = date.fromisoformat(value)
        else:
            out[key] = value
    return out


def _jsonable(raw: Mapping[str, Any]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in raw.items() if v is not None}


def _apply(book: GovernanceBook, change: GovernanceChangeRow) -> GovernanceBook:
    source = f"governance change {change.change_id}"
    raw = _dated(change.payload)
    if change.kind == "dpia":
        return book.with_dpia(parse_dpia(raw, book, source))
    if change.kind == "direction":
        return book.with_direction(parse_direction(raw, book, source))
    return book.revoke(str(raw["instrument_id"]), raw["revoked_on"])


def current_book(ws: Workspace, *, base: GovernanceBook | None = None) -> GovernanceBook:
    """The packaged book (or ``base``) with every recorded change applied, oldest first."""
    book = base or load_governance_book()
    with ws.state.session() as s:
        rows = s.scalars(select(GovernanceChangeRow).order_by(GovernanceChangeRow.change_id)).all()
        for row in rows:
            book = _apply(book, row)
    return book


def changes(ws: Workspace) -> list[Change]:
    with ws.state.session() as s:
        rows = s.scalars(select(GovernanceChangeRow).order_by(GovernanceChangeRow.change_id)).all()
        return [
            Change(r.change_id, r.kind, dict(r.payload), r.recorded_by, r.recorded_at, r.why)
            for r in rows
        ]


def _record(
    ws: Workspace,
    kind: str,
    raw: Mapping[str, Any],
    *,
    by: str,
    why: str,
    now: datetime,
    ref: str,
) -> Change:
    if not by.strip() or not why.strip():
        raise InputError("a governance change needs who records it (--by) and why (--why)")
    now = as_utc(now)
    with ws.state.session() as s:
        # Numbered in order: changes recorded in the same instant still replay in that order.
        number = (s.scalar(select(func.count()).select_from(GovernanceChangeRow)) or 0) + 1
    row = GovernanceChangeRow(
        change_id=f"GOV-{number:06d}",
        kind=kind,
        payload=_jsonable(raw),
        recorded_by=by.strip(),
        recorded_at=now,
        why=why.strip(),
    )
    # Applying it to the book in force checks it (unknown network, duplicate...) before storing.
    _apply(current_book(ws), row)
    with ws.state.session() as s:
        s.add(row)
    ws.record(
        "governance-changed",
        subject=row.change_id,
        why=f"{kind} {ref}: {row.why}",
        attrs={
            "change": f"{kind}-recorded" if kind != "revocation" else "instrument-revoked",
            "ref": ref,
        },
    )
    return Change(row.change_id, kind, dict(row.payload), row.recorded_by, row.recorded_at, why)


def record_dpia(
    ws: Workspace,
    *,
    dpia_id: str,
    version: str,
    networks: Sequence[str],
    purposes: Sequence[str],
    status: str,
    approved_on: date | None,
    review_on: date | None,
    equality_impact_ref: str | None,
    by: str,
    why: str,
    now: datetime,
) -> DPIA:
    """Record a DPIA (or a new version or status of one); it counts from ``approved_on``."""
    book = current_book(ws)
    if any(d.dpia_id == dpia_id and d.version == version for d in book.dpias):
        raise InputError(f"DPIA {dpia_id} version {version} is already recorded")
    raw = {
        "dpia_id": dpia_id,
        "version": version,
        "networks": list(networks),
        "purposes": list(purposes),
        "status": status,
        "approved_on": approved_on,
        "review_on": review_on,
        "equality_impact_ref": equality_impact_ref,
    }
    raw = {k: v for k, v in raw.items() if v is not None}
    dpia = parse_dpia(raw, book, "dpia record")
    _record(ws, "dpia", raw, by=by, why=why, now=now, ref=f"{dpia_id} v{version}")
    return dpia


def record_direction(
    ws: Workspace,
    *,
    reference: str,
    issuer: str,
    networks: Sequence[str],
    signed_on: date,
    by: str,
    why: str,
    now: datetime,
) -> Direction:
    """Record a signed direction (e.g. a Mayoral direction to share a network)."""
    book = current_book(ws)
    if any(d.reference == reference for d in book.directions):
        raise InputError(f"direction {reference} is already recorded")
    raw = {
        "reference": reference,
        "issuer": issuer,
        "networks": list(networks),
        "signed_on": signed_on,
    }
    direction = parse_direction(raw, book, "direction record")
    _record(ws, "direction", raw, by=by, why=why, now=now, ref=reference)
    return direction


def revoke_instrument(
    ws: Workspace, instrument_id: str, *, on: date, by: str, why: str, now: datetime
) -> Instrument:
    """Revoke an instrument from ``on``: from that day no release or hotlist match rests on it."""
    book = current_book(ws)
    instrument = book.instrument(instrument_id)
    raw = {"instrument_id": instrument_id, "revoked_on": on}
    _record(ws, "revocation", raw, by=by, why=why, now=now, ref=instrument.reference)
    return book.revoke(instrument_id, on).instrument(instrument_id)


def instrument_status(instrument: Instrument, day: date) -> str:
    if instrument.is_revoked(day):
        return "revoked"
    if not instrument.is_effective(day):
        return "not yet in force" if day < instrument.effective_from else "lapsed"
    return "in force"


def coverage(ws: Workspace, *, force: str, purpose: str, day: date) -> list[dict[str, object]]:
    """Per network: may reads be shared with ``force`` for ``purpose`` on ``day``? Asked of the
    policy point itself (a hotlist match, the narrowest use), so the answer is the real one."""
    from ringfence.domain.sharing import Seriousness
    from ringfence.policy import MatchHotlistRead, Officer, PolicyContext, decide

    book = current_book(ws)
    context = PolicyContext(
        book, Officer("coverage", "constable", force), None, Seriousness.SERIOUS, day
    )
    rows: list[dict[str, object]] = []
    for network in sorted(book.networks):
        decision = decide(MatchHotlistRead(network, purpose, "DPA2018_Part3", day), context)
        because = (
            "; ".join(r.message for r in decision.failures)
            if decision.failures
            else "; ".join(r.message for r in decision.reasons if r.code == "instrument:covers")
        )
        rows.append(
            {
                "network": network,
                "shared": decision.allowed,
                "because": because,
                "failures": sorted(decision.failure_codes),
            }
        )
    return rows
