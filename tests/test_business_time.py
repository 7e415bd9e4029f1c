"""Business time (DESIGN §6): a test year whose rectification items are found, closed, reopened, extended and
closed late on known dates; every quarter's open/overdue statements of `schedule`, `bulletin` and
`rectify list --as-of` against expectations written out by hand; past quarters unchanged by later events;
`year-end --date` byte-identical under two system clocks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import json_out
from tests.test_yearend import year  # noqa: F401  (the complete three-unit year)

# The items, in the order they are added (ids 1–5). Deadlines as they stand after each change.
#   A U1 found 02-10 due 03-15, closed 03-10 (on time)
#   B U2 found 03-20 due 04-30, closed 05-20 (late)
#   C U3 found 05-05 due 06-15, closed 06-10, reopened 07-05 with due 08-31, closed 10-10 (late)
#   D U1 found 08-01 due 09-15, in progress 09-01, extended 09-10 to 10-31, never closed
#   E U2 found 11-20 due 12-31, open
EXPECTED = {  # quarter end -> (open items in deadline order, overdue items): written out by hand
    "2024-03-31": (["B"], []),
    "2024-06-30": ([], []),
    "2024-09-30": (["C", "D"], ["C"]),
    "2024-12-31": (["D", "E"], ["D"]),
}
IDS = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
UNIT = {"A": "单位U1", "B": "单位U2", "C": "单位U3", "D": "单位U1", "E": "单位U2"}


def ok(cli, *args) -> None:
    r = cli(*args)
    assert r.exit_code == 0, (args, r.output)


def record_until_q3(cli) -> None:
    """Every change dated up to 30 September."""
    add = ("rectify", "add")
    ok(cli, *add, "U1", "--problem", "问题A：党费台账不完整", "--found", "2024-02-10", "--due", "2024-03-15")
    ok(cli, *add, "U2", "--problem", "问题B：三会一课记录缺失", "--found", "2024-03-20", "--due", "2024-04-30")
    ok(cli, "rectify", "close", "1", "--feedback", "已补齐", "--date", "2024-03-10")
    ok(cli, "rectify", "close", "2", "--feedback", "已补记", "--date", "2024-05-20")
    ok(cli, *add, "U3", "--problem", "问题C：主题党日流于形式", "--found", "2024-05-05", "--due", "2024-06-15")
    ok(cli, "rectify", "close", "3", "--feedback", "已整改", "--date", "2024-06-10")
    ok(cli, "rectify", "reopen", "3", "--date", "2024-07-05", "--reason", "复查发现整改不到位", "--due", "2024-08-31")
    ok(cli, *add, "U1", "--problem", "问题D：支委分工不明确", "--found", "2024-08-01", "--due", "2024-09-15")
    ok(cli, "rectify", "update", "4", "--status", "in_progress", "--date", "2024-09-01", "--feedback", "正在整改")
    ok(cli, "rectify", "extend", "4", "--due", "2024-10-31", "--date", "2024-09-10", "--reason", "待换届后落实")


def record_after_q3(cli) -> None:
    ok(cli, "rectify", "close", "3", "--feedback", "已彻底整改", "--date", "2024-10-10")
    ok(cli, "rectify", "add", "U2", "--problem", "问题E：谈心谈话未落实", "--found", "2024-11-20", "--due", "2024-12-31")


def listed(cli, day: str) -> tuple[list[str], list[str]]:
    doc = json_out(cli("rectify", "list", "--as-of", day, "--json"))
    by_id = {v: k for k, v in IDS.items()}
    items = [i for i in doc["items"] if i["status"] != "closed"]
    items.sort(key=lambda i: (i["due"], i["id"]))
    return [by_id[i["id"]] for i in items], [by_id[i["id"]] for i in items if i["overdue"]]


def quarter_docs(cli, q: str, out: str) -> tuple[str, str]:
    """(bulletin, schedule) Markdown of quarter q, dated 2024-12-31."""
    ok(cli, "bulletin", "--quarter", q, "--format", "md", "--out", out, "--date", "2024-12-31")
    ok(cli, "schedule", "--quarter", q, "--format", "md", "--out", out, "--date", "2024-12-31")
    return (Path(out, f"{q}_季度考核通报.md").read_text(encoding="utf-8"),
            Path(out, f"{q}_季度调度会材料.md").read_text(encoding="utf-8"))


def section(md: str, heading: str) -> str:
    part = md.split(heading, 1)[1]
    return part.split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]
    return rows[2:]  # header and rule


def check_quarter(cli, q: str, day: str, out: str) -> tuple[str, str]:
    want_open, want_over = EXPECTED[day]
    assert listed(cli, day) == (want_open, want_over), q
    bulletin, schedule = quarter_docs(cli, q, out)
    y, m, d = (int(x) for x in day.split("-"))
    cn = f"截至{y}年{m}月{d}日"
    b = section(bulletin, "五、需要整改的问题")
    s = section(schedule, "四、整改事项")
    if want_open:
        assert f"{cn}，尚有 {len(want_open)} 项问题正在整改" in b, b
        assert f"{cn}，未完成整改事项 {len(want_open)} 项，其中已逾期 {len(want_over)} 项。" in s, s
        want_rows = [[UNIT[k], "逾期" if k in want_over else "整改中"] for k in want_open]
        # the bulletin lists them in its landscape attachment 未完成整改事项清单, the schedule in its body
        listing = bulletin.rsplit("未完成整改事项清单", 1)[1]
        assert "清单见附件" in b and table_rows(b) == []
        assert [[r[0], r[-1]] for r in table_rows(listing)] == want_rows
        assert [[r[0], r[-1]] for r in table_rows(s)] == want_rows
        assert [r[1][:3] for r in table_rows(listing)] == [f"问题{k}" for k in want_open]
    else:
        assert f"{cn}，没有未完成的整改事项。" in b and f"{cn}，没有未完成的整改事项。" in s
        assert table_rows(b) == [] and table_rows(s) == [] and "未完成整改事项清单" not in bulletin
    return bulletin, schedule


def test_each_quarter_states_what_was_open_and_overdue_then(cli, year, tmp_path):  # noqa: F811
    record_until_q3(cli)
    before = {q: check_quarter(cli, q, day, f"early/{q}") for q, day in
              (("2024Q1", "2024-03-31"), ("2024Q2", "2024-06-30"), ("2024Q3", "2024-09-30"))}
    record_after_q3(cli)
    for q, day in (("2024Q1", "2024-03-31"), ("2024Q2", "2024-06-30"), ("2024Q3", "2024-09-30"),
                   ("2024Q4", "2024-12-31")):
        after = check_quarter(cli, q, day, f"late/{q}")
        if q in before:  # later events never change a past quarter's documents
            assert after == before[q], q
    # each item as it stood at the year's end, and the dated history of the reopened one
    items = {i["id"]: i for i in json_out(cli("rectify", "list", "--as-of", "2024-12-31", "--json"))["items"]}
    assert {k: (items[v]["status"], items[v]["closed_late"], items[v]["reopened"], items[v]["created_year"])
            for k, v in IDS.items()} == {
        "A": ("closed", False, False, 2024), "B": ("closed", True, False, 2024), "C": ("closed", True, True, 2024),
        "D": ("in_progress", False, False, 2024), "E": ("open", False, False, 2024)}
    c = json_out(cli("rectify", "show", "3", "--json"))
    assert [(h["date"], h["action"], h["status"], h["due"]) for h in c["changes"]] == [
        ("2024-05-05", "found", "open", "2024-06-15"), ("2024-06-10", "close", "closed", "2024-06-15"),
        ("2024-07-05", "reopen", "open", "2024-08-31"), ("2024-10-10", "close", "closed", "2024-08-31")]
    # the year's negative list, decided at the year's end: D was overdue then; C's late close is not overdue,
    # but C was reopened after its close, a repeated problem (DESIGN §3), so U3 is on the list for that
    doc = json_out(cli("negative-list", "--year", "2024", "--build", "--date", "2024-12-31", "--json"))
    assert [(e["org"], len(e["reasons"])) for e in doc["entries"]] == [("U1", 1), ("U3", 1)]
    assert "重新打开（重复问题）" in doc["entries"][1]["reasons"][0]
    assert "问题D" in doc["entries"][0]["reasons"][0] and "截至2024年12月31日未整改销号" in doc["entries"][0]["reasons"][0]
    r = cli("negative-list", "--year", "2024", "--as-of", "2024-06-30")
    assert r.exit_code == 1 and "截至 2024-06-30，2024 年度负面清单尚未生成" in r.output
    as_of = json_out(cli("negative-list", "--year", "2024", "--as-of", "2025-01-01", "--json"))
    assert [e["org"] for e in as_of["entries"]] == ["U1", "U3"] and as_of["decided_on"] == "2024-12-31"
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_changes_out_of_order_or_before_found_are_refused(cli, year):  # noqa: F811
    ok(cli, "rectify", "add", "U1", "--problem", "问题", "--found", "2024-05-01", "--due", "2024-06-30")
    r = cli("rectify", "close", "1", "--feedback", "x", "--date", "2024-04-30")
    assert r.exit_code == 2 and "早于问题发现日期 2024-05-01" in r.output
    ok(cli, "rectify", "update", "1", "--status", "in_progress", "--date", "2024-05-20")
    r = cli("rectify", "close", "1", "--feedback", "x", "--date", "2024-05-10")
    assert r.exit_code == 2 and "早于该事项上一次变动的日期 2024-05-20" in r.output
    r = cli("rectify", "add", "U1", "--problem", "问题", "--found", "2024-07-01", "--due", "2024-06-30")
    assert r.exit_code == 2 and "早于发现问题的日期" in r.output
    assert cli("rectify", "reopen", "1", "--date", "2024-06-01", "--reason", "x").exit_code == 2  # not closed
    assert cli("rectify", "extend", "1", "--due", "2024-06-01", "--date", "2024-06-01", "--reason", "x").exit_code == 2


def test_without_found_the_run_date_is_the_clock_s(cli, year, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DJCTL_TODAY", "2024-07-01")
    doc = json_out(cli("rectify", "add", "U2", "--problem", "问题", "--due", "2024-07-31", "--json"))
    assert doc["found_on"] == "2024-07-01" and doc["created_year"] == 2024
    monkeypatch.setenv("DJCTL_TODAY", "2024-13-01")
    r = cli("rectify", "list")
    assert r.exit_code == 2 and "DJCTL_TODAY" in r.output


def _year_end(cli, out: str) -> dict:
    return json_out(cli("year-end", "--year", "2024", "--out", out, "--date", "2024-12-31", "--allow-gaps", "--json"))


def _dates_of_documents(root: Path) -> set[str]:
    """The 成文日期 lines of every Markdown document (a line that is only a date)."""
    found = set()
    for p in root.rglob("*.md"):
        for line in p.read_text(encoding="utf-8").splitlines():
            if re.fullmatch(r"\s*\d{4}年\d{1,2}月\d{1,2}日\s*", line):
                found.add(line.strip())
    return found


def test_year_end_date_is_the_only_date_under_two_clocks(cli, year, tmp_path, monkeypatch):  # noqa: F811
    record_until_q3(cli)
    record_after_q3(cli)
    ok(cli, "negative-list", "--year", "2024", "--build", "--date", "2024-12-31")
    monkeypatch.setenv("DJCTL_TODAY", "2025-01-03")  # the injectable clock: a different "today" than the system's
    one = _year_end(cli, "a")
    assert one["files"] and _dates_of_documents(tmp_path / "a") == {"2024年12月31日"}
    from docx import Document

    for p in (tmp_path / "a").rglob("*.docx"):
        text = "\n".join(par.text for par in Document(str(p)).paragraphs)
        assert "2026年" not in text and "2025年1月3日" not in text, p.name
    if shutil.which("faketime") is None:  # CI has it; without it, a second injectable clock
        monkeypatch.setenv("DJCTL_TODAY", "2026-12-02")
        two = _year_end(cli, "b")
        assert one["files"] == two["files"]
        for f in one["files"]:
            assert (tmp_path / "a" / f["name"]).read_bytes() == (tmp_path / "b" / f["name"]).read_bytes(), f["name"]
        return
    env = {k: v for k, v in os.environ.items() if k != "DJCTL_TODAY"}
    for when, out in (("2025-02-01 09:00:00", "c"), ("2027-06-15 18:30:00", "d")):
        for args in (["year-end", "--year", "2024", "--out", out, "--date", "2024-12-31", "--allow-gaps"],
                     ["bulletin", "--quarter", "2024Q3", "--out", f"{out}/q3", "--date", "2024-10-10"]):
            r = subprocess.run(["faketime", when, sys.executable, "-m", "djctl", *args], env=env, cwd=tmp_path,
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stderr
    for f in one["files"]:
        assert (tmp_path / "c" / f["name"]).read_bytes() == (tmp_path / "a" / f["name"]).read_bytes(), f["name"]
        assert (tmp_path / "d" / f["name"]).read_bytes() == (tmp_path / "a" / f["name"]).read_bytes(), f["name"]
    q3 = sorted(p.name for p in (tmp_path / "c" / "q3").iterdir())
    assert "2024Q3_季度考核通报.docx" in q3 and "2024Q3_季度考核通报.xlsx" in q3
    for name in q3:  # a bulletin run on its own is reproducible too
        assert (tmp_path / "c" / "q3" / name).read_bytes() == (tmp_path / "d" / "q3" / name).read_bytes(), name


@pytest.mark.sqlite_only
def test_migration_fills_business_dates_and_lists_what_it_inferred(cli, year, tmp_path):  # noqa: F811
    import json
    import sqlite3

    from tests.test_migration_0002 import _as_0001
    from tests.test_tamper import as_older_djctl

    record_until_q3(cli)
    before = {k: listed(cli, day) for k, day in (("q1", "2024-03-31"), ("q3", "2024-09-30"))}
    db = tmp_path / "djctl.db"
    as_older_djctl(db)  # the store as djctl 0002 left it: no row digests of the dated history, and
    c = sqlite3.connect(db)  # no business-date columns, no dated history
    _as_0001(c)
    c.execute("UPDATE alembic_version SET version_num = '0002'")
    c.execute("ALTER TABLE self_report ADD COLUMN total_x100 INTEGER")
    c.commit()
    c.close()
    assert cli("org", "list").exit_code == 0  # opening upgrades (with a backup first)
    c = sqlite3.connect(db)
    try:
        found = dict(c.execute("SELECT id, found_on FROM rectification"))
        events = c.execute("SELECT item_id, action, status, on_date FROM rectification_event ORDER BY id").fetchall()
        [(payload,)] = c.execute("SELECT payload FROM audit_event WHERE action = 'store.dates'").fetchall()
        decided = set(c.execute("SELECT decided_on FROM vote"))
        draws = set(c.execute("SELECT as_of FROM draw WHERE period = '2024-03'"))
    finally:
        c.close()
    # items added by hand: 30 days before the deadline they were added with (inferred), never later than it
    assert found == {1: "2024-02-14", 2: "2024-03-31", 3: "2024-05-16", 4: "2024-08-16"}
    assert events == [(1, "found", "open", "2024-02-14"), (1, "close", "closed", "2024-03-10"),
                      (2, "found", "open", "2024-03-31"), (2, "close", "closed", "2024-05-20"),
                      (3, "found", "open", "2024-05-16"),
                      (4, "found", "open", "2024-08-16"), (4, "progress", "in_progress", "2024-08-16")]
    doc = json.loads(payload)
    inferred = {(i["table"], i["column"]): i["ids"] for i in doc["inferred"]}
    assert inferred[("rectification", "found_on")] == [1, 2, 3, 4] and inferred[("vote", "decided_on")] == [1, 2, 3]
    assert ("rectification_event", "on_date") in inferred
    assert decided == {("2024-12-31",)} and draws == {("2024-03-31",)}
    assert json_out(cli("audit", "verify", "--json"))["ok"]
    # what the old store knew (current status, closing dates) still answers; the reopening's date was not kept
    assert listed(cli, "2024-03-31") == before["q1"]
