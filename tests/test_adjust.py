"""Bonus and deduction items (加分项/减分项): add, list with caps, revoke, import, read API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from tests.helpers import json_out, small_roster, workbook

HEADER = ["单位编码", "单位名称", "年度", "类型", "分值", "事由", "依据", "一票否决"]


@pytest.fixture
def setup(cli, tmp_path):
    assert cli("init").exit_code == 0
    r = cli("org", "import", small_roster(tmp_path / "roster.xlsx", units=5))
    assert r.exit_code == 0, r.output


def add(cli, unit, *args):
    return cli("adjust", "add", unit, "--year", "2024", *args)


def adj_rows(store):
    from djctl.store.tables import Adjustment

    with store.read() as uow:
        return uow.session.exec(select(Adjustment).order_by(Adjustment.id)).all()


# ------------------------------------------------------------------ add


def test_add_bonus_and_list(cli, setup):
    r = add(cli, "U001", "--bonus", "2", "--reason", "获评省级先进基层党组织", "--basis", "示委发〔2024〕12号", "--json")
    item = json_out(r)
    assert {k: item[k] for k in ("id", "unit", "kind", "points", "reason", "basis", "veto", "revoked", "source")} == {
        "id": 1, "unit": "U001", "kind": "bonus", "points": 2.0, "reason": "获评省级先进基层党组织",
        "basis": "示委发〔2024〕12号", "veto": False, "revoked": False, "source": "manual"}
    human = add(cli, "U002", "--deduct", "1.5", "--reason", "党费收缴不及时", "--basis", "示机工督〔2024〕5号")
    assert human.exit_code == 0, human.output
    assert "已录入第 2 项" in human.stdout and "减分 1.5 分" in human.stdout
    doc = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    assert [(i["id"], i["unit"], i["kind"], i["points"]) for i in doc["items"]] == [(1, "U001", "bonus", 2.0), (2, "U002", "deduction", 1.5)]
    assert doc["caps"] == {"bonus": 5.0, "deduction": 10.0}
    only = json_out(cli("adjust", "list", "--year", "2024", "--unit", "U002", "--json"))
    assert [i["id"] for i in only["items"]] == [2]
    table = cli("adjust", "list", "--year", "2024")
    assert table.exit_code == 0 and "获评省级先进" in table.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--bonus", "1", "--deduct", "1"], "只指定一个"),
    ([], "只指定一个"),
    (["--bonus", "0"], "应大于 0"),
    (["--bonus", "-1"], "不能为负数"),
    (["--bonus", "1.25"], "最多保留 1 位小数"),
    (["--bonus", "abc"], "不是有效数字"),
    (["--bonus", "101"], "单项上限"),
    (["--bonus", "1", "--veto"], "一票否决项只能是减分项"),
    (["--deduct", "1", "--reason", " "], "不能为空"),
])
def test_add_usage_errors_exit_2_before_opening_the_store(cli, tmp_path, args, fragment):
    base = ["--reason", "事由", "--basis", "依据"] if "--reason" not in args else ["--basis", "依据"]
    r = add(cli, "U001", *args, *base)
    assert r.exit_code == 2, r.output
    assert fragment in r.output
    assert not (tmp_path / "djctl.db").exists()


def test_veto_with_zero_deduction(cli, setup, store):
    r = add(cli, "U003", "--deduct", "0", "--veto", "--reason", "班子成员严重违纪", "--basis", "示纪通〔2024〕6号", "--json")
    item = json_out(r)
    assert item["veto"] is True and item["kind"] == "deduction" and item["points"] == 0.0
    doc = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    assert doc["units"] == [{"unit": "U003", "name": "测试单位3机关党委", "items": 1, "bonus": 0.0, "bonus_capped": 0.0,
                             "bonus_over_cap": False, "deduction": 0.0, "deduction_capped": 0.0,
                             "deduction_over_cap": False, "veto": True}]
    from djctl.services.adjust import AdjustmentItem, adjustments_for_year

    with store.read() as uow:
        assert adjustments_for_year(uow.session, 2024) == {
            "U003": [AdjustmentItem(1, "deduction", 0, "班子成员严重违纪", "示纪通〔2024〕6号", True)]}


def test_add_checks_unit_scheme_and_duplicates(cli, setup, store):
    unknown = add(cli, "U999", "--bonus", "1", "--reason", "x", "--basis", "y")
    assert unknown.exit_code == 2 and "不在名册中" in unknown.output
    no_scheme = cli("adjust", "add", "U001", "--year", "2023", "--bonus", "1", "--reason", "x", "--basis", "y")
    assert no_scheme.exit_code == 2 and "2023" in no_scheme.output
    assert add(cli, "U001", "--bonus", "1", "--reason", "x", "--basis", "y").exit_code == 0
    dup = add(cli, "U001", "--bonus", "1", "--reason", "x", "--basis", "另一文件")
    assert dup.exit_code == 2 and "已有相同的加分项" in dup.output
    assert len(adj_rows(store)) == 1


def test_caps_are_applied_to_sums(cli, setup):
    for unit, args in [("U001", ["--bonus", "3"]), ("U001", ["--bonus", "2.5"]), ("U002", ["--deduct", "6"]),
                       ("U002", ["--deduct", "6.5"]), ("U002", ["--bonus", "0.5"])]:
        r = add(cli, unit, *args, "--reason", f"事由{args[1]}", "--basis", "文件")
        assert r.exit_code == 0, r.output
    doc = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    units = {u["unit"]: u for u in doc["units"]}
    assert (units["U001"]["bonus"], units["U001"]["bonus_capped"], units["U001"]["bonus_over_cap"]) == (5.5, 5.0, True)
    assert (units["U002"]["deduction"], units["U002"]["deduction_capped"], units["U002"]["deduction_over_cap"]) == (12.5, 10.0, True)
    assert (units["U002"]["bonus"], units["U002"]["bonus_capped"]) == (0.5, 0.5)
    human = cli("adjust", "list", "--year", "2024")
    assert "加分封顶 5，减分封顶 10" in human.stdout and "12.5" in human.stdout


# ------------------------------------------------------------------ revoke


def test_revoke_keeps_the_item_and_refuses_twice(cli, setup, store):
    from djctl.store.tables import AuditEvent

    add(cli, "U001", "--bonus", "3", "--reason", "甲", "--basis", "文件1")
    add(cli, "U001", "--bonus", "1", "--reason", "乙", "--basis", "文件2")
    r = cli("adjust", "revoke", "2", "--reason", "误录", "--json")
    item = json_out(r)
    assert item["revoked"] is True and item["revoke_reason"] == "误录"
    doc = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    assert [i["id"] for i in doc["items"]] == [1] and doc["revoked_hidden"] == 1
    assert doc["units"][0]["bonus"] == 3.0
    full = json_out(cli("adjust", "list", "--year", "2024", "--all", "--json"))
    assert [(i["id"], i["revoked"]) for i in full["items"]] == [(1, False), (2, True)]
    assert full["units"][0]["bonus"] == 3.0  # revoked items never count
    twice = cli("adjust", "revoke", "2", "--reason", "再撤")
    assert twice.exit_code == 2 and "不能重复撤销" in twice.output
    missing = cli("adjust", "revoke", "99", "--reason", "x")
    assert missing.exit_code == 2 and "没有编号为 99" in missing.output
    rows = adj_rows(store)
    assert len(rows) == 2 and rows[1].revoked_at is not None and rows[1].revoke_reason == "误录"
    with store.read() as uow:
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "adjust.revoke")).all()
    assert len(events) == 1 and json.loads(events[0].payload)["item"]["reason"] == "乙"
    from djctl.services.adjust import adjustments_for_year

    with store.read() as uow:
        assert [i.id for i in adjustments_for_year(uow.session, 2024)["U001"]] == [1]
    assert cli("audit", "verify").exit_code == 0


# ------------------------------------------------------------------ import


def adjust_file(path: Path, rows: list[list], header: list = HEADER) -> Path:
    return workbook(path, {"加减分项": [header, *rows]})


GOOD = [
    ["U001", "测试单位1", 2024, "加分", 2, "获评省级先进基层党组织", "示委发〔2024〕12号", "否"],
    ["U002", "测试单位2", "２０２４", "减分", "1.5", "党费收缴不及时", "示机工督〔2024〕5号", None],
    ["U003", "测试单位3", 2024, "减分", 0, "严重违纪", "示纪通〔2024〕6号", "是"],
]


def test_template_then_import_and_idempotence(cli, setup, tmp_path, store):
    assert cli("adjust", "template", "--out", "a.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "a.xlsx")
    ws = wb["加减分项"]
    assert [c.value for c in ws[1]] == HEADER
    assert wb["_djctl"].sheet_state == "veryHidden" and wb["_djctl"]["B1"].value == "adjust"
    for row in GOOD:
        ws.append(row)
    wb.save(tmp_path / "a.xlsx")
    dry = json_out(cli("adjust", "import", "a.xlsx", "--dry-run", "--json"))["files"][0]
    assert dry["status"] == "valid" and adj_rows(store) == []
    f = json_out(cli("adjust", "import", "a.xlsx", "--json"))["files"][0]
    assert f["status"] == "imported" and f["rows"] == 3 and f["period"] == "2024"
    rows = adj_rows(store)
    assert [(a.unit_code, a.kind, a.points_x100, a.veto, a.import_id) for a in rows] == [
        ("U001", "bonus", 200, False, f["import_id"]), ("U002", "deduction", 150, False, f["import_id"]),
        ("U003", "deduction", 0, True, f["import_id"])]
    again = json_out(cli("adjust", "import", "a.xlsx", "--json"))["files"][0]
    assert again["status"] == "unchanged" and len(adj_rows(store)) == 3
    # the same items in another file (re-saved by another program, rows in another order): unchanged, not doubled
    resaved = adjust_file(tmp_path / "另存.xlsx", [GOOD[2], GOOD[0], ["U002", "", 2024, "减分", 1.5, "党费收缴不及时", "x", "否"]])
    f2 = json_out(cli("adjust", "import", resaved, "--json"))["files"][0]
    assert f2["status"] == "unchanged" and "内容与已导入的加减分项表相同" in f2["message"] and len(adj_rows(store)) == 3
    doc = json_out(cli("adjust", "list", "--year", "2024", "--json"))
    assert {i["source"] for i in doc["items"]} == {"import"}
    assert cli("audit", "verify").exit_code == 0


BAD = {
    "unknown_unit": ([["U999", "", 2024, "加分", 1, "a", "b", "否"]], 2, "单位编码", "不在名册中"),
    "bad_kind": ([["U001", "", 2024, "奖励", 1, "a", "b", "否"]], 2, "类型", "应为 加分 / 减分 之一"),
    "zero_points": ([["U001", "", 2024, "加分", 0, "a", "b", "否"]], 2, "分值", "应大于 0"),
    "two_decimals": ([["U001", "", 2024, "加分", 1.25, "a", "b", "否"]], 2, "分值", "最多保留 1 位小数"),
    "text_points": ([["U001", "", 2024, "加分", "两分", "a", "b", "否"]], 2, "分值", "不是有效数字"),
    "negative_points": ([["U001", "", 2024, "减分", -2, "a", "b", "否"]], 2, "分值", "「-2」不能为负数"),
    "veto_bonus": ([["U001", "", 2024, "加分", 1, "a", "b", "是"]], 2, "一票否决", "一票否决项只能是减分项"),
    "bad_veto": ([["U001", "", 2024, "减分", 1, "a", "b", "也许"]], 2, "一票否决", "应填「是」或「否」"),
    "no_scheme_year": ([["U001", "", 2023, "加分", 1, "a", "b", "否"]], 2, "年度", "没有 2023 年度的考核方案"),
    "bad_year": ([["U001", "", 24, "加分", 1, "a", "b", "否"]], 2, "年度", "年度「24」无效"),
    "empty_basis": ([["U001", "", 2024, "加分", 1, "a", None, "否"]], 2, "依据", "不能为空"),
    "formula": ([["U001", "", 2024, "加分", "=1+1", "a", "b", "否"]], 2, "分值", "是公式"),
    "duplicate_rows": ([["U001", "", 2024, "加分", 1, "a", "b", "否"], ["U001", "", 2024, "加分", 1, "a", "c", "否"]],
                       3, "事由", "与第 3 行重复"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_adjust_files_are_refused_whole(cli, setup, tmp_path, store, case):
    rows, row, column, message = BAD[case]
    good = ["U004", "", 2024, "加分", 1, "好项目", "文件", "否"]
    path = adjust_file(tmp_path / f"{case}.xlsx", [good, *rows])
    r = cli("adjust", "import", path, "--json")
    assert r.exit_code == 2, r.output
    f = json.loads(r.stdout)["files"][0]
    assert f["status"] == "refused"
    assert message in json.dumps(f, ensure_ascii=False), f
    first = f["errors"][0]
    assert (first["sheet"], first["row"], first["column"]) == ("加减分项", row + 1, column), f
    assert adj_rows(store) == []


def test_import_refuses_an_item_already_in_the_store(cli, setup, tmp_path, store):
    assert add(cli, "U001", "--bonus", "2", "--reason", "获评省级先进基层党组织", "--basis", "x").exit_code == 0
    r = cli("adjust", "import", adjust_file(tmp_path / "a.xlsx", GOOD))
    assert r.exit_code == 2, r.output
    assert "第 2 行" in r.output and "数据库中已有相同的加分项" in r.output
    assert len(adj_rows(store)) == 1


def test_import_missing_required_header(cli, setup, tmp_path):
    path = adjust_file(tmp_path / "a.xlsx", [["U001", 2024, "加分", 1, "a"]], ["单位编码", "年度", "类型", "分值", "事由"])
    r = cli("adjust", "import", path)
    assert r.exit_code == 2, r.output
    assert "缺少必需的表头：依据" in r.output


def test_list_unknown_unit_and_missing_scheme(cli, setup):
    assert cli("adjust", "list", "--year", "2024", "--unit", "X1").exit_code == 2
    assert cli("adjust", "list", "--year", "2023").exit_code == 2


def test_import_reads_the_first_sheet_of_a_hand_made_file(cli, setup, tmp_path):
    path = workbook(tmp_path / "h.xlsx", {"Sheet1": [HEADER, ["U998", "", 2024, "加分", 1, "a", "b", "否"]]})
    r = cli("adjust", "import", path, "--json")
    assert r.exit_code == 2, r.output
    assert json.loads(r.stdout)["files"][0]["errors"][0]["sheet"] == "Sheet1"
