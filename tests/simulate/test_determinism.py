"""Same (seed, day, scale): byte-identical files; another seed: different data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ringfence.errors import ConfigError
from ringfence.simulate import SCALES, resolve_scale, simulate

DAY = dt.date(2026, 11, 26)
FILES = ("cameras.csv", "vehicles.parquet", "reads-2026-11-26.parquet", "truth-2026-11-26.parquet")


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", day=DAY, seed=11, scale="tiny")
    b = simulate(tmp_path / "b", day=DAY, seed=11, scale="tiny")
    assert a.reads == b.reads > 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_different_data(tmp_path: Path) -> None:
    simulate(tmp_path / "a", day=DAY, seed=11, scale="tiny")
    simulate(tmp_path / "b", day=DAY, seed=12, scale="tiny")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name
    vrms_a = set(pq.read_table(tmp_path / "a" / "vehicles.parquet")["vrm"].to_pylist())
    vrms_b = set(pq.read_table(tmp_path / "b" / "vehicles.parquet")["vrm"].to_pylist())
    assert len(vrms_a & vrms_b) < 0.01 * len(vrms_a)


def test_days_continue_the_same_register(tmp_path: Path) -> None:
    summary = simulate(tmp_path, day=DAY, seed=3, scale="tiny", days=2)
    assert [d.day for d in summary.days] == [DAY, DAY + dt.timedelta(days=1)]
    assert all(p.exists() for p in (*summary.reads_paths, *summary.truth_paths))
    one = pq.read_table(summary.truth_paths[0])["read_id"].to_pylist()
    two = pq.read_table(summary.truth_paths[1])["read_id"].to_pylist()
    assert not set(one) & set(two)
    assert summary.reads == sum(d.reads for d in summary.days)
    assert summary.reads_by_kind["genuine"] == sum(d.reads_by_kind["genuine"] for d in summary.days)


def test_scales() -> None:
    assert resolve_scale("tiny") == SCALES["tiny"]
    assert resolve_scale(0.05).cameras is None
    assert resolve_scale("0.05").vehicle_fraction == pytest.approx(0.05)
    thin = resolve_scale(0.002)
    assert thin.cameras is not None and thin.cameras < 1_000
    for bad in ("huge", 0.0, -1.0, 100.0):
        with pytest.raises(ConfigError):
            resolve_scale(bad)


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="format"):
        simulate(tmp_path, day=DAY, scale="tiny", reads_format="xml")
    with pytest.raises(ConfigError, match="days"):
        simulate(tmp_path, day=DAY, scale="tiny", days=0)


def test_no_partial_files_left(tmp_path: Path) -> None:
    simulate(tmp_path, day=DAY, scale="tiny", reads_format="jsonl")
    assert not list(tmp_path.glob("*.partial"))
