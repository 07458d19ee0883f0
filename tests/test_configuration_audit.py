"""A change of the configuration in force is audited (issue 4: configuration changes)."""

from __future__ import annotations

from pathlib import Path

from ringfence.audit import verify
from ringfence.workspace import Workspace


def _changes(ws: Workspace) -> list[str]:
    return [e.why for e in ws.audit.entries() if e.event == "configuration-changed"]


def test_configuration_changes_are_audited_once_each(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ws = Workspace.open(data)
    assert _changes(ws) == ["first use of this data directory"]
    ws.close()
    again = Workspace.open(data)  # nothing changed: nothing recorded
    assert len(_changes(again)) == 1
    again.close()
    (data / "ringfence.toml").write_text("[keys]\nrotation_days = 7\n")
    edited = Workspace.open(data)
    assert _changes(edited) == ["first use of this data directory", "configuration edited"]
    last = [e for e in edited.audit.entries() if e.event == "configuration-changed"][-1]
    assert "ringfence.toml" in last.attrs["files"] and last.digest
    assert "ringfence.governance.london/instruments.toml" in last.attrs["files"]
    assert verify(data / "audit").ok
    edited.close()
