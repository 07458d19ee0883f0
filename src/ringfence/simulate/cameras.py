"""A synthetic ANPR camera network for London's charging schemes.

Real camera locations are withheld by TfL, so the network is made up, sized from the published
counts in `anpr_camera_network_facts.csv`: over 1,500 cameras before 2023 (the 2015 CC/LEZ network
plus about 700 added for the 2021 inner ULEZ) and about 2,750 for the London-wide ULEZ, 20 of them
mobile vans.

*Cordon* cameras stand on a zone boundary: the CCZ (`cc_lez_2015`), the 2021 inner ULEZ
(`ulez_inner_2021`) and the Greater London / LEZ edge (`cc_lez_2015` LEZ cameras plus
`ulez_london_2023` additions). Every place where a link of the traffic graph crosses a boundary
gets one (snapped to where a major road crosses it, if one is near); the rest go where major roads
cross the boundary and, failing that, anywhere along it (the minor roads the data pack lacks).
*Internal* cameras are spread over each network's area with a quota per borough (so all 33 have
some), preferring realistic mounting points: JamCam sites, Major Road Network and red-route edges,
then the graph's links, then anywhere in the borough.

`enforces` is where the camera is, as of today: every London camera enforces the ULEZ (London-wide
since 2023) and the LEZ (London-wide since 2008); those in or on the CCZ also enforce the CCZ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from ringfence.simulate._geo import London, load_london, to_lonlat
from ringfence.simulate._traffic import GATEWAY_BAND, TrafficNetwork, build_traffic_network
from ringfence.simulate._types import F64, I64, Bool

NETWORKS = ("cc_lez_2015", "ulez_inner_2021", "ulez_london_2023")
SITE_KINDS = ("cordon", "internal", "mobile")
#: Boundaries a cordon camera can stand on, in `boundary` order.
BOUNDARIES = ("ccz", "ulez_2021_inner", "lez_2008")
BOUNDARY_CCZ, BOUNDARY_INNER, BOUNDARY_LONDON = 0, 1, 2
NET_CC_LEZ, NET_INNER, NET_LONDON = 0, 1, 2
KIND_CORDON, KIND_INTERNAL, KIND_MOBILE = 0, 1, 2

#: Full-scale camera counts: (network, site kind, where) -> count.
#: cc_lez_2015 800 + ulez_inner_2021 700 = 1,500 before 2023; ulez_london_2023 2,750.
FULL_COUNTS: dict[tuple[int, int, str], int] = {
    (NET_CC_LEZ, KIND_CORDON, "ccz"): 260,
    (NET_CC_LEZ, KIND_INTERNAL, "ccz"): 240,
    (NET_CC_LEZ, KIND_CORDON, "london"): 180,
    (NET_CC_LEZ, KIND_INTERNAL, "outer"): 120,
    (NET_INNER, KIND_CORDON, "inner"): 420,
    (NET_INNER, KIND_INTERNAL, "inner"): 280,
    (NET_LONDON, KIND_CORDON, "london"): 250,
    (NET_LONDON, KIND_INTERNAL, "outer"): 2_480,
    (NET_LONDON, KIND_MOBILE, "outer"): 20,
}
#: Share of cameras decommissioned (stolen, vandalised) between these dates; most get a
#: replacement at the same site a few weeks later.
DECOMMISSIONED_SHARE = 0.006
DECOMMISSION_WINDOW = (dt.date(2023, 9, 1), dt.date(2025, 12, 31))
REPLACED_SHARE = 0.7
#: Share of cameras whose vendor writes the VRM with its usual space ("AB12 CDE").
SPACED_VENDOR_SHARE = 0.25
#: Metres between a boundary crossing and a major-road crossing it may be snapped to.
SNAP_M = 500.0
MIN_CAMERAS = 60

GO_LIVE_INNER = dt.date(2021, 10, 25)
GO_LIVE_LONDON = dt.date(2023, 8, 29)


@dataclass(frozen=True)
class Sites:
    """Every site of the full network, and the kept camera that stands in for it.

    On the full network each site is its own camera. A thinned network (small scales) keeps
    every site for routing, and each site's passes are read by the nearest kept camera of the
    same kind (a cordon camera on the same boundary), so a trip passes as many cameras, and
    crosses a boundary past a cordon camera, at any scale.
    """

    x: F64
    y: F64
    site_kind: I64
    boundary: I64
    commissioned_on: Any
    decommissioned_on: Any
    camera: I64  # the nearest kept camera of the same kind, ignoring service dates

    def in_service(self, day: dt.date) -> Bool:
        d = np.datetime64(day, "D")
        ended = ~np.isnat(self.decommissioned_on) & (self.decommissioned_on <= d)
        result: Bool = (self.commissioned_on <= d) & ~ended
        return result


@dataclass(frozen=True)
class CameraNetwork:
    """Cameras, arrays aligned by camera index, and the sites they read."""

    camera_id: tuple[str, ...]
    x: F64  # local plane metres
    y: F64
    lon: F64
    lat: F64
    borough: I64  # index into London.borough_gss, -1 on the Thames
    network: I64  # index into NETWORKS
    site_kind: I64  # index into SITE_KINDS
    boundary: I64  # index into BOUNDARIES for cordon cameras, else -1
    in_ccz: Bool  # in or on the CCZ (enforces the CCZ)
    commissioned_on: Any  # datetime64[D] array
    decommissioned_on: Any  # datetime64[D] array, NaT while in service
    lanes: I64  # lanes the camera covers (hidden; reads carry 1..lanes)
    spaced: Bool  # the vendor writes the VRM with a space (hidden)
    sites: Sites

    def __len__(self) -> int:
        return len(self.camera_id)

    def in_service(self, day: dt.date) -> Bool:
        d = np.datetime64(day, "D")
        started = self.commissioned_on <= d
        ended = ~np.isnat(self.decommissioned_on) & (self.decommissioned_on <= d)
        result: Bool = started & ~ended
        return result

    def site_cameras(self, day: dt.date) -> I64:
        """For each site, the camera that reads it on `day`: itself on the full network, else
        the nearest kept camera of the same kind in service that day; -1 if the site is not in
        service (or no such camera exists)."""
        live_site = self.sites.in_service(day)
        live_cam = self.in_service(day)
        out = np.full(len(live_site), -1, dtype=np.int64)
        if (
            len(self.sites.camera) == len(self)
            and (self.sites.camera == np.arange(len(self))).all()
        ):
            out[live_site & live_cam] = np.flatnonzero(live_site & live_cam)
            return out
        site_group = np.where(self.sites.site_kind == KIND_CORDON, self.sites.boundary, -1)
        cam_group = np.where(self.site_kind == KIND_CORDON, self.boundary, -1)
        for g in np.unique(site_group).tolist():
            cams = np.flatnonzero((cam_group == g) & live_cam)
            mine = np.flatnonzero((site_group == g) & live_site)
            if len(cams) == 0 or len(mine) == 0:
                continue
            tree = shapely.STRtree(shapely.points(self.x[cams], self.y[cams]))
            pts = shapely.points(self.sites.x[mine], self.sites.y[mine])
            out[mine] = cams[tree.query_nearest(pts, all_matches=False)[1]]
        # a kept camera in service reads its own site
        own = live_site & (self.sites.camera >= 0) & live_cam[np.maximum(self.sites.camera, 0)]
        kept_site = np.zeros(len(live_site), dtype=np.bool_)
        kept_site[self._kept_sites()] = True
        out[own & kept_site] = self.sites.camera[own & kept_site]
        return out

    def _kept_sites(self) -> I64:
        """Site index of each kept camera (sites that are their own stand-in, by position)."""
        cam = self.sites.camera
        same = (self.sites.x == self.x[cam]) & (self.sites.y == self.y[cam])
        return np.flatnonzero(same)

    def decommissioned_by(self, day: dt.date) -> Bool:
        d = np.datetime64(day, "D")
        result: Bool = ~np.isnat(self.decommissioned_on) & (self.decommissioned_on <= d)
        return result

    def to_table(self, london: London | None = None) -> pa.Table:
        """The `cameras.csv` table of docs/formats.md."""
        london = london or load_london()
        gss = np.array([*london.borough_gss, ""], dtype=object)
        enforces = np.where(self.in_ccz, "ulez;ccz;lez", "ulez;lez")
        decom = [None if np.isnat(v) else v.item() for v in self.decommissioned_on]
        return pa.table(
            {
                "camera_id": pa.array(self.camera_id, pa.string()),
                "lat": pa.array(np.round(self.lat, 6)),
                "lon": pa.array(np.round(self.lon, 6)),
                "borough_gss": pa.array(gss[self.borough], pa.string()),
                "network": pa.array(np.array(NETWORKS, dtype=object)[self.network], pa.string()),
                "enforces": pa.array(enforces.astype(object), pa.string()),
                "site_kind": pa.array(
                    np.array(SITE_KINDS, dtype=object)[self.site_kind], pa.string()
                ),
                "commissioned_on": pa.array(self.commissioned_on.astype("datetime64[D]")),
                "decommissioned_on": pa.array(decom, pa.date32()),
            }
        )


def boundary_ring(london: London, zone_id: str) -> shapely.LinearRing:
    """The outer ring of a zone's main polygon, in the local plane."""
    main = max(shapely.get_parts(london.zones_xy[zone_id]), key=lambda p: p.area)
    ring: shapely.LinearRing = main.exterior
    return ring


