"""Synthetic London: cameras, a vehicle register and a day's ANPR reads, with the truth.

Real operators' reads are not public, so Ringfence ships a realistic, deterministic simulator. It
is the demo's data and the benchmark's source. One call writes, into `out_dir`:

- `cameras.csv`: the camera network (docs/formats.md, "Cameras");
- `vehicles.parquet`: the DVLA-like register ("Vehicle register");
- per charge day, `reads-YYYY-MM-DD.<parquet|csv|jsonl>` as a camera vendor would send them, and
  `truth-YYYY-MM-DD.parquet` saying what really happened to each read.

The output depends only on (seed, day, scale) and the installed library versions.

    >>> from ringfence.simulate import simulate
    >>> summary = simulate(Path("incoming"), day=date(2026, 11, 28), scale="tiny")

Scale presets (a float is a fraction of full scale):

| scale | vehicles | cameras | reads a day |
|---|---|---|---|
| `tiny` | ~4,000 | ~100 | tens of thousands (tests) |
| `small` | 1 % | all ~4,260 | ~300,000 |
| `medium` | 10 % | all | ~3 M |
| `full` | ~2.6 M | all | ~30 M |

How it works: `cameras` (the network), `vehicles` (the register), `reads` (trips and reads),
`_traffic` (the coarse road graph and its precomputed paths), `_clock` (the charge day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.errors import ConfigError
from ringfence.simulate import _writers
from ringfence.simulate._clock import ChargeDay
from ringfence.simulate._traffic import build_traffic_network
from ringfence.simulate.cameras import build_camera_network
from ringfence.simulate.reads import KINDS, ReadChunk, ReadModel, build_gravity, simulate_day
from ringfence.simulate.vehicles import (
    FULL_EXTERNAL_VEHICLES,
    FULL_LONDON_VEHICLES,
    build_register,
)

ProgressCallback = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: stages are `cameras`, `vehicles`, then `reads YYYY-MM-DD`."""

READS_FORMATS = ("parquet", "csv", "jsonl")


@dataclass(frozen=True)
class Scale:
    """A named size: the share of full-scale vehicles and how many cameras (None = all)."""

    name: str
    vehicle_fraction: float
    cameras: int | None
    chunk_vehicles: int = 200_000


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 0.0015, 100),
    "small": Scale("small", 0.01, None),
    "medium": Scale("medium", 0.1, None),
    "full": Scale("full", 1.0, None),
}
#: Below this vehicle fraction, a float scale also thins the camera network proportionally.
FULL_NETWORK_FROM = 0.01
FULL_NETWORK_CAMERAS = 4_250


def resolve_scale(scale: str | float) -> Scale:
    """A preset name, a float fraction, or a numeric string ("0.05")."""
    if isinstance(scale, str):
        if scale in SCALES:
            return SCALES[scale]
        try:
            value = float(scale)
        except ValueError:
            names = ", ".join(SCALES)
            raise ConfigError(f"unknown scale {scale!r}: use {names} or a fraction") from None
    else:
        value = float(scale)
    if not 0.0 < value <= 4.0:
        raise ConfigError(f"scale fraction must be in (0, 4], not {value}")
    cameras = (
        None
        if value >= FULL_NETWORK_FROM
        else round(FULL_NETWORK_CAMERAS * value / FULL_NETWORK_FROM)
    )
    return Scale(f"{value:g}", value, cameras)


@dataclass(frozen=True)
class DaySummary:
    """What one charge day produced."""

    day: dt.date
    reads_path: Path
    truth_path: Path
    reads: int
    reads_by_kind: Mapping[str, int]
    trips: int
    active_vehicles: int


