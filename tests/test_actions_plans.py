"""Accountability measures (问责措施) and the 整改提升计划 of 未达标 branches: recorded with business dates,
imported all or nothing, listed as of a date, covered by `audit verify` (issue 18, items 5 and 7)."""

from __future__ import annotations

import pytest

from tests.helpers import json_out, small_roster, workbook

HEADER = ["单位编码", "单位名称", "措施", "对象", "姓名", "日期", "事由", "依据", "实施人", "整改事项编号"]


@pytest.fixture
def orgs(cli, tmp_path):
    """Four units with a secretary each; branches U001-B01 (达标), U002-B01 and U003-B01 (未达标)."""
    assert cli("init").exit_code == 0
    roster = small_roster(tmp_path / "名册.xlsx", units=4, branches=[
        ["U001-B01", "测试单位1第一支部", "U001", 11, "达标", "2023-06-01"],
        ["U002-B01", "测试单位2第一支部", "U002", 12, "未达标", "2023-06-01"],
        ["U003-B01", "测试单位3第一支部", "U003", 13, "未达标", "2023-06-01"],
    ])
    assert cli("org", "import", roster).exit_code == 0
    return tmp_path


@pytest.fixture
def city(cli, orgs):
    r = json_out(cli("rectify", "add", "U002", "--problem", "党费收缴不及时", "--source", "inspection",
                     "--found", "2024-02-15", "--due", "2024-04-30", "--json"))
    return {"item": r["id"], "dir": orgs}


def test_measures_by_hand_counted_by_kind_as_of_a_date(cli, city):
    a1 = json_out(cli("action", "add", "U002", "--kind", "提醒谈话", "--secretary", "--date", "2024-03-05",
                      "--reason", "党费收缴不及时", "--basis", "谈话记录〔2024〕1号", "--items", str(city["item"]), "--json"))
    assert a1["person"] == "张三" and a1["target"] == "secretary" and a1["items"] == [city["item"]]
    json_out(cli("action", "add", "U003", "--kind", "约谈", "--date", "2024-05-10", "--reason", "三会一课记录补记",
                 "--basis", "示机工纪〔2024〕2号", "--json"))
    a3 = json_out(cli("action", "add", "U003", "--kind", "通报批评", "--date", "2024-08-20", "--reason", "整改逾期",
                      "--basis", "示机工〔2024〕9号", "--deduct", "1.5", "--json"))
    assert a3["adjustment_id"] is not None
    ded = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    assert [(i["unit"], i["kind"], i["points"]) for i in ded["items"]] == [("U003", "deduction", 1.5)]

    mid = json_out(cli("action", "list", "--year", "2024", "--as-of", "2024-06-30", "--json"))
    assert [a["kind"] for a in mid["actions"]] == ["提醒谈话", "约谈"]
    assert mid["counts"] == [{"kind": "提醒谈话", "count": 1}, {"kind": "约谈", "count": 1}] and mid["units"] == 2

    json_out(cli("action", "revoke", str(a1["id"]), "--date", "2024-09-02", "--reason", "对象录错", "--json"))
    before = json_out(cli("action", "list", "--year", "2024", "--as-of", "2024-06-30", "--json"))
    assert before == mid  # a report of June is not changed by a revocation in September
    end = json_out(cli("action", "list", "--year", "2024", "--json"))
    assert [a["kind"] for a in end["actions"]] == ["约谈", "通报批评"] and end["revoked_hidden"] == 1
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_a_measure_outside_the_scheme_or_for_another_units_item_is_refused(cli, city):
    head = json_out(cli("audit", "head", "--json"))
    r = cli("action", "add", "U002", "--kind", "罚款", "--date", "2024-03-05", "--reason", "x", "--basis", "y")
    assert r.exit_code == 2 and "不在考核方案的列表中" in r.output
    r = cli("action", "add", "U003", "--kind", "约谈", "--date", "2024-03-05", "--reason", "x", "--basis", "y",
            "--items", str(city["item"]))
    assert r.exit_code == 2 and "不是单位「U003」或其所属支部的事项" in r.output
    r = cli("action", "add", "U003", "--kind", "约谈", "--date", "2023-03-05", "--reason", "x", "--basis", "y")
    assert r.exit_code in (1, 2) and "2023" in r.output  # no scheme for 2023
    assert json_out(cli("audit", "head", "--json")) == head


