"""Options and rendering shared by every command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from ringfence.errors import RingfenceError

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="RINGFENCE_HOME",
        help="Where all Ringfence state lives. Default: ./ringfence-data",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

console = Console(stderr=True)
T = TypeVar("T")


def data_dir_or_default(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else Path("ringfence-data")


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def run_or_exit(action: Callable[[], T]) -> T:
    """Run a service call; turn a deliberate RingfenceError into one red line and exit code 2."""
    try:
        return action()
    except RingfenceError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
