"""`ringfence plates`: look at registration marks (VRMs) the way the ingest engine will.

Pure inspection: nothing is read from or written to the data directory.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ringfence.cli._common import JsonOption, emit_json
from ringfence.domain.vrm import VRMInfo, classify, confusion_key

app = typer.Typer(
    help="Check vehicle registration marks: format class, age hint and confusion key.",
    no_args_is_help=True,
)

HINT_CAPTION = (
    "Registration dates and regions are hints. A shared confusion key is evidence for review, "
    "never on its own a basis for a charge or an alert."
)


def _today() -> date:
    """The clock, in one place so tests can replace it."""
    return date.today()


def _parse_as_of(value: str | None) -> date:
    if value is None:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date (YYYY-MM-DD)", param_hint="--as-of"
        ) from exc


def _as_record(text: str, info: VRMInfo) -> dict[str, Any]:
    return {
        "input": text,
        "vrm": info.vrm,
        "vrm_class": info.vrm_class.value,
        "reason": info.reason,
        "registered_from": info.registered_from.isoformat() if info.registered_from else None,
        "registered_to": info.registered_to.isoformat() if info.registered_to else None,
        "memory_tag_region": info.memory_tag_region,
        "confusion_key": confusion_key(info.vrm),
    }


def _note(info: VRMInfo) -> str:
    if info.reason is not None:
        return info.reason
    if info.memory_tag_region is not None:
        return f"memory tag region: {info.memory_tag_region}"
    if info.age_identifier is not None:
        return f"year letter {info.age_identifier}"
    return ""


@app.command("check")
def check_command(
    vrms: Annotated[
        list[str],
        typer.Argument(metavar="VRM", help="Marks as read, any case; quote ones with spaces."),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Judge which age identifiers were issued by this ISO date. Default: today.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Normalise and classify each VRM; show its registration half-year hint and confusion key."""
    day = _parse_as_of(as_of)
    results = [(text, classify(text, as_of=day)) for text in vrms]
    if json_output:
        emit_json([_as_record(text, info) for text, info in results])
        return

    table = Table(title=f"Registration marks as of {day.isoformat()}", caption=HINT_CAPTION)
    for column in ("Read", "VRM", "Class", "Registered (hint)", "Confusion key", "Note"):
        table.add_column(column)
    for text, info in results:
        registered = (
            f"{info.registered_from.isoformat()} to {info.registered_to.isoformat()}"
            if info.registered_from is not None and info.registered_to is not None
            else ""
        )
        cells = (text, info.vrm, info.vrm_class.value, registered, confusion_key(info.vrm))
        # Text, not str: a read such as "[AB12]" must not be taken for Rich markup.
        table.add_row(*(Text(cell) for cell in (*cells, _note(info))))
    Console(emoji=False).print(table)
