"""Store, migrations, audit chain, scheme and the global conventions."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tests.helpers import json_out, small_roster


@pytest.mark.sqlite_only
def test_init_creates_store_and_scheme(cli, tmp_path):
    r = cli("init")
    assert r.exit_code == 0, r.output
    assert "djctl.db" in r.stdout and "2024" in r.stdout
    again = cli("init", "--json")
    assert json_out(again)["status"] == "unchanged"


@pytest.mark.real_migrations
def test_migrated_schema_matches_tables(store):
    """An empty store migrated to head has exactly the schema the tables define."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import djctl.store.tables  # noqa: F401

    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        names = set(inspect(conn).get_table_names())
    assert diffs == []
    assert {"unit", "branch", "scheme", "import_file", "audit_event", "self_score", "draw"} <= names


def test_store_newer_than_code_is_refused(cli, store):
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    store.dispose()
    r = cli("org", "list")
    assert r.exit_code == 3, r.output
    assert "比本程序新" in r.output


def test_foreign_database_is_refused(cli, tmp_path):
    db = tmp_path / "other.db"
    c = sqlite3.connect(db)
    c.execute("create table things (x)")
    c.commit()
    c.close()
    r = cli("--db", str(db), "org", "list")
    assert r.exit_code == 3, r.output


@pytest.mark.sqlite_only
def test_sqlite_pragmas(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_audit_rows_cannot_be_updated_or_deleted(store):
    from djctl.store.audit import AUDIT

    with store.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            with conn.begin():
                conn.execute(AUDIT.update().values(actor="x"))
        with pytest.raises(Exception, match="append-only"):
            with conn.begin():
                conn.execute(AUDIT.delete())


@pytest.mark.sqlite_only
def test_audit_verify_finds_a_flipped_byte(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx")).exit_code == 0
    ok = cli("audit", "verify", "--json")
    doc = json_out(ok)
    assert doc["ok"] and doc["events"] == 3
    # flip one byte of the org.import payload directly in the file
    db = tmp_path / "djctl.db"
    c = sqlite3.connect(db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    data = bytearray(db.read_bytes())
    needle = "测试单位3机关党委".encode()
    idx = data.find(needle, data.find(b'"rows":'))
    assert idx > 0
    data[idx + len(needle) - 1] ^= 0x01
    db.write_bytes(bytes(data))
    bad = cli("audit", "verify")
    assert bad.exit_code == 1, bad.output
    assert "第 3 号事件" in bad.output


@pytest.mark.sqlite_only
def test_audit_truncated_and_recomputed_chain_fails_against_head(cli, tmp_path):
    assert cli("init").exit_code == 0
    head = cli("audit", "head", "--json")
    (tmp_path / "head.json").write_text(head.stdout)
    assert cli("audit", "verify", "--against", "head.json").exit_code == 0
    # rebuild the store from scratch: a locally valid chain, but not the one whose head was kept
    for p in tmp_path.glob("djctl.db*"):
        p.unlink()
    assert cli("init").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
    r = cli("audit", "verify", "--against", "head.json")
    assert r.exit_code == 1, r.output


def test_scheme_check_reports_key_paths(cli, tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[scheme]\nyear = 2024\n[sampling]\nrate = 1.5\nbogus = 1\n[annual]\nweights = {daily = 0.5, democratic = 0.3}\n',
                 encoding="utf-8")
    r = cli("scheme", "check", f)
    assert r.exit_code == 2
    assert "sampling.rate" in r.output and "sampling.bogus" in r.output and "annual.weights" in r.output


def test_scheme_defaults_match_design(cli):
    from decimal import Decimal

    from djctl.services.setup import read_scheme_file

    s = read_scheme_file(None)[1]
    assert s.sampling.rate == Decimal("0.2") and s.sampling.min_count == 1
    assert s.spot_check.false_multiplier == 2 and s.spot_check.tolerance == 0
    assert s.annual.weight_daily == Decimal("0.7") and s.annual.bonus_cap == 5 and s.annual.deduction_cap == 10
    assert s.tiers.target_standard == Decimal("0.95") and s.lookback.rate == Decimal("0.3")
    assert sum(t.points for t in s.tasks) == 100
    assert set(s.checklists) == {"达标", "过硬", "示范"}


def test_bad_usage_exit_2(cli):
    r = cli("org", "import")
    assert r.exit_code == 2


def test_help_is_cheap_subprocess():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "djctl", "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "djctl" in r.stdout
    imported = r.stderr
    for heavy in ("sqlmodel", "openpyxl", "docx", "alembic", "jinja2"):
        assert f" {heavy}\n" not in imported and f"| {heavy}\n" not in imported, f"{heavy} imported by --help"


def test_every_store_a_command_opens_is_closed_when_it_ends(cli, monkeypatch):
    """No connection outlives its command (in one process a late close could checkpoint a WAL much later)."""
    from djctl.store.engine import Store

    opened, closed = [], []
    real_init, real_dispose = Store.__init__, Store.dispose
    monkeypatch.setattr(Store, "__init__", lambda self, *a, **k: (opened.append(self), real_init(self, *a, **k))[1])
    monkeypatch.setattr(Store, "dispose", lambda self: (closed.append(self), real_dispose(self))[1])
    assert cli("init").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
    assert cli("org", "show", "NOPE").exit_code != 0  # a refused command closes its store too
    assert opened and all(s in closed for s in opened)


def test_product_modules_hold_no_demo_code():
    """Every demo step and form filler lives in djctl/services/demo/ (the product never carries the demo's year)."""
    import ast

    root = Path(__file__).resolve().parent.parent / "djctl"
    demo = root / "services" / "demo"
    found = []
    for path in sorted(root.rglob("*.py")):
        if demo in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and (node.name.startswith(("demo_", "fill_")) or node.name == "demo_step"):
                found.append(f"{path.relative_to(root)}:{node.name}")
    assert found == []
    assert {p.stem for p in demo.glob("*.py")} >= {"__init__", "checks", "draws", "lookback", "recheck", "feedback", "seeds"}
