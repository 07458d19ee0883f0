"""London geography for the simulator, loaded once from the packaged data pack.

Everything is kept twice: shapely geometries in WGS84 lon/lat (for point-in-polygon answers that
match the published files) and numpy/shapely data in a local metric plane (for distances). The
plane is an equirectangular projection centred on London; over Greater London its scale error is
below 0.5 %, plenty for a simulator, and it needs no pyproj.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ringfence.simulate._types import F64, I64

DATA_PACKAGE = "ringfence.data.london"

#: Origin of the local metric plane (roughly Charing Cross).
LON0 = -0.1276
LAT0 = 51.5072
#: Metres per degree of longitude and latitude at LAT0.
M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))
M_PER_DEG_LAT = 110_574.0


def to_xy(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[F64, F64]:
    """WGS84 degrees -> local plane metres."""
    x = (np.asarray(lon, dtype=np.float64) - LON0) * M_PER_DEG_LON
    y = (np.asarray(lat, dtype=np.float64) - LAT0) * M_PER_DEG_LAT
    return x, y


def to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[F64, F64]:
    """Local plane metres -> WGS84 degrees."""
    lon = np.asarray(x, dtype=np.float64) / M_PER_DEG_LON + LON0
    lat = np.asarray(y, dtype=np.float64) / M_PER_DEG_LAT + LAT0
    return lon, lat


def project(geom: Any) -> Any:
    """Project a shapely geometry (or array of them) to the local plane."""

    def _fn(coords: F64) -> F64:
        out = np.empty_like(coords)
        out[:, 0] = (coords[:, 0] - LON0) * M_PER_DEG_LON
        out[:, 1] = (coords[:, 1] - LAT0) * M_PER_DEG_LAT
        return out

    return shapely.transform(geom, _fn)


def _read_text(name: str) -> str:
    return files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _features(name: str) -> list[dict[str, Any]]:
    doc = json.loads(_read_text(name))
    feats: list[dict[str, Any]] = doc["features"]
    return feats


def _csv_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_read_text(name).splitlines()))


@dataclass(frozen=True)
class London:
    """The parts of the data pack the simulator uses. Geometries are WGS84 unless named `_xy`."""

    borough_gss: tuple[str, ...]
    borough_names: tuple[str, ...]
    boroughs: Any  # ndarray of shapely (Multi)Polygons, aligned with borough_gss
    boroughs_xy: Any
    msoa_codes: tuple[str, ...]
    msoa_borough: I64  # index into borough_gss
    msoa_x: F64
    msoa_y: F64
    msoa_population: I64
    msoa_cars: I64  # Census 2021 cars_vans_min
    msoa_band: I64  # 0 = CCZ, 1 = inner ULEZ (2021) outside the CCZ, 2 = outer London
    zones: dict[str, BaseGeometry]  # zone_id -> WGS84 (Multi)Polygon
    zones_xy: dict[str, BaseGeometry]
    mrn_xy: Any  # ndarray of LineStrings in the plane
    tlrn_xy: Any  # ndarray of (Multi)Polygons in the plane
    jamcam_x: F64
    jamcam_y: F64
    thames_xy: BaseGeometry  # the tidal Thames: Greater London minus the clipped boroughs

    def borough_of(self, lon: F64, lat: F64) -> I64:
        """Index of the borough containing each point, -1 for none (the Thames)."""
        return _points_in(self.boroughs, lon, lat)


def _points_in(polygons: Any, lon: F64, lat: F64) -> I64:
    out = np.full(len(lon), -1, dtype=np.int64)
    if len(lon) == 0:
        return out
    tree = shapely.STRtree(polygons)
    pts = shapely.points(np.column_stack([lon, lat]))
    pt_idx, poly_idx = tree.query(pts, predicate="intersects")
    out[pt_idx] = poly_idx
    return out


@lru_cache(maxsize=1)
def load_london() -> London:
    """Load and prepare the data pack (cached; takes about a second)."""
    boroughs_rows = _csv_rows("london_boroughs_census2021.csv")
    gss = tuple(sorted(r["gss_code"] for r in boroughs_rows))
    names_by = {r["gss_code"]: r["name"] for r in boroughs_rows}
    geo_by = {
        f["properties"]["gss_code"]: shapely.geometry.shape(f["geometry"])
        for f in _features("london_boroughs.geojson")
    }
    boroughs = np.array([geo_by[g] for g in gss], dtype=object)
    gss_index = {g: i for i, g in enumerate(gss)}

    msoa_rows = sorted(_csv_rows("london_msoa2021_census2021.csv"), key=lambda r: r["msoa21cd"])
    lon = np.array([float(r["centroid_lon"]) for r in msoa_rows])
    lat = np.array([float(r["centroid_lat"]) for r in msoa_rows])
    mx, my = to_xy(lon, lat)
    in_ccz = np.array([float(r["frac_area_in_ccz"]) for r in msoa_rows]) >= 0.5
    in_inner = np.array([float(r["frac_area_in_ulez_2021"]) for r in msoa_rows]) >= 0.5
    band = np.where(in_ccz, 0, np.where(in_inner, 1, 2)).astype(np.int64)

    zones = {
        f["properties"]["zone_id"]: shapely.make_valid(shapely.geometry.shape(f["geometry"]))
        for f in _features("london_charging_zones.geojson")
    }
    zones_xy = {k: project(v) for k, v in zones.items()}
    mrn = np.array(
        [
            shapely.geometry.shape(f["geometry"])
            for f in _features("london_major_roads_mrn2018.geojson")
        ],
        dtype=object,
    )
    tlrn = np.array(
        [
            shapely.geometry.shape(f["geometry"])
            for f in _features("london_tlrn_red_routes_2017.geojson")
        ],
        dtype=object,
    )
    jam = _csv_rows("tfl_jamcams_2015.csv")
    jx, jy = to_xy([float(r["lon"]) for r in jam], [float(r["lat"]) for r in jam])

    land = shapely.union_all(boroughs)
    thames = shapely.difference(zones["greater_london_os"], land)
    # keep the river itself, not the slivers between the two outlines
    parts = [p for p in shapely.get_parts(thames) if project(p).area > 200_000]
    thames_xy = project(shapely.union_all(np.array(parts, dtype=object)))

    return London(
        borough_gss=gss,
        borough_names=tuple(names_by[g] for g in gss),
        boroughs=boroughs,
        boroughs_xy=project(boroughs),
        msoa_codes=tuple(r["msoa21cd"] for r in msoa_rows),
        msoa_borough=np.array([gss_index[r["lad22cd"]] for r in msoa_rows], dtype=np.int64),
        msoa_x=mx,
        msoa_y=my,
        msoa_population=np.array([int(r["population_2021"]) for r in msoa_rows], dtype=np.int64),
        msoa_cars=np.array([int(r["cars_vans_min"]) for r in msoa_rows], dtype=np.int64),
        msoa_band=band,
        zones=zones,
        zones_xy=zones_xy,
        mrn_xy=project(mrn),
        tlrn_xy=project(tlrn),
        jamcam_x=jx,
        jamcam_y=jy,
        thames_xy=thames_xy,
    )
