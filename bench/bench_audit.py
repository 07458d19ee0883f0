"""Audit log benchmark: verify a log of N entries (10 million by default) against the limit.

Builds a realistic log (the product's event mix, a signed checkpoint every million entries)
through `AuditLog.append_many`, then measures in one run over the same file:

- `verify` with the public key (every line's form, hash, seq and chain; the checkpoints):
  wall and CPU seconds, entries per second, peak RSS of the pass;
- the limit: read the same bytes in the same blocks and SHA-256 each line, nothing else;
- detection: one byte of the middle entry changed, a full `verify`, which must name that line
  (the byte is put back afterwards).

Figures go to the JSON file and a table. The log (about 4 GB at 10 million) stays in --work,
under bench/out/, which git ignores. On a shared machine, the CPU seconds are the steadier
figure: wall time includes waiting for a core.

Usage: python bench/bench_audit.py [--entries 10000000] [--work bench/out/audit]
                                   [--json bench/out/audit.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.table import Table

from ringfence.audit import AuditLog, Draft, VerifyReport, public_key_hex, verify

CHECKPOINT_EVERY = 1_000_000
READ_BLOCK = 8 << 20  # the block size verify reads in: the baseline reads the same way
T0 = datetime(2026, 11, 28, tzinfo=UTC)
FORCES = ("met", "city-of-london", "btp", "surrey", "kent", "essex", "thames-valley")
KINDS = ("vehicle_history", "hotlist_check", "sighting_window")
T = TypeVar("T")


# -- a realistic log -----------------------------------------------------------------------
def _draft(i: int) -> Draft:
    """Entry i of the benchmark log: the shapes `ws.record` writes, in a steady mix."""
    at = T0 + timedelta(microseconds=i * 8_640)  # ten million entries span a day
    officer = f"officer-{i % 997:04d}"
    request = f"AR-2026-{i // 7:07d}"
    force = FORCES[i % len(FORCES)]
    kind = KINDS[i % len(KINDS)]
    shape = i % 10
    if shape in (0, 1, 2):
        return Draft(
            "reads-ingested",
            "ingest",
            at,
            f"batch:B{i:09d}",
            f"ingest of reads-{at:%Y%m%d-%H%M}-cam{i % 4099:04d}.parquet",
            {"received": 5000 + i % 311, "stored": 4990, "duplicates": i % 7, "quarantined": 3},
        )
    if shape in (3, 4):
        return Draft(
            "reads-queried",
            officer,
            at,
            f"query:{request}",
            f"journey search for case CR/{i % 9999:04d}/26 — £ penalty appeal",
            {"rows": i % 523, "days": 1 + i % 30},
            {"purpose": "charge-enforcement"},
        )
    if shape == 5:
        return Draft(
            "request-submitted",
            officer,
            at,
            request,
            f"{kind} request by {officer} ({force}) for case CR/{i % 9999:04d}/26",
            {"vehicles": 1 + i % 3, "networks": 2},
            {"kind": kind, "force": force},
        )
    if shape == 6:
        return Draft(
            "request-decided",
            f"dso-{i % 13}",
            at,
            request,
            f"approved (by dso-{i % 13})",
            None,
            {"kind": kind, "force": force, "outcome": "approved"},
        )
    if shape == 7:
        return Draft(
            "release-issued",
            f"dso-{i % 13}",
            at,
            request,
            f"release REL-{i:09d} to {force} for case CR/{i % 9999:04d}/26 by dso-{i % 13}, "
            "expires 2027-05-28",
            {"reads": i % 5000, "vehicles": 1 + i % 3, "networks": 2},
            {"kind": kind, "force": force},
            hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
        )
    if shape == 8:
        return Draft(
            "vault-recovered",
            "charging",
            at,
            f"charge-day:{at:%Y-%m-%d}",
            "charging: plates not in the register, matched to registered vehicles by "
            "confusion key (misread safety)",
            {"asked": 40 + i % 17, "recovered": 31},
        )
    return Draft(
        "key-destroyed",
        "retention",
        at,
        f"receipt:RR-{i:09d}",
        "retention rule reads-28d (charging)",
        {"deleted": 1, "held_back": 0},
        {"rule": "reads-28d", "purpose": "charging", "target": "key"},
        hashlib.sha256(b"receipt" + i.to_bytes(8, "big")).hexdigest(),
    )


def build(directory: Path, entries: int, key: Ed25519PrivateKey) -> float:
    """A fresh log of `entries`, checkpointed every million; returns the seconds it took."""
    shutil.rmtree(directory, ignore_errors=True)
    log = AuditLog(directory)
    started = time.perf_counter()
    for start in range(0, entries, CHECKPOINT_EVERY):
        stop = min(entries, start + CHECKPOINT_EVERY)
        log.append_many(_draft(i) for i in range(start, stop))
        log.checkpoint(key, T0 + timedelta(days=1, seconds=stop))
        print(f"  built {stop:,} entries ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


# -- measuring -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux), so each phase reports its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else the process's lifetime peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], T]) -> tuple[Timing, T]:
    _reset_peak_rss()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    timing = Timing(time.perf_counter() - wall, time.process_time() - cpu, _peak_rss_mb())
    return timing, result


def baseline(path: Path) -> int:
    """The limit: read the log in verify's block size and SHA-256 every line; count them."""
    lines = 0
    carry = b""
    sha256 = hashlib.sha256
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(READ_BLOCK):
            parts = (carry + block).split(b"\n")
            carry = parts.pop()
            for line in parts:
                sha256(line).hexdigest()
            lines += len(parts)
    return lines


