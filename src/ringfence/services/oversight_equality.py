"""Equality report: who is watched, charged and exposed to police access, by area and group.

Gathers plain inputs from the workspace (cameras from the state database, read counts from the
store through DuckDB, PCNs and police requests from state, hotlist hits if a `hotlist_hits` table
exists), hands them to the pure `ringfence.oversight` modules, and writes JSON, CSV and one
self-contained HTML page. `write_reports` writes this report and the unicity report together
(the demo calls it).

Where a count can be attributed to residents only through the vehicle's keeper (vehicles read,
PCNs, police requests), a keepers file is needed: a register with `vrm` and `keeper_msoa21cd`
(the simulator's `vehicles.parquet` has both). Without it those indicators are reported as not
measured, never as zero.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import inspect, select

from ringfence.domain.reads import normalise_sql
from ringfence.errors import ConfigError, InputError, KeyDestroyedError
from ringfence.oversight import html, svg
from ringfence.oversight.config import OversightSettings, Scenario
from ringfence.oversight.equality import (
    INDICATORS,
    Association,
    associations,
    rates,
)
from ringfence.oversight.geography import COMPOSITION, Areas, load_areas, load_zones
from ringfence.oversight.rings import (
    OPEN,
    ZoneGraph,
    cell_sizes,
    cells,
    is_ringed,
    unwatched_exits,
    watched_links,
)
from ringfence.stores.readstore import charge_day_of, london_day_bounds, relation_columns
from ringfence.stores.state import AccessRequestRow, HotlistHitRow, PenaltyNoticeRow
from ringfence.workspace import Workspace

F64 = npt.NDArray[np.float64]
#: Zone outlines drawn on the maps.
MAP_ZONES = ("ccz", "ulez_2021_inner", "lez_2008")


def oversight_settings(ws: Workspace) -> OversightSettings:
    """The packaged `[oversight]` section, overridden key by key by `<data-dir>/ringfence.toml`."""
    raw: dict[str, Any] = tomllib.loads(
        (files("ringfence") / "defaults.toml").read_text(encoding="utf-8")
    )["oversight"]
    local = ws.data_dir / "ringfence.toml"
    if local.exists():
        try:
            raw = {**raw, **tomllib.loads(local.read_text(encoding="utf-8")).get("oversight", {})}
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{local}: {exc}") from exc
    return OversightSettings.from_mapping(raw)


def report_engine(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for report queries: two threads (reports share the machine with
    ingest), and no progress bar, which DuckDB would print on stdout over `--json` output."""
    con = ws.engine(threads=2)
    con.execute("SET enable_progress_bar = false")
    return con


def report_days(ws: Workspace, days: Sequence[date] | None) -> list[date]:
    """The charge days asked for that the store holds; all stored days when none are asked."""
    stored = ws.reads.days()
    chosen = sorted(set(days)) if days else stored
    return [d for d in chosen if d in set(stored)]


# -- inputs ------------------------------------------------------------------------------


@dataclass
class EqualityInputs:
    """Everything the report needs, as plain tables and dicts (no workspace)."""

    days: list[date]
    cameras: pa.Table  # camera_id, lat, lon, network, site_kind, commissioned_on, ...
    reads_per_camera: dict[str, int]  # over all `days`
    vehicles_read_by_msoa: dict[str, int] | None  # distinct (day, vehicle), by keeper's MSOA
    pcns_by_msoa: dict[str, int] | None  # by keeper's MSOA
    police_requests_by_msoa: dict[str, int] | None  # (request, VRM) pairs, by keeper's MSOA
    hotlist_hits_by_camera: dict[str, int] = field(default_factory=dict)  # where the read was
    notes: list[str] = field(default_factory=list)


