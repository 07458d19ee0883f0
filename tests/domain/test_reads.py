"""The SQL forms of the VRM rules agree with the Python ones, run through DuckDB itself."""

from __future__ import annotations

from datetime import date

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.reads import (
    QUARANTINE_REASONS,
    confusion_key_sql,
    normalise_sql,
    plate_class_sql,
)
from ringfence.domain.vrm import classify, confusion_key, normalise

AS_OF = date(2026, 11, 28)
con = duckdb.connect()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=40))
def test_normalise_sql_equals_normalise(texts: list[str]) -> None:
    got = con.execute(f"SELECT {normalise_sql('t')} FROM unnest(?) AS u(t)", [texts]).fetchall()
    assert [g[0] for g in got] == [normalise(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"[A-Z]{2}[0-9]{2} ?[A-Z]{3}", fullmatch=True),
            st.from_regex(r"[A-Z][0-9]{1,3}[A-Z]{3}", fullmatch=True),
            st.from_regex(r"[A-Z0-9?*\- ]{0,10}", fullmatch=True),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_class_sql_equals_classify(texts: list[str]) -> None:
    got = con.execute(
        f"SELECT {plate_class_sql(normalise_sql('t'), AS_OF)} FROM unnest(?) AS u(t)", [texts]
    ).fetchall()
    assert [g[0] for g in got] == [classify(t, as_of=AS_OF).vrm_class.value for t in texts]


def test_every_reason_is_explained() -> None:
    assert all(text and text[0].islower() for text in QUARANTINE_REASONS.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z0-9]{0,9}", fullmatch=True), min_size=1, max_size=40))
def test_confusion_key_sql_equals_confusion_key(vrms: list[str]) -> None:
    got = con.execute(f"SELECT {confusion_key_sql('v')} FROM unnest(?) AS u(v)", [vrms]).fetchall()
    assert [g[0] for g in got] == [confusion_key(v) for v in vrms]
