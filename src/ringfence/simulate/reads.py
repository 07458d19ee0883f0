"""Trips and camera reads for one charge day, vectorised and written in chunks.

How a read comes about:

1. **Who travels.** Each vehicle is active with a probability for its type and kind of day
   (`TRIP_PROFILES`); an active vehicle makes a chain of legs: cars and vans go out and come home,
   taxis and private hire roam, buses shuttle between their garage and a terminus, some visiting
   lorries just pass through from one gateway to another.
2. **When.** Departure times come from the type's diurnal curve (AM/PM peaks on working days, a
   midday hump at weekends) on the charge day's own clock (`_clock.ChargeDay`), then are pushed
   back so a leg never starts before the previous one has arrived.
3. **Where to.** Destinations are drawn by a gravity model over the traffic zones: attraction is
   population, boosted in the centre; deterrence is `exp(-beta * road_km)` with a beta per
   journey purpose. Alias tables make each draw O(1).
4. **Which cameras.** Every OD pair's path on the coarse graph is precomputed (`_traffic`). Each
   directed link has a few *variants* (the parallel roads a driver may take); each variant is an
   ordered list of camera passes: the internal cameras along that road, and exactly one cordon
   camera at each place the link crosses a zone boundary (so crossing a boundary always passes a
   cordon camera, with `in`/`out` relative to that zone). A trip draws a variant per link. Its
   first and last mile run on the local roads of its origin and destination zones, where it may
   pass one of the zone's *local* cameras (those far from every link). On a thinned network
   (small scales) every site of the full network is still there and is read by its nearest kept
   camera of the same kind, so trips pass as many cameras at any scale.
5. **What the camera writes.** Internal cameras catch a passing vehicle with probability
   `ReadModel.capture_internal`; then the ANPR effects of `ReadModel` are applied (misreads along
   the confusion pairs with lower confidence, queue duplicates, junk reads and rare faulty rows).

All of it is numpy over whole blocks of vehicles; the only Python loops run over legs of a chain,
traffic zones, links or profile families, never over reads or vehicles.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ringfence.domain.vrm import CONFUSION_GROUPS
from ringfence.simulate import _vrm
from ringfence.simulate._clock import ChargeDay
from ringfence.simulate._geo import load_london
from ringfence.simulate._traffic import GATEWAY_BAND, TrafficNetwork
from ringfence.simulate._types import F64, I64, U8, Bool
from ringfence.simulate.cameras import (
    BOUNDARIES,
    KIND_CORDON,
    CameraNetwork,
    link_crossings,
)
from ringfence.simulate.vehicles import (
    BUS,
    CAR,
    COACH,
    HGV,
    MINIBUS,
    MOTORCYCLE,
    PHV,
    TAXI,
    VAN,
    VehicleRegister,
    strings_from_chars,
)

KINDS = ("genuine", "misread", "queue_duplicate", "junk")
GENUINE, MISREAD, QUEUE_DUPLICATE, JUNK = range(4)
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
DIRECTIONS = ("in", "out", *COMPASS)
DIR_IN, DIR_OUT = 0, 1

#: Extra confusions beyond the domain's groups (real engines make these too; the domain's
#: `confusion_key` does not collapse them, so such misreads stay unmatched, as in real life).
EXTRA_CONFUSION_PAIRS: tuple[tuple[str, str], ...] = (
    ("A", "4"), ("U", "V"), ("E", "F"), ("P", "R"), ("K", "X"), ("T", "7"),
)  # fmt: skip
#: Characters an ANPR engine confuses, as symmetric pairs: every pair within each of
#: `ringfence.domain.vrm.CONFUSION_GROUPS` (0/O/D/Q, 1/I, 2/Z, 5/S, 6/G/C, 8/B) plus the extras.
CONFUSION_PAIRS: tuple[tuple[str, str], ...] = (
    *((a, b) for group in CONFUSION_GROUPS for a, b in itertools.combinations(sorted(group), 2)),
    *EXTRA_CONFUSION_PAIRS,
)

READS_SCHEMA = pa.schema(
    [
        ("read_id", pa.string()),
        ("camera_id", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("plate", pa.string()),
        ("confidence", pa.float64()),
        ("direction", pa.string()),
        ("lane", pa.int16()),
        ("image_ref", pa.string()),
        ("observed_make", pa.string()),
        ("observed_type", pa.string()),
    ]
)
#: What a camera's make and model recognition calls each vehicle type (index in the register's
#: `VEHICLE_TYPES`): camera classes are coarse, so a taxi or a private hire car is a car, a
#: minibus a van and a coach a bus.
CAMERA_CLASS = {
    CAR: "car",
    VAN: "van",
    MINIBUS: "van",
    MOTORCYCLE: "motorcycle",
    HGV: "hgv",
    BUS: "bus",
    COACH: "bus",
    TAXI: "car",
    PHV: "car",
}
CAMERA_CLASSES = tuple(sorted(set(CAMERA_CLASS.values())))
TRUTH_SCHEMA = pa.schema(
    [
        ("read_id", pa.string()),
        ("true_vrm", pa.string()),
        ("kind", pa.string()),
        ("trip_id", pa.int64()),
    ]
)


@dataclass(frozen=True)
class ReadModel:
    """What cameras do with a passing vehicle. Every rate is per captured pass unless noted."""

    capture_internal: float = 0.95
    """Chance an internal camera reads a vehicle on its road (occlusion, lane changes)."""
    capture_cordon: float = 1.0
    """Chance a cordon camera reads a vehicle crossing its boundary."""
    misread_rate: float = 0.03
    """Share of passes whose VRM is read wrong along `CONFUSION_PAIRS` (one or two characters)."""
    misread_two_chars: float = 0.15
    """Share of misreads with two wrong characters."""
    clone_rate: float = 0.001
    """Share of vehicles driving on a cloned plate: another registered vehicle's VRM, copied to
    dodge charges. Fixed per seed (the same vehicles every day); the cameras' make and model
    recognition still sees the real vehicle, which is how a charge run can catch it."""
    queue_duplicate_rate: float = 0.02
    """Extra read of the same pass a few seconds later (a queuing car)."""
    queue_gap_s: tuple[float, float] = (1.0, 8.0)
    junk_rate: float = 0.005
    """Reads of no vehicle (empty or partial plates), per pass."""
    junk_empty_share: float = 0.4
    """Share of junk reads with an empty plate; the rest are partial ('AB1?')."""
    faulty_decommissioned_rate: float = 2e-5
    """Rows stamped with a camera decommissioned on or before the day (for quarantine)."""
    faulty_confidence_rate: float = 1e-5
    """Rows whose confidence is out of range (0-100 scale, or negative)."""
    low_confidence_share: float = 0.04
    """Share of good reads with a middling confidence (0.60-0.85) rather than 0.85-0.99."""
    cams_per_road: float = 2.0
    """Internal cameras per parallel road between two zones (sets how many a trip passes)."""
    local_pass_rate: float = 0.35
    """Chance a trip's first (or last) mile, or a trip inside one zone, passes one of the zone's
    local cameras."""
    local_camera_m: float = 700.0
    """An internal camera farther than this from every link is a local camera of its zone."""
    cordon_fallback_m: float = 2_500.0
    """A crossing with no cordon camera of its own uses the nearest one within this distance."""
    time_jitter_s: float = 3.0
    mmr_camera_share: float = 0.6
    """Share of cameras that report make and model recognition (MMR): a make and a vehicle
    class beside the plate, of the vehicle actually there, even when its plate is misread."""
    mmr_error_rate: float = 0.02
    """Share of an MMR camera's reads with a wrong class (half) or no observation (half)."""


