"""`ringfence subject-access VRM`: what is held about a plate and who it was disclosed to."""

from __future__ import annotations

from typing import Annotated

import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit_json,
    in_workspace,
    out,
    table,
    utc_now,
)
from ringfence.services.subject_access import subject_access


def subject_access_command(
    vrm: Annotated[str, typer.Argument(help="The VRM the subject asked about")],
    by: Annotated[str, typer.Option(help="The operator running the search (audited)")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reads held (purpose, retention), police releases and hotlist entries naming a VRM, with
    a delayed-notice flag for live investigations (authorised operator use; audited)."""
    report = in_workspace(data_dir, lambda ws: subject_access(ws, vrm, by=by, now=utc_now()))
    if as_json:
        emit_json(report)
        return
    out.print(f"{report['vrm']}: {report['read_count']} reads held")
    held = report["reads_held"]
    assert isinstance(held, list)
    out.print(
        table(
            "Reads held",
            ["charge_day", "network", "reads", "purposes"],
            [[h["charge_day"], h["network"], h["reads"], h["purposes"]] for h in held],
        )
    )
    releases = report["police_releases"]
    assert isinstance(releases, list)
    cols = ["release_id", "issued_at", "force", "purpose", "reads", "file_expired"]
    out.print(table("Police releases", cols, [[r[c] for c in cols] for r in releases]))
    if report["delayed_notice"]:
        out.print(f"DELAYED NOTICE: {'; '.join(report['delayed_because'])}")  # type: ignore[arg-type]
