"""Alembic environment: runs on the connection djctl passes in (inside its write transaction)."""

from alembic import context
from sqlmodel import SQLModel

import djctl.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - djctl always passes its connection
    raise RuntimeError("djctl migrations run through djctl.store.engine.open_store")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