@dataclass(frozen=True)
class TripProfile:
    """How a vehicle type travels."""

    active_weekday: float
    active_quiet: float  # weekends and bank holidays
    base_legs: int
    extra_legs: float  # Poisson mean on top of base_legs
    chain: str  # "tour" (ends at home), "roam" (ends at home), "shuttle" (garage <-> terminus)
    purpose: int  # gravity class, index into PURPOSE_BETA
    family: int  # diurnal profile, index into PROFILE_FAMILIES
    min_dwell_s: float


#: Gravity classes: distance decay per road km.
PURPOSE_BETA = (0.11, 0.07, 0.22, 0.035)
PURPOSE_PRIVATE, PURPOSE_COMMERCIAL, PURPOSE_LOCAL, PURPOSE_VISIT = range(4)
#: Attraction boost of a zone by band (CCZ, inner, outer) on top of its population.
BAND_ATTRACTION = (6.0, 1.6, 1.0)

TRIP_PROFILES: dict[int, TripProfile] = {
    CAR: TripProfile(0.50, 0.46, 2, 0.6, "tour", PURPOSE_PRIVATE, 0, 600.0),
    VAN: TripProfile(0.72, 0.35, 3, 2.5, "tour", PURPOSE_COMMERCIAL, 1, 300.0),
    MINIBUS: TripProfile(0.55, 0.35, 2, 1.0, "tour", PURPOSE_PRIVATE, 1, 900.0),
    MOTORCYCLE: TripProfile(0.50, 0.40, 2, 0.3, "tour", PURPOSE_PRIVATE, 0, 600.0),
    HGV: TripProfile(0.75, 0.30, 2, 1.5, "tour", PURPOSE_COMMERCIAL, 1, 900.0),
    BUS: TripProfile(0.95, 0.85, 6, 4.0, "shuttle", PURPOSE_COMMERCIAL, 2, 240.0),
    COACH: TripProfile(0.50, 0.55, 2, 0.5, "tour", PURPOSE_VISIT, 1, 3_600.0),
    TAXI: TripProfile(0.80, 0.75, 6, 6.0, "roam", PURPOSE_LOCAL, 2, 120.0),
    PHV: TripProfile(0.75, 0.78, 5, 6.0, "roam", PURPOSE_LOCAL, 2, 180.0),
}
#: Vehicles kept outside London visit on some days only; their activity is multiplied by this.
EXTERNAL_ACTIVITY = (0.95, 0.9, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0)
#: Share of visiting vehicles that only pass through (gateway to gateway), by type.
THROUGH_SHARE = {HGV: 0.3, VAN: 0.08, CAR: 0.05, COACH: 0.1}
#: Congestion: travel-time factor by wall-clock hour at departure.
PEAK_FACTOR = (
    0.8, 0.8, 0.8, 0.8, 0.8, 0.85, 1.0, 1.3, 1.4, 1.25, 1.1, 1.1,
    1.1, 1.1, 1.1, 1.15, 1.3, 1.4, 1.3, 1.1, 1.0, 0.9, 0.85, 0.8,
)  # fmt: skip
MAX_LEGS = 24


# --------------------------------------------------------------------------------------------
# per-day camera slots


