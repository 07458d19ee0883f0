"""Refunds: saved by the charge run and by PCN overpayments, listed, and marked issued.

A refund is ``due`` when decided and ``issued`` once an operator records paying it back (who and
when, in the audit log too). A charge re-run replaces its day's ``due`` refunds; ``issued`` ones
are money already paid out, so a re-run never changes or deletes them: one it no longer finds
due (or finds due for less) is kept and reported, for a person to settle, and a refund it finds
due for more than was issued is saved as a new ``due`` row for the difference only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.errors import InputError, StateError
from ringfence.stores.state import REFUND_STATUSES, PenaltyNoticeRow, RefundRow
from ringfence.workspace import Workspace

_Key = tuple[str, int, bytes]
"""A refund's vehicle for a day: scheme, key epoch, pseudonym."""


@dataclass(frozen=True, slots=True)
class SavedRefunds:
    due: int
    due_pence: int
    issued_not_due: list[int] = field(default_factory=list)
    """Ids of issued refunds this run finds no longer due (or due for less than was paid)."""


def save_charge_refunds(
    s: Session,
    refunds_due: pa.Table,
    *,
    day: date,
    key_epoch: int,
    run_id: str,
    now: datetime,
) -> SavedRefunds:
    """Make ``day``'s due charge refunds those of ``refunds_due`` (the engine's table, keyed by
    the epoch's pseudonym), inside the caller's transaction: rows still due are updated in
    place, new ones added, those no longer due deleted."""
    issued = _rows_by_key(s, day, "issued")
    stale = _rows_by_key(s, day, "due")
    found: dict[_Key, int] = {}
    due = due_pence = 0
    for r in refunds_due.to_pylist():
        key = (str(r["scheme_id"]), key_epoch, bytes(r["vehicle_key"]))
        found[key] = int(r["refund_pence"])
        already = sum(row.refund_pence for row in issued.get(key, []))
        owed = int(r["refund_pence"]) - already
        if owed <= 0:
            continue
        # A refund still due keeps its row (and id, which an operator may have noted).
        rows = stale.pop(key, [])
        row = rows.pop() if rows else RefundRow(source="charge", status="due")
        for extra in rows:
            s.delete(extra)
        row.charge_day, row.scheme_id, row.key_epoch, row.vrm_pseudonym = day, *key
        row.vrm, row.paid_pence, row.due_pence = r["vrm"], r["paid_pence"], r["due_pence"]
        row.refund_pence, row.run_id, row.decided_at = owed, run_id, now
        row.reason = str(r["reason"]) + (f"; {already}p already refunded" if already else "")
        s.add(row)
        due += 1
        due_pence += owed
    for rows in stale.values():
        for row in rows:
            s.delete(row)
    not_due = [
        row.id
        for key, rows in issued.items()
        if sum(row.refund_pence for row in rows) > found.get(key, 0)
        for row in rows
    ]
    return SavedRefunds(due=due, due_pence=due_pence, issued_not_due=sorted(not_due))


def _rows_by_key(s: Session, day: date, status: str) -> dict[_Key, list[RefundRow]]:
    rows = s.scalars(
        select(RefundRow)
        .where(
            RefundRow.source == "charge",
            RefundRow.charge_day == day,
            RefundRow.status == status,
        )
        .order_by(RefundRow.id)
    ).all()
    by_key: dict[_Key, list[RefundRow]] = {}
    for row in rows:
        by_key.setdefault((row.scheme_id, row.key_epoch, row.vrm_pseudonym), []).append(row)
    return by_key


def save_pcn_refund(
    s: Session, notice: PenaltyNoticeRow, *, paid_pence: int, due_pence: int, at: datetime
) -> RefundRow:
    """A PCN paid for more than was due: the surplus is owed back to the payer of the notice."""
    refund = RefundRow(
        source="pcn",
        charge_day=notice.charge_day,
        scheme_id=notice.scheme_id,
        key_epoch=notice.key_epoch,
        vrm_pseudonym=notice.vrm_pseudonym,
        vrm=notice.vrm,
        paid_pence=paid_pence,
        due_pence=due_pence,
        refund_pence=paid_pence - due_pence,
        reason=f"PCN {notice.pcn_id} overpaid by {paid_pence - due_pence} pence",
        status="due",
        decided_at=at,
        payment_ref=notice.pcn_id,
    )
    s.add(refund)
    s.flush()  # for its id
    return refund


def list_refunds(
    ws: Workspace, *, day: date | None = None, status: str | None = None, limit: int = 500
) -> list[dict[str, object]]:
    if status is not None and status not in REFUND_STATUSES:
        raise InputError(f"unknown refund status {status!r}: {', '.join(REFUND_STATUSES)}")
    query = select(RefundRow).order_by(RefundRow.charge_day, RefundRow.id).limit(limit)
    if day is not None:
        query = query.where(RefundRow.charge_day == day)
    if status is not None:
        query = query.where(RefundRow.status == status)
    with ws.state.session() as s:
        return [_public(r) for r in s.scalars(query)]


def _public(r: RefundRow) -> dict[str, object]:
    return {
        "id": r.id,
        "source": r.source,
        "charge_day": r.charge_day.isoformat(),
        "scheme_id": r.scheme_id,
        "key_epoch": r.key_epoch,
        "vrm_pseudonym": r.vrm_pseudonym.hex(),
        "vrm": r.vrm,
        "paid_pence": r.paid_pence,
        "due_pence": r.due_pence,
        "refund_pence": r.refund_pence,
        "reason": r.reason,
        "status": r.status,
        "run_id": r.run_id,
        "decided_at": r.decided_at.isoformat(),
        "issued_at": r.issued_at.isoformat() if r.issued_at else None,
        "issued_by": r.issued_by,
        "payment_ref": r.payment_ref,
    }


@dataclass(frozen=True, slots=True)
class IssuedRefunds:
    charge_day: date
    issued: int
    issued_pence: int
    ids: list[int]


def issue_refunds(
    ws: Workspace, day: date, *, by: str, now: datetime, ids: Sequence[int] = ()
) -> IssuedRefunds:
    """Mark ``day``'s due refunds (or only those in ``ids``) issued by ``by`` at ``now``.

    Every id asked for must be a due refund of that day: otherwise nothing is marked, so an
    operator never half-records a batch of payments out.
    """
    if not by.strip():
        raise InputError("say who issues the refunds (--by)")
    with ws.writer(), ws.state.session() as s:
        query = select(RefundRow).where(RefundRow.charge_day == day, RefundRow.status == "due")
        if ids:
            query = query.where(RefundRow.id.in_(ids))
        rows = s.scalars(query.order_by(RefundRow.id)).all()
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise StateError(
                f"not due refunds of {day}: {', '.join(map(str, missing))} "
                "(see `ringfence payments refunds`)"
            )
        for row in rows:
            row.status, row.issued_at, row.issued_by = "issued", now, by
            # Subject and attrs name the refund and its day, never the plate it is paid to.
            ws.record(
                "refund-issued",
                subject=f"refund:{row.id}",
                why=f"refund for charge-day:{day} ({row.source}) issued by {by}",
                counts={"refund_pence": row.refund_pence},
                attrs={"scheme": row.scheme_id, "source": row.source},
            )
    return IssuedRefunds(
        charge_day=day,
        issued=len(rows),
        issued_pence=sum(r.refund_pence for r in rows),
        ids=[r.id for r in rows],
    )
