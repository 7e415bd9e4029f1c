"""Migration 0004 (issue 21): draw_entry keeps only the members that matter (selected, mandatory, excluded).

A store written before it (a row per population member, audit events whose digest covers them all) is pruned
on open; its events still verify (the deleted rows are rebuilt from each draw's record), and a row that had
been tampered with before the upgrade is kept and named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from djctl.services import draws
from djctl.store.audit import rows_digest
from tests.helpers import json_out, small_roster

pytestmark = pytest.mark.sqlite_only
RESULT_COLUMNS = ("final_x100", "rate_x100", "deduction_x100", "checked", "false_tasks")


def _tables_after_0004() -> list[str]:
    """The tables created by the migrations that come after 0004 (newest first, so foreign keys go first)."""
    import re

    from djctl.resources import package_dir

    out: list[str] = []
    for f in sorted((package_dir("store") / "migrations" / "versions").glob("[0-9]*.py"), reverse=True):
        if f.name[:4] > "0004":
            out += re.findall(r"op\.create_table\(\s*[\"'](\w+)[\"']", f.read_text(encoding="utf-8"))[::-1]
    return out


def _old_entry_rows(draw_id, record):
    """draw_entry as djctl wrote it before issue 21: one row per population member."""
    order = {c: i for i, c in enumerate(record.selected, start=1)}
    return [(draw_id, c, record.keys[c], c in order, order.get(c), record.mandatory.get(c, ""),
             record.excluded.get(c, "")) for c in record.population]


def _old_fields(rows):
    return {"entries": len(rows), "entries_digest": rows_digest([r[1:] for r in rows])}


def _rows(db: Path) -> list[tuple]:
    c = sqlite3.connect(db)
    try:
        return c.execute("SELECT draw_id, code, selected, mandatory_reason, excluded_reason FROM draw_entry "
                         "ORDER BY id").fetchall()
    finally:
        c.close()


@pytest.fixture
def old_store(cli, tmp_path, monkeypatch):
    """Ten units, March drawn and April drawn (March's selection excluded) the way djctl drew before 0004,
    the store marked as revision 0003 (the tables of later migrations dropped)."""
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=10)).exit_code == 0
    with monkeypatch.context() as m:
        m.setattr(draws, "_entry_rows", _old_entry_rows)
        m.setattr(draws, "_entries_fields", _old_fields)
        for month in ("2024-03", "2024-04"):
            assert cli("sample", "--month", month, "--seed", f"{month} 种子").exit_code == 0
    db = tmp_path / "djctl.db"
    assert len(_rows(db)) == 20
    c = sqlite3.connect(db)
    for column in RESULT_COLUMNS:  # what 0004 adds
        c.execute(f"ALTER TABLE self_report DROP COLUMN {column}")
    for table in _tables_after_0004():  # and the tables of the migrations after it
        c.execute(f'DROP TABLE "{table}"')
    c.execute("UPDATE alembic_version SET version_num = '0003'")
    c.commit()
    c.close()
    return db


def test_an_old_store_is_pruned_and_still_verifies(cli, old_store):
    doc = json_out(cli("sample", "show", "--month", "2024-04", "--json"))  # opening migrates
    rows = _rows(old_store)
    assert len(rows) < 20
    for draw_id in {r[0] for r in rows}:
        d = json_out(cli("sample", "show", str(draw_id), "--json"))
        kept = {r[1] for r in rows if r[0] == draw_id}
        assert kept == set(d["selected"]) | set(d["mandatory"]) | set(d["excluded"])
    assert doc["excluded"]  # April excludes March's selection: excluded rows are kept too
    assert all(json_out(cli("sample", "verify", str(i), "--json"))["ok"] for i in {r[0] for r in rows})
    v = json_out(cli("audit", "verify", "--json"))
    assert v["ok"] is True, v
    assert list(old_store.parent.glob("djctl.db.bak-0003-*"))


def test_a_row_tampered_before_the_upgrade_is_kept_and_named(cli, old_store):
    c = sqlite3.connect(old_store)
    draw_id, code = c.execute("SELECT draw_id, code FROM draw_entry WHERE selected = 0 AND excluded_reason = '' "
                              "ORDER BY id LIMIT 1").fetchone()
    c.execute("UPDATE draw_entry SET key = 'ff' || substr(key, 3) WHERE draw_id = ? AND code = ?", (draw_id, code))
    c.commit()
    c.close()
    r = cli("audit", "verify", "--json")  # opening migrates
    assert r.exit_code == 1
    v = json.loads(r.stdout)
    assert (draw_id, code) in {(r[0], r[1]) for r in _rows(old_store)}
    assert v["ok"] is False
    assert [(p["table"], p["action"]) for p in v["content"]["problems"]] == [("draw_entry", "sample.draw")]
    r = cli("sample", "verify", str(draw_id))
    assert r.exit_code == 1 and f"抽签明细多出编码「{code}」" in r.stdout


def test_a_new_draw_writes_the_members_that_matter(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=10)).exit_code == 0
    for month in ("2024-03", "2024-04"):
        assert cli("sample", "--month", month, "--seed", "种子").exit_code == 0
    april = json_out(cli("sample", "show", "--month", "2024-04", "--json"))
    rows = [r for r in _rows(tmp_path / "djctl.db") if r[0] == april["id"]]
    assert sorted(r[1] for r in rows) == sorted(set(april["selected"]) | set(april["excluded"]))
    assert len(rows) == 4 and sum(1 for r in rows if r[4]) == 2
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True