@dataclass(frozen=True)
class Crossings:
    """Where the traffic graph's links cross each boundary."""

    link: I64
    boundary: I64
    x: F64
    y: F64
    t: F64  # fraction along the link from u to v
    entering_uv: Bool  # travelling u -> v enters the zone here


def link_crossings(london: London, traffic: TrafficNetwork) -> Crossings:
    u, v = traffic.link_u, traffic.link_v
    eligible = np.flatnonzero(
        (traffic.node_band[u] != GATEWAY_BAND) | (traffic.node_band[v] != GATEWAY_BAND)
    )
    p0 = np.column_stack([traffic.node_x[u[eligible]], traffic.node_y[u[eligible]]])
    p1 = np.column_stack([traffic.node_x[v[eligible]], traffic.node_y[v[eligible]]])
    lines = shapely.linestrings(np.stack([p0, p1], axis=1))
    out: dict[str, list[Any]] = {k: [] for k in ("link", "boundary", "x", "y", "t", "enter")}
    for b, zone_id in enumerate(BOUNDARIES):
        ring = boundary_ring(london, zone_id)
        poly = shapely.Polygon(ring)
        hits = shapely.intersection(lines, ring)
        for i in np.flatnonzero(~shapely.is_empty(hits)):
            pts = shapely.get_coordinates(hits[i])
            vec = p1[i] - p0[i]
            length2 = float(vec @ vec)
            for px, py in pts:
                t = float(((px - p0[i, 0]) * vec[0] + (py - p0[i, 1]) * vec[1]) / length2)
                ahead = p0[i] + vec * min(1.0, t + 25.0 / np.sqrt(length2))
                out["link"].append(int(eligible[i]))
                out["boundary"].append(b)
                out["x"].append(px)
                out["y"].append(py)
                out["t"].append(t)
                out["enter"].append(bool(shapely.contains_xy(poly, ahead[0], ahead[1])))
    order = np.lexsort((np.asarray(out["t"]), np.asarray(out["link"]), np.asarray(out["boundary"])))
    order = _drop_clips(order, out, lengths=shapely.length(lines), eligible=eligible)
    return Crossings(
        link=np.asarray(out["link"], dtype=np.int64)[order],
        boundary=np.asarray(out["boundary"], dtype=np.int64)[order],
        x=np.asarray(out["x"], dtype=np.float64)[order],
        y=np.asarray(out["y"], dtype=np.float64)[order],
        t=np.asarray(out["t"], dtype=np.float64)[order],
        entering_uv=np.asarray(out["enter"], dtype=np.bool_)[order],
    )


