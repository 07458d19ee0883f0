"""Purpose-bound retention: delete on purpose, keep a receipt, respect legal holds.

Each rule in settings names a purpose, a target (reads, quarantine, key) and a maximum age.
`run_retention` applies every rule as of a date; `purge_reads` deletes named vehicles' reads for
a day (the charging service uses it once a payment window closes). Every deletion writes a
receipt, in the state database and as a JSON file, that says what, how many and under which rule,
and carries the SHA-256 of the sorted deleted read ids so a later audit can check a claimed
deletion without the data. Legal holds exempt the reads they name until released; an epoch with
a held read keeps its key.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
from sqlalchemy import delete, func, select

from ringfence.errors import InputError, NotFoundError
from ringfence.services.reads import vrm_history
from ringfence.settings import RetentionRule
from ringfence.stores.readstore import connect, sql_list
from ringfence.stores.state import (
    DeletionReceiptRow,
    LegalHoldReadRow,
    LegalHoldRow,
    LiabilityRow,
    QuarantineRow,
)
from ringfence.workspace import Workspace

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_id: str
    rule: str
    purpose: str
    target: str
    charge_day: str | None
    deleted: int
    held_back: int
    deleted_ids_sha256: str
    executed_at: str
    details: dict[str, object]


def _record(ws: Workspace, receipt: Receipt) -> Receipt:
    ws.record(
        "key-destroyed" if receipt.target == "key" else f"{receipt.target}-deleted",
        subject=f"receipt:{receipt.receipt_id}",
        why=f"retention rule {receipt.rule} ({receipt.purpose})",
        counts={"deleted": receipt.deleted, "held_back": receipt.held_back},
        attrs={"rule": receipt.rule, "purpose": receipt.purpose, "target": receipt.target},
        digest=receipt.deleted_ids_sha256,
    )
    ws.settings.receipts_dir.mkdir(parents=True, exist_ok=True)
    path = ws.settings.receipts_dir / f"{receipt.executed_at[:10]}-{receipt.receipt_id}.json"
    path.write_text(json.dumps(asdict(receipt), indent=2, sort_keys=True) + "\n")
    return receipt


def _new_receipt(
    rule: RetentionRule,
    *,
    day: date | None,
    deleted: int,
    held: int,
    digest: str,
    now: datetime,
    details: dict[str, object],
) -> Receipt:
    return Receipt(
        receipt_id=uuid.uuid4().hex[:16],
        rule=rule.name,
        purpose=rule.purpose,
        target=rule.target,
        charge_day=day.isoformat() if day else None,
        deleted=deleted,
        held_back=held,
        deleted_ids_sha256=digest,
        executed_at=now.astimezone(UTC).isoformat(),
        details=details,
    )


def _receipt_row(r: Receipt) -> DeletionReceiptRow:
    return DeletionReceiptRow(
        receipt_id=r.receipt_id,
        rule=r.rule,
        purpose=r.purpose,
        target=r.target,
        charge_day=date.fromisoformat(r.charge_day) if r.charge_day else None,
        deleted=r.deleted,
        held_back=r.held_back,
        deleted_ids_sha256=r.deleted_ids_sha256,
        executed_at=datetime.fromisoformat(r.executed_at),
        details=r.details,
    )


def _held_read_ids(ws: Workspace, day: date) -> list[str]:
    with ws.state.session() as s:
        return list(
            s.scalars(
                select(LegalHoldReadRow.read_id)
                .join(LegalHoldRow, LegalHoldRow.hold_id == LegalHoldReadRow.hold_id)
                .where(LegalHoldRow.is_active, LegalHoldReadRow.charge_day == day)
            )
        )


def purge_reads(
    ws: Workspace,
    day: date,
    rule: RetentionRule,
    *,
    now: datetime,
    only_pseudonyms: Sequence[bytes] | None = None,
    keep_pseudonyms: Sequence[bytes] | None = None,
) -> Receipt:
    """Delete a day's reads (all, only these vehicles', or all but these vehicles'), except
    held ones; write a receipt."""
    with ws.writer():
        return _purge_reads_locked(
            ws, day, rule, now=now, only_pseudonyms=only_pseudonyms, keep_pseudonyms=keep_pseudonyms
        )


def _purge_reads_locked(
    ws: Workspace,
    day: date,
    rule: RetentionRule,
    *,
    now: datetime,
    only_pseudonyms: Sequence[bytes] | None,
    keep_pseudonyms: Sequence[bytes] | None = None,
) -> Receipt:
    files = ws.reads.files(day)
    held = _held_read_ids(ws, day)
    con = ws.engine()
    try:
        con.register("held", pa.table({"read_id": pa.array(held, pa.string())}))
        target = "TRUE"
        if only_pseudonyms is not None:
            con.register("targets", pa.table({"p": pa.array(list(only_pseudonyms), pa.binary())}))
            target = "vrm_pseudonym IN (SELECT p FROM targets)"
        elif keep_pseudonyms is not None:
            con.register("kept", pa.table({"p": pa.array(list(keep_pseudonyms), pa.binary())}))
            target = "vrm_pseudonym NOT IN (SELECT p FROM kept)"
        doomed = f"({target}) AND read_id NOT IN (SELECT read_id FROM held)"
        deleted, held_back, digest = 0, 0, EMPTY_SHA256
        if files:
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE {doomed}), "
                f"count(*) FILTER (WHERE ({target}) AND read_id IN (SELECT read_id FROM held)), "
                f"sha256(coalesce(string_agg(read_id, chr(10) ORDER BY read_id) "
                f"FILTER (WHERE {doomed}), '')) "
                f"FROM read_parquet({sql_list(files)})"
            ).fetchone()
            assert row is not None
            deleted, held_back, digest = int(row[0]), int(row[1]), str(row[2])
        receipt = _new_receipt(
            rule,
            day=day,
            deleted=deleted,
            held=held_back,
            digest=digest,
            now=now,
            details=(
                {"vehicles": len(only_pseudonyms)}
                if only_pseudonyms is not None
                else {"vehicles_kept": len(keep_pseudonyms)}
                if keep_pseudonyms is not None
                else {}
            ),
        )
        if deleted:

            def commit(_rows_in: int, _rows_out: int) -> None:
                with ws.state.session() as s:
                    s.add(_receipt_row(receipt))

            ws.reads.rewrite_day(
                con, day, kind="purge", keep_where=f"NOT ({doomed})", now=now, on_commit=commit
            )
        else:
            with ws.state.session() as s:
                s.add(_receipt_row(receipt))
    finally:
        con.close()
    return _record(ws, receipt)


def run_retention(ws: Workspace, *, as_of: date, now: datetime) -> list[Receipt]:
    """Apply every retention rule as of a date; a receipt for each deletion that happened.

    Idempotent: a second run as of the same date deletes nothing and writes no receipt.
    """
    receipts: list[Receipt] = []
    with ws.writer():
        for rule in ws.settings.retention:
            cutoff = as_of - timedelta(days=rule.max_age_days)
            if rule.target == "reads" and rule.selector == "settled":
                receipts.extend(_purge_settled(ws, rule, cutoff, now=now))
            elif rule.target == "reads":
                for day in ws.reads.days():
                    if day < cutoff:
                        receipts.append(
                            _purge_reads_locked(ws, day, rule, now=now, only_pseudonyms=None)
                        )
            elif rule.target == "quarantine":
                receipt = _purge_quarantine(ws, rule, cutoff, now=now)
                if receipt is not None:
                    receipts.append(receipt)
            else:
                receipts.extend(_destroy_keys(ws, rule, cutoff, now=now))
    return receipts


UNSETTLED = ("unpaid", "review", "noticed")


def _purge_settled(
    ws: Workspace, rule: RetentionRule, cutoff: date, *, now: datetime
) -> list[Receipt]:
    """After the payment window: delete the reads of vehicles that owe nothing or have paid.

    Only days a charge run has decided are touched; reads behind unpaid, disputed or noticed
    liabilities stay for enforcement. Idempotent: a second pass finds nothing left to delete.
    """
    receipts = []
    for day in ws.reads.days():
        if day >= cutoff:
            continue
        with ws.state.session() as s:
            rows = s.execute(
                select(LiabilityRow.vrm_pseudonym, LiabilityRow.status).where(
                    LiabilityRow.charge_day == day
                )
            ).all()
        if not rows:
            continue  # never charged: nothing says which vehicles are settled
        keep = sorted({p for p, status in rows if status in UNSETTLED})
        receipt = _purge_reads_locked(
            ws, day, rule, now=now, only_pseudonyms=None, keep_pseudonyms=keep
        )
        if receipt.deleted:
            receipts.append(receipt)
    return receipts


def _purge_quarantine(
    ws: Workspace, rule: RetentionRule, cutoff: date, *, now: datetime
) -> Receipt | None:
    with ws.state.session() as s:
        keys = list(
            s.scalars(
                select(QuarantineRow.row_key)
                .where(QuarantineRow.received_on < cutoff)
                .order_by(QuarantineRow.row_key)
            )
        )
        if not keys:
            return None
        s.execute(delete(QuarantineRow).where(QuarantineRow.received_on < cutoff))
        receipt = _new_receipt(
            rule,
            day=None,
            deleted=len(keys),
            held=0,
            digest=hashlib.sha256("\n".join(keys).encode()).hexdigest(),
            now=now,
            details={"received_before": cutoff.isoformat()},
        )
        s.add(_receipt_row(receipt))
    return _record(ws, receipt)


def _destroy_keys(
    ws: Workspace, rule: RetentionRule, cutoff: date, *, now: datetime
) -> list[Receipt]:
    receipts = []
    with ws.state.session() as s:
        held_days = set(
            s.scalars(
                select(LegalHoldReadRow.charge_day)
                .join(LegalHoldRow, LegalHoldRow.hold_id == LegalHoldReadRow.hold_id)
                .where(LegalHoldRow.is_active)
            )
        )
    for epoch in ws.keys.epochs():
        if epoch.is_destroyed or epoch.last_day >= cutoff:
            continue
        if any(epoch.covers(d) for d in held_days):
            continue
        receipts.append(_destroy_epoch_locked(ws, epoch.epoch, rule, now=now))
    return receipts


def destroy_epoch(ws: Workspace, epoch: int, *, reason: str, now: datetime) -> Receipt:
    """Crypto-shred one epoch by hand (e.g. a DPO's decision), with a receipt."""
    if not reason.strip():
        raise InputError("destroying a key epoch needs a reason")
    manual = RetentionRule(name="manual", purpose=reason, target="key", max_age_days=0)
    with ws.writer():
        return _destroy_epoch_locked(ws, epoch, manual, now=now)


def _destroy_epoch_locked(
    ws: Workspace, epoch: int, rule: RetentionRule, *, now: datetime
) -> Receipt:
    info = ws.keys.get(epoch)
    ws.keys.destroy(epoch, reason=f"{rule.name}: {rule.purpose}", now=now)
    entries = ws.vault.drop_epoch(epoch)
    receipt = _new_receipt(
        rule,
        day=None,
        deleted=entries,
        held=0,
        digest=EMPTY_SHA256,
        now=now,
        details={
            "epoch": epoch,
            "epoch_days": f"{info.starts_on}..{info.last_day}",
            "vault_entries_removed": entries,
        },
    )
    with ws.state.session() as s:
        s.add(_receipt_row(receipt))
    return _record(ws, receipt)


# -- legal holds --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: str
    reason: str
    created_by: str
    created_at: datetime
    is_active: bool
    reads: int


def place_hold(
    ws: Workspace,
    *,
    reason: str,
    created_by: str,
    now: datetime,
    read_ids: Sequence[str] = (),
    vrm: str | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Hold:
    """Hold named reads (by id, or a VRM's reads in a window) against every retention rule."""
    if not reason.strip() or not created_by.strip():
        raise InputError("a legal hold needs a reason and who placed it")
    items: dict[str, date] = {}
    if vrm is not None:
        if window is None:
            raise InputError("holding a VRM's reads needs a time window")
        table = vrm_history(ws, vrm, *window).reads
        items |= dict(
            zip(
                table.column("read_id").to_pylist(),
                table.column("charge_day").to_pylist(),
                strict=True,
            )
        )
    if read_ids:
        items |= _locate(ws, read_ids)
    if not items:
        raise InputError("the hold names no stored read")
    hold_id = "hold-" + uuid.uuid4().hex[:12]
    with ws.state.session() as s:
        s.add(
            LegalHoldRow(
                hold_id=hold_id,
                reason=reason,
                created_by=created_by,
                created_at=now,
                is_active=True,
            )
        )
        s.flush()
        s.add_all(
            LegalHoldReadRow(hold_id=hold_id, read_id=rid, charge_day=day)
            for rid, day in sorted(items.items())
        )
    ws.record("legal-hold-placed", subject=hold_id, why=reason, counts={"reads": len(items)})
    return Hold(hold_id, reason, created_by, now, True, len(items))


def _locate(ws: Workspace, read_ids: Sequence[str]) -> dict[str, date]:
    files = ws.reads.all_files()
    found: dict[str, date] = {}
    if files:
        con = connect()
        try:
            rows = con.execute(
                f"SELECT read_id, charge_day FROM {ws.reads.scan(files)} "
                "WHERE read_id IN (SELECT unnest(?))",
                [list(read_ids)],
            ).fetchall()
        finally:
            con.close()
        found = {str(r): d for r, d in rows}
    missing = sorted(set(read_ids) - set(found))
    if missing:
        raise NotFoundError(f"no stored read with id {', '.join(missing[:5])}")
    return found


def release_hold(ws: Workspace, hold_id: str, *, released_by: str, now: datetime) -> Hold:
    with ws.state.session() as s:
        row = s.get(LegalHoldRow, hold_id)
        if row is None:
            raise NotFoundError(f"no legal hold {hold_id}")
        row.is_active = False
        row.released_at = now
        row.released_by = released_by
        count = s.scalar(
            select(func.count())
            .select_from(LegalHoldReadRow)
            .where(LegalHoldReadRow.hold_id == hold_id)
        )
        return Hold(row.hold_id, row.reason, row.created_by, row.created_at, False, int(count or 0))


def list_holds(ws: Workspace) -> list[Hold]:
    with ws.state.session() as s:
        rows = s.execute(
            select(LegalHoldRow, func.count(LegalHoldReadRow.read_id))
            .outerjoin(LegalHoldReadRow, LegalHoldReadRow.hold_id == LegalHoldRow.hold_id)
            .group_by(LegalHoldRow.hold_id)
            .order_by(LegalHoldRow.created_at)
        ).all()
        return [
            Hold(h.hold_id, h.reason, h.created_by, h.created_at, h.is_active, int(n))
            for h, n in rows
        ]


def list_receipts(ws: Workspace) -> list[Receipt]:
    with ws.state.session() as s:
        rows = s.scalars(select(DeletionReceiptRow).order_by(DeletionReceiptRow.executed_at)).all()
        return [
            Receipt(
                receipt_id=r.receipt_id,
                rule=r.rule,
                purpose=r.purpose,
                target=r.target,
                charge_day=r.charge_day.isoformat() if r.charge_day else None,
                deleted=r.deleted,
                held_back=r.held_back,
                deleted_ids_sha256=r.deleted_ids_sha256,
                executed_at=r.executed_at.isoformat(),
                details=dict(r.details),
            )
            for r in rows
        ]
