"""Refunds due for a charge day: payments above what each vehicle owed, each with its reason.

Runs after the charge run has decided the day (`decided`, `paid`, `sightings` exist on the
connection) and writes the temp table

    refunds_due(vehicle_key, vrm, scheme_id, charge_day, paid_pence, due_pence, refund_pence,
                reason)

one row per vehicle and scheme paid for more than it owed: not seen in charging hours, seen but
compliant or out of scope, exempt, short of the charge (which stays unpaid and is enforced), or
paid more than the rate it qualified for (the standard rate when paid on time, the late rate
otherwise). ``vrm`` is the payer's plate as paid when `payments` carries a clear ``vrm`` column
(stored mode keeps it from the operator's payments file); NULL otherwise.

A payment for a liability held for review is not refunded: the review may still find the charge
owed, and money once returned is not easily asked for again.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ringfence.domain.schemes import DayRules, price_sql
from ringfence.engines.register import seen_vehicles_sql
from ringfence.stores.readstore import relation_columns

REFUND_COLUMNS = (
    "vehicle_key",
    "vrm",
    "scheme_id",
    "charge_day",
    "paid_pence",
    "due_pence",
    "refund_pence",
    "reason",
)


def build_refunds_due(
    con: duckdb.DuckDBPyConnection, day: date, rules: dict[str, DayRules]
) -> pa.Table:
    """Create `refunds_due` for ``day`` and return it (a few rows: only payments are read)."""
    _not_charged(con, day, rules)
    vrm = "any_value(vrm)" if "vrm" in relation_columns(con, "payments") else "NULL::VARCHAR"
    charging = [s for s, r in rules.items() if r.windows]
    charges_today = "scheme_id IN (" + ", ".join(f"'{s}'" for s in charging) + ")"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE refunds_due AS
        WITH pm AS (
          SELECT vehicle_key, scheme_id, sum(amount_pence) AS paid_pence, {vrm} AS vrm
          FROM payments WHERE charge_day = DATE '{day}'
          GROUP BY vehicle_key, scheme_id
        ), j AS (
          SELECT pm.*, d.status, d.p, d.p_late, nc.rule AS not_charged_rule,
                 {charges_today if charging else "FALSE"} AS charges_today,
                 coalesce(pd.paid_on_time, 0) >= d.p.amount_pence AS on_time,
                 CASE WHEN d.status = 'paid' AND d.p.status = 'chargeable'
                      THEN greatest(d.p.amount_pence,
                                    CASE WHEN coalesce(pd.paid_on_time, 0) >= d.p.amount_pence
                                         THEN 0 ELSE d.p_late.amount_pence END)
                      ELSE 0 END AS due_pence
          FROM pm
          LEFT JOIN decided d USING (vehicle_key, scheme_id)
          LEFT JOIN paid pd USING (vehicle_key, scheme_id)
          LEFT JOIN refund_not_charged nc USING (vehicle_key, scheme_id)
          WHERE d.status IS DISTINCT FROM 'review'
        )
        SELECT vehicle_key, vrm, scheme_id, DATE '{day}' AS charge_day, paid_pence::BIGINT
                 AS paid_pence, due_pence::BIGINT AS due_pence,
               (paid_pence - due_pence)::BIGINT AS refund_pence,
               'paid ' || paid_pence || 'p; ' || {_REASON} AS reason
        FROM j WHERE paid_pence > due_pence
        ORDER BY scheme_id, vrm, vehicle_key
        """
    )
    return con.table("refunds_due").to_arrow_table()


def refund_total(refunds_due: pa.Table) -> int:
    """The pence a `refunds_due` table pays back."""
    total = pc.sum(refunds_due.column("refund_pence")).as_py()
    return int(total or 0)


def no_refunds() -> pa.Table:
    return pa.table(
        {
            "vehicle_key": pa.array([], pa.string()),
            "vrm": pa.array([], pa.string()),
            "scheme_id": pa.array([], pa.string()),
            "charge_day": pa.array([], pa.date32()),
            "paid_pence": pa.array([], pa.int64()),
            "due_pence": pa.array([], pa.int64()),
            "refund_pence": pa.array([], pa.int64()),
            "reason": pa.array([], pa.string()),
        }
    )


_REASON = """
    CASE
      WHEN status = 'paid' THEN 'owed ' || due_pence || 'p ('
           || CASE WHEN on_time THEN 'paid on time' ELSE 'paid late' END || ')'
      WHEN status = 'exempt' THEN 'vehicle exempt: ' || p.rule
      WHEN status = 'unpaid' THEN 'short of the ' || p.amount_pence || 'p charge ('
           || p_late.amount_pence || 'p if paid late), which stays unpaid'
      WHEN not_charged_rule LIKE 'compliance:%' THEN 'compliant: ' || not_charged_rule
      WHEN not_charged_rule IS NOT NULL
        THEN 'not charged under ' || scheme_id || ': ' || not_charged_rule
      WHEN charges_today THEN 'not seen under ' || scheme_id || ' in charging hours'
      ELSE 'no ' || scheme_id || ' charge on ' || charge_day
    END
"""


def _not_charged(con: duckdb.DuckDBPyConnection, day: date, rules: dict[str, DayRules]) -> None:
    """Temp table `refund_not_charged(vehicle_key, scheme_id, rule)`: why a paying vehicle seen
    under a scheme owes nothing there. The charge run drops such vehicles without keeping the
    rule (they are most sightings); only the few that paid are priced again here."""
    # The paying vehicles first, as a table of their own: priced straight from `sightings`,
    # the optimiser joined millions of sightings to the register before filtering.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE refund_paying AS
        SELECT s.* FROM sightings s
        SEMI JOIN (SELECT vehicle_key, scheme_id FROM payments
                   WHERE charge_day = DATE '{day}') pm
               ON pm.vehicle_key = s.vehicle_key AND pm.scheme_id = s.scheme_id
        ANTI JOIN decided d ON d.vehicle_key = s.vehicle_key AND d.scheme_id = s.scheme_id
        """
    )
    parts = [_not_charged_sql(r) for r in rules.values() if r.windows]
    if not parts:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE refund_not_charged AS SELECT NULL AS vehicle_key, "
            "NULL::VARCHAR AS scheme_id, NULL::VARCHAR AS rule WHERE false"
        )
        return
    con.execute("CREATE OR REPLACE TEMP TABLE refund_not_charged AS " + " UNION ALL ".join(parts))


def _not_charged_sql(rules: DayRules) -> str:
    price = price_sql(rules, vehicle="a", compliance="a.c", kinds="a.kinds")
    return f"""
        SELECT vehicle_key, scheme_id, p.rule AS rule FROM (
          SELECT a.vehicle_key, a.scheme_id, {price} AS p
          FROM ({seen_vehicles_sql("refund_paying", rules)}) a
        ) WHERE p.status = 'not_applicable'
    """
