"""Tamper evidence: every change made behind djctl's back is found by `djctl audit verify`, named by the
audit event (seq) and the table and row.

One store is built once through the real CLI (self-assessments, a draw, two check imports, votes, an
adjustment added and one revoked) and copied per test; each test changes it with plain sqlite3, as
someone with a SQLite browser would (dropping the audit triggers where the audit table is the target).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.check_helpers import MONTH, check_forms, fill_check, setup_checks
from tests.helpers import workbook

pytestmark = pytest.mark.sqlite_only

_BASE: Path | None = None


def _build(cli, tmp_path: Path) -> None:
    setup_checks(cli, tmp_path)
    forms = check_forms(cli, tmp_path / "核查表")
    done = tmp_path / "核查收回"
    fill_check(forms["U001"], done / forms["U001"].name, verified={"T02": 6}, false={"T02": "是"})
    fill_check(forms["U004"], done / forms["U004"].name)
    assert cli("check", "import", done).exit_code == 0
    votes = workbook(tmp_path / "测评.xlsx", {"民主测评": [["单位编码", "单位名称", "好", "较好", "一般", "差", "参评人数"],
                                                     ["U001", "", 30, 10, 0, 0, 40], ["U002", "", 20, 5, 1, 0, 26],
                                                     ["U003", "", 12, 12, 2, 1, 27]]})
    assert cli("votes", "import", votes, "--year", "2024").exit_code == 0
    for args in (("--bonus", "2", "--reason", "获评省级先进", "--basis", "示委发〔2024〕12号"),
                 ("--deduct", "1", "--reason", "迟报", "--basis", "通报〔2024〕3号")):
        assert cli("adjust", "add", "U002", "--year", "2024", *args).exit_code == 0
    assert cli("adjust", "revoke", "2", "--reason", "误录").exit_code == 0


@pytest.fixture
def db(cli, tmp_path) -> Path:
    """The test's store: a copy of the store built once for this module."""
    global _BASE
    target = Path(os.environ["DJCTL_DB"])
    from djctl.store.engine import backup_sqlite

    if _BASE is None:
        _build(cli, tmp_path)
        base = tmp_path.parent / f"tamper-base-{os.getpid()}.db"
        backup_sqlite(target, base)
        _BASE = base
    else:
        backup_sqlite(_BASE, target)
    return target


def sql(db: Path, *statements: str, triggers: bool = True) -> None:
    c = sqlite3.connect(db)
    try:
        if not triggers:
            c.execute("DROP TRIGGER audit_event_no_update")
            c.execute("DROP TRIGGER audit_event_no_delete")
        for s in statements:
            c.execute(s)
        c.commit()
    finally:
        c.close()


def one(db: Path, query: str) -> Any:
    c = sqlite3.connect(db)
    try:
        return c.execute(query).fetchone()[0]
    finally:
        c.close()


def event_seq(db: Path, action: str, key: str, value: int) -> int:
    c = sqlite3.connect(db)
    try:
        for seq, payload in c.execute("SELECT seq, payload FROM audit_event WHERE action = ? ORDER BY seq", (action,)):
            if json.loads(payload).get(key) == value:
                return seq
    finally:
        c.close()
    raise AssertionError(f"no {action} event with {key}={value}")


def verify(cli, *args: str) -> dict[str, Any]:
    r = cli("audit", "verify", "--json", *args)
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    assert doc["ok"] == (r.exit_code == 0)
    return doc


def findings(cli) -> list[dict[str, Any]]:
    doc = verify(cli)
    assert not doc["ok"]
    assert doc["chain"]["ok"], doc["chain"]  # these tampers leave the chain itself intact
    return doc["content"]["problems"]


def test_the_untouched_store_verifies(cli, db):
    doc = verify(cli)
    assert doc["ok"] and doc["chain"]["ok"] and doc["content"]["problems"] == []
    assert doc["content"]["unknown_actions"] == [] and doc["content"]["unverified"] == []
    c = sqlite3.connect(db)
    actions = {r[0] for r in c.execute("SELECT DISTINCT action FROM audit_event")}
    c.close()
    assert {"selfeval.import", "check.import", "sample.draw", "votes.import", "tasks.set", "adjust.add",
            "adjust.revoke"} <= actions
    assert doc["content"]["events"] >= 12 and doc["content"]["rows"] > 60


