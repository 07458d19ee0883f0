"""`ringfence register`: the vehicle register, registrations and payments the charge run uses."""

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
)
from ringfence.services.charging import REGISTER_FILES, import_register_file

app = typer.Typer(help="Vehicle register, registrations and payments.", no_args_is_help=True)


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(REGISTER_FILES)}")],
    path: Annotated[Path, typer.Argument(help="The file (.csv, .parquet or .jsonl)")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a file and keep it in the data directory, replacing the previous one."""
    ws = open_workspace(data_dir)
    result = run_or_exit(lambda: import_register_file(ws, kind, path))
    if as_json:
        emit_json({"kind": result.kind, "rows": result.rows, "path": str(result.path)})
    else:
        out.print(f"{result.rows:,} {result.kind} rows kept in {result.path}")