def test_import_all_or_nothing_and_unchanged_the_second_time(cli, city):
    d = city["dir"]
    good = workbook(d / "问责.xlsx", {"问责措施": [HEADER,
        ["U002", "", "提醒谈话", "书记", "", "2024-02-01", "党费收缴不及时", "谈话〔2024〕1号", "工委副书记", str(city["item"])],
        ["U004", "", "约谈", "单位", "", "2024-03-15", "组织生活会走过场", "示机工纪〔2024〕1号", "", ""]]})
    r = cli("action", "import", good, "--json")
    doc = json_out(r)
    assert doc["files"][0]["status"] == "imported" and doc["files"][0]["rows"] == 2
    again = json_out(cli("action", "import", good, "--json"))
    assert again["files"][0]["status"] == "unchanged"
    assert len(json_out(cli("action", "list", "--year", "2024", "--json"))["actions"]) == 2
    # the same measures re-saved by another program (other bytes): unchanged, never counted twice
    resaved = workbook(d / "问责-另存.xlsx", {"问责措施": [HEADER,
        ["U004", "", "约谈", "单位", "", "2024-03-15", "组织生活会走过场", "示机工纪〔2024〕1号", "", ""],
        ["U002", "", "提醒谈话", "书记", "", "2024-02-01", "党费收缴不及时", "谈话〔2024〕1号", "工委副书记", str(city["item"])]],
        "Sheet2": [["x"]]})
    f = json_out(cli("action", "import", resaved, "--json"))["files"][0]
    assert f["status"] == "unchanged" and "内容与已导入的问责措施表相同" in f["message"]
    # one of them again beside a new one: that row is refused, nothing written
    mixed = workbook(d / "问责-混合.xlsx", {"问责措施": [HEADER,
        ["U003", "", "约谈", "单位", "", "2024-05-15", "主题党日流于形式", "示机工纪〔2024〕2号", "", ""],
        ["U004", "", "约谈", "单位", "", "2024-03-15", "组织生活会走过场", "示机工纪〔2024〕1号", "", ""]]})
    r = cli("action", "import", mixed, "--json")
    assert r.exit_code == 2
    [err] = json_out_any(r)["files"][0]["errors"]
    assert (err["row"], err["column"]) == (3, "事由") and "数据库中已有相同的问责措施" in err["message"]
    assert len(json_out(cli("action", "list", "--year", "2024", "--json"))["actions"]) == 2

    head = json_out(cli("audit", "head", "--json"))
    bad = workbook(d / "坏.xlsx", {"问责措施": [HEADER,
        ["U001", "", "约谈", "单位", "", "2024-04-01", "一", "依据", "", ""],
        ["U009", "", "约谈", "单位", "", "2024-04-01", "二", "依据", "", ""],
        ["U001", "", "约谈", "领导", "", "2024-13-01", "三", "依据", "", "七"]]})
    r = cli("action", "import", bad, "--json")
    assert r.exit_code == 2
    errs = {(e["row"], e["column"]) for e in json_out_any(r)["files"][0]["errors"]}
    assert {(4, "对象"), (4, "日期"), (4, "整改事项编号")} <= errs
    unknown = workbook(d / "未知单位.xlsx", {"问责措施": [HEADER,
        ["U001", "", "约谈", "单位", "", "2024-04-01", "一", "依据", "", ""],
        ["U009", "", "约谈", "单位", "", "2024-04-01", "二", "依据", "", ""],
        ["U001", "", "训诫", "单位", "", "2024-04-01", "三", "依据", "", ""]]})
    r = cli("action", "import", unknown, "--json")
    assert r.exit_code == 2
    errs = {(e["row"], e["column"]) for e in json_out_any(r)["files"][0]["errors"]}
    assert errs == {(3, "单位编码"), (4, "措施")}
    assert json_out(cli("audit", "head", "--json")) == head  # nothing written, not even row 2
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def json_out_any(result):
    import json

    return json.loads(result.stdout)


