"""A tiny simulated London day, made once per test session."""

from __future__ import annotations

import pytest

from ringfence.simulate import simulate
from simulate.tiny_london import SEED, WEEKDAY, TinyDay, load


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyDay:
    return load(simulate(tmp_path_factory.mktemp("tiny"), day=WEEKDAY, seed=SEED, scale="tiny"))
