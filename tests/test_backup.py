"""Backups (`djctl backup`), restores (`djctl restore`) and the automatic backup around a failing migration."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import json_out, small_roster
from djctl.store.engine import known_revisions

pytestmark = pytest.mark.sqlite_only  # backups and restores of the SQLite file


@pytest.fixture
def filled(cli, tmp_path) -> Path:
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=4)).exit_code == 0
    assert cli("tasks", "set", "--month", "2024-03").exit_code == 0
    return tmp_path / "djctl.db"


def counts(db: Path) -> dict[str, int]:
    c = sqlite3.connect(db)
    try:
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master "
                                         "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: c.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}
    finally:
        c.close()


def names(db: Path) -> list[str]:
    c = sqlite3.connect(db)
    try:
        return [r[0] for r in c.execute("SELECT name FROM unit ORDER BY code")]
    finally:
        c.close()


def test_backup_is_verified_and_has_a_sidecar(cli, filled, tmp_path):
    before = counts(filled)
    head = json_out(cli("audit", "head", "--json"))
    doc = json_out(cli("backup", "--out", "b/one.db", "--json"))
    b = tmp_path / "b" / "one.db"
    assert doc["ok"] and doc["problems"] == [] and Path(doc["path"]) == Path("b/one.db")
    assert doc["counts"] == counts(b) == before
    assert doc["head"] == {"seq": head["seq"], "hash": head["hash"]}
    side = json.loads((tmp_path / "b" / "one.db.json").read_text(encoding="utf-8"))
    assert side["format"] == "djctl-backup-v1" and side["counts"] == before and side["head"] == doc["head"]
    assert side["sha256"] == doc["sha256"] and side["revision"] == known_revisions()[-1]
    # one self-contained file: rollback journal, nothing beside it
    c = sqlite3.connect(b)
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    c.close()
    assert sorted(p.name for p in b.parent.iterdir()) == ["one.db", "one.db.head.json", "one.db.json"]  # the head file too (issue 14)
    # the store records the backup
    log = json_out(cli("audit", "log", "--json"))["events"]
    assert log[-1]["action"] == "store.backup" and log[-1]["seq"] == head["seq"] + 1
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_backup_into_a_directory_and_never_over_a_file(cli, filled, tmp_path):
    (tmp_path / "bk").mkdir()
    doc = json_out(cli("backup", "--out", "bk", "--json"))
    made = Path(doc["path"])
    assert made.parent == Path("bk") and made.name.startswith("djctl-") and made.suffix == ".db"
    events = json_out(cli("audit", "head", "--json"))["seq"]
    r = cli("backup", "--out", str(made))
    assert r.exit_code == 2 and "已存在" in r.output
    assert json_out(cli("audit", "head", "--json"))["seq"] == events  # nothing written
    assert json_out(cli("backup", "--out", "new/dir/x.db", "--json"))["ok"]  # directories are made
    assert (tmp_path / "new" / "dir" / "x.db.json").exists()


def test_backup_refuses_when_the_copy_does_not_verify(cli, filled, tmp_path):
    """A store whose rows were edited behind djctl's back is not silently backed up as good."""
    c = sqlite3.connect(filled)
    c.execute("UPDATE task SET points_x100 = 9900 WHERE code = 'T01'")
    c.commit()
    c.close()
    r = cli("backup", "--out", "x.db")
    assert r.exit_code == 3 and "校验失败" in r.output and "task" in r.output
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "x.db.partial").exists()
    assert not (tmp_path / "x.db.json").exists()


