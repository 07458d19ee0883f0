"""`ringfence payments`: payments, Auto Pay accounts and their monthly bills."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
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
)
from ringfence.services.charging import autopay_bills, import_register_file

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
