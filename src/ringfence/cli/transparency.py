"""`ringfence report transparency`: the transparency report for a period (mounted by cli/main)."""

from __future__ import annotations

from datetime import date
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
    utc_now,
)
from ringfence.services.transparency import build_report, write_report

__all__ = ["transparency_command"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def transparency_command(
    start: Annotated[str, typer.Option("--from", help="First London day of the period")],
    end: Annotated[str, typer.Option("--to", help="Last London day of the period (inclusive)")],
    public: Annotated[
        bool,
        typer.Option(
            "--public/--internal",
            help="Public: small-cell tables noisy (differential privacy); spends privacy "
            "budget, so it must be asked for. Internal (default): exact, owner-only files.",
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory for the files. Default: <data-dir>/reports/transparency[/internal]",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts from the audit log, state and read store for a period, as JSON, CSV and HTML."""
    first, last = _day(start), _day(end)
    ws = open_workspace(data_dir)
    try:
        report = run_or_exit(
            lambda: build_report(ws, start=first, end=last, public=public, now=utc_now())
        )
        paths = run_or_exit(lambda: write_report(ws, report, out_dir))
    finally:
        ws.close()
    if as_json:
        emit_json(
            {
                "report_id": report.report_id,
                "visibility": report.visibility,
                "period": report.period,
                "epsilon": str(report.epsilon),
                "budget_epsilon": str(report.budget_epsilon),
                "budget_used": str(report.budget_used),
                "files": {kind: str(path) for kind, path in paths.items()},
            }
        )
        return
    out.print(
        f"{report.visibility} transparency report {report.report_id} for {report.period}: "
        f"epsilon {report.epsilon} spent; the period's busiest day has borne "
        f"{report.budget_used} of {report.budget_epsilon}"
    )
    out.print(table("Files", ["kind", "path"], [[k, str(p)] for k, p in paths.items()]))
