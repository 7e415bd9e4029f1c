"""`djctl org import|list|show|template`: the roster, its bad inputs and its change rules.

Every bad input is a real file built here; each must exit 2 with a Chinese message naming where the
problem is, and leave the store exactly as it was.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import hostile as H
from tests.helpers import BRANCH_HEADER, UNIT_HEADER, json_out, small_roster, workbook

UNIT_KEYS = {"code", "name", "kind", "group", "members", "active"}
BRANCH_KEYS = {"code", "name", "unit", "members", "tier"}


# ------------------------------------------------------------------ helpers


def snapshot(store) -> dict[str, Any]:
    """Everything an import may touch: every row of units, branches, tier history, imports and audit."""
    from sqlalchemy import text

    out: dict[str, Any] = {}
    with store.engine.connect() as conn:
        for table in ("unit", "branch", "tier_change", "import_file", "audit_event"):
            out[table] = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
    return out


def audit_events(store, action: str | None = None) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, payload FROM audit_event ORDER BY seq")).all()
    return [{"action": a, "payload": json.loads(p)} for a, p in rows if action is None or a == action]


def roster(path: Path, units: list[list[Any]] | None = None, branches: list[list[Any]] | None = None,
           unit_header: list[str] = UNIT_HEADER, branch_header: list[str] = BRANCH_HEADER) -> Path:
    """A roster of the given data rows (defaults: two good units, one branch each)."""
    if units is None:
        units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20],
                 ["U002", "乙局机关党委", "机关党委", "第2组", "李四", 30]]
    if branches is None:
        branches = [["U001-B01", "甲局第一支部", "U001", 10, "达标", "2023-06-01"],
                    ["U002-B01", "乙局第一支部", "U002", 12, "过硬", "2023-06-01"]]
    return workbook(path, {"单位": [unit_header] + units, "支部": [branch_header] + branches})


def refused(cli, store, path: Path, *fragments: str, before: dict[str, Any] | None = None):
    """Import `path`; assert exit 2, every fragment in the message, and an untouched store."""
    before = before if before is not None else snapshot(store)
    r = cli("org", "import", path)
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())  # the message may wrap on a narrow terminal
    for frag in fragments:
        assert frag in text, f"{frag!r} not in {r.output}"
    assert snapshot(store) == before
    return r


def org_list(cli) -> dict[str, Any]:
    return json_out(cli("org", "list", "--json"))


@pytest.fixture(autouse=True)
def _store_exists():
    """Only `djctl init` (or an opened store) creates a store: the imports below run against an existing one."""
    from djctl.store.engine import open_store

    open_store().dispose()


@pytest.fixture
def imported(cli, tmp_path, store):
    """A store holding the default two-unit roster."""
    r = cli("org", "import", roster(tmp_path / "base.xlsx"))
    assert r.exit_code == 0, r.output
    return snapshot(store)


# ------------------------------------------------------------------ bad inputs: headers and shape


@pytest.mark.parametrize("column", ["单位编码", "单位名称", "组织类型", "党员人数"])
def test_missing_required_unit_header(cli, store, tmp_path, column):
    i = UNIT_HEADER.index(column)
    header = UNIT_HEADER[:i] + UNIT_HEADER[i + 1:]
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20]]
    units = [row[:i] + row[i + 1:] for row in units]
    refused(cli, store, roster(tmp_path / "r.xlsx", units=units, branches=[], unit_header=header),
            "工作表「单位」", "缺少必需的表头", column)


@pytest.mark.parametrize("column", ["支部编码", "支部名称", "所属单位编码", "党员人数"])
def test_missing_required_branch_header(cli, store, tmp_path, column):
    i = BRANCH_HEADER.index(column)
    header = BRANCH_HEADER[:i] + BRANCH_HEADER[i + 1:]
    branches = [row[:i] + row[i + 1:] for row in [["U001-B01", "甲局第一支部", "U001", 10, "达标", "2023-06-01"]]]
    refused(cli, store, roster(tmp_path / "r.xlsx", branches=branches, branch_header=header),
            "工作表「支部」", "缺少必需的表头", column)


def test_headers_in_other_order_and_english_aliases_are_accepted(cli, tmp_path):
    header = ["members", "kind", "name", "code"]
    rows = [[20, "党总支", "丙局党总支", "U009"]]
    path = workbook(tmp_path / "r.xlsx", {"单位": [header] + rows})
    assert cli("org", "import", path).exit_code == 0
    (u,) = org_list(cli)["units"]
    assert (u["code"], u["name"], u["kind"], u["members"]) == ("U009", "丙局党总支", "党总支", 20)


def test_empty_workbook_without_the_unit_sheet(cli, store, tmp_path):
    path = tmp_path / "empty.xlsx"
    from openpyxl import Workbook

    Workbook().save(path)  # one empty sheet called "Sheet"
    refused(cli, store, path, "缺少工作表「单位」")


def test_empty_unit_sheet(cli, store, tmp_path):
    path = workbook(tmp_path / "empty.xlsx", {"单位": [], "支部": []})
    refused(cli, store, path, "工作表「单位」", "空的")


def test_headers_but_no_units(cli, store, tmp_path):
    refused(cli, store, roster(tmp_path / "r.xlsx", units=[], branches=[]), "工作表「单位」", "没有任何单位数据")


def test_merged_cells_over_data(cli, store, tmp_path):
    refused(cli, store, H.merged_over_data(tmp_path / "m.xlsx", "B2:B3"),
            "工作表「单位」第 2 行「单位名称」列", "合并单元格")


def test_merged_cells_written_with_a_namespace_prefix(cli, store, tmp_path):
    """Some tools write <x:mergeCell ref=…>; the merge must still be seen."""
    refused(cli, store, H.merged_over_data(tmp_path / "m.xlsx", "B2:B3", prefix="x:"),
            "工作表「单位」第 2 行「单位名称」列", "合并单元格")


@pytest.mark.parametrize("ref", ["B2:XFD1048576", "A1:XFD1048576", "C1:C1048576"])
def test_a_merge_over_the_whole_sheet_is_refused_without_expanding_it(cli, store, tmp_path, ref):
    """A merged range was expanded into its cells to find the first one: A1:XFD1048576 is 17 billion cells
    (the import never ended). The first merged data cell is found from the ranges themselves."""
    where = "第 2 行「" + {"B": "单位名称", "A": "单位编码", "C": "组织类型"}[ref[0]] + "」列"
    refused(cli, store, H.merged_by_xml(tmp_path / "m.xlsx", ref), f"工作表「单位」{where}", "合并单元格")


def test_a_merge_written_in_single_quotes_is_seen(cli, store, tmp_path):
    """Odd attribute syntax sends a sheet to the reference reader, whose merged ranges are read from the XML."""
    refused(cli, store, H.merged_by_xml(tmp_path / "m.xlsx", "b2:b3", quote="'"), "工作表「单位」第 2 行「单位名称」列",
            "合并单元格")


def test_merged_title_above_the_header_is_fine(cli, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["2024年度考核单位名册"])
    ws.merge_cells("A1:F1")
    ws.append(UNIT_HEADER)
    ws.append(["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20])
    wb.save(tmp_path / "r.xlsx")
    r = cli("org", "import", tmp_path / "r.xlsx")
    assert r.exit_code == 0, r.output
    assert [u["code"] for u in org_list(cli)["units"]] == ["U001"]


# ------------------------------------------------------------------ bad inputs: values


def test_duplicate_unit_codes_after_nfkc_and_trimming(cli, store, tmp_path):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20],
             ["Ｕ００１ ", "甲局机关党委（重复）", "机关党委", "第1组", "张三", 20]]
    refused(cli, store, roster(tmp_path / "r.xlsx", units=units, branches=[]),
            "工作表「单位」第 3 行「单位编码」列", "U001", "与第 2 行重复")


def test_duplicate_branch_codes_after_nfkc_and_trimming(cli, store, tmp_path):
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "达标", None],
                [" Ｕ００１－Ｂ０１", "甲局第一支部（重复）", "U001", 10, "达标", None]]
    refused(cli, store, roster(tmp_path / "r.xlsx", branches=branches),
            "工作表「支部」第 3 行「支部编码」列", "U001-B01", "与第 2 行重复")


def test_branch_of_unknown_unit(cli, store, tmp_path):
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "达标", None],
                ["U999-B01", "无主支部", "U999", 10, "达标", None]]
    refused(cli, store, roster(tmp_path / "r.xlsx", branches=branches),
            "工作表「支部」第 3 行「所属单位编码」列", "U999")


def test_branch_of_unknown_unit_is_refused_after_an_earlier_import(cli, store, tmp_path, imported):
    branches = [["U777-B01", "无主支部", "U777", 10, "达标", None]]
    refused(cli, store, roster(tmp_path / "r2.xlsx", branches=branches),
            "工作表「支部」第 2 行「所属单位编码」列", "U777", before=imported)


MEMBER_COUNTS = [("二十", "二十"), ("-3", "负"), (-3, "负"), (20.5, "20.5"), ("", "不能为空")]


def test_unit_member_count_must_be_a_whole_number(cli, store, tmp_path):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20]]
    units += [[f"U{n + 2:03d}", "乙局机关党委", "机关党委", "第2组", "李四", value]
              for n, (value, _) in enumerate(MEMBER_COUNTS)]
    r = refused(cli, store, roster(tmp_path / "r.xlsx", units=units, branches=[]))
    for n, (_, reason) in enumerate(MEMBER_COUNTS):
        line = next((x for x in r.output.splitlines() if f"第 {n + 3} 行" in x), "")
        assert f"工作表「单位」第 {n + 3} 行「党员人数」列" in line and reason in line, r.output
    assert "第 2 行" not in r.output


@pytest.mark.parametrize("value", ["二十", "-1"])
def test_branch_member_count_must_be_a_whole_number(cli, store, tmp_path, value):
    branches = [["U001-B01", "甲局第一支部", "U001", value, "达标", None]]
    refused(cli, store, roster(tmp_path / "r.xlsx", branches=branches), "工作表「支部」第 2 行「党员人数」列")


def test_full_width_member_counts_are_accepted(cli, tmp_path):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", "２５"]]
    branches = [["U001-B01", "甲局第一支部", "U001", " １２ ", "达标", None]]
    r = cli("org", "import", roster(tmp_path / "r.xlsx", units=units, branches=branches))
    assert r.exit_code == 0, r.output
    doc = org_list(cli)
    assert doc["units"][0]["members"] == 25 and doc["branches"][0]["members"] == 12
    assert isinstance(doc["units"][0]["members"], int)


def test_unknown_org_kind(cli, store, tmp_path):
    units = [["U001", "甲局机关党委", "居委会", "第1组", "张三", 20]]
    refused(cli, store, roster(tmp_path / "r.xlsx", units=units, branches=[]),
            "工作表「单位」第 2 行「组织类型」列", "居委会", "机关党委")


def test_unknown_tier(cli, store, tmp_path):
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "优秀", None]]
    refused(cli, store, roster(tmp_path / "r.xlsx", branches=branches),
            "工作表「支部」第 2 行「当前等次」列", "优秀")


def test_tier_with_the_word_branch_is_accepted(cli, tmp_path):
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "示范支部", "2023-06-01"]]
    assert cli("org", "import", roster(tmp_path / "r.xlsx", branches=branches)).exit_code == 0
    assert org_list(cli)["branches"][0]["tier"] == "示范"


def test_every_problem_is_listed_not_only_the_first(cli, store, tmp_path):
    units = [["U001", "", "居委会", "第1组", "张三", "二十"]]
    r = refused(cli, store, roster(tmp_path / "r.xlsx", units=units, branches=[]),
                "第 2 行「单位名称」列", "第 2 行「组织类型」列", "第 2 行「党员人数」列")
    assert "未导入" in r.output


UNIT_ROW = ["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20, "2020-01-01", "2030-12-31"]
BRANCH_ROW = ["U001-B01", "甲局第一支部", "U001", 10, "达标", "2023-06-01"]
FORMULAS = {"单位编码": '="U"&"001"', "单位名称": "=1+1", "组织类型": '="机关党委"', "分组": "=A1",
            "书记": '=HYPERLINK("http://x","y")', "党员人数": "=1+1", "启用日期": "=DATE(2020,1,1)",
            "撤销日期": "=TODAY()"}
BRANCH_FORMULAS = {"支部编码": '="B"&1', "支部名称": "=B2", "所属单位编码": "=A2", "党员人数": "=10",
                   "当前等次": '="达标"', "评定日期": "=TODAY()"}


def test_a_formula_in_any_unit_cell_is_refused(cli, store, tmp_path):
    """Row n+2 holds a formula in column n only; each is named, with the formula quoted back."""
    header = UNIT_HEADER + ["启用日期", "撤销日期"]
    rows = []
    for n, column in enumerate(FORMULAS):
        row = list(UNIT_ROW)
        row[0] = f"U{n + 1:03d}"
        row[header.index(column)] = FORMULAS[column]
        rows.append(row)
    r = refused(cli, store, roster(tmp_path / "r.xlsx", units=rows, branches=[], unit_header=header))
    for n, column in enumerate(FORMULAS):
        line = next((x for x in r.output.splitlines() if f"第 {n + 2} 行" in x), "")
        assert f"工作表「单位」第 {n + 2} 行「{column}」列" in line and "公式" in line, r.output
        assert FORMULAS[column] in line  # the formula is quoted back


def test_a_formula_in_any_branch_cell_is_refused(cli, store, tmp_path):
    rows = []
    for n, column in enumerate(BRANCH_FORMULAS):
        row = list(BRANCH_ROW)
        row[0] = f"U001-B{n + 1:02d}"
        row[BRANCH_HEADER.index(column)] = BRANCH_FORMULAS[column]
        rows.append(row)
    r = refused(cli, store, roster(tmp_path / "r.xlsx", branches=rows))
    for n, column in enumerate(BRANCH_FORMULAS):
        line = next((x for x in r.output.splitlines() if f"第 {n + 2} 行「{column}」" in x), "")
        assert f"工作表「支部」第 {n + 2} 行「{column}」列" in line and "公式" in line, r.output


# ------------------------------------------------------------------ bad inputs: not a workbook, hostile files


def test_random_bytes_named_xlsx(cli, store, tmp_path):
    refused(cli, store, H.random_bytes(tmp_path / "r.xlsx"), "r.xlsx", "不是有效的 .xlsx")


def test_csv_renamed_to_xlsx(cli, store, tmp_path):
    refused(cli, store, H.csv_renamed(tmp_path / "r.xlsx"), "不是有效的 .xlsx", "另存为")


def test_csv_given_as_csv(cli, store, tmp_path):
    refused(cli, store, H.csv_renamed(tmp_path / "r.csv"), "是 .csv")


def test_missing_file(cli, store, tmp_path):
    refused(cli, store, tmp_path / "nope.xlsx", "文件不存在")


@pytest.mark.parametrize("part", ["sheet", "sharedStrings"])
def test_xml_bomb(cli, store, tmp_path, part):
    refused(cli, store, H.xml_bomb(tmp_path / "bomb.xlsx", part), "DTD/实体声明", "拒绝读取")


def test_zip_bomb(cli, store, zip_bomb_file):
    refused(cli, store, zip_bomb_file, "解压后体积过大", "压缩炸弹")


# ------------------------------------------------------------------ change rules


def test_reimporting_the_same_file_changes_nothing_and_says_so(cli, store, tmp_path, imported):
    path = tmp_path / "base.xlsx"
    r = cli("org", "import", path, "--json")
    doc = json_out(r)
    assert doc["files"][0]["status"] == "unchanged"
    assert doc["units"]["added"] == [] and doc["units"]["changed"] == {}
    assert snapshot(store) == imported
    human = cli("org", "import", path)
    assert human.exit_code == 0 and "已导入过" in human.output and "未改动" in human.output
    assert snapshot(store) == imported
    # the same roster in another file (re-saved by another program, other bytes): unchanged too, no event
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb.create_sheet("Sheet3")
    other = tmp_path / "另存.xlsx"
    wb.save(other)
    assert other.read_bytes() != path.read_bytes()
    f = json_out(cli("org", "import", other, "--json"))["files"][0]
    assert f["status"] == "unchanged" and "内容与已导入的名册相同" in f["message"]
    assert snapshot(store) == imported


def test_a_changed_file_updates_rows_and_audits_old_and_new(cli, store, tmp_path, imported):
    units = [["U001", "甲局机关党委（更名）", "机关党委", "第1组", "张三", 21],
             ["U002", "乙局机关党委", "机关党委", "第2组", "李四", 30],
             ["U003", "丙局党总支", "党总支", "第1组", "王五", 8]]
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "过硬", "2024-03-01"],
                ["U002-B01", "乙局第一支部", "U002", 12, "过硬", "2023-06-01"]]
    events_before = len(audit_events(store))
    doc = json_out(cli("org", "import", roster(tmp_path / "r2.xlsx", units, branches), "--json"))
    assert doc["files"][0]["status"] == "imported"
    assert doc["units"]["added"] == ["U003"]
    assert doc["units"]["changed"] == {"U001": {"name": ["甲局机关党委", "甲局机关党委（更名）"], "members": [20, 21]}}
    assert doc["branches"]["changed"]["U001-B01"]["tier"] == ["达标", "过硬"]
    events = audit_events(store)
    assert len(events) == events_before + 1
    payload = events[-1]["payload"]
    assert events[-1]["action"] == "org.import"
    assert payload["units"]["changed"]["U001"]["name"] == ["甲局机关党委", "甲局机关党委（更名）"]
    assert payload["units"]["changed"]["U001"]["members"] == [20, 21]
    assert payload["branches"]["changed"]["U001-B01"]["tier"] == ["达标", "过硬"]
    listed = {u["code"]: u for u in org_list(cli)["units"]}
    assert listed["U001"]["name"] == "甲局机关党委（更名）" and listed["U001"]["members"] == 21
    assert listed["U003"]["kind"] == "党总支"
    history = json_out(cli("org", "show", "U001-B01", "--json"))["tier_history"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "达标"), ("达标", "过硬")]


def test_human_output_names_the_changes(cli, tmp_path, imported):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 22],
             ["U002", "乙局机关党委", "机关党委", "第2组", "李四", 30]]
    r = cli("org", "import", roster(tmp_path / "r2.xlsx", units))
    assert r.exit_code == 0, r.output
    assert "单位 U001" in r.output and "20 → 22" in r.output


def test_a_missing_unit_is_reported_not_removed(cli, store, tmp_path, imported):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20]]
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "达标", "2023-06-01"]]
    path = roster(tmp_path / "r2.xlsx", units, branches)
    doc = json_out(cli("org", "import", path, "--dry-run", "--json"))
    assert doc["units"]["missing"] == ["U002"] and doc["units"]["deactivated"] == []
    assert doc["branches"]["missing"] == ["U002-B01"] and doc["branches"]["deactivated"] == []
    human = cli("org", "import", path)
    assert human.exit_code == 0, human.output
    assert "U002" in human.output and "--deactivate-missing" in human.output and "未删除" in human.output
    listed = org_list(cli)
    u2 = next(u for u in listed["units"] if u["code"] == "U002")
    assert u2["active"] is True and u2["active_to"] is None
    assert any(b["code"] == "U002-B01" and b["active"] for b in listed["branches"])
    assert audit_events(store, "org.import")[-1]["payload"]["units"]["deactivated"] == []


def test_deactivate_missing_marks_the_unit_dissolved(cli, store, tmp_path, imported):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20]]
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "达标", "2023-06-01"]]
    doc = json_out(cli("org", "import", roster(tmp_path / "r2.xlsx", units, branches), "--deactivate-missing", "--json"))
    assert doc["units"]["deactivated"] == ["U002"] and doc["branches"]["deactivated"] == ["U002-B01"]
    listed = org_list(cli)
    u2 = next(u for u in listed["units"] if u["code"] == "U002")
    assert u2["active"] is False  # not active from the day it was dissolved
    assert date.fromisoformat(u2["active_to"]) < date.today()
    shown = json_out(cli("org", "show", "U002", "--json"))
    assert shown["code"] == "U002" and shown["name"] == "乙局机关党委"  # kept, not deleted
    assert shown["branches"][0]["active"] is False
    payload = audit_events(store, "org.import")[-1]["payload"]
    assert payload["units"]["deactivated"] == ["U002"]
    units[0][5] = 21  # a different file, so it is not skipped as already imported
    again = json_out(cli("org", "import", roster(tmp_path / "r3.xlsx", units, branches), "--deactivate-missing",
                         "--json"))
    assert again["files"][0]["status"] == "imported"
    assert again["units"]["missing"] == [] and again["units"]["deactivated"] == []


def test_dry_run_writes_nothing(cli, store, tmp_path, imported):
    units = [["U001", "甲局机关党委（更名）", "机关党委", "第1组", "张三", 21],
             ["U003", "丙局党总支", "党总支", "第1组", "王五", 8]]
    branches = [["U001-B01", "甲局第一支部", "U001", 10, "过硬", None]]
    path = roster(tmp_path / "r2.xlsx", units, branches)
    doc = json_out(cli("org", "import", path, "--dry-run", "--deactivate-missing", "--json"))
    assert doc["files"][0]["status"] == "valid"
    assert doc["units"]["added"] == ["U003"] and "U001" in doc["units"]["changed"]
    assert doc["units"]["deactivated"] == ["U002"]
    assert snapshot(store) == imported
    # and the same file is still importable for real afterwards (the dry run left no import record)
    assert json_out(cli("org", "import", path, "--json"))["files"][0]["status"] == "imported"


def test_dry_run_of_a_bad_file_is_refused(cli, store, tmp_path):
    units = [["U001", "甲局机关党委", "居委会", "第1组", "张三", 20]]
    before = snapshot(store)
    r = cli("org", "import", roster(tmp_path / "r.xlsx", units=units, branches=[]), "--dry-run")
    assert r.exit_code == 2 and "组织类型" in r.output
    assert snapshot(store) == before


def test_refused_json_names_the_cell(cli, store, tmp_path):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", "二十"]]
    r = cli("org", "import", roster(tmp_path / "r.xlsx", units=units, branches=[]), "--json")
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    (f,) = doc["files"]
    assert f["status"] == "refused"
    assert {"sheet": "单位", "row": 2, "column": "党员人数"}.items() <= f["errors"][0].items()
    assert "二十" in f["errors"][0]["message"]


# ------------------------------------------------------------------ list, show, template


def test_org_list_json_keys(cli, imported):
    doc = org_list(cli)
    assert set(doc) >= {"units", "branches"}
    assert len(doc["units"]) == 2 and len(doc["branches"]) == 2
    for u in doc["units"]:
        assert UNIT_KEYS <= set(u)
    for b in doc["branches"]:
        assert BRANCH_KEYS <= set(b)
    u1 = doc["units"][0]
    assert {k: u1[k] for k in UNIT_KEYS} == {"code": "U001", "name": "甲局机关党委", "kind": "机关党委",
                                            "group": "第1组", "members": 20, "active": True}
    b2 = doc["branches"][1]
    assert {k: b2[k] for k in BRANCH_KEYS} == {"code": "U002-B01", "name": "乙局第一支部", "unit": "U002",
                                              "members": 12, "tier": "过硬"}


def test_org_list_json_is_one_document(cli, imported):
    r = cli("org", "list", "--json")
    assert r.exit_code == 0
    json.loads(r.stdout)  # exactly one JSON document, nothing else on stdout


def test_org_list_group_filter(cli, imported):
    r = cli("org", "list", "--group", "第2组", "--json")
    doc = json_out(r)
    assert [u["code"] for u in doc["units"]] == ["U002"]
    assert [b["code"] for b in doc["branches"]] == ["U002-B01"]


def test_org_list_human(cli, imported):
    r = cli("org", "list", "--branches")
    assert r.exit_code == 0, r.output
    assert "U001" in r.stdout and "甲局机关党委" in r.stdout and "U002-B01" in r.stdout


def test_org_show_unit_and_branch(cli, imported):
    u = json_out(cli("org", "show", "U001", "--json"))
    assert u["type"] == "unit" and u["members"] == 20 and [b["code"] for b in u["branches"]] == ["U001-B01"]
    b = json_out(cli("org", "show", "U002-B01", "--json"))
    assert b["type"] == "branch" and b["unit"] == "U002" and b["tier"] == "过硬"
    assert b["tier_history"][0]["to"] == "过硬" and b["tier_history"][0]["basis"] == "名册导入"
    human = cli("org", "show", "U001")
    assert human.exit_code == 0 and "甲局机关党委" in human.stdout


def test_org_show_unknown_code(cli, imported):
    r = cli("org", "show", "U404")
    assert r.exit_code == 2
    assert "找不到" in r.output and "U404" in r.output


def test_template_reimports_after_filling_rows(cli, tmp_path):
    out = tmp_path / "out" / "名册模板.xlsx"
    r = cli("org", "template", "--out", out)
    assert r.exit_code == 0, r.output
    assert out.is_file()
    empty = cli("org", "import", out)
    assert empty.exit_code == 2 and "没有任何单位数据" in empty.output

    from openpyxl import load_workbook

    wb = load_workbook(out)
    ws, ws2 = wb["单位"], wb["支部"]
    headers = [c.value for c in ws[1]]
    unit = {"单位编码": "U001", "单位名称": "甲局机关党委", "组织类型": "机关党委", "分组": "第1组", "书记": "张三",
            "党员人数": 25, "启用日期": "2024-01-01"}
    for name, value in unit.items():
        ws.cell(2, headers.index(name) + 1, value)
    bheaders = [c.value for c in ws2[1]]
    branch = {"支部编码": "U001-B01", "支部名称": "甲局第一支部", "所属单位编码": "U001", "党员人数": 12, "当前等次": "示范"}
    for name, value in branch.items():
        ws2.cell(2, bheaders.index(name) + 1, value)
    wb.save(out)
    r = cli("org", "import", out)
    assert r.exit_code == 0, r.output
    doc = org_list(cli)
    assert [(u["code"], u["members"], u["kind"]) for u in doc["units"]] == [("U001", 25, "机关党委")]
    assert [(b["code"], b["tier"]) for b in doc["branches"]] == [("U001-B01", "示范")]


def test_template_validations_match_the_rules(tmp_path):
    """The template's drop-downs offer exactly the kinds and tiers that import accepts."""
    from openpyxl import load_workbook

    from djctl.domain.scheme import ORG_KINDS
    from djctl.domain.tiers import TIERS
    from djctl.services.roster import write_template

    wb = load_workbook(write_template(tmp_path / "t.xlsx"))
    lists = [dv.formula1 for ws in wb for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"' + ",".join(ORG_KINDS) + '"' in lists and '"' + ",".join(TIERS) + '"' in lists


def test_small_roster_import_counts(cli, tmp_path):
    doc = json_out(cli("org", "import", small_roster(tmp_path / "r.xlsx", units=7), "--json"))
    assert doc["files"][0]["rows"] == 14
    assert len(doc["units"]["added"]) == 7 and len(doc["branches"]["added"]) == 7


def test_deactivated_unit_dates_are_inclusive(cli, tmp_path):
    """A unit whose 撤销日期 is today is still active today and not active from tomorrow."""
    today = date.today()
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20, None, today.isoformat()],
             ["U002", "乙局机关党委", "机关党委", "第1组", "张三", 20, None, (today - timedelta(days=1)).isoformat()]]
    header = UNIT_HEADER + ["启用日期", "撤销日期"]
    assert cli("org", "import", roster(tmp_path / "r.xlsx", units, [], unit_header=header)).exit_code == 0
    active = {u["code"]: u["active"] for u in org_list(cli)["units"]}
    assert active == {"U001": True, "U002": False}


