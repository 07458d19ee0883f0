"""Unicity report: how few known sightings single out a vehicle in the pseudonymised store.

Reads the stored days once into a DuckDB temporary table (pseudonym, epoch, camera, borough,
time), then runs the estimator of `ringfence.oversight.unicity` for every spatial and temporal
resolution, and again for each key rotation period compared. Writes unicity.json, unicity.csv,
SVG charts and unicity.html. Only shares and counts leave the query: no pseudonym is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ringfence.oversight import html, svg
from ringfence.oversight.config import OversightSettings
from ringfence.oversight.unicity import Unicity, estimate_unicity, sightings_sql
from ringfence.services.oversight_equality import (
    day_attrs,
    oversight_settings,
    report_days,
    report_engine,
    write_csv,
)
from ringfence.workspace import Workspace

TEMPORAL_WORDS = {"exact": "to the second", "hour": "to the hour", "day": "to the day"}
SPATIAL_WORDS = {"camera": "at which camera", "borough": "in which borough"}


@dataclass(frozen=True, slots=True)
class UnicityRow:
    spatial: str
    temporal: str
    rotation_days: int
    estimate: Unicity

    def as_dict(self) -> dict[str, Any]:
        share = self.estimate.share
        return {
            "spatial": self.spatial,
            "temporal": self.temporal,
            "rotation_days": self.rotation_days,
            "k": self.estimate.k,
            "traces": self.estimate.traces,
            "sampled": self.estimate.sampled,
            "eligible": self.estimate.eligible,
            "unique": self.estimate.unique,
            "unicity": None if share != share else round(share, 4),
            "median_points_of_unique": None
            if self.estimate.median_points != self.estimate.median_points
            else self.estimate.median_points,
        }


@dataclass
class UnicityReport:
    days: list[date]
    key_rotation_days: int
    settings: OversightSettings
    grid: list[UnicityRow]  # every resolution, at the configured key rotation
    rotation: list[UnicityRow]  # one resolution, each rotation period compared
    statements: list[str]
    notes: list[str]
    seconds: float = 0.0


def compute_unicity(
    ws: Workspace,
    days: Sequence[date],
    settings: OversightSettings,
    *,
    networks: Sequence[str] | None = None,
) -> UnicityReport:
    """Every estimate over the stored reads of `days` (only reads of cameras in `networks`,
    when given: what a recipient of those networks' reads could single out)."""
    files = [f for d in days for f in ws.reads.files(d)]
    rotation_key = ws.settings.key_rotation_days
    anchor = (ws.settings.key_anchor - date(1970, 1, 1)).days
    grid: list[UnicityRow] = []
    rotation: list[UnicityRow] = []
    notes: list[str] = []
    if files:
        con = report_engine(ws)
        try:
            con.register("cameras_lookup", ws.cameras_table())
            only = "" if networks is None else " WHERE c.network IN (SELECT unnest(?))"
            con.execute(
                "CREATE TEMP TABLE oversight_reads AS SELECT r.key_epoch, r.vrm_pseudonym, "
                "r.camera_id, c.borough_gss, r.captured_at, r.charge_day "
                f"FROM {ws.reads.scan(files)} r LEFT JOIN cameras_lookup c USING (camera_id)"
                + only,
                [] if networks is None else [list(networks)],
            )

            def run(spatial: str, temporal: str, period: int) -> list[UnicityRow]:
                rel = sightings_sql(
                    "SELECT * FROM oversight_reads",
                    spatial=spatial,
                    temporal=temporal,
                    # a pseudonym never links across key epochs, whatever the window
                    rotation_days=min(period, rotation_key),
                    anchor_day=anchor,
                )
                found = estimate_unicity(
                    con,
                    rel,
                    ks=settings.unicity_k,
                    sample=settings.unicity_sample,
                    seed=settings.unicity_seed,
                )
                return [UnicityRow(spatial, temporal, period, u) for u in found]

            for spatial in settings.unicity_spatial:
                for temporal in settings.unicity_temporal:
                    grid += run(spatial, temporal, rotation_key)
            sp, tm = settings.unicity_rotation_resolution
            for period in settings.unicity_rotation_days:
                rotation += run(sp, tm, period)
        finally:
            con.close()
    else:
        notes.append("The store holds none of the report days: nothing to estimate.")
    if len(days) < max(settings.unicity_rotation_days, default=1):
        notes.append(
            f"The report covers {len(days)} charge day(s): rotation periods longer than that "
            "link no more than the whole period does, so their estimates coincide."
        )
    if any(p > rotation_key for p in settings.unicity_rotation_days):
        notes.append(
            f"Keys rotate every {rotation_key} day(s) here: a longer period is estimated as "
            f"{rotation_key} days, because pseudonyms of different epochs cannot be linked."
        )
    notes += [
        "Unicity is estimated on a seeded sample of traces (de Montjoye et al., 2013, "
        "Scientific Reports 3:1376); traces with fewer distinct points than k are not "
        "eligible at k.",
        "The store holds only the reads that retention has kept: after the payment window, "
        "reads of vehicles that owed nothing or paid are deleted, so later reports describe "
        "the vehicles still under enforcement.",
    ]
    return UnicityReport(
        days=list(days),
        key_rotation_days=rotation_key,
        settings=settings,
        grid=grid,
        rotation=rotation,
        statements=statements(grid, rotation_key),
        notes=notes,
    )


def statements(grid: Sequence[UnicityRow], rotation_days: int) -> list[str]:
    """What an attacker with k known sightings learns, per resolution, in plain words."""
    out = []
    for row in grid:
        u = row.estimate
        if u.k != 2 and u.k != max(r.estimate.k for r in grid):
            continue
        if u.eligible == 0:
            continue
        out.append(
            f"Knowing {u.k} sighting(s) of a vehicle ({SPATIAL_WORDS[row.spatial]}, "
            f"{TEMPORAL_WORDS[row.temporal]}) singles out its trace in {100 * u.share:.1f}% of "
            f"cases ({u.unique} of {u.eligible} sampled traces with at least {u.k} points); "
            f"the attacker then learns every other read under that pseudonym, for up to "
            f"{rotation_days} day(s) (one key epoch): a median of {u.median_points:g} distinct "
            "places and times for the traces singled out."
        )
    return out


def _series(rows: Sequence[UnicityRow], key: str) -> dict[str, list[tuple[float, float]]]:
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        name = (
            f"{r.spatial} / {r.temporal}" if key == "resolution" else f"{r.rotation_days}-day keys"
        )
        share = r.estimate.share
        series.setdefault(name, []).append((float(r.estimate.k), share))
    return series


def unicity_figures(report: UnicityReport) -> list[tuple[str, str, str]]:
    sp, tm = report.settings.unicity_rotation_resolution
    return [
        (
            "chart-unicity-by-resolution",
            svg.line_chart(
                _series(report.grid, "resolution"),
                title="Share of traces unique, by known sightings k",
                x_label="k known sightings",
                y_label="unicity",
            ),
            f"One line per spatial / temporal resolution, pseudonyms linkable for "
            f"{report.key_rotation_days} day(s) (the key rotation).",
        ),
        (
            "chart-unicity-by-rotation",
            svg.line_chart(
                _series(report.rotation, "rotation"),
                title=f"Unicity by key rotation period ({sp} / {tm})",
                x_label="k known sightings",
                y_label="unicity",
            ),
            "Shorter key epochs cut each trace into shorter, less unique pieces.",
        ),
    ]


def unicity_json(report: UnicityReport) -> dict[str, Any]:
    s = report.settings
    return {
        "report": "unicity",
        "days": [d.isoformat() for d in report.days],
        "key_rotation_days": report.key_rotation_days,
        "settings": {
            "k": list(s.unicity_k),
            "spatial": list(s.unicity_spatial),
            "temporal": list(s.unicity_temporal),
            "rotation_days": list(s.unicity_rotation_days),
            "rotation_resolution": list(s.unicity_rotation_resolution),
            "sample": s.unicity_sample,
            "seed": s.unicity_seed,
        },
        "grid": [r.as_dict() for r in report.grid],
        "rotation": [r.as_dict() for r in report.rotation],
        "statements": report.statements,
        "notes": report.notes,
        "seconds": round(report.seconds, 2),
    }


def unicity_html(report: UnicityReport, figures: Sequence[tuple[str, str, str]]) -> str:
    columns = ["spatial", "temporal", "rotation days", "k", "eligible", "unique", "unicity"]

    def rows(found: Sequence[UnicityRow]) -> list[list[object]]:
        return [
            [
                d["spatial"],
                d["temporal"],
                d["rotation_days"],
                d["k"],
                d["eligible"],
                d["unique"],
                "n/a" if d["unicity"] is None else f"{100 * d['unicity']:.1f}%",
            ]
            for d in (r.as_dict() for r in found)
        ]

    days = report.days
    period = f"{days[0]} to {days[-1]} ({len(days)} day(s))" if days else "no stored days"
    return html.page(
        "Ringfence re-identification risk (unicity)",
        [
            ("What an attacker with k known sightings learns", html.bullets(report.statements)),
            ("Charts", "".join(html.figure(s, c) for _, s, c in figures)),
            ("By resolution", html.table(columns, rows(report.grid))),
            ("By key rotation period", html.table(columns, rows(report.rotation))),
            ("Notes", html.bullets(report.notes)),
        ],
        intro=[
            f"Charge days: {period}. A trace is every read under one pseudonym within one key "
            "epoch; unicity at k is the share of traces that are the only one holding k of "
            "their points drawn at random.",
        ],
    )


def unicity_report(
    ws: Workspace, out_dir: Path, *, days: Sequence[date] | None = None
) -> tuple[UnicityReport, dict[str, Path]]:
    """Estimate and write the unicity report; returns it and the paths written."""
    import json

    started = datetime.now(UTC)
    chosen = report_days(ws, days)
    report = compute_unicity(ws, chosen, oversight_settings(ws))
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = unicity_figures(report)
    paths = {
        "json": out_dir / "unicity.json",
        "csv": write_csv(
            out_dir / "unicity.csv", [r.as_dict() for r in [*report.grid, *report.rotation]]
        ),
        "html": out_dir / "unicity.html",
    }
    paths["json"].write_text(json.dumps(unicity_json(report), indent=2) + "\n", encoding="utf-8")
    for stem, body, _ in figures:
        (out_dir / f"unicity-{stem}.svg").write_text(body, encoding="utf-8")
    paths["html"].write_text(unicity_html(report, figures), encoding="utf-8")
    ws.record(
        "unicity-report",
        subject=f"charge days {chosen[0]}..{chosen[-1]}" if chosen else "no days",
        why="oversight: re-identification risk estimated over pseudonymised reads; only "
        "shares and counts were written",
        counts={"days": len(chosen), "estimates": len(report.grid) + len(report.rotation)},
        attrs=day_attrs(chosen),
    )
    return report, paths
