"""The state schema: Alembic migrations produce exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ringfence.errors import StateError
from ringfence.stores.state import Base, KeyEpochRow, StateDB, open_state


def test_migrations_match_the_models(state_url: str) -> None:
    db = open_state(state_url)
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    # upgrading twice is a no-op
    db.upgrade()
    db.dispose()


def test_instants_come_back_aware_and_in_utc(state_url: str) -> None:
    db = open_state(state_url)
    local = datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    with db.session() as s:
        s.add(
            KeyEpochRow(
                epoch=1,
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 7, 29),
                key_file="k",
                fingerprint="f",
                created_at=local,
            )
        )
    with db.session() as s:
        row = s.get(KeyEpochRow, 1)
        assert row is not None
        assert row.created_at == local and row.created_at.tzinfo is not None
        assert row.created_at.utcoffset() == UTC.utcoffset(None)
    with pytest.raises(Exception, match="naive"), db.session() as s:
        s.add(
            KeyEpochRow(
                epoch=2,
                starts_on=date(2026, 8, 1),
                ends_on=date(2026, 8, 29),
                key_file="k2",
                fingerprint="f",
                created_at=datetime(2026, 8, 1),
            )
        )
    db.dispose()


def test_unusable_url_is_a_clear_error() -> None:
    with pytest.raises(StateError, match="cannot open state database"):
        StateDB("nosuchdialect://x")
