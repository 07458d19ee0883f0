"""`ringfence hotlist`: police hotlist entries, their hits and the human review of each hit."""

from __future__ import annotations

from typing import Annotated

import typer

from ringfence.cli._common import (
    AtOption,
    DataDirOption,
    JsonOption,
    at_or_now,
    emit,
    emit_rows,
    in_workspace,
    parse_date,
)
from ringfence.policy import Officer
from ringfence.services import hotlist

app = typer.Typer(
    help="Police hotlists: add, list, remove, expire; hits, their cards and reviews.",
    no_args_is_help=True,
)


@app.command("add")
def add_command(
    vrm: Annotated[str, typer.Argument(help="The VRM to watch for")],
    officer: Annotated[str, typer.Option(help="The officer adding it")],
    rank: Annotated[str, typer.Option(help="Their rank")],
    force: Annotated[str, typer.Option(help="Their force, as instruments name it")],
    reason: Annotated[str, typer.Option(help="Why the vehicle is wanted")],
    purpose: Annotated[str, typer.Option(help="e.g. law_enforcement:serious_crime")],
    legal_basis: Annotated[str, typer.Option(help="e.g. DPA2018_Part3")],
    case_ref: Annotated[str, typer.Option(help="The case reference")],
    network: Annotated[list[str], typer.Option(help="A network to watch (repeatable)")],
    expires_on: Annotated[str, typer.Option(help="Last day it matches (YYYY-MM-DD)")],
    marker: Annotated[
        list[str] | None, typer.Option(help="A warning marker, e.g. firearms (repeatable)")
    ] = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an entry (the policy checks networks, purpose, basis and expiry)."""
    when, last = at_or_now(at), parse_date(expires_on)
    entry = in_workspace(
        data_dir,
        lambda ws: hotlist.add_entry(
            ws,
            officer=Officer(officer, rank, force),
            vrm=vrm,
            reason=reason,
            purpose=purpose,
            legal_basis=legal_basis,
            case_ref=case_ref,
            networks=network,
            expires_on=last,
            warning_markers=marker or [],
            now=when,
        ),
    )
    emit(entry, as_json, f"Hotlist entry {entry['entry_id']} active to {entry['expires_on']}")


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="active|expired|removed")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hotlist entries, oldest first."""
    rows = in_workspace(data_dir, lambda ws: hotlist.list_entries(ws, status=status))
    cols = ["entry_id", "vrm", "status", "force", "case_ref", "networks", "expires_on"]
    emit_rows(rows, cols, f"{len(rows)} hotlist entries", as_json)


@app.command("remove")
def remove_command(
    entry_id: Annotated[str, typer.Argument(help="The entry id")],
    by: Annotated[str, typer.Option(help="Who removes it")],
    why: Annotated[str, typer.Option(help="Why")],
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take an entry off the hotlist before its expiry."""
    when = at_or_now(at)
    in_workspace(data_dir, lambda ws: hotlist.remove_entry(ws, entry_id, by=by, why=why, now=when))
    emit({"entry_id": entry_id, "status": "removed"}, as_json, f"Hotlist entry {entry_id} removed")


@app.command("expire")
def expire_command(
    at: AtOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Mark entries past their last day expired (matching does this itself, too)."""
    when = at_or_now(at)
    ids = in_workspace(data_dir, lambda ws: hotlist.expire_entries(ws, when))
    emit({"expired": ids}, as_json, f"{len(ids)} entries expired")


@app.command("hits")
def hits_command(
    status: Annotated[str | None, typer.Option(help="pending|confirmed|misread|no_action")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hits, in the order the reads were taken."""
    rows = in_workspace(data_dir, lambda ws: hotlist.list_hits(ws, status=status))
    cols = ["hit_id", "vrm", "status", "camera_id", "captured_at", "confidence", "historical"]
    emit_rows(rows, cols, f"{len(rows)} hits", as_json)


@app.command("card")
def card_command(
    hit_id: Annotated[str, typer.Argument(help="The hit id")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the reviewer checks: the read, its image, markers and confusable registered plates."""
    card = in_workspace(data_dir, lambda ws: hotlist.hit_card(ws, hit_id))
    emit(card, as_json, "\n".join(f"{k}: {v}" for k, v in card.items()))


@app.command("review")
def review_command(
    hit_id: Annotated[str, typer.Argument(help="The hit id")],
    outcome: Annotated[str, typer.Option(help="confirmed|misread|no_action")],
    by: Annotated[str, typer.Option(help="Who compared the image with the text")],
    note: Annotated[str, typer.Option(help="What the image shows")],
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the human confirmation of a hit."""
    when = at_or_now(at)
    hit = in_workspace(
        data_dir, lambda ws: hotlist.review_hit(ws, hit_id, outcome, by=by, note=note, now=when)
    )
    emit(hit, as_json, f"Hit {hit_id}: {hit['status']}")


@app.command("search-past")
def search_past_command(
    entry_id: Annotated[str, typer.Argument(help="The entry id")],
    request: Annotated[str, typer.Option(help="The approved request allowing the search")],
    by: Annotated[str, typer.Option(help="Who runs the search")],
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Historical hits of an entry, within an approved vehicle-history request's scope."""
    when = at_or_now(at)
    ids = in_workspace(
        data_dir, lambda ws: hotlist.search_past(ws, entry_id, request, by=by, now=when)
    )
    emit({"hits": ids}, as_json, f"{len(ids)} historical hits")
