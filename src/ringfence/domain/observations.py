"""What cameras observe besides the plate (make and model recognition), checked against the
register: a misread that lands exactly on another registered plate is caught by the vehicle the
cameras saw not being the vehicle the register holds.

Pure: the rule is data (`[misread]` in `defaults.toml`), turned here into SQL expressions.

Camera classes are coarse: a taxi or a private hire vehicle looks like a car, a minibus like a
van, a coach like a bus. So an observed type agrees with a registered type when both fall in the
same class (`type_classes`), and an observed make agrees when both name the same maker once
aliases are applied (`make_aliases`: VW is VOLKSWAGEN). A sighting contradicts the register
when at least `min_observed_reads` of its reads carry an observation and most of them disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ringfence.domain.compliance import VEHICLE_TYPES


@dataclass(frozen=True, slots=True)
class RegisterCheck:
    """When the cameras' observations contradict the register. Data, not code."""

    type_classes: Mapping[str, str]
    """Each vehicle type to its camera class; types of one class are indistinguishable."""
    make_aliases: Mapping[str, str]
    """Each alias (upper case) to the make it names (upper case)."""
    min_observed_reads: int = 2
    """Fewest reads with an observation before a contradiction counts."""

    def __post_init__(self) -> None:
        if self.min_observed_reads < 1:
            raise ValueError("min_observed_reads must be at least 1")
        unknown = sorted(set(self.type_classes) - set(VEHICLE_TYPES))
        missing = sorted(set(VEHICLE_TYPES) - set(self.type_classes))
        if unknown or missing:
            raise ValueError(
                "type_classes must give a class for each of "
                f"{', '.join(VEHICLE_TYPES)} (unknown: {unknown}, missing: {missing})"
            )
        for alias, make in self.make_aliases.items():
            if alias != normalise_make(alias) or make != normalise_make(make):
                raise ValueError(f"make alias {alias!r} = {make!r}: write both in upper case")

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> RegisterCheck:
        """From `[misread]`: `min_observed_reads`, `[misread.type_classes]` (class = [types])
        and `[misread.make_aliases]` (make = [aliases])."""
        classes = {
            str(t): str(cls_name)
            for cls_name, types in dict(raw["type_classes"]).items()
            for t in types
        }
        aliases = {
            str(alias): str(make)
            for make, names in dict(raw.get("make_aliases", {})).items()
            for alias in names
        }
        return cls(
            type_classes=classes,
            make_aliases=aliases,
            min_observed_reads=int(raw.get("min_observed_reads", 2)),
        )

    def type_class_sql(self, column: str) -> str:
        """SQL: the camera class of a vehicle type (NULL for NULL)."""
        cases = " ".join(
            f"WHEN {_quote(t)} THEN {_quote(c)}" for t, c in sorted(self.type_classes.items())
        )
        return f"(CASE {column} {cases} END)"

    def make_sql(self, column: str) -> str:
        """SQL: a make in canonical form (normalised, aliases resolved; NULL for blank)."""
        norm = f"NULLIF(upper(trim({column})), '')"
        if not self.make_aliases:
            return norm
        cases = " ".join(
            f"WHEN {_quote(a)} THEN {_quote(m)}" for a, m in sorted(self.make_aliases.items())
        )
        return f"(CASE {norm} {cases} ELSE {norm} END)"


def normalise_make(make: str | None) -> str | None:
    """A make as stored with a read: trimmed, upper case; blank is no observation."""
    if make is None:
        return None
    cleaned = make.strip().upper()
    return cleaned or None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def observed_make_sql(column: str) -> str:
    """SQL form of `normalise_make`, for ingest."""
    return f"NULLIF(upper(trim(CAST({column} AS VARCHAR))), '')"


def observed_type_sql(column: str) -> str:
    """SQL: an observed type in the vocabulary, lower case; anything else is NULL, not a
    refusal: a class the camera could not name is no observation, and the read still counts."""
    text = f"lower(trim(CAST({column} AS VARCHAR)))"
    return f"(CASE WHEN {text} IN {VEHICLE_TYPES} THEN {text} END)"
