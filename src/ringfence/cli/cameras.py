"""`ringfence cameras`: register and list the camera network."""

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
    table,
)
from ringfence.services.cameras import import_cameras

app = typer.Typer(help="Register and list the camera network.", no_args_is_help=True)


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="cameras.csv or cameras.parquet")],
    replace: Annotated[bool, typer.Option(help="Remove cameras not in this file.")] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register cameras (new ones added, known ones updated)."""
    ws = open_workspace(data_dir)
    result = run_or_exit(lambda: import_cameras(ws, path, replace=replace))
    if as_json:
        emit_json({"source": result.source, "cameras": result.cameras, "networks": result.networks})
        return
    out.print(f"Registered {result.cameras} cameras from {result.source}")
    out.print(
        table(
            "Cameras by network", ["network", "cameras"], [list(i) for i in result.networks.items()]
        )
    )


@app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """List registered cameras."""
    ws = open_workspace(data_dir)
    cams = ws.cameras_table().to_pylist()
    if as_json:
        emit_json(cams)
        return
    cols = [
        "camera_id",
        "network",
        "enforces",
        "borough_gss",
        "site_kind",
        "commissioned_on",
        "decommissioned_on",
    ]
    out.print(table(f"{len(cams)} cameras", cols, [[c[k] for k in cols] for c in cams]))
