"""A tiny simulated London day, loaded into Arrow tables for the simulator's tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ringfence.simulate import SimulationSummary

WEEKDAY = dt.date(2026, 11, 26)  # a Thursday
SEED = 7


@dataclass(frozen=True)
class TinyDay:
    summary: SimulationSummary
    cameras: pa.Table
    vehicles: pa.Table
    reads: pa.Table
    truth: pa.Table

    @property
    def day(self) -> dt.date:
        return self.summary.days[0].day

    def joined(self) -> list[dict[str, object]]:
        """Each read with its truth."""
        truth = {r["read_id"]: r for r in self.truth.to_pylist()}
        return [r | truth[r["read_id"]] for r in self.reads.to_pylist()]


def load(summary: SimulationSummary) -> TinyDay:
    return TinyDay(
        summary=summary,
        cameras=pacsv.read_csv(summary.cameras_path),
        vehicles=pq.read_table(summary.vehicles_path),
        reads=pq.read_table(summary.reads_paths[0]),
        truth=pq.read_table(summary.truth_paths[0]),
    )
