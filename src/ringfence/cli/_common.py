"""Options and rendering shared by every command."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ringfence.errors import RingfenceError
from ringfence.workspace import Workspace

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
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When it happened (ISO 8601; default: now)", show_default=False),
]

# No emoji codes: rule ids such as "compliance:motorcycle:registration_date" are data, and Rich
# would print ":motorcycle:" as a picture.
console = Console(stderr=True, emoji=False)
out = Console(emoji=False)
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
        # One unwrapped line: paths and ids in messages must survive copy and paste.
        console.print(Text.assemble(("error:", "bold red"), " ", str(exc)), soft_wrap=True)
        raise typer.Exit(code=2) from exc


def open_workspace(data_dir: Path | None) -> Workspace:
    ws = run_or_exit(lambda: Workspace.open(data_dir_or_default(data_dir)))
    ws.actor = f"cli:{getpass.getuser()}"  # who the audit log names for this command
    return ws


def in_workspace(data_dir: Path | None, action: Callable[[Workspace], T]) -> T:
    """Open the workspace, run one service call in it (errors as one red line), close it."""
    ws = open_workspace(data_dir)
    try:
        return run_or_exit(lambda: action(ws))
    finally:
        ws.close()


def emit(payload: Any, as_json: bool, line: str) -> None:
    """The command's result: the payload as JSON with --json, else one line for people."""
    if as_json:
        emit_json(payload)
    else:
        out.print(line)


def utc_now() -> datetime:
    return datetime.now(UTC)


def at_or_now(text: str | None) -> datetime:
    """The instant an `--at` option gives, or now."""
    return parse_instant(text) if text else utc_now()


def parse_date(text: str) -> date:
    """A calendar day from the command line (YYYY-MM-DD), or a usage error naming it."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant from the command line; a bare date means its London midnight."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or date-time") from exc
    if value.tzinfo is None:
        if len(text) == 10:
            return value.replace(tzinfo=ZoneInfo("Europe/London"))
        raise typer.BadParameter(f"{text!r} has no UTC offset; add one, e.g. +00:00")
    return value


def emit_rows(rows: list[dict[str, Any]], cols: list[str], title: str, as_json: bool) -> None:
    """A listing: every row as JSON with --json, else these columns as a table for people."""
    if as_json:
        emit_json(rows)
        return
    out.print(table(title, cols, [[r[c] for c in cols] for r in rows]))


def table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    out = Table(title=title, title_justify="left")
    for c in columns:
        out.add_column(c)
    for r in rows:
        out.add_row(*("" if v is None else str(v) for v in r))
    return out


def stage_progress(*, quiet: bool, transient: bool = False) -> Progress:
    """Bars for work reported as `progress(stage, done, total)`, on stderr; hidden when quiet."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=transient,
    )
