"""Alembic environment: migrations run on the connection Ringfence hands over (see state.py).

From the command line (`alembic -x url=... upgrade head`) it opens that URL itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from ringfence.stores.state import Base

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: rebuild tables in batches there.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Ringfence migrations run online only")
handed_over = config.attributes.get("connection")
if handed_over is not None:
    run_on(handed_over)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    with create_engine(str(url)).connect() as own:
        run_on(own)
