"""`ringfence charge`: turn reads into liabilities under the schemes' rules."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
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
    run_or_exit,
    table,
    utc_now,
)
from ringfence.services.charging import (
    evaluate_files,
    list_liabilities,
    run_stored,
)
from ringfence.services.review import review_liability

app = typer.Typer(help="Charge runs: reads to liabilities.", no_args_is_help=True)


@app.command("evaluate")
def evaluate_command(
    reads: Annotated[Path, typer.Option(help="Reads file (csv, jsonl, parquet)")],
    cameras: Annotated[Path, typer.Option(help="Cameras file")],
    vehicles: Annotated[Path, typer.Option(help="Vehicle register file")],
    out_path: Annotated[Path, typer.Option("--out", help="liabilities.csv or .parquet")],
    refunds_out: Annotated[
        Path | None,
        typer.Option("--refunds-out", help="Also write refunds due: refunds.csv or .parquet"),
    ] = None,
    payments: Annotated[Path | None, typer.Option(help="Payments file")] = None,
    registrations: Annotated[Path | None, typer.Option(help="Registrations file")] = None,
    evidence: Annotated[
        Path | None, typer.Option(help="Compliance evidence (certificates, V5C, letters)")
    ] = None,
    autopay: Annotated[Path | None, typer.Option(help="Auto Pay accounts file")] = None,
    day: Annotated[
        list[str] | None, typer.Option(help="Charge days (default: all in reads)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Stateless: evaluate files only, with no data directory, and write liabilities."""
    result = run_or_exit(
        lambda: evaluate_files(
            reads=reads,
            cameras=cameras,
            vehicles=vehicles,
            payments=payments,
            registrations=registrations,
            evidence=evidence,
            autopay=autopay,
            days=[date.fromisoformat(d) for d in day] if day else None,
            out=out_path,
            refunds_out=refunds_out,
        )
    )
    payload = {
        "out": str(out_path),
        "reads_received": result.reads_received,
        "reads_refused": result.reads_refused,
        "liabilities": result.liabilities,
        "by_status": result.by_status,
        "days": [
            {
                "charge_day": d.charge_day.isoformat(),
                "vehicles_seen": d.sightings,
                "not_liable": d.not_liable,
                "unidentified": d.unidentified,
                "misreads_absorbed": d.absorbed,
                "register_contradictions": d.contradicted,
                "refunds": d.refunds,
                "refunds_pence": d.refunds_pence,
                "schemes": {s: r.version_id for s, r in d.rules.items()},
            }
            for d in result.days
        ],
    }
    if as_json:
        emit_json(payload)
        return
    out.print(
        f"{result.liabilities:,} liabilities from {result.reads_received:,} reads "
        f"({sum(result.reads_refused.values()):,} refused) written to {out_path}"
    )
    out.print(
        table(
            "Liabilities by status",
            ["status", "rows"],
            [[k, f"{v:,}"] for k, v in result.by_status.items()],
        )
    )


@app.command("run")
def run_command(
    day: Annotated[str, typer.Option(help="The charge day (YYYY-MM-DD)")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stored mode: charge a day of the read store; liabilities are saved."""
    ws = open_workspace(data_dir)
    result = run_or_exit(lambda: run_stored(ws, date.fromisoformat(day), now=utc_now()))
    payload = asdict(result)
    if as_json:
        emit_json(payload)
        return
    out.print(
        f"Charge day {result.charge_day}: {result.reads:,} reads, {result.vehicles_seen:,} "
        f"vehicle sightings; {result.misreads_absorbed:,} misreads absorbed, "
        f"{result.unidentified:,} unidentified, {result.register_contradictions:,} held where "
        f"cameras saw another vehicle than the register holds; "
        f"{result.amount_due_pence / 100:,.2f} GBP unpaid; {result.refunds_due:,} refunds due "
        f"({result.refunds_due_pence / 100:,.2f} GBP) ({result.seconds:.1f}s)"
    )
    if result.refunds_issued_not_due:
        out.print(
            "Refunds already issued that this run no longer finds due (kept, to settle by "
            f"hand): {', '.join(map(str, result.refunds_issued_not_due))}"
        )
    out.print(
        table(
            "Liabilities by status",
            ["status", "rows"],
            [[k, f"{v:,}"] for k, v in result.by_status.items()],
        )
    )


@app.command("liabilities")
def liabilities_command(
    day: Annotated[str, typer.Option(help="The charge day (YYYY-MM-DD)")],
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows")] = 50,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Liabilities a stored charge run decided (pseudonymised: no clear VRM)."""
    ws = open_workspace(data_dir)
    rows = list_liabilities(ws, date.fromisoformat(day), status=status, limit=limit)
    cols = ["id", "scheme_id", "vrm_pseudonym", "amount_pence", "status", "rule", "reason"]
    emit_rows(rows, cols, f"{len(rows)} liabilities", as_json)


@app.command("review")
def review_command(
    liability_id: Annotated[int, typer.Argument(help="The liability's id (charge liabilities)")],
    outcome: Annotated[str, typer.Option(help="charge (it stands) or dismiss (no charge)")],
    by: Annotated[str, typer.Option(help="Who decided")],
    why: Annotated[str, typer.Option(help="What the evidence showed")],
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Settle a liability the charge run sent to review: the charge stands, or is dismissed."""
    ws = open_workspace(data_dir)
    row = run_or_exit(
        lambda: review_liability(ws, liability_id, outcome, by=by, why=why, now=at_or_now(at))
    )
    if as_json:
        emit_json(row)
        return
    out.print(f"Liability {row['id']} ({row['rule']}): {row['status']}, decided by {by}.")
