"""Areas for the oversight reports: boroughs and MSOAs with their Census 2021 figures.

The boundaries and census tables are the packaged data pack (`ringfence.data.london`, described in
its README.md); nothing is fetched. An `Areas` holds one level (boroughs or MSOAs) as aligned
arrays, so every indicator is a numpy expression over the same index. Points are placed in areas
with a shapely STRtree: a camera on the tidal Thames lies in no clipped polygon, and is given to
the nearest area instead (it still watches that area's residents).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

DATA_PACKAGE = "ringfence.data.london"
LEVELS = ("borough", "msoa")
#: Census ethnic groups, as (label, count column) pairs. The six partition all residents:
#: "White other" is not published, so it is `eth_white` minus `eth_white_british`.
ETHNIC_GROUPS = (
    ("Asian", "eth_asian"),
    ("Black", "eth_black"),
    ("Mixed", "eth_mixed"),
    ("Other", "eth_other"),
    ("White British", "eth_white_british"),
    ("White other", "eth_white - eth_white_british"),
)
#: Composition measures the indicators are compared against (percent of residents).
COMPOSITION = {
    "pct_not_white_british": "not White British",
    "pct_black": "Black",
    "pct_asian": "Asian",
}

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Areas:
    """One level of geography: aligned arrays, one entry per area."""

    level: str  # "borough" or "msoa"
    codes: tuple[str, ...]
    names: tuple[str, ...]
    parent: tuple[str, ...]  # the borough code (a borough is its own parent)
    geometry: Any  # ndarray of shapely (Multi)Polygons, WGS84 lon/lat
    area_km2: F64
    population: F64
    cars: F64  # Census 2021 cars_vans_min: a lower bound on residents' cars and vans
    composition: dict[str, F64]  # COMPOSITION key -> percent
    ethnic: dict[str, F64]  # ETHNIC_GROUPS label -> residents

    def __len__(self) -> int:
        return len(self.codes)

    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.codes)}

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> I64:
        """Index of the area holding each point; the nearest area for points in none."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        out = np.full(len(x), -1, dtype=np.int64)
        if len(x) == 0:
            return out
        tree = shapely.STRtree(self.geometry)
        points = shapely.points(np.column_stack([x, y]))
        pt, area = tree.query(points, predicate="intersects")
        # a point on a shared edge matches two areas: keep the first, deterministically
        first = np.unique(pt, return_index=True)[1]
        out[pt[first]] = area[first]
        missing = np.flatnonzero(out < 0)
        if len(missing):
            out[missing] = tree.query_nearest(points[missing], return_distance=False)[1]
        return out


def _text(name: str) -> str:
    return files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_text(name).splitlines()))


def _geometries(name: str, key: str) -> dict[str, Any]:
    doc = json.loads(_text(name))
    return {f["properties"][key]: shapely.geometry.shape(f["geometry"]) for f in doc["features"]}


def _floats(rows: list[dict[str, str]], column: str) -> F64:
    return np.array([float(r[column]) for r in rows], dtype=np.float64)


def _difference(rows: list[dict[str, str]], expression: str) -> F64:
    """A derived group given as "column - column"."""
    left, right = (c.strip() for c in expression.split(" - "))
    result: F64 = _floats(rows, left) - _floats(rows, right)
    return result


def _areas(level: str, rows: list[dict[str, str]], key: str, geo: dict[str, Any]) -> Areas:
    rows = sorted(rows, key=lambda r: r[key])
    ethnic = {
        label: _floats(rows, col) if col in rows[0] else _difference(rows, col)
        for label, col in ETHNIC_GROUPS
    }
    return Areas(
        level=level,
        codes=tuple(r[key] for r in rows),
        names=tuple(r["name"] if level == "borough" else r["msoa21nm"] for r in rows),
        parent=tuple(r[key] if level == "borough" else r["lad22cd"] for r in rows),
        geometry=np.array([geo[r[key]] for r in rows], dtype=object),
        area_km2=_floats(rows, "area_km2"),
        population=_floats(rows, "population_2021"),
        cars=_floats(rows, "cars_vans_min"),
        composition={c: _floats(rows, c) for c in COMPOSITION},
        ethnic=ethnic,
    )


def load_areas(level: str) -> Areas:
    """Boroughs (33) or MSOAs (1,002) with their Census 2021 figures."""
    if level == "borough":
        return _areas(
            level,
            _rows("london_boroughs_census2021.csv"),
            "gss_code",
            _geometries("london_boroughs.geojson", "gss_code"),
        )
    if level == "msoa":
        return _areas(
            level,
            _rows("london_msoa2021_census2021.csv"),
            "msoa21cd",
            _geometries("london_msoa2021.geojson", "msoa21cd"),
        )
    raise ValueError(f"unknown level {level!r}: one of {LEVELS}")


def load_zones() -> dict[str, Any]:
    """The charging-zone outlines (zone_id -> WGS84 geometry)."""
    return {
        k: shapely.make_valid(v)
        for k, v in _geometries("london_charging_zones.geojson", "zone_id").items()
    }
