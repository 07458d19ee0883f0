"""`ringfence payments`: payments, Auto Pay accounts, their monthly bills, and refunds."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ringfence.cli._common import (
    AtOption,
    DataDirOption,
    JsonOption,
    at_or_now,
    emit_json,
    emit_rows,
    open_workspace,
    out,
    parse_date,
    run_or_exit,
    table,
)
from ringfence.services.charging import autopay_bills, import_register_file
from ringfence.services.refunds import issue_refunds, list_refunds

app = typer.Typer(help="Payments, Auto Pay accounts and bills.", no_args_is_help=True)


def _import(kind: str, path: Path, data_dir: Path | None, as_json: bool) -> None:
    ws = open_workspace(data_dir)
    result = run_or_exit(lambda: import_register_file(ws, kind, path))
    if as_json:
        emit_json({"kind": result.kind, "rows": result.rows, "path": str(result.path)})
    else:
        out.print(f"{result.rows:,} {kind} rows kept; the next charge run uses them")


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="Payments file (.csv, .jsonl, .parquet)")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Payments made by VRM (in advance, on the day, or late): replaces the previous file."""
    _import("payments", path, data_dir, as_json)


@app.command("autopay")
def autopay_command(
    path: Annotated[Path, typer.Argument(help="Auto Pay accounts file")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Auto Pay accounts and their vehicles (personal up to 5, fleet 6 or more)."""
    _import("autopay", path, data_dir, as_json)


@app.command("bill")
def bill_command(
    month: Annotated[str, typer.Option(help="The month to bill (YYYY-MM)")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each Auto Pay account's charges for a month."""
    ws = open_workspace(data_dir)
    bills = run_or_exit(lambda: autopay_bills(ws, month))
    if as_json:
        emit_json([asdict(b) for b in bills])
        return
    out.print(
        table(
            f"Auto Pay bills for {month}",
            ["account", "charges", "amount (GBP)"],
            [[b.account_id, b.charges, f"{b.amount_pence / 100:,.2f}"] for b in bills],
        )
    )


@app.command("refunds")
def refunds_command(
    day: Annotated[str | None, typer.Option(help="Only this charge day (YYYY-MM-DD)")] = None,
    status: Annotated[str | None, typer.Option(help="due or issued")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refunds: payments above what was owed for a charge day, and PCN overpayments."""
    ws = open_workspace(data_dir)
    on = parse_date(day) if day else None
    rows = run_or_exit(lambda: list_refunds(ws, day=on, status=status))
    cols = ["id", "charge_day", "scheme_id", "vrm", "refund_pence", "status", "reason"]
    pence = sum(p for r in rows if isinstance(p := r["refund_pence"], int))
    title = f"Refunds{f' for {day}' if day else ''} ({len(rows)}, {pence / 100:,.2f} GBP)"
    emit_rows(rows, cols, title, as_json)


@app.command("refund-issue")
def refund_issue_command(
    day: Annotated[str, typer.Option(help="The charge day (YYYY-MM-DD)")],
    by: Annotated[str, typer.Option("--by", help="Who paid the refunds out")],
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="Only these refunds (repeatable)")
    ] = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a day's due refunds (or only those named) issued: who and when, audited."""
    on, when = parse_date(day), at_or_now(at)
    ws = open_workspace(data_dir)
    done = run_or_exit(lambda: issue_refunds(ws, on, by=by, now=when, ids=ids or ()))
    if as_json:
        emit_json(asdict(done))
        return
    out.print(
        f"Charge day {done.charge_day}: {done.issued:,} refunds issued, "
        f"{done.issued_pence / 100:,.2f} GBP"
    )
