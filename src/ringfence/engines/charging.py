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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa

from ringfence.domain.observations import RegisterCheck
from ringfence.domain.schemes import DayRules, SchemeBook, price_sql
from ringfence.engines.matching import Recover, finish_matching, start_matching
from ringfence.engines.observations import hold_contradicted, vote_chosen_sql, vote_counts
from ringfence.engines.refunds import build_refunds_due, no_refunds, refund_total
from ringfence.engines.register import seen_vehicles_sql
from ringfence.engines.sightings import EvidenceRule, build_sightings, read_ids_for
from ringfence.settings import packaged_register_check

LIABILITY_STATUSES = ("unpaid", "paid", "exempt", "review")
LIABILITY_ORDER = "ORDER BY scheme_id, vrm, vehicle_key"
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
    paid more than the rate it qualified for), and their total in pence: `refunds_due` summed."""
    refunds_pence: int = 0
    recovered_asked: int = 0
    """Sighted keys outside the register whose clear VRM was asked of ``recover``."""
    contradicted: int = 0
    """Charges held for review because cameras saw another vehicle than the register holds."""
    refunds_due: pa.Table = field(default_factory=no_refunds)
    """One row per refund due, with its reason (`refunds.REFUND_COLUMNS`)."""


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


def _priced_sql(rules: DayRules) -> str:
    """Price each registered vehicle seen under one scheme: on time and paid late.

    Vehicles the scheme does not charge (compliant, out of scope) are dropped here: they are
    most sightings, and nothing after this needs them but their number.
    """
    on_time = price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds")
    late = price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds", paid_late="TRUE")
    # The late price only for those the scheme charges: one price per sighting, not two.
    return f"""
        SELECT vehicle_key, scheme_id, vrm, vrm_text, reads, confident_reads,
               best_confidence, first_seen_at, is_sufficient, p, {late} AS p_late
        FROM (
          SELECT a.*, {on_time} AS p
          FROM ({seen_vehicles_sql("sightings", rules)}) a
        ) a
        WHERE p.status <> 'not_applicable'
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


@dataclass(frozen=True, slots=True)
class DayDecisions:
    """A charge day decided, before the liabilities' reads are gathered (`explain_charge_day`).

    Leaves on the connection the temp table `decided` and the view `decisions` over it: one
    row per liability with its explanation (`reason`), every `LIABILITY_COLUMNS` column but
    `read_ids`.

    A caller that stores liabilities can start saving these while the reads are gathered: all
    that pass changes is the few charges the cameras' observations contradict (held for review).
    """

    charge_day: date
    rules: dict[str, DayRules]
    sightings: int
    not_liable: int
    unidentified: int
    absorbed: int
    recovered_asked: int
    refunds_due: pa.Table


def run_charge_day(
    con: duckdb.DuckDBPyConnection,
    book: SchemeBook,
    day: date,
    *,
    evidence_rule: EvidenceRule | None = None,
    recover: Recover | None = None,
    register_check: RegisterCheck | None = None,
    fetch: bool = True,
) -> ChargeDay:
    """Decide a day (`decide_charge_day`) and gather its liabilities' reads
    (`explain_charge_day`)."""
    decisions = decide_charge_day(con, book, day, evidence_rule=evidence_rule, recover=recover)
    return explain_charge_day(con, decisions, register_check=register_check, fetch=fetch)


