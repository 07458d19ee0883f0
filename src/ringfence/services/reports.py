"""Every oversight report at once, and one index page linking them (the demo ends with it).

Each report is written by its own service; this module only runs them in order and writes
`index.html`, a self-contained page (relative links, nothing fetched) naming what each report
is for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path

from ringfence.oversight import html as pages
from ringfence.services.dpia_evidence import load_proposal, write_evidence
from ringfence.services.oversight_equality import equality_report
from ringfence.services.oversight_unicity import unicity_report
from ringfence.services.transparency import build_report, write_report
from ringfence.workspace import Workspace

__all__ = ["Report", "oversight_reports", "transparency_reports", "write_all", "write_index"]


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    path: Path
    about: str


def write_index(out_dir: Path, reports: Sequence[Report], *, now: datetime) -> Path:
    """`index.html` linking each report by a path relative to the index."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f"<li><a href='{escape(os.path.relpath(r.path, out_dir))}'>"
        f"{escape(r.title)}</a>: {escape(r.about)}</li>"
        for r in reports
    )
    page = pages.page(
        "Ringfence oversight reports",
        [("Reports", f"<ul>{items}</ul>")],
        intro=[
            f"Written {now.isoformat(timespec='seconds')} from this Ringfence installation's own "
            "records: the read store, the state database and the audit log."
        ],
    )
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def oversight_reports(
    ws: Workspace,
    out_dir: Path,
    *,
    now: datetime,
    days: Sequence[date] | None = None,
    keepers: Path | None = None,
    proposal: str = "london_wide_sharing",
) -> list[Report]:
    """Equality, unicity and the DPIA evidence pack over the stored charge days."""
    chosen = list(days) if days is not None else None
    _, equality = equality_report(ws, out_dir, days=chosen, keepers=keepers)
    _, unicity = unicity_report(ws, out_dir, days=chosen)
    change = load_proposal(proposal)
    evidence = write_evidence(ws, change, out_dir, days=chosen, now=now)
    return [
        Report(
            "Equality and disproportionality",
            equality["html"],
            "cameras, reads, penalties and police use per borough and MSOA against Census 2021; "
            "rings of steel; who gains exposure in each sharing scenario",
        ),
        Report(
            "Re-identification risk (unicity)",
            unicity["html"],
            "how many known sightings single out a vehicle, by resolution and key rotation",
        ),
        Report(
            "DPIA evidence: " + change.title,
            evidence["html"],
            "measured evidence for a proposed change to police access (not a decision)",
        ),
    ]


def transparency_reports(
    ws: Workspace, out_dir: Path, *, start: date, end: date, now: datetime, public: bool = True
) -> list[Report]:
    """The internal (exact, owner-only) transparency report, and the public one (differentially
    private, spending privacy budget) unless ``public`` is false."""
    made = []
    for visibility in (False, True) if public else (False,):
        report = build_report(ws, start=start, end=end, public=visibility, now=now)
        folder = out_dir / "transparency" / ("public" if visibility else "internal")
        paths = write_report(ws, report, folder)
        made.append(
            Report(
                f"Transparency report, {start} to {end} ({'public' if visibility else 'internal'})",
                paths["html"],
                "reads, charges, penalties, police requests, releases, hotlists, key "
                "destructions and checkpoints, from the audit log"
                + (
                    "; small cells protected with differential privacy"
                    if visibility
                    else "; exact, not for publication"
                ),
            )
        )
    return made


def write_all(
    ws: Workspace,
    out_dir: Path,
    *,
    now: datetime,
    start: date,
    end: date,
    days: Sequence[date] | None = None,
    keepers: Path | None = None,
    proposal: str = "london_wide_sharing",
    public: bool = False,
) -> Path:
    """Every report, then the index linking them; returns the index's path."""
    reports = oversight_reports(ws, out_dir, now=now, days=days, keepers=keepers, proposal=proposal)
    reports += transparency_reports(ws, out_dir, start=start, end=end, now=now, public=public)
    return write_index(out_dir, reports, now=now)
