"""`ringfence simulate`: write a synthetic London (cameras, register, reads, truth)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    console,
    data_dir_or_default,
    emit_json,
    run_or_exit,
)
from ringfence.simulate import READS_FORMATS, SimulationSummary, simulate


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def simulate_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write into. Default: <data-dir>/incoming",
            show_default=False,
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--day", help="First charge day (YYYY-MM-DD). Default: today.", show_default=False
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Number of charge days.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same files.")] = 0,
    scale: Annotated[
        str,
        typer.Option("--scale", help="tiny, small (1 %), medium (10 %), full, or a fraction."),
    ] = "small",
    reads_format: Annotated[
        str,
        typer.Option("--format", help=f"Reads file format: {', '.join(READS_FORMATS)}."),
    ] = "parquet",
    json_output: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Simulate London's ANPR cameras, vehicle register and a day's reads (with the truth)."""
    first_day = _parse_day(day)
    out_dir = out if out is not None else data_dir_or_default(data_dir) / "incoming"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=json_output,
        disable=not console.is_terminal,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        summary = run_or_exit(
            lambda: simulate(
                out_dir,
                day=first_day,
                seed=seed,
                scale=scale,
                days=days,
                reads_format=reads_format,
                progress=progress,
            )
        )
    if json_output:
        emit_json(summary.to_dict())
        return
    console.print(_summary_table(summary))


def _summary_table(summary: SimulationSummary) -> Table:
    table = Table(
        title=f"Synthetic London in {summary.out_dir} (seed {summary.seed}, {summary.scale})"
    )
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("detail")
    table.add_row(summary.cameras_path.name, f"{summary.cameras:,}", "camera network")
    table.add_row(summary.vehicles_path.name, f"{summary.vehicles:,}", "vehicle register")
    for d in summary.days:
        kinds = ", ".join(f"{k} {v:,}" for k, v in d.reads_by_kind.items())
        table.add_row(d.reads_path.name, f"{d.reads:,}", kinds)
        table.add_row(
            d.truth_path.name,
            f"{d.reads:,}",
            f"{d.trips:,} trips by {d.active_vehicles:,} vehicles",
        )
    return table