#: Two crossings of one boundary this close together on one link (out and straight back in)
#: are an artefact of the straight-line link clipping a corner of the zone: both are dropped.
CLIP_M = 150.0


def _drop_clips(order: I64, out: dict[str, list[Any]], lengths: F64, eligible: I64) -> I64:
    link_len = dict(zip(eligible.tolist(), lengths.tolist(), strict=True))
    kept: list[int] = []
    for i in order.tolist():
        if kept:
            j = kept[-1]
            same = out["link"][j] == out["link"][i] and out["boundary"][j] == out["boundary"][i]
            gap = (out["t"][i] - out["t"][j]) * link_len[out["link"][i]]
            if same and gap < CLIP_M:
                kept.pop()
                continue
        kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def _road_points_on(london: London, ring: shapely.LinearRing) -> F64:
    """Points where major roads cross a ring, plus JamCam sites within 100 m of it."""
    hits = shapely.intersection(london.mrn_xy, ring)
    mrn = shapely.get_coordinates(hits[~shapely.is_empty(hits)])
    jam = shapely.points(np.column_stack([london.jamcam_x, london.jamcam_y]))
    near = shapely.distance(jam, ring) < 100.0
    snapped = shapely.get_coordinates(
        shapely.line_interpolate_point(ring, shapely.line_locate_point(ring, jam[near]))
    )
    pts = np.concatenate([mrn.reshape(-1, 2), snapped.reshape(-1, 2)])
    # one point per 150 m stretch is enough
    if len(pts) == 0:
        return pts
    key = np.unique(np.round(pts / 150.0).astype(np.int64), axis=0, return_index=True)[1]
    return pts[np.sort(key)]


