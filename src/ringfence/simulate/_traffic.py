"""The coarse road graph that trips are routed on.

London's 1,002 MSOAs are clustered into about 150 *traffic zones* (never across a borough or a
charging-zone band, and smaller in the centre), and about 25 *gateways* are put just outside the
Greater London boundary where major roads leave it. The zone and gateway centroids are the nodes;
a Delaunay triangulation of them gives the links (a skeleton of radial and orbital roads; the hull
links between gateways play the M25). Link travel times use a detour factor and a speed per band;
links over the tidal Thames are slower, and much slower east of the Blackwall Tunnel where there
are no bridges. All-pairs fastest paths are precomputed (Floyd-Warshall on ~175 nodes), so a trip
is routed by a table look-up.

Nothing here depends on the seed: the geography is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely

from ringfence.simulate._geo import London, load_london
from ringfence.simulate._types import F64, I64

#: MSOAs per traffic zone in each band (CCZ, inner ULEZ, outer London).
MSOAS_PER_ZONE = (3, 6, 8)
#: Free-flow speeds (km/h) on links whose slowest end is in each band (CCZ, inner, outer, gateway).
BAND_SPEED_KMH = (13.0, 19.0, 27.0, 50.0)
#: Road distance over straight-line distance.
DETOUR = 1.3
#: Extra travel-time factor for a link over the Thames, and east of the Blackwall Tunnel.
THAMES_FACTOR = 1.4
THAMES_EAST_FACTOR = 4.0
THAMES_EAST_X = 10_500.0  # metres east of the plane origin: about 0.02 deg E, past Blackwall
#: Links longer than this (metres) are dropped unless both ends are gateways.
MAX_LINK_M = 14_000.0
GATEWAY_SPACING_M = 5_000.0
GATEWAY_FILL_SPACING_M = 8_000.0
GATEWAY_OFFSET_M = 2_500.0
GATEWAY_BAND = 3
#: A zone's local roads: the first and last mile of a trip, or a whole trip inside one zone.
LOCAL_SECONDS = 150.0
LOCAL_KM = 1.5


@dataclass(frozen=True)
class TrafficNetwork:
    """Nodes, links and precomputed fastest paths.

    Directed links: link `e` (nodes `u[e]` -> `v[e]`) is directed id `2e`, its reverse `2e+1`;
    directed id `2E + n` is the *local* pseudo-link of zone `n`: every trip's path starts and
    ends with its zones' local links (the first and last mile), or is just that for a trip that
    stays in its zone.
    """

    node_x: F64
    node_y: F64
    node_band: I64  # 0 CCZ, 1 inner, 2 outer, 3 gateway
    node_borough: I64  # -1 for gateways
    node_weight: F64  # population (zones) or relative road importance (gateways)
    n_zones: int  # nodes [0, n_zones) are zones; the rest are gateways
    msoa_zone: I64  # MSOA index -> zone node
    link_u: I64
    link_v: I64
    link_seconds: F64  # free-flow travel time
    link_length_m: F64  # road length (straight line x DETOUR)
    path_start: I64  # per OD pair (o * n_nodes + d): first entry in path_links
    path_count: I64
    path_links: I64  # directed link ids
    path_offset_s: F64  # free-flow seconds from the trip start to the start of that link
    od_seconds: F64  # (n_nodes, n_nodes) free-flow travel time
    od_km: F64  # (n_nodes, n_nodes) road km

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    @property
    def n_links(self) -> int:
        return len(self.link_u)

    @property
    def n_directed(self) -> int:
        return 2 * self.n_links + self.n_nodes

    def directed_ends(self) -> tuple[I64, I64]:
        """(from node, to node) of every directed link id; local pseudo-links are n -> n."""
        nodes = np.arange(self.n_nodes, dtype=np.int64)
        frm = np.concatenate([np.column_stack([self.link_u, self.link_v]).ravel(), nodes])
        to = np.concatenate([np.column_stack([self.link_v, self.link_u]).ravel(), nodes])
        return frm, to

    def directed_seconds(self) -> F64:
        local = np.full(self.n_nodes, LOCAL_SECONDS)
        return np.concatenate([np.repeat(self.link_seconds, 2), local])


def _kmeans(x: F64, y: F64, w: F64, k: int) -> I64:
    """Weighted k-means with a deterministic farthest-point start."""
    n = len(x)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    pts = np.column_stack([x, y])
    centres = [int(np.argmax(w))]
    d2 = ((pts - pts[centres[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(d2))
        centres.append(nxt)
        d2 = np.minimum(d2, ((pts - pts[nxt]) ** 2).sum(axis=1))
    c = pts[centres].copy()
    label = np.zeros(n, dtype=np.int64)
    for _ in range(25):
        dist = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        label = np.argmin(dist, axis=1).astype(np.int64)
        for j in range(k):
            m = label == j
            if m.any():
                c[j] = (pts[m] * w[m, None]).sum(axis=0) / w[m].sum()
    # relabel in order of first appearance so labels are stable
    _, first = np.unique(label, return_index=True)
    order = np.argsort(first)
    remap = np.empty(order.max() + 1 if len(order) else 0, dtype=np.int64)
    remap[np.unique(label)[order]] = np.arange(len(order))
    return remap[label]


def _zones(london: London) -> tuple[I64, int]:
    """MSOA -> zone label, clustered within (borough, band) groups."""
    zone = np.full(len(london.msoa_codes), -1, dtype=np.int64)
    next_label = 0
    for b in range(len(london.borough_gss)):
        for band in (0, 1, 2):
            idx = np.flatnonzero((london.msoa_borough == b) & (london.msoa_band == band))
            if len(idx) == 0:
                continue
            k = max(1, round(len(idx) / MSOAS_PER_ZONE[band]))
            w = london.msoa_population[idx].astype(np.float64)
            lab = _kmeans(london.msoa_x[idx], london.msoa_y[idx], w, k)
            zone[idx] = lab + next_label
            next_label += int(lab.max()) + 1
    return zone, next_label


def _gateways(london: London) -> tuple[F64, F64, F64]:
    """Points just outside Greater London where major roads (or, failing that, any road) leave."""
    lez = london.zones_xy["lez_2008"]
    main = max(shapely.get_parts(lez), key=lambda p: p.area)
    ring = main.exterior
    ends = shapely.get_coordinates(shapely.boundary(london.mrn_xy))
    d = shapely.distance(shapely.points(ends), ring)
    cand = ends[d < 600.0]
    cand = cand[np.lexsort((cand[:, 1], cand[:, 0], d[d < 600.0]))]
    picked: list[tuple[float, float, float]] = []
    for px, py in cand:
        if all((px - qx) ** 2 + (py - qy) ** 2 > GATEWAY_SPACING_M**2 for qx, qy, _ in picked):
            picked.append((float(px), float(py), 3.0))
    n_fill = int(ring.length // 1_000.0)
    fill = shapely.get_coordinates(
        shapely.line_interpolate_point(ring, np.arange(n_fill) * 1_000.0)
    )
    for px, py in fill:
        if all((px - qx) ** 2 + (py - qy) ** 2 > GATEWAY_FILL_SPACING_M**2 for qx, qy, _ in picked):
            picked.append((float(px), float(py), 1.0))
    arr = np.array(picked)
    # snap onto the ring, then push outwards from the centre of London
    on_ring = shapely.get_coordinates(
        shapely.line_interpolate_point(
            ring, shapely.line_locate_point(ring, shapely.points(arr[:, :2]))
        )
    )
    centre = np.array(main.centroid.coords[0])
    direction = on_ring - centre
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    out = on_ring + direction * GATEWAY_OFFSET_M
    order = np.argsort(np.arctan2(direction[:, 1], direction[:, 0]))
    return out[order, 0], out[order, 1], arr[order, 2]


def _floyd_warshall(n: int, u: I64, v: I64, w: F64) -> tuple[F64, I64]:
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    dist[u, v] = w
    dist[v, u] = w
    nxt = np.tile(np.arange(n, dtype=np.int64), (n, 1))
    for k in range(n):
        via = dist[:, k, None] + dist[None, k, :]
        better = via < dist - 1e-9
        dist = np.where(better, via, dist)
        nxt = np.where(better, nxt[:, k, None], nxt)
    return dist, nxt


@lru_cache(maxsize=1)
def build_traffic_network() -> TrafficNetwork:
    london = load_london()
    msoa_zone, n_zones = _zones(london)
    pop = london.msoa_population.astype(np.float64)
    zw = np.bincount(msoa_zone, weights=pop, minlength=n_zones)
    zx = np.bincount(msoa_zone, weights=pop * london.msoa_x, minlength=n_zones) / zw
    zy = np.bincount(msoa_zone, weights=pop * london.msoa_y, minlength=n_zones) / zw
    zband = np.zeros(n_zones, dtype=np.int64)
    zband[msoa_zone] = london.msoa_band
    zborough = np.zeros(n_zones, dtype=np.int64)
    zborough[msoa_zone] = london.msoa_borough
    gx, gy, gw = _gateways(london)
    x = np.concatenate([zx, gx])
    y = np.concatenate([zy, gy])
    band = np.concatenate([zband, np.full(len(gx), GATEWAY_BAND)])
    borough = np.concatenate([zborough, np.full(len(gx), -1)])
    weight = np.concatenate([zw, gw])
    n = len(x)

    edges = shapely.delaunay_triangles(
        shapely.multipoints(np.column_stack([x, y])), only_edges=True
    )
    seg = shapely.get_coordinates(edges).reshape(-1, 2, 2)
    key = {(round(px, 3), round(py, 3)): i for i, (px, py) in enumerate(zip(x, y, strict=True))}
    u = np.array([key[(round(a, 3), round(b, 3))] for a, b in seg[:, 0]], dtype=np.int64)
    v = np.array([key[(round(a, 3), round(b, 3))] for a, b in seg[:, 1]], dtype=np.int64)
    u, v = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    both_gw = (band[u] == GATEWAY_BAND) & (band[v] == GATEWAY_BAND)
    keep = both_gw | (straight <= MAX_LINK_M)
    u, v, straight = u[keep], v[keep], straight[keep]
    length = straight * DETOUR
    speed = np.asarray(BAND_SPEED_KMH)[np.maximum(band[u], band[v])]
    # links between a zone and a gateway run on trunk roads at the outer-London speed
    speed = np.where(both_gw, BAND_SPEED_KMH[3], speed)
    seconds = length / (speed / 3.6)
    lines = shapely.linestrings(
        np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    )
    over_thames = shapely.intersects(lines, london.thames_xy)
    east = np.maximum(x[u], x[v]) > THAMES_EAST_X
    seconds = np.where(
        over_thames, seconds * np.where(east, THAMES_EAST_FACTOR, THAMES_FACTOR), seconds
    )

    dist, nxt = _floyd_warshall(n, u, v, seconds)
    if not np.isfinite(dist).all():  # pragma: no cover - the Delaunay graph is connected
        raise RuntimeError("traffic network is not connected")
    dir_link = np.full((n, n), -1, dtype=np.int64)
    e = np.arange(len(u), dtype=np.int64)
    dir_link[u, v] = 2 * e
    dir_link[v, u] = 2 * e + 1
    dir_seconds = np.repeat(seconds, 2)
    dir_len = np.repeat(length, 2)

    # walk every OD pair's path at once
    origin = np.repeat(np.arange(n, dtype=np.int64), n)
    dest = np.tile(np.arange(n, dtype=np.int64), n)
    cur = origin.copy()
    hops: list[I64] = []
    while True:
        moving = cur != dest
        if not moving.any():
            break
        step = np.where(moving, nxt[cur, dest], cur)
        hops.append(np.where(moving, dir_link[cur, step], -1))
        cur = step
    hop_mat = np.stack(hops, axis=1) if hops else np.full((n * n, 0), -1, dtype=np.int64)
    local = origin == dest
    core_km = np.where(hop_mat >= 0, dir_len[np.maximum(hop_mat, 0)], 0.0).sum(axis=1)
    od_km = np.where(local, LOCAL_KM, core_km / 1_000.0)
    # first and last mile: a trip starts and ends on its zones' local roads (a trip inside one
    # zone is only local); gateways have none
    local_id = 2 * len(u) + np.arange(n, dtype=np.int64)
    first = np.where((origin < n_zones), local_id[origin], -1)
    last = np.where((dest < n_zones) & ~local, local_id[dest], -1)
    hop_mat = np.concatenate([first[:, None], hop_mat, last[:, None]], axis=1)
    valid = hop_mat >= 0
    count = valid.sum(axis=1).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    links = hop_mat[valid]
    all_dir_seconds = np.concatenate([dir_seconds, np.full(n, LOCAL_SECONDS)])
    secs = np.where(valid, all_dir_seconds[np.maximum(hop_mat, 0)], 0.0)
    offsets = (np.cumsum(secs, axis=1) - secs)[valid]

    return TrafficNetwork(
        node_x=x,
        node_y=y,
        node_band=band,
        node_borough=borough,
        node_weight=weight,
        n_zones=n_zones,
        msoa_zone=msoa_zone,
        link_u=u,
        link_v=v,
        link_seconds=seconds,
        link_length_m=length,
        path_start=start,
        path_count=count,
        path_links=links.astype(np.int64),
        path_offset_s=offsets,
        od_seconds=secs.sum(axis=1).reshape(n, n),
        od_km=od_km.reshape(n, n),
    )
