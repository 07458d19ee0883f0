"""Penalty charge notices: issue them for unpaid liabilities, then drive them by pcn_id.

The rules live in `ringfence.domain.penalties` (pure); this module loads a notice, applies one
domain function and saves the result, one transaction each. A notice is stored as its domain
`PCN` serialised (`pcn_to_row` / `pcn_from_row` round-trip it exactly), plus its evidence pack.

Issuing is the only place a clear VRM leaves the vault: for exactly the liabilities being
noticed, because the notice is posted to the keeper. No keeper data exists here, so the keeper
reference is opaque (`keeper:<first 12 hex of the pseudonym>`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.domain.penalties import (
    LIVE_STATES,
    LONDON_TZ,
    PCN,
    PCNAction,
    PCNEvent,
    PCNState,
    PenaltyTerms,
    RepresentationGround,
    accept_representation,
    advance,
    issue_pcn,
    issue_warning,
    make_representation,
    record_payment,
    reject_representation,
)
from ringfence.domain.penalties import appeal as appeal_pcn
from ringfence.domain.penalties import decide_appeal as decide_appeal_pcn
from ringfence.domain.schemes import DayRules, SchemeBook, load_scheme_book
from ringfence.errors import NotFoundError, StateError
from ringfence.services.refunds import save_pcn_refund
from ringfence.stores.readstore import charge_day_of, sql_list
from ringfence.stores.state import LiabilityRow, PenaltyNoticeRow
from ringfence.workspace import Workspace

__all__ = [
    "AdvanceReport",
    "IssueReport",
    "advance_all",
    "appeal",
    "decide_appeal",
    "decide_representation",
    "issue_notices",
    "list_notices",
    "pay",
    "pcn_from_row",
    "pcn_to_row",
    "represent",
    "show",
]

NOTICED = "noticed"
"""The liability status once a notice (PCN or warning) has been issued for it."""


# --- Serialisation ------------------------------------------------------------------------------


def _event_to_json(e: PCNEvent) -> dict[str, object]:
    return {
        "action": str(e.action),
        "state": str(e.state),
        "at": e.at.isoformat(),
        "by": e.by,
        "why": e.why,
        "amount_due_pence": e.amount_due_pence,
        "paid_pence": e.paid_pence,
        "ground": None if e.ground is None else str(e.ground),
    }


def _event_from_json(d: dict[str, Any]) -> PCNEvent:
    return PCNEvent(
        action=PCNAction(d["action"]),
        state=PCNState(d["state"]),
        at=datetime.fromisoformat(d["at"]),
        by=d["by"],
        why=d["why"],
        amount_due_pence=int(d["amount_due_pence"]),
        paid_pence=int(d["paid_pence"]),
        ground=None if d["ground"] is None else RepresentationGround(d["ground"]),
    )


def pcn_to_row(pcn: PCN, row: PenaltyNoticeRow) -> PenaltyNoticeRow:
    """Write the PCN's fields onto the row (the row's other columns are left as they are)."""
    row.pcn_id = pcn.pcn_id
    row.vrm = pcn.vrm
    row.scheme_id = pcn.scheme_id
    row.charge_day = pcn.charge_day
    row.keeper_ref = pcn.keeper_ref
    row.issued_on = pcn.issued_on
    row.served_on = pcn.served_on
    row.terms = asdict(pcn.terms)
    row.state = str(pcn.state)
    row.history = [_event_to_json(e) for e in pcn.history]
    row.amount_due_pence = pcn.history[-1].amount_due_pence
    row.evidence_ref = pcn.evidence_ref
    return row


def pcn_from_row(row: PenaltyNoticeRow) -> PCN:
    return PCN(
        pcn_id=row.pcn_id,
        vrm=row.vrm,
        scheme_id=row.scheme_id,
        charge_day=row.charge_day,
        keeper_ref=row.keeper_ref,
        issued_on=row.issued_on,
        served_on=row.served_on,
        terms=PenaltyTerms(**row.terms),
        state=PCNState(row.state),
        history=tuple(_event_from_json(e) for e in row.history),
        evidence_ref=row.evidence_ref,
    )


# --- Issuing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueReport:
    charge_day: date
    issued_on: date
    pcns: int
    warnings: int
    already_noticed: int
    """Unpaid liabilities skipped because a notice already exists for them."""
    unrecoverable: int
    """Unpaid liabilities whose clear VRM the vault could not give (e.g. key destroyed)."""
    pcn_ids: list[str] = field(default_factory=list)
    by_scheme: dict[str, int] = field(default_factory=dict)


def _new_pcn_id(scheme_id: str, day: date) -> str:
    return f"{scheme_id.upper()}-{day:%Y%m%d}-{uuid.uuid4().hex[:10].upper()}"


def _reads_evidence(ws: Workspace, day: date, read_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """read_id -> camera, capture time and image ref, from the day's stored reads."""
    files = ws.reads.files(day)
    if not files or not read_ids:
        return {}
    con = ws.engine()
    try:
        con.register("wanted", pa.table({"read_id": pa.array(sorted(set(read_ids)), pa.string())}))
        rows = con.execute(
            "SELECT read_id, camera_id, captured_at, image_ref "
            f"FROM read_parquet({sql_list(files)}) SEMI JOIN wanted USING (read_id)"
        ).fetchall()
    finally:
        con.close()
    return {
        str(r[0]): {
            "read_id": str(r[0]),
            "camera_id": str(r[1]),
            "captured_at": r[2].astimezone(UTC).isoformat(),
            "image_ref": r[3],
        }
        for r in rows
    }