# --------------------------------------------------------------------------- rows edited behind djctl's back

def _report(db: Path, table: str, unit: str) -> int:
    return one(db, f"SELECT id FROM {table} WHERE unit_code = '{unit}' AND active ORDER BY id DESC LIMIT 1")


@pytest.mark.parametrize("change", ["points", "note", "delete", "insert", "move"])
def test_self_score_edits_are_named(cli, db, change):
    rid = _report(db, "self_report", "U002")
    row = one(db, f"SELECT min(id) FROM self_score WHERE report_id = {rid}")
    statement = {
        "points": f"UPDATE self_score SET points_x100 = points_x100 - 50 WHERE id = {row}",
        "note": f"UPDATE self_score SET note = note || '。' WHERE id = {row}",
        "delete": f"DELETE FROM self_score WHERE id = {row}",
        "insert": f"INSERT INTO self_score (report_id, task_code, points_x100, note) VALUES ({rid}, 'T99', 500, '')",
        "move": f"UPDATE self_score SET report_id = {_report(db, 'self_report', 'U003')} WHERE id = {row}",
    }[change]
    sql(db, statement)
    problems = findings(cli)
    seq = event_seq(db, "selfeval.import", "report_id", rid)
    mine = [p for p in problems if p["seq"] == seq]
    assert mine and all(p["action"] == "selfeval.import" and p["table"] == "self_score" for p in mine), problems
    if change in ("points", "note"):
        assert [row in p["rows"] for p in mine] == [True]
    text = cli("audit", "verify").output
    assert f"第 {seq} 号事件（selfeval.import）" in text and "self_score" in text


def test_a_report_switched_off_is_named(cli, db):
    """Turning a unit's report off would make it 未报送 (0 points)."""
    rid = _report(db, "self_report", "U003")
    sql(db, f"UPDATE self_report SET active = 0 WHERE id = {rid}")
    [p] = findings(cli)
    seq = event_seq(db, "selfeval.import", "report_id", rid)
    assert (p["table"], p["rows"], p["seq"]) == ("self_report", [rid], seq)
    assert "无效" in p["message"]


def test_a_report_inserted_behind_djctls_back_is_named(cli, db):
    tl = one(db, f"SELECT id FROM task_list WHERE month = '{MONTH}' AND active")
    sql(db, "INSERT INTO import_file (kind, path, sha256, subject, period, rows, active, actor, created_at) "
            f"VALUES ('selfeval', 'x.xlsx', '{'0' * 64}', 'U005', '{MONTH}', 1, 1, 'x', '2024-04-01 00:00:00')",
        "INSERT INTO self_report (unit_code, month, task_list_id, import_id, active, created_at) "
        f"VALUES ('U005', '{MONTH}', {tl}, (SELECT max(id) FROM import_file), 1, '2024-04-01 00:00:00')",
        "INSERT INTO self_score (report_id, task_code, points_x100, note) "
        "VALUES ((SELECT max(id) FROM self_report), 'T01', 1500, '')")
    rid = one(db, "SELECT max(id) FROM self_report")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {("self_report", (rid,), None)}
    assert "没有对应的审计事件" in problems[0]["message"]


@pytest.mark.parametrize("column,value", [("verified_x100", "verified_x100 + 400"),
                                          ("false_flag", "NOT coalesce(false_flag, 0)"), ("checker", "'李四'")])
def test_check_score_edits_are_named(cli, db, column, value):
    rid = _report(db, "check_report", "U001")
    row = one(db, f"SELECT id FROM check_score WHERE report_id = {rid} AND task_code = 'T02'")
    sql(db, f"UPDATE check_score SET {column} = {value} WHERE id = {row}")
    [p] = findings(cli)
    assert (p["action"], p["seq"], p["table"]) == ("check.import", event_seq(db, "check.import", "report_id", rid),
                                                   "check_score")
    assert row in p["rows"]


def test_a_check_report_deleted_is_named(cli, db):
    rid = _report(db, "check_report", "U004")
    sql(db, "PRAGMA foreign_keys = OFF", f"DELETE FROM check_score WHERE report_id = {rid}",
        f"DELETE FROM check_report WHERE id = {rid}")
    problems = findings(cli)
    seq = event_seq(db, "check.import", "report_id", rid)
    assert [(p["table"], p["rows"], p["seq"]) for p in problems] == [("check_report", [rid], seq)]
    assert "已被删除" in problems[0]["message"]


