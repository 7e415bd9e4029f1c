"""`djctl migrate-store`: the whole store, audit chain verbatim, into an empty target; verified, atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import json_out, small_roster
from tests.monthly_helpers import fill_form


def build(cli, db: str, root: Path) -> None:
    """A small store with rows in most tables: scheme, roster, tasks, self-reports, a draw, a tier change,
    a rectification item."""
    def ok(*args):
        r = cli("--db", db, *args)
        assert r.exit_code == 0, r.output
        return r

    ok("init")
    ok("org", "import", small_roster(root / "名册.xlsx", units=4))
    ok("tasks", "set", "--month", "2024-03")
    forms = json.loads(ok("selfeval", "forms", "--month", "2024-03", "--out", root / "表", "--json").stdout)["files"]
    for f in forms[:3]:
        fill_form(Path(f), root / "收回" / Path(f).name)
    ok("selfeval", "import", root / "收回")
    ok("sample", "--month", "2024-03", "--seed", "42", "--count", "2")
    ok("tier", "set", "U001-B01", "过硬", "--date", "2024-06-28", "--basis", "验收")
    ok("rectify", "add", "U002", "--problem", "台账不完整", "--due", "2024-09-30", "--found", "2024-08-30")


def snapshot(cli, db: str) -> dict:
    """What a user sees of a store: roster, tier history, rectifications, the draw, the audit head."""
    def doc(*args):
        return json_out(cli("--db", db, *args, "--json"))

    return {"org": doc("org", "list"), "score": doc("score", "--month", "2024-03"),
            "draw": {k: v for k, v in doc("sample", "show", "--month", "2024-03").items()},
            "rectify": doc("rectify", "list"), "head": {k: v for k, v in doc("audit", "head").items() if k != "store"}}


def migrate(cli, src: str, dest: str):
    return cli("--db", src, "migrate-store", "--to", dest, "--json")


def check_copy(cli, src: str, dest: str, tmp_path: Path) -> dict:
    before = snapshot(cli, src)
    doc = json_out(migrate(cli, src, dest))
    assert doc["verified"] is True
    assert doc["audit"]["head"] == before["head"]
    assert doc["tables"]["audit_event"] == before["head"]["seq"] > 5
    assert doc["tables"]["self_score"] > 0 and doc["tables"]["draw_entry"] == 2 and doc["tables"]["tier_change"] >= 5
    # the copy is the same store: same reports, and its chain verifies against the source's head
    assert snapshot(cli, dest) == before
    (tmp_path / "head.json").write_text(json.dumps(before["head"]))
    assert json_out(cli("--db", dest, "audit", "verify", "--against", str(tmp_path / "head.json"), "--json"))["ok"]
    # the copy takes new writes after the copied ids (sequences reset on PostgreSQL)
    r = cli("--db", dest, "rectify", "add", "U003", "--problem", "新问题", "--due", "2024-10-31", "--found", "2024-09-30", "--json")
    assert json_out(r)["id"] == 2
    r = cli("--db", dest, "org", "import", small_roster(tmp_path / "名册5.xlsx", units=5), "--json")
    assert r.exit_code == 0, r.output
    assert json_out(cli("--db", dest, "audit", "verify", "--json"))["events"] == before["head"]["seq"] + 2
    return doc


def test_sqlite_to_sqlite(cli, tmp_path):
    src, dest = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    build(cli, src, tmp_path)
    doc = check_copy(cli, src, dest, tmp_path)
    assert doc["target"] == dest
    assert sum(doc["tables"].values()) == doc["rows"]


def test_refuses_a_non_empty_target_and_writes_nothing(cli, tmp_path):
    src, dest = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    build(cli, src, tmp_path)
    assert cli("--db", dest, "init").exit_code == 0
    head = json_out(cli("--db", dest, "audit", "head", "--json"))
    r = migrate(cli, src, dest)
    assert r.exit_code == 2, r.output
    assert "不是空的" in r.output and "scheme" in r.output
    assert json_out(cli("--db", dest, "audit", "head", "--json")) == head
    r = migrate(cli, src, src)
    assert r.exit_code == 2 and "相同" in r.output


def test_refuses_a_target_of_another_kind(cli, tmp_path):
    src = str(tmp_path / "a.db")
    assert cli("--db", src, "init").exit_code == 0
    (tmp_path / "notes.txt").write_text("not a database")
    r = migrate(cli, src, str(tmp_path / "notes.txt"))
    assert r.exit_code == 2 and "不是 SQLite" in r.output, r.output
    r = migrate(cli, src, str(tmp_path / "nowhere" / "b.db"))
    assert r.exit_code == 3 and "目录不存在" in r.output, r.output
    r = migrate(cli, src, "nosuchdriver://x/y")
    assert r.exit_code == 3 and "无法使用数据库地址" in r.output, r.output
    assert "Traceback" not in r.output


def test_a_failed_verification_rolls_the_whole_copy_back(cli, tmp_path, monkeypatch):
    from djctl.services import migrate_store as ms
    from djctl.store.audit import VerifyResult

    src, dest = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    build(cli, src, tmp_path)
    real = ms.audit.verify
    monkeypatch.setattr(ms.audit, "verify", lambda conn, against=None: VerifyResult(False, 0, "0" * 64, 0, "测试注入"))
    r = migrate(cli, src, dest)
    assert r.exit_code == 1 and "测试注入" in r.output and "已回滚" in r.output, r.output
    from djctl.store.engine import current_revision, make_engine, resolve_url, Store

    target = Store(resolve_url(dest), make_engine(resolve_url(dest)))
    try:
        assert current_revision(target) is None  # not even the schema was left behind
    finally:
        target.dispose()
    monkeypatch.setattr(ms.audit, "verify", real)
    assert json_out(migrate(cli, src, dest))["verified"] is True


def test_sqlite_to_postgresql(cli, tmp_path, server_db):
    src = str(tmp_path / "a.db")
    build(cli, src, tmp_path)
    dest = server_db()
    check_copy(cli, src, dest, tmp_path)
    r = migrate(cli, src, dest)
    assert r.exit_code == 2 and "不是空的" in r.output, r.output


def test_postgresql_to_sqlite(cli, tmp_path, server_db):
    src = server_db()
    build(cli, src, tmp_path)
    check_copy(cli, src, str(tmp_path / "b.db"), tmp_path)


@pytest.mark.parametrize("chunk", [1, 3])
def test_small_chunks_copy_everything(tmp_path, cli, monkeypatch, chunk):
    from djctl.services import migrate_store as ms

    monkeypatch.setattr(ms, "CHUNK", chunk)
    src, dest = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert cli("--db", src, "init").exit_code == 0
    assert cli("--db", src, "org", "import", small_roster(tmp_path / "r.xlsx", units=7)).exit_code == 0
    doc = json_out(migrate(cli, src, dest))
    assert doc["tables"]["unit"] == 7 and doc["tables"]["branch"] == 7