def load_keepers(ws: Workspace, path: Path) -> pa.Table:
    """`vrm` (normalised) and `keeper_msoa21cd` from a register file (.parquet or .csv)."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    p = str(path).replace("'", "''")
    source = (
        f"read_csv('{p}', all_varchar = true)"
        if path.suffix == ".csv"
        else (f"read_parquet('{p}')")
    )
    con = report_engine(ws)
    try:
        columns = relation_columns(con, f"SELECT * FROM {source}")
        if not {"vrm", "keeper_msoa21cd"} <= columns:
            raise InputError(f"{path}: a keepers file needs columns vrm and keeper_msoa21cd")
        return con.sql(
            f"SELECT DISTINCT {normalise_sql('CAST(vrm AS VARCHAR)')} AS vrm, "
            "CAST(keeper_msoa21cd AS VARCHAR) AS msoa FROM " + source + " "
            "WHERE keeper_msoa21cd IS NOT NULL AND keeper_msoa21cd <> ''"
        ).to_arrow_table()
    finally:
        con.close()


def _keeper_pseudonyms(ws: Workspace, keepers: pa.Table, days: Sequence[date]) -> pa.Table:
    """(key_epoch, vrm_pseudonym, msoa) for every keeper under each live epoch of the days."""
    vrms = keepers.column("vrm").to_pylist()
    msoas = keepers.column("msoa")
    parts = []
    for epoch in {e.epoch for d in days if (e := ws.keys.epoch_for_day(d)) is not None}:
        try:
            keys = ws.keys.keys(epoch)
        except KeyDestroyedError:
            continue  # crypto-shredded: its reads cannot be linked to anyone, by design
        parts.append(
            pa.table(
                {
                    "key_epoch": pa.array([epoch] * len(vrms), pa.int32()),
                    "vrm_pseudonym": pa.array(keys.pseudonymise(vrms), pa.binary()),
                    "msoa": msoas,
                }
            )
        )
    if not parts:
        return pa.table(
            {
                "key_epoch": pa.array([], pa.int32()),
                "vrm_pseudonym": pa.array([], pa.binary()),
                "msoa": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts)


def _pairs(rows: Sequence[tuple[Any, Any]]) -> dict[str, int]:
    return {str(k): int(v) for k, v in rows if k is not None}


def gather_equality_inputs(
    ws: Workspace, days: Sequence[date], *, keepers: Path | None = None
) -> EqualityInputs:
    """Read the workspace once: cameras, read counts, PCNs, requests, hotlist hits."""
    cameras = ws.cameras_table()
    files = [f for d in days for f in ws.reads.files(d)]
    notes: list[str] = []
    con = report_engine(ws)
    try:
        reads_per_camera: dict[str, int] = {}
        if files:
            reads_per_camera = _pairs(
                con.sql(
                    f"SELECT camera_id, count(*) FROM {ws.reads.scan(files)} GROUP BY 1"
                ).fetchall()
            )
        vehicles = pcns = requests = None
        if keepers is not None:
            keeper_table = load_keepers(ws, keepers)
            con.register("keepers", keeper_table)
            con.register("keeper_pseudonyms", _keeper_pseudonyms(ws, keeper_table, days))
            vehicles = {}
            if files:
                vehicles = _pairs(
                    con.sql(
                        "SELECT k.msoa, count(*) FROM (SELECT DISTINCT charge_day, key_epoch, "
                        f"vrm_pseudonym FROM {ws.reads.scan(files)}) r "
                        "JOIN keeper_pseudonyms k USING (key_epoch, vrm_pseudonym) GROUP BY 1"
                    ).fetchall()
                )
            con.register("pcn_vrms", _pcn_vrms(ws, days))
            pcns = _pairs(
                con.sql(
                    "SELECT k.msoa, count(*) FROM pcn_vrms p JOIN keepers k USING (vrm) GROUP BY 1"
                ).fetchall()
            )
            con.register("request_vrms", _request_vrms(ws))
            requests = _pairs(
                con.sql(
                    "SELECT k.msoa, count(*) FROM request_vrms q JOIN keepers k USING (vrm) "
                    "GROUP BY 1"
                ).fetchall()
            )
        else:
            notes.append(
                "No keepers file was given, so vehicles read, PCNs and police requests (which "
                "are attributed to where the vehicle's keeper lives) are not measured."
            )
    finally:
        con.close()
    hits = hotlist_hits_by_camera(ws, days) if days else {}
    if hits is None:
        notes.append("No hotlist_hits table exists: hotlist hits are counted as zero.")
    return EqualityInputs(
        days=list(days),
        cameras=cameras,
        reads_per_camera=reads_per_camera,
        vehicles_read_by_msoa=vehicles,
        pcns_by_msoa=pcns,
        police_requests_by_msoa=requests,
        hotlist_hits_by_camera=hits or {},
        notes=notes,
    )


def _pcn_vrms(ws: Workspace, days: Sequence[date]) -> pa.Table:
    with ws.state.session() as s:
        vrms = s.scalars(
            select(PenaltyNoticeRow.vrm).where(PenaltyNoticeRow.charge_day.in_(list(days)))
        ).all()
    return pa.table({"vrm": pa.array(list(vrms), pa.string())})


def _request_vrms(ws: Workspace) -> pa.Table:
    """One row per (request, VRM asked about), over every request recorded."""
    with ws.state.session() as s:
        scopes = s.scalars(select(AccessRequestRow.scope)).all()
    vrms: list[str] = []
    for scope in scopes:
        asked = (scope or {}).get("vrms") or []
        if isinstance(asked, list):
            vrms += [str(v) for v in asked]
    return pa.table({"vrm": pa.array(vrms, pa.string())})


def hotlist_hits_by_camera(ws: Workspace, days: Sequence[date]) -> dict[str, int] | None:
    """Hotlist hits per camera on the report days (London charge days); None if the state has
    no `hotlist_hits` table (a database from before migration 0007)."""
    if "hotlist_hits" not in inspect(ws.state.engine).get_table_names():
        return None
    chosen = set(days)
    first, last = london_day_bounds(min(chosen))[0], london_day_bounds(max(chosen))[1]
    with ws.state.session() as s:
        rows = s.execute(
            select(HotlistHitRow.camera_id, HotlistHitRow.captured_at).where(
                HotlistHitRow.captured_at >= first, HotlistHitRow.captured_at < last
            )
        ).all()
    hits: dict[str, int] = {}
    for camera_id, captured_at in rows:
        if charge_day_of(captured_at) in chosen:
            hits[camera_id] = hits.get(camera_id, 0) + 1
    return hits


# -- computation -------------------------------------------------------------------------


def cameras_in_service(cameras: pa.Table, day: date) -> pa.Table:
    """Fixed cameras in service on a day (mobile vans have no fixed site to place)."""
    rows = [
        r
        for r in cameras.to_pylist()
        if r["site_kind"] != "mobile"
        and (r["commissioned_on"] is None or r["commissioned_on"] <= day)
        and (r["decommissioned_on"] is None or r["decommissioned_on"] > day)
    ]
    return pa.Table.from_pylist(rows, schema=cameras.schema)


@dataclass
class LevelTable:
    areas: Areas
    counts: dict[str, F64]
    rates: dict[str, F64]


def _by_code(areas: Areas, values: Mapping[str, int]) -> F64:
    index = areas.index()
    out = np.zeros(len(areas))
    for code, v in values.items():
        if code in index:
            out[index[code]] += v
    return out


def _to_boroughs(msoa: Areas, boroughs: Areas, values: F64) -> F64:
    parent = np.array([boroughs.index()[p] for p in msoa.parent], dtype=np.int64)
    return np.bincount(parent, weights=values, minlength=len(boroughs)).astype(np.float64)


def msoa_counts(msoa: Areas, inputs: EqualityInputs, in_service: pa.Table) -> dict[str, F64]:
    """Numerators per MSOA. Cameras are the fixed ones in service (`in_service`); reads and hits
    count at every registered camera, decommissioned or mobile too, where it is recorded as
    standing, so no read is lost from the totals."""
    every = inputs.cameras
    cam_ids = every.column("camera_id").to_pylist()
    where = msoa.locate(every.column("lon").to_numpy(), every.column("lat").to_numpy())
    fixed = msoa.locate(in_service.column("lon").to_numpy(), in_service.column("lat").to_numpy())
    n_days = max(len(inputs.days), 1)

    def at_cameras(per_camera: Mapping[str, int]) -> F64:
        weights = np.array([per_camera.get(c, 0) for c in cam_ids], dtype=np.float64)
        return np.bincount(where, weights=weights, minlength=len(msoa)).astype(np.float64)

    counts = {
        "cameras": np.bincount(fixed, minlength=len(msoa)).astype(np.float64),
        "reads_per_day": at_cameras(inputs.reads_per_camera) / n_days,
        "hotlist_hits": at_cameras(inputs.hotlist_hits_by_camera),
    }
    if inputs.vehicles_read_by_msoa is not None:
        counts["vehicles_read_per_day"] = _by_code(msoa, inputs.vehicles_read_by_msoa) / n_days
    if inputs.pcns_by_msoa is not None:
        counts["pcns"] = _by_code(msoa, inputs.pcns_by_msoa)
    if inputs.police_requests_by_msoa is not None:
        counts["police_requests"] = _by_code(msoa, inputs.police_requests_by_msoa)
    return counts


@dataclass
class ScenarioRings:
    scenario: Scenario
    cameras: int
    links: int
    watched: int
    ring_cells: int  # enclosed cells of at most ring_max_area_km2
    msoa_covered: npt.NDArray[np.bool_]  # a camera of the scenario stands in the MSOA
    msoa_enclosed: npt.NDArray[np.bool_]  # in a cell: cannot reach outside London unread
    msoa_ringed: npt.NDArray[np.bool_]  # in a cell of at most ring_max_area_km2
    msoa_cell_km2: F64  # area of the MSOA's cell, NaN when it is open
    named: list[dict[str, Any]]
    exposure: list[dict[str, Any]]
    rings: list[dict[str, Any]]  # each ring of steel with who lives in it


def ring_demographics(
    msoa: Areas, boroughs: Areas, cell_of_msoa: npt.NDArray[np.int64], ringed: npt.NDArray[np.bool_]
) -> list[dict[str, Any]]:
    """Each ring of steel: its area, residents, boroughs and ethnic composition, flagged against
    London's (a ring whose share of a group is over 1.25 times London's is marked)."""
    names = dict(zip(boroughs.codes, boroughs.names, strict=True))
    pop = msoa.population
    london = {
        "not White British": 1 - msoa.ethnic["White British"].sum() / pop.sum(),
        "Black": msoa.ethnic["Black"].sum() / pop.sum(),
        "Asian": msoa.ethnic["Asian"].sum() / pop.sum(),
    }
    out = []
    for number, cell in enumerate(np.unique(cell_of_msoa[ringed])):
        members = ringed & (cell_of_msoa == cell)
        residents = float(pop[members].sum())
        shares = {
            "not White British": 1 - msoa.ethnic["White British"][members].sum() / residents,
            "Black": msoa.ethnic["Black"][members].sum() / residents,
            "Asian": msoa.ethnic["Asian"][members].sum() / residents,
        }
        over = [g for g, v in shares.items() if v > 1.25 * london[g]]
        out.append(
            {
                "ring": number + 1,
                "area_km2": round(float(msoa.area_km2[members].sum()), 2),
                "residents": round(residents),
                "msoas": int(members.sum()),
                "boroughs": sorted({names[msoa.parent[i]] for i in np.flatnonzero(members)}),
                **{
                    f"pct_{_slug(g).replace('-', '_')}": round(100 * v, 1)
                    for g, v in shares.items()
                },
                "over_represented": over,
            }
        )
    return out


def zone_graph() -> tuple[ZoneGraph, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The simulator's road graph of London (152 zones, gateways outside): graph, the zone of
    each MSOA (in MSOA code order), and each zone's band (0 CCZ, 1 inner ULEZ, 2 outer)."""
    from ringfence.simulate._traffic import GATEWAY_BAND, build_traffic_network

    net = build_traffic_network()
    graph = ZoneGraph(
        node_x=net.node_x,
        node_y=net.node_y,
        is_outside=net.node_band == GATEWAY_BAND,
        link_u=net.link_u,
        link_v=net.link_v,
    )
    return graph, net.msoa_zone, net.node_band


