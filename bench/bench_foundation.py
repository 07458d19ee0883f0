"""Foundation benchmark: simulate a London day, ingest it, look plates up; compare with raw DuckDB.

Measures, in one run on the same files:
- simulation time and reads generated;
- ingest throughput (reads/s), with and without the compaction that sorts the day;
- store size per read;
- plate-history look-up latency through Ringfence (`vrm_history`: epoch lookup, keyed
  pseudonym, file pruning) against the same look-up as a raw DuckDB query over the same files
  with the pseudonym already known (the limit);
- a per-borough aggregation through Ringfence against the raw query.

The day is the latest weekday before today unless `--day` names one: a weekday is the heaviest
charge day (the Congestion Charge's hours are 07:00-18:00, against 12:00-18:00 at weekends),
which bench_charging.py runs over.

Usage: python bench/bench_foundation.py [--scale full|medium|small|FRACTION] [--work DIR]
       [--day YYYY-MM-DD]
Prints a table and writes bench/out/foundation-<scale>.json. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from ringfence.services.cameras import import_cameras
from ringfence.services.ingest import compact_days, ingest_file
from ringfence.services.reads import read_counts, vrm_history
from ringfence.simulate import simulate
from ringfence.stores.readstore import LONDON, connect, london_day_bounds, sql_list
from ringfence.workspace import Workspace


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def latest_weekday(today: date) -> date:
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full")
    parser.add_argument("--work", type=Path, default=Path("bench/out/work"))
    parser.add_argument("--lookups", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="reuse simulated files if present")
    parser.add_argument("--day", type=date.fromisoformat, help="default: the latest weekday")
    args = parser.parse_args()
    scale = args.scale  # presets or a fraction: the simulator parses both

    now = datetime.now(UTC)
    day = args.day or latest_weekday(now.astimezone(LONDON).date())
    incoming = args.work / "incoming"
    reads_file = incoming / f"reads-{day.isoformat()}.parquet"
    results: dict[str, object] = {"scale": args.scale, "charge_day": day.isoformat()}

    if not (args.reuse and reads_file.exists()):
        shutil.rmtree(incoming, ignore_errors=True)
        t = time.perf_counter()
        summary = simulate(incoming, day=day, seed=1, scale=scale)
        results["simulate_seconds"] = round(time.perf_counter() - t, 2)
        results["simulate_summary"] = repr(summary)
    n_reads = pq.ParquetFile(reads_file).metadata.num_rows
    results["reads_in_file"] = n_reads

    data = args.work / "data"
    shutil.rmtree(data, ignore_errors=True)
    ws = Workspace.open(data)
    import_cameras(ws, incoming / "cameras.csv")

    t = time.perf_counter()
    report = ingest_file(ws, reads_file, now=now, compact=False)
    ingest_s = time.perf_counter() - t
    t = time.perf_counter()
    with ws.writer():
        compact_days(ws, ws.reads.days(), now=now)
    compact_s = time.perf_counter() - t
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files = ws.reads.all_files()
    store_bytes = sum(f.stat().st_size for f in files)
    results |= {
        "ingest": report.as_dict(),
        "ingest_seconds": round(ingest_s, 2),
        "ingest_reads_per_second": round(n_reads / ingest_s),
        "compact_seconds": round(compact_s, 2),
        "ingest_plus_compact_reads_per_second": round(n_reads / (ingest_s + compact_s)),
        "peak_rss_mb": round(peak_rss_mb),
        "store_bytes": store_bytes,
        "store_bytes_per_read": round(store_bytes / max(report.stored, 1), 2),
    }

    # -- plate look-ups: Ringfence vs raw DuckDB over the same files --------------------------
    truth = pq.read_table(
        incoming / f"truth-{day.isoformat()}.parquet", columns=["true_vrm", "kind"]
    )
    vrms = sorted(
        {
            v
            for v, k in zip(
                truth.column("true_vrm").to_pylist(), truth.column("kind").to_pylist(), strict=True
            )
            if v and k == "genuine"
        }
    )
    sample = random.Random(5).sample(vrms, min(args.lookups, len(vrms)))
    start, end = london_day_bounds(day)
    window = (start - timedelta(days=6), end)  # a week's window over the stored days
    ours, raw, found = [], [], 0
    con = connect()
    glob = str(ws.settings.reads_dir / "*" / "*.parquet")
    epoch = ws.keys.epoch_for_day(day)
    assert epoch is not None
    keys = ws.keys.keys(epoch.epoch)
    for vrm in sample:  # warm both paths once
        vrm_history(ws, vrm, *window)
        break
    for vrm in sample:
        t = time.perf_counter()
        result = vrm_history(ws, vrm, *window)
        ours.append(time.perf_counter() - t)
        found += result.reads.num_rows
        pseudonym = keys.pseudonymise([vrm])[0]
        t = time.perf_counter()
        rows = con.execute(
            f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true) "
            "WHERE vrm_pseudonym = ? AND captured_at >= ? AND captured_at < ?",
            [pseudonym, window[0], window[1]],
        ).fetchall()
        raw.append(time.perf_counter() - t)
        assert len(rows) == result.reads.num_rows, (vrm, len(rows), result.reads.num_rows)
    results["lookup"] = {
        "vehicles": len(sample),
        "reads_found": found,
        "ringfence_median_ms": round(_median_ms(ours), 2),
        "raw_duckdb_median_ms": round(_median_ms(raw), 2),
        "ratio": round(_median_ms(ours) / _median_ms(raw), 2),
    }

    # -- aggregation: reads per borough ------------------------------------------------------
    t = time.perf_counter()
    read_counts(ws, "borough", day, day)
    agg_ours = time.perf_counter() - t
    con.register("cams", ws.cameras_table())
    t = time.perf_counter()
    con.execute(
        f"SELECT c.borough_gss, count(*) FROM read_parquet({sql_list(files)}) r "
        "LEFT JOIN cams c USING (camera_id) GROUP BY 1"
    ).fetchall()
    agg_raw = time.perf_counter() - t
    results["borough_counts"] = {
        "ringfence_ms": round(agg_ours * 1000, 1),
        "raw_duckdb_ms": round(agg_raw * 1000, 1),
        "ratio": round(agg_ours / agg_raw, 2),
    }
    con.close()

    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"foundation-{args.scale}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps(results, indent=2, default=str))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
