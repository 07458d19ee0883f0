"""`ringfence keys`: key epochs, their health, and crypto-shredding."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit_json,
    open_workspace,
    out,
    run_or_exit,
    table,
    utc_now,
)
from ringfence.errors import RingfenceError
from ringfence.services.retention import destroy_epoch

app = typer.Typer(help="Pseudonym key epochs and crypto-shredding.", no_args_is_help=True)


@app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every key epoch: its days, fingerprint, and whether it was destroyed."""
    ws = open_workspace(data_dir)
    rows = [
        {
            "epoch": e.epoch,
            "first_day": e.starts_on.isoformat(),
            "last_day": e.last_day.isoformat(),
            "fingerprint": e.fingerprint,
            "destroyed_at": e.destroyed_at.isoformat() if e.destroyed_at else None,
            "destroyed_reason": e.destroyed_reason,
        }
        for e in ws.keys.epochs()
    ]
    if as_json:
        emit_json({"rotation_days": ws.settings.key_rotation_days, "epochs": rows})
        return
    out.print(f"Keys rotate every {ws.settings.key_rotation_days} charge days.")
    cols = list(rows[0]) if rows else ["epoch"]
    out.print(table(f"{len(rows)} key epochs", cols, [[r[c] for c in cols] for r in rows]))


@app.command("verify")
def verify_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Check every live key file: present, owner-only, matching its fingerprint."""
    ws = open_workspace(data_dir)
    results = []
    for e in ws.keys.epochs():
        if e.is_destroyed:
            results.append({"epoch": e.epoch, "ok": True, "state": "destroyed"})
            continue
        try:
            ws.keys.keys(e.epoch)
            results.append({"epoch": e.epoch, "ok": True, "state": "live"})
        except RingfenceError as exc:
            results.append({"epoch": e.epoch, "ok": False, "state": str(exc)})
    if as_json:
        emit_json(results)
    else:
        out.print(
            table(
                "Key files",
                ["epoch", "ok", "state"],
                [[r["epoch"], r["ok"], r["state"]] for r in results],
            )
        )
    if not all(r["ok"] for r in results):
        raise typer.Exit(code=1)


@app.command("destroy")
def destroy_command(
    epoch: Annotated[int, typer.Argument(help="The epoch to crypto-shred")],
    reason: Annotated[str, typer.Option(help="Why (recorded)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Destroy an epoch's key and vault entries: its reads become unlinkable for ever."""
    ws = open_workspace(data_dir)
    info = run_or_exit(lambda: ws.keys.get(epoch))
    if not yes:
        typer.confirm(
            f"Destroy epoch {epoch} ({info.starts_on}..{info.last_day})? This cannot be undone",
            abort=True,
        )
    receipt = run_or_exit(lambda: destroy_epoch(ws, epoch, reason=reason, now=utc_now()))
    if as_json:
        emit_json(asdict(receipt))
    else:
        out.print(
            f"Epoch {epoch} destroyed; {receipt.deleted} vault entries removed "
            f"(receipt {receipt.receipt_id})."
        )