@pytest.fixture(scope="session")
def zip_bomb_file(tmp_path_factory) -> Path:
    return H.cached_zip_bomb(tmp_path_factory.mktemp("bomb"), H.over_member_cap())


def test_org_list_states_each_units_standing_as_of_a_date(cli, tmp_path):
    """在册 / 已撤销 / 未成立 as of `--as-of` (today by default, DJCTL_TODAY in scripted runs): a unit not yet
    established is not called revoked, and an earlier date gives the standing of that day."""
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20, None, None],
             ["U002", "乙局机关党委", "机关党委", "第1组", "张三", 20, None, "2024-06-30"],
             ["U003", "丙局机关党委", "机关党委", "第1组", "张三", 20, "2024-07-01", None]]
    header = UNIT_HEADER + ["启用日期", "撤销日期"]
    assert cli("org", "import", roster(tmp_path / "r.xlsx", units, [], unit_header=header)).exit_code == 0

    def standing(*args: str) -> tuple[str, dict[str, str]]:
        r = cli("org", "list", "--json", *args)
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        return doc["as_of"], {u["code"]: u["status"] for u in doc["units"]}

    assert standing("--as-of", "2024-06-30") == ("2024-06-30", {"U001": "在册", "U002": "在册", "U003": "未成立"})
    assert standing("--as-of", "2024-07-01") == ("2024-07-01", {"U001": "在册", "U002": "已撤销", "U003": "在册"})
    r = cli("org", "list", "--as-of", "2024-07-01")
    assert r.exit_code == 0 and "状态截至 2024-07-01" in r.output and "未成立" not in r.output
    assert "已撤销" in cli("org", "list", "--as-of", "2024-07-01").output
    assert cli("org", "list", "--as-of", "2024-02-30").exit_code == 2


def test_org_list_refuses_a_group_that_does_not_exist(cli, tmp_path):
    units = [["U001", "甲局机关党委", "机关党委", "第1组", "张三", 20]]
    assert cli("org", "import", roster(tmp_path / "r.xlsx", units, [])).exit_code == 0
    assert [u["code"] for u in json.loads(cli("org", "list", "--group", "第1组", "--json").output)["units"]] == ["U001"]
    r = cli("org", "list", "--group", "第一组")
    assert r.exit_code == 2 and "没有分组「第一组」" in r.output and "第1组" in r.output
