"""Refunds saved by the stored charge run and by PCN overpayments, then issued (service and CLI).

One tiny simulated day per database (SQLite and PostgreSQL, module-scoped); the tests run in
file order on it: charge with payments, issue, re-run with other payments, PCN overpayment, CLI.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ringfence.cli.payments import app as payments_app
from ringfence.errors import StateError
from ringfence.services import penalties
from ringfence.services.cameras import import_cameras
from ringfence.services.charging import ChargeRun, import_register_file, run_stored
from ringfence.services.ingest import ingest_file
from ringfence.services.refunds import issue_refunds, list_refunds
from ringfence.simulate import simulate
from ringfence.stores.state import LiabilityRow, RefundRow
from ringfence.workspace import Workspace
from support import state_database

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
DAY = date(2026, 11, 26)  # Thursday; CC 18.00 on the day, 21.00 late until 29 November
CHARGED_AT = datetime(2026, 11, 28, 12, tzinfo=UTC)
ISSUE_AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
NEVER_SEEN = "AB99XYZ"


@dataclass
class Day:
    ws: Workspace
    tmp: Path
    overpaid: str
    """A vehicle with an unpaid CC charge, made to pay 21.00 on the day (3.00 too much)."""


def _vehicles_with_one_never_seen(sim: Path) -> Path:
    vehicles = pq.read_table(sim / "vehicles.parquet")
    assert NEVER_SEEN not in set(vehicles.column("vrm").to_pylist())
    extra = vehicles.slice(0, 1).to_pylist()[0] | {"vrm": NEVER_SEEN}
    path = sim / "vehicles-plus.parquet"
    pq.write_table(
        pa.concat_tables([vehicles, pa.Table.from_pylist([extra], vehicles.schema)]), path
    )
    return path


def _unpaid_cc_vrm(ws: Workspace, sim: Path) -> str:
    epoch = ws.keys.epoch_for_day(DAY)
    assert epoch is not None
    vrms = pq.read_table(sim / "vehicles.parquet", columns=["vrm"]).column(0).to_pylist()
    by_pseudonym = dict(zip(ws.keys.keys(epoch.epoch).pseudonymise(vrms), vrms, strict=True))
    with ws.state.session() as s:
        unpaid = s.scalars(
            select(LiabilityRow.vrm_pseudonym)
            .where(LiabilityRow.scheme_id == "ccz", LiabilityRow.status == "unpaid")
            .order_by(LiabilityRow.id)
        ).all()
    return by_pseudonym[unpaid[0]]


def pay(day: Day, rows: list[tuple[str, str]]) -> None:
    """Replace the payments file: (vrm, amount in pounds), CC, paid on the charge day."""
    path = day.tmp / f"payments-{uuid.uuid4().hex[:6]}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["vrm", "scheme", "charge_day", "amount", "paid_at"])
        w.writerows(
            [vrm, "ccz", DAY.isoformat(), amount, f"{DAY}T09:00:00Z"] for vrm, amount in rows
        )
    import_register_file(day.ws, "payments", path)


@pytest.fixture(scope="module", params=DATABASES)
def day(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp(f"refunds-{request.param}")
    sim = tmp / "sim"
    simulate(sim, day=DAY, seed=11, scale="tiny")
    with state_database(request, tmp) as url:
        ws = Workspace.open(tmp / "data", state_url=url)
        import_cameras(ws, sim / "cameras.csv")
        ingest_file(ws, sim / f"reads-{DAY}.parquet", now=CHARGED_AT)
        import_register_file(ws, "vehicles", _vehicles_with_one_never_seen(sim))
        run_stored(ws, DAY, now=CHARGED_AT)
        yield Day(ws=ws, tmp=tmp, overpaid=_unpaid_cc_vrm(ws, sim))
        ws.close()


def _refunds(ws: Workspace, **where: object) -> dict[str | None, dict[str, object]]:
    return {str(r["vrm"]): r for r in list_refunds(ws, day=DAY, **where)}  # type: ignore[arg-type]


def test_the_charge_run_saves_refunds_due_with_the_payers_plate(day: Day) -> None:
    pay(day, [(day.overpaid, "21.00"), (NEVER_SEEN, "18.00")])
    run = run_stored(day.ws, DAY, now=CHARGED_AT)
    assert (run.refunds, run.refunds_pence) == (2, 300 + 1800)
    assert (run.refunds_due, run.refunds_due_pence, run.refunds_issued_not_due) == (2, 2100, [])
    due = _refunds(day.ws, status="due")
    assert set(due) == {day.overpaid, NEVER_SEEN}
    over = due[day.overpaid]
    assert (over["paid_pence"], over["due_pence"], over["refund_pence"]) == (2100, 1800, 300)
    assert over["reason"] == "paid 2100p; owed 1800p (paid on time)"
    assert (over["source"], over["status"], over["run_id"]) == ("charge", "due", run.run_id)
    unseen = due[NEVER_SEEN]
    assert unseen["refund_pence"] == 1800
    assert unseen["reason"] == "paid 1800p; not seen under ccz in charging hours"
    events = [e for e in day.ws.audit.entries() if e.event == "refunds-due"]
    assert events[-1].counts == {"due": 2, "due_pence": 2100, "issued_not_due": 0}


def test_a_rerun_replaces_due_refunds_rather_than_adding_to_them(day: Day) -> None:
    before = _refunds(day.ws)
    run_stored(day.ws, DAY, now=CHARGED_AT)
    after = _refunds(day.ws)
    assert {v: r["id"] for v, r in after.items()} == {v: r["id"] for v, r in before.items()}
    pay(day, [(NEVER_SEEN, "18.00")])
    run_stored(day.ws, DAY, now=CHARGED_AT)
    assert set(_refunds(day.ws)) == {NEVER_SEEN}  # the overpayment is gone from the file
    pay(day, [(day.overpaid, "21.00"), (NEVER_SEEN, "18.00")])
    run_stored(day.ws, DAY, now=CHARGED_AT)
    again = _refunds(day.ws)
    assert set(again) == set(before) and {r["status"] for r in again.values()} == {"due"}
    assert int(str(again[day.overpaid]["id"])) > int(str(before[day.overpaid]["id"]))


def test_issuing_marks_who_and_when_and_audits_without_the_plate(day: Day) -> None:
    due = _refunds(day.ws, status="due")
    chosen = int(str(due[day.overpaid]["id"]))
    with pytest.raises(StateError, match="not due refunds"):
        issue_refunds(day.ws, DAY, by="finance:1", now=ISSUE_AT, ids=[chosen, 999_999])
    assert _refunds(day.ws, status="issued") == {}  # nothing half-issued
    done = issue_refunds(day.ws, DAY, by="finance:1", now=ISSUE_AT, ids=[chosen])
    assert (done.issued, done.issued_pence, done.ids) == (1, 300, [chosen])
    issued = _refunds(day.ws, status="issued")[day.overpaid]
    assert issued["issued_by"] == "finance:1"
    assert issued["issued_at"] == ISSUE_AT.isoformat()
    (event,) = [e for e in day.ws.audit.entries() if e.event == "refund-issued"]
    assert event.subject == f"refund:{chosen}"
    assert event.counts == {"refund_pence": 300}
    log = (day.ws.data_dir / "audit" / "log.jsonl").read_text()
    assert day.overpaid not in log and NEVER_SEEN not in log


def test_a_rerun_keeps_issued_refunds_and_does_not_refund_them_twice(day: Day) -> None:
    again: ChargeRun = run_stored(day.ws, DAY, now=CHARGED_AT)
    assert (again.refunds, again.refunds_due, again.refunds_due_pence) == (2, 1, 1800)
    assert set(_refunds(day.ws, status="due")) == {NEVER_SEEN}
    assert set(_refunds(day.ws, status="issued")) == {day.overpaid}


def test_a_rerun_that_no_longer_finds_an_issued_refund_due_keeps_and_reports_it(
    day: Day,
) -> None:
    issued_id = _refunds(day.ws, status="issued")[day.overpaid]["id"]
    pay(day, [(day.overpaid, "18.00"), (NEVER_SEEN, "18.00")])
    run = run_stored(day.ws, DAY, now=CHARGED_AT)
    assert run.refunds_issued_not_due == [issued_id]
    assert set(_refunds(day.ws, status="issued")) == {day.overpaid}
    event = [e for e in day.ws.audit.entries() if e.event == "refunds-due"][-1]
    assert event.counts["issued_not_due"] == 1 and str(issued_id) in event.why


def test_a_pcn_overpayment_creates_a_refund(day: Day) -> None:
    report = penalties.issue_notices(day.ws, DAY, now=ISSUE_AT, by="operator:test")
    pcn_id = sorted(report.pcn_ids)[0]
    at = datetime(2026, 12, 10, 15, tzinfo=UTC)
    due = penalties.show(day.ws, pcn_id, date(2026, 12, 10))["amount_due_pence"]
    assert isinstance(due, int)
    penalties.pay(day.ws, pcn_id, due + 500, at, "keeper")
    with day.ws.state.session() as s:
        refund = s.scalars(select(RefundRow).where(RefundRow.payment_ref == pcn_id)).one()
        notice_vrm = penalties.show(day.ws, pcn_id, date(2026, 12, 11))["vrm"]
    assert (refund.source, refund.status, refund.charge_day) == ("pcn", "due", DAY)
    assert (refund.paid_pence, refund.due_pence, refund.refund_pence) == (due + 500, due, 500)
    assert refund.reason == f"PCN {pcn_id} overpaid by 500 pence"
    assert refund.vrm == notice_vrm
    # a charge re-run replaces charge refunds only
    run_stored(day.ws, DAY, now=CHARGED_AT)
    assert pcn_id in {r["payment_ref"] for r in list_refunds(day.ws, day=DAY, status="due")}


def test_cli_lists_and_issues_refunds(day: Day) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(day.ws.data_dir)]
    env = {"RINGFENCE_STATE_URL": day.ws.settings.state_url}
    listed = runner.invoke(
        payments_app, ["refunds", "--day", str(DAY), "--status", "due", "--json", *data], env=env
    )
    assert listed.exit_code == 0, listed.output
    due = json.loads(listed.stdout)
    assert len(due) >= 2 and {r["status"] for r in due} == {"due"}
    shown = runner.invoke(payments_app, ["refunds", "--day", str(DAY), *data], env=env)
    assert shown.exit_code == 0 and "Refunds for" in shown.output
    issued = runner.invoke(
        payments_app,
        ["refund-issue", "--day", str(DAY), "--by", "finance:2", "--json", *data],
        env=env,
    )
    assert issued.exit_code == 0, issued.output
    result = json.loads(issued.stdout)
    assert result["issued"] == len(due)
    assert result["issued_pence"] == sum(r["refund_pence"] for r in due)
    assert list_refunds(day.ws, day=DAY, status="due") == []
    bad = runner.invoke(
        payments_app,
        ["refund-issue", "--day", str(DAY), "--by", "x", "--id", "424242", *data],
        env=env,
    )
    assert bad.exit_code == 2 and "not due refunds" in bad.output
    wrong = runner.invoke(payments_app, ["refunds", "--status", "paid", *data], env=env)
    assert wrong.exit_code == 2
