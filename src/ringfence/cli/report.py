"""`ringfence report`: oversight reports (equality, unicity) as JSON, CSV and HTML files."""

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
)
from ringfence.cli.transparency import transparency_command
from ringfence.services.oversight_equality import equality_report, report_json
from ringfence.services.oversight_unicity import unicity_json, unicity_report

app = typer.Typer(
    help="Oversight reports: transparency, equality and re-identification risk.",
    no_args_is_help=True,
)
app.command("transparency")(transparency_command)

DayOption = Annotated[
    list[str] | None,
    typer.Option("--day", help="A charge day (YYYY-MM-DD); repeat for more. Default: all stored."),
]
DaysOption = Annotated[
    int | None, typer.Option("--days", help="The last N stored charge days instead of --day.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder to write the report files into.")]


def _days(ws_days: list[date], day: list[str] | None, days: int | None) -> list[date] | None:
    if day:
        try:
            return [date.fromisoformat(d) for d in day]
        except ValueError as exc:
            raise typer.BadParameter(f"--day: {exc}") from exc
    if days is not None:
        return ws_days[-days:] if days > 0 else []
    return None


def _print_paths(paths: dict[str, Path]) -> None:
    out.print(table("Files written", ["", "path"], [[k, str(v)] for k, v in paths.items()]))


@app.command("equality")
def equality_command(
    day: DayOption = None,
    days: DaysOption = None,
    out_dir: OutOption = Path("ringfence-reports"),
    keepers: Annotated[
        Path | None,
        typer.Option(
            "--keepers",
            help="Register file with vrm and keeper_msoa21cd (e.g. the simulator's "
            "vehicles.parquet): attributes vehicles read, PCNs and requests to residents.",
        ),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="Only these sharing scenarios (names in [oversight])."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Indicators per borough and MSOA against ethnic composition; rings of steel; maps."""
    ws = open_workspace(data_dir)
    try:
        chosen = _days(ws.reads.days(), day, days)
        report, paths = run_or_exit(
            lambda: equality_report(ws, out_dir, days=chosen, keepers=keepers, scenarios=scenario)
        )
    finally:
        ws.close()
    if as_json:
        emit_json({"paths": {k: str(v) for k, v in paths.items()}, "report": report_json(report)})
        return
    rows: list[list[object]] = [
        [a.level, a.indicator, a.composition, f"{a.correlation.rho:+.2f}", a.finding]
        for a in report.associations
        if a.composition == "pct_not_white_british"
    ]
    out.print(
        table(
            "Findings (share not White British)", ["level", "indicator", "", "rho", "finding"], rows
        )
    )
    _print_paths(paths)


@app.command("unicity")
def unicity_command(
    day: DayOption = None,
    days: DaysOption = None,
    out_dir: OutOption = Path("ringfence-reports"),
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Share of vehicles singled out by k known sightings, per resolution and key rotation."""
    ws = open_workspace(data_dir)
    try:
        chosen = _days(ws.reads.days(), day, days)
        report, paths = run_or_exit(lambda: unicity_report(ws, out_dir, days=chosen))
    finally:
        ws.close()
    if as_json:
        emit_json({"paths": {k: str(v) for k, v in paths.items()}, "report": unicity_json(report)})
        return
    for s in report.statements:
        out.print(f"- {s}")
    _print_paths(paths)


@app.command("all")
def all_command(
    first: Annotated[str, typer.Option("--from", help="Transparency period: first London day")],
    last: Annotated[str, typer.Option("--to", help="Transparency period: last London day")],
    day: DayOption = None,
    days: DaysOption = None,
    out_dir: OutOption = Path("ringfence-reports"),
    keepers: Annotated[
        Path | None, typer.Option("--keepers", help="A register file with keepers' MSOAs.")
    ] = None,
    public: Annotated[
        bool, typer.Option("--public/--internal", help="Also publish (spends privacy budget).")
    ] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every oversight report (equality, unicity, DPIA evidence, transparency) and an index page
    linking them."""
    from ringfence.cli._common import utc_now
    from ringfence.services.reports import write_all

    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise typer.BadParameter(f"--from/--to: {exc}") from exc
    ws = open_workspace(data_dir)
    try:
        chosen = _days(ws.reads.days(), day, days)
        index = run_or_exit(
            lambda: write_all(
                ws,
                out_dir,
                now=utc_now(),
                start=start,
                end=end,
                days=chosen,
                keepers=keepers,
                public=public,
            )
        )
    finally:
        ws.close()
    if as_json:
        emit_json({"index": str(index)})
        return
    out.print(f"Oversight reports: {index}")
