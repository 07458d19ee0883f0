"""The demo: the whole system on the embedded default, end to end, on a synthetic London day.

Simulate a reduced-scale day, register the cameras, hotlist a few vehicles, ingest the reads
(raising hotlist hits), summarise the store, play a day of police requests and hit reviews
(`services/police_demo.py`), charge the day under London's schemes, write the oversight reports
(one index page links them all), then close the payment window: penalty notices and retention.

The demo owns its data directory: it refuses to touch a non-empty directory that it did not
create (marked by `.ringfence-demo`), so it can never wipe an operator's real data.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select

from ringfence.audit import VerifyReport, verify
from ringfence.domain.schemes import pounds
from ringfence.domain.vrm import normalise
from ringfence.errors import ConfigError
from ringfence.services.cameras import CameraImport, import_cameras
from ringfence.services.charging import ChargeRun, import_register_file, run_stored
from ringfence.services.ingest import IngestReport, ingest_file
from ringfence.services.penalties import IssueReport, issue_notices
from ringfence.services.police_demo import PoliceDay, police_day, watch_before_reads
from ringfence.services.reads import StoreSummary, read_counts, store_summary, vrm_history
from ringfence.services.refunds import IssuedRefunds, issue_refunds
from ringfence.services.reports import oversight_reports, transparency_reports, write_index
from ringfence.services.retention import run_retention
from ringfence.services.review import review_liability
from ringfence.stores.readstore import LONDON, london_day_bounds
from ringfence.stores.state import LiabilityRow
from ringfence.workspace import Workspace

MARKER = ".ringfence-demo"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Lookup:
    vrm: str
    reads: int
    cameras: list[str]
    seconds: float


@dataclass
class DemoResult:
    data_dir: Path
    day: date
    cameras: CameraImport
    ingest: IngestReport
    store: StoreSummary
    reads_by_borough: list[tuple[str, str, int]]
    lookup: Lookup | None
    epochs: int
    charge: ChargeRun
    charged_before_payments: ChargeRun
    refunds: IssuedRefunds
    """Payments above what was owed, refunded after the charge run."""
    reviews: dict[str, int]
    """The make/type holds settled by a reviewer: outcome -> liabilities."""
    settled_reads_purged: int
    notices: IssueReport
    police: PoliceDay
    reports: Path
    """The index page linking every oversight report."""
    audit: VerifyReport
    audit_events: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def prepare_dir(data_dir: Path) -> None:
    """Create a fresh demo directory, or refuse if it holds data the demo did not make."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise ConfigError(
                f"{data_dir} holds data the demo did not create; pass --data-dir with a new or "
                "demo directory"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("created by `ringfence demo`; safe to delete\n")


def borough_names() -> dict[str, str]:
    text = (files("ringfence.data.london") / "london_boroughs_census2021.csv").read_text()
    return {r["gss_code"]: r["name"] for r in csv.DictReader(text.splitlines())}


