"""The review queue: a person settles each liability a charge run would not charge on its own.

A charge run sends to `review` what it must not decide alone: too few confident reads, a
possible misread (confusion key), a plate in no register, a register entry the cameras
contradict, a vehicle whose compliance is unknown. Staff list the queue (`charge liabilities
--status review`), look at the evidence (reads, images) and record one of:

- ``charge``: the registered vehicle was there and owes the charge; the liability becomes
  `unpaid` and follows the usual path (payment, then a penalty notice after the window);
- ``dismiss``: no charge (a misread, another vehicle, compliant after all); the liability
  becomes `dismissed` and its reads are deleted with the settled ones after the window.

Who, when and why are kept on the row and in the audit log. A re-run of the day keeps reviewed
rows as they are. A plate the register does not hold (`match:confusion`, `match:unregistered`)
can only be dismissed: charging names a keeper, and its keeper is not known.
"""

from __future__ import annotations

from datetime import datetime

from ringfence.errors import InputError, NotFoundError, StateError
from ringfence.stores.readstore import as_utc
from ringfence.stores.state import LiabilityRow
from ringfence.workspace import Workspace

OUTCOMES = {"charge": "unpaid", "dismiss": "dismissed"}
KEEPER_UNKNOWN = ("match:confusion", "match:unregistered")


def review_liability(
    ws: Workspace, liability_id: int, outcome: str, *, by: str, why: str, now: datetime
) -> dict[str, object]:
    """Settle one liability in `review` with ``outcome`` (``charge`` or ``dismiss``)."""
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not by.strip() or not why.strip():
        raise InputError("a review needs who decided (--by) and why (--why)")
    now = as_utc(now)
    with ws.writer(), ws.state.session() as s:
        row = s.get(LiabilityRow, liability_id)
        if row is None:
            raise NotFoundError(f"no liability {liability_id}")
        if row.status != "review":
            raise StateError(f"liability {liability_id} is {row.status}, not in review")
        if outcome == "charge" and row.rule in KEEPER_UNKNOWN:
            raise StateError(
                f"liability {liability_id} ({row.rule}) is a plate the register does not hold: "
                "it can only be dismissed, since no keeper is known to charge"
            )
        if outcome == "charge" and row.amount_pence <= 0:
            raise StateError(f"liability {liability_id} has no amount to charge")
        row.status = OUTCOMES[outcome]
        row.reviewed_by, row.reviewed_at, row.review_note = by, now, why
        # The note is free text and may name a plate: it stays in the state database, and
        # the audit log says who decided what, by liability id.
        ws.record(
            "liability-reviewed",
            subject=f"liability:{liability_id}",
            why=f"{outcome} by {by}",
            attrs={"outcome": outcome, "rule": row.rule, "scheme": row.scheme_id},
        )
        return {
            "id": row.id,
            "charge_day": row.charge_day.isoformat(),
            "scheme_id": row.scheme_id,
            "status": row.status,
            "rule": row.rule,
            "amount_pence": row.amount_pence,
            "reviewed_by": by,
            "reviewed_at": now.isoformat(),
        }