def test_a_draw_record_edited_is_named(cli, db):
    draw = one(db, "SELECT id FROM draw")
    record = json.loads(one(db, f"SELECT record FROM draw WHERE id = {draw}"))
    record["selected"] = list(reversed(record["selected"]))  # someone "corrects" the order of the selection
    c = sqlite3.connect(db)
    c.execute("UPDATE draw SET record = ? WHERE id = ?", (json.dumps(record, ensure_ascii=False), draw))
    c.commit()
    c.close()
    [p] = findings(cli)
    seq = event_seq(db, "sample.draw", "draw_id", draw)
    assert (p["action"], p["seq"], p["table"], p["rows"]) == ("sample.draw", seq, "draw", [draw])


@pytest.mark.parametrize("statement", ["UPDATE draw SET seed = 'y'", "UPDATE draw SET active = 0"])
def test_draw_columns_edited_are_named(cli, db, statement):
    sql(db, statement)
    problems = findings(cli)
    draw = one(db, "SELECT id FROM draw")
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {
        ("draw", (draw,), event_seq(db, "sample.draw", "draw_id", draw))}


@pytest.mark.parametrize("statement", [
    "UPDATE draw_entry SET selected = NOT selected WHERE code = 'U002'",
    "UPDATE draw_entry SET key = substr(key, 2) || '0' WHERE code = 'U003'",
    "DELETE FROM draw_entry WHERE code = 'U002'",
])
def test_draw_entry_edits_are_named(cli, db, statement):
    draw = one(db, "SELECT id FROM draw")
    sql(db, statement)
    [p] = findings(cli)
    assert (p["action"], p["seq"], p["table"]) == ("sample.draw", event_seq(db, "sample.draw", "draw_id", draw),
                                                   "draw_entry")


def test_a_vote_count_edited_is_named(cli, db):
    row = one(db, "SELECT id FROM vote WHERE unit_code = 'U003'")
    sql(db, f"UPDATE vote SET poor = 0, good = good + 1 WHERE id = {row}")
    [p] = findings(cli)
    imp = one(db, f"SELECT import_id FROM vote WHERE id = {row}")
    seq = event_seq(db, "votes.import", "import_id", imp)
    assert (p["action"], p["seq"], p["table"], p["rows"]) == ("votes.import", seq, "vote", [row])
    assert "U003" in p["message"]


def test_a_vote_row_added_is_named(cli, db):
    imp = one(db, "SELECT import_id FROM vote LIMIT 1")
    sql(db, "INSERT INTO vote (year, unit_code, good, fairly_good, average, poor, voters, import_id, active, "
            f"created_at) VALUES (2024, 'U004', 40, 0, 0, 0, 40, {imp}, 1, '2024-12-01 00:00:00')")
    [p] = findings(cli)
    assert (p["action"], p["table"]) == ("votes.import", "vote")


def test_task_points_edited_are_named(cli, db):
    row = one(db, "SELECT id FROM task WHERE code = 'T02'")
    sql(db, f"UPDATE task SET points_x100 = 2000 WHERE id = {row}")
    [p] = findings(cli)
    assert (p["action"], p["table"], p["rows"]) == ("tasks.set", "task", [row])


@pytest.mark.parametrize("statement,seq_action", [
    ("UPDATE adjustment SET points_x100 = 500 WHERE id = 1", "adjust.add"),
    ("UPDATE adjustment SET revoked_at = NULL, revoke_reason = '' WHERE id = 2", "adjust.revoke"),
    ("UPDATE adjustment SET revoked_at = '2024-12-01 00:00:00', revoke_reason = 'x' WHERE id = 1", "adjust.add"),
])
def test_adjustment_edits_are_named(cli, db, statement, seq_action):
    sql(db, statement)
    [p] = findings(cli)
    assert (p["action"], p["table"]) == (seq_action, "adjustment")


# --------------------------------------------------------------------------- the audit table itself

def test_a_flipped_payload_byte_is_named_by_seq(cli, db):
    seq = event_seq(db, "votes.import", "year", 2024)
    sql(db, f"UPDATE audit_event SET payload = replace(payload, '\"U003\",12', '\"U003\",13') WHERE seq = {seq}",
        triggers=False)
    doc = verify(cli)
    assert not doc["chain"]["ok"] and doc["bad_seq"] == seq