@dataclass(frozen=True)
class CameraSlots:
    """For each directed link: variants, each an ordered list of camera passes."""

    var_start: I64  # per directed link
    var_count: I64
    ev_start: I64  # per variant
    ev_count: I64
    ev_camera: I64  # per event
    ev_t: F64  # position along the directed link (0..1)
    ev_direction: I64  # index into DIRECTIONS
    ev_capture: F64
    link_seconds: F64  # per directed link


def _compass(dx: F64, dy: F64) -> I64:
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    result: I64 = (np.floor((bearing + 22.5) / 45.0).astype(np.int64) % 8) + 2
    return result


def build_slots(
    cameras: CameraNetwork,
    traffic: TrafficNetwork,
    day: dt.date,
    model: ReadModel,
    rng: np.random.Generator,
) -> CameraSlots:
    london = load_london()
    sites = cameras.sites
    site_camera = cameras.site_cameras(day)
    live = site_camera >= 0
    n_links = traffic.n_links
    u, v = traffic.link_u, traffic.link_v
    x0, y0 = traffic.node_x[u], traffic.node_y[u]
    x1, y1 = traffic.node_x[v], traffic.node_y[v]
    # links that some fastest path uses: a camera on any other link would never be passed
    used = np.zeros(n_links, dtype=np.bool_)
    on_path = traffic.path_links[traffic.path_links < 2 * n_links] // 2
    used[on_path] = True
    eligible = used & (
        (traffic.node_band[u] != GATEWAY_BAND) | (traffic.node_band[v] != GATEWAY_BAND)
    )
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], 1))

    # internal (and mobile) sites: nearest used link, or a local site of the nearest zone
    internal = np.flatnonzero(live & (sites.site_kind != KIND_CORDON))
    sx, sy = sites.x[internal], sites.y[internal]
    pts = shapely.points(sx, sy)
    elig_idx = np.flatnonzero(eligible)
    tree = shapely.STRtree(lines[elig_idx])
    pi, li = tree.query_nearest(pts, all_matches=False, return_distance=False)
    cam_link = np.full(len(internal), -1, dtype=np.int64)
    cam_link[pi] = elig_idx[li]
    dist = shapely.distance(pts, lines[cam_link])
    is_local = dist > model.local_camera_m
    cam_t = shapely.line_locate_point(lines[cam_link], pts, normalized=True)
    dxl, dyl = x1[cam_link] - x0[cam_link], y1[cam_link] - y0[cam_link]
    side = (sx - x0[cam_link]) * dyl - (sy - y0[cam_link]) * dxl
    side = side / np.maximum(np.hypot(dxl, dyl), 1.0)
    zx, zy = traffic.node_x[: traffic.n_zones], traffic.node_y[: traffic.n_zones]
    cam_zone = np.argmin(
        (sx[:, None] - zx[None, :]) ** 2 + (sy[:, None] - zy[None, :]) ** 2, axis=1
    )
    cam_facing = rng.integers(2, 10, len(internal))
    internal_camera = site_camera[internal]

    # cordon sites: the nearest crossing of their own boundary
    crossings = link_crossings(london, traffic)
    cordon = np.flatnonzero(live & (sites.site_kind == KIND_CORDON))
    cross_cands: list[list[int]] = [[] for _ in range(len(crossings.link))]
    for b in range(len(BOUNDARIES)):
        cb = cordon[sites.boundary[cordon] == b]
        xi = np.flatnonzero(crossings.boundary == b)
        if len(cb) == 0 or len(xi) == 0:
            continue
        d2 = (sites.x[cb, None] - crossings.x[None, xi]) ** 2 + (
            sites.y[cb, None] - crossings.y[None, xi]
        ) ** 2
        # each site serves its nearest crossing on a used link
        d2_used = np.where(used[crossings.link[xi]][None, :], d2, np.inf)
        for c, j in zip(site_camera[cb], xi[np.argmin(d2_used, axis=1)], strict=True):
            if int(c) not in cross_cands[j]:
                cross_cands[j].append(int(c))
        nearest_site = np.argmin(d2, axis=0)
        for k, j in enumerate(xi):
            if not cross_cands[j] and d2[nearest_site[k], k] <= model.cordon_fallback_m**2:
                cross_cands[j].append(int(site_camera[cb[nearest_site[k]]]))

    by_link: dict[int, list[int]] = {}
    for k in np.flatnonzero(~is_local).tolist():
        by_link.setdefault(int(cam_link[k]), []).append(int(k))
    by_zone: dict[int, list[int]] = {}
    for k in np.flatnonzero(is_local).tolist():
        by_zone.setdefault(int(cam_zone[k]), []).append(int(k))
    cross_by_link: dict[int, list[int]] = {}
    for j, e in enumerate(crossings.link):
        cross_by_link.setdefault(int(e), []).append(j)

    n_dir = traffic.n_directed
    var_start = np.zeros(n_dir, dtype=np.int64)
    var_count = np.zeros(n_dir, dtype=np.int64)
    ev_start: list[int] = []
    ev_count: list[int] = []
    ev_cam: list[int] = []
    ev_t: list[float] = []
    ev_dir: list[int] = []
    ev_cap: list[float] = []
    fwd_compass = _compass(x1 - x0, y1 - y0)
    back_compass = _compass(x0 - x1, y0 - y1)

    def add_variant(events: list[tuple[int, float, int, float]]) -> None:
        ev_start.append(len(ev_cam))
        seen: set[int] = set()
        n_events = 0
        for cam, t, d, cap in sorted(events, key=lambda e: e[1]):
            if cam in seen and d not in (DIR_IN, DIR_OUT):
                continue  # two internal sites read by one stand-in camera: one read
            seen.add(cam)
            n_events += 1
            ev_cam.append(cam)
            ev_t.append(t)
            ev_dir.append(d)
            ev_cap.append(cap)
        ev_count.append(n_events)

    n_var = 0
    for e in range(n_links):
        members = by_link.get(e, [])
        roads: list[list[int]] = []
        if members:
            r = max(1, math.ceil(len(members) / model.cams_per_road))
            ordered = sorted(members, key=lambda k: (side[k], cam_t[k]))
            roads = [list(a) for a in np.array_split(np.asarray(ordered), r)]
        crosses = [j for j in cross_by_link.get(e, []) if cross_cands[j]]
        n_v = max([len(roads)] + [len(cross_cands[j]) for j in crosses] + [1])
        for direction in (0, 1):
            d_id = 2 * e + direction
            var_start[d_id] = n_var
            var_count[d_id] = n_v
            for vi in range(n_v):
                events: list[tuple[int, float, int, float]] = []
                if roads:
                    for k in roads[vi % len(roads)]:
                        t = float(cam_t[k]) if direction == 0 else 1.0 - float(cam_t[k])
                        compass = fwd_compass[e] if direction == 0 else back_compass[e]
                        events.append(
                            (int(internal_camera[k]), t, int(compass), model.capture_internal)
                        )
                for j in crosses:
                    cands = cross_cands[j]
                    t = float(crossings.t[j])
                    entering = bool(crossings.entering_uv[j])
                    if direction == 1:
                        t, entering = 1.0 - t, not entering
                    events.append(
                        (
                            cands[vi % len(cands)],
                            t,
                            DIR_IN if entering else DIR_OUT,
                            model.capture_cordon,
                        )
                    )
                add_variant(events)
                n_var += 1
    # local pseudo-links
    for z in range(traffic.n_nodes):
        d_id = 2 * n_links + z
        members = by_zone.get(z, [])
        if not members:
            continue
        n_v = max(len(members), math.ceil(len(members) / model.local_pass_rate))
        var_start[d_id] = n_var
        var_count[d_id] = n_v
        for vi in range(n_v):
            if vi < len(members):
                k = members[vi]
                camera = int(internal_camera[k])
                add_variant([(camera, 0.5, int(cam_facing[k]), model.capture_internal)])
            else:
                add_variant([])
            n_var += 1

    return CameraSlots(
        var_start=var_start,
        var_count=var_count,
        ev_start=np.asarray(ev_start, dtype=np.int64),
        ev_count=np.asarray(ev_count, dtype=np.int64),
        ev_camera=np.asarray(ev_cam, dtype=np.int64),
        ev_t=np.asarray(ev_t, dtype=np.float64),
        ev_direction=np.asarray(ev_dir, dtype=np.int64),
        ev_capture=np.asarray(ev_cap, dtype=np.float64),
        link_seconds=traffic.directed_seconds(),
    )