def test_restore_puts_the_backup_back_and_keeps_the_replaced_store(cli, filled, tmp_path):
    json_out(cli("backup", "--out", "b.db", "--json"))
    backup_counts = counts(tmp_path / "b.db")
    # life goes on after the backup: a changed roster, another month's tasks
    assert cli("org", "import", small_roster(tmp_path / "r2.xlsx", units=6)).exit_code == 0
    assert cli("tasks", "set", "--month", "2024-04").exit_code == 0
    later = counts(filled)
    later_head = json_out(cli("audit", "head", "--json"))
    doc = json_out(cli("restore", "b.db", "--yes", "--json"))
    kept = Path(doc["kept"])
    assert kept.name.startswith("djctl.db.before-restore-") and kept.parent == tmp_path
    assert counts(kept) == later and doc["replaced_head"] == {"seq": later_head["seq"], "hash": later_head["hash"]}
    now = counts(filled)
    assert now == {**backup_counts, "audit_event": backup_counts["audit_event"] + 1}
    assert len(names(filled)) == 4
    log = json_out(cli("audit", "log", "--json"))["events"]
    assert log[-1]["action"] == "store.restore" and log[-1]["seq"] == doc["restore_event"]
    assert json_out(cli("audit", "verify", "--json"))["ok"]
    # the global --yes works as well
    assert cli("--yes", "restore", "b.db").exit_code == 0


def test_restore_asks_first(cli, filled, tmp_path, monkeypatch):
    json_out(cli("backup", "--out", "b.db", "--json"))
    assert cli("org", "import", small_roster(tmp_path / "r2.xlsx", units=6)).exit_code == 0
    before = counts(filled)
    r = cli("restore", "b.db")  # stdin is not a terminal: refused, nothing touched
    assert r.exit_code == 2 and "--yes" in r.output
    assert counts(filled) == before and not list(tmp_path.glob("djctl.db.before-restore-*"))
    from djctl.cli._settings import Settings

    monkeypatch.setattr(Settings, "interactive", property(lambda self: not self.yes))
    r = cli("restore", "b.db", input="n\n")
    assert r.exit_code == 1 and counts(filled) == before
    r = cli("restore", "b.db", input="y\n")
    assert r.exit_code == 0, r.output
    assert len(names(filled)) == 4


@pytest.mark.parametrize("damage", ["sidecar_mismatch", "rows_edited", "chain_cut", "not_sqlite", "newer"])
def test_restore_refuses_a_bad_backup(cli, filled, tmp_path, damage):
    json_out(cli("backup", "--out", "b.db", "--json"))
    b = tmp_path / "b.db"
    if damage == "not_sqlite":
        b.write_bytes(b"PK\x03\x04 not a database")
    else:
        c = sqlite3.connect(b)
        if damage in ("sidecar_mismatch", "rows_edited"):
            c.execute("UPDATE unit SET members = members + 1 WHERE code = 'U001'" if damage == "sidecar_mismatch"
                      else "UPDATE task SET points_x100 = 100 WHERE code = 'T01'")
        elif damage == "chain_cut":
            c.execute("DROP TRIGGER audit_event_no_delete")
            c.execute("DELETE FROM audit_event WHERE seq = 2")
        else:
            c.execute("UPDATE alembic_version SET version_num = '9999'")
        c.commit()
        c.close()
        if damage == "rows_edited":  # even with a sidecar rewritten to match, the content check finds it
            from djctl.services.importing import file_sha256

            side = tmp_path / "b.db.json"
            doc = json.loads(side.read_text(encoding="utf-8"))
            doc["sha256"] = file_sha256(b)
            side.write_text(json.dumps(doc), encoding="utf-8")
    before = counts(filled)
    r = cli("restore", "b.db", "--yes")
    assert r.exit_code == 2, r.output
    expected = {"sidecar_mismatch": "SHA-256", "rows_edited": "task", "chain_cut": "审计链",
                "not_sqlite": "不是 SQLite", "newer": "9999"}[damage]
    assert expected in r.output
    assert counts(filled) == before and not list(tmp_path.glob("djctl.db.before-restore-*"))


def test_restore_without_a_sidecar_warns_and_works(cli, filled, tmp_path):
    json_out(cli("backup", "--out", "b.db", "--json"))
    (tmp_path / "b.db.json").unlink()
    r = cli("restore", "b.db", "--yes")
    assert r.exit_code == 0, r.output
    assert "说明文件" in r.output