def test_plans_of_below_standard_branches_as_of_dates(cli, city):
    r = cli("tier", "plan", "add", "U001-B01", "--date", "2024-03-01", "--responsible", "书记", "--measures", "x",
            "--target-date", "2024-06-30")
    assert r.exit_code == 2 and "只为未达标支部制定" in r.output
    p2 = json_out(cli("tier", "plan", "add", "U002-B01", "--date", "2024-03-01", "--responsible", "支部书记 王芳",
                      "--measures", "补齐支委，规范三会一课", "--target-date", "2024-06-30", "--json"))
    p3 = json_out(cli("tier", "plan", "add", "U003-B01", "--date", "2024-04-01", "--responsible", "支部书记 李强",
                      "--measures", "党费专项清理", "--target-date", "2024-09-30", "--json"))
    json_out(cli("tier", "plan", "update", str(p2["id"]), "--date", "2024-05-20", "--progress", "已补选两名支委",
                 "--json"))
    done = json_out(cli("tier", "plan", "update", str(p2["id"]), "--date", "2024-07-10", "--progress", "全部完成",
                        "--done", "--json"))
    assert done["state"] == "done" and done["done_on"] == "2024-07-10"

    def states(day):
        doc = json_out(cli("tier", "plan", "list", "--as-of", day, "--json"))
        return {p["branch"]: p["state"] for p in doc["plans"]}, doc

    # by hand: on 2024-03-15 only B02's plan exists (active), B03 has none yet
    s, doc = states("2024-03-15")
    assert s == {"U002-B01": "active"} and doc["without_plan"] == ["U003-B01"]
    # 2024-07-01: B02 passed its target (06-30) and was not done until 07-10 -> overdue; B03 active
    s, _ = states("2024-07-01")
    assert s == {"U002-B01": "overdue", "U003-B01": "active"}
    # 2024-10-01: B02 done on 07-10; B03 passed 09-30 with no report -> overdue
    s, doc = states("2024-10-01")
    assert s == {"U002-B01": "done", "U003-B01": "overdue"}
    assert (doc["below_standard"], doc["with_plan"], doc["done"], doc["overdue"]) == (2, 2, 1, 1)
    stats = json_out(cli("tier", "stats", "--year", "2024", "--json"))
    assert stats["plans"]["below_standard"] == 2 and stats["plans"]["with_plan"] == 2
    r = cli("tier", "plan", "update", str(p3["id"]), "--date", "2024-03-01", "--progress", "早于计划")
    assert r.exit_code == 2 and "早于计划制定日期" in r.output
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_tampering_with_a_measure_is_found(cli, city, store):
    a = json_out(cli("action", "add", "U002", "--kind", "约谈", "--date", "2024-03-05", "--reason", "党费",
                     "--basis", "y", "--json"))
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE action SET kind = '提醒谈话' WHERE id = :i"), {"i": a["id"]})
    doc = json_out_any(cli("audit", "verify", "--json"))
    assert not doc["ok"] and "问责措施" in (doc["problem"] or "")


# ---------------------------------------------------------------- the problem list (问题清单)


def _add(cli, org, found, due, category="", kind=None):
    args = ["rectify", "add", org, "--problem", f"{category or '未分类'}问题 {found}", "--found", found, "--due", due]
    if category:
        args += ["--category", category, "--severity", "一般"]
    if kind:
        args += ["--kind", kind]
    return json_out(cli(*args, "--json"))["id"]