def scenario_rings(
    msoa: Areas,
    boroughs: Areas,
    cameras: pa.Table,
    settings: OversightSettings,
) -> list[ScenarioRings]:
    """Per scenario: watched links, enclosed cells, rings of steel and who lives in them."""
    from ringfence.simulate._geo import to_xy

    graph, msoa_zone, band = zone_graph()
    n_zones = len(np.unique(msoa_zone))
    zone_km2 = np.bincount(msoa_zone, weights=msoa.area_km2, minlength=graph.n_nodes).astype(
        np.float64
    )
    cam_msoa = msoa.locate(cameras.column("lon").to_numpy(), cameras.column("lat").to_numpy())
    cam_x, cam_y = to_xy(cameras.column("lon").to_numpy(), cameras.column("lat").to_numpy())
    networks = np.array(cameras.column("network").to_pylist(), dtype=object)
    zone_borough = np.full(graph.n_nodes, "", dtype=object)
    zone_borough[msoa_zone] = np.array(msoa.parent, dtype=object)
    named_sets = {
        "Congestion Charge zone (central zones)": band == 0,
        "Inner ULEZ 2021 (inner zones)": band <= 1,
        "Greater London": band <= 2,
        **{
            f"Borough: {n}": zone_borough == c
            for c, n in zip(boroughs.codes, boroughs.names, strict=True)
        },
    }
    out = []
    for scenario in settings.scenarios:
        chosen = np.isin(networks, list(scenario.networks))
        watched = watched_links(graph, cam_x[chosen], cam_y[chosen], settings.ring_watch_radius_m)
        cell = cells(graph, watched)
        size = cell_sizes(cell, zone_km2)
        cell_of_msoa = cell[msoa_zone]
        km2 = size[msoa_zone]
        enclosed = cell_of_msoa != OPEN
        ringed = enclosed & (km2 <= settings.ring_max_area_km2)
        covered = np.zeros(len(msoa), dtype=bool)
        covered[cam_msoa[chosen]] = True
        ring_ids = np.unique(
            cell[:n_zones][(cell[:n_zones] >= 0) & (size[:n_zones] <= settings.ring_max_area_km2)]
        )
        named = [
            {
                "area": name,
                "ringed": is_ringed(graph, members, watched),
                "unwatched_exits": len(unwatched_exits(graph, members, watched)),
            }
            for name, members in named_sets.items()
        ]
        out.append(
            ScenarioRings(
                scenario=scenario,
                cameras=int(chosen.sum()),
                links=len(watched),
                watched=int(watched.sum()),
                ring_cells=len(ring_ids),
                msoa_covered=covered,
                msoa_enclosed=enclosed,
                msoa_ringed=ringed,
                msoa_cell_km2=km2,
                named=named,
                rings=ring_demographics(msoa, boroughs, cell_of_msoa, ringed),
                exposure=exposure(msoa, covered, enclosed, ringed),
            )
        )
    for before, after in pairwise(out):
        for old, new in zip(before.exposure, after.exposure, strict=True):
            # what sharing one more network adds, for each group
            new["covered_gain"] = new["covered"] - old["covered"]
            new["ringed_gain"] = new["ringed"] - old["ringed"]
    return out