# --------------------------------------------------------------------------------------------
# gravity


@dataclass(frozen=True)
class Gravity:
    """Alias tables, one (prob, alias) pair of (nodes x nodes) matrices per purpose."""

    prob: F64  # (purposes, n, n)
    alias: I64

    def sample(self, rng: np.random.Generator, purpose: I64, origin: I64) -> I64:
        n = self.prob.shape[2]
        col = rng.integers(0, n, len(origin))
        keep = rng.random(len(origin)) < self.prob[purpose, origin, col]
        result: I64 = np.where(keep, col, self.alias[purpose, origin, col])
        return result


def _alias_row(p: F64) -> tuple[F64, I64]:
    n = len(p)
    scaled = p * n / p.sum()
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


def build_gravity(traffic: TrafficNetwork) -> Gravity:
    n = traffic.n_nodes
    zone = np.arange(n) < traffic.n_zones
    band = np.minimum(traffic.node_band, 2)
    attraction = np.where(zone, traffic.node_weight * np.asarray(BAND_ATTRACTION)[band], 0.0)
    n_p = len(PURPOSE_BETA)
    prob = np.ones((n_p, n, n))
    alias = np.tile(np.arange(n, dtype=np.int64), (n_p, n, 1))
    km = traffic.od_km
    for p, beta in enumerate(PURPOSE_BETA):
        w = attraction[None, :] * np.exp(-beta * km)
        for o in range(n):
            prob[p, o], alias[p, o] = _alias_row(w[o])
    return Gravity(prob=prob, alias=alias)


# --------------------------------------------------------------------------------------------
# trips


@dataclass
class _Legs:
    vehicle: I64
    leg_no: I64
    origin: I64
    dest: I64
    depart_ms: I64
    factor: F64


def _within_group_index(counts: I64) -> I64:
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    result: I64 = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    return result


