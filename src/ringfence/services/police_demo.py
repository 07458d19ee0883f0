"""The demo's day of police activity, on the simulated London day, through the real services.

Before the reads arrive, the police hotlist a few vehicles seen on the shared networks, and one
plate that a camera will misread (a different car's plate read with confusable characters).
The reads are then ingested (real-time matching raises the hits). Afterwards:

- vehicle-history requests approved (one narrowed by the data-sharing officer) and released,
  and a location query released (the clear VRMs of every vehicle at one camera);
- a request for the London-wide network, refused: no DPIA, no Mayoral direction;
- a request for data 200 days old authorised by an inspector, refused: it needs a
  superintendent and a serious case;
- a request withdrawn by its officer;
- every hit reviewed by a person comparing the image with the text; the simulation's truth
  plays the image, so the misread is caught at confirmation;
- a subject-access search for a released vehicle (it shows the release, delayed notice).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ringfence.domain.vrm import VRMClass, classify, normalise
from ringfence.policy import Officer
from ringfence.services import hotlist, requests
from ringfence.services.subject_access import subject_access
from ringfence.stores.readstore import LONDON
from ringfence.workspace import Workspace

__all__ = ["PoliceDay", "Watchlist", "police_day", "watch_before_reads"]

MET = "metropolitan_police"
SHARED = ("cc_lez_2015", "ulez_inner_2021")
SERIOUS = "law_enforcement:serious_crime"
BASIS = "DPA2018_Part3"
REQUESTER = Officer("met:pc-4471", "constable", MET)
DETECTIVE = Officer("met:dc-2210", "constable", MET)
INSPECTOR = Officer("met:insp-0932", "inspector", MET)
DSO = "tfl:dso-ayodele"


@dataclass
class Watchlist:
    entries: dict[str, str] = field(default_factory=dict)
    """entry_id -> hotlisted VRM"""
    genuine: list[str] = field(default_factory=list)
    misread: str | None = None


@dataclass
class PoliceDay:
    requests: dict[str, str] = field(default_factory=dict)
    """Each request's story -> its final status."""
    refusals: dict[str, list[str]] = field(default_factory=dict)
    """The refused requests' stories -> the failing rules."""
    releases: int = 0
    reads_released: int = 0
    vehicles_released: int = 0
    hotlist_entries: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    misread_caught: bool = False
    subject_access_delayed: bool = False


def _truth(incoming: Path, day: date) -> pa.Table:
    reads = pq.read_table(
        incoming / f"reads-{day.isoformat()}.parquet",
        columns=["read_id", "camera_id", "captured_at", "plate", "confidence"],
    )
    truth = pq.read_table(
        incoming / f"truth-{day.isoformat()}.parquet", columns=["read_id", "true_vrm", "kind"]
    )
    cams = pacsv.read_csv(incoming / "cameras.csv").select(["camera_id", "network"])
    return reads.join(truth, "read_id").join(cams, "camera_id")


def _shared(table: pa.Table) -> pa.Table:
    return table.filter(pc.is_in(table["network"], value_set=pa.array(SHARED)))


def watch_before_reads(ws: Workspace, incoming: Path, day: date) -> Watchlist:
    """Hotlist three vehicles seen on the shared networks and one plate a camera will misread,
    as if the entries were made at 05:00 on the day (before the day's reads)."""
    at = datetime(day.year, day.month, day.day, 5, tzinfo=LONDON)
    everything = _shared(_truth(incoming, day))
    seen = everything.filter(pc.greater_equal(everything["captured_at"], pa.scalar(at)))
    genuine = seen.filter(pc.equal(seen["kind"], "genuine"))
    counts = Counter(genuine.column("true_vrm").to_pylist())
    # Ordinary vehicles (a few reads each), not the taxis and vans read all day.
    picked = sorted(v for v, n in counts.items() if 2 <= n <= 4)[:3]
    truly_there = set(everything.column("true_vrm").to_pylist())
    misreads = seen.filter(pc.equal(seen["kind"], "misread")).to_pylist()
    misread = next(
        (
            normalise(r["plate"])
            for r in misreads
            if classify(r["plate"], as_of=day).vrm_class is VRMClass.CURRENT
            and normalise(r["plate"]) not in truly_there
            and normalise(r["plate"]) != r["true_vrm"]
        ),
        None,
    )
    watch = Watchlist(genuine=picked, misread=misread)
    reasons = ["vehicle linked to a series of burglaries", "stolen vehicle", "missing person"]
    for vrm, reason in zip([*picked, misread], [*reasons, "suspected cloned plates"], strict=False):
        if vrm is None:
            continue
        entry = hotlist.add_entry(
            ws,
            officer=REQUESTER,
            vrm=vrm,
            reason=reason,
            purpose=SERIOUS,
            legal_basis=BASIS,
            case_ref=f"CAD-{len(watch.entries) + 4101}/{day:%y}",
            networks=list(SHARED),
            expires_on=day + timedelta(days=14),
            warning_markers=["violence"] if reason.startswith("vehicle") else [],
            now=at,
        )
        watch.entries[str(entry["entry_id"])] = vrm
    return watch


