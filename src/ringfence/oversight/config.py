"""The oversight reports' rules, read from the `[oversight]` section of the settings.

Rules are data: quintile count, bootstrap iterations, the scenarios compared and the unicity
grid live in `defaults.toml` and can be overridden in `<data-dir>/ringfence.toml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ringfence.errors import ConfigError
from ringfence.oversight.unicity import SPATIAL, TEMPORAL


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    networks: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class OversightSettings:
    quintiles: int
    bootstrap_iterations: int
    bootstrap_seed: int
    confidence: float
    min_events: float
    ring_watch_radius_m: float
    ring_max_area_km2: float
    scenarios: tuple[Scenario, ...]
    unicity_k: tuple[int, ...]
    unicity_spatial: tuple[str, ...]
    unicity_temporal: tuple[str, ...]
    unicity_rotation_days: tuple[int, ...]
    unicity_rotation_resolution: tuple[str, str]
    unicity_sample: int
    unicity_seed: int

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> OversightSettings:
        try:
            scenarios = tuple(
                Scenario(
                    name=str(s["name"]),
                    networks=tuple(str(n) for n in s["networks"]),
                    description=str(s.get("description", "")),
                )
                for s in raw["scenario"]
            )
            rotation_res = tuple(str(v) for v in raw["unicity_rotation_resolution"])
            settings = cls(
                quintiles=int(raw["quintiles"]),
                bootstrap_iterations=int(raw["bootstrap_iterations"]),
                bootstrap_seed=int(raw["bootstrap_seed"]),
                confidence=float(raw["confidence"]),
                min_events=float(raw["min_events"]),
                ring_watch_radius_m=float(raw["ring_watch_radius_m"]),
                ring_max_area_km2=float(raw["ring_max_area_km2"]),
                scenarios=scenarios,
                unicity_k=tuple(int(k) for k in raw["unicity_k"]),
                unicity_spatial=tuple(str(v) for v in raw["unicity_spatial"]),
                unicity_temporal=tuple(str(v) for v in raw["unicity_temporal"]),
                unicity_rotation_days=tuple(int(d) for d in raw["unicity_rotation_days"]),
                unicity_rotation_resolution=(rotation_res[0], rotation_res[1]),
                unicity_sample=int(raw["unicity_sample"]),
                unicity_seed=int(raw["unicity_seed"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigError(f"invalid [oversight] settings: {exc}") from exc
        settings.check()
        return settings

    def check(self) -> None:
        if self.quintiles < 2 or self.bootstrap_iterations < 1:
            raise ConfigError("oversight: quintiles must be >= 2 and bootstrap_iterations >= 1")
        if not 0 < self.confidence < 1:
            raise ConfigError("oversight: confidence must be between 0 and 1")
        if not self.unicity_k or min(self.unicity_k) < 1 or max(self.unicity_k) > 62:
            raise ConfigError("oversight: unicity_k must be whole numbers from 1 to 62")
        if min(self.unicity_rotation_days, default=0) < 1:
            raise ConfigError("oversight: unicity_rotation_days must be at least 1")
        spatial = (*self.unicity_spatial, self.unicity_rotation_resolution[0])
        temporal = (*self.unicity_temporal, self.unicity_rotation_resolution[1])
        bad = [v for v in spatial if v not in SPATIAL] + [v for v in temporal if v not in TEMPORAL]
        if bad:
            raise ConfigError(f"oversight: unknown unicity resolutions {bad}")
        if not self.scenarios:
            raise ConfigError("oversight: at least one [[oversight.scenario]] is needed")