def exposure_summary(rings: Sequence[ScenarioRings]) -> list[str]:
    """One sentence per scenario: who lives inside rings of steel, and who gains exposure."""
    lines = []
    previous: ScenarioRings | None = None
    for r in rings:
        rows = {row["group"]: row for row in r.exposure}
        groups = [g for g in rows if g != "All residents"]
        most = max(groups, key=lambda g: rows[g]["ringed_share"])
        least = min(groups, key=lambda g: rows[g]["ringed_share"])
        verb = "is" if len(r.scenario.networks) == 1 else "are"
        head = (
            f"If {', '.join(r.scenario.networks)} {verb} shared, "
            f"{rows['All residents']['ringed']:,} residents "
            f"({100 * rows['All residents']['ringed_share']:.1f}%) live inside a ring of steel; "
            f"the most exposed group is {most} ({100 * rows[most]['ringed_share']:.1f}%), the "
            f"least {least} ({100 * rows[least]['ringed_share']:.1f}%)"
        )
        if previous is not None:
            gain = rows["All residents"]["ringed_gain"]
            top = max(groups, key=lambda g: rows[g]["ringed_gain"] / max(rows[g]["residents"], 1))
            head += (
                f". Compared with {previous.scenario.name}, {gain:,} more residents are ringed, "
                f"the largest gain relative to its size for {top} residents "
                f"(+{100 * rows[top]['ringed_gain'] / max(rows[top]['residents'], 1):.1f} "
                "points)"
            )
        lines.append(head + ".")
        previous = r
    return lines