def _request(
    ws: Workspace,
    *,
    now: datetime,
    vrms: list[str] | None = None,
    cameras: list[str] | None = None,
    networks: tuple[str, ...] = SHARED,
    start: date,
    end: date,
    data_classes: tuple[str, ...] = ("vrm_text",),
    officer: Officer = REQUESTER,
    case: str,
) -> requests.Outcome:
    return requests.submit(
        ws,
        requester=officer,
        purpose=SERIOUS,
        legal_basis=BASIS,
        case_ref=case,
        seriousness="serious",
        necessity="The vehicle's movements are needed to corroborate or rule out a suspect; "
        "no less intrusive source covers the period.",
        vrms=vrms or [],
        cameras=cameras or [],
        kind="vehicle_history" if vrms else "location",
        networks=list(networks),
        data_classes=data_classes,
        window_start=start,
        window_end=end,
        now=now,
    )


def police_day(
    ws: Workspace, incoming: Path, day: date, watch: Watchlist, *, now: datetime
) -> PoliceDay:
    result = PoliceDay(hotlist_entries=len(watch.entries))
    truth = _truth(incoming, day)
    true_plate = dict(
        zip(truth.column("read_id").to_pylist(), truth.column("true_vrm").to_pylist(), strict=True)
    )
    # 1. Every hit is checked by a person: the simulation's truth stands in for the image.
    for hit in hotlist.list_hits(ws, status="pending"):
        card = hotlist.hit_card(ws, str(hit["hit_id"]))
        same = true_plate.get(str(hit["read_id"])) == card["vrm"]
        outcome = "confirmed" if same else "misread"
        note = (
            "image shows the hotlisted plate"
            if same
            else f"image shows a different plate; {len(card['lookalikes'])} confusable "  # type: ignore[arg-type]
            "registered plate(s) on the card"
        )
        hotlist.review_hit(
            ws, str(hit["hit_id"]), outcome, by="tfl:op-review-1", note=note, now=now
        )
        result.hits[outcome] += 1
        result.misread_caught |= not same
    # 2. Vehicle histories: one approved as asked, one narrowed to text only.
    for story, vrm, classes in (
        ("vehicle history, approved", watch.genuine[:1], ("vrm_text",)),
        (
            "vehicle history, narrowed to text",
            watch.genuine[1:2],
            ("vrm_text", "contextual_images"),
        ),
    ):
        if not vrm:
            continue
        out = _request(
            ws,
            now=now,
            vrms=vrm,
            start=day,
            end=day,
            data_classes=classes,
            case=f"CAD-{4200 + len(result.requests)}/{day:%y}",
        )
        requests.authorise(ws, out.request_id, INSPECTOR, now)
        if "narrowed" in story:
            requests.review(
                ws,
                out.request_id,
                "narrow",
                by=DSO,
                now=now,
                reason="images not necessary for a route",
                data_classes=["vrm_text"],
            )
        else:
            requests.review(
                ws, out.request_id, "approve", by=DSO, now=now, reason="necessary and proportionate"
            )
        rel = requests.release(ws, out.request_id, by=DSO, now=now)
        result.requests[story] = "released"
        result.releases += 1
        result.reads_released += rel.read_count
        result.vehicles_released += rel.vrm_count
    # 3. A location query: every vehicle at one shared camera on the day of an incident.
    busiest = Counter(_shared(truth).column("camera_id").to_pylist()).most_common(1)
    if busiest:
        out = _request(
            ws,
            now=now,
            cameras=[busiest[0][0]],
            start=day,
            end=day,
            case=f"CAD-4300/{day:%y}",
            officer=DETECTIVE,
        )
        requests.authorise(ws, out.request_id, INSPECTOR, now)
        requests.review(
            ws,
            out.request_id,
            "approve",
            by=DSO,
            now=now,
            reason="scene of a serious assault; narrow place and day",
        )
        rel = requests.release(ws, out.request_id, by=DSO, now=now)
        result.requests["location query, approved"] = "released"
        result.releases += 1
        result.reads_released += rel.read_count
        result.vehicles_released += rel.vrm_count
    # 4. Refused: the London-wide network is not shared (no DPIA, no Mayoral direction).
    some = watch.genuine[:1] or ["AB12CDE"]
    wide = _request(
        ws,
        now=now,
        vrms=some,
        networks=("ulez_london_2023",),
        start=day,
        end=day,
        case=f"CAD-4400/{day:%y}",
    )
    result.requests["London-wide network"] = wide.status
    result.refusals["London-wide network"] = sorted(wide.failure_codes)
    # 5. Refused: 200-day-old data authorised by an inspector.
    old = _request(
        ws,
        now=now,
        vrms=some,
        start=day - timedelta(days=200),
        end=day - timedelta(days=199),
        case=f"CAD-4500/{day:%y}",
    )
    refused = requests.authorise(ws, old.request_id, INSPECTOR, now)
    result.requests["data 200 days old, inspector"] = refused.status
    result.refusals["data 200 days old, inspector"] = sorted(refused.failure_codes)
    # 6. Withdrawn by the officer before review.
    withdrawn = _request(ws, now=now, vrms=some, start=day, end=day, case=f"CAD-4600/{day:%y}")
    requests.withdraw(
        ws,
        withdrawn.request_id,
        by=REQUESTER.officer_id,
        reason="suspect charged; data no longer needed",
        now=now,
    )
    result.requests["withdrawn by the officer"] = "withdrawn"
    # 7. The data subject of the first release asks what is held.
    if watch.genuine:
        report = subject_access(ws, watch.genuine[0], by="tfl:dpo-office", now=now)
        result.subject_access_delayed = bool(report["delayed_notice"])
    return result