def make_legs(
    rng: np.random.Generator,
    register: VehicleRegister,
    block: I64,
    traffic: TrafficNetwork,
    gravity: Gravity,
    clock: ChargeDay,
) -> _Legs:
    vtype = register.vehicle_type[block]
    external = register.is_external[block]
    profiles = [TRIP_PROFILES[t] for t in range(9)]
    active_p = np.array([p.active_quiet if clock.is_quiet else p.active_weekday for p in profiles])
    p_act = active_p[vtype] * np.where(external, np.asarray(EXTERNAL_ACTIVITY)[vtype], 1.0)
    active = rng.random(len(block)) < p_act
    veh = block[active]
    vt = vtype[active]
    ext = external[active]
    base = np.array([p.base_legs for p in profiles])[vt]
    extra = rng.poisson(np.array([p.extra_legs for p in profiles])[vt])
    n_legs = np.minimum(base + extra, MAX_LEGS)
    through_p = np.array([THROUGH_SHARE.get(t, 0.0) for t in range(9)])[vt]
    through = ext & (rng.random(len(veh)) < through_p)
    n_legs = np.where(through, 1, n_legs)

    leg_vehicle = np.repeat(np.arange(len(veh)), n_legs)
    leg_no = _within_group_index(n_legs)
    fam = np.array([p.family for p in profiles])[vt]
    t = clock.sample_elapsed(rng, fam[leg_vehicle], len(leg_vehicle))
    order = np.lexsort((t, leg_vehicle))
    t = t[order]

    home = register.home_node[veh]
    purpose = np.array([p.purpose for p in profiles])[vt]
    chain = np.array([p.chain for p in profiles])[vt]
    is_shuttle = chain == "shuttle"
    dwell = np.array([p.min_dwell_s for p in profiles])[vt] * 1000.0
    n_total = len(leg_vehicle)
    origin = np.empty(n_total, dtype=np.int64)
    dest = np.empty(n_total, dtype=np.int64)
    depart = np.empty(n_total, dtype=np.int64)
    factor = np.empty(n_total, dtype=np.float64)
    peak = np.asarray(PEAK_FACTOR)
    gw_first = traffic.n_zones
    gw_w = traffic.node_weight[gw_first:]
    for j in range(int(n_legs.max()) if len(n_legs) else 0):
        idx = np.flatnonzero(leg_no == j)
        vi = leg_vehicle[idx]
        if j == 0:
            o = home[vi]
            earliest = np.zeros(len(idx), dtype=np.int64)
        else:
            o = dest[idx - 1]
            prev_arrival = depart[idx - 1] + (
                traffic.od_seconds[origin[idx - 1], dest[idx - 1]] * 1000.0 * factor[idx - 1]
            ).astype(np.int64)
            earliest = prev_arrival + dwell[vi].astype(np.int64)
        p = purpose[vi]
        # visitors' first leg goes deep into London
        p = np.where(ext[vi] & (j == 0), PURPOSE_VISIT, p)
        d = gravity.sample(rng, p, o)
        last = j == n_legs[vi] - 1
        d = np.where(last & ~is_shuttle[vi], home[vi], d)
        if j >= 1:
            d = np.where(is_shuttle[vi], origin[idx - 1], d)
        thr = through[vi]
        if thr.any():
            other = gw_first + rng.choice(len(gw_w), int(thr.sum()), p=gw_w / gw_w.sum())
            d[thr] = np.where(other == o[thr], gw_first + (other - gw_first + 1) % len(gw_w), other)
        # a London vehicle's last leg of a roam can be a no-move; keep it (a short local trip)
        origin[idx] = o
        dest[idx] = d
        depart[idx] = np.maximum(t[idx], earliest)
        hours = clock.wall_hours(depart[idx]).astype(np.int64) % 24
        factor[idx] = peak[hours] * rng.lognormal(0.0, 0.15, len(idx))
    keep = depart < clock.length_ms
    return _Legs(
        vehicle=veh[leg_vehicle][keep],
        leg_no=leg_no[keep],
        origin=origin[keep],
        dest=dest[keep],
        depart_ms=depart[keep],
        factor=factor[keep],
    )


# --------------------------------------------------------------------------------------------
# passes and reads


@dataclass
class _Passes:
    vehicle: I64
    camera: I64
    elapsed_ms: I64
    direction: I64
    trip_id: I64


def make_passes(
    rng: np.random.Generator,
    legs: _Legs,
    traffic: TrafficNetwork,
    slots: CameraSlots,
    clock: ChargeDay,
    model: ReadModel,
) -> _Passes:
    n = traffic.n_nodes
    pair = legs.origin * n + legs.dest
    cnt = traffic.path_count[pair]
    trip = np.repeat(np.arange(len(pair)), cnt)
    pos = np.repeat(traffic.path_start[pair], cnt) + _within_group_index(cnt)
    link = traffic.path_links[pos]
    offset_s = traffic.path_offset_s[pos]

    nv = slots.var_count[link]
    has = nv > 0
    trip, link, offset_s, nv = trip[has], link[has], offset_s[has], nv[has]
    variant = slots.var_start[link] + (rng.random(len(link)) * nv).astype(np.int64)
    ecnt = slots.ev_count[variant]
    owner = np.repeat(np.arange(len(variant)), ecnt)
    ev = np.repeat(slots.ev_start[variant], ecnt) + _within_group_index(ecnt)
    caught = rng.random(len(ev)) < slots.ev_capture[ev]
    owner, ev = owner[caught], ev[caught]
    te_trip = trip[owner]
    seconds = offset_s[owner] + slots.ev_t[ev] * slots.link_seconds[link[owner]]
    jitter = rng.normal(0.0, model.time_jitter_s, len(ev))
    elapsed = (legs.depart_ms[te_trip] + (seconds * legs.factor[te_trip] + jitter) * 1000.0).astype(
        np.int64
    )
    inside = (elapsed >= 0) & (elapsed < clock.length_ms)
    veh = legs.vehicle[te_trip[inside]]
    day_tag = np.int64(clock.day.toordinal()) << np.int64(38)
    trip_id = day_tag | (veh.astype(np.int64) << np.int64(6)) | legs.leg_no[te_trip[inside]]
    return _Passes(
        vehicle=veh,
        camera=slots.ev_camera[ev[inside]],
        elapsed_ms=elapsed[inside],
        direction=slots.ev_direction[ev[inside]],
        trip_id=trip_id,
    )