def exposure(
    msoa: Areas,
    covered: npt.NDArray[np.bool_],
    enclosed: npt.NDArray[np.bool_],
    ringed: npt.NDArray[np.bool_],
) -> list[dict[str, Any]]:
    """Residents of each ethnic group living where cameras are, enclosed, or ringed."""
    rows = []
    for group, residents in {"All residents": msoa.population, **msoa.ethnic}.items():
        total = float(residents.sum())
        row: dict[str, Any] = {"group": group, "residents": round(total)}
        for name, mask in (("covered", covered), ("enclosed", enclosed), ("ringed", ringed)):
            value = float(residents[mask].sum())
            row[name] = round(value)
            row[f"{name}_share"] = value / total if total else float("nan")
        # against sharing nothing; `scenario_rings` makes it against the previous scenario
        row["covered_gain"], row["ringed_gain"] = row["covered"], row["ringed"]
        rows.append(row)
    return rows


@dataclass
class EqualityReport:
    days: list[date]
    settings: OversightSettings
    levels: dict[str, LevelTable]
    associations: list[Association]
    rings: list[ScenarioRings]
    cameras: pa.Table  # fixed cameras in service on the last day
    notes: list[str]
    seconds: float = 0.0


def compute_equality(inputs: EqualityInputs, settings: OversightSettings) -> EqualityReport:
    """Indicators per MSOA and borough, their associations with composition, and rings."""
    msoa, boroughs = load_areas("msoa"), load_areas("borough")
    last = max(inputs.days) if inputs.days else datetime.now(UTC).date()
    cameras = cameras_in_service(inputs.cameras, last)
    m_counts = msoa_counts(msoa, inputs, cameras)
    b_counts = {k: _to_boroughs(msoa, boroughs, v) for k, v in m_counts.items()}
    levels = {
        "borough": LevelTable(boroughs, b_counts, rates(boroughs, b_counts)),
        "msoa": LevelTable(msoa, m_counts, rates(msoa, m_counts)),
    }
    found: list[Association] = []
    for level in levels.values():
        found += associations(
            level.areas,
            level.counts,
            groups=settings.quintiles,
            iterations=settings.bootstrap_iterations,
            seed=settings.bootstrap_seed,
            confidence=settings.confidence,
            min_events=settings.min_events,
        )
    return EqualityReport(
        days=list(inputs.days),
        settings=settings,
        levels=levels,
        associations=found,
        rings=scenario_rings(msoa, boroughs, cameras, settings),
        cameras=cameras,
        notes=[*inputs.notes, *CAVEATS],
    )


CAVEATS = (
    "Cameras, reads and hotlist hits are counted where the camera stands; vehicles read, PCNs "
    "and police requests where the vehicle's keeper lives (Census 2021 residents and cars).",
    "Police requests count every vehicle-history request recorded (any outcome, refused ones "
    "too) once per VRM asked about, by the keeper's MSOA; location requests name places, not "
    "residents, and are not counted. Hotlist hits count every alert raised on the report days "
    "(confirmed or not: a false alert is a burden too), where the camera stands.",
    "Residents' vehicles are Census 2021 cars and vans (a lower bound), so shares can exceed "
    "what a register count would give.",
    "Associations are between areas, not people: an area-level correlation says nothing about "
    "how any one resident is treated (the ecological fallacy).",
    "Rings of steel are found on the simulator's road graph of London (about 150 zones and the "
    "links between them): a link is watched when a camera stands within the configured radius "
    "of it. Minor roads are not modelled, so a ring here can leak in reality, and the reverse.",
)


