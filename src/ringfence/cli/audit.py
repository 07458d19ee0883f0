"""`ringfence audit`: read, checkpoint and verify the tamper-evident audit log."""

from __future__ import annotations

from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer

from ringfence.audit import Checkpoint, generate_signing_key, verify
from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit_json,
    open_workspace,
    out,
    run_or_exit,
    table,
    utc_now,
)

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(help="At most this many, from the start")] = 50,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Audit entries in order."""
    ws = open_workspace(data_dir)
    entries = [e.to_dict() for e in islice(ws.audit.entries(), limit)]
    if as_json:
        emit_json(entries)
        return
    cols = ["seq", "at", "actor", "event", "subject", "why"]
    out.print(table(f"{len(entries)} audit entries", cols, [[e[c] for c in cols] for e in entries]))


@app.command("keygen")
def keygen_command(
    key: Annotated[Path, typer.Option("--key", help="Where to write the signing key (0600)")],
    as_json: JsonOption = False,
) -> None:
    """Create an Ed25519 checkpoint-signing key; prints the public key to give to overseers."""
    public = run_or_exit(lambda: generate_signing_key(key))
    if as_json:
        emit_json({"key": str(key), "public_key": public})
    else:
        out.print(f"Signing key written to {key}; public key: {public}")


@app.command("checkpoint")
def checkpoint_command(
    key: Annotated[Path, typer.Option("--key", help="The checkpoint-signing key file")],
    export: Annotated[
        Path | None, typer.Option(help="Also write the checkpoint here, for an outside party")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the log's current head; the checkpoint can be held outside the operator."""
    ws = open_workspace(data_dir)
    checkpoint = run_or_exit(lambda: ws.audit.checkpoint(key, utc_now()))
    if export is not None:
        export.write_text(checkpoint.to_json() + "\n")
    if as_json:
        emit_json(checkpoint.to_dict())
    else:
        out.print(f"Checkpoint at entry {checkpoint.seq}: {checkpoint.hash}")


@app.command("verify")
def verify_command(
    public_key: Annotated[
        str | None, typer.Option(help="Public key (hex) the checkpoints must be signed with")
    ] = None,
    held: Annotated[
        list[Path] | None, typer.Option(help="Checkpoint files held outside, to check against")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry and checkpoint; say where anything was edited, deleted or reordered."""
    ws = open_workspace(data_dir)
    outside = [Checkpoint.from_json(p.read_text()) for p in held or []]
    report = run_or_exit(
        lambda: verify(ws.audit.directory, public_key=public_key, checkpoints=outside)
    )
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "attested_seq": report.attested_seq,
                "problems": [asdict(p) for p in report.problems],
            }
        )
    else:
        verdict = "[green]intact[/]" if report.ok else "[red]TAMPERED[/]"
        out.print(f"Audit log {verdict}: {report.entries:,} entries")
        for p in report.problems[:20]:
            out.print(f"  line {p.line} seq {p.seq}: {p.kind}: {p.detail}")
    if not report.ok:
        raise typer.Exit(code=1)