def _confusion_table() -> tuple[U8, I64]:
    partners: dict[int, list[int]] = {}
    for a, b in CONFUSION_PAIRS:
        partners.setdefault(ord(a), []).append(ord(b))
        partners.setdefault(ord(b), []).append(ord(a))
    width = max(len(p) for p in partners.values())
    table = np.zeros((256, width), dtype=np.uint8)
    count = np.zeros(256, dtype=np.int64)
    for c, ps in partners.items():
        table[c, : len(ps)] = ps
        count[c] = len(ps)
    return table, count


CONFUSION_TABLE, CONFUSION_COUNT = _confusion_table()


def misread_chars(rng: np.random.Generator, chars: U8, lens: I64, two: Bool) -> tuple[U8, Bool]:
    """Swap one (or, where `two`, two) confusable characters; returns (chars, changed)."""
    out = chars.copy()
    changed = np.zeros(len(lens), dtype=np.bool_)
    rows = np.arange(len(lens))
    for rnd in range(2):
        active = np.ones(len(lens), dtype=np.bool_) if rnd == 0 else two
        in_len = np.arange(chars.shape[1])[None, :] < lens[:, None]
        cand = (CONFUSION_COUNT[out] > 0) & in_len & (out == chars)
        key = np.where(cand, rng.random(chars.shape), -1.0)
        col = np.argmax(key, axis=1)
        ok = active & cand[rows, col]
        c = out[rows[ok], col[ok]]
        pick = (rng.random(int(ok.sum())) * CONFUSION_COUNT[c]).astype(np.int64)
        out[rows[ok], col[ok]] = CONFUSION_TABLE[c, pick]
        changed |= ok
    return out, changed


def _confidence(rng: np.random.Generator, n: int, model: ReadModel) -> F64:
    good = 0.85 + 0.14 * rng.beta(4.0, 1.6, n)
    low = rng.uniform(0.60, 0.85, n)
    result = np.round(np.where(rng.random(n) < model.low_confidence_share, low, good), 3)
    return result.astype(np.float64)


@dataclass
class ReadChunk:
    """One block of reads, as Arrow tables in the formats of docs/formats.md."""

    reads: pa.Table
    truth: pa.Table
    by_kind: dict[str, int] = field(default_factory=dict)


def _take_str(values: pa.Array, idx: I64) -> pa.Array:
    return values.take(pa.array(idx))


