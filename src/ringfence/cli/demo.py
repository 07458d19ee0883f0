"""`ringfence demo`: the whole system on a synthetic London day, with progress bars."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ringfence.cli._common import (
    JsonOption,
    emit_json,
    out,
    run_or_exit,
    stage_progress,
    table,
    utc_now,
)
from ringfence.services.demo import DemoResult, run_demo
from ringfence.services.ingest import STAGES


def demo_command(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="A new directory, or one an earlier demo made"),
    ] = Path("ringfence-demo"),
    scale: Annotated[
        str, typer.Option(help="tiny, small (~1% of London), medium (~10%), full, or a fraction")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Simulation seed")] = 2026,
    as_json: JsonOption = False,
) -> None:
    """Simulate a reduced-scale London day, ingest it, and summarise the store."""
    with stage_progress(quiet=as_json) as bars:
        sim = bars.add_task("simulate London", total=None, stage="")
        ing = bars.add_task("ingest reads", total=STAGES, stage="waiting", start=False)

        def on_sim(stage: str, done: int, total: int) -> None:
            bars.update(sim, completed=done, total=total or None, stage=stage)

        def on_ingest(stage: str, done: int, total: int) -> None:
            bars.start_task(ing)
            bars.update(sim, completed=1, total=1, stage="done")
            bars.update(ing, completed=done, total=total, stage=stage)

        result = run_or_exit(
            lambda: run_demo(
                data_dir,
                now=utc_now(),
                scale=scale,
                seed=seed,
                progress=on_ingest,
                simulate_progress=on_sim,
            )
        )
    if as_json:
        emit_json(as_payload(result))
        return
    render(result)


def as_payload(r: DemoResult) -> dict[str, object]:
    return {
        "data_dir": str(r.data_dir),
        "charge_day": r.day.isoformat(),
        "cameras": r.cameras.cameras,
        "cameras_by_network": r.cameras.networks,
        "ingest": r.ingest.as_dict(),
        "store": {
            "reads": r.store.reads,
            "files": r.store.files,
            "bytes_on_disk": r.store.bytes_on_disk,
            "bytes_per_read": round(r.store.bytes_per_read, 2),
            "quarantine_by_reason": r.store.quarantine_by_reason,
        },
        "reads_by_borough": [
            {"borough_gss": g, "borough": n, "reads": c} for g, n, c in r.reads_by_borough
        ],
        "example_lookup": asdict(r.lookup) if r.lookup else None,
        "key_epochs": r.epochs,
        "charge_run": asdict(r.charge),
        "charge_run_before_payments": asdict(r.charged_before_payments),
        "refunds_issued": asdict(r.refunds),
        "reviews": r.reviews,
        "settled_reads_purged": r.settled_reads_purged,
        "notices": asdict(r.notices),
        "police": asdict(r.police),
        "reports": str(r.reports),
        "audit": {"ok": r.audit.ok, "entries": r.audit.entries, "events": r.audit_events},
        "seconds": r.seconds,
    }


def render(r: DemoResult) -> None:
    i = r.ingest
    out.rule(f"Ringfence demo: synthetic London, charge day {r.day}")
    out.print(
        f"{r.cameras.cameras:,} cameras in {len(r.cameras.networks)} networks: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(r.cameras.networks.items()))
    )
    verdict = "[green]reconciles[/]" if i.reconciles else "[red]DOES NOT RECONCILE[/]"
    out.print(
        f"Ingested {i.received:,} reads in {i.seconds:.1f}s: stored {i.stored:,} + duplicates "
        f"{i.duplicates:,} + quarantined {i.quarantined:,} ({verdict})"
    )
    out.print(
        table(
            "Busiest boroughs by reads",
            ["borough", "reads"],
            [[n, f"{c:,}"] for _, n, c in r.reads_by_borough[:10]],
        )
    )
    out.print(
        table(
            "Quarantine by reason",
            ["reason", "rows"],
            [[k, f"{v:,}"] for k, v in r.store.quarantine_by_reason.items()],
        )
    )
    out.print(
        f"Store: {r.store.reads:,} reads in {r.store.files} Parquet file(s), "
        f"{r.store.bytes_on_disk / 1e6:.1f} MB ({r.store.bytes_per_read:.1f} bytes/read); "
        f"{r.epochs} key epoch(s); no VRM stored in clear."
    )
    if r.lookup:
        out.print(
            f"Look-up of one vehicle by VRM: {r.lookup.reads} reads at "
            f"{len(r.lookup.cameras)} cameras in {r.lookup.seconds * 1000:.0f} ms"
        )
    c, c0 = r.charge, r.charged_before_payments
    out.print(
        f"Charge run: {c.vehicles_seen:,} vehicle sightings under ULEZ, CC and LEZ; "
        f"{c.not_liable:,} compliant or out of scope; {c.misreads_absorbed:,} misreads absorbed; "
        f"{c.register_contradictions:,} held for review where cameras saw another vehicle than "
        f"the register holds ({c0.seconds:.1f}s). Before payments "
        f"{c0.amount_due_pence / 100:,.2f} GBP was unpaid; after drivers paid, "
        f"{c.amount_due_pence / 100:,.2f} GBP is."
    )
    if sum(r.reviews.values()):
        out.print(
            f"Review: {sum(r.reviews.values()):,} charges held because cameras saw another make "
            f"or type were looked at (the simulation's truth standing in for the images): "
            f"{r.reviews['dismiss']:,} dismissed (another vehicle behind the plate), "
            f"{r.reviews['charge']:,} charged (the camera misjudged the vehicle)."
        )
    if r.refunds.issued:
        out.print(
            f"Refunds: {r.refunds.issued:,} payments above what was owed (paid too much, or "
            f"for a day not driven), {r.refunds.issued_pence / 100:,.2f} GBP, issued by "
            "finance, each in the audit log."
        )
    statuses = sorted(set(c.by_status) | set(c0.by_status))
    out.print(
        table(
            "Liabilities",
            ["status", "before payments", "after"],
            [[k, f"{c0.by_status.get(k, 0):,}", f"{c.by_status.get(k, 0):,}"] for k in statuses],
        )
    )
    # The register check is listed even when it held nothing: that it ran is worth seeing.
    by_rule = {"match:register_contradiction": c.register_contradictions, **c.review_by_rule}
    out.print(
        table(
            "Review queue by rule (a person decides; nobody is charged meanwhile)",
            ["rule", "liabilities"],
            [[k, f"{v:,}"] for k, v in sorted(by_rule.items())],
        )
    )
    n = r.notices
    out.print(
        f"Five days on, the payment window has closed: {n.pcns:,} penalty charge notices and "
        f"{n.warnings:,} warning notices issued for the unpaid charges (the clear VRM taken "
        f"from the vault only for these); {r.settled_reads_purged:,} reads of "
        "vehicles that owed nothing or paid were deleted (with a receipt); reads behind unpaid "
        "or disputed charges are kept for enforcement."
    )
    p = r.police
    out.print(
        f"Police: {p.hotlist_entries} hotlist entries added before the reads arrived; real-time "
        f"matching raised {sum(p.hits.values())} hits, each checked by a person: "
        + ", ".join(f"{k} {v}" for k, v in sorted(p.hits.items()))
        + (" (a misread caught at confirmation)." if p.misread_caught else ".")
    )
    out.print(
        table(
            "Police requests",
            ["request", "outcome", "failing rules"],
            [[k, v, ", ".join(p.refusals.get(k, []))] for k, v in p.requests.items()],
        )
    )
    out.print(
        f"{p.releases} releases disclosed {p.reads_released:,} reads of "
        f"{p.vehicles_released:,} vehicles, each an owner-only file with its SHA-256 audited; "
        "a subject-access search for a released vehicle "
        + ("flags delayed notice." if p.subject_access_delayed else "shows the release.")
    )
    events: dict[str, int] = {}
    for e in r.audit_events:
        events[e] = events.get(e, 0) + 1
    verdict = "[green]intact[/]" if r.audit.ok else "[red]TAMPERED[/]"
    out.print(
        f"Audit log {verdict}: {r.audit.entries} entries ("
        + ", ".join(f"{k} {v}" for k, v in sorted(events.items()))
        + ")"
    )
    out.print(f"Data directory: {r.data_dir.resolve()}")
    out.print(f"Oversight reports (open in a browser): {r.reports.resolve()}")
    out.print(
        "Next: `ringfence charge liabilities --day D --data-dir ...`, "
        "`ringfence reads summary --data-dir ...`, `ringfence keys list`."
    )