def _pack_reads(
    read_ids: Sequence[str], reads: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """An evidence pack's reads, in capture-time order (a run lists them as a set), and the ids
    of any no longer in the store."""
    found = [reads[r] for r in read_ids if r in reads]
    return {
        "reads": sorted(found, key=lambda read: (read["captured_at"], read["read_id"])),
        "missing_read_ids": [r for r in read_ids if r not in reads],
    }


def _check_window(book: SchemeBook, day: date, today: date) -> dict[str, DayRules]:
    rules = {s: r for s in book.scheme_ids() if (r := book.day_rules(s, day)) is not None}
    if not rules:
        return rules
    pay_by = max(r.pay_by for r in rules.values())
    if today <= pay_by:
        open_ = ", ".join(f"{s} until {r.pay_by}" for s, r in sorted(rules.items()))
        raise StateError(
            f"the charges for {day} may still be paid ({open_}): notices can be issued from "
            f"{date.fromordinal(pay_by.toordinal() + 1)} (London date), not on {today}"
        )
    return rules


def issue_notices(
    ws: Workspace, day: date, *, now: datetime, by: str, book: SchemeBook | None = None
) -> IssueReport:
    """Issue a PCN (or, in a scheme's warning period, a warning notice) per unpaid liability.

    Only once the payment window of every scheme in force on ``day`` has closed (London date of
    ``now`` after ``pay_by``). Idempotent: a liability already noticed is skipped (and re-linked
    and re-marked if its day was charged again). Each notice is posted on ``now``'s London date.
    """
    book = book or load_scheme_book()
    today = charge_day_of(now)
    rules = _check_window(book, day, today)
    with ws.writer(), ws.state.session() as s:
        liabilities = s.scalars(
            select(LiabilityRow)
            .where(LiabilityRow.charge_day == day, LiabilityRow.status == "unpaid")
            .order_by(LiabilityRow.id)
        ).all()
        existing = {
            (n.scheme_id, n.key_epoch, n.vrm_pseudonym): n
            for n in s.scalars(select(PenaltyNoticeRow).where(PenaltyNoticeRow.charge_day == day))
        }
        todo: list[LiabilityRow] = []
        already = 0
        for liab in liabilities:
            notice = existing.get((liab.scheme_id, liab.key_epoch, liab.vrm_pseudonym))
            if notice is None:
                todo.append(liab)
                continue
            already += 1
            liab.status = NOTICED
            notice.liability_id = liab.id
        clear: dict[tuple[int, bytes], str] = {}
        for epoch in sorted({liab.key_epoch for liab in todo}):
            wanted = [liab.vrm_pseudonym for liab in todo if liab.key_epoch == epoch]
            found = ws.vault.recover(ws.keys.keys(epoch), wanted)
            ws.record(
                "vault-recovered",
                subject=f"charge-day:{day}",
                why=f"penalty notices for unpaid charges (epoch {epoch})",
                counts={"asked": len(wanted), "recovered": len(found)},
            )
            clear.update({(epoch, p): vrm for p, vrm in found.items()})
        read_ids = ws.charge_evidence.of_liabilities(todo)
        reads = _reads_evidence(ws, day, [r for ids in read_ids.values() for r in ids])
        pcn_ids: list[str] = []
        pcns = warnings = unrecoverable = 0
        by_scheme: dict[str, int] = {}
        for liab in todo:
            vrm = clear.get((liab.key_epoch, liab.vrm_pseudonym))
            day_rules = rules.get(liab.scheme_id) or book.day_rules(liab.scheme_id, day)
            if vrm is None or day_rules is None:
                unrecoverable += 1
                continue
            pcn_id = _new_pcn_id(liab.scheme_id, day)
            evidence = {
                "liability_id": liab.id,
                "scheme_version_id": day_rules.version_id,
                "charge_amount_pence": liab.amount_pence,
                "rule": liab.rule,
                "reason": liab.reason,
                **_pack_reads(read_ids[liab.id], reads),
            }
            issue = issue_warning if day_rules.in_warning_period else issue_pcn
            pcn = issue(
                pcn_id=pcn_id,
                vrm=vrm,
                scheme_id=liab.scheme_id,
                charge_day=day,
                charge_payable_until=day_rules.pay_by,
                keeper_ref=f"keeper:{liab.vrm_pseudonym.hex()[:12]}",
                issued_on=today,
                at=now,
                by=by,
                evidence_ref=f"evidence:{pcn_id}",
                terms=day_rules.penalty,
            )
            row = PenaltyNoticeRow(
                liability_id=liab.id,
                key_epoch=liab.key_epoch,
                vrm_pseudonym=liab.vrm_pseudonym,
                evidence=evidence,
                created_at=now,
                updated_at=now,
            )
            s.add(pcn_to_row(pcn, row))
            liab.status = NOTICED
            pcn_ids.append(pcn_id)
            if day_rules.in_warning_period:
                warnings += 1
            else:
                pcns += 1
            by_scheme[liab.scheme_id] = by_scheme.get(liab.scheme_id, 0) + 1
    return IssueReport(
        charge_day=day,
        issued_on=today,
        pcns=pcns,
        warnings=warnings,
        already_noticed=already,
        unrecoverable=unrecoverable,
        pcn_ids=pcn_ids,
        by_scheme=dict(sorted(by_scheme.items())),
    )


# --- Operations by pcn_id -------------------------------------------------------------------------


def _load(s: Session, pcn_id: str) -> PenaltyNoticeRow:
    row = s.get(PenaltyNoticeRow, pcn_id)
    if row is None:
        raise NotFoundError(f"no penalty notice {pcn_id!r}")
    return row


def _change(ws: Workspace, pcn_id: str, at: datetime, step: Callable[[PCN], PCN]) -> PCN:
    """Load one notice, apply one domain step, save it: one transaction, under the writer lock."""
    with ws.writer(), ws.state.session() as s:
        row = _load(s, pcn_id)
        pcn = step(pcn_from_row(row))
        pcn_to_row(pcn, row)
        row.updated_at = at
    return pcn


def pay(ws: Workspace, pcn_id: str, amount_pence: int, at: datetime, by: str) -> PCN:
    """A payment received at ``at``: settles the notice if it covers the amount then due.

    A payment above that amount settles it too; the surplus is saved as a refund due.
    """
    with ws.writer(), ws.state.session() as s:
        row = _load(s, pcn_id)
        before = pcn_from_row(row)
        pcn = record_payment(before, amount_pence, at, by)
        pcn_to_row(pcn, row)
        row.updated_at = at
        # Asked after the payment is accepted: it checks `at` and the state first.
        due = before.amount_due(at.astimezone(LONDON_TZ).date())
        if amount_pence > due:
            refund = save_pcn_refund(s, row, paid_pence=amount_pence, due_pence=due, at=at)
            ws.record(
                "refund-due",
                subject=f"refund:{refund.id}",
                why=f"penalty notice overpaid (charge-day:{row.charge_day})",
                counts={"refund_pence": refund.refund_pence},
                attrs={"scheme": row.scheme_id, "source": "pcn"},
            )
    return pcn


def represent(
    ws: Workspace,
    pcn_id: str,
    ground: RepresentationGround | str,
    statement: str,
    at: datetime,
    by: str,
) -> PCN:
    """A representation on a statutory ground (value or letter a-f), received at ``at``."""
    return _change(ws, pcn_id, at, lambda p: make_representation(p, ground, statement, at, by))


def decide_representation(
    ws: Workspace, pcn_id: str, accept: bool, reason: str, at: datetime, by: str
) -> PCN:
    """Notice of acceptance (cancelled) or of rejection (with its reason)."""
    if accept:
        return _change(ws, pcn_id, at, lambda p: accept_representation(p, at, by, reason))
    return _change(ws, pcn_id, at, lambda p: reject_representation(p, at, by, reason))


def appeal(ws: Workspace, pcn_id: str, at: datetime, by: str, statement: str = "") -> PCN:
    """An appeal to the adjudicator against a notice of rejection, lodged at ``at``."""
    return _change(ws, pcn_id, at, lambda p: appeal_pcn(p, at, by, statement))


def decide_appeal(
    ws: Workspace, pcn_id: str, allowed: bool, at: datetime, by: str, reason: str = ""
) -> PCN:
    """The adjudicator's decision: allowed (cancelled) or refused (full amount due)."""
    return _change(ws, pcn_id, at, lambda p: decide_appeal_pcn(p, allowed, at, by, reason))


@dataclass(frozen=True, slots=True)
class AdvanceReport:
    on: date
    examined: int
    moved: dict[str, str] = field(default_factory=dict)
    """pcn_id -> the state it was advanced to."""


def advance_all(ws: Workspace, on: date, by: str = "system") -> AdvanceReport:
    """Apply the time-driven transitions due by ``on`` to every live notice."""
    moved: dict[str, str] = {}
    with ws.writer(), ws.state.session() as s:
        rows = s.scalars(
            select(PenaltyNoticeRow)
            .where(PenaltyNoticeRow.state.in_([str(x) for x in LIVE_STATES]))
            .order_by(PenaltyNoticeRow.pcn_id)
        ).all()
        for row in rows:
            before = pcn_from_row(row)
            after = advance(before, on, by=by)
            if after is not before:
                pcn_to_row(after, row)
                row.updated_at = after.history[-1].at
                moved[row.pcn_id] = str(after.state)
    return AdvanceReport(on=on, examined=len(rows), moved=moved)


def _summary(row: PenaltyNoticeRow) -> dict[str, object]:
    return {
        "pcn_id": row.pcn_id,
        "scheme_id": row.scheme_id,
        "charge_day": row.charge_day.isoformat(),
        "vrm": row.vrm,
        "keeper_ref": row.keeper_ref,
        "state": row.state,
        "amount_due_pence": row.amount_due_pence,
        "issued_on": row.issued_on.isoformat(),
        "served_on": row.served_on.isoformat(),
    }


def list_notices(
    ws: Workspace, *, state: str | None = None, charge_day: date | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Notices, newest charge day first; ``amount_due_pence`` is as of the last event."""
    with ws.state.session() as s:
        query = select(PenaltyNoticeRow).order_by(
            PenaltyNoticeRow.charge_day.desc(), PenaltyNoticeRow.pcn_id
        )
        if state:
            query = query.where(PenaltyNoticeRow.state == state)
        if charge_day:
            query = query.where(PenaltyNoticeRow.charge_day == charge_day)
        return [_summary(r) for r in s.scalars(query.limit(limit))]


def show(ws: Workspace, pcn_id: str, on: date | None = None) -> dict[str, object]:
    """A notice as of ``on`` (default: today in London): amount due, deadlines, history, evidence.

    ``on`` earlier than the last event is taken as that event's day (the past is in history).
    """
    with ws.state.session() as s:
        row = _load(s, pcn_id)
        pcn = pcn_from_row(row)
        evidence = row.evidence
    last = charge_day_of(pcn.history[-1].at)
    as_of = max(on or datetime.now(LONDON_TZ).date(), last)
    current = advance(pcn, as_of)
    return {
        "pcn_id": pcn.pcn_id,
        "scheme_id": pcn.scheme_id,
        "charge_day": pcn.charge_day.isoformat(),
        "vrm": pcn.vrm,
        "keeper_ref": pcn.keeper_ref,
        "issued_on": pcn.issued_on.isoformat(),
        "served_on": pcn.served_on.isoformat(),
        "as_of": as_of.isoformat(),
        "state": str(current.state),
        "recorded_state": str(pcn.state),
        "amount_due_pence": pcn.amount_due(as_of),
        "deadlines": {k: v.isoformat() for k, v in pcn.deadlines(as_of).items()},
        "terms": asdict(pcn.terms),
        "history": [_event_to_json(e) for e in current.history],
        "evidence_ref": pcn.evidence_ref,
        "evidence": evidence,
    }
