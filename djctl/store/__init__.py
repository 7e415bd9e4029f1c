"""The store: SQLModel tables, engine and units of work, migrations and the audit chain."""
