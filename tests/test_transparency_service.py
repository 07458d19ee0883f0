"""The transparency report on a real workspace: driven by real audit events, files, budget, CLI.

Reads are ingested and purged through the real services, so their audit entries are the ones
the report counts; police and hotlist events (the lead's, in parallel) are appended to the
workspace's audit log with the agreed attrs.
"""

from __future__ import annotations

import csv
import json
import stat
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import ringfence.services.transparency as service
from ringfence.cli.transparency import transparency_command
from ringfence.oversight.privacy import BudgetExceededError, Noise
from ringfence.services.charging import import_register_file
from ringfence.services.ingest import ingest_file
from ringfence.services.retention import run_retention
from ringfence.stores.state import LiabilityRow, PenaltyNoticeRow, RefundRow
from ringfence.workspace import Workspace
from support import write_reads

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 11, 30)
DAY1, DAY2 = "2026-11-20", "2026-11-27"
MET = "metropolitan_police"
PROTECTED_EXAMPLE = "requests_by_borough"


def _ingest(ws: Workspace, tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {
            "read_id": f"{day}-{i}",
            "camera_id": camera,
            "captured_at": f"{day}T0{i + 1}:00:00Z",
            "plate": vrm,
            "confidence": 0.9,
        }
        for day in (DAY1, DAY2)
        for i, (vrm, camera) in enumerate([("AB12CDE", "C1"), ("LX73ABC", "C1"), ("M123ABC", "C2")])
    ]
    rows.append({"camera_id": "C9", "captured_at": f"{DAY2}T01:00:00Z", "plate": "AB12CDE"})
    ingest_file(ws, write_reads(tmp_path / "r.csv", rows), now=NOW)


def _police(ws: Workspace) -> None:
    """Two requests in the City of London (E09000001) and one refusal, as the lead records them."""
    at = NOW
    for kind in ("vehicle_history", "location"):
        ws.audit.append(
            "request-submitted",
            actor="test",
            at=at,
            subject=f"REQ-{kind}",
            why="t",
            attrs={
                "kind": kind,
                "purpose": "law_enforcement:serious_crime",
                "legal_basis": "DPA2018_Part3",
                "force": MET,
                "seriousness": "serious",
                "networks": "cc_lez_2015",
                "borough": "E09000001",
            },
        )
    ws.audit.append(
        "request-decided",
        actor="test",
        at=at,
        subject="REQ-location",
        why="t",
        attrs={
            "step": "review",
            "outcome": "refused",
            "kind": "location",
            "purpose": "law_enforcement:serious_crime",
            "legal_basis": "DPA2018_Part3",
            "force": MET,
            "reasons": "instrument:purpose",
        },
    )