# -- output ------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def area_rows(report: EqualityReport, level: str) -> list[dict[str, Any]]:
    table = report.levels[level]
    a = table.areas
    rows = []
    for i, code in enumerate(a.codes):
        row: dict[str, Any] = {
            "code": code,
            "name": a.names[i],
            "borough": a.parent[i],
            "population": a.population[i],
            "area_km2": a.area_km2[i],
            "cars_vans_min": a.cars[i],
            **{c: a.composition[c][i] for c in COMPOSITION},
            **{k: v[i] for k, v in table.counts.items()},
            **{k: v[i] for k, v in table.rates.items()},
        }
        if level == "msoa":
            for r in report.rings:
                row[f"ringed:{r.scenario.name}"] = r.msoa_ringed[i]
                row[f"cell_km2:{r.scenario.name}"] = r.msoa_cell_km2[i]
        rows.append({k: _clean(v) for k, v in row.items()})
    return rows


def association_rows(report: EqualityReport) -> list[dict[str, Any]]:
    return [
        {
            "level": a.level,
            "indicator": a.indicator,
            "composition": a.composition,
            "n_areas": a.correlation.n,
            "spearman_rho": _clean(a.correlation.rho),
            "ci_low": _clean(a.correlation.ci_low),
            "ci_high": _clean(a.correlation.ci_high),
            "groups": a.ratio.groups,
            "rate_highest_group": _clean(a.ratio.rate_highest),
            "rate_lowest_group": _clean(a.ratio.rate_lowest),
            "ratio": _clean(a.ratio.ratio),
            "finding": a.finding,
        }
        for a in report.associations
    ]


def exposure_rows(report: EqualityReport) -> list[dict[str, Any]]:
    return [
        {"scenario": r.scenario.name, **{k: _clean(v) for k, v in row.items()}}
        for r in report.rings
        for row in r.exposure
    ]


def ring_rows(report: EqualityReport) -> list[dict[str, Any]]:
    return [
        {
            "scenario": r.scenario.name,
            **{k: "; ".join(v) if isinstance(v, list) else v for k, v in ring.items()},
        }
        for r in report.rings
        for ring in r.rings
    ]


def report_json(report: EqualityReport) -> dict[str, Any]:
    s = report.settings
    return {
        "report": "equality",
        "days": [d.isoformat() for d in report.days],
        "settings": {
            "quintiles": s.quintiles,
            "bootstrap_iterations": s.bootstrap_iterations,
            "bootstrap_seed": s.bootstrap_seed,
            "confidence": s.confidence,
            "min_events": s.min_events,
            "ring_watch_radius_m": s.ring_watch_radius_m,
            "ring_max_area_km2": s.ring_max_area_km2,
        },
        "indicators": {i.key: i.label for i in INDICATORS},
        "measured": sorted(report.levels["msoa"].rates),
        "associations": association_rows(report),
        "scenarios": [
            {
                "name": r.scenario.name,
                "networks": list(r.scenario.networks),
                "description": r.scenario.description,
                "cameras": r.cameras,
                "links": r.links,
                "watched_links": r.watched,
                "rings_of_steel": r.ring_cells,
                "msoas_ringed": int(r.msoa_ringed.sum()),
                "named_areas": r.named,
                "rings": r.rings,
                "exposure": [{k: _clean(v) for k, v in row.items()} for row in r.exposure],
            }
            for r in report.rings
        ],
        "exposure_summary": exposure_summary(report.rings),
        "boroughs": area_rows(report, "borough"),
        "notes": report.notes,
        "seconds": round(report.seconds, 2),
    }


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if rows:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return path


