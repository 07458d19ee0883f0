"""`ringfence ingest`: take files of camera reads into the store."""

from __future__ import annotations

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
    stage_progress,
    table,
    utc_now,
)
from ringfence.services.ingest import STAGES, IngestReport, ingest_file
from ringfence.workspace import Workspace


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files of reads: .csv, .jsonl, .parquet")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: by suffix)")
    ] = None,
    compact: Annotated[
        bool, typer.Option(help="Sort and compact the touched days after the batch.")
    ] = True,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate, pseudonymise and store reads; quarantine what cannot be accepted."""
    ws = open_workspace(data_dir)
    reports = [ingest_one(ws, p, fmt=fmt, compact=compact, quiet=as_json) for p in paths]
    if as_json:
        emit_json([r.as_dict() for r in reports] if len(reports) > 1 else reports[0].as_dict())
        return
    for r in reports:
        render(r)
    if not all(r.reconciles for r in reports):  # pragma: no cover - guarded in the service
        raise typer.Exit(code=1)


def ingest_one(
    ws: Workspace, path: Path, *, fmt: str | None, compact: bool, quiet: bool
) -> IngestReport:
    """Ingest one file with a Rich progress bar on stderr (hidden with --json)."""
    with stage_progress(quiet=quiet, transient=True) as bar:
        task = bar.add_task(f"ingest {path.name}", total=STAGES, stage="")

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, stage=stage)

        return run_or_exit(
            lambda: ingest_file(ws, path, now=utc_now(), fmt=fmt, progress=tick, compact=compact)
        )


def render(r: IngestReport) -> None:
    out.print(
        f"[bold]{r.source}[/]: received {r.received:,} = stored {r.stored:,} + duplicates "
        f"{r.duplicates:,} + quarantined {r.quarantined:,} "
        f"({'reconciles' if r.reconciles else 'DOES NOT RECONCILE'}) in {r.seconds:.1f}s"
    )
    for note in r.recovered:
        out.print(f"[yellow]recovered:[/] {note}")
    if r.quarantine_by_reason:
        out.print(
            table(
                "Quarantined by reason",
                ["reason", "rows"],
                [[k, f"{v:,}"] for k, v in r.quarantine_by_reason.items()],
            )
        )
