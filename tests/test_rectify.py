"""`djctl rectify`: add, list, update, close, overdue, history in the audit chain, feedback forms."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.helpers import json_out, small_roster


@pytest.fixture
def setup(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=3)).exit_code == 0
    return cli


def add(cli, *args) -> dict:
    found = () if "--found" in args else ("--found", "2024-01-02")
    return json_out(cli("rectify", "add", *args, *found, "--json"))


def events(cli) -> int:
    return json_out(cli("audit", "verify", "--json"))["events"]


def test_add_and_list_filters(setup):
    cli = setup
    a = add(cli, "U001", "--problem", "党费收缴台账不完整", "--due", "2024-06-30", "--source", "inspection")
    b = add(cli, "U002-B01", "--problem", "“三会一课”记录不全", "--due", "2024-09-30", "--source", "回头看",
            "--ref", "lookback:2024")
    c = add(cli, "U002", "--problem", "自评材料与实际不符", "--due", "2025-01-31", "--source", "spotcheck")
    assert (a["kind"], b["kind"], c["kind"]) == ("unit", "branch", "unit")
    assert a["status"] == "open" and b["source"] == "lookback" and b["source_ref"] == "lookback:2024"
    assert b["name"] == "测试单位2第一支部"

    def ids(*args) -> list[int]:
        return [i["id"] for i in json_out(cli("rectify", "list", *args, "--json"))["items"]]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids("--org", "U002") == [c["id"]]
    assert ids("--source", "lookback") == [b["id"]]
    assert ids("--status", "closed") == []
    # overdue as of a day: deadline before that day and not closed by it
    assert ids("--overdue", "--as-of", "2024-06-30") == []
    assert ids("--overdue", "--as-of", "2024-07-01") == [a["id"]]
    doc = json_out(cli("rectify", "list", "--overdue", "--as-of", "2024-12-31", "--json"))
    assert [i["id"] for i in doc["items"]] == [a["id"], b["id"]]
    assert doc["items"][0]["days_overdue"] == 184 and doc["counts"]["overdue"] == 2


@pytest.mark.parametrize("args, needle", [
    (["NOPE", "--problem", "x", "--due", "2024-06-30"], "找不到单位或支部「NOPE」"),
    (["U001", "--problem", "x", "--due", "2024-6-31"], "不是有效日期"),
    (["U001", "--problem", "x", "--due", "2024-06-30", "--source", "rumour"], "spotcheck"),
    (["U001", "--problem", "   ", "--due", "2024-06-30"], "问题描述不能为空"),
    (["U001", "--problem", "x", "--due", "2024-06-30", "--kind", "branch"], "找不到党支部「U001」"),
])
def test_add_bad_input(setup, args, needle):
    before = events(setup)
    r = setup("rectify", "add", *args)
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert events(setup) == before


def test_update_close_and_history(setup, store):
    cli = setup
    item = add(cli, "U003", "--problem", "主题党日流于形式", "--due", "2024-08-31")
    rid = str(item["id"])
    u1 = json_out(cli("rectify", "update", rid, "--status", "in_progress", "--date", "2024-08-20", "--feedback",
                      "已制定整改方案", "--json"))
    assert u1["status"] == "in_progress" and u1["feedback"] == "已制定整改方案" and u1["changed"]
    u2 = json_out(cli("rectify", "update", rid, "--feedback", "已完成一半", "--json"))
    assert u2["feedback"] == "已完成一半" and u2["status"] == "in_progress"
    before = events(cli)
    same = cli("rectify", "update", rid, "--feedback", "已完成一半")
    assert same.exit_code == 0 and "未改动" in same.stdout and events(cli) == before
    assert cli("rectify", "update", rid, "--status", "closed").exit_code == 2
    assert cli("rectify", "update", rid).exit_code == 2
    closed = json_out(cli("rectify", "close", rid, "--feedback", "已补齐活动方案和总结", "--date", "2024-09-05", "--json"))
    assert closed["status"] == "closed" and closed["closed_on"] == "2024-09-05" and closed["closed_late"]
    again = cli("rectify", "close", rid, "--feedback", "再次销号", "--date", "2024-09-06")
    assert again.exit_code == 2 and "已于 2024-09-05 销号" in again.output
    assert cli("rectify", "close", "999", "--feedback", "x", "--date", "2024-09-06").exit_code == 2

    # the history keeps every old status and feedback
    hist = json_out(cli("rectify", "show", rid, "--json"))["history"]
    assert [h["action"] for h in hist] == ["rectify.add", "rectify.update", "rectify.update", "rectify.close"]
    assert hist[1]["old"] == {"status": "open", "feedback": "", "closed_on": None}
    assert hist[2]["old"]["feedback"] == "已制定整改方案" and hist[2]["new"]["feedback"] == "已完成一半"
    assert hist[3]["old"] == {"status": "in_progress", "feedback": "已完成一半", "closed_on": None}
    assert hist[3]["new"] == {"status": "closed", "feedback": "已补齐活动方案和总结", "closed_on": "2024-09-05"}
    # reopening is allowed and clears the closing date, the old one kept in the audit event
    reopened = json_out(cli("rectify", "update", rid, "--status", "open", "--json"))
    assert reopened["status"] == "open" and reopened["closed_on"] is None
    assert json_out(cli("rectify", "show", rid, "--json"))["history"][-1]["old"]["closed_on"] == "2024-09-05"
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_overdue_strict_exit_codes(setup):
    cli = setup
    a = add(cli, "U001", "--problem", "台账不全", "--due", "2024-03-31")
    r = cli("rectify", "overdue", "--as-of", "2024-03-31", "--strict")
    assert r.exit_code == 0 and "没有逾期" in r.stdout
    r = cli("rectify", "overdue", "--as-of", "2024-04-01", "--strict")
    assert r.exit_code == 1 and "逾期未销号" in r.output
    assert cli("rectify", "overdue", "--as-of", "2024-04-01").exit_code == 0
    # closed late: overdue on the days between the deadline and the closing, not after
    cli("rectify", "close", str(a["id"]), "--feedback", "已整改", "--date", "2024-05-10")
    assert len(json_out(cli("rectify", "overdue", "--as-of", "2024-05-01", "--json"))["items"]) == 1
    assert json_out(cli("rectify", "overdue", "--as-of", "2024-05-10", "--json"))["items"] == []
    assert cli("rectify", "overdue", "--as-of", "soon").exit_code == 2


def test_add_inside_another_transaction(setup, store):
    from djctl.services.rectify import add_rectification, list_items

    class Boom(Exception):
        pass

    with store.write() as uow:
        rid = add_rectification(uow, "U001", "unit", "核查发现自评虚假", "spotcheck", "check:2024-03", date(2024, 4, 30),
                                found_on=date(2024, 4, 5), audit=False)
        uow.audit("test.check_import", {"rectifications": [rid]})
    assert [i["id"] for i in list_items(store)["items"]] == [rid]
    with pytest.raises(Boom):
        with store.write() as uow:
            add_rectification(uow, "U002", None, "另一问题", "lookback", "", date(2024, 4, 30), found_on=date(2024, 4, 1))
            raise Boom  # the caller's import fails: the item goes too
    assert [i["id"] for i in list_items(store)["items"]] == [rid]
    with store.write() as uow, pytest.raises(Exception, match="问题来源"):
        add_rectification(uow, "U001", "unit", "x", "gossip", "", date(2024, 4, 30), found_on=date(2024, 4, 1))
    assert json_out(setup("audit", "verify", "--json"))["ok"]


def test_feedback_form_docx(setup, tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    cli = setup
    a = add(cli, "U002", "--problem", "党费收缴台账不完整，3 月至 5 月无收缴记录", "--due", "2024-09-30",
            "--source", "spotcheck", "--ref", "2024年5月抽查")
    b = add(cli, "U001-B01", "--problem", "支委会记录缺失", "--due", "2024-10-31", "--source", "lookback")
    cli("rectify", "close", str(b["id"]), "--feedback", "已补记", "--date", "2024-10-01")
    doc = json_out(cli("rectify", "forms", "--open", "--out", "forms", "--json"))
    assert len(doc["files"]) == 1  # the closed item gets no form with --open
    path = tmp_path / doc["files"][0]
    assert path.name == f"问题整改反馈单_{a['id']:04d}_U002.docx"

    d = Document(str(path))
    texts = [p.text for p in d.paragraphs] + [c.text for row in d.tables[0].rows for c in row.cells]
    body = "\n".join(texts)
    assert "U002" not in body   # the organization by its name, not its code
    for needle in ("问题整改反馈单", "测试单位2机关党委", "月度抽查（2024年5月抽查）",
                   "党费收缴台账不完整，3 月至 5 月无收缴记录", "2024年9月30日前", "整改措施", "整改结果", "责任人",
                   "完成时间", "负责人（签字）", "单位（盖章）", "填报日期"):
        assert needle in body, needle
    labels = [row.cells[0].text for row in d.tables[0].rows]
    values = {row.cells[0].text: row.cells[1].text for row in d.tables[0].rows}
    assert labels[-4:] == ["整改措施", "整改结果", "责任人", "完成时间"]
    assert values["整改措施"] == "" and values["责任人"] == ""

    title = d.paragraphs[0].runs[0]
    assert title.font.name == "方正小标宋简体"
    assert title._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    cell_run = d.tables[0].rows[2].cells[1].paragraphs[0].runs[0]
    assert cell_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    sec = d.sections[0]
    assert [round(x.mm) for x in (sec.page_width, sec.page_height, sec.top_margin, sec.bottom_margin,
                                  sec.left_margin, sec.right_margin)] == [210, 297, 37, 35, 28, 26]
    # all forms, one org
    assert len(json_out(cli("rectify", "forms", "--org", "U001-B01", "--out", "f2", "--json"))["files"]) == 1


def test_rectify_demo_step(setup, store, tmp_path):
    from djctl.services.demo import DemoContext
    from djctl.services.demo.rectify import demo_step
    from djctl.services.rectify import list_items

    ctx = DemoContext(dir=tmp_path / "demo")
    lines = demo_step(store, ctx)  # no items yet: three inspection items are added first
    items = list_items(store)["items"]
    assert len(items) == 3 and {i["source"] for i in items} == {"inspection"}
    # found 30 days before their deadlines; closed on time / late / closed, reopened and closed again
    assert [(i["found_on"], i["status"], i["closed_on"], i["closed_late"], i["reopened"]) for i in items] == [
        ("2024-05-01", "closed", "2024-05-21", False, False),
        ("2024-08-01", "closed", "2024-09-25", True, False),
        ("2024-10-01", "closed", "2024-11-30", True, True)]
    assert ctx.files == []  # nothing open at the year's end: no feedback form
    assert "按期销号 1 项，逾期后销号 1 项，销号后复查重新打开 1 项；截至 2024-12-31 未销号 0 项" in lines[1]
    # as the items stood on earlier days
    mid = list_items(store, as_of=date(2024, 9, 15))
    assert [(i["status"], i["overdue"]) for i in mid["items"]] == [("closed", False), ("in_progress", True)]
    nov = list_items(store, as_of=date(2024, 11, 20))["items"][2]
    assert (nov["status"], nov["due"], nov["overdue"], nov["reopened"]) == ("open", "2024-11-15", True, True)
    assert json.loads(setup("audit", "verify", "--json").stdout)["ok"]
