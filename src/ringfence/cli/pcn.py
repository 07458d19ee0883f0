"""`ringfence pcn`: issue penalty charge notices for unpaid charges and drive them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from ringfence.cli._common import (
    AtOption,
    DataDirOption,
    JsonOption,
    at_or_now,
    emit_json,
    emit_rows,
    open_workspace,
    out,
    run_or_exit,
    table,
    utc_now,
)
from ringfence.domain.penalties import LONDON_TZ, PCN
from ringfence.services import penalties
from ringfence.workspace import Workspace

app = typer.Typer(
    help="Penalty charge notices: issue, pay, challenge, advance.", no_args_is_help=True
)

ByOption = Annotated[str, typer.Option("--by", help="Who is acting (operator, keeper...)")]


def _pounds_to_pence(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise typer.BadParameter(f"{text!r} is not an amount in pounds, e.g. 90.00") from exc
    pence = value * 100
    if pence != pence.to_integral_value() or pence <= 0:
        raise typer.BadParameter(f"{text!r} is not a positive amount in whole pence")
    return int(pence)


def _render(pcn: PCN, as_json: bool) -> None:
    last = pcn.history[-1]
    payload = {
        "pcn_id": pcn.pcn_id,
        "state": str(pcn.state),
        "amount_due_pence": last.amount_due_pence,
        "event": {"action": str(last.action), "at": last.at.isoformat(), "why": last.why},
    }
    if as_json:
        emit_json(payload)
        return
    out.print(f"PCN {pcn.pcn_id}: {last.action} -> {pcn.state}. {last.why}")
    out.print(f"Amount due: {last.amount_due_pence / 100:,.2f} GBP")


def _drive(data_dir: DataDirOption, as_json: bool, step: Callable[[Workspace], PCN]) -> None:
    ws = open_workspace(data_dir)
    try:
        _render(run_or_exit(lambda: step(ws)), as_json)
    finally:
        ws.close()


@app.command("issue")
def issue_command(
    day: Annotated[str, typer.Option(help="The charge day (YYYY-MM-DD)")],
    by: ByOption,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a PCN (or warning notice) for every unpaid liability of a day whose window closed."""
    ws = open_workspace(data_dir)
    try:
        report = run_or_exit(
            lambda: penalties.issue_notices(ws, date.fromisoformat(day), now=utc_now(), by=by)
        )
    finally:
        ws.close()
    if as_json:
        emit_json(asdict(report))
        return
    out.print(
        f"Charge day {report.charge_day}: {report.pcns:,} PCNs and {report.warnings:,} warning "
        f"notices posted {report.issued_on}; {report.already_noticed:,} already noticed, "
        f"{report.unrecoverable:,} without a recoverable VRM"
    )
    out.print(
        table("Notices by scheme", ["scheme", "notices"], list(map(list, report.by_scheme.items())))
    )


@app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option(help="Only notices in this state")] = None,
    day: Annotated[str | None, typer.Option(help="Only this charge day")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 100,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Penalty notices (amount as of each notice's last event)."""
    ws = open_workspace(data_dir)
    try:
        rows = penalties.list_notices(
            ws,
            state=state,
            charge_day=date.fromisoformat(day) if day else None,
            limit=limit,
        )
    finally:
        ws.close()
    cols = ["pcn_id", "scheme_id", "charge_day", "vrm", "state", "amount_due_pence", "served_on"]
    emit_rows(rows, cols, f"{len(rows)} notices", as_json)


@app.command("show")
def show_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    on: Annotated[str | None, typer.Option(help="As of this date (default: today)")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """One notice: state and amount due today, deadlines, history and evidence."""
    ws = open_workspace(data_dir)
    try:
        shown = run_or_exit(
            lambda: penalties.show(ws, pcn_id, date.fromisoformat(on) if on else None)
        )
    finally:
        ws.close()
    if as_json:
        emit_json(shown)
        return
    amount = int(str(shown["amount_due_pence"]))
    out.print(
        f"PCN {shown['pcn_id']} ({shown['scheme_id']}, {shown['charge_day']}, {shown['vrm']}): "
        f"{shown['state']} on {shown['as_of']}, {amount / 100:,.2f} GBP due"
    )
    deadlines = shown["deadlines"]
    assert isinstance(deadlines, dict)
    out.print(table("Deadlines", ["what", "date"], [[k, v] for k, v in deadlines.items()]))
    history = shown["history"]
    assert isinstance(history, list)
    out.print(
        table(
            "History",
            ["at", "action", "state", "by", "due", "why"],
            [
                [e["at"], e["action"], e["state"], e["by"], e["amount_due_pence"], e["why"]]
                for e in history
            ],
        )
    )


@app.command("pay")
def pay_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    amount: Annotated[str, typer.Option(help="Amount received in pounds, e.g. 90.00")],
    by: ByOption,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a payment: settles the notice if it covers the amount due."""
    pence = _pounds_to_pence(amount)
    when = at_or_now(at)
    _drive(data_dir, as_json, lambda ws: penalties.pay(ws, pcn_id, pence, when, by))


@app.command("represent")
def represent_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    ground: Annotated[str, typer.Option(help="Statutory ground: a-f or its name")],
    statement: Annotated[str, typer.Option(help="The keeper's statement")],
    by: ByOption,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a representation on one of the six statutory grounds."""
    when = at_or_now(at)
    _drive(
        data_dir,
        as_json,
        lambda ws: penalties.represent(ws, pcn_id, ground, statement, when, by),
    )


@app.command("decide")
def decide_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept or reject")],
    reason: Annotated[str, typer.Option(help="Reason for the decision")],
    by: ByOption,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide a representation: notice of acceptance (cancelled) or of rejection."""
    when = at_or_now(at)
    _drive(
        data_dir,
        as_json,
        lambda ws: penalties.decide_representation(ws, pcn_id, accept, reason, when, by),
    )


@app.command("appeal")
def appeal_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    by: ByOption,
    statement: Annotated[str, typer.Option(help="The appellant's statement")] = "",
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lodge an appeal to the adjudicator against a notice of rejection."""
    when = at_or_now(at)
    _drive(data_dir, as_json, lambda ws: penalties.appeal(ws, pcn_id, when, by, statement))


@app.command("adjudicate")
def adjudicate_command(
    pcn_id: Annotated[str, typer.Argument(help="The PCN id")],
    allowed: Annotated[
        bool, typer.Option("--allowed/--refused", help="The adjudicator's decision")
    ],
    by: ByOption,
    reason: Annotated[str, typer.Option(help="Reason for the decision")] = "",
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the adjudicator's decision on an appeal."""
    when = at_or_now(at)
    _drive(
        data_dir,
        as_json,
        lambda ws: penalties.decide_appeal(ws, pcn_id, allowed, when, by, reason),
    )


@app.command("advance")
def advance_command(
    on: Annotated[
        str | None, typer.Option(help="Apply what is due by this date (default: today)")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Charge certificates and orders for recovery now due, for every live notice."""
    day = date.fromisoformat(on) if on else datetime.now(LONDON_TZ).date()
    ws = open_workspace(data_dir)
    try:
        report = run_or_exit(lambda: penalties.advance_all(ws, day))
    finally:
        ws.close()
    if as_json:
        emit_json(asdict(report))
        return
    out.print(
        f"{report.examined:,} live notices examined on {report.on}; {len(report.moved):,} moved"
    )
    out.print(table("Moved", ["pcn_id", "state"], [[k, v] for k, v in report.moved.items()]))
