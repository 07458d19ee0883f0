"""The demo runs the whole system end to end, and never touches data it did not create."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringfence.errors import ConfigError
from ringfence.services.demo import MARKER, run_demo


def test_demo_end_to_end_at_tiny_scale(tmp_path: Path) -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    result = run_demo(tmp_path / "demo", now=now, scale="tiny", seed=5)
    assert result.ingest.reconciles and result.ingest.stored > 10_000
    assert result.store.reads == result.ingest.stored
    assert result.reads_by_borough and result.lookup is not None and result.lookup.reads > 0
    before, after = result.charged_before_payments, result.charge
    assert before.by_status.get("unpaid", 0) > after.by_status.get("unpaid", 0) > 0
    assert after.by_status.get("paid", 0) > 0
    assert after.amount_due_pence < before.amount_due_pence
    assert sum(after.review_by_rule.values()) == after.by_status.get("review", 0) > 0
    assert after.register_contradictions == after.review_by_rule.get(
        "match:register_contradiction", 0
    )
    assert result.settled_reads_purged > 0
    # demo drivers overpay a few charges and pay for a day or two they did not drive
    assert after.refunds_due == result.refunds.issued > 0
    assert result.refunds.issued_pence == after.refunds_due_pence
    assert result.audit_events.count("refund-issued") == result.refunds.issued
    # every make/type hold is settled by the demo's reviewer; the charges that stand join
    # the unpaid ones in getting a notice
    assert sum(result.reviews.values()) == after.register_contradictions
    assert result.audit_events.count("liability-reviewed") == after.register_contradictions
    assert (
        result.notices.pcns + result.notices.warnings
        == after.by_status["unpaid"] + result.reviews["charge"]
    )
    assert result.audit.ok and result.audit.entries == len(result.audit_events)
    assert {"reads-ingested", "charge-run", "vault-recovered", "reads-deleted"} <= set(
        result.audit_events
    )
    police = result.police
    assert police.requests["London-wide network"] == "refused"
    assert {"condition:dpia_approved", "condition:mayoral_direction"} <= set(
        police.refusals["London-wide network"]
    )
    assert police.refusals["data 200 days old, inspector"] == ["age:rank_too_low"]
    assert police.releases >= 1 and police.reads_released > 0
    assert sum(police.hits.values()) == result.audit_events.count("hotlist-hit") > 0
    assert police.hits["misread"] >= 1 and police.misread_caught
    assert {"hotlist-entry-added", "hotlist-hit-reviewed", "release-issued", "subject-access"} <= (
        set(result.audit_events)
    )
    index = result.reports.read_text()
    for name in ("equality.html", "unicity.html", "dpia-evidence-london_wide_sharing.html"):
        assert f"href='{name}'" in index and (result.reports.parent / name).exists()
    assert "href='transparency/public/" in index and "href='transparency/internal/" in index
    assert "dp-release" in result.audit_events
    # a second run starts afresh in its own directory
    again = run_demo(tmp_path / "demo", now=now, scale="tiny", seed=5)
    assert again.ingest.stored == result.ingest.stored


def test_demo_refuses_a_directory_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "real-data"
    precious.mkdir()
    (precious / "state.sqlite").write_text("operator's data")
    with pytest.raises(ConfigError, match="did not create"):
        run_demo(precious, now=datetime.now(UTC), scale="tiny")
    assert (precious / "state.sqlite").read_text() == "operator's data"
    assert not (precious / MARKER).exists()
