"""The monthly cycle end to end: task lists, self-assessment forms out and back in, status, scores."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.helpers import json_out
from tests.monthly_helpers import (
    COL,
    FIRST_TASK_ROW,
    META,
    MONTH,
    SHEET,
    active_scores,
    add_unit_directly,
    fast_cli,
    fill_all,
    fill_form,
    fullwidth,
    import_json,
    month_tasks,
    query,
    setup_month,
    setup_store,
    table_counts,
    task_workbook,
    write_forms,
)

STANDING = ["T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09"]
INACTIVE = [("U900", "已撤销单位党支部", None, date(2024, 1, 31))]


@pytest.fixture
def cli(monkeypatch):
    return fast_cli(monkeypatch)


def half_up(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------ task lists


def test_tasks_set_from_xlsx_extends_and_overrides_by_code(cli, tmp_path):
    f = task_workbook(tmp_path / "三月任务.xlsx", [
        ["T03", "严格落实“三会一课”制度（三月加强）", 20, "制度落实", "本月加分值"],
        ["T10", "开展“学习贯彻全国两会精神”专题学习", 8.5, "政治统领", ""],
    ])
    setup_store(cli, tmp_path, tasks_file=f)
    doc = json_out(cli("tasks", "show", "--month", MONTH, "--json"))
    assert [t["code"] for t in doc["tasks"]] == STANDING + ["T10"]  # override keeps the standing position
    t03 = doc["tasks"][2]
    assert (t03["name"], t03["points"], t03["note"]) == ("严格落实“三会一课”制度（三月加强）", 20.0, "本月加分值")
    assert doc["tasks"][-1] == {"code": "T10", "name": "开展“学习贯彻全国两会精神”专题学习", "points": 8.5,
                                "dimension": "政治统领", "note": ""}
    assert doc["full"] == 100 - 15 + 20 + 8.5
    assert doc["version"] == 1 and doc["source"].endswith("三月任务.xlsx")
    assert [h["active"] for h in doc["history"]] == [True]


def test_tasks_set_from_toml_and_no_standing(cli, tmp_path):
    toml = tmp_path / "tasks.toml"
    toml.write_text('[[tasks]]\ncode = "T01"\nname = "理论学习（四月）"\npoints = 12.5\ndimension = "政治统领"\n\n'
                    '[[tasks]]\ncode = "X1"\nname = "专项：安全生产"\npoints = 5\n', encoding="utf-8")
    setup_store(cli, tmp_path)
    doc = json_out(cli("tasks", "set", "--month", "2024-04", str(toml), "--json"))
    assert doc == {"month": "2024-04", "status": "created", "version": 1, "sha256": doc["sha256"], "tasks": 10,
                   "full": 100 - 15 + 12.5 + 5, "superseded": []}
    tasks = month_tasks(cli, "2024-04")
    assert tasks[0] == ("T01", Decimal("12.5")) and tasks[-1] == ("X1", Decimal(5))
    only = json_out(cli("tasks", "set", "--month", "2024-05", str(toml), "--no-standing", "--json"))
    assert (only["tasks"], only["full"]) == (2, 17.5)
    again = json_out(cli("tasks", "set", "--month", "2024-04", str(toml), "--json"))
    assert again["status"] == "unchanged" and again["sha256"] == doc["sha256"]


def test_tasks_show_json_shape_and_missing_month(cli, tmp_path):
    setup_store(cli, tmp_path)
    doc = json_out(cli("tasks", "show", "--month", MONTH, "--json"))
    assert set(doc) >= {"month", "version", "sha256", "source", "full", "tasks", "history"}
    assert doc["month"] == MONTH and doc["full"] == 100.0 and len(doc["sha256"]) == 64
    assert all(set(t) == {"code", "name", "points", "dimension", "note"} for t in doc["tasks"])
    r = cli("tasks", "show", "--month", "2024-06", "--json")
    assert r.exit_code == 1, r.output
    assert "还没有任务清单" in r.output


def test_bad_task_file_is_refused_with_position(cli, tmp_path):
    setup_store(cli, tmp_path)
    f = task_workbook(tmp_path / "bad.xlsx", [["T10", "专项", 5.25, "政治统领"], ["T10", "重复", 5, ""]])
    before = table_counts()
    r = cli("tasks", "set", "--month", "2024-04", str(f))
    assert r.exit_code == 2, r.output
    assert "工作表「任务清单」第 2 行「分值」列" in r.output and "第 3 行「任务编码」列" in r.output
    assert table_counts() == before


def test_missing_or_bad_toml_task_file_is_input_error(cli, tmp_path):
    setup_store(cli, tmp_path)
    before = table_counts()
    r = cli("tasks", "set", "--month", "2024-04", "没有这个文件.toml")
    assert r.exit_code == 2, r.output
    assert "没有这个文件.toml：文件不存在" in r.output and "内部错误" not in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[[tasks]]\ncode = "T01"\nname = "理论学习"\npoints = 2.25\n', encoding="utf-8")
    r = cli("tasks", "set", "--month", "2024-04", str(bad))
    assert r.exit_code == 2, r.output
    assert "title：未知的键" in r.output and "tasks[0].points：分值最多 1 位小数" in r.output
    assert table_counts() == before


def test_changing_tasks_after_reports_needs_force_and_old_forms_are_refused(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    filled = fill_all(s, tmp_path / "收回", ["U001"])
    assert import_json(cli, filled["U001"])[0] == 0
    change = task_workbook(tmp_path / "修改.xlsx", [["T10", "新增专项", 10, "功能发挥"]])
    before = table_counts()
    r = cli("tasks", "set", "--month", MONTH, str(change))
    assert r.exit_code == 2, r.output
    assert "已有 1 个单位报送了自评" in r.output and "--force" in r.output
    assert table_counts() == before

    r = cli("tasks", "set", "--month", MONTH, str(change), "--force", "--json")
    assert {k: json_out(r)[k] for k in ("status", "version", "superseded")} == {
        "status": "replaced", "version": 2, "superseded": ["U001"]}
    lists = query("SELECT version, active FROM task_list WHERE month = :m ORDER BY version", m=MONTH)
    assert lists == [(1, 0), (2, 1)]
    doc = json_out(cli("tasks", "show", "--month", MONTH, "--json"))
    assert [h["active"] for h in doc["history"]] == [False, True]
    assert query("SELECT count(*) FROM task WHERE task_list_id = (SELECT id FROM task_list WHERE version = 1)") == [(9,)]
    # the report made against the old list stays in history, and the unit has to report again
    assert query("SELECT unit_code, active FROM self_report") == [("U001", 0)]
    r = cli("selfeval", "status", "--month", MONTH, "--json")
    assert r.exit_code == 1, r.output  # units missing: done, needs attention
    status = json.loads(r.stdout)
    assert status["missing"] == ["U001", "U002", "U003"]

    old = fill_all(s, tmp_path / "旧表", ["U002"])["U002"]
    code, res = import_json(cli, old)
    assert code == 2
    f = res["files"][0]
    assert f["status"] == "refused" and "旧的任务清单" in f["message"] and "第 2 版" in f["message"]
    again = import_json(cli, filled["U001"])[1]["files"][0]  # the old file of U001: already seen, no longer current
    assert again["status"] == "unchanged" and "不是当前有效" in again["message"]
    new_forms = write_forms(cli, tmp_path / "新表")
    new = fill_form(new_forms["U001"], tmp_path / "新收回" / new_forms["U001"].name)
    res = import_json(cli, new)[1]["files"][0]
    assert res["status"] == "imported" and res["rows"] == 10  # no --replace needed: the old report is history
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True


# ------------------------------------------------------------------ forms out


def test_forms_one_per_active_unit_locked_except_score_and_note(cli, tmp_path):
    s = setup_month(cli, tmp_path, units=3, inactive=INACTIVE)
    names = sorted(p.name for p in s.forms.values())
    assert names == [f"2024-03_U00{i}_测试单位{i}机关党委.xlsx" for i in (1, 2, 3)]  # no form for U900
    doc = json_out(cli("tasks", "show", "--month", MONTH, "--json"))
    wb = openpyxl.load_workbook(s.forms["U002"])
    assert wb.sheetnames == [SHEET, META]
    ws = wb[SHEET]
    assert ws.protection.sheet is True
    # labels where the columns are wide enough for them (A, 序号, is six characters wide)
    assert [ws.cell(2, c).value for c in (1, 2, 3, 4, 5)] == [None, "单位编码", "U002", "单位名称", "测试单位2机关党委"]
    assert [ws.cell(3, c).value for c in (1, 2, 3)] == [None, "月份", MONTH]
    assert [ws.cell(6, c).value for c in range(1, 8)] == list(COL)
    last = FIRST_TASK_ROW + len(doc["tasks"]) - 1
    assert ws.cell(last, 2).value == "T09" and ws.cell(last + 1, 2).value is None
    for row in range(1, last + 1):
        for col in range(1, 8):
            unlocked = row >= FIRST_TASK_ROW and col in (COL["自评得分"], COL["完成情况说明"])
            assert ws.cell(row, col).protection.locked is (not unlocked), (row, col)
    score_dv = [dv for dv in ws.data_validations.dataValidation if f"F{FIRST_TASK_ROW}" in str(dv.sqref)]
    assert len(score_dv) == 1
    assert str(score_dv[0].sqref) == f"F{FIRST_TASK_ROW}:F{last}" and score_dv[0].showErrorMessage
    assert "E7" in score_dv[0].formula1 and "ROUND(F7,1)" in score_dv[0].formula1
    meta = wb[META]
    assert meta.sheet_state == "veryHidden"
    assert {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, meta.max_row + 1)} == {
        "kind": "selfeval", "unit": "U002", "month": MONTH, "task_hash": doc["sha256"]}


def test_unit_names_are_written_as_text(cli, tmp_path):
    setup_store(cli, tmp_path, units=1)
    add_unit_directly("U004", "=1+1 & <测试>")
    forms = write_forms(cli, tmp_path / "forms")
    path = forms["U004"]
    assert path.name == "2024-03_U004_=1+1 & 测试.xlsx"
    ws = openpyxl.load_workbook(path)[SHEET]
    assert (ws["E2"].value, ws["E2"].data_type) == ("=1+1 & <测试>", "s")
    assert all(ws.cell(r, 3).data_type == "s" for r in range(FIRST_TASK_ROW, FIRST_TASK_ROW + 9))
    # the form still comes back in
    assert import_json(cli, fill_form(path, tmp_path / "back" / path.name))[0] == 0


def test_a_form_of_the_earlier_header_layout_still_imports(cli, tmp_path):
    """Forms handed out before the header moved (labels in column A, each value right of its label) read
    the same: the unit and month are found right of their labels wherever they stand."""
    s = setup_month(cli, tmp_path, units=1)
    path = s.forms["U001"]
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    row2, row3 = [ws.cell(2, c).value for c in range(2, 6)], [ws.cell(3, c).value for c in range(2, 4)]
    for c, v in enumerate([*row2, None], 1):
        ws.cell(2, c).value = v
    for c, v in enumerate([*row3, None], 1):
        ws.cell(3, c).value = v
    wb.save(path)
    assert [ws.cell(2, c).value for c in (1, 2, 3)] == ["单位编码", "U001", "单位名称"]
    # the header is read where this layout has it: a changed unit code in B2 is found ...
    code, out = import_json(cli, fill_form(path, tmp_path / "bad" / path.name, edit=lambda wb: wb[SHEET].cell(2, 2, "U002")))
    assert code == 2 and "单位编码被改为「U002」" in json.dumps(out, ensure_ascii=False)
    # ... and the form as handed out comes back in
    code, out = import_json(cli, fill_form(path, tmp_path / "back" / path.name))
    assert code == 0, out


def test_forms_for_chosen_units_and_unknown_unit(cli, tmp_path):
    setup_store(cli, tmp_path, inactive=INACTIVE)
    doc = json_out(cli("selfeval", "forms", "--month", MONTH, "--out", "x", "--unit", "U002", "--json"))
    assert [Path(p).name for p in doc["files"]] == ["2024-03_U002_测试单位2机关党委.xlsx"]
    r = cli("selfeval", "forms", "--month", MONTH, "--out", "y", "--unit", "U900")
    assert r.exit_code == 2 and "U900" in r.output
    assert not Path("y").exists() or not any(Path("y").iterdir())


# ------------------------------------------------------------------ forms back in


def test_import_then_status_and_strict(cli, tmp_path):
    s = setup_month(cli, tmp_path, inactive=INACTIVE)
    filled = fill_all(s, tmp_path / "收回", ["U001", "U002"])
    code, doc = import_json(cli, tmp_path / "收回")
    assert code == 0 and [f["status"] for f in doc["files"]] == ["imported", "imported"]
    assert [f["rows"] for f in doc["files"]] == [9, 9]
    r = cli("selfeval", "status", "--month", MONTH, "--json")
    assert r.exit_code == 1, r.output  # U003 missing
    st_doc = json.loads(r.stdout)
    assert st_doc["counts"] == {"reported": 2, "missing": 1, "inactive": 1}
    assert st_doc["missing"] == ["U003"]
    assert {r["unit"]: r["status"] for r in st_doc["rows"]} == {
        "U001": "reported", "U002": "reported", "U003": "missing", "U900": "inactive"}
    assert st_doc["rows"][0]["file"] == filled["U001"].name
    r = cli("selfeval", "status", "--month", MONTH, "--strict")
    assert r.exit_code == 1, r.output
    assert "U003" in r.output and "未报送" in r.output
    import_json(cli, fill_all(s, tmp_path / "补报", ["U003"])["U003"])
    assert cli("selfeval", "status", "--month", MONTH, "--strict").exit_code == 0


def test_score_month_json_equals_hand_computation(cli, tmp_path):
    tasks = task_workbook(tmp_path / "t.xlsx", [["A1", "甲", 30, "政治统领"], ["A2", "乙", 30, "班子履职"],
                                                ["A3", "丙", 20, "制度落实"]])
    setup_store(cli, tmp_path, inactive=INACTIVE)
    assert cli("tasks", "set", "--month", MONTH, str(tasks), "--no-standing", "--force").exit_code == 0
    forms = write_forms(cli, tmp_path / "forms")
    given = {"U001": ["13.3", 10, 10.0], "U002": [30, 30, 20]}  # U001: 33.3 / 80 = 41.625 % -> 41.63
    for unit, scores in given.items():
        fill_form(forms[unit], tmp_path / "back" / forms[unit].name, scores)
    assert import_json(cli, tmp_path / "back")[0] == 0
    doc = json_out(cli("score", "--month", MONTH, "--json"))
    assert set(doc) == {"period", "rows"} and doc["period"] == MONTH
    keys = {"unit", "name", "group", "status", "checked", "false", "self", "deduction", "final", "full", "rate"}
    assert all(keys <= set(r) for r in doc["rows"])
    rows = {r["unit"]: r for r in doc["rows"]}
    for unit, scores in given.items():
        total = sum(Decimal(str(v)) for v in scores)
        want = {"unit": unit, "status": "reported", "checked": False, "false": False, "self": float(total),
                "deduction": 0.0, "final": float(total), "full": 80.0, "rate": half_up(total / 80 * 100)}
        assert {k: rows[unit][k] for k in want} == want
    assert rows["U001"]["rate"] == 41.63  # half-up, where float rounding would give 41.62
    assert {k: rows["U003"][k] for k in ("status", "self", "final", "full", "rate")} == {
        "status": "missing", "self": 0.0, "final": 0.0, "full": 80.0, "rate": 0.0}
    assert {k: rows["U900"][k] for k in ("status", "self", "final", "full", "rate")} == {
        "status": "inactive", "self": None, "final": None, "full": None, "rate": None}
    assert [r["unit"] for r in doc["rows"]] == ["U002", "U001", "U003", "U900"]  # by rate, then missing, inactive
    assert active_scores("U001") == {"A1": 1330, "A2": 1000, "A3": 1000}


def test_explain_month_json(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    scores = [15, 9.5, "14", 10, 10, 10, 10, 10, 8]
    import_json(cli, fill_form(s.forms["U001"], tmp_path / "back.xlsx", scores))
    doc = json_out(cli("explain", "U001", "--month", MONTH, "--json"))
    assert (doc["unit"], doc["period"], doc["status"], doc["checked"]) == ("U001", MONTH, "reported", False)
    assert [(t["task"], t["self"], t["final"], t["full"]) for t in doc["tasks"]][:3] == [
        ("T01", 15.0, 15.0, 15.0), ("T02", 9.5, 9.5, 10.0), ("T03", 14.0, 14.0, 15.0)]
    assert doc["row"]["self"] == 96.5 and doc["row"]["rate"] == 96.5
    assert doc["steps"][-1] == "月度得分率 = 96.5 ÷ 100 × 100 = 96.5"
    missing = json_out(cli("explain", "U002", "--month", MONTH, "--json"))
    assert missing["status"] == "missing" and missing["tasks"] == [] and "未报送" in missing["steps"][0]
    r = cli("explain", "U404", "--month", MONTH)
    assert r.exit_code == 2 and "U404" in r.output


def test_importing_the_same_directory_twice_changes_nothing(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回")
    code, first = import_json(cli, tmp_path / "收回")
    assert code == 0 and {f["status"] for f in first["files"]} == {"imported"}
    before = table_counts()
    code, second = import_json(cli, tmp_path / "收回")
    assert code == 0
    assert [f["status"] for f in second["files"]] == ["unchanged"] * 3
    assert [f["sha256"] for f in second["files"]] == [f["sha256"] for f in first["files"]]
    assert second["totals"]["rows_present"] == 27 and second["totals"]["rows_imported"] == 0
    assert table_counts() == before
    r = cli("audit", "verify")
    assert r.exit_code == 0, r.output


def test_files_already_imported_are_not_parsed_again(cli, tmp_path, monkeypatch):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回", ["U001", "U002"])
    assert import_json(cli, tmp_path / "收回")[0] == 0
    fill_all(s, tmp_path / "收回", ["U003"])
    import djctl.services.selfeval as selfeval

    parsed = []
    real = selfeval.read_form
    monkeypatch.setattr(selfeval, "read_form", lambda p: parsed.append(Path(p).name[:12]) or real(p))
    code, doc = import_json(cli, tmp_path / "收回")
    assert code == 0 and [f["status"] for f in doc["files"]] == ["unchanged", "unchanged", "imported"]
    assert [f["rows"] for f in doc["files"]] == [9, 9, 9] and doc["files"][0]["subject"] == "U001"
    assert parsed == ["2024-03_U003"]


def test_a_different_workbook_for_the_same_month_needs_replace(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    first = fill_form(s.forms["U001"], tmp_path / "a" / "U001.xlsx", [10] * 9)
    second = fill_form(s.forms["U001"], tmp_path / "b" / "U001-改.xlsx", [9] * 9)
    assert import_json(cli, first)[0] == 0
    before = table_counts()
    code, doc = import_json(cli, second)
    assert code == 2 and "已经报送过另一份自评表（U001.xlsx）" in doc["files"][0]["message"]
    assert "--replace" in doc["files"][0]["message"]
    assert table_counts() == before
    code, doc = import_json(cli, second, "--replace")
    assert code == 0 and doc["files"][0]["status"] == "imported"
    assert query("SELECT active FROM self_report WHERE unit_code = 'U001' ORDER BY id") == [(0,), (1,)]
    imports = query("SELECT id, active, replaced_by FROM import_file WHERE kind = 'selfeval' ORDER BY id")
    assert imports[0][1:] == (0, imports[1][0]) and imports[1][1:] == (1, None)
    assert query("SELECT count(*) FROM self_score") == [(18,)]  # the old rows are kept
    assert set(active_scores("U001").values()) == {900}
    assert json_out(cli("score", "--month", MONTH, "--json"))["rows"][0]["self"] == 81.0
    assert json_out(cli("audit", "verify", "--json"))["ok"] is True


def test_dry_run_writes_nothing(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回")
    before = table_counts()
    code, doc = import_json(cli, tmp_path / "收回", "--dry-run")
    assert code == 0 and [f["status"] for f in doc["files"]] == ["valid"] * 3
    assert table_counts() == before
    r = cli("selfeval", "status", "--month", MONTH, "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["counts"]["reported"] == 0, r.output


def test_one_bad_file_does_not_stop_the_others(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    fill_all(s, tmp_path / "收回", ["U001", "U003"])
    fill_form(s.forms["U002"], tmp_path / "收回" / s.forms["U002"].name, [99] + [1] * 8)
    code, doc = import_json(cli, tmp_path / "收回")
    assert code == 2
    assert [f["status"] for f in doc["files"]] == ["imported", "refused", "imported"]
    t = doc["totals"]
    assert (t["imported"], t["refused"], t["rows_read"]) == (2, 1, 27)
    assert t["rows_read"] == t["rows_imported"] + t["rows_present"] + t["rows_refused"]
    r = cli("selfeval", "status", "--month", MONTH, "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["missing"] == ["U002"], r.output
    # the same again, as people read it: the refused file names its cell, the totals line adds up
    fill_all(s, tmp_path / "收回", ["U001"], {"U001": [5] * 9})  # another workbook for U001: refused without --replace
    r = cli("selfeval", "import", str(tmp_path / "收回"))
    assert r.exit_code == 2
    assert "工作表「自评表」第 7 行「自评得分」列" in r.output
    m = re.search(r"读取 (\d+) 行 = 导入 (\d+) \+ 已存在 (\d+) \+ 拒绝 (\d+)", r.output)
    assert m, r.output
    read, imported, present, refused = map(int, m.groups())
    assert (read, imported, present, refused) == (27, 0, 9, 18)


# ------------------------------------------------------------------ property: what goes in comes out


score_style = st.sampled_from(["float", "int", "fullwidth"])


@st.composite
def form_scores(draw, tasks):
    """One valid score per task (0..分值, one decimal), written as float, int (when whole) or full-width text."""
    values, cells = [], []
    for _, pts in tasks:
        tenths = draw(st.integers(0, int(pts * 10)))
        v = Decimal(tenths) / 10
        style = draw(score_style)
        if style == "int" and v == v.to_integral_value():
            cell = int(v)
        elif style == "fullwidth":
            cell = fullwidth(format(v.normalize(), "f"))
        else:
            cell = float(v)
        values.append(v)
        cells.append(cell)
    return values, cells


def test_random_valid_scores_come_back_exactly(cli, tmp_path):
    s = setup_month(cli, tmp_path, units=2)
    counter = iter(range(10_000))

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        n = next(counter)
        expected = {}
        paths = []
        for unit in s.units:
            values, cells = data.draw(form_scores(s.tasks), label=unit)
            expected[unit] = values
            # the note makes every example's workbook new content (an identical earlier file would be "unchanged")
            paths.append(fill_form(s.forms[unit], tmp_path / f"run{n}" / s.forms[unit].name, cells,
                                   notes=[f"第 {n} 次填报"] * len(cells)))
        code, doc = import_json(cli, *paths, "--replace")
        assert code == 0, doc
        rows = {r["unit"]: r for r in json_out(cli("score", "--month", MONTH, "--json"))["rows"]}
        for unit, values in expected.items():
            assert active_scores(unit) == {c: int(v * 100) for (c, _), v in zip(s.tasks, values)}
            total = sum(values, Decimal(0))
            assert (rows[unit]["self"], rows[unit]["final"]) == (float(total), float(total))
            assert rows[unit]["rate"] == half_up(total * 100 / s.full)

    check()
    assert json.loads(cli("audit", "verify", "--json").stdout)["ok"] is True
