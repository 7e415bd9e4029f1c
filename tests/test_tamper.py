"""Tamper evidence: every change made behind djctl's back is found by `djctl audit verify`, named by the
audit event (seq) and the table and row.

One store is built once through the real CLI (self-assessments, a draw, two check imports, a second roster,
a tier change, rectification items added, updated and closed, the negative list, votes, an adjustment added
and one revoked) and copied per test; each test changes it with plain sqlite3, as someone with a SQLite
browser would (dropping the audit triggers where the audit table is the target). A second store is built
from parts of `djctl demo` (roster, tier 验收 import, look-back with rebounds, rectification work, negative
list). A third kind of store is made "as an older djctl wrote it" by taking the row digests out of the
payloads and recomputing the chain: it must still verify, its uncovered rows listed as not covered.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.check_helpers import MONTH, check_forms, fill_check, setup_checks
from tests.helpers import small_roster, workbook

pytestmark = pytest.mark.sqlite_only

_BASE: Path | None = None
_KEEP: Path | None = None  # the built stores, outside pytest's temporary folders (others' runs prune those)


def _keep(name: str) -> Path:
    global _KEEP
    if _KEEP is None:
        _KEEP = Path(tempfile.mkdtemp(prefix="djctl-tamper-"))
        atexit.register(shutil.rmtree, _KEEP, True)
    return _KEEP / name
SMALL_TABLES = ("unit", "branch", "tier_change", "rectification", "negative_entry", "import_file", "scheme")


def _build(cli, tmp_path: Path) -> None:
    setup_checks(cli, tmp_path)
    forms = check_forms(cli, tmp_path / "核查表")
    done = tmp_path / "核查收回"
    fill_check(forms["U001"], done / forms["U001"].name, verified={"T02": 6}, false={"T02": "是"})
    fill_check(forms["U004"], done / forms["U004"].name)
    assert cli("check", "import", done).exit_code == 0  # U001's T02 found false: rectification item #1
    # the small tables: a second roster (U006 added, U004-B01 raised to 过硬), a tier change, rectification
    # items #2 (left in progress, overdue by year end) and #3 (closed), the year's negative list
    branches = [[f"U{i:03d}-B01", f"测试单位{i}第一支部", f"U{i:03d}", 10 + i, "过硬" if i == 4 else "达标", "2023-06-01"]
                for i in range(1, 7)]
    steps = [("org", "import", small_roster(tmp_path / "名册2.xlsx", units=6, branches=branches)),
             ("tier", "set", "U002-B01", "过硬", "--date", "2024-05-01", "--basis", "验收", "--note", "验收〔2024〕1号"),
             ("rectify", "add", "U003", "--problem", "党费收缴台账不完整", "--due", "2024-05-31", "--found", "2024-04-20", "--ref", "督查〔2024〕2号"),
             ("rectify", "update", "2", "--status", "in_progress", "--feedback", "正在补齐台账"),
             ("rectify", "add", "U003-B01", "--problem", "三会一课记录不规范", "--due", "2024-06-30", "--found", "2024-05-20"),
             ("rectify", "close", "3", "--feedback", "已规范记录", "--date", "2024-06-20"),
             ("negative-list", "--year", "2024", "--build")]
    for args in steps:
        r = cli(*args)
        assert r.exit_code == 0, (args, r.output)
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
        base = _keep("base.db")
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


def recomputed(problems: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(findings against events, stored month results that no longer match their rows)."""
    return ([p for p in problems if p["action"] != "recompute"],
            [p for p in problems if p["action"] == "recompute"])


