"""`ringfence reads`: ask the read store questions; inspect the quarantine; compact days."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

import pyarrow as pa
import typer

from ringfence.cli._common import (
    DataDirOption,
    JsonOption,
    emit_json,
    open_workspace,
    out,
    parse_instant,
    run_or_exit,
    table,
    utc_now,
)
from ringfence.services.ingest import compact_days
from ringfence.services.quarantine import list_quarantine
from ringfence.services.reads import (
    COUNT_DIMENSIONS,
    read_counts,
    reads_at_cameras,
    store_summary,
    vrm_history,
)

app = typer.Typer(help="Query stored reads, the quarantine and the store.", no_args_is_help=True)

FromOption = Annotated[str, typer.Option("--from", help="Start: ISO date or date-time with offset")]
ToOption = Annotated[str, typer.Option("--to", help="End (exclusive): ISO date or date-time")]
SHOWN = ["captured_at", "camera_id", "read_id", "confidence", "direction", "vrm_class", "key_epoch"]


def _rows(t: pa.Table) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = t.to_pylist()
    for r in rows:
        pseudonym = r.get("vrm_pseudonym")
        if isinstance(pseudonym, bytes):
            r["vrm_pseudonym"] = pseudonym.hex()
    return rows


@app.command("history")
def history_command(
    vrm: Annotated[str, typer.Argument(help="The VRM to look up (any spacing or case)")],
    start: FromOption,
    end: ToOption,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """All reads of one VRM in a time window (pseudonymised results)."""
    ws = open_workspace(data_dir)
    result = run_or_exit(lambda: vrm_history(ws, vrm, parse_instant(start), parse_instant(end)))
    rows = _rows(result.reads)
    if as_json:
        emit_json(
            {
                "pseudonyms": result.vrm_pseudonyms,
                "epochs_destroyed": result.epochs_destroyed,
                "reads": rows,
            }
        )
        return
    if result.epochs_destroyed:
        out.print(
            f"[yellow]Epochs {result.epochs_destroyed} were crypto-shredded: their reads "
            "can no longer be found by VRM.[/]"
        )
    out.print(table(f"{len(rows)} reads", SHOWN, [[r[c] for c in SHOWN] for r in rows]))


@app.command("at")
def at_command(
    cameras: Annotated[list[str], typer.Argument(help="Camera ids")],
    start: FromOption,
    end: ToOption,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """All reads at a set of cameras in a time window."""
    ws = open_workspace(data_dir)
    t = run_or_exit(lambda: reads_at_cameras(ws, cameras, parse_instant(start), parse_instant(end)))
    rows = _rows(t)
    if as_json:
        emit_json(rows)
        return
    out.print(table(f"{len(rows)} reads", SHOWN, [[r[c] for c in SHOWN] for r in rows[:200]]))
    if len(rows) > 200:
        out.print(f"... {len(rows) - 200} more (use --json for all)")


@app.command("counts")
def counts_command(
    by: Annotated[str, typer.Option(help=f"One of: {', '.join(COUNT_DIMENSIONS)}")] = "borough",
    first: Annotated[str | None, typer.Option("--from", help="First charge day")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last charge day (inclusive)")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read counts per camera, borough, hour, day or network."""
    ws = open_workspace(data_dir)
    days = ws.reads.days()
    lo = date.fromisoformat(first) if first else (days[0] if days else date.today())
    hi = date.fromisoformat(last) if last else (days[-1] if days else date.today())
    rows = run_or_exit(lambda: read_counts(ws, by, lo, hi)).to_pylist()
    if as_json:
        emit_json(rows)
        return
    out.print(
        table(
            f"Reads by {by}, {lo}..{hi}", [by, "reads"], [[r[by], f"{r['reads']:,}"] for r in rows]
        )
    )


@app.command("summary")
def summary_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """What the store holds: days, reads, bytes, quarantine."""
    ws = open_workspace(data_dir)
    s = store_summary(ws)
    payload = {
        "days": s.days,
        "files": s.files,
        "reads": s.reads,
        "bytes_on_disk": s.bytes_on_disk,
        "bytes_per_read": round(s.bytes_per_read, 2),
        "quarantined": s.quarantined,
        "quarantine_by_reason": s.quarantine_by_reason,
        "batches": s.batches,
    }
    if as_json:
        emit_json(payload)
        return
    out.print(table("Read store", ["", ""], [[k, v] for k, v in payload.items()]))


@app.command("quarantine")
def quarantine_command(
    reason: Annotated[str | None, typer.Option(help="Only this reason")] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch")] = None,
    reveal: Annotated[
        bool, typer.Option(help="Unseal and show the original rows (operator use).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows")] = 50,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rows that could not be accepted, with their reasons."""
    ws = open_workspace(data_dir)
    found = run_or_exit(
        lambda: list_quarantine(ws, reason=reason, batch_id=batch, reveal=reveal, limit=limit)
    )
    rows = [asdict(q) for q in found]
    if as_json:
        emit_json(rows)
        return
    cols = ["batch_id", "row_number", "reason", "camera_id", "captured_at"]
    if reveal:
        cols.append("original")
    out.print(table(f"{len(rows)} quarantined rows", cols, [[r[c] for c in cols] for r in rows]))


@app.command("compact")
def compact_command(
    day: Annotated[list[str] | None, typer.Option(help="Days to compact (default: all)")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sort and merge each day's files into one, for fast plate look-ups."""
    ws = open_workspace(data_dir)
    days = [date.fromisoformat(d) for d in day] if day else ws.reads.days()
    with ws.writer():
        n = compact_days(ws, days, now=utc_now())
    if as_json:
        emit_json({"days_rewritten": n})
    else:
        out.print(f"Compacted {n} of {len(days)} days")
