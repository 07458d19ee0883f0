"""Penalty notices persisted and driven: issued from a charged day, then paid, challenged, advanced.

One tiny simulated day is charged once per database (SQLite and PostgreSQL, module-scoped);
tests then work on distinct notices, in file order, with the time-driven advance last.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ringfence.cli.pcn import app as pcn_app
from ringfence.domain.penalties import PCNState, PenaltyError, issue_pcn
from ringfence.errors import NotFoundError, StateError
from ringfence.services import penalties
from ringfence.services.cameras import import_cameras
from ringfence.services.charging import import_register_file, run_stored
from ringfence.services.ingest import ingest_file
from ringfence.simulate import simulate
from ringfence.stores.state import LiabilityRow, PenaltyNoticeRow
from ringfence.workspace import Workspace
from support import state_database

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
DAY = date(2026, 11, 26)  # Thursday; charges payable until 29 November
CHARGED_AT = datetime(2026, 11, 28, 12, tzinfo=UTC)
ISSUE_AT = datetime(2026, 11, 30, 9, tzinfo=UTC)  # Monday: posted 30 Nov, served 2 Dec
WARNING_DAY = date(2023, 9, 12)  # inside the London-wide ULEZ's warning period


@dataclass
class Charged:
    ws: Workspace
    vrms: dict[bytes, str]
    """Pseudonym (the day's epoch) -> the vehicle's real VRM, from the simulator's truth."""
    paid_liability_id: int


def _vrms_by_pseudonym(ws: Workspace, sim: Path, day: date) -> dict[bytes, str]:
    import pyarrow.parquet as pq

    epoch = ws.keys.epoch_for_day(day)
    assert epoch is not None
    vrms = sorted(
        set(pq.read_table(sim / "vehicles.parquet", columns=["vrm"]).column(0).to_pylist())
    )
    keys = ws.keys.keys(epoch.epoch)
    return dict(zip(keys.pseudonymise(vrms), vrms, strict=True))


def _charge(
    tmp: Path, url: str, day: date, now: datetime, *, seed: int = 11
) -> tuple[Workspace, Path]:
    sim = tmp / "sim"
    simulate(sim, day=day, seed=seed, scale="tiny")
    ws = Workspace.open(tmp / "data", state_url=url)
    import_cameras(ws, sim / "cameras.csv")
    ingest_file(ws, sim / f"reads-{day}.parquet", now=now)
    import_register_file(ws, "vehicles", sim / "vehicles.parquet")
    run_stored(ws, day, now=now)
    return ws, sim


@pytest.fixture(scope="module", params=DATABASES)
def charged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Charged]:
    tmp = tmp_path_factory.mktemp(f"pcn-{request.param}")
    with state_database(request, tmp) as url:
        ws, sim = _charge(tmp, url, DAY, CHARGED_AT)
        with ws.state.session() as s:
            paid = s.scalars(
                select(LiabilityRow)
                .where(LiabilityRow.status == "unpaid")
                .order_by(LiabilityRow.id)
                .limit(1)
            ).one()
            paid.status = "paid"  # as if the charge had been paid in time
            paid_id = paid.id
        yield Charged(ws=ws, vrms=_vrms_by_pseudonym(ws, sim, DAY), paid_liability_id=paid_id)
        ws.close()


@pytest.fixture(scope="module")
def issued(charged: Charged) -> penalties.IssueReport:
    return penalties.issue_notices(charged.ws, DAY, now=ISSUE_AT, by="operator:test")


def _notices(ws: Workspace) -> list[PenaltyNoticeRow]:
    with ws.state.session() as s:
        return list(s.scalars(select(PenaltyNoticeRow).order_by(PenaltyNoticeRow.pcn_id)))


def test_issuing_before_the_payment_window_closes_is_refused(charged: Charged) -> None:
    too_early = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # still the 29th in London
    with pytest.raises(StateError, match="from 2026-11-30"):
        penalties.issue_notices(charged.ws, DAY, now=too_early, by="operator:test")
    assert _notices(charged.ws) == []