def run_demo(
    data_dir: Path,
    *,
    now: datetime,
    scale: str | float = "small",
    seed: int = 2026,
    progress: Progress | None = None,
    simulate_progress: Progress | None = None,
) -> DemoResult:
    from ringfence.simulate import simulate  # the simulator is only needed by the demo

    prepare_dir(data_dir)
    day = (now.astimezone(LONDON) - timedelta(days=1)).date()
    timings: dict[str, float] = {}
    clock = datetime.now

    started = clock()
    incoming = data_dir / "incoming"
    simulate(incoming, day=day, seed=seed, scale=scale, progress=simulate_progress)
    timings["simulate"] = (clock() - started).total_seconds()

    ws = Workspace.open(data_dir)
    ws.actor = "demo"
    try:
        cameras = import_cameras(ws, incoming / "cameras.csv")
        watch = watch_before_reads(ws, incoming, day)
        started = clock()
        report = ingest_file(
            ws, incoming / f"reads-{day.isoformat()}.parquet", now=now, progress=progress
        )
        timings["ingest"] = (clock() - started).total_seconds()

        names = borough_names()
        counts = read_counts(ws, "borough", day, day).to_pylist()
        by_borough = sorted(
            (
                (r["borough"], names.get(r["borough"], "outside boroughs"), int(r["reads"]))
                for r in counts
            ),
            key=lambda t: -t[2],
        )
        lookup = _example_lookup(ws, incoming, day)
        store = store_summary(ws)
        import_register_file(ws, "vehicles", incoming / "vehicles.parquet")
        started = clock()
        police = police_day(ws, incoming, day, watch, now=now)
        timings["police"] = (clock() - started).total_seconds()
        started = clock()
        first_run = run_stored(ws, day, now=now)
        timings["charge"] = (clock() - started).total_seconds()
        payments = _simulate_payments(ws, incoming, day, seed=seed)
        import_register_file(ws, "payments", payments)
        charge = run_stored(ws, day, now=now)  # the same day again, now with the payments
        refunds = issue_refunds(ws, day, by="finance:demo", now=now)
        reviews = _review_contradictions(ws, incoming, day, now=now)
        # Oversight before retention thins the store: the reports describe the whole day.
        started = clock()
        reports = oversight_reports(
            ws, data_dir / "reports", now=now, days=[day], keepers=incoming / "vehicles.parquet"
        )
        timings["reports"] = (clock() - started).total_seconds()
        later = now + timedelta(days=5)  # the payment window has closed
        notices = issue_notices(ws, day, now=later, by="operator:demo")
        purged = [
            r for r in run_retention(ws, as_of=later.date(), now=later) if r.rule == "reads-settled"
        ]
        # The week in the open: internal and public transparency reports, then the index.
        reports += transparency_reports(
            ws, data_dir / "reports", start=day, end=later.astimezone(LONDON).date(), now=later
        )
        index = write_index(data_dir / "reports", reports, now=later)
        return DemoResult(
            data_dir=data_dir,
            day=day,
            cameras=cameras,
            ingest=report,
            store=store,
            reads_by_borough=by_borough,
            lookup=lookup,
            epochs=len(ws.keys.epochs()),
            charge=charge,
            charged_before_payments=first_run,
            refunds=refunds,
            reviews=reviews,
            settled_reads_purged=sum(r.deleted for r in purged),
            notices=notices,
            police=police,
            reports=index,
            audit=verify(ws.audit.directory),
            audit_events=[e.event for e in ws.audit.entries()],
            seconds=timings,
        )
    finally:
        ws.close()


def _review_contradictions(
    ws: Workspace, incoming: Path, day: date, *, now: datetime
) -> dict[str, int]:
    """A reviewer settles each charge held because cameras saw another make or type. The
    simulation's truth stands in for the images: where most reads were of a vehicle other than
    the plate's (a clone, or a misread onto a registered plate) the charge is dismissed, else
    (an MMR error) it stands."""
    with ws.state.session() as s:
        rows = s.scalars(
            select(LiabilityRow).where(
                LiabilityRow.charge_day == day,
                LiabilityRow.status == "review",
                LiabilityRow.rule == "match:register_contradiction",
            )
        ).all()
    held = ws.charge_evidence.of_liabilities(rows).items()
    outcomes: dict[str, int] = {"dismiss": 0, "charge": 0}
    if not held:
        return outcomes
    # Only the held charges' reads, not the day's: a few dozen rows out of the files.
    wanted = [("read_id", "in", sorted({r for _, ids in held for r in ids}))]
    name = day.isoformat()
    plates = pq.read_table(
        incoming / f"reads-{name}.parquet", columns=["read_id", "plate"], filters=wanted
    )
    truth = pq.read_table(
        incoming / f"truth-{name}.parquet", columns=["read_id", "true_vrm"], filters=wanted
    )
    plate_of = dict(zip(plates["read_id"].to_pylist(), plates["plate"].to_pylist(), strict=True))
    true_of = dict(zip(truth["read_id"].to_pylist(), truth["true_vrm"].to_pylist(), strict=True))
    for liability_id, read_ids in held:
        other = sum(normalise(str(plate_of[r])) != true_of[r] for r in read_ids)
        outcome = "dismiss" if 2 * other > len(read_ids) else "charge"
        why = (
            "the images show another vehicle behind this plate"
            if outcome == "dismiss"
            else "the images show the registered vehicle: the camera misjudged it"
        )
        review_liability(ws, liability_id, outcome, by="reviewer:demo", why=why, now=now)
        outcomes[outcome] += 1
    return outcomes