def _weighted_pick(rng: np.random.Generator, weights: F64, k: int) -> I64:
    """k indices without replacement, weighted (Efraimidis-Spirakis keys)."""
    if k <= 0 or len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    keys = rng.random(len(weights)) ** (1.0 / np.maximum(weights, 1e-12))
    return np.argsort(-keys, kind="stable")[: min(k, len(weights))].astype(np.int64)


def _region_masks(london: London, x: F64, y: F64) -> dict[str, Bool]:
    ccz = shapely.contains_xy(london.zones_xy["ccz"], x, y)
    inner = shapely.contains_xy(london.zones_xy["ulez_2021_inner"], x, y)
    return {"ccz": ccz, "inner": inner & ~ccz, "outer": ~inner & ~ccz}


def _candidates(
    london: London, traffic: TrafficNetwork, rng: np.random.Generator
) -> tuple[F64, F64, F64]:
    """Candidate internal sites (x, y, weight): real mounting points first."""
    xs: list[F64] = [london.jamcam_x]
    ys: list[F64] = [london.jamcam_y]
    ws: list[F64] = [np.full(len(london.jamcam_x), 6.0)]

    def along(lines: Any, step: float, weight: float) -> None:
        lengths = shapely.length(lines)
        n = np.maximum(1, (lengths // step).astype(np.int64))
        idx = np.repeat(np.arange(len(lines)), n)
        frac = rng.random(len(idx))
        pts = shapely.get_coordinates(
            shapely.line_interpolate_point(lines[idx], frac, normalized=True)
        )
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        ws.append(np.full(len(pts), weight))

    # JamCam poles are shared: stand a few metres off them
    xs[0] = xs[0] + rng.normal(0.0, 3.0, len(xs[0]))
    ys[0] = ys[0] + rng.normal(0.0, 3.0, len(ys[0]))
    along(london.mrn_xy, 150.0, 3.0)
    along(shapely.boundary(shapely.get_parts(london.tlrn_xy)), 300.0, 2.0)
    zone_links = (traffic.node_band[traffic.link_u] != GATEWAY_BAND) & (
        traffic.node_band[traffic.link_v] != GATEWAY_BAND
    )
    u, v = traffic.link_u[zone_links], traffic.link_v[zone_links]
    links = shapely.linestrings(
        np.stack(
            [
                np.column_stack([traffic.node_x[u], traffic.node_y[u]]),
                np.column_stack([traffic.node_x[v], traffic.node_y[v]]),
            ],
            axis=1,
        )
    )
    along(links, 250.0, 1.5)
    # anywhere on land, for boroughs with few major roads (Harrow has none in the pack)
    land = london.zones_xy["greater_london_os"]
    minx, miny, maxx, maxy = land.bounds
    rx = rng.uniform(minx, maxx, 40_000)
    ry = rng.uniform(miny, maxy, 40_000)
    xs.append(rx)
    ys.append(ry)
    ws.append(np.full(len(rx), 0.4))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def _largest_remainder(weights: F64, total: int, minimum: int) -> I64:
    base = np.where(weights > 0, minimum, 0).astype(np.int64)
    rest = max(0, total - int(base.sum()))
    share = weights / weights.sum() * rest
    q = np.floor(share).astype(np.int64)
    left = rest - int(q.sum())
    q[np.argsort(-(share - q), kind="stable")[:left]] += 1
    result: I64 = base + q
    return result


def _full_sites(
    london: London, traffic: TrafficNetwork, rng: np.random.Generator
) -> dict[str, Any]:
    xs: list[F64] = []
    ys: list[F64] = []
    site_net: list[I64] = []
    kinds: list[int] = []
    bounds: list[int] = []

    def add(px: F64, py: F64, net: I64 | int, kind: int, boundary: int) -> None:
        n = len(px)
        xs.append(px)
        ys.append(py)
        site_net.append(np.broadcast_to(np.asarray(net, dtype=np.int64), (n,)).copy())
        kinds.extend([kind] * n)
        bounds.extend([boundary] * n)

    # cordon cameras
    crossings = link_crossings(london, traffic)
    for b, zone_id in enumerate(BOUNDARIES):
        ring = boundary_ring(london, zone_id)
        if b == BOUNDARY_CCZ:
            wanted = FULL_COUNTS[(NET_CC_LEZ, KIND_CORDON, "ccz")]
        elif b == BOUNDARY_INNER:
            wanted = FULL_COUNTS[(NET_INNER, KIND_CORDON, "inner")]
        else:
            wanted = (
                FULL_COUNTS[(NET_CC_LEZ, KIND_CORDON, "london")]
                + FULL_COUNTS[(NET_LONDON, KIND_CORDON, "london")]
            )
        road = _road_points_on(london, ring)
        m = crossings.boundary == b
        cx, cy = crossings.x[m], crossings.y[m]
        if len(road):
            d2 = (cx[:, None] - road[None, :, 0]) ** 2 + (cy[:, None] - road[None, :, 1]) ** 2
            nearest = np.argmin(d2, axis=1)
            near = d2[np.arange(len(cx)), nearest] < SNAP_M**2
            cx = np.where(near, road[nearest, 0], cx)
            cy = np.where(near, road[nearest, 1], cy)
            used = np.zeros(len(road), dtype=np.bool_)
            used[nearest[near]] = True
            spare = road[~used]
        else:  # pragma: no cover - every boundary has major roads crossing it
            spare = road
        rest = max(0, wanted - len(cx))
        from_roads = spare[rng.permutation(len(spare))[: rest // 2]]
        n_any = rest - len(from_roads)
        anywhere = shapely.get_coordinates(
            shapely.line_interpolate_point(ring, rng.random(n_any), normalized=True)
        )
        px = np.concatenate([cx, from_roads[:, 0], anywhere[:, 0]])
        py = np.concatenate([cy, from_roads[:, 1], anywhere[:, 1]])
        if b == BOUNDARY_CCZ:
            net: I64 | int = NET_CC_LEZ
        elif b == BOUNDARY_INNER:
            net = NET_INNER
        else:
            n_old = FULL_COUNTS[(NET_CC_LEZ, KIND_CORDON, "london")]
            net = np.where(rng.permutation(len(px)) < n_old, NET_CC_LEZ, NET_LONDON)
        add(px, py, net, KIND_CORDON, b)

    # internal and mobile cameras, with a quota per borough
    cx, cy, cw = _candidates(london, traffic, rng)
    lon, lat = to_lonlat(cx, cy)
    cb = london.borough_of(lon, lat)
    regions = _region_masks(london, cx, cy)
    taken = np.zeros(len(cx), dtype=np.bool_)
    n_b = len(london.borough_gss)
    for (net_id, kind, where), count in FULL_COUNTS.items():
        if kind == KIND_CORDON:
            continue
        in_region = regions[where] & (cb >= 0)
        area = np.bincount(cb[in_region], minlength=n_b).astype(np.float64)  # candidate density
        land = np.bincount(cb[in_region & (cw < 0.5)], minlength=n_b).astype(np.float64)
        weights = np.where(land >= 3, land, 0.0) + 0.05 * np.where(land >= 3, area, 0.0)
        quotas = _largest_remainder(weights, count, 1 if count >= 100 else 0)
        for b in np.flatnonzero(quotas).tolist():
            idx = np.flatnonzero(in_region & (cb == b) & ~taken)
            pick = idx[_weighted_pick(rng, cw[idx], int(quotas[b]))]
            taken[pick] = True
            add(cx[pick], cy[pick], net_id, kind, -1)

    return {
        "x": np.concatenate(xs),
        "y": np.concatenate(ys),
        "network": np.concatenate(site_net),
        "kind": np.asarray(kinds, dtype=np.int64),
        "boundary": np.asarray(bounds, dtype=np.int64),
    }


def _dates(rng: np.random.Generator, network: I64, kind: I64) -> Any:
    n = len(network)
    out = np.empty(n, dtype="datetime64[D]")
    d2014 = np.datetime64("2014-09-01")
    span15 = int((np.datetime64("2015-12-31") - d2014).astype(np.int64))
    old = network == NET_CC_LEZ
    out[old] = d2014 + rng.integers(0, span15, int(old.sum()))
    inner = network == NET_INNER
    early = rng.random(n) < 0.15
    d_in = np.datetime64(GO_LIVE_INNER)
    out[inner] = np.where(early[inner], d_in - rng.integers(20, 200, int(inner.sum())), d_in)
    lw = network == NET_LONDON
    # about 990 of 2,750 were installed (and could read, for the LEZ) by late April 2023
    early_lw = (rng.random(n) < 0.36) & (kind != KIND_MOBILE)
    d_lw = np.datetime64(GO_LIVE_LONDON)
    start23 = np.datetime64("2023-01-09")
    span23 = int((d_lw - start23).astype(np.int64))
    out[lw] = np.where(early_lw[lw], start23 + rng.integers(0, span23, int(lw.sum())), d_lw)
    return out


def _subsample(rng: np.random.Generator, sites: dict[str, Any], n_target: int, borough: I64) -> I64:
    """A stratified subset: every borough, every boundary and network kept."""
    n = len(sites["x"])
    if n_target >= n:
        return np.arange(n, dtype=np.int64)
    order = rng.permutation(n)
    keep = np.zeros(n, dtype=np.bool_)
    # one internal camera per borough
    for b in np.unique(borough[borough >= 0]):
        cand = order[(borough[order] == b) & (sites["kind"][order] != KIND_CORDON)]
        if len(cand) == 0:
            cand = order[borough[order] == b]
        keep[cand[0]] = True
    # a few cordon cameras per boundary
    for b in range(len(BOUNDARIES)):
        cand = order[sites["boundary"][order] == b]
        keep[cand[:4]] = True
    # decommissioned cameras (faulty reads need them)
    decom = order[~np.isnat(sites["decommissioned_on"][order])]
    keep[decom[:3]] = True
    # then proportionally by stratum
    stratum = sites["network"] * 3 + sites["kind"]
    need = n_target - int(keep.sum())
    if need > 0:
        counts = np.bincount(stratum, minlength=9).astype(np.float64)
        quotas = _largest_remainder(counts, need, 0)
        for s in np.flatnonzero(quotas):
            cand = order[(stratum[order] == s) & ~keep[order]]
            keep[cand[: quotas[s]]] = True
    return np.flatnonzero(keep).astype(np.int64)


def _stand_ins(sites: dict[str, Any], keep: I64) -> I64:
    """For each site, the index (into `keep`) of the nearest kept camera of the same kind."""
    group = np.where(sites["kind"] == KIND_CORDON, sites["boundary"], -1)
    out = np.full(len(group), -1, dtype=np.int64)
    for g in np.unique(group):
        kept = np.flatnonzero(group[keep] == g)
        mine = np.flatnonzero(group == g)
        if len(kept) == 0:  # pragma: no cover - the subsample keeps every boundary
            continue
        tree = shapely.STRtree(shapely.points(sites["x"][keep[kept]], sites["y"][keep[kept]]))
        near = tree.query_nearest(
            shapely.points(sites["x"][mine], sites["y"][mine]), all_matches=False
        )[1]
        out[mine] = kept[near]
    out[keep] = np.arange(len(keep))  # a kept site is its own camera (replacements share a pole)
    return out


def _borough_or_nearest(london: London, x: F64, y: F64, lon: F64, lat: F64) -> I64:
    """The borough containing each site; sites just outside the clipped borough outlines (on the
    London edge) get the nearest borough, and only those on the Thames get none (-1)."""
    borough = london.borough_of(lon, lat)
    out = np.flatnonzero(borough < 0)
    if len(out):
        pts = shapely.points(x[out], y[out])
        on_river = shapely.distance(pts, london.thames_xy) < 30.0
        tree = shapely.STRtree(london.boroughs_xy)
        nearest = tree.query_nearest(pts, all_matches=False)[1]
        borough[out] = np.where(on_river, -1, nearest)
    return borough


@lru_cache(maxsize=4)
def build_camera_network(seed: int = 0, n_cameras: int | None = None) -> CameraNetwork:
    """The camera network for a seed: full size, or a stratified subset of about `n_cameras`
    (at least `MIN_CAMERAS`; every borough, boundary and network kept)."""
    london = load_london()
    traffic = build_traffic_network()
    rng = np.random.default_rng([seed, 0xCA3E7A])
    sites = _full_sites(london, traffic, rng)
    network = sites["network"]
    kind = sites["kind"]
    sites["commissioned_on"] = _dates(rng, network, kind)

    # decommissioned cameras (and their replacements)
    n = len(network)
    n_decom = max(3, round(n * DECOMMISSIONED_SHARE))
    weights = np.where(network == NET_LONDON, 4.0, 1.0) * (kind != KIND_MOBILE)
    victims = np.sort(_weighted_pick(rng, weights, n_decom))
    lo, hi = (np.datetime64(d, "D") for d in DECOMMISSION_WINDOW)
    decom = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    decom[victims] = lo + rng.integers(0, int((hi - lo).astype(np.int64)), n_decom)
    decom[victims] = np.maximum(decom[victims], sites["commissioned_on"][victims] + 30)
    sites["decommissioned_on"] = decom
    replaced = victims[rng.random(n_decom) < REPLACED_SHARE]
    # a replacement goes up on the same pole
    for key in ("x", "y", "network", "kind", "boundary"):
        sites[key] = np.concatenate([sites[key], sites[key][replaced]])
    sites["commissioned_on"] = np.concatenate(
        [sites["commissioned_on"], decom[replaced] + rng.integers(10, 90, len(replaced))]
    )
    sites["decommissioned_on"] = np.concatenate(
        [decom, np.full(len(replaced), np.datetime64("NaT"), dtype="datetime64[D]")]
    )

    lon, lat = to_lonlat(sites["x"], sites["y"])
    borough = _borough_or_nearest(london, sites["x"], sites["y"], lon, lat)
    total = len(lon)
    n_target = total if n_cameras is None else max(MIN_CAMERAS, n_cameras)
    keep = _subsample(rng, sites, n_target, borough)
    lanes = np.where(
        sites["kind"] == KIND_CORDON, rng.integers(1, 3, total), rng.integers(1, 4, total)
    )
    lanes = np.where(sites["kind"] == KIND_MOBILE, 1, lanes)
    spaced = rng.random(total) < SPACED_VENDOR_SHARE
    ccz_ring = boundary_ring(london, "ccz")
    in_ccz = shapely.contains_xy(london.zones_xy["ccz"], sites["x"], sites["y"]) | (
        shapely.distance(shapely.points(sites["x"], sites["y"]), ccz_ring) < 25.0
    )

    # stable ids, given on the full network: per borough, by network, kind, then position
    order = np.lexsort((sites["x"], sites["y"], sites["kind"], sites["network"], borough))
    gss = np.array([*london.borough_gss, "THAMES"], dtype=object)
    seq = np.zeros(total, dtype=np.int64)
    sorted_b = borough[order]
    first = np.searchsorted(sorted_b, sorted_b, side="left")
    seq[order] = np.arange(total) - first + 1
    keep = order[np.isin(order, keep)]
    b_k = borough[keep]
    ids = tuple(f"CAM-{g}-{s:04d}" for g, s in zip(gss[b_k], seq[keep], strict=True))
    return CameraNetwork(
        camera_id=ids,
        x=sites["x"][keep],
        y=sites["y"][keep],
        lon=lon[keep],
        lat=lat[keep],
        borough=b_k,
        network=sites["network"][keep],
        site_kind=sites["kind"][keep],
        boundary=sites["boundary"][keep],
        in_ccz=in_ccz[keep],
        commissioned_on=sites["commissioned_on"][keep],
        decommissioned_on=sites["decommissioned_on"][keep],
        lanes=lanes[keep].astype(np.int64),
        spaced=spaced[keep],
        sites=Sites(
            x=sites["x"],
            y=sites["y"],
            site_kind=sites["kind"],
            boundary=sites["boundary"],
            commissioned_on=sites["commissioned_on"],
            decommissioned_on=sites["decommissioned_on"],
            camera=_stand_ins(sites, keep),
        ),
    )