def equality_figures(report: EqualityReport) -> list[tuple[str, str, str]]:
    """(file stem, svg, caption) for every map and chart of the report."""
    zones_all = load_zones()
    zones = {z: zones_all[z] for z in MAP_ZONES if z in zones_all}
    cams = report.cameras
    nets = np.array(cams.column("network").to_pylist(), dtype=object)
    lon, lat = cams.column("lon").to_numpy(), cams.column("lat").to_numpy()
    points = {str(n): (lon[nets == n], lat[nets == n]) for n in sorted(set(nets.tolist()))}
    b, m = report.levels["borough"], report.levels["msoa"]
    figs = [
        (
            "map-boroughs-cameras",
            svg.choropleth(
                b.areas.geometry,
                b.rates["cameras_per_km2"],
                names=b.areas.names,
                title="Cameras per km² by borough, with camera sites and charging zones",
                legend="cameras per km²",
                points=points,
                outlines=zones,
            ),
            "Fixed cameras in service on the last report day, by borough (quantile classes); "
            "dots are camera sites coloured by network; dashed lines are the CCZ, the 2021 "
            "inner ULEZ and the LEZ (London-wide ULEZ) boundaries.",
        ),
        (
            "map-msoas-not-white-british",
            svg.choropleth(
                m.areas.geometry,
                m.areas.composition["pct_not_white_british"],
                names=m.areas.names,
                title="Residents not White British (%), by MSOA (Census 2021)",
                legend="% not White British",
                outlines=zones,
            ),
            "The composition measure the indicators are compared with, per MSOA.",
        ),
        (
            "map-msoas-reads",
            svg.choropleth(
                m.areas.geometry,
                m.rates["reads_per_resident"],
                names=m.areas.names,
                title="Reads per resident per day, by MSOA (where the camera stands)",
                legend="reads per resident",
                points=points,
                outlines=zones,
            ),
            "Reads in the store for the report days at cameras in each MSOA, per resident.",
        ),
    ]
    for r in report.rings:
        figs.append(
            (
                f"map-rings-{_slug(r.scenario.name)}",
                svg.choropleth(
                    m.areas.geometry,
                    np.where(r.msoa_ringed, r.msoa_cell_km2, np.nan),
                    names=m.areas.names,
                    title=f"Rings of steel if {r.scenario.name} is shared: area of the ring (km²)",
                    legend="area of the ring (km²)",
                    reverse=True,
                    no_data="not ringed",
                    points={n: p for n, p in points.items() if n in r.scenario.networks},
                    outlines=zones,
                ),
                f"{r.scenario.description}. Coloured MSOAs lie in an enclosed cell of at most "
                f"{report.settings.ring_max_area_km2:g} km²: every road link out of it passes "
                f"one of these {r.cameras:,} cameras. {r.ring_cells} such rings.",
            )
        )
    order = np.argsort(-np.nan_to_num(b.rates["cameras_per_1000"]))
    figs.append(
        (
            "chart-boroughs-cameras-per-1000",
            svg.bar_chart(
                [b.areas.names[i] for i in order],
                b.rates["cameras_per_1000"][order],
                title="Cameras per 1,000 residents, by borough",
                unit="cameras per 1,000 residents (Census 2021)",
            ),
            "Boroughs from most to fewest cameras per resident.",
        )
    )
    for key in ("reads_per_resident", "cameras_per_km2"):
        figs.append(
            (
                f"chart-msoas-{_slug(key)}-vs-not-white-british",
                svg.scatter(
                    m.areas.composition["pct_not_white_british"],
                    m.rates[key],
                    title=f"{_label(key)} vs share not White British (MSOAs)",
                    x_label="% not White British",
                    y_label=_label(key),
                ),
                "One dot per MSOA.",
            )
        )
    labels, values = [], []
    for r in report.rings:
        for row in r.exposure:
            labels.append(f"{r.scenario.name} · {row['group']}")
            values.append(100.0 * row["ringed_share"])
    figs.append(
        (
            "chart-ringed-by-group",
            svg.bar_chart(
                labels,
                values,
                title="Residents living inside a ring of steel (%), by scenario and group",
                unit="% of the group's residents in London",
            ),
            "Who gains exposure as more networks are shared with the police.",
        )
    )
    return figs


def _label(key: str) -> str:
    return next(i.label for i in INDICATORS if i.key == key)


def _slug(text_: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text_.lower()).strip("-")


RINGS_SHOWN = 12


def _rings_table(r: ScenarioRings) -> str:
    """The most populous rings of a scenario with their composition (all are in the CSV)."""
    biggest = sorted(r.rings, key=lambda ring: -ring["residents"])[:RINGS_SHOWN]
    note = html.paragraphs(
        [
            f"The {len(biggest)} most populous of {len(r.rings)} rings "
            "(all in equality-rings.csv); 'over-represented' marks a group whose share in the "
            "ring is over 1.25 times its share of London."
        ],
        "note",
    )
    return note + html.table(
        [
            "ring",
            "km²",
            "residents",
            "boroughs",
            "% not White British",
            "% Black",
            "% Asian",
            "over-represented",
        ],
        [
            [
                ring["ring"],
                ring["area_km2"],
                f"{ring['residents']:,}",
                ", ".join(ring["boroughs"]),
                ring["pct_not_white_british"],
                ring["pct_black"],
                ring["pct_asian"],
                ", ".join(ring["over_represented"]) or "-",
            ]
            for ring in biggest
        ],
    )


