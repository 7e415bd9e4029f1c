"""`djctl check forms|import|status`: check worksheets out and back in, double deduction, rectification items."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from djctl.store.audit import rows_digest
from tests.check_helpers import (
    COL,
    DRAWN,
    FIRST,
    META,
    MONTH,
    POINTS,
    ROW,
    SELF,
    SHEET,
    TASKS,
    audit_actions,
    both,
    check_forms,
    check_scores,
    counts,
    fill_check,
    import_check,
    rectifications,
    set_cells,
    set_meta,
    setup_checks,
)
from tests.helpers import json_out
from tests.monthly_helpers import fast_cli, fill_form, query


@pytest.fixture
def cli(monkeypatch):
    return fast_cli(monkeypatch)


@pytest.fixture
def forms(cli, tmp_path) -> dict[str, Path]:
    """A store with March reported and drawn, and the check worksheets written (U001, U004)."""
    setup_checks(cli, tmp_path)
    return check_forms(cli, tmp_path / "下发")


def total(unit: str) -> Decimal:
    return sum((Decimal(str(v)) for v in SELF[unit]), Decimal(0))


def rows_by_unit(cli) -> dict[str, dict[str, Any]]:
    doc = json_out(cli("score", "--month", MONTH, "--json"))
    return {r["unit"]: r for r in doc["rows"]}


# ------------------------------------------------------------------ forms out


def test_forms_for_drawn_reported_units_with_self_scores_locked_and_validated(cli, tmp_path, forms):
    assert sorted(p.name for p in forms.values()) == ["2024-03_U001_测试单位1机关党委_核查表.xlsx",
                                                      "2024-03_U004_测试单位4机关党委_核查表.xlsx"]
    doc = json_out(cli("check", "forms", "--month", MONTH, "--out", tmp_path / "again", "--json"))
    draw = json_out(cli("sample", "show", "--month", MONTH, "--json"))
    assert doc["draw"] == {"id": draw["id"], "label": "sample:2024-03"}
    assert doc["not_reported"] == [{"unit": "U005", "name": "测试单位5机关党委"}]
    wb = openpyxl.load_workbook(forms["U001"])
    assert wb.sheetnames == [SHEET, META]
    ws = wb[SHEET]
    assert [ws.cell(2, c).value for c in (2, 3, 5, 6)] == ["单位编码", "U001", "单位名称", "测试单位1机关党委"]
    assert [ws.cell(3, c).value for c in (2, 3)] == ["月份", MONTH]
    assert ws["F2"].data_type == "s" and ws["C2"].data_type == "s"  # code and name are text cells
    assert [ws.cell(6, c).value for c in range(1, 11)] == list(COL)
    last = FIRST + len(TASKS) - 1
    got = [(ws.cell(r, 2).value, ws.cell(r, 4).value, ws.cell(r, 5).value) for r in range(FIRST, last + 1)]
    assert got == list(zip(TASKS, POINTS, SELF["U001"]))
    assert ws.cell(FIRST, COL["自评说明"]).value == "U001 说明 T01"
    assert ws.cell(last + 1, 2).value is None
    assert all(ws.cell(r, 3).data_type == "s" for r in range(FIRST, last + 1))
    assert ws.protection.sheet is True
    fill = {COL[c] for c in ("核查得分", "是否虚假", "核查说明", "核查人")}
    for row in range(1, last + 1):
        for col in range(1, 11):
            unlocked = (row >= FIRST and col in fill) or (row, col) == (3, 9)  # and the 核查日期 cell
            assert ws.cell(row, col).protection.locked is (not unlocked), (row, col)
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    score = dvs[f"G{FIRST}:G{last}"]
    assert score.type == "custom" and score.showErrorMessage
    assert "G7<=D7" in score.formula1 and "ROUND(G7,1)=G7" in score.formula1 and "G7>=0" in score.formula1
    flag = dvs[f"H{FIRST}:H{last}"]
    assert flag.type == "list" and flag.formula1 == '"是,否"' and flag.allow_blank and flag.showErrorMessage
    meta = wb[META]
    assert meta.sheet_state == "veryHidden"
    [(rep_id,)] = query("SELECT id FROM self_report WHERE unit_code = 'U001' AND active")
    [(task_hash,)] = query("SELECT sha256 FROM task_list WHERE month = :m AND active", m=MONTH)
    stored = [[t, int(Decimal(str(v)) * 100)] for t, v in zip(TASKS, SELF["U001"])]
    assert {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, meta.max_row + 1)} == {
        "kind": "check", "unit": "U001", "month": MONTH, "draw_id": str(draw["id"]), "self_report_id": str(rep_id),
        "self_hash": rows_digest(stored), "task_hash": task_hash}


def test_forms_name_the_drawn_units_that_did_not_report(cli, tmp_path, forms):
    r = cli("check", "forms", "--month", MONTH, "--out", tmp_path / "x")
    assert r.exit_code == 0, r.output
    assert "已生成 2 份" in r.output and "U005 测试单位5机关党委" in r.output and "未报送" in r.output


def test_forms_without_a_draw_need_action(cli, tmp_path, forms):
    r = cli("check", "forms", "--month", "2024-04", "--out", tmp_path / "x")
    assert r.exit_code == 1, r.output
    assert "2024-04 还没有抽查抽签" in r.output and "djctl sample" in r.output
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ forms back in


def ws_date(path) -> str:
    """The 核查日期 cell of a worksheet as written."""
    import openpyxl

    ws = openpyxl.load_workbook(path).active
    assert ws.cell(3, 8).value == "核查日期"
    return ws.cell(3, 9).value


@pytest.mark.sqlite_only
def test_import_worked_example_scores_explain_and_rectification(cli, tmp_path, forms):
    before = counts()
    events = len(audit_actions())
    u1 = fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是", "T01": "否"})
    u4 = fill_check(forms["U004"], tmp_path / "收回" / forms["U004"].name, {"T03": 15}, checker="李华")  # found more
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0, doc
    assert [(Path(f["path"]).name, f["status"], f["rows"]) for f in doc["files"]] == [
        (u1.name, "imported", 9), (u4.name, "imported", 9)]
    assert doc["files"][0]["false_tasks"] == ["T02"] and doc["files"][1]["false_tasks"] == []
    assert doc["totals"]["rows_imported"] == 18
    # stored as given: 是 → True, 否 → False, empty → NULL
    got = check_scores("U001")
    assert got["T02"] == (600, True, "经查阅台账核实", "王明")
    assert got["T01"][1] is False and got["T03"] == (1400, None, "经查阅台账核实", "王明")
    assert check_scores("U004")["T03"] == (1500, None, "经查阅台账核实", "李华")
    # one audit event per file, none per rectification item
    assert audit_actions()[events:] == ["check.import", "check.import"]
    after = counts()
    assert after["check_report"] - before["check_report"] == 2 and after["check_score"] - before["check_score"] == 18
    # the automatic rectification item
    [(rid, org, kind, source, ref, due, status, problem)] = rectifications()
    assert (org, kind, source, ref, status) == ("U001", "unit", "spotcheck", "2024-03:T02", "open")
    # found on the worksheet's 核查日期 (prefilled with the month's last day), due rectify_days later: never the
    # import's wall clock
    assert due == (date(2024, 3, 31) + timedelta(days=30)).isoformat() == "2024-04-30"
    assert ws_date(forms["U001"]) == "2024-03-31"
    # official wording: the month as 2024年3月, the task by its name (not its code T02)
    assert "2024年3月" in problem and "自评10分" in problem and "核查6分" in problem and "T02" not in problem
    assert doc["files"][0]["rectifications"] == [rid]
    # score --month: 10 self, 6 verified, false → 2: deduction 8; U004 found more: final = verified
    rows = rows_by_unit(cli)
    u1_self = total("U001")
    assert {k: rows["U001"][k] for k in ("checked", "false", "self", "deduction", "final", "rate")} == {
        "checked": True, "false": True, "self": float(u1_self), "deduction": 8.0, "final": float(u1_self - 8),
        "rate": float(u1_self - 8)}
    assert rows["U001"]["false_tasks"] == ["T02"]
    assert {k: rows["U004"][k] for k in ("checked", "false", "self", "deduction", "final")} == {
        "checked": True, "false": False, "self": 92.0, "deduction": 0.0, "final": 93.0}
    assert {k: rows["U002"][k] for k in ("checked", "deduction", "final")} == {"checked": False, "deduction": 0.0,
                                                                               "final": 100.0}
    # explain shows the formula
    ex = json_out(cli("explain", "U001", "--month", MONTH, "--json"))
    t02 = next(t for t in ex["tasks"] if t["task"] == "T02")
    assert (t02["self"], t02["verified"], t02["false"], t02["deduction"], t02["final"]) == (10.0, 6.0, True, 8.0, 2.0)
    assert t02["formula"] == "10 − 2 × (10 − 6) = 2"
    assert any("10 − 2 × (10 − 6) = 2" in s for s in ex["steps"])
    assert ex["steps"][-2] == f"自评合计 {u1_self}，核查扣减 8，最终得分 {u1_self - 8}"
    ex4 = json_out(cli("explain", "U004", "--month", MONTH, "--json"))
    t03 = next(t for t in ex4["tasks"] if t["task"] == "T03")
    assert (t03["self"], t03["verified"], t03["final"], t03["formula"]) == (14.0, 15.0, 15.0, "核查得分 15")
    r = cli("explain", "U001", "--month", MONTH)
    assert r.exit_code == 0 and "10 − 2 × (10 − 6) = 2" in r.output and "核查扣减 8" in r.output


def test_importing_the_same_files_again_changes_nothing(cli, tmp_path, forms):
    for unit in ("U001", "U004"):
        fill_check(forms[unit], tmp_path / "收回" / forms[unit].name, {"T02": 6}, {"T02": "是"})
    assert import_check(cli, tmp_path / "收回")[0] == 0
    before = counts()
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0
    assert [f["status"] for f in doc["files"]] == ["unchanged", "unchanged"]
    assert doc["totals"]["rows_present"] == 18 and doc["totals"]["rows_imported"] == 0
    assert counts() == before
    assert len(rectifications()) == 2
    assert cli("audit", "verify").exit_code == 0


def test_dry_run_validates_and_writes_nothing(cli, tmp_path, forms):
    path = fill_check(forms["U001"], tmp_path / "a.xlsx", {"T02": 6}, {"T02": "是"})
    before = counts()
    code, doc = import_check(cli, "--dry-run", path)
    assert code == 0 and doc["files"][0]["status"] == "valid"
    assert counts() == before


def test_empty_flag_is_decided_by_the_tolerance(cli, tmp_path, forms):
    """Tolerance 0 (the default): any overclaim left unmarked is false; 否 keeps the verified points."""
    path = fill_check(forms["U001"], tmp_path / "a.xlsx", {"T01": 14.5, "T03": 13.5}, {"T03": "否"})
    code, doc = import_check(cli, path)
    assert code == 0, doc
    assert doc["files"][0]["false_tasks"] == ["T01"]
    ex = {t["task"]: t for t in json_out(cli("explain", "U001", "--month", MONTH, "--json"))["tasks"]}
    assert (ex["T01"]["false"], ex["T01"]["final"], ex["T01"]["formula"]) == (True, 14.0, "15 − 2 × (15 − 14.5) = 14")
    assert (ex["T03"]["false"], ex["T03"]["final"], ex["T03"]["formula"]) == (False, 13.5, "核查得分 13.5")
    [item] = rectifications()
    assert item[4] == "2024-03:T01" and "超过容差0分" in item[7]


def test_tolerance_from_the_scheme_spares_a_small_overclaim(cli, tmp_path, forms):
    from djctl.resources import data_path

    text = data_path("scheme-2024.toml").read_text(encoding="utf-8")
    assert "tolerance = 0 " in text
    custom = tmp_path / "方案.toml"
    custom.write_text(text.replace("tolerance = 0 ", "tolerance = 0.5 "), encoding="utf-8")
    r = cli("init", "--scheme", custom, "--replace")
    assert r.exit_code == 0, r.output
    path = fill_check(forms["U001"], tmp_path / "a.xlsx", {"T01": 14.5, "T03": 13})
    code, doc = import_check(cli, path)
    assert code == 0 and doc["files"][0]["false_tasks"] == ["T03"], doc
    ex = {t["task"]: t for t in json_out(cli("explain", "U001", "--month", MONTH, "--json"))["tasks"]}
    assert (ex["T01"]["false"], ex["T01"]["final"]) == (False, 14.5)
    assert "未超过容差 0.5" in ex["T01"]["formula"]
    assert (ex["T03"]["false"], ex["T03"]["final"]) == (True, 12.0)   # 14 − 2 × 1
    assert [i[4] for i in rectifications()] == ["2024-03:T03"]
    row = rows_by_unit(cli)["U001"]
    assert (row["deduction"], row["final"]) == (2.5, float(total("U001") - Decimal("2.5")))


def test_a_different_file_needs_replace_and_keeps_history(cli, tmp_path, forms):
    first = fill_check(forms["U001"], tmp_path / "a" / "1.xlsx", {"T02": 6, "T04": 8}, {"T02": "是", "T04": "是"})
    assert import_check(cli, first)[0] == 0
    assert [i[4] for i in rectifications()] == ["2024-03:T02", "2024-03:T04"]
    second = fill_check(forms["U001"], tmp_path / "b" / "2.xlsx", {"T02": 7}, {"T02": "是"})
    before = counts()
    code, doc = import_check(cli, second)
    assert code == 2 and doc["files"][0]["status"] == "refused"
    assert "已经导入过另一份核查表" in doc["files"][0]["message"] and "--replace" in doc["files"][0]["message"]
    assert counts() == before
    code, doc = import_check(cli, "--replace", second)
    assert code == 0 and doc["files"][0]["status"] == "imported", doc
    reports = query("SELECT active FROM check_report WHERE unit_code = 'U001' ORDER BY id")
    assert [bool(a) for (a,) in reports] == [False, True]
    files = query("SELECT active, replaced_by IS NOT NULL FROM import_file WHERE kind = 'check' ORDER BY id")
    assert [(bool(a), bool(b)) for a, b in files] == [(False, True), (True, False)]
    assert check_scores("U001")["T02"][0] == 700 and check_scores("U001")["T04"][0] == 950
    # T02 still false: the open item is kept, not duplicated; T04 no longer false: named for closing
    assert len(rectifications()) == 2
    f = doc["files"][0]
    assert f["rectifications"] == [] and f["rectifications_stale"] == [rectifications()[1][0]]
    assert "不再认定虚假" in f["message"]
    assert rows_by_unit(cli)["U001"]["deduction"] == 6.0        # 10 − 2 × 3 = 4
    # the replaced file comes back as unchanged and inactive
    code, doc = import_check(cli, first)
    assert code == 0 and doc["files"][0]["status"] == "unchanged" and "已被另一份核查表替换" in doc["files"][0]["message"]


def test_a_worksheet_of_a_redrawn_month_is_refused(cli, tmp_path, forms):
    path = fill_check(forms["U001"], tmp_path / "a.xlsx")
    r = cli("sample", "--month", MONTH, "--seed", "重抽种子", "--count", "3", "--redraw", "--reason", "种子抄错")
    assert r.exit_code == 0, r.output
    before = counts()
    code, doc = import_check(cli, path)
    assert code == 2
    assert "已重抽为" in doc["files"][0]["message"] and "check forms" in doc["files"][0]["message"]
    assert counts() == before


def test_a_worksheet_for_a_replaced_self_report_is_refused(cli, tmp_path, forms):
    path = fill_check(forms["U001"], tmp_path / "a.xlsx")
    sf = json_out(cli("selfeval", "forms", "--month", MONTH, "--out", tmp_path / "sf", "--unit", "U001", "--json"))
    again = fill_form(Path(sf["files"][0]), tmp_path / "sb" / "U001.xlsx", [10] * 9)
    assert cli("selfeval", "import", "--replace", again).exit_code == 0
    before = counts()
    code, doc = import_check(cli, path)
    assert code == 2
    assert "自评已被替换" in doc["files"][0]["message"] and "重新生成核查表" in doc["files"][0]["message"]
    assert counts() == before
    # the new worksheet carries the new self-scores and comes in
    new = check_forms(cli, tmp_path / "新")["U001"]
    assert openpyxl.load_workbook(new)[SHEET].cell(FIRST, COL["自评得分"]).value == 10
    assert import_check(cli, fill_check(new, tmp_path / "b.xlsx"))[0] == 0


def test_a_self_assessment_form_is_not_a_check_worksheet(cli, tmp_path, forms):
    sf = json_out(cli("selfeval", "forms", "--month", MONTH, "--out", tmp_path / "sf", "--unit", "U001", "--json"))
    path = fill_form(Path(sf["files"][0]), tmp_path / "s.xlsx", [10] * 9)
    code, doc = import_check(cli, path)
    assert code == 2 and "表格类型不符" in doc["files"][0]["message"]


# ------------------------------------------------------------------ bad worksheets, each a real file


def duplicate_row(wb):
    ws = wb[SHEET]
    ws.insert_rows(ROW["T02"])
    for col in range(1, 11):
        ws.cell(ROW["T02"], col).value = ws.cell(ROW["T01"], col).value


def delete_row(wb):
    wb[SHEET].delete_rows(ROW["T03"])


def add_row(wb):
    ws = wb[SHEET]
    for col, value in zip(range(1, 11), (10, "T99", "另加任务", 5, 5, None, 5, None, None, "王明")):
        ws.cell(FIRST + 9, col).value = value


SCORE, FLAG, SELF_COL = "核查得分", "是否虚假", "自评得分"
CASES = [
    # (id, verified, false, edit, (row, column) or None, message)
    ("above-points", {"T01": 15.5}, None, None, (ROW["T01"], SCORE), "15.5 超过上限 15"),
    ("below-zero", {"T02": -1}, None, None, (ROW["T02"], SCORE), "「-1」不能为负数"),
    ("text", {"T01": "八"}, None, None, (ROW["T01"], SCORE), "「八」不是有效数字"),
    ("comma", {"T01": "8,5"}, None, None, (ROW["T01"], SCORE), "不要用逗号"),
    ("two-decimals", {"T01": 8.25}, None, None, (ROW["T01"], SCORE), "最多保留 1 位小数"),
    ("formula", {"T01": "=5+3"}, None, None, (ROW["T01"], SCORE), "是公式"),
    ("empty", {"T03": None}, None, None, (ROW["T03"], SCORE), "不能为空"),
    ("flag-not-yes-no", None, {"T02": "Y"}, None, (ROW["T02"], FLAG), "应填「是」或「否」"),
    ("flag-without-overclaim", None, {"T02": "是"}, None, (ROW["T02"], FLAG), "不低于自评得分"),
    ("self-tampered", None, None, set_cells((ROW["T01"], COL[SELF_COL], 14)), (ROW["T01"], SELF_COL),
     "自评得分被改为 14，单位报送的是 15"),
    ("self-hash", None, None, set_meta("self_hash", "0" * 64), None, "自评得分摘要"),
    ("points-changed", None, None, set_cells((ROW["T01"], COL["分值"], 20)), (ROW["T01"], "分值"), "分值被改为 20"),
    ("unknown-task", None, None, set_cells((ROW["T03"], COL["任务编码"], "T33")), (ROW["T03"], "任务编码"),
     "任务编码「T33」不在"),
    ("added-task", None, None, add_row, (FIRST + 9, "任务编码"), "「T99」不在"),
    ("missing-task", None, None, delete_row, (None, None), "缺少任务：T03"),
    ("duplicate-task", None, None, duplicate_row, (ROW["T02"], "任务编码"), "任务「T01」与第 7 行重复"),
    ("header-unit", None, None, set_cells((2, 3, "U004")), (2, "单位编码"), "单位编码被改为「U004」"),
    ("header-month", None, None, set_cells((3, 3, "2024-04")), (3, "月份"), "月份被改为「2024-04」"),
    ("not-drawn", None, None, both(set_meta("unit", "U002"), set_cells((2, 3, "U002"))), None,
     "U002 测试单位2机关党委 不在 2024-03 的抽查抽签结果中"),
    ("draw-id", None, None, set_meta("draw_id", "abc"), None, "抽签编号「abc」无效"),
    ("self-report-id", None, None, set_meta("self_report_id", "3"), None, "自评记录与单位、月份不符"),
    ("task-hash", None, None, set_meta("task_hash", "f" * 64), None, "任务清单摘要"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_worksheet_is_refused_and_nothing_is_written(cli, tmp_path, forms, case):
    _id, verified, false, edit, where, says = case
    path = fill_check(forms["U001"], tmp_path / "bad" / forms["U001"].name, verified, false, edit=edit)
    before = counts()
    code, doc = import_check(cli, path)
    assert code == 2, doc
    [f] = doc["files"]
    assert f["status"] == "refused" and f["errors"], f
    first = f["errors"][0]
    if where is not None:
        positioned = [e for e in f["errors"] if (e["sheet"], e["row"], e["column"]) == (SHEET, *where)]
        assert positioned, f["errors"]
        first = positioned[0]
    assert says in first["message"] or says in f["message"], f
    assert counts() == before
    if where is not None and where[0] is not None:
        r = cli("check", "import", path)
        assert r.exit_code == 2
        assert f"工作表「{SHEET}」第 {where[0]} 行「{where[1]}」列" in r.output, r.output


def test_every_problem_of_a_worksheet_is_listed(cli, tmp_path, forms):
    path = fill_check(forms["U001"], tmp_path / "a.xlsx", {"T01": "八", "T02": 11, "T03": None}, {"T04": "虚假"})
    code, doc = import_check(cli, path)
    assert code == 2
    assert [(e["row"], e["column"]) for e in doc["files"][0]["errors"]] == [
        (ROW["T01"], SCORE), (ROW["T02"], SCORE), (ROW["T03"], SCORE), (ROW["T04"], FLAG)]


# ------------------------------------------------------------------ status


def test_status_lists_drawn_units_and_strict_until_all_checked(cli, tmp_path, forms):
    doc = json_out(cli("check", "status", "--month", MONTH, "--json"))
    assert doc["draw"]["label"] == "sample:2024-03"
    assert [r["unit"] for r in doc["rows"]] == DRAWN    # in draw order
    assert [r["status"] for r in doc["rows"]] == ["missing", "unchecked", "unchecked"]
    assert doc["counts"] == {"checked": 0, "unchecked": 2, "stale": 0, "missing": 1}
    assert doc["unchecked"] == ["U004", "U001"]
    r = cli("check", "status", "--month", MONTH, "--strict")
    assert r.exit_code == 1 and "U004" in r.output
    for unit in ("U001", "U004"):
        fill_check(forms[unit], tmp_path / "收回" / forms[unit].name, {"T02": 6}, {"T02": "是"})
    assert import_check(cli, tmp_path / "收回")[0] == 0
    doc = json_out(cli("check", "status", "--month", MONTH, "--json"))
    rows = {r["unit"]: r for r in doc["rows"]}
    assert (rows["U001"]["status"], rows["U001"]["false_tasks"], rows["U001"]["deduction"]) == ("checked", ["T02"], 8.0)
    assert rows["U004"]["false"] is True and rows["U004"]["deduction"] == 6.0   # 9 − 2 × 3 = 3
    assert rows["U001"]["file"] == forms["U001"].name
    assert doc["unchecked"] == [] and rows["U005"]["status"] == "missing"
    r = cli("check", "status", "--month", MONTH, "--strict")
    assert r.exit_code == 0, r.output
    assert "已核查 2" in r.output and "未报送 1" in r.output
    # a redraw makes the checks stale
    assert cli("sample", "--month", MONTH, "--seed", "y", "--count", "3", "--redraw", "--reason", "测试").exit_code == 0
    doc = json_out(cli("check", "status", "--month", MONTH, "--json"))
    stale = [r for r in doc["rows"] if r["status"] == "stale"]
    assert stale and all("已被重抽" in r["why"] for r in stale)
    none = json_out(cli("check", "status", "--month", "2024-05", "--json"))
    assert none["draw"] is None and none["rows"] == []
    assert cli("check", "status", "--month", "2024-05", "--strict").exit_code == 1


# ------------------------------------------------------------------ demo


def test_demo_step_checks_the_drawn_month(cli, tmp_path, forms):
    from djctl.services.demo import DemoContext
    from djctl.services.demo.checks import demo_step, fill_check_form
    from djctl.store.engine import open_store

    store = open_store()
    try:
        ctx = DemoContext(dir=tmp_path / "demo")
        lines = demo_step(store, ctx)
    finally:
        store.dispose()
    assert (tmp_path / "demo" / "收回" / "核查表" / MONTH / forms["U001"].name).is_file()
    assert any("抽中但未报送 U005" in line for line in lines)
    assert any("全年导入核查表 2 份" in line for line in lines), lines
    # March is the tolerance case: one task a little lower, judged 否 under tolerance 0, no deduction beyond it
    rows = rows_by_unit(cli)
    assert rows["U001"]["checked"] and rows["U004"]["checked"]
    assert not rows["U001"]["false"] and not rows["U004"]["false"]
    assert rectifications() == []
    # an overclaim as the demo fills it is false, with a rectification item
    import random

    src = check_forms(cli, tmp_path / "再")["U004"]
    path = fill_check_form(src, tmp_path / "over.xlsx", random.Random(1), case="overclaim")
    code, doc = import_check(cli, "--replace", path)
    assert code == 0 and len(doc["files"][0]["false_tasks"]) == 1, doc
    assert len(rectifications()) == 1
    ws = openpyxl.load_workbook(path)[SHEET]
    flags = [ws.cell(r, COL["是否虚假"]).value for r in range(FIRST, FIRST + 9)]
    assert flags.count("是") == 1
    assert json.loads(cli("check", "status", "--month", MONTH, "--json").stdout)["counts"]["checked"] == 2


@pytest.mark.sqlite_only
@pytest.mark.parametrize("value, found, due", [
    ("2024-04-08", "2024-04-08", "2024-05-08"),  # the checker's date: the problem's found date, the deadline from it
    ("2024年4月9日", "2024-04-09", "2024-05-09"),
    (None, "2024-03-31", "2024-04-30"),  # left empty: the month's last day, never the import's clock
])
def test_check_date_on_the_worksheet_dates_the_findings(cli, tmp_path, forms, value, found, due):
    def edit(wb):
        wb[SHEET].cell(3, 9).value = value

    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"}, edit=edit)
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0, doc
    [(rid, *_rest, item_due, _status, _problem)] = rectifications()
    assert item_due == due and query("SELECT found_on FROM rectification")[0][0] == found
    assert query("SELECT checked_on FROM check_report")[0][0] == found


@pytest.mark.sqlite_only
@pytest.mark.parametrize("value, needle", [("下周", "「下周」不是有效日期"), ("2024-02-28", "核查日期 2024-02-28 早于所核查的月份")])
def test_a_bad_check_date_is_refused_with_its_cell(cli, tmp_path, forms, value, needle):
    def edit(wb):
        wb[SHEET].cell(3, 9).value = value

    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, edit=edit)
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 2 and doc["files"][0]["status"] == "refused"
    [err] = [e for e in doc["files"][0]["errors"] if needle in e["message"]]
    assert err["sheet"] == SHEET and err["column"] == "核查日期"
    assert rectifications() == []


def test_the_worksheet_category_classifies_the_new_item(cli, tmp_path, forms):
    """问题类别 on the worksheet: the item the false task creates is classified on the check date; the column
    carries the scheme's list as a drop-down."""
    wb = openpyxl.load_workbook(forms["U001"])
    ws = wb[SHEET]
    assert ws.cell(FIRST - 1, 11).value == "问题类别"
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if "K" in str(dv.sqref)]
    assert lists and "组织生活" in lists[0] and "党费管理" in lists[0]
    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"},
               edit=set_cells((ROW["T02"], 11, "组织生活"), (ROW["T03"], 11, "党费管理")))
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0, doc
    [(rid, *_rest)] = rectifications()
    # only the false task makes an item; its tag is dated by the worksheet's 核查日期 and named in the audit event
    assert [(i, c, sv, str(d)) for i, c, sv, d in query("SELECT item_id, category, severity, on_date FROM rectification_tag")] == [
        (rid, "组织生活", "", "2024-03-31")]
    st = json_out(cli("rectify", "stats", "--year", "2024", "--json"))
    assert [(c["category"], c["items"]) for c in st["by_category"] if c["items"]] == [("组织生活", 1)]
    payload = json.loads(query("SELECT payload FROM audit_event WHERE action = 'check.import'")[0][0])
    assert "rectification_tag" in payload["row_digests"]
    assert cli("audit", "verify").exit_code == 0