def test_a_damaged_store_is_restored(cli, filled, tmp_path):
    json_out(cli("backup", "--out", "b.db", "--json"))
    data = bytearray(filled.read_bytes())
    for p in tmp_path.glob("djctl.db-*"):
        p.unlink()
    data[100:4096 * 3] = b"\xff" * (4096 * 3 - 100)  # the schema pages are gone
    filled.write_bytes(bytes(data))
    r = cli("org", "list")
    assert r.exit_code == 3, r.output
    r = cli("restore", "b.db", "--yes", "--json")
    assert r.exit_code == 0, r.output
    kept = Path(json.loads(r.stdout)["kept"])
    assert kept.read_bytes()[100:200] == b"\xff" * 100  # the damaged store is kept as it was
    assert len(json_out(cli("org", "list", "--json"))["units"]) == 4
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_backup_and_restore_refuse_postgresql(cli):
    from djctl.errors import DjctlError
    from djctl.services.backup import target_path

    with pytest.raises(DjctlError, match="SQLite"):
        target_path("postgresql+psycopg://djctl@db.example/djctl")


# --------------------------------------------------------------------------- a failing migration

FAILING = '''"""a migration that fails half-way, after committing part of its work"""
from alembic import op

revision = "0099"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if {commit}:
        bind.exec_driver_sql("COMMIT")  # what a careless migration (or a DDL statement elsewhere) can do
    bind.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
    bind.exec_driver_sql("UPDATE unit SET name = 'broken'")
    raise RuntimeError("boom in 0099")


def downgrade() -> None:
    pass
'''


@pytest.mark.parametrize("commit", [False, True], ids=["rolled-back", "committed-half"])
def test_failing_migration_restores_the_automatic_backup(cli, filled, tmp_path, monkeypatch, commit):
    import djctl.store.engine as engine

    before_names = names(filled)
    before = counts(filled)
    mig = tmp_path / "migrations"
    shutil.copytree(engine.MIGRATIONS_DIR, mig, ignore=shutil.ignore_patterns("__pycache__"))
    head = engine.known_revisions()[-1]
    (mig / "versions" / "0099_fails.py").write_text(FAILING.format(down=head, commit=commit), encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(engine, "MIGRATIONS_DIR", mig)
        assert engine.known_revisions()[-1] == "0099"
        r = cli("org", "list")
    assert r.exit_code == 3, r.output
    assert "数据库升级失败，已从升级前的备份恢复" in r.output and "boom in 0099" in r.output
    [bak] = list(tmp_path.glob(f"djctl.db.bak-{head}-*"))
    assert bak.name in r.output
    assert engine.known_revisions()[-1] == head  # back to the shipped migrations
    assert names(filled) == before_names and counts(filled) == before
    c = sqlite3.connect(filled)
    assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
    assert c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone() == (0,)
    c.close()
    assert json_out(cli("audit", "verify", "--json"))["ok"]
    assert len(json_out(cli("org", "list", "--json"))["units"]) == 4


def test_demo_step_makes_a_verified_backup(cli, filled, tmp_path, store):
    from djctl.services.demo.backup import demo_step
    from djctl.services.demo import DemoContext

    demo_step(store, DemoContext(dir=tmp_path / "demo"))
    lines = demo_step(store, DemoContext(dir=tmp_path / "demo"))  # a second demo run replaces its backup
    [b] = list((tmp_path / "demo" / "备份").glob("*.db"))
    assert (b.parent / (b.name + ".json")).exists()
    assert str(b) in lines[0] and "已核对" in lines[0]
    assert cli("restore", str(b), "--yes").exit_code == 0


def test_restore_onto_a_new_machine(cli, filled, tmp_path):
    """No store there yet (a new computer, the old disk gone): the backup becomes the store."""
    json_out(cli("backup", "--out", "b.db", "--json"))
    new = tmp_path / "new" / "djctl.db"
    new.parent.mkdir()
    doc = json_out(cli("--db", str(new), "restore", "b.db", "--yes", "--json"))
    assert doc["kept"] is None and doc["replaced_head"] is None
    assert len(names(new)) == 4
    assert json_out(cli("--db", str(new), "audit", "verify", "--json"))["ok"]
