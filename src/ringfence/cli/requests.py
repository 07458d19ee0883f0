"""`ringfence requests`: police requests for reads, their authorisation, review and release."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
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
    parse_date,
    run_or_exit,
    table,
)
from ringfence.domain.sharing import GovernanceBook, load_governance_book
from ringfence.policy import Officer
from ringfence.services import requests
from ringfence.workspace import Workspace

app = typer.Typer(
    help="Police requests for reads: submit, authorise, review, release.", no_args_is_help=True
)

BookOption = Annotated[
    Path | None,
    typer.Option(
        "--book",
        help="Governance file (default: the packaged instruments with the changes recorded "
        "by `ringfence instruments` and `ringfence dpia`)",
        show_default=False,
    ),
]
RequestArg = Annotated[str, typer.Argument(help="The request id")]


def _day(text: str | None) -> date | None:
    return None if text is None else parse_date(text)


def _book(path: Path | None) -> GovernanceBook | None:
    # None: the book in force in the workspace (packaged instruments + recorded changes).
    return None if path is None else run_or_exit(lambda: load_governance_book(path))


def _render(outcome: requests.Outcome, as_json: bool) -> None:
    reasons = [] if outcome.decision is None else list(outcome.decision.reasons)
    if as_json:
        emit_json(
            {
                "request_id": outcome.request_id,
                "status": outcome.status,
                "failures": sorted(outcome.failure_codes),
                "reasons": [
                    {"code": r.code, "message": r.message, "ref": r.ref, "passed": r.passed}
                    for r in reasons
                ],
            }
        )
        return
    out.print(f"Request {outcome.request_id}: {outcome.status}")
    if reasons:
        rows: list[list[object]] = [
            ["ok" if r.passed else "FAIL", r.code, r.ref, r.message] for r in reasons
        ]
        out.print(table("Policy decision", ["", "code", "ref", "message"], rows))


def _drive(
    data_dir: DataDirOption, as_json: bool, step: Callable[[Workspace], requests.Outcome]
) -> None:
    ws = open_workspace(data_dir)
    try:
        _render(run_or_exit(lambda: step(ws)), as_json)
    finally:
        ws.close()


@app.command("submit")
def submit_command(
    officer: Annotated[str, typer.Option(help="The requesting officer's id")],
    rank: Annotated[str, typer.Option(help="The requesting officer's rank")],
    force: Annotated[str, typer.Option(help="The force, as instruments name it")],
    purpose: Annotated[str, typer.Option(help="e.g. law_enforcement:serious_crime")],
    legal_basis: Annotated[str, typer.Option(help="e.g. DPA2018_Part3")],
    case_ref: Annotated[str, typer.Option(help="The case reference")],
    seriousness: Annotated[str, typer.Option(help="standard|serious|major|counter_terrorism")],
    necessity: Annotated[str, typer.Option(help="Why this data is necessary and proportionate")],
    network: Annotated[list[str], typer.Option(help="A camera network asked (repeatable)")],
    window_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, London)")],
    window_to: Annotated[str, typer.Option("--to", help="Last day, inclusive (YYYY-MM-DD)")],
    kind: Annotated[str, typer.Option(help="vehicle_history|location")] = "vehicle_history",
    vrm: Annotated[
        list[str] | None, typer.Option(help="A VRM asked about (repeatable; vehicle_history)")
    ] = None,
    camera: Annotated[
        list[str] | None, typer.Option(help="A camera asked about (repeatable; location)")
    ] = None,
    borough: Annotated[
        list[str] | None,
        typer.Option(help="A borough (GSS code) asked about (repeatable; location)"),
    ] = None,
    data_class: Annotated[
        list[str] | None, typer.Option(help="vrm_text|contextual_images (default: vrm_text)")
    ] = None,
    book: BookOption = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a vehicle-history or location request; refused at once if the policy denies it
    outright."""
    governance, when = _book(book), at_or_now(at)
    start, end = _day(window_from), _day(window_to)
    assert start is not None and end is not None
    _drive(
        data_dir,
        as_json,
        lambda ws: requests.submit(
            ws,
            requester=Officer(officer, rank, force),
            purpose=purpose,
            legal_basis=legal_basis,
            case_ref=case_ref,
            seriousness=seriousness,
            necessity=necessity,
            vrms=vrm or [],
            cameras=camera or [],
            boroughs=borough or [],
            kind=kind,
            networks=network,
            data_classes=data_class or ["vrm_text"],
            window_start=start,
            window_end=end,
            now=when,
            book=governance,
        ),
    )