def decide_charge_day(
    con: duckdb.DuckDBPyConnection,
    book: SchemeBook,
    day: date,
    *,
    evidence_rule: EvidenceRule | None = None,
    recover: Recover | None = None,
) -> DayDecisions:
    """Decide a day's liabilities (see `DayDecisions`). ``recover`` fills in the clear VRM of
    sighted plates the register does not know, where `day_reads.vrm_text` is NULL (stored
    mode), for confusion-key matching."""
    rules = day_rules(book, day)
    _windows(con, rules)
    build_sightings(con, evidence_rule or EvidenceRule())
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = start_matching(con, recover, pool)
        _price(con, rules)
        asked = finish_matching(con, pending)
    _decide(con, day)
    decided = [f"d.{c}" for c in LIABILITY_COLUMNS if c not in ("reason", "read_ids")]
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW decisions AS SELECT {', '.join(decided)}, "
        f"{_REASON} AS reason FROM decided d"
    )
    sightings, unmatched, liable = con.execute(
        "SELECT (SELECT count(*) FROM sightings), (SELECT count(*) FROM unmatched), "
        "(SELECT count(*) FROM priced)"
    ).fetchone() or (0, 0, 0)
    dropped = dict(
        con.execute(
            "SELECT match, count(*) FROM unmatched "
            "WHERE match = 'absorbed' OR (match = 'unregistered' AND NOT is_sufficient) "
            "GROUP BY 1"
        ).fetchall()
    )
    return DayDecisions(
        charge_day=day,
        rules=rules,
        sightings=int(sightings),
        not_liable=int(sightings) - int(unmatched) - int(liable),
        unidentified=int(dropped.get("unregistered", 0)),
        absorbed=int(dropped.get("absorbed", 0)),
        recovered_asked=asked,
        refunds_due=build_refunds_due(con, day, rules),
    )


def explain_charge_day(
    con: duckdb.DuckDBPyConnection,
    decisions: DayDecisions,
    *,
    register_check: RegisterCheck | None = None,
    fetch: bool = True,
) -> ChargeDay:
    """Gather each decided liability's reads, and hold for review the charges whose register
    entry the cameras' make and type observations contradict (``register_check``, default:
    the packaged `[misread]` rule). The liabilities are left in the temp view `liabilities`
    (order them by `LIABILITY_ORDER`); with ``fetch`` false, the result's table is empty and a
    caller that stores them reads the view instead (hundreds of thousands of rows need not
    pass through Arrow), and each liability's `read_ids` are in no particular order (a
    fetched result lists them in time order)."""
    check = register_check or packaged_register_check()
    con.execute(f"CREATE OR REPLACE TEMP TABLE vote_chosen AS {vote_chosen_sql(check)}")
    # A stored run (not fetched) keeps its lists as sets: see `sightings.READ_IDS`.
    read_ids_for(con, "vote_chosen", vote_counts(check), in_order=fetch)
    contradicted = hold_contradicted(con, check)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW liabilities AS SELECT d.*, sr.read_ids "
        "FROM decisions d JOIN sighting_reads sr USING (vehicle_key, scheme_id)"
    )
    liabilities = con.sql(
        f"SELECT {', '.join(LIABILITY_COLUMNS)} FROM liabilities {LIABILITY_ORDER}"
        + ("" if fetch else " LIMIT 0")
    ).to_arrow_table()
    refunds_due = decisions.refunds_due
    return ChargeDay(
        charge_day=decisions.charge_day,
        rules=decisions.rules,
        liabilities=liabilities,
        sightings=decisions.sightings,
        not_liable=decisions.not_liable,
        unidentified=decisions.unidentified,
        absorbed=decisions.absorbed,
        refunds=refunds_due.num_rows,
        refunds_pence=refund_total(refunds_due),
        refunds_due=refunds_due,
        recovered_asked=decisions.recovered_asked,
        contradicted=contradicted,
    )


def _price(con: duckdb.DuckDBPyConnection, rules: dict[str, DayRules]) -> None:
    """Temp tables `priced` (registered sightings the schemes charge) and `paid`."""
    # Sightings exist only under schemes that charge this day (they come from its windows).
    charging = {s: r for s, r in rules.items() if r.windows}
    if charging:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE priced AS "
            + " UNION ALL ".join(_priced_sql(r) for r in charging.values())
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE paid AS {_payments_sql(charging)}")
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE priced AS SELECT *, NULL AS vrm, NULL AS p, "
        "NULL AS p_late FROM sightings WHERE false"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE paid AS SELECT NULL AS vehicle_key, NULL AS scheme_id, "
        "0 AS paid_on_time, 0 AS paid_by_deadline WHERE false"
    )


