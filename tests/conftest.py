"""Shared fixtures: a fixed clock, a tiny camera network, and state on SQLite and PostgreSQL.

State tests run on both databases through the `state_url` fixture. PostgreSQL is reached at
RINGFENCE_TEST_PG_URL (default: the project machine's loopback server). Without it they skip with
the reason shown, except under CI=true, where a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringfence.services.cameras import import_cameras
from ringfence.simulate import simulate
from ringfence.workspace import Workspace
from support import SIMULATED_DAY, fresh_pg_database, write_cameras

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PG_ADMIN_URL = os.environ.get(
    "RINGFENCE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "state_url" in getattr(item, "fixturenames", ()):
            callspec = getattr(item, "callspec", None)
            if callspec is not None and callspec.params.get("state_url") == "postgresql":
                item.add_marker(pytest.mark.postgresql)


@pytest.fixture
def now() -> datetime:
    return NOW


def _pg_available() -> str | None:
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not here"
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    yield PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_pg_database(pg_admin) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny simulated London day (`SIMULATED_DAY`, seed 11), shared: read it, do not add to it."""
    out = tmp_path_factory.mktemp("sim")
    simulate(out, day=SIMULATED_DAY, seed=11, scale="tiny")
    return out


@pytest.fixture
def cameras_csv(tmp_path: Path) -> Path:
    return write_cameras(tmp_path / "cameras.csv")


@pytest.fixture
def ws(tmp_path: Path, cameras_csv: Path) -> Iterator[Workspace]:
    """A workspace on SQLite with the tiny camera network registered."""
    workspace = Workspace.open(tmp_path / "data")
    import_cameras(workspace, cameras_csv)
    yield workspace
    workspace.close()


@pytest.fixture
def ws_any(tmp_path: Path, cameras_csv: Path, state_url: str) -> Iterator[Workspace]:
    """The same, once on SQLite and once on PostgreSQL."""
    workspace = Workspace.open(tmp_path / "data", state_url=state_url)
    import_cameras(workspace, cameras_csv)
    yield workspace
    workspace.close()
