"""`ringfence instruments`: the legal instruments for police access, their coverage, revocation
and the directions recorded under them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit,
    emit_json,
    emit_rows,
    in_workspace,
    out,
    parse_date,
    run_or_exit,
    table,
    utc_now,
)
from ringfence.domain.sharing import GovernanceBook, Instrument
from ringfence.services import governance

app = typer.Typer(
    help="Legal instruments for police access: list, show, coverage, revoke, directions.",
    no_args_is_help=True,
)
OnOption = Annotated[
    str | None, typer.Option("--on", help="The day (YYYY-MM-DD; default today)", show_default=False)
]


def parse_day(text: str | None) -> date:
    """An `--on` day, today by default."""
    return utc_now().date() if text is None else parse_date(text)


def _instrument_json(i: Instrument, day: date, book: GovernanceBook) -> dict[str, object]:
    conditions = {
        n: {c: book.condition_met(c, n, sorted(i.purposes)[0], day) for c in sorted(i.conditions)}
        for n in sorted(i.networks)
    }
    return {
        "instrument_id": i.instrument_id,
        "reference": i.reference,
        "title": i.title,
        "signer": i.signer,
        "signed_on": i.signed_on.isoformat(),
        "effective_from": i.effective_from.isoformat(),
        "effective_to": None if i.effective_to is None else i.effective_to.isoformat(),
        "revoked_on": None if i.revoked_on is None else i.revoked_on.isoformat(),
        "status": governance.instrument_status(i, day),
        "networks": sorted(i.networks),
        "data_classes": sorted(i.data_classes),
        "recipients": sorted(i.recipients),
        "purposes": sorted(i.purposes),
        "uses": sorted(i.uses),
        "conditions": conditions,
    }


@app.command("list")
def list_command(
    on: OnOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Every instrument with its status on a day (in force, revoked, lapsed, not yet)."""
    day = parse_day(on)
    book = in_workspace(data_dir, governance.current_book)
    rows = [_instrument_json(i, day, book) for i in book.instruments]
    cols = ["instrument_id", "reference", "status", "networks", "data_classes", "uses"]
    emit_rows(rows, cols, f"Instruments on {day}", as_json)


@app.command("show")
def show_command(
    instrument_id: Annotated[str, typer.Argument(help="The instrument id")],
    on: OnOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """One instrument whole, with each condition per network and the record meeting it."""
    day = parse_day(on)
    book = in_workspace(data_dir, governance.current_book)
    shown = _instrument_json(run_or_exit(lambda: book.instrument(instrument_id)), day, book)
    emit(shown, as_json, "\n".join(f"{k}: {v}" for k, v in shown.items()))


@app.command("coverage")
def coverage_command(
    force: Annotated[str, typer.Option(help="The recipient force")] = "metropolitan_police",
    purpose: Annotated[str, typer.Option(help="The purpose")] = "law_enforcement:serious_crime",
    on: OnOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which networks may be shared with a force for a purpose on a day, and why not."""
    day = parse_day(on)
    rows = in_workspace(
        data_dir, lambda ws: governance.coverage(ws, force=force, purpose=purpose, day=day)
    )
    if as_json:
        emit_json(rows)
        return
    body = [[r["network"], "yes" if r["shared"] else "NO", r["because"]] for r in rows]
    out.print(table(f"Coverage for {force}, {purpose}, {day}", ["network", "shared", "why"], body))


@app.command("revoke")
def revoke_command(
    instrument_id: Annotated[str, typer.Argument(help="The instrument id")],
    by: Annotated[str, typer.Option(help="Who records the revocation")],
    why: Annotated[str, typer.Option(help="Why (e.g. the revoking decision's reference)")],
    on: OnOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an instrument from a day: no release or hotlist match rests on it from then."""
    day = parse_day(on)
    revoked = in_workspace(
        data_dir,
        lambda ws: governance.revoke_instrument(
            ws, instrument_id, on=day, by=by, why=why, now=utc_now()
        ),
    )
    emit(
        {"instrument_id": revoked.instrument_id, "revoked_on": str(revoked.revoked_on)},
        as_json,
        f"{revoked.reference} ({revoked.instrument_id}) revoked from {revoked.revoked_on}",
    )


@app.command("direction")
def direction_command(
    reference: Annotated[str, typer.Option(help="The direction's reference, e.g. MD3100")],
    network: Annotated[list[str], typer.Option(help="A network it covers (repeatable)")],
    signed_on: Annotated[str, typer.Option(help="The day it was signed (YYYY-MM-DD)")],
    by: Annotated[str, typer.Option(help="Who records it")],
    why: Annotated[str, typer.Option(help="Why / where it is published")],
    issuer: Annotated[str, typer.Option(help="Who issued it")] = "mayor",
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a signed direction (e.g. a Mayoral direction to share a network)."""
    signed = parse_date(signed_on)
    d = in_workspace(
        data_dir,
        lambda ws: governance.record_direction(
            ws,
            reference=reference,
            issuer=issuer,
            networks=network,
            signed_on=signed,
            by=by,
            why=why,
            now=utc_now(),
        ),
    )
    emit(
        {"reference": d.reference, "networks": sorted(d.networks), "signed_on": str(d.signed_on)},
        as_json,
        f"Direction {d.reference} recorded: {', '.join(sorted(d.networks))} from {d.signed_on}",
    )
