"""Every oversight report at once, and one index page linking them (the demo ends with it).

Each report is written by its own service; this module only runs them in order and writes
`index.html`, a self-contained page (relative links, nothing fetched) naming what each report
is for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path

from ringfence.oversight import html as pages
from ringfence.services.dpia_evidence import load_proposal, write_evidence
from ringfence.services.oversight_equality import equality_report
from ringfence.services.oversight_unicity import unicity_report
from ringfence.workspace import Workspace

__all__ = ["Report", "write_all", "write_index"]


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


Step = Callable[[], Report]


def write_all(
    ws: Workspace,
    out_dir: Path,
    *,
    now: datetime,
    days: Sequence[date] | None = None,
    keepers: Path | None = None,
    proposal: str = "london_wide_sharing",
    extra: Sequence[Step] = (),
) -> Path:
    """Equality, unicity and the DPIA evidence pack (and any ``extra`` reports), then the index.
    Returns the index's path."""
    chosen = list(days) if days is not None else None
    _, equality = equality_report(ws, out_dir, days=chosen, keepers=keepers)
    _, unicity = unicity_report(ws, out_dir, days=chosen)
    evidence = write_evidence(ws, load_proposal(proposal), out_dir, days=chosen, now=now)
    reports = [
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
            "DPIA evidence: " + load_proposal(proposal).title,
            evidence["html"],
            "measured evidence for a proposed change to police access (not a decision)",
        ),
        *(step() for step in extra),
    ]
    return write_index(out_dir, reports, now=now)
