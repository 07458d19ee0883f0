"""The DPIA evidence pack for a proposed change to police access, measured from the system.

A proposal (`governance/<city>/proposals/<name>.toml`, or any file of that shape) names the
networks to add, the recipient, purposes and data classes, the necessity questions and a starting
risk register. The pack describes the processing with measured volumes (cameras, reads, vehicles
per network), the instruments and what the policy point says today, police use so far (from the
audit log), retention, the equality findings and re-identification figures before and after the
change, and the risks with likelihood, severity and measures. It is evidence for people to
decide with; it decides nothing and records nothing but its own making (``dpia-evidence``).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from ringfence.domain.toml_table import TomlTable
from ringfence.errors import ConfigError
from ringfence.oversight import html
from ringfence.oversight.config import Scenario
from ringfence.services import governance
from ringfence.services.oversight_equality import (
    compute_equality,
    exposure_summary,
    gather_equality_inputs,
    oversight_settings,
    report_days,
)
from ringfence.services.oversight_unicity import compute_unicity
from ringfence.workspace import Workspace

__all__ = ["Proposal", "Risk", "build_evidence", "load_proposal", "write_evidence"]

PACKAGED = "ringfence.governance.london"


@dataclass(frozen=True, slots=True)
class Risk:
    name: str
    description: str
    likelihood: int
    severity: int
    measures: tuple[str, ...]

    @property
    def score(self) -> int:
        return self.likelihood * self.severity


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str
    title: str
    description: str
    recipient: str
    purposes: tuple[str, ...]
    add_networks: tuple[str, ...]
    data_classes: tuple[str, ...]
    necessity_questions: tuple[str, ...]
    risks: tuple[Risk, ...]
    source: str


def load_proposal(name_or_path: str) -> Proposal:
    """A packaged proposal by name (e.g. ``london_wide_sharing``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        source, data = str(path), _read(path)
    else:
        found = resources.files(PACKAGED).joinpath("proposals", f"{name_or_path}.toml")
        if not found.is_file():
            raise ConfigError(f"no proposal {name_or_path!r}: give a name or a .toml file")
        source, data = f"proposals/{name_or_path}.toml", found.read_bytes()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return _parse(raw, source)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc


def _texts(f: TomlTable, key: str) -> tuple[str, ...]:
    values = f.get(key, list, "a list of text")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise f.fail(key, "expected a list of non-empty text")
    return tuple(values)


def _parse(raw: dict[str, Any], source: str) -> Proposal:
    f = TomlTable(raw, source, "")
    risks = []
    for r in f.tables("risks"):
        likelihood, severity = r.whole("likelihood", minimum=1), r.whole("severity", minimum=1)
        if likelihood > 3 or severity > 3:
            raise r.fail("likelihood", "likelihood and severity run from 1 to 3")
        risks.append(
            Risk(r.text("name"), r.text("description"), likelihood, severity, _texts(r, "measures"))
        )
        r.done()
    proposal = Proposal(
        proposal_id=f.ident("proposal_id"),
        title=f.text("title"),
        description=" ".join(f.text("description").split()),
        recipient=f.ident("recipient"),
        purposes=_texts(f, "purposes"),
        add_networks=_texts(f, "add_networks"),
        data_classes=_texts(f, "data_classes"),
        necessity_questions=_texts(f, "necessity_questions"),
        risks=tuple(risks),
        source=source,
    )
    f.done()
    return proposal


# --- Measuring ------------------------------------------------------------------------------------


def _volumes(ws: Workspace, days: Sequence[date]) -> list[dict[str, object]]:
    """Per network: cameras, reads and distinct vehicles (pseudonyms) over the report days."""
    cams = ws.cameras_table()
    per_network = Counter(cams.column("network").to_pylist())
    files = [f for d in days for f in ws.reads.files(d)]
    counted: dict[str, tuple[int, int]] = {}
    if files:
        con = ws.engine()
        try:
            con.register("cams", cams)
            for network, reads, vehicles in con.sql(
                "SELECT c.network, count(*), count(DISTINCT (r.key_epoch, r.vrm_pseudonym)) "
                f"FROM {ws.reads.scan(files)} r JOIN cams c USING (camera_id) GROUP BY 1"
            ).fetchall():
                counted[str(network)] = (int(reads), int(vehicles))
        finally:
            con.close()
    n = max(len(days), 1)
    return [
        {
            "network": network,
            "cameras": cameras,
            "reads": counted.get(network, (0, 0))[0],
            "reads_per_day": round(counted.get(network, (0, 0))[0] / n),
            "vehicles": counted.get(network, (0, 0))[1],
        }
        for network, cameras in sorted(per_network.items())
    ]


def _police_use(ws: Workspace) -> dict[str, int]:
    """What police access has amounted to so far, counted from the audit log."""
    counts: Counter[str] = Counter()
    for e in ws.audit.entries():
        if e.event == "request-submitted":
            counts[f"requests submitted ({e.attrs.get('kind', '?')})"] += 1
        elif e.event == "request-decided" and e.attrs.get("outcome") in ("refused", "narrowed"):
            counts[f"requests {e.attrs['outcome']}"] += 1
        elif e.event == "release-issued":
            counts["releases"] += 1
            counts["reads released"] += e.counts.get("reads", 0)
        elif e.event == "hotlist-entry-added":
            counts["hotlist entries added"] += 1
        elif e.event == "hotlist-hit-reviewed":
            counts[f"hotlist hits {e.attrs.get('outcome', '?')}"] += 1
    return dict(sorted(counts.items()))


def _coverage(ws: Workspace, proposal: Proposal, day: date) -> list[dict[str, object]]:
    rows = []
    for purpose in proposal.purposes:
        for r in governance.coverage(ws, force=proposal.recipient, purpose=purpose, day=day):
            rows.append({"purpose": purpose, **r})
    return rows


def _unicity_rows(ws: Workspace, days: Sequence[date], networks: Sequence[str]) -> list[Any]:
    settings = oversight_settings(ws)
    return compute_unicity(ws, days, settings, networks=list(networks)).grid


def build_evidence(
    ws: Workspace, proposal: Proposal, *, days: Sequence[date] | None, now: datetime
) -> dict[str, Any]:
    """Measure everything the pack states (see the module docstring)."""
    chosen = report_days(ws, days)
    today = now.astimezone(UTC).date()
    coverage = _coverage(ws, proposal, today)
    before = sorted({str(r["network"]) for r in coverage if r["shared"]})
    after = sorted(set(before) | set(proposal.add_networks))
    settings = oversight_settings(ws)
    scenarios = (
        Scenario("before", tuple(before) or ("none",), "networks shared today"),
        Scenario("after", tuple(after), "with the proposed networks"),
    )
    equality = compute_equality(
        gather_equality_inputs(ws, chosen), replace(settings, scenarios=scenarios)
    )
    exposure = []
    for ring in equality.rings:
        for row in ring.exposure:
            exposure.append({"scenario": ring.scenario.name, **row})
    unicity = {
        "before": [r.as_dict() for r in _unicity_rows(ws, chosen, before)],
        "after": [r.as_dict() for r in _unicity_rows(ws, chosen, after)],
    }
    book = governance.current_book(ws)
    return {
        "proposal": proposal,
        "generated_at": now.astimezone(UTC).isoformat(),
        "days": [d.isoformat() for d in chosen],
        "before_networks": before,
        "after_networks": after,
        "volumes": _volumes(ws, chosen),
        "coverage": coverage,
        "instruments": [
            {
                "instrument": i.reference,
                "id": i.instrument_id,
                "status": governance.instrument_status(i, today),
                "networks": sorted(i.networks),
                "conditions": sorted(i.conditions),
            }
            for i in book.instruments
        ],
        "dpias": [
            {
                "dpia": f"{d.dpia_id} v{d.version}",
                "status": d.status,
                "counts": d.is_approved(today),
            }
            for d in book.dpias
        ],
        "police_use": _police_use(ws),
        "retention": [
            {
                "rule": r.name,
                "purpose": r.purpose,
                "target": r.target,
                "max_age_days": r.max_age_days,
            }
            for r in ws.settings.retention
        ],
        "hotlist_max_days": book.rules.hotlist_max_days,
        "exposure": exposure,
        "exposure_summary": exposure_summary(equality.rings),
        # one sentence per finding: "too few to judge" repeats across compositions
        "findings": list(
            dict.fromkeys(a.finding for a in equality.associations if a.level == "borough")
        ),
        "unicity": unicity,
        "notes": list(equality.notes),
    }


# --- Writing --------------------------------------------------------------------------------------


def _unicity_table(e: dict[str, Any]) -> list[list[object]]:
    rows = []
    after = {(r["spatial"], r["temporal"], r["k"]): r for r in e["unicity"]["after"]}
    for r in e["unicity"]["before"]:
        if r["k"] not in (1, 2, 5):
            continue
        a = after.get((r["spatial"], r["temporal"], r["k"]), {})
        rows.append(
            [r["spatial"], r["temporal"], r["k"], _pct(r["unicity"]), _pct(a.get("unicity"))]
        )
    return rows


def _pct(value: object) -> str:
    return "n/a" if not isinstance(value, int | float) else f"{100 * value:.1f}%"


def _exposure_table(e: dict[str, Any]) -> list[list[object]]:
    by = {(r["scenario"], r["group"]): r for r in e["exposure"]}
    groups = [r["group"] for r in e["exposure"] if r["scenario"] == "before"]
    return [
        [
            g,
            f"{by[('before', g)]['residents']:,}",
            _pct(by[("before", g)]["covered_share"]),
            _pct(by[("after", g)]["covered_share"]),
            _pct(by[("before", g)]["ringed_share"]),
            _pct(by[("after", g)]["ringed_share"]),
        ]
        for g in groups
        if ("after", g) in by
    ]


def _sections(e: dict[str, Any]) -> list[tuple[str, list[str], list[str], list[list[object]]]]:
    """(heading, paragraphs, table columns, table rows) per section: one content, two renderings."""
    p: Proposal = e["proposal"]
    risks = sorted(p.risks, key=lambda r: -r.score)
    return [
        (
            "The proposal",
            [
                p.description,
                f"Recipient: {p.recipient}. Purposes: {', '.join(p.purposes)}. Networks added: "
                f"{', '.join(p.add_networks)}. Data classes: {', '.join(p.data_classes)}.",
                f"Shared today with {p.recipient}: {', '.join(e['before_networks']) or 'nothing'}; "
                f"after the change: {', '.join(e['after_networks'])}.",
            ],
            [],
            [],
        ),
        (
            "Processing, measured",
            [f"Over the charge days {', '.join(e['days']) or '(none stored)'}."],
            ["network", "cameras", "reads", "reads per day", "vehicles (pseudonyms)"],
            [
                [
                    v["network"],
                    v["cameras"],
                    f"{v['reads']:,}",
                    f"{v['reads_per_day']:,}",
                    f"{v['vehicles']:,}",
                ]
                for v in e["volumes"]
            ],
        ),
        (
            "Instruments and what the policy point says today",
            [
                f"{i['instrument']} ({i['id']}): {i['status']}; networks {', '.join(i['networks'])}"
                + (f"; conditions {', '.join(i['conditions'])}" if i["conditions"] else "")
                for i in e["instruments"]
            ]
            + [f"DPIA {d['dpia']}: {d['status']}" for d in e["dpias"]],
            ["purpose", "network", "shared", "why"],
            [
                [c["purpose"], c["network"], "yes" if c["shared"] else "no", c["because"]]
                for c in e["coverage"]
            ],
        ),
        (
            "Police use so far (from the audit log)",
            [] if e["police_use"] else ["No police access is recorded."],
            ["what", "count"],
            [[k, f"{v:,}"] for k, v in e["police_use"].items()],
        ),
        (
            "Retention",
            [
                f"Hotlist entries expire within {e['hotlist_max_days']} days; releases expire and "
                "their files are deleted."
            ],
            ["rule", "purpose", "target", "kept for (days)"],
            [[r["rule"], r["purpose"], r["target"], r["max_age_days"]] for r in e["retention"]],
        ),
        (
            "Necessity and proportionality: questions to answer",
            list(p.necessity_questions),
            [],
            [],
        ),
        (
            "Equality: who is exposed, before and after",
            [*e["exposure_summary"], *e["findings"]],
            [
                "group",
                "residents",
                "camera in area (before)",
                "(after)",
                "ringed (before)",
                "(after)",
            ],
            _exposure_table(e),
        ),
        (
            "Re-identification: unicity before and after",
            [
                "Share of sampled vehicle traces singled out by k known sightings, counting only "
                "the reads the recipient could be given (de Montjoye et al. 2013)."
            ],
            ["place", "time", "k", "before", "after"],
            _unicity_table(e),
        ),
        (
            "Risks (a starting register: likelihood and severity 1-3)",
            [],
            ["risk", "likelihood", "severity", "score", "measures"],
            [
                [
                    r.name + ": " + r.description,
                    r.likelihood,
                    r.severity,
                    r.score,
                    "; ".join(r.measures),
                ]
                for r in risks
            ],
        ),
        ("Caveats", list(e["notes"]), [], []),
    ]


INTRO = (
    "Evidence for the people who decide: this pack measures what the proposed change would do. "
    "It is not a decision, and it does not record one."
)


def evidence_markdown(e: dict[str, Any]) -> str:
    p: Proposal = e["proposal"]
    lines = [f"# DPIA evidence: {p.title}", "", INTRO, "", f"Generated {e['generated_at']}.", ""]
    for heading, texts, columns, rows in _sections(e):
        lines += [f"## {heading}", ""]
        for t in texts:
            lines += [t, ""]
        if columns:
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "---|" * len(columns))
            for row in rows:
                lines.append("| " + " | ".join(str(v).replace("|", "/") for v in row) + " |")
            lines.append("")
    return "\n".join(lines)


