"""Governance changes recorded by operators change every later policy decision, and are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ringfence.errors import ConfigError, InputError
from ringfence.policy import MatchHotlistRead, Officer, PolicyContext, decide
from ringfence.services import governance
from ringfence.workspace import Workspace

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TODAY = date(2026, 11, 28)
SERIOUS = "law_enforcement:serious_crime"
MET = Officer("pc:1", "constable", "metropolitan_police")


def _match(ws: Workspace, network: str, day: date = TODAY) -> frozenset[str]:
    ctx = PolicyContext(governance.current_book(ws), MET, None, "serious", day)  # type: ignore[arg-type]
    action = MatchHotlistRead(network, SERIOUS, "DPA2018_Part3", date(2026, 12, 20))
    return decide(action, ctx).failure_codes


def _dpia(ws: Workspace, version: str = "1.0") -> None:
    governance.record_dpia(
        ws,
        dpia_id="tfl_mps_london_wide",
        version=version,
        networks=["ulez_london_2023"],
        purposes=[SERIOUS],
        status="approved",
        approved_on=date(2026, 11, 1),
        review_on=date(2027, 11, 1),
        equality_impact_ref="EqIA-2026-07",
        by="dpo:1",
        why="DPIA approved by the DPO and the board",
        now=NOW,
    )


def test_london_wide_sharing_needs_both_a_dpia_and_a_direction(ws_any: Workspace) -> None:
    wide = "ulez_london_2023"
    assert _match(ws_any, wide) == {"condition:dpia_approved", "condition:mayoral_direction"}
    _dpia(ws_any)
    assert _match(ws_any, wide) == {"condition:mayoral_direction"}
    governance.record_direction(
        ws_any,
        reference="MD9999",
        issuer="mayor",
        networks=[wide],
        signed_on=date(2026, 11, 20),
        by="dso:1",
        why="Mayoral direction signed",
        now=NOW,
    )
    assert _match(ws_any, wide) == frozenset()
    assert _match(ws_any, wide, date(2026, 11, 19)) == {"condition:mayoral_direction"}
    events = [e for e in ws_any.audit.entries() if e.event == "governance-changed"]
    assert [e.attrs["change"] for e in events] == ["dpia-recorded", "direction-recorded"]
    assert [c.kind for c in governance.changes(ws_any)] == ["dpia", "direction"]


def test_revocation_stops_matching_from_its_day(ws_any: Workspace) -> None:
    assert _match(ws_any, "ulez_inner_2021") == frozenset()
    revoked = governance.revoke_instrument(
        ws_any,
        "md2977_cc_lez_inner",
        on=date(2026, 12, 1),
        by="dso:1",
        why="direction withdrawn",
        now=NOW,
    )
    assert revoked.revoked_on == date(2026, 12, 1)
    assert _match(ws_any, "ulez_inner_2021") == frozenset()
    assert _match(ws_any, "ulez_inner_2021", date(2026, 12, 1)) == {"instrument:revoked"}
    assert governance.instrument_status(revoked, date(2026, 12, 2)) == "revoked"
    event = next(e for e in ws_any.audit.entries() if e.event == "governance-changed")
    assert event.attrs == {"change": "instrument-revoked", "ref": "MD2977"}


def test_bad_changes_are_refused_and_not_stored(ws: Workspace) -> None:
    _dpia(ws)
    with pytest.raises(InputError, match="already recorded"):
        _dpia(ws)
    with pytest.raises(ConfigError, match="networks"):
        governance.record_direction(
            ws,
            reference="MD1",
            issuer="mayor",
            networks=["nowhere"],
            signed_on=TODAY,
            by="dso:1",
            why="x",
            now=NOW,
        )
    with pytest.raises(InputError, match="--by"):
        governance.revoke_instrument(ws, "md2977_cc_lez_inner", on=TODAY, by=" ", why="x", now=NOW)
    assert [c.kind for c in governance.changes(ws)] == ["dpia"]