@dataclass(frozen=True)
class SimulationSummary:
    """Paths and counts of one `simulate` run."""

    out_dir: Path
    seed: int
    scale: str
    reads_format: str
    cameras_path: Path
    vehicles_path: Path
    cameras: int
    vehicles: int
    reads: int
    reads_by_kind: Mapping[str, int]
    days: tuple[DaySummary, ...]

    @property
    def reads_paths(self) -> tuple[Path, ...]:
        return tuple(d.reads_path for d in self.days)

    @property
    def truth_paths(self) -> tuple[Path, ...]:
        return tuple(d.truth_path for d in self.days)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (paths and dates as strings)."""
        return {
            "out_dir": str(self.out_dir),
            "seed": self.seed,
            "scale": self.scale,
            "reads_format": self.reads_format,
            "cameras_path": str(self.cameras_path),
            "vehicles_path": str(self.vehicles_path),
            "cameras": self.cameras,
            "vehicles": self.vehicles,
            "reads": self.reads,
            "reads_by_kind": dict(self.reads_by_kind),
            "days": [
                {
                    "day": d.day.isoformat(),
                    "reads_path": str(d.reads_path),
                    "truth_path": str(d.truth_path),
                    "reads": d.reads,
                    "reads_by_kind": dict(d.reads_by_kind),
                    "trips": d.trips,
                    "active_vehicles": d.active_vehicles,
                }
                for d in self.days
            ],
        }


def _day_progress(report: ProgressCallback, stage: str) -> Callable[[int, int], None]:
    def day_progress(done: int, total: int) -> None:
        report(stage, done, total)

    return day_progress


def simulate(
    out_dir: Path,
    *,
    day: dt.date,
    seed: int = 0,
    scale: str | float = "small",
    days: int = 1,
    reads_format: str = "parquet",
    progress: ProgressCallback | None = None,
    model: ReadModel | None = None,
) -> SimulationSummary:
    """Write a synthetic London (cameras, register, reads and truth) into `out_dir`.

    `day` is the first charge day (a Europe/London date); the register is as of that day.
    `model` overrides the ANPR error rates (`ReadModel`'s defaults are documented there).
    """
    if reads_format not in READS_FORMATS:
        raise ConfigError(f"unknown reads format {reads_format!r}: use {', '.join(READS_FORMATS)}")
    if days < 1:
        raise ConfigError(f"days must be at least 1, not {days}")
    spec = resolve_scale(scale)
    model = model or ReadModel()
    report: ProgressCallback = progress or (lambda _stage, _done, _total: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    report("cameras", 0, 1)
    traffic = build_traffic_network()
    cameras = build_camera_network(seed, spec.cameras)
    cameras_path = out_dir / "cameras.csv"
    _writers.write_table(cameras.to_table(), cameras_path)
    report("cameras", 1, 1)

    report("vehicles", 0, 1)
    n_london = max(1, round(FULL_LONDON_VEHICLES * spec.vehicle_fraction))
    n_external = max(1, round(FULL_EXTERNAL_VEHICLES * spec.vehicle_fraction))
    register = build_register(seed, day, n_london, n_external)
    vehicles_path = out_dir / "vehicles.parquet"
    _writers.write_table(register.to_table(), vehicles_path)
    report("vehicles", 1, 1)

    gravity = build_gravity(traffic)
    summaries: list[DaySummary] = []
    for k in range(days):
        today = day + dt.timedelta(days=k)
        stage = f"reads {today.isoformat()}"
        reads_path = out_dir / f"reads-{today.isoformat()}.{reads_format}"
        truth_path = out_dir / f"truth-{today.isoformat()}.parquet"
        clock = ChargeDay.of(today)
        with _writers.ReadsWriter(reads_path, truth_path, reads_format, clock) as writer:

            def on_chunk(chunk: ReadChunk, w: _writers.ReadsWriter = writer) -> None:
                w.write(chunk.reads, chunk.truth)

            report(stage, 0, len(register))
            stats = simulate_day(
                register,
                cameras,
                traffic,
                gravity,
                today,
                seed,
                model,
                spec.chunk_vehicles,
                f"S{seed & 0xFFFF:04X}-{today:%Y%m%d}-",
                on_chunk,
                _day_progress(report, stage),
            )
        summaries.append(
            DaySummary(
                day=today,
                reads_path=reads_path,
                truth_path=truth_path,
                reads=stats.reads,
                reads_by_kind=stats.by_kind,
                trips=stats.trips,
                active_vehicles=stats.active_vehicles,
            )
        )

    by_kind = {k: sum(d.reads_by_kind[k] for d in summaries) for k in KINDS}
    return SimulationSummary(
        out_dir=out_dir,
        seed=seed,
        scale=spec.name,
        reads_format=reads_format,
        cameras_path=cameras_path,
        vehicles_path=vehicles_path,
        cameras=len(cameras),
        vehicles=len(register),
        reads=sum(d.reads for d in summaries),
        reads_by_kind=by_kind,
        days=tuple(summaries),
    )


__all__ = [
    "READS_FORMATS",
    "SCALES",
    "DaySummary",
    "ProgressCallback",
    "ReadModel",
    "Scale",
    "SimulationSummary",
    "resolve_scale",
    "simulate",
]