def test_rectification_rates_by_category_and_unit_by_hand(cli, orgs):
    old = _add(cli, "U001", "2023-05-01", "2023-06-30", "党费管理")
    i1 = _add(cli, "U001", "2024-02-01", "2024-03-31", "党费管理")
    i2 = _add(cli, "U001-B01", "2024-02-10", "2024-04-30", "组织生活", kind="branch")
    i3 = _add(cli, "U002", "2024-03-01", "2024-05-31", "党费管理")
    i4 = _add(cli, "U002", "2024-05-01", "2024-08-31", "责任落实")
    i5 = _add(cli, "U003", "2024-06-01", "2024-06-20")
    for item, day in ((old, "2023-06-01"), (i1, "2024-03-20"), (i2, "2024-05-10"), (i4, "2024-07-01"), (i5, "2024-06-20")):
        json_out(cli("rectify", "close", str(item), "--feedback", "已整改", "--date", day, "--json"))
    mid = json_out(cli("rectify", "stats", "--year", "2024", "--as-of", "2024-06-30", "--json"))
    t = mid["total"]
    # due by 06-30: items 1, 2, 3, 5; closed by then: 1, 2, 5; closed within the deadline: 1, 5
    assert (t["items"], t["due"], t["closed_due"], t["closed_on_time"]) == (5, 4, 3, 2)
    assert (t["rate"], t["rate_on_time"], t["rate_text"]) == (0.75, 0.5, "75.00%")
    assert (t["open"], t["overdue"]) == (2, 1)  # items 3 and 4 open; 3 overdue
    cats = {c["category"]: (c["items"], c["due"], c["closed_due"], c["rate"], c["rate_on_time"]) for c in mid["by_category"]}
    assert cats == {"党费管理": (2, 2, 1, 0.5, 0.5), "组织生活": (1, 1, 1, 1.0, 0.0), "责任落实": (1, 0, 0, None, None),
                    "未分类": (1, 1, 1, 1.0, 1.0)}
    units = {u["unit"]: (u["due"], u["closed_due"], u["rate"], u["rate_on_time"]) for u in mid["by_unit"]}
    assert units == {"U001": (2, 2, 1.0, 0.5), "U002": (1, 0, 0.0, 0.0), "U003": (1, 1, 1.0, 1.0)}

    end = json_out(cli("rectify", "stats", "--year", "2024", "--json"))
    assert (end["total"]["due"], end["total"]["closed_due"], end["total"]["closed_on_time"]) == (5, 4, 3)
    assert (end["total"]["rate"], end["total"]["rate_on_time"]) == (0.8, 0.6)
    assert end["years"] == [2023, 2024]
    trend = {r["category"]: (r["2023"], r["2024"]) for r in end["trend"]}
    assert trend == {"党费管理": (1, 2), "组织生活": (0, 1), "责任落实": (0, 1), "未分类": (0, 1)}

    # a later reclassification does not change the June figures
    json_out(cli("rectify", "classify", str(i5), "--category", "基础保障", "--date", "2024-07-15", "--json"))
    assert json_out(cli("rectify", "stats", "--year", "2024", "--as-of", "2024-06-30", "--json")) == mid
    late = json_out(cli("rectify", "stats", "--year", "2024", "--json"))
    assert {c["category"] for c in late["by_category"]} == {"党费管理", "组织生活", "责任落实", "基础保障"}
    r = cli("rectify", "classify", str(i3), "--category", "作风建设")
    assert r.exit_code == 2 and "不在考核方案的列表中" in r.output
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_repeated_problems_put_an_organization_on_the_negative_list(cli, orgs):
    a = _add(cli, "U003", "2024-03-05", "2024-04-30", "党费管理")
    b = _add(cli, "U003", "2024-09-10", "2024-10-31", "党费管理")
    c = _add(cli, "U004", "2024-03-05", "2024-03-31", "组织生活")
    d = _add(cli, "U004", "2024-03-20", "2024-04-30", "组织生活")  # same month: not a repetition
    for item, day in ((a, "2024-04-20"), (b, "2024-10-20"), (c, "2024-03-30"), (d, "2024-04-20")):
        json_out(cli("rectify", "close", str(item), "--feedback", "已整改", "--date", day, "--json"))
    doc = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    assert [e["org"] for e in doc["entries"]] == ["U003"]
    (reason,) = doc["entries"][0]["reasons"]
    assert "党费管理" in reason and "2024年3月、2024年9月" in reason and "重复问题" in reason
    # an item found not really fixed on re-check is reopened: a repeated problem too
    json_out(cli("rectify", "reopen", str(c), "--date", "2024-11-02", "--reason", "复查发现仍未整改",
                 "--due", "2024-12-15", "--json"))
    json_out(cli("rectify", "close", str(c), "--feedback", "再次整改", "--date", "2024-12-10", "--json"))
    doc = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    entries = {e["org"]: e["reasons"] for e in doc["entries"]}
    assert set(entries) == {"U003", "U004"}
    assert any("重新打开" in r and "重复问题" in r for r in entries["U004"])
    # reopened next January (a re-check of last year's closed items): a repeated problem of the year it is reopened in
    json_out(cli("rectify", "reopen", str(a), "--date", "2025-01-10", "--reason", "复查发现仍未整改",
                 "--due", "2025-02-28", "--json"))
    doc = json_out(cli("negative-list", "--year", "2025", "--build", "--json"))
    [(org, reasons)] = [(e["org"], e["reasons"]) for e in doc["entries"]]
    assert org == "U003" and reasons[0] == (
        f"整改事项第 {a} 号「党费管理问题 2024-03-05」销号后经复查于2025年1月10日重新打开（重复问题）")
    assert "逾期" in reasons[1]  # and still open at the end of 2025