def test_the_untouched_store_verifies(cli, db):
    doc = verify(cli)
    assert doc["ok"] and doc["chain"]["ok"] and doc["content"]["problems"] == []
    assert doc["content"]["unknown_actions"] == [] and doc["content"]["unverified"] == []
    c = sqlite3.connect(db)
    actions = {r[0] for r in c.execute("SELECT DISTINCT action FROM audit_event")}
    c.close()
    assert {"selfeval.import", "check.import", "sample.draw", "votes.import", "tasks.set", "adjust.add",
            "adjust.revoke", "org.import", "tier.set", "rectify.add", "rectify.update", "rectify.close",
            "negative.build", "scheme.set"} <= actions
    assert doc["content"]["events"] >= 20 and doc["content"]["rows"] > 100
    assert doc["content"]["not_covered"] == []
    counts = {t: one(db, f"SELECT count(*) FROM {t}") for t in SMALL_TABLES}
    assert counts["rectification"] == 3 and counts["negative_entry"] >= 2 and counts["tier_change"] == 8, counts


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


def test_a_report_total_edited_is_named(cli, db):
    """Scores read each report's stored total (self_report.total_x100), not its rows."""
    rid = _report(db, "self_report", "U003")
    sql(db, f"UPDATE self_report SET total_x100 = total_x100 + 500 WHERE id = {rid}")
    [p] = findings(cli)
    assert (p["table"], p["rows"], p["seq"]) == ("self_report", [rid], event_seq(db, "selfeval.import", "report_id", rid))
    assert "total_x100" in p["message"]
    sql(db, f"UPDATE self_report SET total_x100 = NULL WHERE id = {rid}")  # NULL: summed from the rows, as before
    assert verify(cli)["ok"]


def test_a_report_inserted_behind_djctls_back_is_named(cli, db):
    tl = one(db, f"SELECT id FROM task_list WHERE month = '{MONTH}' AND active")
    sql(db, "INSERT INTO import_file (kind, path, sha256, subject, period, rows, active, actor, created_at) "
            f"VALUES ('selfeval', 'x.xlsx', '{'0' * 64}', 'U005', '{MONTH}', 1, 1, 'x', '2024-04-01 00:00:00')",
        "INSERT INTO self_report (unit_code, month, task_list_id, import_id, active, created_at) "
        f"VALUES ('U005', '{MONTH}', {tl}, (SELECT max(id) FROM import_file), 1, '2024-04-01 00:00:00')",
        "INSERT INTO self_score (report_id, task_code, points_x100, note) "
        "VALUES ((SELECT max(id) FROM self_report), 'T01', 1500, '')")
    rid = one(db, "SELECT max(id) FROM self_report")
    imp = one(db, "SELECT max(id) FROM import_file")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {("self_report", (rid,), None),
                                                                            ("import_file", (imp,), None)}
    assert all("没有对应的审计事件" in p["message"] for p in problems)


@pytest.mark.parametrize("column,value", [("verified_x100", "verified_x100 + 400"),
                                          ("false_flag", "NOT coalesce(false_flag, 0)"), ("checker", "'李四'")])
def test_check_score_edits_are_named(cli, db, column, value):
    rid = _report(db, "check_report", "U001")
    row = one(db, f"SELECT id FROM check_score WHERE report_id = {rid} AND task_code = 'T02'")
    sql(db, f"UPDATE check_score SET {column} = {value} WHERE id = {row}")
    [p], again = recomputed(findings(cli))
    assert (p["action"], p["seq"], p["table"]) == ("check.import", event_seq(db, "check.import", "report_id", rid),
                                                   "check_score")
    assert row in p["rows"]
    # a changed verified score or flag changes U001's month result too: the stored one no longer matches
    self_rid = _report(db, "self_report", "U001")
    assert [(q["table"], q["rows"]) for q in again] == ([] if column == "checker" else [("self_report", [self_rid])])