def make_chunk(
    rng: np.random.Generator,
    register: VehicleRegister,
    vrm: pa.StringArray,
    vrm_spaced: pa.StringArray,
    cameras: CameraNetwork,
    camera_ids: pa.StringArray,
    passes: _Passes,
    clock: ChargeDay,
    model: ReadModel,
    first_seq: int,
    id_prefix: str,
    plate_of: I64 | None = None,
) -> ReadChunk:
    n_pass = len(passes.vehicle)
    # the plate a vehicle shows: its own, or for a clone another vehicle's (`cloned_plates`)
    shown: I64 = np.arange(len(register), dtype=np.int64) if plate_of is None else plate_of
    # queue duplicates: the same pass read again a few seconds later
    dup = np.flatnonzero(rng.random(n_pass) < model.queue_duplicate_rate)
    gap = rng.uniform(*model.queue_gap_s, len(dup)) * 1000.0
    # junk: no vehicle, at a camera and time where traffic is
    n_junk = rng.binomial(n_pass, model.junk_rate) if n_pass else 0
    junk_src = rng.integers(0, max(n_pass, 1), n_junk)
    # faulty rows
    decom = np.flatnonzero(cameras.decommissioned_by(clock.day))
    n_fd = rng.binomial(n_pass, model.faulty_decommissioned_rate) if len(decom) and n_pass else 0
    n_fc = rng.binomial(n_pass, model.faulty_confidence_rate) if n_pass else 0
    fd_src = rng.integers(0, max(n_pass, 1), n_fd)
    fc_src = rng.integers(0, max(n_pass, 1), n_fc)

    src = np.concatenate([np.arange(n_pass), dup, junk_src, fd_src, fc_src]).astype(np.int64)
    kind = np.concatenate(
        [
            np.full(n_pass, GENUINE),
            np.full(len(dup), QUEUE_DUPLICATE),
            np.full(n_junk + n_fd + n_fc, JUNK),
        ]
    ).astype(np.int64)
    n = len(src)
    if n == 0:
        return ReadChunk(
            reads=READS_SCHEMA.empty_table(),
            truth=TRUTH_SCHEMA.empty_table(),
            by_kind=dict.fromkeys(KINDS, 0),
        )
    veh = passes.vehicle[src]
    camera = passes.camera[src].copy()
    elapsed = passes.elapsed_ms[src].copy()
    direction = passes.direction[src].copy()
    trip_id = passes.trip_id[src].copy()
    o_dup = n_pass
    o_junk = o_dup + len(dup)
    o_fd = o_junk + n_junk
    o_fc = o_fd + n_fd
    elapsed[o_dup:o_junk] += gap.astype(np.int64)
    elapsed[o_junk:o_fd] += rng.integers(-60_000, 60_000, n_junk)
    if n_fd:
        camera[o_fd:o_fc] = decom[rng.integers(0, len(decom), n_fd)]
    elapsed = np.clip(elapsed, 0, clock.length_ms - 1)

    confidence = _confidence(rng, n, model)
    # misreads among genuine passes (and a duplicate repeats its pass's misread)
    mis_pass = rng.random(n_pass) < model.misread_rate
    mis_rows = np.flatnonzero(np.concatenate([mis_pass, mis_pass[dup], np.zeros(n - o_junk, bool)]))
    spaced_cam = cameras.spaced[camera]
    pv = shown[veh]
    plate = pc.if_else(pa.array(spaced_cam), _take_str(vrm_spaced, pv), _take_str(vrm, pv))
    if len(mis_rows):
        two = rng.random(n_pass) < model.misread_two_chars
        two_rows = np.concatenate([two, two[dup], np.zeros(n - o_junk, bool)])[mis_rows]
        # the same pass gets the same wrong characters: draw per pass, then copy to duplicates
        pass_of = src[mis_rows]
        uniq, inv = np.unique(pass_of, return_inverse=True)
        v_u = shown[passes.vehicle[uniq]]
        two_u = np.zeros(len(uniq), dtype=np.bool_)
        two_u[inv] = two_rows
        new_u, changed_u = misread_chars(rng, register.vrm_chars[v_u], register.vrm_len[v_u], two_u)
        new = new_u[inv]
        changed = changed_u[inv]
        mis_rows = mis_rows[changed]
        new = new[changed]
        v_m = pv[mis_rows]
        lens = register.vrm_len[v_m]
        sp_chars, sp_lens = _vrm.spaced(new, lens, register.vrm_space[v_m])
        flat = strings_from_chars(new, lens)
        spaced_str = strings_from_chars(sp_chars, sp_lens)
        replacement = pc.if_else(pa.array(spaced_cam[mis_rows]), spaced_str, flat)
        mask = np.zeros(n, dtype=np.bool_)
        mask[mis_rows] = True
        plate = pc.replace_with_mask(plate, pa.array(mask), replacement)
        kind[mis_rows[mis_rows < n_pass]] = MISREAD
        confidence[mis_rows] = np.round(rng.uniform(0.50, 0.88, len(mis_rows)), 3)

    # junk plates: empty, or a partial read with '?' for what the camera could not read
    if n_junk:
        j_rows = np.arange(o_junk, o_fd)
        empty = rng.random(n_junk) < model.junk_empty_share
        src_chars = register.vrm_chars[pv[j_rows]]
        part_len = np.minimum(rng.integers(2, 6, n_junk), register.vrm_len[pv[j_rows]])
        part = np.where(np.arange(_vrm.WIDTH)[None, :] < part_len[:, None], src_chars, 0)
        unreadable = (rng.random(part.shape) < 0.3) & (part > 0)
        unreadable[np.arange(n_junk), rng.integers(0, 2, n_junk)] |= True
        part = np.where(
            unreadable & (np.arange(_vrm.WIDTH)[None, :] < part_len[:, None]), ord("?"), part
        )
        junk_plate = strings_from_chars(part.astype(np.uint8), np.where(empty, 0, part_len))
        mask = np.zeros(n, dtype=np.bool_)
        mask[j_rows] = True
        plate = pc.replace_with_mask(plate, pa.array(mask), junk_plate)
        confidence[j_rows] = np.round(rng.uniform(0.05, 0.6, n_junk), 3)
    if n_fc:
        fc_rows = np.arange(o_fc, n)
        bad = np.where(
            rng.random(n_fc) < 0.7,
            np.round(rng.uniform(60.0, 99.0, n_fc), 1),
            -np.round(rng.uniform(0.01, 0.2, n_fc), 3),
        )
        confidence[fc_rows] = bad

    lane = (1 + (rng.random(n) * cameras.lanes[camera]).astype(np.int64)).astype(np.int16)
    true_vrm = _take_str(vrm, veh)
    is_junk = kind == JUNK
    observed_make, observed_type = _observations(
        rng, register, veh, camera, is_junk, cameras, model
    )
    true_vrm = pc.if_else(pa.array(is_junk), pa.scalar(None, pa.string()), true_vrm)
    trip = pa.array(trip_id, mask=is_junk)

    order = np.lexsort((camera, elapsed))
    seq = first_seq + np.arange(n, dtype=np.int64)
    read_id = pc.binary_join_element_wise(
        pa.scalar(id_prefix),
        pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), width=10, padding="0"),
        "",
    )
    cam_ids = _take_str(camera_ids, camera[order])
    captured = (clock.start_utc_ms + elapsed[order]) * 1000
    directions = np.array(DIRECTIONS, dtype=object)[direction[order]]
    reads = pa.table(
        {
            "read_id": read_id,
            "camera_id": cam_ids,
            "captured_at": pa.array(captured, pa.timestamp("us", tz="UTC")),
            "plate": plate.take(pa.array(order)),
            "confidence": pa.array(confidence[order]),
            "direction": pa.array(directions, pa.string()),
            "lane": pa.array(lane[order]),
            "image_ref": pc.binary_join_element_wise("img://", cam_ids, "/", read_id, ""),
            "observed_make": observed_make.take(pa.array(order)),
            "observed_type": observed_type.take(pa.array(order)),
        },
        schema=READS_SCHEMA,
    )
    truth = pa.table(
        {
            "read_id": read_id,
            "true_vrm": true_vrm.take(pa.array(order)),
            "kind": pa.array(np.array(KINDS, dtype=object)[kind[order]], pa.string()),
            "trip_id": trip.take(pa.array(order)),
        },
        schema=TRUTH_SCHEMA,
    )
    by_kind = {k: int(c) for k, c in zip(KINDS, np.bincount(kind, minlength=4), strict=True)}
    return ReadChunk(reads=reads, truth=truth, by_kind=by_kind)