def test_one_notice_per_unpaid_liability_and_none_for_the_rest(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    with charged.ws.state.session() as s:
        liabilities = s.scalars(select(LiabilityRow).where(LiabilityRow.charge_day == DAY)).all()
        statuses = {r.id: r.status for r in liabilities}
    notices = _notices(charged.ws)
    assert issued.pcns == len(notices) > 0
    assert issued.warnings == 0
    assert issued.unrecoverable == 0
    assert sorted(issued.pcn_ids) == [n.pcn_id for n in notices]
    noticed = {n.liability_id for n in notices}
    assert noticed == {i for i, st in statuses.items() if st == "noticed"}
    assert "unpaid" not in statuses.values()
    assert charged.paid_liability_id not in noticed
    assert {"exempt", "review", "paid"} <= set(statuses.values())
    assert all(n.state == "issued" for n in notices)
    assert all(n.amount_due_pence == n.terms["discount_pence"] > 0 for n in notices)
    assert all(n.issued_on == date(2026, 11, 30) for n in notices)
    assert all(n.served_on == date(2026, 12, 2) for n in notices)


def test_issuing_again_issues_nothing_new(charged: Charged, issued: penalties.IssueReport) -> None:
    again = penalties.issue_notices(
        charged.ws, DAY, now=ISSUE_AT + timedelta(hours=1), by="operator:test"
    )
    assert (again.pcns, again.warnings, again.pcn_ids) == (0, 0, [])
    assert len(_notices(charged.ws)) == issued.pcns


def test_the_clear_vrm_is_the_vehicles_and_the_evidence_its_liabilitys_reads(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    with charged.ws.state.session() as s:
        liabilities = {r.id: r for r in s.scalars(select(LiabilityRow))}
    read_ids = charged.ws.charge_evidence.of_liabilities(liabilities.values())
    for notice in _notices(charged.ws):
        assert notice.liability_id is not None
        liability = liabilities[notice.liability_id]
        assert notice.vrm_pseudonym == liability.vrm_pseudonym
        assert notice.vrm == charged.vrms[liability.vrm_pseudonym]
        assert notice.keeper_ref == f"keeper:{liability.vrm_pseudonym.hex()[:12]}"
        evidence = notice.evidence
        reads = evidence["reads"]
        assert isinstance(reads, list)
        assert reads and sorted(r["read_id"] for r in reads) == sorted(read_ids[liability.id])
        assert evidence["missing_read_ids"] == []
        assert all(
            set(r) == {"read_id", "camera_id", "captured_at", "image_ref"}
            and datetime.fromisoformat(r["captured_at"]).astimezone(UTC).date()
            in (DAY, DAY - timedelta(days=1))
            for r in reads
        )
        assert evidence["rule"] == liability.rule
        assert evidence["reason"] == liability.reason
        assert str(evidence["scheme_version_id"]).startswith(notice.scheme_id)


def test_a_stored_notice_round_trips_to_the_domain_pcn(charged: Charged) -> None:
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    pcn = issue_pcn(
        pcn_id="RT-1",
        vrm="AB12 CDE",
        scheme_id="ulez",
        charge_day=DAY,
        charge_payable_until=date(2026, 11, 29),
        keeper_ref="keeper:abc",
        issued_on=date(2026, 11, 30),
        at=at,
        by="operator:test",
        evidence_ref="evidence:RT-1",
    )
    from ringfence.domain.penalties import make_representation, reject_representation

    pcn = make_representation(pcn, "d", "stolen", at + timedelta(days=3), "keeper")
    pcn = reject_representation(pcn, at + timedelta(days=5), "operator:test", "no crime ref")
    row = penalties.pcn_to_row(
        pcn,
        PenaltyNoticeRow(
            key_epoch=0,
            vrm_pseudonym=b"\0" * 16,
            evidence={},
            created_at=at,
            updated_at=at,
        ),
    )
    assert penalties.pcn_from_row(row) == pcn
    # and through the database, JSON and all
    with charged.ws.state.session() as s:
        s.add(row)
    with charged.ws.state.session() as s:
        stored = s.get(PenaltyNoticeRow, "RT-1")
        assert stored is not None
        assert penalties.pcn_from_row(stored) == pcn
        s.delete(stored)


def _ids(issued: penalties.IssueReport) -> list[str]:
    assert len(issued.pcn_ids) >= 4, "the tiny day should give a few unpaid liabilities"
    return sorted(issued.pcn_ids)


def test_paying_the_discount_within_14_days_of_service_settles(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    pcn_id = _ids(issued)[0]
    at = datetime(2026, 12, 16, 15, tzinfo=UTC)  # served 2 Dec: discount until 16 Dec
    with pytest.raises(PenaltyError, match="part payment"):
        penalties.pay(charged.ws, pcn_id, 8999, at, "keeper")
    paid = penalties.pay(charged.ws, pcn_id, 9000, at, "keeper")
    assert paid.state is PCNState.PAID
    shown = penalties.show(charged.ws, pcn_id, date(2026, 12, 17))
    assert shown["state"] == "paid" and shown["amount_due_pence"] == 0
    history = shown["history"]
    assert isinstance(history, list)
    assert [e["action"] for e in history] == ["pcn-issued", "payment-received"]
    with pytest.raises(PenaltyError, match="final"):
        penalties.pay(charged.ws, pcn_id, 9000, at + timedelta(days=1), "keeper")


def test_after_the_discount_the_full_amount_is_due(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    pcn_id = _ids(issued)[1]
    shown = penalties.show(charged.ws, pcn_id, date(2026, 12, 17))
    assert shown["amount_due_pence"] == 18000
    deadlines = shown["deadlines"]
    assert isinstance(deadlines, dict)
    assert deadlines["certificate_on"] == "2026-12-31"
    assert "discount_until" not in deadlines


def test_representation_rejection_and_appeal(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    ws, pcn_id = charged.ws, _ids(issued)[2]
    t0 = datetime(2026, 12, 4, 10, tzinfo=UTC)
    with pytest.raises(PenaltyError, match="appeal"):
        penalties.appeal(ws, pcn_id, t0, "keeper")  # no rejection yet
    with pytest.raises(PenaltyError, match="not a statutory ground"):
        penalties.represent(ws, pcn_id, "z", "no", t0, "keeper")
    pcn = penalties.represent(ws, pcn_id, "c", "I was not in the zone", t0, "keeper")
    assert pcn.state is PCNState.REPRESENTATION_RECEIVED
    pcn = penalties.decide_representation(
        ws, pcn_id, False, "camera evidence is clear", t0 + timedelta(days=7), "operator:test"
    )
    assert pcn.state is PCNState.REJECTED
    with pytest.raises(PenaltyError, match="only a live representation"):
        penalties.decide_representation(
            ws, pcn_id, True, "changed mind", t0 + timedelta(days=8), "operator:test"
        )
    pcn = penalties.appeal(ws, pcn_id, t0 + timedelta(days=10), "keeper", "please reconsider")
    assert pcn.state is PCNState.APPEALED
    pcn = penalties.decide_appeal(ws, pcn_id, False, t0 + timedelta(days=20), "adjudicator")
    assert pcn.state is PCNState.APPEAL_REFUSED
    with pytest.raises(PenaltyError):
        penalties.decide_appeal(ws, pcn_id, True, t0 + timedelta(days=21), "adjudicator")
    # the stored row follows the domain
    with ws.state.session() as s:
        row = s.get(PenaltyNoticeRow, pcn_id)
        assert row is not None
        assert row.state == "appeal_refused" and row.amount_due_pence == 18000
        assert penalties.pcn_from_row(row) == pcn


def test_accepted_representation_cancels(charged: Charged, issued: penalties.IssueReport) -> None:
    pcn_id = _ids(issued)[3]
    at = datetime(2026, 12, 5, 10, tzinfo=UTC)
    penalties.represent(charged.ws, pcn_id, "taken_without_consent", "stolen", at, "keeper")
    pcn = penalties.decide_representation(
        charged.ws, pcn_id, True, "crime reference checked", at + timedelta(days=1), "op"
    )
    assert pcn.state is PCNState.CANCELLED
    assert penalties.list_notices(charged.ws, state="cancelled")[0]["pcn_id"] == pcn_id


def test_unknown_notice_is_not_found(charged: Charged) -> None:
    with pytest.raises(NotFoundError):
        penalties.show(charged.ws, "NOPE")


def test_cli_show_pay_and_errors_exit_2(charged: Charged, issued: penalties.IssueReport) -> None:
    runner = CliRunner()
    data = str(charged.ws.data_dir)
    env = {"RINGFENCE_STATE_URL": charged.ws.settings.state_url}
    pcn_id = _ids(issued)[1]
    shown = runner.invoke(
        pcn_app, ["show", pcn_id, "--on", "2026-12-10", "--json", "--data-dir", data], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["amount_due_pence"] == 9000
    listed = runner.invoke(
        pcn_app, ["list", "--state", "issued", "--json", "--data-dir", data], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert pcn_id in {r["pcn_id"] for r in json.loads(listed.stdout)}
    bad = runner.invoke(
        pcn_app,
        [
            "appeal",
            pcn_id,
            "--by",
            "keeper",
            "--at",
            "2026-12-10T10:00:00+00:00",
            "--data-dir",
            data,
        ],
        env=env,
    )
    assert bad.exit_code == 2
    assert "refused" in bad.output


def test_advance_all_moves_unpaid_notices_to_charge_certificate(
    charged: Charged, issued: penalties.IssueReport
) -> None:
    ids = _ids(issued)
    unpaid = ids[1]  # issued, never paid: served 2 Dec, certificate due 31 Dec
    before = penalties.advance_all(charged.ws, date(2026, 12, 30))
    assert unpaid not in before.moved
    report = penalties.advance_all(charged.ws, date(2026, 12, 31))
    assert report.moved[unpaid] == "charge_certificate"
    assert ids[0] not in report.moved and ids[3] not in report.moved  # paid, cancelled
    shown = penalties.show(charged.ws, unpaid, date(2026, 12, 31))
    assert shown["state"] == "charge_certificate" and shown["amount_due_pence"] == 27000
    assert penalties.advance_all(charged.ws, date(2026, 12, 31)).moved == {}  # idempotent


@pytest.fixture(scope="module", params=DATABASES)
def warning_day(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp(f"warn-{request.param}")
    with state_database(request, tmp) as url:
        ws, _ = _charge(tmp, url, WARNING_DAY, datetime(2023, 9, 14, 12, tzinfo=UTC))
        yield ws
        ws.close()


def test_warning_notices_in_a_warning_period(warning_day: Workspace) -> None:
    report = penalties.issue_notices(
        warning_day, WARNING_DAY, now=datetime(2023, 9, 18, 9, tzinfo=UTC), by="operator:test"
    )
    notices = _notices(warning_day)
    ulez = [n for n in notices if n.scheme_id == "ulez"]
    others = [n for n in notices if n.scheme_id != "ulez"]
    assert ulez and all(n.state == "warning_issued" and n.amount_due_pence == 0 for n in ulez)
    assert all(n.state == "issued" for n in others)
    assert report.warnings == len(ulez) and report.pcns == len(others)
    with pytest.raises(PenaltyError, match="final"):
        penalties.pay(warning_day, ulez[0].pcn_id, 9000, datetime(2023, 9, 19, tzinfo=UTC), "k")


def test_rerunning_a_charged_day_keeps_noticed_liabilities(tmp_path: Path) -> None:
    ws, _ = _charge(tmp_path, f"sqlite:///{tmp_path / 'state.sqlite'}", DAY, CHARGED_AT)
    report = penalties.issue_notices(ws, DAY, now=ISSUE_AT, by="operator:test")
    noticed_before = [n.liability_id for n in _notices(ws)]
    assert noticed_before and None not in noticed_before
    with ws.state.session() as s:
        total_before = len(s.scalars(select(LiabilityRow)).all())
    run_stored(ws, DAY, now=ISSUE_AT)  # the day is charged again
    assert [n.liability_id for n in _notices(ws)] == noticed_before  # still linked
    with ws.state.session() as s:
        rows = s.scalars(select(LiabilityRow)).all()
        assert len(rows) == total_before  # nothing doubled
        linked = {r.id: r.status for r in rows if r.id in noticed_before}
    assert set(linked.values()) == {"noticed"}
    again = penalties.issue_notices(ws, DAY, now=ISSUE_AT, by="operator:test")
    assert again.pcns + again.warnings == 0 and report.pcns > 0
    ws.close()


def test_an_evidence_pack_lists_its_reads_in_time_order_and_names_the_missing() -> None:
    # A run's evidence file lists each liability's reads as a set, here against time order.
    reads = {
        "a": {"read_id": "a", "captured_at": "2026-11-26T09:00:00.500000+00:00"},
        "b": {"read_id": "b", "captured_at": "2026-11-26T08:00:00+00:00"},
        "c": {"read_id": "c", "captured_at": "2026-11-26T09:00:00+00:00"},
    }
    pack = penalties._pack_reads(["a", "gone", "c", "b"], reads)
    assert [r["read_id"] for r in pack["reads"]] == ["b", "c", "a"]
    assert pack["missing_read_ids"] == ["gone"]
