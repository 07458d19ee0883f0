"""`ringfence dpia`: data-protection impact assessments of sharing camera networks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit,
    emit_json,
    emit_rows,
    in_workspace,
    out,
    parse_date,
    utc_now,
)
from ringfence.services import governance

app = typer.Typer(help="DPIAs of sharing camera networks: list, record.", no_args_is_help=True)


@app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every DPIA recorded (in the instruments file and since), with whether it counts today."""
    today = utc_now().date()
    book = in_workspace(data_dir, governance.current_book)
    rows = [
        {
            "dpia_id": d.dpia_id,
            "version": d.version,
            "status": d.status,
            "counts_today": d.is_approved(today),
            "networks": sorted(d.networks),
            "purposes": sorted(d.purposes),
            "approved_on": None if d.approved_on is None else d.approved_on.isoformat(),
            "review_on": None if d.review_on is None else d.review_on.isoformat(),
            "equality_impact_ref": d.equality_impact_ref,
        }
        for d in book.dpias
    ]
    cols = ["dpia_id", "version", "status", "counts_today", "networks", "review_on"]
    emit_rows(rows, cols, f"{len(rows)} DPIAs", as_json)


@app.command("record")
def record_command(
    dpia_id: Annotated[str, typer.Option("--id", help="The DPIA's id")],
    version: Annotated[str, typer.Option(help="Its version")],
    network: Annotated[list[str], typer.Option(help="A network assessed (repeatable)")],
    purpose: Annotated[list[str], typer.Option(help="A purpose assessed (repeatable)")],
    status: Annotated[str, typer.Option(help="draft|approved|expired|withdrawn")],
    by: Annotated[str, typer.Option(help="Who records it (e.g. the DPO)")],
    why: Annotated[str, typer.Option(help="Why / the approving body and minute")],
    approved_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD, if approved")] = None,
    review_on: Annotated[str | None, typer.Option(help="Stops counting on this day")] = None,
    equality_ref: Annotated[
        str | None, typer.Option(help="The equality impact assessment's reference")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a DPIA or a new version of one (an approved DPIA counts from --approved-on)."""
    approved = None if approved_on is None else parse_date(approved_on)
    review = None if review_on is None else parse_date(review_on)
    d = in_workspace(
        data_dir,
        lambda ws: governance.record_dpia(
            ws,
            dpia_id=dpia_id,
            version=version,
            networks=network,
            purposes=purpose,
            status=status,
            approved_on=approved,
            review_on=review,
            equality_impact_ref=equality_ref,
            by=by,
            why=why,
            now=utc_now(),
        ),
    )
    emit(
        {"dpia_id": d.dpia_id, "version": d.version, "status": d.status},
        as_json,
        f"DPIA {d.dpia_id} v{d.version} recorded ({d.status})",
    )


@app.command("evidence")
def evidence_command(
    proposal: Annotated[
        str, typer.Option(help="A packaged proposal (e.g. london_wide_sharing) or a .toml file")
    ] = "london_wide_sharing",
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the pack")] = Path(
        "reports"
    ),
    day: Annotated[
        list[str] | None, typer.Option(help="A charge day to measure (default: all stored)")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the DPIA evidence pack (Markdown and HTML) for a proposed change to police access:
    evidence to decide with, not a decision."""
    from ringfence.services.dpia_evidence import load_proposal, write_evidence

    chosen = None if not day else [parse_date(d) for d in day]
    paths = in_workspace(
        data_dir,
        lambda ws: write_evidence(ws, load_proposal(proposal), out_dir, days=chosen, now=utc_now()),
    )
    if as_json:
        emit_json({k: str(v) for k, v in paths.items()})
        return
    for kind, path in paths.items():
        out.print(f"{kind}: {path}")