def equality_html(report: EqualityReport, figures: Sequence[tuple[str, str, str]]) -> str:
    days = report.days
    period = f"{days[0]} to {days[-1]} ({len(days)} day(s))" if days else "no stored days"
    findings = [a for a in report.associations]
    sections = [
        (
            "Findings",
            html.table(
                ["level", "indicator", "compared with", "finding"],
                [
                    [a.level, _label(a.indicator), COMPOSITION[a.composition], a.finding]
                    for a in findings
                ],
            ),
        ),
        (
            "Rings of steel and exposure to police access",
            html.bullets(exposure_summary(report.rings))
            + "".join(
                html.subheading(r.scenario.name)
                + html.paragraphs(
                    [
                        f"{r.scenario.description}: {r.cameras:,} fixed cameras watch "
                        f"{r.watched} of {r.links} road links; {r.ring_cells} rings of steel "
                        f"(at most {report.settings.ring_max_area_km2:g} km²) hold "
                        f"{int(r.msoa_ringed.sum())} MSOAs."
                    ]
                )
                + html.table(
                    ["group", "residents", "where cameras are", "enclosed", "ringed"],
                    [
                        [
                            row["group"],
                            f"{row['residents']:,}",
                            f"{100 * row['covered_share']:.1f}%",
                            f"{100 * row['enclosed_share']:.1f}%",
                            f"{100 * row['ringed_share']:.1f}%",
                        ]
                        for row in r.exposure
                    ],
                )
                + html.table(
                    ["area", "ringed", "unwatched exits"],
                    [
                        [n["area"], "yes" if n["ringed"] else "no", n["unwatched_exits"]]
                        for n in r.named[:3]
                    ],
                )
                + _rings_table(r)
                for r in report.rings
            ),
        ),
        ("Maps and charts", "".join(html.figure(s, c) for _, s, c in figures)),
        ("Notes and caveats", html.bullets(report.notes)),
    ]
    return html.page(
        "Ringfence equality report",
        sections,
        intro=[
            f"Charge days: {period}. Areas: 33 boroughs and 1,002 MSOAs with Census 2021 "
            "figures (ONS, Open Government Licence v3.0).",
            "Each finding states what the 95% bootstrap interval supports: 'no clear "
            "association' when it includes zero.",
        ],
    )


def write_equality(report: EqualityReport, out_dir: Path) -> dict[str, Path]:
    """equality.json, the CSVs, the SVG figures and equality.html; returns every path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = equality_figures(report)
    paths = {
        "json": out_dir / "equality.json",
        "boroughs_csv": write_csv(out_dir / "equality-boroughs.csv", area_rows(report, "borough")),
        "msoas_csv": write_csv(out_dir / "equality-msoas.csv", area_rows(report, "msoa")),
        "findings_csv": write_csv(out_dir / "equality-findings.csv", association_rows(report)),
        "exposure_csv": write_csv(out_dir / "equality-exposure.csv", exposure_rows(report)),
        "rings_csv": write_csv(out_dir / "equality-rings.csv", ring_rows(report)),
        "html": out_dir / "equality.html",
    }
    paths["json"].write_text(
        json.dumps(report_json(report), indent=2, default=str) + "\n", encoding="utf-8"
    )
    for stem, body, _ in figures:
        (out_dir / f"equality-{stem}.svg").write_text(body, encoding="utf-8")
    paths["html"].write_text(equality_html(report, figures), encoding="utf-8")
    return paths


def equality_report(
    ws: Workspace,
    out_dir: Path,
    *,
    days: Sequence[date] | None = None,
    keepers: Path | None = None,
    scenarios: Sequence[str] | None = None,
) -> tuple[EqualityReport, dict[str, Path]]:
    """Gather, compute and write the equality report for stored charge days.

    `scenarios` keeps only the named sharing scenarios of the settings (all by default).
    """
    started = datetime.now(UTC)
    chosen = report_days(ws, days)
    settings = oversight_settings(ws)
    if scenarios:
        unknown = sorted(set(scenarios) - {s.name for s in settings.scenarios})
        if unknown:
            raise ConfigError(f"unknown scenario(s) {unknown}: see [oversight] in the settings")
        settings = replace(
            settings, scenarios=tuple(s for s in settings.scenarios if s.name in scenarios)
        )
    inputs = gather_equality_inputs(ws, chosen, keepers=keepers)
    report = compute_equality(inputs, settings)
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    paths = write_equality(report, out_dir)
    if keepers is not None:
        ws.record(
            "equality-report",
            subject=f"charge days {chosen[0]}..{chosen[-1]}" if chosen else "no days",
            why="oversight: keepers' areas joined to pseudonymised reads, PCNs and requests; "
            "only counts per area were written",
            counts={"days": len(chosen)},
            attrs=day_attrs(chosen),
        )
    return report, paths


def day_attrs(days: Sequence[date]) -> dict[str, str]:
    """The audit attrs of a report: the charge days it covers."""
    return {"first_day": str(min(days)), "last_day": str(max(days))} if days else {}


def write_reports(
    ws: Workspace, out_dir: Path, *, days: list[date], keepers: Path | None = None
) -> dict[str, Path]:
    """Equality and unicity reports for the given charge days; returns their HTML paths."""
    from ringfence.services.oversight_unicity import unicity_report

    _, equality_paths = equality_report(ws, out_dir, days=days, keepers=keepers)
    _, unicity_paths = unicity_report(ws, out_dir, days=days)
    return {"equality": equality_paths["html"], "unicity": unicity_paths["html"]}
