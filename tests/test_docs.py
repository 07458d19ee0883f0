"""Documentation is tested: every command is in the README, every quarantine reason in the docs."""

from __future__ import annotations

from pathlib import Path

import typer

from ringfence.cli.main import app
from ringfence.domain.reads import QUARANTINE_REASONS

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: typer.Typer, prefix: str = "ringfence") -> list[str]:
    found = [f"{prefix} {c.name or c.callback.__name__}" for c in group.registered_commands]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        found += _commands(sub.typer_instance, f"{prefix} {sub.name}")  # type: ignore[arg-type]
    return found


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _commands(app)
    assert len(commands) >= 20
    assert [c for c in commands if f"| `{c}" not in readme] == []


def test_readme_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = (ROOT / "README.md").read_text().split("---")[0]
    commands = [line for line in first_screen.splitlines() if line.startswith("make ")]
    assert [c.split()[1] for c in commands] == ["demo", "test"]


def test_every_quarantine_reason_is_documented() -> None:
    formats = (ROOT / "docs" / "formats.md").read_text()
    assert [r for r in QUARANTINE_REASONS if f"`{r}`" not in formats] == []
