"""The review queue: a person settles what a charge run would not charge on its own."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from ringfence.errors import InputError, StateError
from ringfence.services.cameras import import_cameras
from ringfence.services.charging import import_register_file, run_stored
from ringfence.services.ingest import ingest_file
from ringfence.services.penalties import issue_notices
from ringfence.services.retention import run_retention
from ringfence.services.review import review_liability
from ringfence.stores.state import LiabilityRow
from ringfence.workspace import Workspace
from support import SIMULATED_DAY

DAY = SIMULATED_DAY
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def ws(simulated: Path, tmp_path: Path) -> Workspace:
    w = Workspace.open(tmp_path / "data")
    import_cameras(w, simulated / "cameras.csv")
    ingest_file(w, simulated / f"reads-{DAY}.parquet", now=NOW)
    import_register_file(w, "vehicles", simulated / "vehicles.parquet")
    run_stored(w, DAY, now=NOW)
    return w


def _queue(ws: Workspace) -> list[LiabilityRow]:
    with ws.state.session() as s:
        return list(
            s.scalars(
                select(LiabilityRow)
                .where(LiabilityRow.status == "review")
                .order_by(LiabilityRow.id)
            )
        )


def _registered_review(ws: Workspace) -> LiabilityRow:
    return next(
        r
        for r in _queue(ws)
        if r.rule not in ("match:confusion", "match:unregistered") and r.amount_pence > 0
    )


def test_a_confirmed_charge_becomes_unpaid_and_gets_a_notice_after_the_window(
    ws: Workspace,
) -> None:
    row = _registered_review(ws)
    shown = review_liability(ws, row.id, "charge", by="officer-7", why="plate clear", now=NOW)
    assert shown["status"] == "unpaid"
    with ws.state.session() as s:
        saved = s.get(LiabilityRow, row.id)
        assert saved is not None
        assert (saved.status, saved.reviewed_by, saved.review_note) == (
            "unpaid",
            "officer-7",
            "plate clear",
        )
    issued = issue_notices(ws, DAY, by="enforcement", now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    with ws.state.session() as s:
        saved = s.get(LiabilityRow, row.id)
        assert saved is not None and saved.status == "noticed"
    assert issued


def test_a_dismissed_liability_is_kept_on_re_runs_and_its_reads_are_purged(
    ws: Workspace,
) -> None:
    # a vehicle with nothing else owing that day: once dismissed, its reads are settled ones
    row = next(r for r in _queue(ws) if r.amount_pence > 0 and _owing_elsewhere(ws, r) == 0)
    review_liability(ws, row.id, "dismiss", by="officer-7", why="another car", now=NOW)
    run_stored(ws, DAY, now=NOW)  # a re-run must not send it back to review
    with ws.state.session() as s:
        saved = s.get(LiabilityRow, row.id)
        assert saved is not None and saved.status == "dismissed"
        again = s.scalars(
            select(LiabilityRow).where(
                LiabilityRow.scheme_id == row.scheme_id,
                LiabilityRow.vrm_pseudonym == row.vrm_pseudonym,
            )
        ).all()
        assert [r.id for r in again] == [row.id]  # kept once, not decided again beside it
    # its evidence is the first run's file, which the re-run must keep
    (ids,) = ws.charge_evidence.of_liabilities([row]).values()
    assert ids and row.run_id != _latest_run(ws)
    run_retention(ws, as_of=date(2026, 12, 1), now=NOW)
    files = ws.reads.files(DAY)
    left = duckdb.execute(
        f"SELECT count(*) FROM read_parquet({[str(f) for f in files]}) WHERE read_id IN "
        f"(SELECT unnest(?::VARCHAR[]))",
        [ids],
    ).fetchone()
    assert left == (0,)


def _latest_run(ws: Workspace) -> str:
    with ws.state.session() as s:
        # every row but the reviewed ones was decided (again) by the latest run
        runs = set(s.scalars(select(LiabilityRow.run_id).where(LiabilityRow.reviewed_at.is_(None))))
    assert len(runs) == 1
    return runs.pop()


def _owing_elsewhere(ws: Workspace, row: LiabilityRow) -> int:
    """The vehicle's other unsettled liabilities that day (they keep its reads)."""
    with ws.state.session() as s:
        return len(
            s.scalars(
                select(LiabilityRow.id).where(
                    LiabilityRow.vrm_pseudonym == row.vrm_pseudonym,
                    LiabilityRow.id != row.id,
                    LiabilityRow.status.in_(("unpaid", "review", "noticed")),
                )
            ).all()
        )


def test_a_plate_the_register_does_not_hold_can_only_be_dismissed(ws: Workspace) -> None:
    row = next(r for r in _queue(ws) if r.rule in ("match:confusion", "match:unregistered"))
    with pytest.raises(StateError, match="only be dismissed"):
        review_liability(ws, row.id, "charge", by="officer-7", why="looks right", now=NOW)
    assert (
        review_liability(ws, row.id, "dismiss", by="officer-7", why="misread", now=NOW)["status"]
        == "dismissed"
    )


def test_only_the_queue_is_reviewed_once_with_who_and_why(ws: Workspace) -> None:
    row = _registered_review(ws)
    with pytest.raises(InputError):
        review_liability(ws, row.id, "maybe", by="officer-7", why="?", now=NOW)
    with pytest.raises(InputError):
        review_liability(ws, row.id, "charge", by=" ", why="plate clear", now=NOW)
    review_liability(ws, row.id, "charge", by="officer-7", why="plate clear", now=NOW)
    with pytest.raises(StateError, match="not in review"):
        review_liability(ws, row.id, "dismiss", by="officer-8", why="second look", now=NOW)


def test_the_review_is_audited_without_the_note(ws: Workspace) -> None:
    row = _registered_review(ws)
    review_liability(ws, row.id, "dismiss", by="officer-7", why="clone of AB12CDE", now=NOW)
    entries = [e for e in ws.audit.entries() if e.event == "liability-reviewed"]
    assert len(entries) == 1
    (entry,) = entries
    assert entry.subject == f"liability:{row.id}"
    assert entry.attrs == {"outcome": "dismiss", "rule": row.rule, "scheme": row.scheme_id}
    assert "AB12CDE" not in json.dumps([entry.why, entry.attrs, entry.subject])


def test_the_queue_is_listed_and_settled_from_the_command_line(ws: Workspace) -> None:
    from typer.testing import CliRunner

    from ringfence.cli.main import app

    runner = CliRunner()
    data = ["--data-dir", str(ws.data_dir), "--json"]
    listed = runner.invoke(
        app, ["charge", "liabilities", "--day", str(DAY), "--status", "review", *data]
    )
    assert listed.exit_code == 0, listed.output
    first = json.loads(listed.stdout)[0]
    review = ["charge", "review", str(first["id"]), "--by", "o7", "--why", "x", *data]
    settled = runner.invoke(app, [*review, "--outcome", "dismiss"])
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.stdout)["status"] == "dismissed"
    again = runner.invoke(app, [*review, "--outcome", "charge"])
    assert again.exit_code != 0 and "not in review" in again.output
