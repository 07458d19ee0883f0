"""The `ringfence` command: a thin face over the services.

Each noun lives in its own module (`cli/reads.py`, `cli/keys.py`...) and is mounted here. A command
parses its options, calls one service and renders the result as a Rich table or, with `--json`, as
one JSON document on stdout.
"""

from __future__ import annotations

import typer

from ringfence.cli import plates, simulate

app = typer.Typer(
    name="ringfence",
    help="Ring-fenced ANPR reads, charging and accountable police access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(plates.app, name="plates")
app.command("simulate")(simulate.simulate_command)


if __name__ == "__main__":  # pragma: no cover
    app()
