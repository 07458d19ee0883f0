"""Rings of steel on a tiny constructed road graph: one ringed area, one leaky one."""

from __future__ import annotations

import numpy as np

from ringfence.oversight.rings import (
    OPEN,
    ZoneGraph,
    cell_sizes,
    cells,
    components,
    is_ringed,
    unwatched_exits,
    watched_links,
)

# Nodes: 0 and 1 form a neighbourhood A; 3 is a hub; 2 is outside (a gateway); 4 is area B.
X = np.array([0.0, 0.0, 3000.0, 1500.0, 3000.0])
Y = np.array([0.0, 1000.0, 0.0, 500.0, 1500.0])
U = np.array([0, 0, 1, 3, 4, 4])
V = np.array([1, 3, 3, 2, 3, 2])
GRAPH = ZoneGraph(X, Y, np.array([False, False, True, False, False]), U, V)


def midpoint(link: int) -> tuple[float, float]:
    return (X[U[link]] + X[V[link]]) / 2, (Y[U[link]] + Y[V[link]]) / 2


def cameras_on(*links: int) -> tuple[np.ndarray, np.ndarray]:
    pts = [midpoint(i) for i in links]
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def test_a_camera_watches_the_links_within_the_radius() -> None:
    cx, cy = cameras_on(1)
    assert watched_links(GRAPH, cx, cy, 10.0).tolist() == [False, True, False, False, False, False]
    assert not watched_links(GRAPH, cx + 200, cy + 200, 10.0).any()


def test_a_neighbourhood_with_every_exit_watched_is_a_ring() -> None:
    # exits of A are 0-3 and 1-3; B's exit to 3 is watched but B-gateway is not
    cx, cy = cameras_on(1, 2, 4)
    watched = watched_links(GRAPH, cx, cy, 10.0)
    a = np.array([True, True, False, False, False])
    b = np.array([False, False, False, False, True])
    assert is_ringed(GRAPH, a, watched)
    assert not is_ringed(GRAPH, b, watched)
    assert unwatched_exits(GRAPH, b, watched).tolist() == [5]
    cell = cells(GRAPH, watched)
    assert cell[0] == cell[1] != OPEN  # A is one cell
    assert cell[2] == cell[3] == cell[4] == OPEN  # B and the hub reach the gateway unread
    sizes = cell_sizes(cell, np.array([2.0, 3.0, 0.0, 1.0, 1.0]))
    assert sizes[0] == sizes[1] == 5.0 and np.isnan(sizes[4])


def test_without_cameras_nothing_is_ringed_and_everything_is_open() -> None:
    watched = watched_links(GRAPH, np.zeros(0), np.zeros(0), 10.0)
    assert (cells(GRAPH, watched) == OPEN).all()
    assert not is_ringed(GRAPH, np.array([True, True, False, False, False]), watched)


def test_watching_the_gateway_links_encloses_the_whole_area() -> None:
    cx, cy = cameras_on(3, 5)
    cell = cells(GRAPH, watched_links(GRAPH, cx, cy, 10.0))
    assert cell[2] == OPEN and len(set(cell[[0, 1, 3, 4]].tolist())) == 1 and cell[0] >= 0


def test_components_label_with_the_smallest_node() -> None:
    label = components(6, np.array([5, 1, 3]), np.array([4, 2, 4]))
    assert label.tolist() == [0, 1, 1, 3, 3, 3]
