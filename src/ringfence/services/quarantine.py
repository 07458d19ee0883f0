"""The quarantine: rows that could not be accepted, with their reasons, sealed at rest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ringfence.domain.reads import QUARANTINE_REASONS
from ringfence.stores.state import QuarantineRow
from ringfence.workspace import Workspace


@dataclass(frozen=True, slots=True)
class QuarantinedRead:
    batch_id: str
    row_number: int
    reason: str
    detail: str
    camera_id: str | None
    captured_at: str | None
    original: dict[str, Any] | None  # only when revealed


def associated_data(row_key: str) -> bytes:
    return b"ringfence/quarantine/v1|" + row_key.encode()


def unseal(ws: Workspace, row: QuarantineRow) -> dict[str, Any]:
    """The original row as received (an authorised operator action: it may hold a VRM)."""
    keys = ws.keys.keys(row.key_epoch)
    original: dict[str, Any] = json.loads(keys.unseal(row.sealed_row, associated_data(row.row_key)))
    return original


def list_quarantine(
    ws: Workspace,
    *,
    reason: str | None = None,
    batch_id: str | None = None,
    reveal: bool = False,
    limit: int = 50,
) -> list[QuarantinedRead]:
    if reveal:
        ws.record(
            "quarantine-revealed",
            subject=f"quarantine:{reason or 'any'}:{batch_id or 'any'}",
            why="operator review of refused rows",
            counts={"limit": limit},
        )
    with ws.state.session() as s:
        query = select(QuarantineRow).order_by(QuarantineRow.id).limit(limit)
        if reason:
            query = query.where(QuarantineRow.reason == reason)
        if batch_id:
            query = query.where(QuarantineRow.batch_id == batch_id)
        return [
            QuarantinedRead(
                batch_id=r.batch_id,
                row_number=r.row_number,
                reason=r.reason,
                detail=QUARANTINE_REASONS.get(r.reason, r.reason),
                camera_id=r.camera_id,
                captured_at=r.captured_at_text,
                original=unseal(ws, r) if reveal else None,
            )
            for r in s.scalars(query)
        ]
