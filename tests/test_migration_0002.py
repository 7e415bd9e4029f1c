"""Migration 0002 stores each self report's total; a store written before it is filled in on open, and
scores read the same either way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import json_out
from tests.monthly_helpers import fill_all, import_json, setup_month

pytestmark = pytest.mark.sqlite_only


def _totals(db) -> dict[int, tuple]:
    c = sqlite3.connect(db)
    try:
        return {rid: (total, summed) for rid, total, summed in c.execute(
            "SELECT r.id, r.total_x100, (SELECT SUM(points_x100) FROM self_score s WHERE s.report_id = r.id) "
            "FROM self_report r")}
    finally:
        c.close()


def test_imported_reports_carry_their_total(cli, tmp_path):
    setup = setup_month(cli, tmp_path, units=3)
    assert import_json(cli, *fill_all(setup, tmp_path / "收回").values())[0] == 0
    totals = _totals(tmp_path / "djctl.db")
    assert len(totals) == 3 and all(t == s and t is not None for t, s in totals.values())


def test_a_store_from_before_0002_is_filled_in_and_scores_the_same(cli, tmp_path):
    setup = setup_month(cli, tmp_path, units=3)
    assert import_json(cli, *fill_all(setup, tmp_path / "收回").values())[0] == 0
    before = json_out(cli("score", "--month", setup.month, "--json"))
    db = tmp_path / "djctl.db"
    c = sqlite3.connect(db)  # make it the store djctl 0001 wrote: no column, revision 0001
    c.execute("ALTER TABLE self_report DROP COLUMN total_x100")
    c.execute("UPDATE alembic_version SET version_num = '0001'")
    c.execute("DROP TABLE IF EXISTS doc_number")   # a table of a later migration (0007) is not in a 0001 store
    c.commit()
    c.close()
    after = json_out(cli("score", "--month", setup.month, "--json"))  # opening migrates (with a backup first)
    assert after == before
    totals = _totals(db)
    assert len(totals) == 3 and all(t == s and t is not None for t, s in totals.values())
    assert list(tmp_path.glob("djctl.db.bak-0001-*"))
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_a_report_without_a_stored_total_is_summed(cli, tmp_path):
    setup = setup_month(cli, tmp_path, units=3)
    assert import_json(cli, *fill_all(setup, tmp_path / "收回").values())[0] == 0
    before = json_out(cli("score", "--month", setup.month, "--json"))
    c = sqlite3.connect(tmp_path / "djctl.db")
    c.execute("UPDATE self_report SET total_x100 = NULL")
    c.commit()
    c.close()
    assert json_out(cli("score", "--month", setup.month, "--json")) == before


def test_two_commands_opening_an_old_store_at_once_upgrade_it_once(cli, tmp_path):
    from tests.test_integrity_concurrency import run_together

    setup = setup_month(cli, tmp_path, units=3)
    assert import_json(cli, *fill_all(setup, tmp_path / "收回").values())[0] == 0
    db = tmp_path / "djctl.db"
    c = sqlite3.connect(db)
    c.execute("ALTER TABLE self_report DROP COLUMN total_x100")
    c.execute("UPDATE alembic_version SET version_num = '0001'")
    c.execute("DROP TABLE IF EXISTS doc_number")   # a table of a later migration (0007) is not in a 0001 store
    c.commit()
    c.close()
    results = run_together(tmp_path, [["org", "list", "--json"], ["score", "--month", setup.month, "--json"]])
    assert [code for code, _, _ in results] == [0, 0], results
    c = sqlite3.connect(db)
    try:
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [(_head(),)]
        migrations = c.execute("SELECT payload FROM audit_event WHERE action = 'store.migrate' "
                               "AND payload LIKE '%\"from\":\"0001\"%'").fetchall()
    finally:
        c.close()
    assert len(migrations) == 1, migrations
    assert len(list(tmp_path.glob("djctl.db.bak-0001-*"))) in (1, 2)  # each opener may have taken its own backup
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def _head() -> str:
    """The newest migration (0002 when this test was written; later migrations follow it)."""
    import djctl.store
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(djctl.store.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()