def test_a_check_report_deleted_is_named(cli, db):
    rid = _report(db, "check_report", "U004")
    sql(db, "PRAGMA foreign_keys = OFF", f"DELETE FROM check_score WHERE report_id = {rid}",
        f"DELETE FROM check_report WHERE id = {rid}")
    problems, again = recomputed(findings(cli))
    seq = event_seq(db, "check.import", "report_id", rid)
    assert [(p["table"], p["rows"], p["seq"]) for p in problems] == [("check_report", [rid], seq)]
    assert "已被删除" in problems[0]["message"]
    assert [(q["table"], q["rows"]) for q in again] == [("self_report", [_report(db, "self_report", "U004")])]


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
    "UPDATE draw_entry SET selected = NOT selected WHERE id = (SELECT MIN(id) FROM draw_entry)",
    "UPDATE draw_entry SET key = substr(key, 2) || '0' WHERE id = (SELECT MAX(id) FROM draw_entry)",
    "DELETE FROM draw_entry WHERE id = (SELECT MIN(id) FROM draw_entry)",
    # a row for a member that was not selected (draw_entry keeps the members that matter only)
    "INSERT INTO draw_entry (draw_id, code, key, selected, order_no, mandatory_reason, excluded_reason) "
    "SELECT draw_id, 'U009', key, 0, NULL, '', '' FROM draw_entry WHERE id = (SELECT MIN(id) FROM draw_entry)",
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
    [p], again = recomputed(findings(cli))
    assert (p["action"], p["table"], p["rows"]) == ("tasks.set", "task", [row])
    assert again and all(q["table"] == "self_report" for q in again)  # every rate of that list changes


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
    chain_only = verify(cli, "--chain-only")
    assert chain_only["chain"]["ok"]  # the chain alone still looks whole; the dropped guard is what shows (issue 14)
    assert not chain_only["guard"]["ok"] and "--against" in chain_only["guard"]["note"]
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


# --------------------------------------------------------------------------- the small tables

def vouching_seq(db: Path, table: str, row_id: int) -> int:
    """The latest event whose row digests name the row: the event that vouches for its content."""
    found = None
    c = sqlite3.connect(db)
    try:
        for seq, payload in c.execute("SELECT seq, payload FROM audit_event ORDER BY seq"):
            entries = (json.loads(payload).get("row_digests") or {}).get(table) or []
            if any(e[0] == row_id for e in entries):
                found = seq
    finally:
        c.close()
    assert found is not None, f"no event names {table} #{row_id}"
    return found


def action_seqs(db: Path, action: str) -> list[int]:
    c = sqlite3.connect(db)
    try:
        return [r[0] for r in c.execute("SELECT seq FROM audit_event WHERE action = ? ORDER BY seq", (action,))]
    finally:
        c.close()


def the_finding(cli, table: str) -> dict[str, Any]:
    problems = findings(cli)
    assert [p["table"] for p in problems] == [table], problems
    return problems[0]


@pytest.mark.parametrize("code,change,roster", [
    ("U003", "name = name || '（改）'", 0),
    ("U003", "group_name = '第9组'", 0),  # moves it to another group's ranking
    ("U003", "active_to = '2024-02-29'", 0),  # its later months would no longer count
    ("U006", "members = members + 1", 1),
    ("U006", "code = 'U016'", 1),
])
def test_unit_edits_are_named(cli, db, code, change, roster):
    row = one(db, f"SELECT id FROM unit WHERE code = '{code}'")
    sql(db, f"UPDATE unit SET {change} WHERE id = {row}")
    p = the_finding(cli, "unit")
    seq = action_seqs(db, "org.import")[roster]  # U003 written by the first roster, U006 by the second
    assert (p["rows"], p["seq"], p["action"]) == ([row], seq, "org.import") and vouching_seq(db, "unit", row) == seq
    assert one(db, f"SELECT code FROM unit WHERE id = {row}") in p["message"]
    assert f"第 {seq} 号事件（org.import）：unit #{row}" in cli("audit", "verify").output


def test_a_unit_added_or_deleted_is_named(cli, db):
    gone = one(db, "SELECT id FROM unit WHERE code = 'U006'")
    sql(db, "INSERT INTO unit (code, name, kind, group_name, secretary, members, updated_at) "
            "VALUES ('U099', '虚构单位机关党委', '机关党委', '第1组', '', 9, '2024-04-01 00:00:00')",
        f"DELETE FROM unit WHERE id = {gone}")
    added = one(db, "SELECT id FROM unit WHERE code = 'U099'")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {
        ("unit", (gone,), action_seqs(db, "org.import")[1]), ("unit", (added,), None)}
    assert any("U006" in p["message"] and "已被删除" in p["message"] for p in problems)
    assert any("U099" in p["message"] and "没有对应的审计事件" in p["message"] for p in problems)


