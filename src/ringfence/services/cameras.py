"""Register the camera network: the list ingest validates reads against.

Cameras are configuration, not reads: a bad camera row fails the whole import with every
problem listed, rather than being quarantined, because reads would be judged against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import delete

from ringfence.errors import InputError, SchemaError
from ringfence.stores.state import CameraRow
from ringfence.workspace import Workspace

REQUIRED = ("camera_id", "lat", "lon", "network", "enforces")
OPTIONAL = {
    "borough_gss": "NULL::VARCHAR",
    "site_kind": "'internal'",
    "commissioned_on": "DATE '1970-01-01'",
    "decommissioned_on": "NULL::DATE",
}


@dataclass(frozen=True, slots=True)
class CameraImport:
    source: str
    cameras: int
    networks: dict[str, int]


def _relation(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if suffix == ".csv":
        return con.read_csv(str(path), header=True, all_varchar=True)
    if suffix == ".parquet":
        return con.read_parquet(str(path))
    raise InputError(f"{path}: cameras must be .csv or .parquet")


def read_cameras(path: Path) -> list[CameraRow]:
    """Read and check a cameras file; every problem is listed in one InputError."""
    con = duckdb.connect()
    rel = _relation(con, path)
    missing = [c for c in REQUIRED if c not in rel.columns]
    if missing:
        raise SchemaError(f"{path}: missing camera columns {', '.join(missing)}")
    select_list = ", ".join(
        [
            "trim(camera_id::VARCHAR) AS camera_id",
            "TRY_CAST(lat AS DOUBLE) AS lat",
            "TRY_CAST(lon AS DOUBLE) AS lon",
            "trim(network::VARCHAR) AS network",
            "lower(replace(enforces::VARCHAR, ' ', '')) AS enforces",
        ]
        + [
            (
                f"TRY_CAST(NULLIF(trim({c}::VARCHAR), '') AS DATE) AS {c}"
                if c.endswith("_on")
                else f"NULLIF(trim({c}::VARCHAR), '') AS {c}"
            )
            if c in rel.columns
            else f"{default} AS {c}"
            for c, default in OPTIONAL.items()
        ]
    )
    con.register("src", rel)
    rows = con.execute(f"SELECT {select_list} FROM src").fetchall()
    problems: list[str] = []
    seen: set[str] = set()
    records: list[CameraRow] = []
    for i, (camera_id, lat, lon, network, enforces, borough, kind, since, until) in enumerate(
        rows, start=2
    ):
        where = f"row {i}"
        if not camera_id:
            problems.append(f"{where}: empty camera_id")
            continue
        if camera_id in seen:
            problems.append(f"{where}: camera_id {camera_id} appears twice")
        seen.add(camera_id)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problems.append(f"{where}: {camera_id} has no valid lat/lon")
        if not network:
            problems.append(f"{where}: {camera_id} has no network")
        if not enforces:
            problems.append(f"{where}: {camera_id} enforces no scheme")
        if since is None:
            problems.append(f"{where}: {camera_id} has an unreadable commissioned_on")
        records.append(
            CameraRow(
                camera_id=camera_id,
                lat=lat,
                lon=lon,
                borough_gss=borough or None,
                network=network,
                enforces=enforces,
                site_kind=kind or "internal",
                commissioned_on=since,
                decommissioned_on=until,
            )
        )
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputError(f"{path}: {len(problems)} camera rows are unusable: {shown}{more}")
    return records


def import_cameras(ws: Workspace, path: Path, *, replace: bool = False) -> CameraImport:
    """Register cameras (new ones added, known ones updated; `replace` drops the rest)."""
    records = read_cameras(path)
    with ws.writer(), ws.state.session() as s:
        if replace:
            s.execute(delete(CameraRow))
        for record in records:
            s.merge(record)
    networks: dict[str, int] = {}
    for r in records:
        networks[r.network] = networks.get(r.network, 0) + 1
    return CameraImport(source=str(path), cameras=len(records), networks=networks)


def camera_lookup(cameras: pa.Table, column: str) -> dict[str, str]:
    """camera_id -> one of its columns (network, borough_gss...), from `Workspace.cameras_table`."""
    return dict(
        zip(
            cameras.column("camera_id").to_pylist(), cameras.column(column).to_pylist(), strict=True
        )
    )
