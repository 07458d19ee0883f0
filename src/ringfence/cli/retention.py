"""`ringfence retention`: purpose-bound deletion, receipts and legal holds."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit_json,
    open_workspace,
    out,
    parse_instant,
    run_or_exit,
    table,
    utc_now,
)
from ringfence.services.retention import (
    list_holds,
    list_receipts,
    place_hold,
    release_hold,
    run_retention,
)

app = typer.Typer(help="Retention rules, deletion receipts and legal holds.", no_args_is_help=True)
RECEIPT_COLUMNS = [
    "receipt_id",
    "rule",
    "target",
    "charge_day",
    "deleted",
    "held_back",
    "executed_at",
]


@app.command("rules")
def rules_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """The retention rules in force (from defaults and <data-dir>/ringfence.toml)."""
    ws = open_workspace(data_dir)
    rules = [asdict(r) for r in ws.settings.retention]
    if as_json:
        emit_json(rules)
        return
    cols = ["name", "purpose", "target", "max_age_days", "description"]
    out.print(table("Retention rules", cols, [[r[c] for c in cols] for r in rules]))


@app.command("run")
def run_command(
    as_of: Annotated[
        str | None, typer.Option(help="Apply rules as of this day (default today)")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply every retention rule; print the deletion receipts."""
    ws = open_workspace(data_dir)
    day = date.fromisoformat(as_of) if as_of else date.today()
    receipts = run_or_exit(lambda: run_retention(ws, as_of=day, now=utc_now()))
    if as_json:
        emit_json([asdict(r) for r in receipts])
        return
    rows = [[getattr(r, c) for c in RECEIPT_COLUMNS] for r in receipts]
    out.print(table(f"{len(receipts)} deletion receipts", RECEIPT_COLUMNS, rows))


@app.command("receipts")
def receipts_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every deletion receipt so far."""
    ws = open_workspace(data_dir)
    receipts = list_receipts(ws)
    if as_json:
        emit_json([asdict(r) for r in receipts])
        return
    rows = [[getattr(r, c) for c in RECEIPT_COLUMNS] for r in receipts]
    out.print(table(f"{len(receipts)} deletion receipts", RECEIPT_COLUMNS, rows))


@app.command("hold")
def hold_command(
    reason: Annotated[str, typer.Option(help="Why the reads must be kept (e.g. case reference)")],
    by: Annotated[str, typer.Option("--by", help="Who places the hold")],
    read_id: Annotated[list[str] | None, typer.Option(help="Read ids to hold")] = None,
    vrm: Annotated[str | None, typer.Option(help="Hold this VRM's reads in the window")] = None,
    start: Annotated[str | None, typer.Option("--from")] = None,
    end: Annotated[str | None, typer.Option("--to")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Place a legal hold: the named reads are exempt from retention until released."""
    ws = open_workspace(data_dir)
    window = (parse_instant(start), parse_instant(end)) if start and end else None
    hold = run_or_exit(
        lambda: place_hold(
            ws,
            reason=reason,
            created_by=by,
            now=utc_now(),
            read_ids=read_id or [],
            vrm=vrm,
            window=window,
        )
    )
    if as_json:
        emit_json(asdict(hold))
    else:
        out.print(f"Hold {hold.hold_id} placed on {hold.reads} reads.")


@app.command("release")
def release_command(
    hold_id: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option("--by", help="Who releases the hold")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Release a legal hold; its reads fall under the retention rules again."""
    ws = open_workspace(data_dir)
    hold = run_or_exit(lambda: release_hold(ws, hold_id, released_by=by, now=utc_now()))
    if as_json:
        emit_json(asdict(hold))
    else:
        out.print(f"Hold {hold.hold_id} released ({hold.reads} reads).")


@app.command("holds")
def holds_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every legal hold, active or released."""
    ws = open_workspace(data_dir)
    holds = [asdict(h) for h in list_holds(ws)]
    if as_json:
        emit_json(holds)
        return
    cols = ["hold_id", "reason", "created_by", "created_at", "is_active", "reads"]
    out.print(table(f"{len(holds)} legal holds", cols, [[h[c] for c in cols] for h in holds]))
