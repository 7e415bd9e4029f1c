"""Generate the next Alembic migration from the tables (developer tool).

Usage: python scripts/new_migration.py NNNN "message"
It migrates a scratch SQLite store to the current head, then autogenerates the difference
between that schema and `djctl/store/tables.py`. Review the file before committing it.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from djctl.store.engine import MIGRATIONS_DIR, known_revisions, make_engine


def main() -> None:
    rev_id, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.connect() as conn:
            conn.execution_options(djctl_write=True)
            with conn.begin():
                cfg.attributes["connection"] = conn
                if known_revisions():
                    command.upgrade(cfg, "head")
                command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main()
