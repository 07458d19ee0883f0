"""kill -9 in the middle of a batch, then re-run: no loss, no duplicate, counts reconcile.

A real child process ingests a file and is killed with SIGKILL, either at a named point
(`ringfence.faults`) or after a random delay; the parent then re-runs the same ingest and checks
the store against a clean ingest of the same file into a fresh data directory.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select

from ringfence.faults import CRASH_POINTS
from ringfence.services.cameras import import_cameras
from ringfence.services.ingest import ingest_file
from ringfence.stores.state import IngestBatchRow, QuarantineRow
from ringfence.workspace import Workspace
from support import write_reads

CHILD = """
import sys
from datetime import datetime
from pathlib import Path
from ringfence.workspace import Workspace
from ringfence.services.ingest import ingest_file
ws = Workspace.open(Path(sys.argv[1]))
ingest_file(ws, Path(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]))
"""


def _reads(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    start = datetime.fromisoformat("2026-11-25T00:00:00+00:00")
    rows: list[dict[str, object]] = []
    for i in range(n):
        at = start + timedelta(seconds=rng.randrange(3 * 86400))  # three charge days
        rows.append(
            {
                "read_id": f"v{i}" if i % 3 else None,
                "camera_id": rng.choice(["C1", "C2", "C3", "C9"]),
                "captured_at": at.isoformat(),
                "plate": rng.choice(["AB12CDE", "LX73ABC", "M123ABC", "AB1?", "GU05 XYZ"]),
                "confidence": rng.choice([0.95, 0.9, 0.6, 1.7]),
            }
        )
    return rows


def _state(ws: Workspace) -> tuple[int, int, list[tuple[object, ...]]]:
    files = ws.reads.all_files()
    rows: list[tuple[object, ...]] = []
    if files:
        rows = duckdb.execute(
            f"SELECT camera_id, captured_at, confidence, count(*) FROM {ws.reads.scan(files)} "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    stored = sum(int(str(r[3])) for r in rows)
    with ws.state.session() as s:
        quarantined = int(s.scalar(select(func.count()).select_from(QuarantineRow)) or 0)
    return stored, quarantined, rows


def _child(data: Path, reads: Path, now: datetime, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    env.pop("RINGFENCE_CRASH_AT", None)
    if crash_at:
        env["RINGFENCE_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(reads), now.isoformat()],
        env=env,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def reference(tmp_path: Path, cameras_csv: Path, now: datetime):
    reads = write_reads(tmp_path / "reads.csv", _reads(6000))
    clean = Workspace.open(tmp_path / "clean")
    import_cameras(clean, cameras_csv)
    report = ingest_file(clean, reads, now=now)
    assert report.stored > 0 and report.quarantined > 0 and len(report.charge_days) >= 3
    return reads, report, _state(clean)


@pytest.mark.slow
@pytest.mark.parametrize("point", [p for p in CRASH_POINTS if p.startswith("ingest-")])
def test_kill_at_each_crash_point_then_rerun(
    tmp_path: Path, cameras_csv: Path, now: datetime, reference, point: str
) -> None:
    reads, clean_report, clean_state = reference
    data = tmp_path / "crashy"
    ws = Workspace.open(data)
    import_cameras(ws, cameras_csv)
    child = _child(data, reads, now, point)
    child.wait(timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""

    rerun = ingest_file(ws, reads, now=now)
    assert rerun.reconciles
    assert _state(ws) == clean_state  # same reads, each exactly once; same quarantine
    with ws.state.session() as s:
        statuses = sorted(b.status for b in s.scalars(select(IngestBatchRow)))
    assert statuses == ["committed", "rolled_back"]
    assert rerun.recovered and "rolled back" in rerun.recovered[0]
    assert (rerun.stored, rerun.quarantined) == (clean_report.stored, clean_report.quarantined)
    assert not list(ws.reads.staging_dir.glob("*"))


@pytest.mark.slow
def test_kill_while_compaction_publishes_then_rerun(
    tmp_path: Path, cameras_csv: Path, now: datetime, reference
) -> None:
    """A second batch for the same days makes ingest merge each day; die right after the
    merged file appears, before the old files are gone: recovery must not double any read."""
    reads, _clean_report, clean_state = reference
    rows = _reads(6000)
    first = write_reads(tmp_path / "first.csv", rows[:3000])
    data = tmp_path / "crashy"
    ws = Workspace.open(data)
    import_cameras(ws, cameras_csv)
    ingest_file(ws, first, now=now)
    child = _child(data, reads, now, "rewrite-published")
    child.wait(timeout=120)
    assert child.returncode == -signal.SIGKILL
    rerun = ingest_file(ws, reads, now=now)
    assert any("completed" in note for note in rerun.recovered)
    assert rerun.stored == 0 and rerun.reconciles  # the second batch had committed
    assert _state(ws) == clean_state
    assert all(len(ws.reads.files(d)) == 1 for d in ws.reads.days())


@pytest.mark.slow
def test_kill_after_random_delays_then_rerun(
    tmp_path: Path, cameras_csv: Path, now: datetime, reference
) -> None:
    reads, _clean_report, clean_state = reference
    rng = random.Random(11)
    for attempt in range(4):
        data = tmp_path / f"random{attempt}"
        ws = Workspace.open(data)
        import_cameras(ws, cameras_csv)
        child = _child(data, reads, now, None)
        time.sleep(rng.uniform(0.3, 2.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        ingest_file(ws, reads, now=now)
        assert _state(ws) == clean_state, f"attempt {attempt}"
        ws.close()