@pytest.mark.parametrize("code,change,action", [
    ("U002-B01", "tier = '示范'", "tier.set"),  # last written by `tier set`
    ("U004-B01", "tier_date = '2024-01-01'", "org.import"),  # by the second roster
    ("U005-B01", "active = 0", "org.import"),
    ("U005-B01", "unit_code = 'U001'", "org.import"),
])
def test_branch_edits_are_named(cli, db, code, change, action):
    row = one(db, f"SELECT id FROM branch WHERE code = '{code}'")
    sql(db, f"UPDATE branch SET {change} WHERE id = {row}")
    p = the_finding(cli, "branch")
    assert (p["rows"], p["seq"], p["action"]) == ([row], vouching_seq(db, "branch", row), action)
    assert code in p["message"]


@pytest.mark.parametrize("where,change,action", [
    ("basis = '验收'", "to_tier = '示范'", "tier.set"),
    ("basis = '验收'", "on_date = '2024-04-01'", "tier.set"),
    ("branch_code = 'U004-B01' AND from_tier IS NOT NULL", "from_tier = '未达标'", "org.import"),
    ("branch_code = 'U001-B01'", "note = '别的文件'", "org.import"),
])
def test_tier_change_edits_are_named(cli, db, where, change, action):
    row = one(db, f"SELECT id FROM tier_change WHERE {where}")
    sql(db, f"UPDATE tier_change SET {change} WHERE id = {row}")
    p = the_finding(cli, "tier_change")
    assert (p["rows"], p["seq"], p["action"]) == ([row], vouching_seq(db, "tier_change", row), action)


def test_a_tier_change_added_or_deleted_is_named(cli, db):
    gone = one(db, "SELECT id FROM tier_change WHERE basis = '验收'")
    seq = vouching_seq(db, "tier_change", gone)
    sql(db, "INSERT INTO tier_change (branch_code, from_tier, to_tier, on_date, basis, note, source_ref, created_at) "
            "VALUES ('U003-B01', '达标', '过硬', '2024-06-01', '验收', '', '', '2024-06-01 00:00:00')",
        f"DELETE FROM tier_change WHERE id = {gone}")  # in this order: SQLite would give a new row a deleted max id
    added = one(db, "SELECT max(id) FROM tier_change")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {
        ("tier_change", (gone,), seq), ("tier_change", (added,), None)}


@pytest.mark.parametrize("item,change,action", [
    (1, "problem = '无问题'", "check.import"),  # made by the check import (U001's false T02)
    (1, "status = 'closed', closed_on = '2024-04-30', feedback = '已整改'", "check.import"),
    (2, "due = '2025-05-31'", "rectify.update"),  # no longer overdue at the end of 2024
    (2, "created_at = '2025-01-02 00:00:00.000000'", "rectify.update"),  # out of 2024's open items
    (2, "feedback = '已全部整改'", "rectify.update"),
    (3, "status = 'open', closed_on = NULL", "rectify.close"),
    (3, "org_code = 'U004'", "rectify.close"),
])
def test_rectification_edits_are_named(cli, db, item, change, action):
    sql(db, f"UPDATE rectification SET {change} WHERE id = {item}")
    p = the_finding(cli, "rectification")
    assert (p["rows"], p["seq"], p["action"]) == ([item], vouching_seq(db, "rectification", item), action)


def test_a_rectification_added_or_deleted_is_named(cli, db):
    seq = vouching_seq(db, "rectification", 3)
    sql(db, "INSERT INTO rectification (org_code, org_kind, problem, source, source_ref, due, status, feedback, "
            "closed_on, created_at, updated_at) VALUES ('U002', 'unit', '虚构的问题', 'inspection', '', '2024-03-01', "
            "'open', '', NULL, '2024-02-01 00:00:00', '2024-02-01 00:00:00')",
        "DELETE FROM rectification WHERE id = 3")
    added = one(db, "SELECT max(id) FROM rectification")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {
        ("rectification", (3,), seq), ("rectification", (added,), None)}