def _decide(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Temp table `decided`: one row per liability (status in `LIABILITY_STATUSES`), with what
    its explanation needs. Priced registered sightings and the unmatched that need a person."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH j AS (
          SELECT pr.*, 'exact' AS match, NULL::VARCHAR[] AS candidates, ap.account_id,
                 coalesce(pd.paid_on_time, 0) >= pr.p.amount_pence
                   OR coalesce(pd.paid_by_deadline, 0) >= pr.p_late.amount_pence AS is_paid,
                 coalesce(pd.paid_by_deadline, 0) AS paid_pence
          FROM priced pr
          LEFT JOIN paid pd ON pd.vehicle_key = pr.vehicle_key AND pd.scheme_id = pr.scheme_id
          LEFT JOIN (SELECT DISTINCT vehicle_key, account_id FROM autopay
                     WHERE valid_from <= DATE '{day}'
                       AND (valid_to IS NULL OR valid_to >= DATE '{day}')) ap
                 ON ap.vehicle_key = pr.vehicle_key
          UNION ALL BY NAME
          SELECT s.* REPLACE (u.vrm_text AS vrm_text), u.match, u.candidates, NULL AS vrm,
                 NULL AS p, NULL AS p_late, NULL AS account_id, FALSE AS is_paid,
                 0 AS paid_pence
          FROM unmatched u JOIN sightings s USING (vehicle_key, scheme_id)
          WHERE u.match = 'confusion' OR (u.match = 'unregistered' AND u.is_sufficient)
        )
        SELECT vehicle_key, coalesce(vrm, vrm_text) AS vrm, scheme_id,
               DATE '{day}' AS charge_day, reads, confident_reads, best_confidence, first_seen_at,
               is_sufficient, is_paid, paid_pence, match, candidates, p, p_late,
               CASE
                 WHEN match <> 'exact' THEN 'review'
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
               CASE WHEN p.status IN ('chargeable', 'review') THEN p.amount_pence ELSE 0 END
                 AS amount_pence,
               CASE WHEN p.status = 'chargeable' AND is_sufficient AND NOT is_paid
                    THEN account_id END AS account_id,
               account_id AS autopay_account,
               NULL::VARCHAR AS reason  -- set only where a later check overrides the decision
        FROM j
        """
    )


# Explanations are built only for the liabilities (not for every sighting), from `decided` (d).
_REASON = """
    CASE
      WHEN d.reason IS NOT NULL THEN d.reason
      WHEN d.match = 'confusion' THEN 'not in the register; possible misread of '
           || array_to_string(d.candidates, ', ')
      WHEN d.match = 'unregistered'
        THEN 'not in the vehicle register (foreign, unregistered or misread)'
      WHEN NOT d.is_sufficient AND d.p.status = 'chargeable'
        THEN 'only ' || d.confident_reads || ' confident read(s) of ' || d.reads
             || ' (best ' || round(d.best_confidence, 2) || '): not enough to charge'
      WHEN d.p.status = 'chargeable' AND d.is_paid
        THEN 'paid ' || d.paid_pence || 'p under ' || d.p.rule
      WHEN d.p.status = 'chargeable' AND d.autopay_account IS NOT NULL
        THEN d.p.amount_pence || 'p under ' || d.p.rule || ', billed monthly to Auto Pay '
             || 'account ' || d.autopay_account
      WHEN d.p.status = 'chargeable'
        THEN d.reads || ' read(s) in charging hours, first at '
             || strftime(timezone('Europe/London', d.first_seen_at), '%H:%M')
             || ' London time; ' || d.p.amount_pence || 'p due under ' || d.p.rule
             || CASE WHEN d.p_late.amount_pence <> d.p.amount_pence
                     THEN ' (' || d.p_late.amount_pence || 'p if paid late)'
                     ELSE '' END
      ELSE d.p.rule
    END
"""
