"""The synthetic camera network: sizes, boroughs, networks consistent with the zone polygons."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib.resources import files

import numpy as np
import pytest
import shapely

from ringfence.simulate import _traffic
from ringfence.simulate._geo import load_london
from ringfence.simulate.cameras import (
    BOUNDARIES,
    KIND_CORDON,
    NETWORKS,
    SITE_KINDS,
    CameraNetwork,
    build_camera_network,
    link_crossings,
)
from ringfence.simulate.reads import DIR_IN, DIR_OUT, ReadModel, build_slots

DAY = dt.date(2026, 11, 26)
# about 30 m and 100 m in degrees of latitude
NEAR = 0.0003
CLOSE = 0.001
METRE = 0.00003  # a few metres


@pytest.fixture(scope="module")
def full() -> CameraNetwork:
    return build_camera_network(5)


@pytest.fixture(scope="module")
def thin() -> CameraNetwork:
    return build_camera_network(5, 100)


def _zones() -> dict[str, shapely.Geometry]:
    text = files("ringfence.data.london").joinpath("london_charging_zones.geojson").read_text()
    return {
        f["properties"]["zone_id"]: shapely.make_valid(shapely.geometry.shape(f["geometry"]))
        for f in json.loads(text)["features"]
    }


def test_full_network_size_matches_published_counts(full: CameraNetwork) -> None:
    network = np.asarray(NETWORKS)[full.network]
    before_2023 = int(np.isin(network, ["cc_lez_2015", "ulez_inner_2021"]).sum())
    london_wide = int((network == "ulez_london_2023").sum())
    assert 1_450 <= before_2023 <= 1_600  # "over 1,500" (FOI-0254-2324)
    assert 2_650 <= london_wide <= 2_850  # "circa 2,750" (FOI-0060-2324)
    assert int((full.site_kind == SITE_KINDS.index("mobile")).sum()) == 20


@pytest.mark.parametrize("which", ["full", "thin"])
def test_every_borough_has_cameras(which: str, request: pytest.FixtureRequest) -> None:
    cameras: CameraNetwork = request.getfixturevalue(which)
    table = cameras.to_table()
    gss = {g for g in table["borough_gss"].to_pylist() if g}
    assert gss == {f"E090000{i:02d}" for i in range(1, 34)}


def test_ids_unique_and_stable_under_thinning(full: CameraNetwork, thin: CameraNetwork) -> None:
    assert len(set(full.camera_id)) == len(full)
    assert all(re.fullmatch(r"CAM-(E090000\d\d|THAMES)-\d{4}", c) for c in full.camera_id)
    assert set(thin.camera_id) <= set(full.camera_id)
    assert 90 <= len(thin) <= 110
    assert set(thin.network.tolist()) == {0, 1, 2}
    assert set(thin.boundary[thin.site_kind == KIND_CORDON].tolist()) == {0, 1, 2}


def test_networks_are_consistent_with_the_zone_polygons(full: CameraNetwork) -> None:
    zones = _zones()
    table = full.to_table()
    lon = np.asarray(table["lon"])
    lat = np.asarray(table["lat"])
    network = np.asarray(table["network"].to_pylist())
    kind = np.asarray(table["site_kind"].to_pylist())
    enforces = table["enforces"].to_pylist()
    pts = shapely.points(lon, lat)

    in_ccz = shapely.intersects(shapely.buffer(zones["ccz"], NEAR), pts)
    # the North and South Circular roads are the 2021 boundary: allow a little for rounding
    in_inner = shapely.contains(shapely.buffer(zones["ulez_2021_inner"], METRE), pts)
    deep_inner = shapely.contains(shapely.buffer(zones["ulez_2021_inner"], -METRE), pts)
    assert shapely.intersects(shapely.buffer(zones["greater_london_os"], CLOSE), pts).all()

    # who enforces what, from where the camera stands
    assert all(set(e.split(";")) <= {"ulez", "ccz", "lez"} for e in enforces)
    assert all({"ulez", "lez"} <= set(e.split(";")) for e in enforces)
    has_ccz = np.array([("ccz" in e.split(";")) for e in enforces])
    assert shapely.intersects(shapely.buffer(zones["ccz"], 0.0005), pts[has_ccz]).all()
    assert not shapely.contains(zones["ccz"], pts[~has_ccz]).any()
    assert has_ccz.sum() > 400

    inside = kind != "cordon"
    assert in_inner[inside & (network == "ulez_inner_2021")].all()
    deep_ccz = shapely.contains(shapely.buffer(zones["ccz"], -METRE), pts)
    assert not deep_ccz[inside & (network == "ulez_inner_2021")].any()
    assert not deep_inner[inside & (network == "ulez_london_2023")].any()
    old_internal = inside & (network == "cc_lez_2015")
    assert (in_ccz | ~deep_inner)[old_internal].all()  # the CCZ, or LEZ cameras outside

    # cordon cameras stand on their network's boundary
    rings = {
        b: shapely.buffer(max(shapely.get_parts(zones[b]), key=lambda p: p.area).exterior, NEAR)
        for b in BOUNDARIES
    }
    for b, zone_id in enumerate(BOUNDARIES):
        m = (full.site_kind == KIND_CORDON) & (full.boundary == b)
        assert m.sum() > 100
        assert shapely.intersects(rings[zone_id], pts[m]).all(), zone_id
        nets = set(network[m].tolist())
        expected = {
            "ccz": {"cc_lez_2015"},
            "ulez_2021_inner": {"ulez_inner_2021"},
            "lez_2008": {"cc_lez_2015", "ulez_london_2023"},
        }[zone_id]
        assert nets == expected


def test_commissioning_dates_fit_the_networks(full: CameraNetwork) -> None:
    table = full.to_table()
    network = table["network"].to_pylist()
    kind = table["site_kind"].to_pylist()
    on = table["commissioned_on"].to_pylist()
    off = table["decommissioned_on"].to_pylist()
    replacement = {i for i, d in enumerate(on) if d > dt.date(2023, 8, 29)}
    for i, (net, k, d) in enumerate(zip(network, kind, on, strict=True)):
        if i in replacement:  # a replacement for a stolen camera
            assert d <= dt.date(2026, 6, 1)
        elif net == "cc_lez_2015":
            assert dt.date(2014, 1, 1) <= d <= dt.date(2016, 12, 31)
        elif net == "ulez_inner_2021":
            assert dt.date(2021, 1, 1) <= d <= dt.date(2021, 10, 25)
        else:
            assert dt.date(2023, 1, 1) <= d <= dt.date(2023, 8, 29)
            if k == "mobile":
                assert d == dt.date(2023, 8, 29)
    go_live = sum(1 for d in on if d == dt.date(2021, 10, 25))
    assert go_live > 500
    decommissioned = [(a, b) for a, b in zip(on, off, strict=True) if b is not None]
    assert 10 <= len(decommissioned) <= 0.015 * len(full)
    assert all(b > a for a, b in decommissioned)
    assert len(replacement) >= len(decommissioned) // 2


@pytest.mark.parametrize("which", ["full", "thin"])
def test_crossing_a_boundary_passes_a_cordon_camera(
    which: str, request: pytest.FixtureRequest
) -> None:
    cameras: CameraNetwork = request.getfixturevalue(which)
    traffic = _traffic.build_traffic_network()
    slots = build_slots(cameras, traffic, DAY, ReadModel(), np.random.default_rng(0))
    crossings = link_crossings(load_london(), traffic)
    assert len(crossings.link) > 50
    for link, b, entering in zip(
        crossings.link, crossings.boundary, crossings.entering_uv, strict=True
    ):
        for direction in (0, 1):
            d_id = 2 * int(link) + direction
            want = DIR_IN if bool(entering) != bool(direction) else DIR_OUT
            assert slots.var_count[d_id] >= 1
            for v in range(slots.var_start[d_id], slots.var_start[d_id] + slots.var_count[d_id]):
                ev = np.arange(slots.ev_start[v], slots.ev_start[v] + slots.ev_count[v])
                cams = slots.ev_camera[ev]
                hit = (
                    (cameras.site_kind[cams] == KIND_CORDON)
                    & (cameras.boundary[cams] == b)
                    & (slots.ev_direction[ev] == want)
                )
                assert hit.any(), (which, int(link), BOUNDARIES[b], direction)