@pytest.mark.parametrize("change", ["reasons = '[\"另一条原因\"]'", "active = 0", "org_code = 'U002'", "year = 2023"])
def test_negative_entry_edits_are_named(cli, db, change):
    row = one(db, "SELECT min(id) FROM negative_entry WHERE active")
    sql(db, f"UPDATE negative_entry SET {change} WHERE id = {row}")
    p = the_finding(cli, "negative_entry")
    assert (p["rows"], p["seq"], p["action"]) == ([row], event_seq(db, "negative.build", "year", 2024),
                                                  "negative.build")


def test_a_negative_entry_added_or_deleted_is_named(cli, db):
    """Adding an organization puts it into next year's draws for sure; deleting one takes it out."""
    gone = one(db, "SELECT min(id) FROM negative_entry")
    sql(db, f"DELETE FROM negative_entry WHERE id = {gone}",
        "INSERT INTO negative_entry (year, org_code, org_kind, reasons, active, created_at) "
        "VALUES (2024, 'U002', 'unit', '[\"虚构\"]', 1, '2024-12-31 00:00:00')")
    added = one(db, "SELECT max(id) FROM negative_entry")
    problems = findings(cli)
    assert {(p["table"], tuple(p["rows"]), p["seq"]) for p in problems} == {
        ("negative_entry", (gone,), event_seq(db, "negative.build", "year", 2024)), ("negative_entry", (added,), None)}


def _import_event(db: Path, import_id: int) -> tuple[int, str]:
    c = sqlite3.connect(db)
    try:
        for seq, action, payload in c.execute("SELECT seq, action, payload FROM audit_event ORDER BY seq"):
            if action.endswith(".import") and json.loads(payload).get("import_id") == import_id:
                return seq, action
    finally:
        c.close()
    raise AssertionError(f"no import event for import_file #{import_id}")


@pytest.mark.parametrize("kind,change", [
    ("roster", "sha256 = '" + "0" * 64 + "'"),
    ("roster", "path = '别的名册.xlsx'"),
    ("check", "subject = 'U002'"),
    ("selfeval", "period = '2024-04'"),
    ("selfeval", "active = 0"),  # would let the same file be imported again as new
    ("check", "replaced_by = 1"),
    ("votes", "rows = 2"),
    ("votes", "actor = '别人'"),
])
def test_import_file_edits_are_named(cli, db, kind, change):
    row = one(db, f"SELECT min(id) FROM import_file WHERE kind = '{kind}'")
    sql(db, f"UPDATE import_file SET {change} WHERE id = {row}")
    p = the_finding(cli, "import_file")
    assert (p["rows"], (p["seq"], p["action"])) == ([row], _import_event(db, row))


def test_an_import_file_deleted_is_named(cli, db):
    row = one(db, "SELECT min(id) FROM import_file WHERE kind = 'roster'")
    sql(db, f"DELETE FROM import_file WHERE id = {row}")
    p = the_finding(cli, "import_file")
    assert (p["rows"], p["seq"]) == ([row], action_seqs(db, "org.import")[0]) and "已被删除" in p["message"]


@pytest.mark.parametrize("change", [
    "toml = replace(toml, 'false_multiplier = 2', 'false_multiplier = 1')",  # no more double deduction
    "sha256 = '" + "0" * 64 + "'",
    "year = 2025",
])
def test_scheme_edits_are_named(cli, db, change):
    sql(db, f"UPDATE scheme SET {change}")
    problems, again = recomputed(findings(cli))
    assert all(q["table"] == "self_report" for q in again)  # a changed rule changes checked months' results
    seq = event_seq(db, "scheme.set", "year", 2024)
    assert {(p["table"], p["seq"]) for p in problems} == ({("scheme", seq)} if "year" not in change
                                                          else {("scheme", seq), ("scheme", None)})


# --------------------------------------------------------------------------- a store from an older djctl

