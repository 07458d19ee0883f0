"""The `ringfence` command: a thin face over the services.

Each noun lives in its own module (`cli/reads.py`, `cli/keys.py`...) and is mounted here. A command
parses its options, calls one service and renders the result as a Rich table or, with `--json`, as
one JSON document on stdout.
"""

from __future__ import annotations

import typer

from ringfence.cli import (
    audit,
    cameras,
    charge,
    demo,
    dpia,
    hotlist,
    ingest,
    instruments,
    keys,
    payments,
    pcn,
    plates,
    reads,
    register,
    report,
    requests,
    retention,
    simulate,
    subject,
)

app = typer.Typer(
    name="ringfence",
    help="Ring-fenced ANPR reads, charging and accountable police access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo_command)
app.command("simulate")(simulate.simulate_command)
app.add_typer(cameras.app, name="cameras")
app.command("ingest")(ingest.ingest_command)
app.add_typer(reads.app, name="reads")
app.add_typer(keys.app, name="keys")
app.add_typer(retention.app, name="retention")
app.add_typer(register.app, name="register")
app.add_typer(charge.app, name="charge")
app.add_typer(payments.app, name="payments")
app.add_typer(pcn.app, name="pcn")
app.add_typer(instruments.app, name="instruments")
app.add_typer(dpia.app, name="dpia")
app.add_typer(requests.app, name="requests")
app.add_typer(hotlist.app, name="hotlist")
app.command("subject-access")(subject.subject_access_command)
app.add_typer(audit.app, name="audit")
app.add_typer(report.app, name="report")
app.add_typer(plates.app, name="plates")


if __name__ == "__main__":  # pragma: no cover
    app()
