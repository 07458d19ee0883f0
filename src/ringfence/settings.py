"""Settings: the packaged defaults merged with `<data-dir>/ringfence.toml`.

Only the data directory and the clock come from outside; everything else is dated, versioned
configuration that an operator can read and change without touching code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path
from typing import Any

from ringfence.domain.observations import RegisterCheck
from ringfence.errors import ConfigError

RETENTION_TARGETS = ("reads", "quarantine", "key")


@dataclass(frozen=True, slots=True)
class RetentionRule:
    name: str
    purpose: str
    target: str
    max_age_days: int
    description: str = ""
    selector: str = "all"  # reads: "all", or "settled" (vehicles that owe nothing, or paid)


@dataclass(frozen=True, slots=True)
class ProtectedTable:
    """A transparency table published with differential privacy (see `[transparency]`)."""

    table: str
    epsilon: Decimal
    """Privacy loss of publishing this table once (decimal, so budgets add up exactly)."""
    bound: int
    """Most one audit event may add to the whole table (L1 sensitivity); more is truncated."""


@dataclass(frozen=True, slots=True)
class TransparencySettings:
    budget_epsilon: Decimal
    """Most privacy loss any one day of activity may bear over every public report covering it."""
    alpha: float
    """Accuracy is stated at confidence 1 - alpha."""
    protected: tuple[ProtectedTable, ...]
    domains: Mapping[str, tuple[str, ...]]
    """Public values a dimension may take (`dim` or `table.dim`); others count as `other`."""

    def rule(self, table: str) -> ProtectedTable | None:
        return next((p for p in self.protected if p.table == table), None)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    state_url: str
    key_rotation_days: int
    key_anchor: date
    max_future_skew_seconds: int
    max_read_age_days: int
    compact_after_hours: float
    engine_memory_limit: str
    charge_memory_limit: str
    autopay_personal_max: int
    autopay_fleet_min: int
    retention: tuple[RetentionRule, ...]
    transparency: TransparencySettings
    register_check: RegisterCheck
    """When cameras' make and type observations contradict the register (`[misread]`)."""
    subject_notice_delay_days: int = 90

    @property
    def reads_dir(self) -> Path:
        return self.data_dir / "reads"

    @property
    def vault_dir(self) -> Path:
        return self.data_dir / "vault"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def receipts_dir(self) -> Path:
        return self.data_dir / "receipts"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _rule(raw: dict[str, Any]) -> RetentionRule:
    try:
        rule = RetentionRule(
            name=str(raw["name"]),
            purpose=str(raw["purpose"]),
            target=str(raw["target"]),
            max_age_days=int(raw["max_age_days"]),
            description=str(raw.get("description", "")),
            selector=str(raw.get("selector", "all")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"retention rule {raw!r} is incomplete: {exc}") from exc
    if rule.target not in RETENTION_TARGETS:
        raise ConfigError(
            f"retention rule {rule.name!r}: target must be one of {RETENTION_TARGETS}"
        )
    if rule.selector not in ("all", "settled") or (
        rule.selector == "settled" and rule.target != "reads"
    ):
        raise ConfigError(
            f"retention rule {rule.name!r}: selector must be all, or settled on reads"
        )
    if rule.max_age_days < 0:
        raise ConfigError(f"retention rule {rule.name!r}: max_age_days must not be negative")
    return rule


def _decimal(value: object, what: str) -> Decimal:
    # Via str: a TOML float 0.1 becomes Decimal("0.1"), not its binary approximation.
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"{what} must be a number, not {value!r}") from exc
    if not number.is_finite() or number <= 0:
        raise ConfigError(f"{what} must be a positive number, not {value!r}")
    return number


def _transparency(raw: Mapping[str, Any]) -> TransparencySettings:
    try:
        alpha = float(raw["alpha"])
        protected = tuple(
            ProtectedTable(
                table=str(name),
                epsilon=_decimal(rule["epsilon"], f"transparency.protected.{name}.epsilon"),
                bound=int(rule.get("bound", 1)),
            )
            for name, rule in dict(raw.get("protected", {})).items()
        )
        domains = {
            str(k): tuple(str(v) for v in values) for k, values in raw.get("domains", {}).items()
        }
        budget = _decimal(raw["budget_epsilon"], "transparency.budget_epsilon")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[transparency] is incomplete: {exc}") from exc
    if not 0 < alpha < 1:
        raise ConfigError("transparency.alpha must be between 0 and 1")
    for rule in protected:
        if rule.bound < 1:
            raise ConfigError(f"transparency.protected.{rule.table}.bound must be at least 1")
    return TransparencySettings(
        budget_epsilon=budget, alpha=alpha, protected=protected, domains=domains
    )


def _packaged() -> dict[str, Any]:
    return tomllib.loads((files("ringfence") / "defaults.toml").read_text(encoding="utf-8"))


def _register_check(raw: Mapping[str, Any]) -> RegisterCheck:
    try:
        return RegisterCheck.from_toml(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[misread] is unusable: {exc}") from exc


def packaged_register_check() -> RegisterCheck:
    """The packaged `[misread]` rule, for work without a data directory (`charge evaluate`)."""
    return _register_check(_packaged()["misread"])


def load_settings(data_dir: Path, *, state_url: str | None = None) -> Settings:
    """Defaults, then `<data-dir>/ringfence.toml`, then `RINGFENCE_STATE_URL`, then `state_url`."""
    raw: dict[str, Any] = _packaged()
    local = data_dir / "ringfence.toml"
    if local.exists():
        try:
            raw = _merge(raw, tomllib.loads(local.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{local}: {exc}") from exc
    url = state_url or os.environ.get("RINGFENCE_STATE_URL") or raw["state"]["url"]
    if not url:
        url = f"sqlite:///{(data_dir / 'state.sqlite').resolve()}"
    try:
        settings = Settings(
            data_dir=data_dir,
            state_url=url,
            key_rotation_days=int(raw["keys"]["rotation_days"]),
            key_anchor=date.fromisoformat(str(raw["keys"]["anchor"])),
            max_future_skew_seconds=int(raw["ingest"]["max_future_skew_seconds"]),
            max_read_age_days=int(raw["ingest"]["max_age_days"]),
            compact_after_hours=float(raw["ingest"]["compact_after_hours"]),
            engine_memory_limit=str(raw["engine"]["memory_limit"]),
            charge_memory_limit=str(raw["engine"]["charge_memory_limit"]),
            autopay_personal_max=int(raw["autopay"]["personal_max_vehicles"]),
            autopay_fleet_min=int(raw["autopay"]["fleet_min_vehicles"]),
            retention=tuple(_rule(r) for r in raw.get("retention", [])),
            subject_notice_delay_days=int(raw["subject_access"]["notice_delay_days"]),
            transparency=_transparency(raw["transparency"]),
            register_check=_register_check(raw["misread"]),
        )
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc
    if settings.key_rotation_days < 1:
        raise ConfigError("keys.rotation_days must be at least 1")
    return settings