def _line_start(path: Path, line_no: int) -> int:
    """The byte offset at which 1-based line `line_no` starts."""
    seen, offset = 0, 0
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(READ_BLOCK):
            count = block.count(b"\n")
            if seen + count >= line_no - 1:
                at = -1
                for _ in range(line_no - 1 - seen):
                    at = block.index(b"\n", at + 1)
                return offset + at + 1
            seen += count
            offset += len(block)
    raise ValueError(f"{path} has fewer than {line_no} lines")


def detect_middle_edit(directory: Path, entries: int, public: str) -> dict[str, Any]:
    """Change one byte of the middle entry's `why`, verify, put the byte back."""
    path = directory / "log.jsonl"
    line_no = entries // 2 + 1
    start = _line_start(path, line_no)
    with open(path, "r+b") as fh:
        fh.seek(start)
        line = fh.readline()
        at = start + line.index(b'"why":"') + len(b'"why":"')
        original = line[at - start : at - start + 1]
        fh.seek(at)
        fh.write(bytes([original[0] ^ 0x20]))  # a letter's case: still canonical JSON
        fh.flush()
        try:
            timing, report = timed(lambda: verify(directory, public_key=public))
        finally:
            fh.seek(at)
            fh.write(original)
    found = [(p.kind, p.line) for p in report.problems]
    assert found == [("hash-mismatch", line_no)], found
    return {
        "line": line_no,
        "byte_offset": at,
        "found": [{"kind": kind, "line": line} for kind, line in found],
        "seconds": round(timing.wall_s, 2),
        "cpu_seconds": round(timing.cpu_s, 2),
    }


# -- the run -------------------------------------------------------------------------------
def _rate(n: int, seconds: float) -> int:
    return round(n / seconds) if seconds else 0


def run(entries: int, work: Path) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    public = public_key_hex(key)
    load_at_start = os.getloadavg()
    print(f"building {entries:,} entries in {work} ...", flush=True)
    build_s = build(work, entries, key)
    log_path = work / "log.jsonl"
    size = log_path.stat().st_size

    base, lines = timed(lambda: baseline(log_path))
    assert lines == entries, lines
    print(f"  baseline {base.wall_s:.1f} s", flush=True)
    ours, report = timed(lambda: verify(work, public_key=public))
    _expect_whole(report, entries)
    print(f"  verify {ours.wall_s:.1f} s", flush=True)
    detect = detect_middle_edit(work, entries, public)
    print(f"  detection {detect['seconds']} s", flush=True)
    return {
        "entries": entries,
        "file_bytes": size,
        "file_gb": round(size / 1e9, 2),
        "bytes_per_entry": round(size / entries),
        "checkpoints": len(AuditLog(work).checkpoints()),
        "build_seconds": round(build_s, 1),
        "build_entries_per_s": _rate(entries, build_s),
        "verify_seconds": round(ours.wall_s, 2),
        "verify_cpu_seconds": round(ours.cpu_s, 2),
        "verify_entries_per_s": _rate(entries, ours.wall_s),
        "verify_entries_per_cpu_s": _rate(entries, ours.cpu_s),
        "verify_peak_rss_mb": round(ours.peak_rss_mb, 1),
        "verify_attested_seq": report.attested_seq,
        "baseline_seconds": round(base.wall_s, 2),
        "baseline_cpu_seconds": round(base.cpu_s, 2),
        "baseline_entries_per_s": _rate(entries, base.wall_s),
        "baseline_peak_rss_mb": round(base.peak_rss_mb, 1),
        "ratio_verify_to_baseline": round(ours.wall_s / base.wall_s, 2),
        "ratio_verify_to_baseline_cpu": round(ours.cpu_s / base.cpu_s, 2),
        "detect_middle_edit": detect,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _expect_whole(report: VerifyReport, entries: int) -> None:
    if not report.ok or report.entries != entries:
        raise SystemExit(f"verify found problems in the benchmark log: {report.problems[:5]}")
    if report.attested_seq != entries:  # the last checkpoint is at the last entry
        raise SystemExit(f"verify attested only up to seq {report.attested_seq}")


def _table(figures: dict[str, Any]) -> Table:
    table = Table(title=f"Audit verification, {figures['entries']:,} entries")
    table.add_column("measure")
    table.add_column("value", justify="right")
    detect = figures["detect_middle_edit"]
    rows = [
        ("log file", f"{figures['file_gb']} GB ({figures['bytes_per_entry']} B/entry)"),
        ("checkpoints (signed)", f"{figures['checkpoints']}"),
        ("build (append_many)", f"{figures['build_seconds']} s"),
        ("verify", f"{figures['verify_seconds']} s ({figures['verify_cpu_seconds']} s CPU)"),
        ("verify entries/s", f"{figures['verify_entries_per_s']:,}"),
        ("verify peak RSS", f"{figures['verify_peak_rss_mb']} MB"),
        ("baseline: read + SHA-256", f"{figures['baseline_seconds']} s"),
        ("baseline entries/s", f"{figures['baseline_entries_per_s']:,}"),
        (
            "ratio verify / baseline",
            f"{figures['ratio_verify_to_baseline']} "
            f"({figures['ratio_verify_to_baseline_cpu']} CPU)",
        ),
        ("one-byte edit found at", f"line {detect['line']:,} in {detect['seconds']} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("bench/out/audit"))
    parser.add_argument("--json", type=Path, default=Path("bench/out/audit.json"))
    args = parser.parse_args()
    figures = run(args.entries, args.work)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    Console().print(_table(figures))
    print(f"figures in {args.json}")


if __name__ == "__main__":
    main()
