"""The stored charge run agrees with the stateless evaluation of the same day's files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ringfence.errors import StateError
from ringfence.services.cameras import import_cameras
from ringfence.services.charging import evaluate_files, import_register_file, run_stored
from ringfence.services.ingest import ingest_file
from ringfence.stores.state import LiabilityRow
from ringfence.workspace import Workspace
from support import SIMULATED_DAY

DAY = SIMULATED_DAY
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_stored_run_matches_stateless_evaluation(
    simulated: Path, tmp_path: Path, state_url: str
) -> None:
    reads = simulated / f"reads-{DAY}.parquet"
    stateless = evaluate_files(
        reads=reads,
        cameras=simulated / "cameras.csv",
        vehicles=simulated / "vehicles.parquet",
        days=[DAY],
    )
    expected = {
        (r["vrm"], r["scheme_id"]): (r["amount_pence"], r["status"], r["rule"])
        for r in stateless.days[0].liabilities.to_pylist()
    }
    assert {s for _, s, _ in expected.values()} >= {"unpaid", "review", "exempt"}

    ws = Workspace.open(tmp_path / "data", state_url=state_url)
    import_cameras(ws, simulated / "cameras.csv")
    ingest_file(ws, reads, now=NOW)
    with pytest.raises(StateError, match="register"):
        run_stored(ws, DAY, now=NOW)
    assert import_register_file(ws, "vehicles", simulated / "vehicles.parquet").rows > 0
    run = run_stored(ws, DAY, now=NOW)
    assert run.by_status == stateless.by_status
    assert run.vault_lookups > 0  # unknown plates were looked up for misread matching

    keys = ws.keys.keys(run.key_epoch)
    by_pseudonym = {keys.pseudonymise([vrm])[0]: vrm for vrm, _ in expected}
    with ws.state.session() as s:
        stored = s.scalars(select(LiabilityRow).where(LiabilityRow.charge_day == DAY)).all()
        got = {
            (by_pseudonym[r.vrm_pseudonym], r.scheme_id): (r.amount_pence, r.status, r.rule)
            for r in stored
        }
    assert got == expected
    # Re-running the day replaces its liabilities rather than adding to them: rows it decides
    # again are updated in place (same ids, this run's decision, even over an edit), and a row
    # it no longer decides is deleted.
    with ws.state.session() as s:
        first = s.scalars(select(LiabilityRow).where(LiabilityRow.charge_day == DAY)).all()
        statuses = {r.id: r.status for r in first}
        first[0].status, first[0].reason = "paid", "edited"
        first[0].read_ids = ["listed-in-the-row"]  # as rows decided before evidence files
        s.add(
            LiabilityRow(
                run_id="gone",
                charge_day=DAY,
                scheme_id="ulez",
                key_epoch=run.key_epoch,
                vrm_pseudonym=bytes(16),
                amount_pence=0,
                status="review",
                rule="match:unregistered",
                reason="no longer decided",
                reads=1,
                read_ids=["R-1"],
                decided_at=NOW,
            )
        )
    again = run_stored(ws, DAY, now=NOW)
    with ws.state.session() as s:
        rows = s.scalars(select(LiabilityRow)).all()
        assert {r.id: r.status for r in rows} == statuses
        assert {r.run_id for r in rows} == {again.run_id}
        assert not {r.reason for r in rows} & {"edited", "no longer decided"}
    # Each liability's reads are in the run's evidence file (the row's own list is cleared),
    # as stateless evaluation lists them; the first run's file is gone with its rows.
    listed = {
        (r["vrm"], r["scheme_id"]): sorted(r["read_ids"])
        for r in stateless.days[0].liabilities.to_pylist()
    }
    ids = ws.charge_evidence.of_liabilities(rows)
    assert {(by_pseudonym[r.vrm_pseudonym], r.scheme_id): ids[r.id] for r in rows} == listed
    assert [p.stem for p in (ws.data_dir / "charges" / DAY.isoformat()).iterdir()] == [again.run_id]


def test_settled_vehicles_reads_are_purged_after_the_payment_window(
    simulated: Path, tmp_path: Path
) -> None:
    import duckdb

    from ringfence.services.retention import run_retention

    ws = Workspace.open(tmp_path / "data")
    import_cameras(ws, simulated / "cameras.csv")
    ingest_file(ws, simulated / f"reads-{DAY}.parquet", now=NOW)
    import_register_file(ws, "vehicles", simulated / "vehicles.parquet")
    run_stored(ws, DAY, now=NOW)
    with ws.state.session() as s:
        liabilities = s.scalars(select(LiabilityRow)).all()
        kept = {r.vrm_pseudonym for r in liabilities if r.status in ("unpaid", "review")}
        ids = ws.charge_evidence.of_liabilities(liabilities)
        assert all(ids.values())  # every liability's reads are listed in its run's file
        kept_reads = {
            rid for r in liabilities if r.status in ("unpaid", "review") for rid in ids[r.id]
        }

    def stored() -> list[tuple[bytes, str]]:
        files = ws.reads.files(DAY)
        return [
            (bytes(p), r)
            for p, r in duckdb.execute(
                f"SELECT vrm_pseudonym, read_id FROM read_parquet({[str(f) for f in files]})"
            ).fetchall()
        ]

    before = stored()
    # within the window (pay by the third day after): nothing may go yet
    assert not [
        r for r in run_retention(ws, as_of=date(2026, 11, 30), now=NOW) if r.rule == "reads-settled"
    ]
    receipts = [
        r for r in run_retention(ws, as_of=date(2026, 12, 1), now=NOW) if r.rule == "reads-settled"
    ]
    after = stored()
    assert len(receipts) == 1 and receipts[0].deleted == len(before) - len(after) > 0
    assert {p for p, _ in after} == kept  # only vehicles still owing or in review remain
    assert kept_reads <= {r for _, r in after}  # every read behind those liabilities kept


def test_auto_pay_accounts_are_billed_by_month(simulated: Path, tmp_path: Path) -> None:
    import csv

    from ringfence.services.charging import autopay_bills

    ws = Workspace.open(tmp_path / "data")
    import_cameras(ws, simulated / "cameras.csv")
    ingest_file(ws, simulated / f"reads-{DAY}.parquet", now=NOW)
    import_register_file(ws, "vehicles", simulated / "vehicles.parquet")
    first = run_stored(ws, DAY, now=NOW)
    keys = ws.keys.keys(first.key_epoch)
    import pyarrow.parquet as pq

    vrms = pq.read_table(simulated / "vehicles.parquet", columns=["vrm"]).column(0).to_pylist()
    by_pseudonym = dict(zip(keys.pseudonymise(vrms), vrms, strict=True))
    with ws.state.session() as s:
        owing = s.execute(
            select(LiabilityRow.vrm_pseudonym, LiabilityRow.amount_pence)
            .where(LiabilityRow.status == "unpaid")
            .order_by(LiabilityRow.id)
            .limit(3)
        ).all()
    accounts = tmp_path / "autopay.csv"
    with open(accounts, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "kind", "vrm", "valid_from", "valid_to"])
        w.writerows(["A-7", "personal", by_pseudonym[p], "2026-01-01", ""] for p, _ in owing)
    import_register_file(ws, "autopay", accounts)
    second = run_stored(ws, DAY, now=NOW)
    assert second.by_status["unpaid"] == first.by_status["unpaid"] - len(owing)
    (bill,) = autopay_bills(ws, "2026-11")
    assert bill.account_id == "A-7"
    assert bill.amount_pence >= sum(pence for _, pence in owing)
    assert autopay_bills(ws, "2026-10") == []


def test_runs_of_a_day_at_once_take_turns_and_leave_every_liability_its_evidence(
    simulated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    from ringfence.stores.charge_evidence import ChargeEvidence

    # Each run lingers after writing its evidence file: were runs not to take turns, every file
    # would be written before the first run saved and removed the others' files.
    write = ChargeEvidence.write

    def slow_write(self: ChargeEvidence, *args: Any, **kwargs: Any) -> Path:
        path = write(self, *args, **kwargs)
        time.sleep(1)
        return path

    monkeypatch.setattr(ChargeEvidence, "write", slow_write)
    ws = Workspace.open(tmp_path / "data")
    import_cameras(ws, simulated / "cameras.csv")
    ingest_file(ws, simulated / f"reads-{DAY}.parquet", now=NOW)
    import_register_file(ws, "vehicles", simulated / "vehicles.parquet")
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda _: run_stored(ws, DAY, now=NOW), range(3)))
    with ws.state.session() as s:
        rows = s.scalars(select(LiabilityRow)).all()
    # the last run to save decided every row, and its file is the one left
    (last,) = {r.run_id for r in rows}
    assert last in {r.run_id for r in runs}
    assert [p.stem for p in (ws.data_dir / "charges" / DAY.isoformat()).iterdir()] == [last]
    ids = ws.charge_evidence.of_liabilities(rows)
    assert rows and all(ids[r.id] for r in rows)


def test_a_run_that_fails_after_saving_its_rows_leaves_the_day_as_it_was(
    simulated: Path, tmp_path: Path, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringfence.stores.charge_evidence import ChargeEvidence

    ws = Workspace.open(tmp_path / "data", state_url=state_url)
    import_cameras(ws, simulated / "cameras.csv")
    ingest_file(ws, simulated / f"reads-{DAY}.parquet", now=NOW)
    import_register_file(ws, "vehicles", simulated / "vehicles.parquet")
    first = run_stored(ws, DAY, now=NOW)

    # A run saves its rows while DuckDB gathers their reads; the evidence file comes after.
    def full_disk(*_: Any, **__: Any) -> Path:
        raise OSError("No space left on device")

    monkeypatch.setattr(ChargeEvidence, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        run_stored(ws, DAY, now=NOW)
    with ws.state.session() as s:
        rows = s.scalars(select(LiabilityRow)).all()
    assert {r.run_id for r in rows} == {first.run_id}
    assert len(rows) == sum(first.by_status.values())
    assert [p.stem for p in (ws.data_dir / "charges" / DAY.isoformat()).iterdir()] == [first.run_id]