def test_a_deleted_event_is_named(cli, db):
    seq = event_seq(db, "sample.draw", "draw_id", one(db, "SELECT id FROM draw"))
    sql(db, f"DELETE FROM audit_event WHERE seq = {seq}", triggers=False)
    doc = verify(cli)
    assert not doc["chain"]["ok"] and doc["chain"]["bad_seq"] == seq + 1
    # the content check still runs: the draw is no longer covered by any event
    assert any(p["table"] == "draw" and p["seq"] is None for p in doc["content"]["problems"])


def test_reordered_events_are_named(cli, db):
    a = event_seq(db, "adjust.add", "id", 1)
    sql(db, f"UPDATE audit_event SET seq = -1 WHERE seq = {a}", f"UPDATE audit_event SET seq = {a} WHERE seq = {a + 1}",
        f"UPDATE audit_event SET seq = {a + 1} WHERE seq = -1", triggers=False)
    doc = verify(cli)
    assert not doc["chain"]["ok"] and doc["chain"]["bad_seq"] == a


def test_a_cut_tail_passes_the_chain_but_not_the_content_or_the_kept_head(cli, db, tmp_path):
    head = cli("audit", "head", "--json")
    (tmp_path / "head.json").write_text(head.stdout, encoding="utf-8")
    last = one(db, "SELECT max(seq) FROM audit_event")
    assert one(db, f"SELECT action FROM audit_event WHERE seq = {last}") == "adjust.revoke"
    sql(db, f"DELETE FROM audit_event WHERE seq = {last}", triggers=False)
    doc = verify(cli)
    assert doc["chain"]["ok"] and not doc["ok"]  # the chain alone cannot see a cut tail ...
    assert [(p["table"], p["rows"]) for p in doc["content"]["problems"]] == [("adjustment", [2])]  # ... the content can
    assert verify(cli, "--chain-only")["ok"]
    against = verify(cli, "--chain-only", "--against", str(tmp_path / "head.json"))
    assert not against["ok"] and "截断" in against["problem"]


def test_chain_only_skips_the_content_check(cli, db):
    sql(db, "UPDATE self_score SET points_x100 = 0 WHERE id = 1")
    assert not verify(cli)["ok"]
    doc = verify(cli, "--chain-only")
    assert doc["ok"] and doc["content"] is None
    r = cli("audit", "verify")
    assert r.exit_code == 1 and "数据与审计事件不一致" in r.output


def test_every_finding_is_listed(cli, db):
    sql(db, "UPDATE self_score SET points_x100 = points_x100 - 10", "UPDATE check_score SET checker = '某人'",
        "UPDATE vote SET voters = NULL")
    problems = findings(cli)
    reports = one(db, "SELECT count(*) FROM self_report") + one(db, "SELECT count(*) FROM check_report")
    assert len([p for p in problems if p["table"] in ("self_score", "check_score")]) == reports
    assert len([p for p in problems if p["table"] == "vote"]) == 3
    r = cli("audit", "verify")
    assert r.exit_code == 1 and f"共 {len(problems)} 处" in r.output


def test_rows_without_event_are_only_unverified_when_other_programs_wrote_events(cli, db):
    """A store with events of kinds djctl does not write (crafted by a test, another program) may have had
    its rows written by them: such rows are listed, not counted as findings. Row edits still are."""
    from djctl.store.engine import open_store

    tl = one(db, "SELECT id FROM task_list WHERE active LIMIT 1")
    imp = one(db, "SELECT min(id) FROM import_file")
    st = open_store(str(db))
    try:
        with st.write() as uow:
            uow.conn.exec_driver_sql(
                "INSERT INTO self_report (unit_code, month, task_list_id, import_id, active, created_at) "
                f"VALUES ('U005', '2024-05', {tl}, {imp}, 1, '2024-06-01 00:00:00')")
            uow.audit("other.crafted", {"note": "rows written by another program"})
    finally:
        st.dispose()
    doc = verify(cli)
    assert doc["ok"] and doc["content"]["unknown_actions"] == ["other.crafted"]
    assert [u["table"] for u in doc["content"]["unverified"]] == ["self_report"]
    assert "无法判断" in cli("audit", "verify").output
    sql(db, "UPDATE self_score SET points_x100 = 0 WHERE id = 1")
    assert [p["table"] for p in findings(cli)] == ["self_score"]