def test_the_quarterly_bulletin_counts_measures_and_the_schedule_states_plans(cli, orgs, store):
    from tests.store_builder import Builder

    b = Builder(store)
    for m in range(1, 7):
        b.tasks(f"2024-{m:02d}", {"A": 60, "B": 40})
        for u in ("U001", "U002", "U003", "U004"):
            b.report(u, f"2024-{m:02d}", {"A": 5000, "B": 3000})
    json_out(cli("action", "add", "U002", "--kind", "约谈", "--secretary", "--date", "2024-05-10",
                 "--reason", "党费收缴不及时", "--basis", "示机工纪〔2024〕2号", "--json"))
    json_out(cli("action", "add", "U003", "--kind", "提醒谈话", "--date", "2024-06-03",
                 "--reason", "组织生活会走过场", "--basis", "谈话记录〔2024〕5号", "--json"))
    json_out(cli("tier", "plan", "add", "U002-B01", "--date", "2024-04-01", "--responsible", "支部书记",
                 "--measures", "补齐支委", "--target-date", "2024-06-15", "--json"))
    i = _add(cli, "U001", "2024-04-01", "2024-05-31", "党费管理")
    _add(cli, "U002", "2024-04-10", "2024-06-10", "组织生活")
    json_out(cli("rectify", "close", str(i), "--feedback", "已整改", "--date", "2024-05-20", "--json"))
    out = orgs / "文书"

    def md(command, quarter):
        r = cli(command, "--quarter", quarter, "--format", "md", "--out", out / command / quarter, "--allow-gaps",
                "--date", "2024-07-05")
        assert r.exit_code in (0, 1), r.output
        (f,) = list((out / command / quarter).glob("*.md"))
        return f.read_text(encoding="utf-8")

    q2 = md("bulletin", "2024Q2")
    assert "本季度对 2 个单位采取问责措施 2 次：提醒谈话 1 次，约谈 1 次。" in q2
    assert "测试单位2机关党委" in q2 and "约谈（书记）" in q2
    # the year's problem list as of the quarter's end, in the bulletin and the schedule
    rates = ("2024年以来共发现需要整改的问题 2 项，其中“党费管理”方面 1 项、“组织生活”方面 1 项；截至2024年6月30日应完成整改 "
             "2 项，已整改销号 1 项，整改率 50.00%，按期整改率 50.00%；逾期未整改 1 项。")
    assert rates in q2
    assert "2024年以来未发现需要整改的问题。" in md("bulletin", "2024Q1")
    assert "本季度未对考核单位采取问责措施。" in md("bulletin", "2024Q1")
    # the plan passed its target date (06-15) without a done report: 已超过目标日期 at the quarter's end
    r = cli("ranking", "--year", "2024", "--format", "md", "--out", out / "ranking", "--date", "2025-01-10")
    assert r.exit_code == 0, r.output
    (annual,) = list((out / "ranking").glob("*.md"))
    text = annual.read_text(encoding="utf-8")
    assert "、问题整改和问责情况" in text and "全年对 2 个单位采取问责措施 2 次：提醒谈话 1 次，约谈 1 次。" in text
    assert ("全年共发现需要整改的问题 2 项，其中“党费管理”方面 1 项、“组织生活”方面 1 项；截至2024年12月31日应完成整改 2 项，"
            "已整改销号 1 项，整改率 50.00%，按期整改率 50.00%；逾期未整改 1 项。") in text
    sched = md("schedule", "2024Q2")
    assert rates in sched
    assert "未达标支部 2 个，已制定整改提升计划 1 个（推进中 0 个，已完成 0 个，已超过目标日期 1 个），尚未制定计划 1 个" in sched
