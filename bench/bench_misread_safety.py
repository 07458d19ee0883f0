"""Misread safety, measured against the simulation's truth on the full-scale day.

Run after `bench_charging.py` (it reads the liabilities that run stored in bench/out/work). For
every charge the run made or held (statuses `unpaid` and `review`), the simulation truth says
which vehicle was really behind each of its reads. A charge names the wrong keeper when most of
its reads were of another vehicle than the registered one it is charged to: a misread landing
exactly on a registered plate, or a cloned plate. Reports, per status and rule, how many such
charges there are, so that:

- `unpaid` rows with a wrong vehicle are charges a keeper would wrongly receive;
- `match:register_contradiction` rows split into caught wrong vehicles (true holds) and right
  vehicles held by an MMR error (a person looks, nobody is charged).

This reads clear VRMs from the register and the truth file; it is a benchmark on synthetic data,
not something the product does.

Usage: python bench/bench_misread_safety.py [--work bench/out/work]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import select

from ringfence.stores.keys import pseudonym_sql
from ringfence.stores.state import LiabilityRow
from ringfence.workspace import Workspace

HELD = "match:register_contradiction"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("bench/out/work"))
    args = parser.parse_args()
    work: Path = args.work
    ws = Workspace.open(work / "data")
    (day,) = ws.reads.days()[:1]
    epoch = ws.keys.epoch_for_day(day)
    assert epoch is not None
    inner, outer = ws.keys.keys(epoch.epoch).hmac_blocks()
    with ws.state.session() as s:
        rows = s.scalars(
            select(LiabilityRow).where(
                LiabilityRow.charge_day == day, LiabilityRow.status.in_(("unpaid", "review"))
            )
        ).all()
    read_ids = ws.charge_evidence.of_liabilities(rows)
    con = duckdb.connect()
    con.register(
        "charged",
        pa.table(
            {
                "pseudonym": pa.array([r.vrm_pseudonym for r in rows], pa.binary()),
                "scheme_id": [r.scheme_id for r in rows],
                "status": [r.status for r in rows],
                "rule": [r.rule for r in rows],
                "read_ids": [read_ids[r.id] for r in rows],
            }
        ),
    )
    con.register("pads", pa.table({"i": [inner], "o": [outer]}))
    key = pseudonym_sql("vrm", "(SELECT i FROM pads)", "(SELECT o FROM pads)")
    register = work / "data" / "register" / "vehicles.parquet"
    truth = work / "incoming" / f"truth-{day}.parquet"
    con.execute(f"CREATE TABLE keyed AS SELECT vrm, {key} AS pseudonym FROM '{register}'")
    found = con.execute(
        f"""
        WITH reads AS (
          SELECT c.pseudonym, c.scheme_id, c.status, c.rule, unnest(c.read_ids) AS read_id
          FROM charged c
        ), judged AS (
          -- one row per liability (vehicle and scheme)
          SELECT r.pseudonym, r.scheme_id, r.status, r.rule, count(*) AS reads,
                 count(*) FILTER (WHERE t.true_vrm = k.vrm) AS of_registered
          FROM reads r
          JOIN '{truth}' t USING (read_id)
          JOIN keyed k USING (pseudonym)
          GROUP BY ALL
        )
        SELECT status, CASE WHEN rule = '{HELD}' THEN rule ELSE 'other' END AS rule,
               count(*) AS charges,
               count(*) FILTER (WHERE of_registered * 2 <= reads) AS wrong_vehicle
        FROM judged GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    table = [
        {"status": s, "rule": r, "registered_charges": int(n), "wrong_vehicle": int(w)}
        for s, r, n, w in found
    ]
    wrong_unpaid = sum(t["wrong_vehicle"] for t in table if t["status"] == "unpaid")
    held = [t for t in table if t["rule"] == HELD]
    held_wrong = sum(t["wrong_vehicle"] for t in held)
    held_all = sum(t["registered_charges"] for t in held)
    results = {
        "charge_day": day.isoformat(),
        "by_status_and_rule": table,
        "unpaid_charges_to_a_wrong_vehicle": wrong_unpaid,
        "held_by_register_contradiction": held_all,
        "held_that_were_a_wrong_vehicle": held_wrong,
        "held_precision": round(held_wrong / held_all, 3) if held_all else None,
        "wrong_vehicle_charges_caught": (
            round(held_wrong / (held_wrong + wrong_unpaid), 3)
            if held_wrong + wrong_unpaid
            else None
        ),
    }
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "misread-safety-full.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