def as_older_djctl(db: Path) -> None:
    """Take the row digests (and the import period they came with) out of every payload and recompute the
    chain: the store as the djctl before row digests wrote it."""
    from djctl.store.audit import GENESIS, canonical, event_hash

    c = sqlite3.connect(db)
    try:
        triggers = [r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                            "AND tbl_name = 'audit_event'")]
        c.execute("DROP TRIGGER audit_event_no_update")
        c.execute("DROP TRIGGER audit_event_no_delete")
        prev = GENESIS
        for seq, at, who, action, payload in c.execute(
                "SELECT seq, at, actor, action, payload FROM audit_event ORDER BY seq").fetchall():
            doc = json.loads(payload)
            doc.pop("row_digests", None)
            if action in ("tier.import", "lookback.import"):
                doc.pop("period", None)
            body = canonical(doc)
            h = event_hash(prev, seq, at, who, action, body)
            c.execute("UPDATE audit_event SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?", (body, prev, h, seq))
            prev = h
        for t in triggers:
            c.execute(t)
        c.execute("DELETE FROM rectification_event")  # that djctl kept no dated history (migration 0003 makes it)
        c.commit()
    finally:
        c.close()


def test_a_store_from_before_row_digests_still_verifies(cli, db):
    as_older_djctl(db)
    assert "row_digests" not in "".join(r for r in (one(db, "SELECT group_concat(payload) FROM audit_event"),))
    doc = verify(cli)
    assert doc["ok"] and doc["content"]["problems"] == [], doc["content"]["problems"]
    not_covered = {n["table"]: n["rows"] for n in doc["content"]["not_covered"]}
    assert set(not_covered) == {"unit", "branch", "tier_change"}  # the roster's rows: no content in its payload
    assert len(not_covered["unit"]) == 6 and len(not_covered["branch"]) == 6
    assert len(not_covered["tier_change"]) == 7  # the tier set's change is in its payload: checked
    plain = cli("audit", "verify")
    assert plain.exit_code == 0 and "19 行数据（unit、branch、tier_change）由旧版 djctl 写入" in plain.output
    # not covered, so an edit there is not seen ...
    sql(db, "UPDATE unit SET name = '改名' WHERE code = 'U003'")
    assert verify(cli)["ok"]


@pytest.mark.parametrize("statement,table,action", [
    # ... but what the old payloads carry still is: rectification items, tier set, negative list, import files
    ("UPDATE rectification SET status = 'closed', closed_on = '2024-05-30' WHERE id = 2", "rectification",
     "rectify.update"),
    ("UPDATE rectification SET problem = '无' WHERE id = 3", "rectification", "rectify.close"),  # add's text, kept
    ("UPDATE rectification SET due = '2025-01-01' WHERE id = 1", "rectification", "check.import"),
    ("UPDATE tier_change SET to_tier = '示范' WHERE basis = '验收'", "tier_change", "tier.set"),
    ("UPDATE negative_entry SET reasons = '[]' WHERE id = 1", "negative_entry", "negative.build"),
    ("UPDATE import_file SET sha256 = '" + "0" * 64 + "' WHERE id = 1", "import_file", "org.import"),
    # and rows that no event names at all are still found
    ("INSERT INTO unit (code, name, kind, group_name, secretary, members, updated_at) "
     "VALUES ('U099', '虚构单位机关党委', '机关党委', '第1组', '', 9, '2024-04-01 00:00:00')", "unit", None),
    ("INSERT INTO tier_change (branch_code, from_tier, to_tier, on_date, basis, note, source_ref, created_at) "
     "VALUES ('U003-B01', '达标', '过硬', '2024-06-01', '验收', '', '', '2024-06-01 00:00:00')", "tier_change", None),
])
def test_an_older_store_still_shows_what_its_payloads_carry(cli, db, statement, table, action):
    as_older_djctl(db)
    sql(db, statement)
    problems = findings(cli)
    assert [(p["table"], p["action"]) for p in problems] == [(table, action)], problems