def test_a_category_outside_the_scheme_is_refused_with_its_cell(cli, tmp_path, forms):
    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"},
               edit=set_cells((ROW["T02"], 11, "作风建设")))
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 2
    [err] = [e for e in doc["files"][0]["errors"] if e["column"] == "问题类别"]
    assert err["row"] == ROW["T02"] and "不在考核方案的列表中" in err["message"] and "组织生活" in err["message"]
    assert rectifications() == []


def test_an_older_worksheet_without_the_category_column_still_imports(cli, tmp_path, forms):
    def drop(wb):
        wb[SHEET].delete_cols(11)

    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"}, edit=drop)
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0, doc
    assert len(rectifications()) == 1 and query("SELECT count(*) FROM rectification_tag") == [(0,)]


def test_the_same_findings_resaved_by_another_program_are_unchanged(cli, tmp_path, forms):
    """Re-saved (other bytes, same cells): unchanged, nothing written; a changed category is a different file."""
    first = fill_check(forms["U001"], tmp_path / "a" / "1.xlsx", {"T02": 6}, {"T02": "是"},
                       edit=set_cells((ROW["T02"], 11, "组织生活")))
    assert import_check(cli, first)[0] == 0
    resaved = fill_check(forms["U001"], tmp_path / "b" / "1.xlsx", {"T02": 6.0}, {"T02": "是"},
                         edit=both(set_cells((ROW["T02"], 11, "组织生活")), lambda wb: wb.create_sheet("Sheet2")))
    assert resaved.read_bytes() != first.read_bytes()
    before, events = counts(), len(audit_actions())
    for extra in ((), ("--dry-run",)):
        code, doc = import_check(cli, *extra, resaved)
        assert code == 0 and doc["files"][0]["status"] == "unchanged", doc
        assert "内容与已导入的核查表相同" in doc["files"][0]["message"]
    assert counts() == before and len(audit_actions()) == events
    recategorised = fill_check(forms["U001"], tmp_path / "c" / "1.xlsx", {"T02": 6}, {"T02": "是"},
                               edit=set_cells((ROW["T02"], 11, "党费管理")))
    code, doc = import_check(cli, recategorised)
    assert code == 2 and "已经导入过另一份核查表" in doc["files"][0]["message"]


@pytest.mark.sqlite_only
def test_a_worksheet_of_the_earlier_header_layout_still_imports(cli, tmp_path, forms):
    """Worksheets sent out before the header moved (labels from column A: 单位编码 A2, 月份 A3, 核查日期 E3 with
    the date in F3) import as before: each value is read right of its label."""
    def old_layout(wb):
        ws = wb[SHEET]
        header = [[ws.cell(r, c).value for c in range(1, 12)] for r in (2, 3)]
        for r in (2, 3):
            for c in range(1, 12):
                ws.cell(r, c).value = None
        code, name = header[0][2], header[0][5]
        month, draw = header[1][2], header[1][5]
        for c, v in enumerate(["单位编码", code, "单位名称", name], 1):
            ws.cell(2, c).value = v
        for c, v in enumerate(["月份", month, "抽签", draw, "核查日期", "2024-04-08"], 1):
            ws.cell(3, c).value = v

    fill_check(forms["U001"], tmp_path / "收回" / forms["U001"].name, {"T02": 6}, {"T02": "是"}, edit=old_layout)
    code, doc = import_check(cli, tmp_path / "收回")
    assert code == 0, doc
    assert query("SELECT checked_on FROM check_report")[0][0] == "2024-04-08"