PAYING_SHARE = 0.85


def _simulate_payments(ws: Workspace, incoming: Path, day: date, *, seed: int) -> Path:
    """Most drivers pay on the day: write a payments file for a seeded share of the unpaid
    liabilities, as a payment system would send it (by VRM, amounts in pounds)."""
    epoch = ws.keys.epoch_for_day(day)
    assert epoch is not None
    keys = ws.keys.keys(epoch.epoch)
    vrms = pq.read_table(incoming / "vehicles.parquet", columns=["vrm"]).column(0).to_pylist()
    by_pseudonym = dict(zip(keys.pseudonymise(vrms), vrms, strict=True))
    with ws.state.session() as s:
        unpaid = s.execute(
            select(LiabilityRow.vrm_pseudonym, LiabilityRow.scheme_id, LiabilityRow.amount_pence)
            .where(LiabilityRow.charge_day == day, LiabilityRow.status == "unpaid")
            .order_by(LiabilityRow.id)
        ).all()
    rng = random.Random(seed)
    # Mistakes have their own stream, so who pays stays what it was without them.
    mistakes = random.Random(seed + 1)
    paid_at = datetime(day.year, day.month, day.day, 20, tzinfo=LONDON).isoformat()
    path = incoming / f"payments-{day}.csv"
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["vrm", "scheme", "charge_day", "amount", "paid_at"])
        for pseudonym, scheme, pence in unpaid:
            if rng.random() < PAYING_SHARE and pseudonym in by_pseudonym:
                # Some pay too much (the CC late rate on the day): the difference is refunded.
                amount = pence + (OVERPAID_PENCE if mistakes.random() < OVERPAYING_SHARE else 0)
                out.writerow([by_pseudonym[pseudonym], scheme, day, pounds(amount), paid_at])
        # Some pay ahead for a trip they then do not make: refunded in full.
        liable = {by_pseudonym.get(p) for p, _, _ in unpaid}
        stayed_home = [v for v in vrms if v not in liable]
        for vrm in mistakes.sample(stayed_home, min(NOT_DRIVEN, len(stayed_home))):
            out.writerow([vrm, "ccz", day, pounds(CC_PENCE), paid_at])
    return path


OVERPAYING_SHARE = 0.03
OVERPAID_PENCE = 300  # the CC late rate's surcharge
NOT_DRIVEN = 5
CC_PENCE = 1800


def _example_lookup(ws: Workspace, incoming: Path, day: date) -> Lookup | None:
    """Look one simulated vehicle up by VRM, as an operator would, and time it."""
    truth = pq.read_table(
        incoming / f"truth-{day.isoformat()}.parquet", columns=["true_vrm", "kind"]
    )
    genuine = [
        v
        for v, k in zip(
            truth.column("true_vrm").to_pylist(), truth.column("kind").to_pylist(), strict=True
        )
        if k == "genuine" and v
    ]
    if not genuine:
        return None
    vrm = genuine[len(genuine) // 2]
    start, end = london_day_bounds(day)
    began = datetime.now()
    found = vrm_history(ws, vrm, start, end)
    elapsed = (datetime.now() - began).total_seconds()
    return Lookup(
        vrm=vrm,
        reads=found.reads.num_rows,
        cameras=sorted(set(found.reads.column("camera_id").to_pylist())),
        seconds=elapsed,
    )