def cloned_plates(vehicles: int, seed: int, rate: float) -> I64:
    """For each vehicle, the index of the vehicle whose plate it shows: itself, or for a clone
    (a `rate` share) another vehicle's. Drawn from its own generator, so adding clones leaves
    every other draw of the day as it was."""
    plate_of = np.arange(vehicles, dtype=np.int64)
    clones = round(vehicles * rate)
    if clones == 0 or vehicles < 2:
        return plate_of
    rng = np.random.default_rng([seed, 0xC10E])
    cloned = rng.choice(vehicles, clones, replace=False)
    # any other vehicle: shifting by 1..n-1 never lands on the clone itself
    plate_of[cloned] = (cloned + rng.integers(1, vehicles, clones)) % vehicles
    return plate_of


@functools.lru_cache(maxsize=8)
def mmr_cameras(camera_ids: tuple[str, ...], share: float) -> Bool:
    """Which cameras report make and model recognition: a fixed share, picked by a hash of the
    camera id, so a camera keeps its capability at every scale, seed and day."""
    draws = np.array([zlib.crc32(c.encode()) for c in camera_ids], dtype=np.float64) / 2**32
    mask: Bool = draws < share
    mask.setflags(write=False)  # cached: shared by every chunk
    return mask


def _observations(
    rng: np.random.Generator,
    register: VehicleRegister,
    veh: I64,
    camera: I64,
    is_junk: Bool,
    cameras: CameraNetwork,
    model: ReadModel,
) -> tuple[pa.Array, pa.Array]:
    """(observed_make, observed_type) per read: the true vehicle's, from MMR cameras; none at
    other cameras or for junk; a small share wrong or missing. Drawn after every other draw of
    the chunk, so the reads themselves are what they were without MMR."""
    n = len(veh)
    error = rng.random(n)
    wrong = rng.integers(1, len(CAMERA_CLASSES), n)
    classes = np.array(CAMERA_CLASSES, dtype=object)
    code = np.array([CAMERA_CLASSES.index(CAMERA_CLASS[t]) for t in range(9)])
    true_class = code[register.vehicle_type[veh]]
    # a wrong class is any other class: shift by 1..k-1 places
    seen_class = np.where(
        error < model.mmr_error_rate, (true_class + wrong) % len(CAMERA_CLASSES), true_class
    )
    has = mmr_cameras(tuple(cameras.camera_id), model.mmr_camera_share)[camera] & ~is_junk
    has &= error >= model.mmr_error_rate / 2  # the other half of errors: nothing reported
    make = pc.utf8_upper(pa.array(register.make[veh], pa.string()))
    absent = pa.array(~has)
    observed_make = pc.if_else(absent, pa.scalar(None, pa.string()), make)
    observed_type = pc.if_else(
        absent, pa.scalar(None, pa.string()), pa.array(classes[seen_class], pa.string())
    )
    return observed_make, observed_type


@dataclass(frozen=True)
class DayStats:
    reads: int
    by_kind: dict[str, int]
    trips: int
    active_vehicles: int


def simulate_day(
    register: VehicleRegister,
    cameras: CameraNetwork,
    traffic: TrafficNetwork,
    gravity: Gravity,
    day: dt.date,
    seed: int,
    model: ReadModel,
    chunk_vehicles: int,
    id_prefix: str,
    on_chunk: Callable[[ReadChunk], None],
    progress: Callable[[int, int], None] | None = None,
) -> DayStats:
    """Generate a day's reads block by block, handing each block to `on_chunk`."""
    clock = ChargeDay.of(day)
    slot_rng = np.random.default_rng([seed, day.toordinal(), 0x5107])
    slots = build_slots(cameras, traffic, day, model, slot_rng)
    vrm = register.vrm_strings()
    vrm_spaced = register.vrm_spaced_strings()
    plate_of = cloned_plates(len(register), seed, model.clone_rate)
    camera_ids = pa.array(cameras.camera_id, pa.string())
    n = len(register)
    seq = 0
    by_kind = dict.fromkeys(KINDS, 0)
    trips = 0
    active = 0
    for i, start in enumerate(range(0, n, chunk_vehicles)):
        rng = np.random.default_rng([seed, day.toordinal(), 0x12EAD, i])
        block = np.arange(start, min(n, start + chunk_vehicles), dtype=np.int64)
        legs = make_legs(rng, register, block, traffic, gravity, clock)
        passes = make_passes(rng, legs, traffic, slots, clock, model)
        chunk = make_chunk(
            rng,
            register,
            vrm,
            vrm_spaced,
            cameras,
            camera_ids,
            passes,
            clock,
            model,
            seq,
            id_prefix,
            plate_of,
        )
        seq += chunk.reads.num_rows
        trips += len(legs.vehicle)
        active += len(np.unique(legs.vehicle))
        for k, c in chunk.by_kind.items():
            by_kind[k] += c
        on_chunk(chunk)
        if progress is not None:
            progress(int(block[-1]) + 1, n)
    return DayStats(reads=seq, by_kind=by_kind, trips=trips, active_vehicles=active)


__all__ = [
    "CONFUSION_PAIRS",
    "KINDS",
    "READS_SCHEMA",
    "TRUTH_SCHEMA",
    "ReadModel",
    "simulate_day",
]