@app.command("authorise")
def authorise_command(
    request_id: RequestArg,
    officer: Annotated[str, typer.Option(help="The authorising officer's id")],
    rank: Annotated[str, typer.Option(help="The authorising officer's rank")],
    book: BookOption = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Authorise a submitted request (independent officer, rank for the data's age)."""
    governance, when = _book(book), at_or_now(at)
    _drive(
        data_dir,
        as_json,
        lambda ws: requests.authorise(
            ws, request_id, Officer(officer, rank), when, book=governance
        ),
    )


@app.command("review")
def review_command(
    request_id: RequestArg,
    decision: Annotated[str, typer.Option(help="approve|narrow|refuse")],
    by: Annotated[str, typer.Option(help="The data-sharing officer")],
    reason: Annotated[str, typer.Option(help="Why")],
    network: Annotated[
        list[str] | None, typer.Option(help="Narrow to these networks (repeatable)")
    ] = None,
    window_from: Annotated[str | None, typer.Option("--from", help="Narrowed first day")] = None,
    window_to: Annotated[str | None, typer.Option("--to", help="Narrowed last day")] = None,
    data_class: Annotated[
        list[str] | None, typer.Option(help="Narrow to these data classes (repeatable)")
    ] = None,
    book: BookOption = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """A data-sharing officer approves, narrows (only shrinking the scope) or refuses."""
    governance, when = _book(book), at_or_now(at)
    start, end = _day(window_from), _day(window_to)
    _drive(
        data_dir,
        as_json,
        lambda ws: requests.review(
            ws,
            request_id,
            decision,
            by=by,
            reason=reason,
            now=when,
            networks=network or None,
            window_start=start,
            window_end=end,
            data_classes=data_class or None,
            book=governance,
        ),
    )


@app.command("release")
def release_command(
    request_id: RequestArg,
    by: Annotated[str, typer.Option(help="Who issues the release")],
    expiry_days: Annotated[int, typer.Option(help="Days until the release expires")] = (
        requests.DEFAULT_EXPIRY_DAYS
    ),
    book: BookOption = None,
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue the release of an approved request (the policy is asked again, today)."""
    governance, when = _book(book), at_or_now(at)
    ws = open_workspace(data_dir)
    try:
        rel = run_or_exit(
            lambda: requests.release(
                ws, request_id, by=by, now=when, book=governance, expiry_days=expiry_days
            )
        )
    finally:
        ws.close()
    payload = {
        "release_id": rel.release_id,
        "request_id": rel.request_id,
        "path": str(rel.path),
        "sha256": rel.sha256,
        "issued_at": rel.issued_at.isoformat(),
        "expires_at": rel.expires_at.isoformat(),
        "networks": rel.networks,
        "data_classes": rel.data_classes,
        "window_start": rel.window_start.isoformat(),
        "window_end": rel.window_end.isoformat(),
        "read_count": rel.read_count,
        "vrm_count": rel.vrm_count,
        "epochs_destroyed": rel.epochs_destroyed,
    }
    if as_json:
        emit_json(payload)
        return
    out.print(
        f"Release {rel.release_id} of {rel.request_id}: {rel.read_count:,} reads of "
        f"{rel.vrm_count} vehicles, expires {rel.expires_at.date()}"
    )
    out.print(f"File: {rel.path}\nSHA-256: {rel.sha256}")


@app.command("show")
def show_command(
    request_id: RequestArg, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """One request: scope, approved scope, every decision with its reasons, its releases."""
    ws = open_workspace(data_dir)
    try:
        shown = run_or_exit(lambda: requests.show(ws, request_id))
    finally:
        ws.close()
    if as_json:
        emit_json(shown)
        return
    out.print(
        f"Request {shown['request_id']} ({shown['kind']}, case {shown['case_ref']}): "
        f"{shown['status']}; asked {shown['networks']} {shown['window_start']} to "
        f"{shown['window_end']}; approved {shown['approved_scope']}"
    )
    decisions = shown["decisions"]
    assert isinstance(decisions, list)
    rows: list[list[object]] = []
    for d in decisions:
        failed = [r["code"] for r in d["reasons"] if not r["passed"]]
        rows.append([d["at"], d["step"], d["by"], d["allowed"], ", ".join(failed)])
    out.print(table("Decisions", ["at", "step", "by", "allowed", "failures"], rows))
    releases = shown["releases"]
    assert isinstance(releases, list)
    cols = ["release_id", "issued_at", "expires_at", "read_count", "sha256"]
    out.print(table("Releases", cols, [[r[c] for c in cols] for r in releases]))


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="Only requests with this status")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 100,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Requests, newest first."""
    ws = open_workspace(data_dir)
    try:
        rows = run_or_exit(lambda: requests.list_requests(ws, status=status, limit=limit))
    finally:
        ws.close()
    cols = ["request_id", "kind", "status", "requester", "case_ref", "window_start", "window_end"]
    emit_rows(rows, cols, f"{len(rows)} requests", as_json)


@app.command("withdraw")
def withdraw_command(
    request_id: RequestArg,
    by: Annotated[str, typer.Option(help="The requesting officer")],
    reason: Annotated[str, typer.Option(help="Why")],
    at: AtOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """The requesting officer withdraws a request not yet released."""
    when = at_or_now(at)
    _drive(
        data_dir,
        as_json,
        lambda ws: requests.withdraw(ws, request_id, by=by, reason=reason, now=when),
    )


@app.command("expire")
def expire_command(
    at: AtOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Enforce release expiry: delete the files of releases past their expiry (records stay)."""
    when = at_or_now(at)
    ws = open_workspace(data_dir)
    try:
        expired = run_or_exit(lambda: requests.expire_releases(ws, when))
    finally:
        ws.close()
    if as_json:
        emit_json({"expired": expired})
        return
    out.print(f"{len(expired)} releases expired" + (f": {', '.join(expired)}" if expired else ""))
