"""Hotlist matching benchmark: throughput and latency per read at London's peak read rate.

Setup (not timed): London's full camera network from the simulator, a workspace with one key
epoch, and a hotlist of N entries (default 10,000; written straight to the state database, so
the setup skips the per-entry audit fsync the service does). The peak rate is measured, not
assumed: the busiest minute of a simulated full-network day (scale `small` = 1% of vehicles,
scaled up by 100).

Timed, in one run over the same micro-batches:
- the product: `Matcher.match` (policy-filtered watch table; pseudonym pre-filter, then the
  camera's network, (epoch, pseudonym, network) look-up and not-before check), one micro-batch
  per second of reads at the peak rate, ~0.1% of reads being of hotlisted vehicles;
- the limits, on the same batches: a bare membership test of the batch's pseudonyms in a
  prebuilt set of the hotlisted pseudonyms (what any matcher must at least do), and Arrow's
  `is_in` doing the same (it rebuilds its hash table per call);
- building the matcher (policy decisions and pseudonymising every entry's VRM).

Usage: python bench/bench_hotlist.py [--entries 10000] [--seconds 120] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ringfence.services.cameras import import_cameras
from ringfence.services.hotlist import build_matcher
from ringfence.simulate import simulate
from ringfence.stores.state import HotlistEntryRow
from ringfence.workspace import Workspace

DAY = date(2026, 11, 26)
SHARED = ["cc_lez_2015", "ulez_inner_2021"]


def peak_reads_per_second(incoming: Path, scale: float) -> float:
    reads = pq.read_table(incoming / f"reads-{DAY.isoformat()}.parquet", columns=["captured_at"])
    minutes = pc.floor_temporal(reads["captured_at"], unit="minute")
    counts = pc.value_counts(minutes).field("counts")
    return float(pc.max(counts).as_py()) / 60.0 / scale


def setup(work: Path, entries: int) -> tuple[Workspace, float, int]:
    shutil.rmtree(work, ignore_errors=True)
    incoming = work / "incoming"
    simulate(incoming, day=DAY, seed=11, scale="small")
    ws = Workspace.open(work / "data")
    import_cameras(ws, incoming / "cameras.csv")
    epoch = ws.keys.ensure_epochs([DAY], now=datetime.now(UTC))[DAY].epoch
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rng = np.random.default_rng(1)
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUVWXYZ"))
    with ws.state.session() as s:
        for i in range(entries):
            vrm = (
                "".join(rng.choice(letters, 2))
                + f"{rng.integers(10, 75):02d}"
                + "".join(rng.choice(letters, 3))
            )
            s.add(
                HotlistEntryRow(
                    entry_id=f"HOT-BENCH-{i:07d}",
                    vrm=vrm,
                    subject_index=f"{i:064x}",
                    status="active",
                    force="metropolitan_police",
                    officer_id=f"met:pc-{i % 500}",
                    officer_rank="constable",
                    reason="benchmark",
                    purpose="law_enforcement:serious_crime",
                    legal_basis="DPA2018_Part3",
                    case_ref=f"CAD-{i}",
                    warning_markers=[],
                    networks=SHARED,
                    created_at=created,
                    expires_on=DAY + timedelta(days=10),
                )
            )
    return ws, peak_reads_per_second(incoming, 0.01), epoch


def batches(
    ws: Workspace, watch: pa.Table, rate: float, seconds: int, epoch: int
) -> list[pa.Table]:
    cams = ws.cameras_table().column("camera_id").to_numpy(zero_copy_only=False)
    rng = np.random.default_rng(2)
    hot = watch.column("vrm_pseudonym").to_pylist()
    per = round(rate)
    start = datetime(2026, 11, 26, 8, tzinfo=UTC)
    out = []
    for second in range(seconds):
        pseudonyms = [rng.bytes(16) for _ in range(per)]
        for k in rng.choice(per, size=max(1, per // 1000), replace=False):
            pseudonyms[k] = hot[int(rng.integers(len(hot)))]
        at = start + timedelta(seconds=second)
        out.append(
            pa.table(
                {
                    "read_id": [f"r{second}-{i}" for i in range(per)],
                    "camera_id": rng.choice(cams, per),
                    "captured_at": pa.array([at] * per, pa.timestamp("us", tz="UTC")),
                    "vrm_pseudonym": pa.array(pseudonyms, pa.binary(16)),
                    "key_epoch": pa.array([epoch] * per, pa.int32()),
                    "confidence": np.full(per, 0.9),
                    "image_ref": pa.nulls(per, pa.string()),
                }
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--work", type=Path, default=Path("bench/out/hotlist"))
    parser.add_argument("--out", type=Path, default=Path("bench/out/hotlist.json"))
    args = parser.parse_args()
    ws, rate, epoch = setup(args.work, args.entries)
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    began = time.perf_counter()
    matcher = build_matcher(ws, now, [epoch])
    build_s = time.perf_counter() - began
    work = batches(ws, matcher.watch, rate, args.seconds, epoch)
    hot = matcher.watch.column("vrm_pseudonym")
    hot_set = frozenset(hot.to_pylist())
    ours: list[float] = []
    limit: list[float] = []
    arrow: list[float] = []
    hits = 0
    for batch in work:
        t0 = time.perf_counter()
        found = matcher.match(batch)
        t1 = time.perf_counter()
        _ = [p in hot_set for p in batch["vrm_pseudonym"].to_pylist()]
        t2 = time.perf_counter()
        pc.is_in(batch["vrm_pseudonym"].cast(pa.binary()), value_set=hot)
        t3 = time.perf_counter()
        ours.append(t1 - t0)
        limit.append(t2 - t1)
        arrow.append(t3 - t2)
        hits += found.num_rows
    reads = sum(b.num_rows for b in work)
    q = statistics.quantiles(ours, n=100)
    result = {
        "hotlist_entries": args.entries,
        "watch_rows": matcher.watch.num_rows,
        "peak_reads_per_second": round(rate, 1),
        "micro_batches": len(work),
        "reads": reads,
        "hits": hits,
        "build_matcher_s": round(build_s, 3),
        "match_total_s": round(sum(ours), 3),
        "throughput_reads_per_s": round(reads / sum(ours)),
        "headroom_vs_peak": round(reads / sum(ours) / rate, 1),
        "batch_latency_ms_p50": round(statistics.median(ours) * 1000, 2),
        "batch_latency_ms_p99": round(q[98] * 1000, 2),
        "per_read_us_p50": round(statistics.median(ours) / (reads / len(work)) * 1e6, 2),
        "limit_set_lookup_total_s": round(sum(limit), 3),
        "ratio_vs_set_lookup": round(sum(ours) / sum(limit), 2),
        "arrow_is_in_total_s": round(sum(arrow), 3),
        "ratio_vs_arrow_is_in": round(sum(ours) / sum(arrow), 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ws.close()


if __name__ == "__main__":
    main()