def test_rows_written_after_the_upgrade_are_covered_again(cli, db):
    """An older store, then this djctl writes: the rows it writes carry digests from then on."""
    as_older_djctl(db)
    assert cli("tier", "set", "U003-B01", "过硬", "--date", "2024-07-01", "--basis", "申报").exit_code == 0
    row = one(db, "SELECT id FROM branch WHERE code = 'U003-B01'")
    doc = verify(cli)
    assert doc["ok"] and row not in {n["table"]: n["rows"] for n in doc["content"]["not_covered"]}["branch"]
    sql(db, f"UPDATE branch SET tier = '示范' WHERE id = {row}")
    p = the_finding(cli, "branch")
    assert (p["rows"], p["seq"]) == ([row], action_seqs(db, "tier.set")[-1])


# --------------------------------------------------------------------------- a store from parts of the demo

_DEMO: Path | None = None


def _build_demo(path: Path, work: Path) -> None:
    """The demo's roster, tier 验收 import, look-back (rebounds, tier changes, rectification items),
    rectification work and negative list; the documents those steps write are left out (not tested here)."""
    from djctl.services import demo, negative
    from djctl.services.demo import lookback as demo_lookback
    from djctl.services.demo import rectify, tiers
    from djctl.store.engine import open_store

    st = open_store(str(path))
    ctx = demo.DemoContext(dir=work)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(demo_lookback, "write_report", lambda *a, **k: [])
            mp.setattr(rectify, "write_forms", lambda *a, **k: [])
            for step in (demo.step_setup, tiers.demo_step, demo_lookback.demo_step, rectify.demo_step):
                step(st, ctx)
        negative.build(st, ctx.year)
    finally:
        st.dispose()


@pytest.fixture
def demo_db(tmp_path) -> Path:
    global _DEMO
    from djctl.store.engine import backup_sqlite

    target = Path(os.environ["DJCTL_DB"])
    if _DEMO is None:
        base = _keep("demo.db")
        _build_demo(base, tmp_path / "demo")
        _DEMO = base
    backup_sqlite(_DEMO, target)
    return target


def test_the_demo_parts_verify(cli, demo_db):
    doc = verify(cli)
    assert doc["ok"] and doc["content"]["not_covered"] == [] and doc["content"]["unverified"] == []
    assert one(demo_db, "SELECT count(*) FROM tier_change WHERE basis = '回头看'") > 0
    assert one(demo_db, "SELECT count(*) FROM tier_change WHERE basis = '验收'") > 0
    assert one(demo_db, "SELECT count(*) FROM rectification WHERE source = 'lookback'") > 0


@pytest.mark.parametrize("table,where,change,action", [
    ("tier_change", "basis = '回头看'", "to_tier = from_tier", "lookback.import"),  # undo a rebound
    ("tier_change", "basis = '验收'", "note = '另一次验收'", "tier.import"),
    ("branch", "code = (SELECT branch_code FROM tier_change WHERE basis = '回头看' ORDER BY id LIMIT 1)",
     "tier = (SELECT from_tier FROM tier_change WHERE basis = '回头看' ORDER BY id LIMIT 1)", None),
    ("rectification", "source = 'lookback'", "problem = '无'", None),
    ("unit", "code = 'U010'", "active_from = '2024-06-01'", "org.import"),
])
def test_demo_rows_edited_are_named(cli, demo_db, table, where, change, action):
    row = one(demo_db, f"SELECT min(id) FROM {table} WHERE {where}")
    sql(demo_db, f"UPDATE {table} SET {change} WHERE id = {row}")
    p = the_finding(cli, table)
    seq = vouching_seq(demo_db, table, row)
    assert (p["rows"], p["seq"]) == ([row], seq)
    if action:
        assert p["action"] == action


def test_demo_lookback_file_edited_is_named(cli, demo_db):
    row = one(demo_db, "SELECT min(id) FROM import_file WHERE kind = 'lookback'")
    sql(demo_db, f"UPDATE import_file SET subject = 'U001-B01', period = '2023' WHERE id = {row}")
    p = the_finding(cli, "import_file")
    assert (p["rows"], (p["seq"], p["action"])) == ([row], _import_event(demo_db, row))
    assert "subject" in p["message"] and "period" in p["message"]
