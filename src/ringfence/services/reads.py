"""Questions asked of the read store: a vehicle's reads, a place's reads, counts.

A VRM is looked up by keying it under every live epoch that overlaps the window; destroyed epochs
cannot be searched by VRM any more, which is the point of destroying them. Results carry
pseudonyms, never clear VRMs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa
from sqlalchemy import func, select

from ringfence.domain.vrm import normalise
from ringfence.errors import InputError
from ringfence.stores.readstore import charge_day_of
from ringfence.stores.state import IngestBatchRow, QuarantineRow
from ringfence.workspace import Workspace

COUNT_DIMENSIONS = ("camera", "borough", "hour", "day", "network")


@dataclass(frozen=True, slots=True)
class HistoryResult:
    vrm_pseudonyms: dict[int, str]  # epoch -> hex pseudonym
    epochs_destroyed: list[int]
    reads: pa.Table


def _window(start_at: datetime, end_at: datetime) -> None:
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise InputError("time windows need a UTC offset (e.g. 2026-11-28T00:00:00+00:00)")
    if end_at <= start_at:
        raise InputError("the window's end must be after its start")


def vrm_history(ws: Workspace, vrm: str, start_at: datetime, end_at: datetime) -> HistoryResult:
    _window(start_at, end_at)
    normalised = normalise(vrm)
    if not normalised:
        raise InputError(f"{vrm!r} has no characters of a VRM")
    first, last = charge_day_of(start_at), charge_day_of(end_at)
    probes: list[tuple[int, bytes, date, date]] = []
    destroyed: list[int] = []
    for epoch in ws.keys.epochs():
        if epoch.starts_on > last or epoch.ends_on <= first:
            continue
        if epoch.is_destroyed:
            destroyed.append(epoch.epoch)
            continue
        pseudonym = ws.keys.keys(epoch.epoch).pseudonymise([normalised])[0]
        probes.append((epoch.epoch, pseudonym, epoch.starts_on, epoch.last_day))
    table = ws.reads.history(ws.reader(), probes, start_at, end_at)
    return HistoryResult(
        vrm_pseudonyms={e: p.hex() for e, p, _, _ in probes},
        epochs_destroyed=destroyed,
        reads=table,
    )


def reads_at_cameras(
    ws: Workspace, camera_ids: Sequence[str], start_at: datetime, end_at: datetime
) -> pa.Table:
    _window(start_at, end_at)
    known = set(ws.cameras_table().column("camera_id").to_pylist())
    unknown = sorted(set(camera_ids) - known)
    if unknown:
        raise InputError(f"unknown cameras: {', '.join(unknown[:10])}")
    return ws.reads.at_cameras(ws.reader(), camera_ids, start_at, end_at)


def read_counts(ws: Workspace, by: str, first: date, last: date) -> pa.Table:
    if by not in COUNT_DIMENSIONS:
        raise InputError(f"count by one of {', '.join(COUNT_DIMENSIONS)}")
    return ws.reads.counts(ws.reader(), by, first, last, ws.cameras_table())


@dataclass(frozen=True, slots=True)
class StoreSummary:
    days: list[str]
    files: int
    reads: int
    bytes_on_disk: int
    quarantined: int
    quarantine_by_reason: dict[str, int]
    batches: int

    @property
    def bytes_per_read(self) -> float:
        return self.bytes_on_disk / self.reads if self.reads else 0.0


def store_summary(ws: Workspace) -> StoreSummary:
    files = ws.reads.all_files()
    reads = 0
    if files:
        # Counting rows reads only the Parquet footers.
        count = f"SELECT count(*) FROM {ws.reads.scan(files)}"
        # fetchall, not fetchone: the shared reader must not be left with an unfinished result.
        rows = ws.reader().execute(count).fetchall()
        reads = int(rows[0][0]) if rows else 0
    with ws.state.session() as s:
        by_reason = dict(
            s.execute(
                select(QuarantineRow.reason, func.count()).group_by(QuarantineRow.reason)
            ).all()
        )
        batches = s.scalar(
            select(func.count())
            .select_from(IngestBatchRow)
            .where(IngestBatchRow.status == "committed")
        )
    return StoreSummary(
        days=[d.isoformat() for d in ws.reads.days()],
        files=len(files),
        reads=reads,
        bytes_on_disk=sum(f.stat().st_size for f in files),
        quarantined=sum(by_reason.values()),
        quarantine_by_reason={str(k): int(v) for k, v in sorted(by_reason.items())},
        batches=int(batches or 0),
    )
