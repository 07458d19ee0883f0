"""The charge run: a charge day's reads to liabilities, vectorised in DuckDB.

Relations the caller registers on the connection (stored mode and stateless mode differ only in
what `vehicle_key` is: a keyed pseudonym, or the normalised VRM):

- `day_reads(read_id, camera_id, captured_at, confidence, vehicle_key, vrm_text, observed_make,
  observed_type)`; stored mode leaves `vrm_text` NULL and passes a `Recover` instead (see
  matching.py); the observed make and type are NULL where no camera reported them
- `cameras(camera_id, enforces)`
- `register(vehicle_key, vrm, vehicle_type, fuel, euro_standard, first_registered, tax_class,
  gross_weight_kg, seats, wheelchair_accessible, make)`
- `registrations(vehicle_key, kind, scheme_id, valid_from, valid_to, holder_ref)`
- `payments(vehicle_key, scheme_id, charge_day, amount_pence, paid_at)`
- `evidence(vehicle_key, kind, euro_standard, recorded_by, recorded_at)`
- `autopay(vehicle_key, account_id, account_kind, valid_from, valid_to)`: Auto Pay accounts,
  whose vehicles' charges are billed monthly at the standard rate (status `paid`, rule
  `autopay`, with the account)

Every decision is explained: the liability row carries the read ids, the rule that decided
(`tariff:...`, `registration:resident`, `vehicle:historic_tax_class`, `compliance:...`)
and a reason.

Who is never charged, whatever the tariff says:
- a plate seen with too little confidence (see `EvidenceRule`): review;
- a plate not in the register that shares a confusion key with registered VRMs: review, with the
  candidates, because it is most likely a misread of one of them (absorbed without review when
  a candidate is itself seen under the scheme that day: it then changes nobody's charge);
- a plate in no register at all: review if seen with confidence (a foreign or missing vehicle),
  otherwise dropped as unidentifiable;
- a registered plate whose register type or make the cameras contradict (make and model
  recognition, see observations.py): review (`match:register_contradiction`), since a misread
  can land exactly on another vehicle's plate.
Compliant and out-of-scope vehicles produce no liability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from ringfence.domain.compliance import compliance_sql, latest_evidence_sql
from ringfence.domain.observations import RegisterCheck
from ringfence.domain.schemes import DayRules, SchemeBook, price_sql, registrations_sql
from ringfence.engines.matching import Recover, match_register
from ringfence.engines.observations import hold_contradicted
from ringfence.engines.sightings import EvidenceRule, build_sightings, read_ids_for
from ringfence.settings import packaged_register_check

LIABILITY_STATUSES = ("unpaid", "paid", "exempt", "review")
LIABILITY_COLUMNS = (
    "vehicle_key",
    "vrm",
    "scheme_id",
    "charge_day",
    "amount_pence",
    "status",
    "rule",
    "reason",
    "reads",
    "confident_reads",
    "read_ids",
    "account_id",
)


@dataclass(frozen=True, slots=True)
class ChargeDay:
    charge_day: date
    rules: dict[str, DayRules]
    liabilities: pa.Table
    sightings: int
    not_liable: int
    unidentified: int
    absorbed: int
    refunds: int = 0
    """Payments for this day above what the vehicle owed (not seen, compliant, exempt, or
    paid more than the rate it qualified for), and their total in pence."""
    refunds_pence: int = 0
    recovered_asked: int = 0
    """Sighted keys outside the register whose clear VRM was asked of ``recover``."""
    contradicted: int = 0
    """Charges held for review because cameras saw another vehicle than the register holds."""


def day_rules(book: SchemeBook, day: date) -> dict[str, DayRules]:
    rules = {s: book.day_rules(s, day) for s in book.scheme_ids()}
    return {s: r for s, r in rules.items() if r is not None}


def _windows(con: duckdb.DuckDBPyConnection, rules: dict[str, DayRules]) -> None:
    rows = [(s, a, b) for s, r in rules.items() for a, b in r.windows]
    con.register(
        "charge_windows",
        pa.table(
            {
                "scheme_id": pa.array([r[0] for r in rows], pa.string()),
                "window_start": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
                "window_end": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            }
        ),
    )


def _priced_sql(scheme_id: str, rules: DayRules) -> str:
    """Price each exact-matched vehicle seen under one scheme: on time and paid late."""
    on_time = price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds")
    late = price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds", paid_late="TRUE")
    compliance = compliance_sql(scheme_id, vehicle="v", evidence_euro_standard="ev.euro_standard")
    return f"""
        SELECT a.vehicle_key, '{scheme_id}' AS scheme_id, {on_time} AS p, {late} AS p_late
        FROM (
          SELECT v.*, rg.kinds, {compliance} AS c
          FROM matched m
          JOIN register v ON v.vehicle_key = m.vehicle_key
          LEFT JOIN ({latest_evidence_sql("evidence", vrm_column="vehicle_key")}) ev
                 ON ev.vrm = v.vehicle_key
          LEFT JOIN ({registrations_sql(rules, "registrations")}) rg
                 ON rg.vehicle_key = v.vehicle_key
          WHERE m.scheme_id = '{scheme_id}' AND m.match = 'exact'
        ) a
    """


def _payments_sql(rules: dict[str, DayRules]) -> str:
    """Payments per vehicle and scheme: in time for the standard rate, and by the deadline.

    The standard rate must be paid by the end of the charge day (or in advance, from
    `pay_from`); the late rate by the end of `pay_by`. Days end at London midnight.
    """
    parts = []
    for scheme_id, r in rules.items():
        parts.append(
            f"""
            SELECT vehicle_key, scheme_id,
                   sum(amount_pence) FILTER (WHERE paid_at < timezone('Europe/London',
                       (DATE '{r.charge_day}' + 1)::TIMESTAMP)) AS paid_on_time,
                   sum(amount_pence) FILTER (WHERE paid_at < timezone('Europe/London',
                       (DATE '{r.pay_by}' + 1)::TIMESTAMP)) AS paid_by_deadline
            FROM payments
            WHERE scheme_id = '{scheme_id}' AND charge_day = DATE '{r.charge_day}'
              AND paid_at >= timezone('Europe/London', DATE '{r.pay_from}'::TIMESTAMP)
            GROUP BY vehicle_key, scheme_id
            """
        )
    return " UNION ALL ".join(parts)


def run_charge_day(
    con: duckdb.DuckDBPyConnection,
    book: SchemeBook,
    day: date,
    *,
    evidence_rule: EvidenceRule | None = None,
    recover: Recover | None = None,
    register_check: RegisterCheck | None = None,
) -> ChargeDay:
    """Decide a day. ``recover`` fills in the clear VRM of sighted plates the register does not
    know, where `day_reads.vrm_text` is NULL (stored mode), for confusion-key matching.
    ``register_check`` (default: the packaged `[misread]` rule) holds charges whose register
    entry the cameras' make and type observations contradict."""
    rules = day_rules(book, day)
    _windows(con, rules)
    build_sightings(con, evidence_rule or EvidenceRule())
    asked = match_register(con, recover)
    charging = {s: r for s, r in rules.items() if r.windows}
    if charging:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE priced AS "
            + " UNION ALL ".join(_priced_sql(s, r) for s, r in charging.items())
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE paid AS {_payments_sql(charging)}")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE priced AS SELECT NULL AS vehicle_key, "
            "NULL AS scheme_id, NULL AS p, NULL AS p_late WHERE false"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE paid AS SELECT NULL AS vehicle_key, NULL AS scheme_id, "
            "0 AS paid_on_time, 0 AS paid_by_deadline WHERE false"
        )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH j AS (
          SELECT m.*, pr.p, pr.p_late, ap.account_id,
                 coalesce(pd.paid_on_time, 0) >= pr.p.amount_pence
                   OR coalesce(pd.paid_by_deadline, 0) >= pr.p_late.amount_pence AS is_paid,
                 coalesce(pd.paid_by_deadline, 0) AS paid_pence
          FROM matched m
          LEFT JOIN priced pr ON pr.vehicle_key = m.vehicle_key AND pr.scheme_id = m.scheme_id
          LEFT JOIN paid pd ON pd.vehicle_key = m.vehicle_key AND pd.scheme_id = m.scheme_id
          LEFT JOIN (SELECT DISTINCT vehicle_key, account_id FROM autopay
                     WHERE valid_from <= DATE '{day}'
                       AND (valid_to IS NULL OR valid_to >= DATE '{day}')) ap
                 ON ap.vehicle_key = m.vehicle_key
        )
        SELECT vehicle_key, coalesce(vrm, vrm_text) AS vrm, scheme_id,
               DATE '{day}' AS charge_day, reads, confident_reads,
               CASE
                 WHEN match = 'absorbed' THEN 'absorbed'
                 WHEN match = 'confusion' THEN 'review'
                 WHEN match = 'unregistered' AND is_sufficient THEN 'review'
                 WHEN match = 'unregistered' THEN 'unidentified'
                 WHEN p.status = 'not_applicable' THEN 'not_liable'
                 WHEN p.status = 'exempt' THEN 'exempt'
                 WHEN p.status = 'review' THEN 'review'
                 WHEN NOT is_sufficient THEN 'review'
                 WHEN is_paid THEN 'paid'
                 WHEN account_id IS NOT NULL THEN 'paid'
                 ELSE 'unpaid'
               END AS status,
               CASE
                 WHEN match = 'confusion' THEN 'match:confusion'
                 WHEN match = 'unregistered' THEN 'match:unregistered'
                 WHEN NOT is_sufficient AND p.status = 'chargeable' THEN 'evidence:insufficient'
                 WHEN p.status = 'chargeable' AND NOT is_paid AND account_id IS NOT NULL
                   THEN 'autopay'
                 ELSE p.rule
               END AS rule,
               CASE
                 WHEN match = 'confusion' THEN 'not in the register; possible misread of '
                      || array_to_string(candidates, ', ')
                 WHEN match = 'unregistered'
                   THEN 'not in the vehicle register (foreign, unregistered or misread)'
                 WHEN NOT is_sufficient AND p.status = 'chargeable'
                   THEN 'only ' || confident_reads || ' confident read(s) of ' || reads
                        || ' (best ' || round(best_confidence, 2) || '): not enough to charge'
                 WHEN p.status = 'chargeable' AND is_paid
                   THEN 'paid ' || paid_pence || 'p under ' || p.rule
                 WHEN p.status = 'chargeable' AND account_id IS NOT NULL
                   THEN p.amount_pence || 'p under ' || p.rule || ', billed monthly to Auto Pay '
                        || 'account ' || account_id
                 WHEN p.status = 'chargeable'
                   THEN reads || ' read(s) in charging hours, first at '
                        || strftime(timezone('Europe/London', first_seen_at), '%H:%M')
                        || ' London time; ' || p.amount_pence || 'p due under ' || p.rule
                        || CASE WHEN p_late.amount_pence <> p.amount_pence
                                THEN ' (' || p_late.amount_pence || 'p if paid late)'
                                ELSE '' END
                 ELSE p.rule
               END AS reason,
               CASE WHEN p.status IN ('chargeable', 'review') THEN p.amount_pence ELSE 0 END
                 AS amount_pence,
               CASE WHEN p.status = 'chargeable' AND is_sufficient AND NOT is_paid
                    THEN account_id END AS account_id
        FROM j
        """
    )
    counts = dict(con.execute("SELECT status, count(*) FROM decided GROUP BY 1").fetchall())
    refund = con.execute(
        f"""
        SELECT count(*), coalesce(sum(paid - due), 0) FROM (
          SELECT pm.vehicle_key, pm.scheme_id, sum(pm.amount_pence) AS paid,
                 max(CASE WHEN d.status = 'paid' AND pr.p.status = 'chargeable'
                          THEN greatest(pr.p.amount_pence,
                                        CASE WHEN pd.paid_on_time >= pr.p.amount_pence
                                             THEN 0 ELSE pr.p_late.amount_pence END)
                          ELSE 0 END) AS due
          FROM payments pm
          LEFT JOIN decided d USING (vehicle_key, scheme_id)
          LEFT JOIN priced pr USING (vehicle_key, scheme_id)
          LEFT JOIN paid pd USING (vehicle_key, scheme_id)
          WHERE pm.charge_day = DATE '{day}'
          GROUP BY ALL
        ) WHERE paid > due
        """
    ).fetchone()
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW owing AS SELECT * FROM decided "
        f"WHERE status IN {LIABILITY_STATUSES}"
    )
    read_ids_for(con, "owing")
    contradicted = hold_contradicted(con, register_check or packaged_register_check())
    liabilities = con.sql(
        f"SELECT {', '.join(f'o.{c}' for c in LIABILITY_COLUMNS if c != 'read_ids')}, "
        "sr.read_ids FROM owing o JOIN sighting_reads sr USING (vehicle_key, scheme_id) "
        "ORDER BY o.scheme_id, o.vrm, o.vehicle_key"
    ).to_arrow_table()
    return ChargeDay(
        charge_day=day,
        rules=rules,
        liabilities=liabilities,
        sightings=sum(int(v) for v in counts.values()),
        not_liable=int(counts.get("not_liable", 0)),
        unidentified=int(counts.get("unidentified", 0)),
        absorbed=int(counts.get("absorbed", 0)),
        refunds=int(refund[0]) if refund else 0,
        refunds_pence=int(refund[1]) if refund else 0,
        recovered_asked=asked,
        contradicted=contradicted,
    )
