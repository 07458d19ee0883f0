"""Rings of steel: areas whose residents cannot leave without passing a camera.

Birmingham's Project Champion (2010) ringed two mostly Muslim neighbourhoods with ANPR cameras,
so every vehicle entering or leaving was read. Here the road network is a graph of zones (nodes)
and road links between them; some nodes are *outside* (the gateways beyond the study area). A
link is *watched* by a camera network when one of its cameras stands on it (within a radius of
the link's line). A set of zones is ringed when every link leaving it is watched.

The smallest ringed areas are found directly: join zones by their *unwatched* links; each
connected group that reaches no outside node is a *cell*, and every link out of a cell is watched
by construction (an unwatched one would have joined the cell to its neighbour). Every ringed
area is a union of cells, so a zone's cell is the tightest ring around its residents.

Pure: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

#: Cell id of zones that can reach an outside node along unwatched links.
OPEN = -1


@dataclass(frozen=True)
class ZoneGraph:
    """Nodes in a metric plane; undirected links u-v (a road both ways)."""

    node_x: F64
    node_y: F64
    is_outside: Bool
    link_u: I64
    link_v: I64

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    def link_lines(self) -> npt.NDArray[np.object_]:
        starts = np.column_stack([self.node_x[self.link_u], self.node_y[self.link_u]])
        ends = np.column_stack([self.node_x[self.link_v], self.node_y[self.link_v]])
        lines: npt.NDArray[np.object_] = shapely.linestrings(np.stack([starts, ends], axis=1))
        return lines


def watched_links(graph: ZoneGraph, camera_x: F64, camera_y: F64, radius_m: float) -> Bool:
    """Links with at least one camera within `radius_m` of their line."""
    watched = np.zeros(len(graph.link_u), dtype=bool)
    if len(camera_x) == 0 or len(graph.link_u) == 0:
        return watched
    tree = shapely.STRtree(graph.link_lines())
    cams = shapely.points(np.column_stack([camera_x, camera_y]))
    _, link = tree.query(cams, predicate="dwithin", distance=radius_m)
    watched[link] = True
    return watched


def components(n_nodes: int, u: I64, v: I64) -> I64:
    """Connected-component label (the smallest node index in it) of every node."""
    label = np.arange(n_nodes, dtype=np.int64)
    while True:  # label propagation: at most the graph's diameter rounds
        lo = np.minimum(label[u], label[v])
        nxt = label.copy()
        np.minimum.at(nxt, u, lo)
        np.minimum.at(nxt, v, lo)
        nxt = nxt[nxt]  # pointer jumping: converge in fewer rounds
        if np.array_equal(nxt, label):
            return label
        label = nxt


def cells(graph: ZoneGraph, watched: Bool) -> I64:
    """Each node's cell (its component over unwatched links), or OPEN if it can get out unread.

    Outside nodes are always OPEN. Cells are numbered 0, 1, ... in order of their first node.
    """
    free = ~watched
    label = components(graph.n_nodes, graph.link_u[free], graph.link_v[free])
    escaping = np.isin(label, label[graph.is_outside])
    out = np.full(graph.n_nodes, OPEN, dtype=np.int64)
    inside = ~escaping
    _, number = np.unique(label[inside], return_inverse=True)
    out[inside] = number
    return out


def unwatched_exits(graph: ZoneGraph, members: Bool, watched: Bool) -> I64:
    """Links from a set of nodes to a node outside it that no camera watches."""
    crossing = members[graph.link_u] != members[graph.link_v]
    exits: I64 = np.flatnonzero(crossing & ~watched).astype(np.int64)
    return exits


def is_ringed(graph: ZoneGraph, members: Bool, watched: Bool) -> bool:
    """True when every link out of the set is watched (and the set holds no outside node)."""
    if (members & graph.is_outside).any() or not members.any():
        return False
    return len(unwatched_exits(graph, members, watched)) == 0


def cell_sizes(cell: I64, weight: F64) -> F64:
    """Sum of `weight` (area, residents...) over each node's cell; NaN for OPEN nodes."""
    inside = cell >= 0
    totals = np.bincount(cell[inside], weights=weight[inside]) if inside.any() else np.zeros(0)
    out = np.full(len(cell), np.nan)
    out[inside] = totals[cell[inside]]
    return out