class _Frozen(datetime):
    """The workspace's clock, fixed at NOW, so audit entries land in the report's period
    whatever day the tests run."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Frozen:
        return cls.fromtimestamp(NOW.timestamp(), tz)


@pytest.fixture
def busy(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setattr("ringfence.workspace.datetime", _Frozen)
    _ingest(ws, tmp_path)
    run_retention(ws, as_of=date.fromisoformat(DAY1) + timedelta(days=36), now=NOW)
    _police(ws)
    with ws.state.session() as s:
        s.add_all(
            LiabilityRow(
                run_id="run",
                charge_day=date(2026, 11, 20),
                scheme_id="ccz",
                key_epoch=1,
                vrm_pseudonym=bytes([i]) * 16,
                amount_pence=1500,
                status=status,
                rule="r",
                reason="r",
                reads=1,
                read_ids=["x"],
                decided_at=NOW,
            )
            for i, status in enumerate(["unpaid", "unpaid", "paid"])
        )
        s.add(_notice())
        s.add_all(_refund(status, issued_at) for status, issued_at in _REFUNDS)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "vrm,scheme,charge_day,amount,paid_at\n"
        "AB12CDE,ccz,2026-11-20,15.00,2026-11-20T10:00:00Z\n"
        "LX73ABC,ccz,2026-11-20,15.00,2026-11-21T10:00:00Z\n"
        "M123ABC,ulez,2026-10-20,12.50,2026-10-20T10:00:00Z\n"  # paid before the period
    )
    import_register_file(ws, "payments", payments)
    return ws


_REFUNDS = [
    ("issued", NOW),
    ("issued", datetime(2026, 10, 20, 9, tzinfo=UTC)),  # issued before the period
    ("due", None),  # not paid out yet
]


def _refund(status: str, issued_at: datetime | None) -> RefundRow:
    return RefundRow(
        source="charge",
        charge_day=date(2026, 11, 20),
        scheme_id="ccz",
        key_epoch=1,
        vrm_pseudonym=bytes(16),
        vrm="AB12CDE",
        paid_pence=1800,
        due_pence=1500,
        refund_pence=300,
        reason="paid 1800p; owed 1500p (paid on time)",
        status=status,
        decided_at=NOW,
        issued_at=issued_at,
        issued_by="finance" if issued_at else None,
    )


def _event(action: str, state: str, at: str, **extra: object) -> dict[str, object]:
    return {
        "action": action,
        "state": state,
        "at": at,
        "by": "x",
        "why": "x",
        "amount_due_pence": 0,
        "paid_pence": 0,
        "ground": None,
        **extra,
    }


def _notice() -> PenaltyNoticeRow:
    """A notice issued in October, represented against and cancelled on appeal in November."""
    history = [
        _event("pcn-issued", "issued", "2026-10-30T09:00:00+00:00"),
        _event(
            "representation-received",
            "representation_received",
            "2026-11-03T09:00:00+00:00",
            ground="charge_paid",
        ),
        _event("representation-rejected", "rejected", "2026-11-10T09:00:00+00:00"),
        _event("appeal-lodged", "appealed", "2026-11-12T09:00:00+00:00"),
        _event("appeal-allowed", "cancelled", "2026-11-26T09:00:00+00:00"),
    ]
    return PenaltyNoticeRow(
        pcn_id="PCN-1",
        charge_day=date(2026, 10, 29),
        scheme_id="ccz",
        key_epoch=1,
        vrm_pseudonym=bytes(16),
        vrm="AB12CDE",
        keeper_ref="K1",
        state="cancelled",
        amount_due_pence=0,
        issued_on=date(2026, 10, 30),
        served_on=date(2026, 11, 1),
        terms={},
        history=history,
        evidence_ref="E1",
        evidence={},
        created_at=NOW,
        updated_at=NOW,
    )


def test_internal_report_is_exact_and_driven_by_real_audit_events(busy: Workspace) -> None:
    log_before = len(list(busy.audit.entries()))
    # the frozen clock held (the workspace's first-use entry predates the freeze)
    assert {e.at for e in busy.audit.entries() if e.event != "configuration-changed"} == {NOW}
    report = service.build_report(busy, start=START, end=END, public=False, now=NOW)
    # Ingest: 7 rows received, 6 stored, the C9 row quarantined (unknown camera).
    ingested = report.table("reads_ingested")
    assert (ingested.value("received"), ingested.value("stored")) == (7, 6)
    assert ingested.value("quarantined") == 1
    # Retention deleted DAY1's three reads under reads-charging, and said so in the log.
    purged = report.table("records_purged")
    assert purged.value("reads-deleted", "reads-charging", "charging", "deleted") == 3
    # The read store now holds DAY2 only: two reads on C1's network, one on C2's.
    assert dict(report.table("reads_held").rows) == {
        ("cc_lez_2015", DAY2): 2,
        ("ulez_inner_2021", DAY2): 1,
    }
    assert report.table(PROTECTED_EXAMPLE).rows == ((("E09000001",), 2),)
    assert report.table(PROTECTED_EXAMPLE).method == "exact"
    assert report.table("refusal_reasons").value("instrument:purpose") == 1
    charges = report.table("charges")
    assert charges.value("ccz", "unpaid", "events") == 2
    assert charges.value("ccz", "unpaid", "amount_pence") == 3000
    assert charges.source == "state database"
    # Payments by the instant paid: the October one is outside the period.
    payments = report.table("payments")
    assert dict(payments.rows) == {("ccz", "events"): 2, ("ccz", "amount_pence"): 3000}
    # Refunds by the instant issued: the October one is outside the period, the due one unpaid.
    refunds = report.table("refunds")
    assert dict(refunds.rows) == {("ccz", "events"): 1, ("ccz", "amount_pence"): 300}
    # Notice events by when they happened: the October issue is outside the period.
    assert dict(report.table("penalty_notices").rows) == {
        ("representation-received",): 1,
        ("representation-rejected",): 1,
        ("appeal-lodged",): 1,
        ("appeal-allowed",): 1,
    }
    assert dict(report.table("representations").rows) == {("charge_paid",): 1}
    # The internal report spends no budget and records no release.
    assert report.epsilon == 0
    assert len(list(busy.audit.entries())) == log_before


def test_internal_files_are_owner_only_and_equal_the_exact_counts(
    busy: Workspace,
) -> None:
    report = service.build_report(busy, start=START, end=END, public=False, now=NOW)
    paths = service.write_report(busy, report)
    assert set(paths) == {"json", "csv", "html"}
    for path in paths.values():
        assert path.parent == busy.data_dir / "reports" / "transparency" / "internal"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.name.startswith(f"{START}_{END}-{report.report_id}")
    doc = json.loads(paths["json"].read_text())
    assert doc["visibility"] == "internal"
    borough = next(t for t in doc["tables"] if t["name"] == PROTECTED_EXAMPLE)
    assert borough["rows"] == [{"group": {"borough": "E09000001"}, "value": 2}]
    csv_lines = paths["csv"].read_text().splitlines()
    assert csv_lines[0] == "table,group,value,method,epsilon"
    assert f"{PROTECTED_EXAMPLE},borough=E09000001,2,exact," in csv_lines
    written = [e for e in busy.audit.entries() if e.event == "transparency-report-written"]
    assert written[-1].subject == report.report_id and written[-1].digest is not None


def test_public_report_publishes_only_noise_on_protected_tables(
    busy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mark every value that went through the mechanism: +100000 cannot be an exact count here.
    def marked(exact: list[int], noise: Noise) -> list[int]:
        return [v + 100_000 for v in exact]

    monkeypatch.setattr(service, "privatise", marked)
    report = service.build_report(busy, start=START, end=END, public=True, now=NOW)
    rules = busy.settings.transparency
    protected = {p.table for p in rules.protected}
    assert protected and protected <= {t.name for t in report.tables}
    for table in report.tables:
        if table.name in protected:
            assert table.method == "noisy" and table.epsilon == rules.rule(table.name).epsilon  # type: ignore[union-attr]
            assert all(v >= 100_000 for _, v in table.rows), table.name
    # Cells are the public domain (every registered borough, zero or not, and `other`), not
    # the boroughs that happen to have requests.
    boroughs = {g[0] for g, _ in report.table(PROTECTED_EXAMPLE).rows}
    assert boroughs == {"E09000001", "E09000004", "E09000007", "E09000021", "other"}
    paths = service.write_report(busy, report)
    assert stat.S_IMODE(paths["json"].stat().st_mode) == 0o644
    rows = list(csv.DictReader(paths["csv"].read_text().splitlines()))
    published = [r for r in rows if r["table"] in protected]
    assert {r["table"] for r in published} == protected
    assert all(r["method"] == "noisy" and int(r["value"]) >= 100_000 for r in published)
    assert all(Decimal(r["epsilon"]) > 0 for r in published)


def test_public_release_is_recorded_and_spends_the_budget_until_refused(
    busy: Workspace,
) -> None:
    rules = busy.settings.transparency
    per_release = sum((p.epsilon for p in rules.protected), Decimal(0))
    first = service.build_report(busy, start=START, end=END, public=True, now=NOW)
    assert first.epsilon == per_release
    releases = [e for e in busy.audit.entries() if e.event == "dp-release"]
    assert len(releases) == 1
    assert releases[0].attrs["epsilon"] == str(per_release)
    assert releases[0].attrs["period"] == f"{START}..{END}"
    assert PROTECTED_EXAMPLE in releases[0].attrs["tables"].split(";")
    assert releases[0].counts["cells"] == sum(
        len(first.table(p.table).rows) for p in rules.protected
    )
    fits = int(rules.budget_epsilon // per_release)
    for _ in range(fits - 1):
        service.build_report(busy, start=START, end=END, public=True, now=NOW)
    log = list(busy.audit.entries())
    files_before = sorted(busy.data_dir.rglob("*"))
    with pytest.raises(BudgetExceededError):
        # One day overlapping is enough to be refused.
        service.build_report(busy, start=END, end=END + timedelta(days=10), public=True, now=NOW)
    assert list(busy.audit.entries()) == log  # nothing recorded
    assert sorted(busy.data_dir.rglob("*")) == files_before  # nothing written
    # A disjoint period still has its whole budget; the internal report is always available.
    december = service.build_report(
        busy, start=END + timedelta(days=1), end=END + timedelta(days=31), public=True, now=NOW
    )
    assert december.budget_used == per_release
    internal = service.build_report(busy, start=START, end=END, public=False, now=NOW)
    assert internal.budget_used == fits * per_release
    assert internal.budget_history[0].release_id == first.report_id


def test_noisy_values_are_kept_not_redrawn(busy: Workspace) -> None:
    report = service.build_report(busy, start=START, end=END, public=True, now=NOW)
    paths = service.write_report(busy, report)
    doc = json.loads(paths["json"].read_text())
    published = next(t for t in doc["tables"] if t["name"] == PROTECTED_EXAMPLE)
    assert [r["value"] for r in published["rows"]] == [
        v for _, v in report.table(PROTECTED_EXAMPLE).rows
    ]
    assert published["method"] == "noisy" and published["accuracy"] > 0
    with pytest.raises(FileExistsError):
        service.write_report(busy, report)  # a published file is never replaced


def test_html_has_an_inline_svg_chart_per_table_and_no_network(busy: Workspace) -> None:
    report = service.build_report(busy, start=START, end=END, public=True, now=NOW)
    html = service.write_report(busy, report)["html"].read_text()
    assert html.count("<svg") >= len([t for t in report.tables if t.rows]) - 1
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<script" not in html
    assert "epsilon" in html and "±" in html


def test_command_writes_the_files_and_reports_the_budget(busy: Workspace, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(transparency_command)
    busy.close()
    out = tmp_path / "published"
    result = CliRunner().invoke(
        app,
        [
            "--from",
            str(START),
            "--to",
            str(END),
            "--public",
            "--out",
            str(out),
            "--data-dir",
            str(busy.data_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["visibility"] == "public"
    assert Path(doc["files"]["html"]).parent == out
    assert Decimal(doc["budget_used"]) == Decimal(doc["epsilon"]) > 0
    # Without --public the report is internal: exact, owner-only, no budget spent.
    internal = CliRunner().invoke(
        app, ["--from", str(START), "--to", str(END), "--data-dir", str(busy.data_dir), "--json"]
    )
    assert internal.exit_code == 0, internal.output
    doc = json.loads(internal.stdout)
    assert (doc["visibility"], doc["epsilon"]) == ("internal", "0")
    assert stat.S_IMODE(Path(doc["files"]["json"]).stat().st_mode) == 0o600
    bad = CliRunner().invoke(
        app, ["--from", str(END), "--to", str(START), "--data-dir", str(busy.data_dir)]
    )
    assert bad.exit_code == 2


def test_checkpoints_signed_in_the_period_are_counted(busy: Workspace, tmp_path: Path) -> None:
    from ringfence.audit import generate_signing_key

    key = tmp_path / "signing.key"
    generate_signing_key(key)
    checkpoint = busy.audit.checkpoint(key, NOW)
    report = service.build_report(busy, start=START, end=END, public=False, now=NOW)
    table = report.table("audit_checkpoints")
    assert (table.value("signed"), table.value("last_seq")) == (1, checkpoint.seq)
    assert report.checkpoints == (
        {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "at": checkpoint.at,
            "key": checkpoint.key,
        },
    )
    # Outside the period: none.
    later = service.build_report(
        busy, start=END + timedelta(days=1), end=END + timedelta(days=2), public=False, now=NOW
    )
    assert later.table("audit_checkpoints").value("signed") == 0


def test_real_police_request_events_are_counted(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Driven by the requests service itself, not by appended entries: one request withdrawn by
    # its officer, one refused at submission (a purpose no instrument knows).
    from ringfence.policy import Officer
    from ringfence.services import requests

    monkeypatch.setattr("ringfence.workspace.datetime", _Frozen)
    _ingest(ws, tmp_path)
    officer = Officer("pc:1001", "constable", MET)

    def submit(purpose: str) -> requests.Outcome:
        return requests.submit(
            ws,
            requester=officer,
            purpose=purpose,
            legal_basis="DPA2018_Part3",
            case_ref="OP-1",
            seriousness="serious",
            necessity="Corroborates a witness account.",
            vrms=["AB12CDE"],
            networks=["cc_lez_2015"],
            data_classes=["vrm_text"],
            window_start=date(2026, 11, 26),
            window_end=date(2026, 11, 27),
            now=NOW,
        )

    kept = submit("law_enforcement:serious_crime")
    requests.withdraw(ws, kept.request_id, by="pc:1001", reason="no longer needed", now=NOW)
    refused = submit("curiosity")
    assert refused.status == "refused" and "purpose:unknown" in refused.failure_codes
    report = service.build_report(ws, start=START, end=END, public=False, now=NOW)
    assert dict(report.table("requests_by_kind").rows) == {("vehicle_history",): 2}
    assert dict(report.table("requests_by_purpose").rows) == {
        ("law_enforcement:serious_crime",): 1,
        ("curiosity",): 1,
    }
    outcomes = dict(report.table("request_outcomes").rows)
    assert outcomes == {("submit", "refused"): 1, ("withdraw", "withdrawn"): 1}
    assert report.table("refusal_reasons").value("purpose:unknown") == 1
    # Published, the unknown purpose is only ever `other`: no cell names it.
    public = service.build_report(ws, start=START, end=END, public=True, now=NOW)
    purposes = {g[0] for g, _ in public.table("requests_by_purpose").rows}
    assert "curiosity" not in purposes and "other" in purposes