def evidence_html(e: dict[str, Any]) -> str:
    p: Proposal = e["proposal"]
    sections = []
    for heading, texts, columns, rows in _sections(e):
        body = html.paragraphs(texts) + (html.table(columns, rows) if columns else "")
        sections.append((heading, body))
    return html.page(
        f"DPIA evidence: {p.title}",
        sections,
        intro=[INTRO, f"Generated {e['generated_at']} ({escape(p.source)})."],
    )


def write_evidence(
    ws: Workspace,
    proposal: Proposal,
    out_dir: Path,
    *,
    days: Sequence[date] | None = None,
    now: datetime,
) -> dict[str, Path]:
    """Build and write the pack as Markdown and HTML; returns their paths."""
    evidence = build_evidence(ws, proposal, days=days, now=now)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": out_dir / f"dpia-evidence-{proposal.proposal_id}.md",
        "html": out_dir / f"dpia-evidence-{proposal.proposal_id}.html",
    }
    paths["markdown"].write_text(evidence_markdown(evidence), encoding="utf-8")
    paths["html"].write_text(evidence_html(evidence), encoding="utf-8")
    ws.record(
        "dpia-evidence",
        subject=f"proposal:{proposal.proposal_id}",
        why=f"DPIA evidence pack written for {proposal.title}",
        counts={"days": len(evidence["days"])},
        attrs={"proposal": proposal.proposal_id, "networks": ";".join(proposal.add_networks)},
    )
    return paths
