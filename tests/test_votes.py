"""Democratic evaluation (民主测评): template, import (good and every bad input), replace, list, read API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from tests.helpers import json_out, small_roster, workbook

HEADER = ["单位编码", "单位名称", "好", "较好", "一般", "差", "参评人数"]


@pytest.fixture
def setup(cli, tmp_path):
    assert cli("init").exit_code == 0
    r = cli("org", "import", small_roster(tmp_path / "roster.xlsx", units=5))
    assert r.exit_code == 0, r.output


def votes_file(path: Path, rows: list[list], header: list = HEADER) -> Path:
    return workbook(path, {"民主测评": [header, *rows]})


GOOD_ROWS = [
    ["U001", "测试单位1", 30, 10, 0, 0, 40],
    ["U002", "测试单位2", 1, 2, 0, 0, None],
    ["U003", "测试单位3", 150, 9, 1, 0, 160],
    ["U004", "测试单位4", "３０", "１０", "0", "0", "４０"],  # full-width digits as text
    ["U005", "测试单位5", None, None, None, None, None],      # not evaluated: skipped
]


def db_rows(store, table):
    with store.read() as uow:
        return uow.session.exec(select(table)).all()


# ------------------------------------------------------------------ template


def test_template_lists_active_units_protected_with_meta(cli, setup, tmp_path):
    r = cli("votes", "template", "--year", "2024", "--out", "t.xlsx")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().endswith("t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb["民主测评"]
    assert [c.value for c in ws[1]] == HEADER
    assert [ws.cell(i, 1).value for i in range(2, 7)] == ["U001", "U002", "U003", "U004", "U005"]
    assert ws.cell(2, 2).value == "测试单位1机关党委" and ws.cell(2, 2).data_type == "s"
    assert ws.max_row == 6
    assert ws.protection.sheet is True
    assert ws.cell(2, 1).protection.locked is True
    assert all(ws.cell(r, c).protection.locked is False for r in range(2, 7) for c in range(3, 8))
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1 and dvs[0].type == "whole" and dvs[0].operator == "greaterThanOrEqual"
    assert str(dvs[0].sqref) == "C2:G6"
    meta = wb["_djctl"]
    assert meta.sheet_state == "veryHidden"
    assert {meta.cell(i, 1).value: meta.cell(i, 2).value for i in range(1, meta.max_row + 1)} == {"kind": "votes", "year": "2024"}


def test_template_without_units_is_refused(cli):
    assert cli("init").exit_code == 0
    r = cli("votes", "template", "--year", "2024", "--out", "t.xlsx")
    assert r.exit_code == 1, r.output
    assert "没有在册的考核单位" in r.output


# ------------------------------------------------------------------ import: happy path


def test_filled_template_imports_and_lists_scores(cli, setup, tmp_path, store):
    assert cli("votes", "template", "--year", "2024", "--out", "t.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb["民主测评"]
    for r, row in enumerate(GOOD_ROWS, 2):
        assert ws.cell(r, 1).value == row[0]
        for c, v in enumerate(row[2:], 3):
            ws.cell(r, c).value = v
    wb.save(tmp_path / "filled.xlsx")
    r = cli("votes", "import", "filled.xlsx", "--year", "2024", "--json")
    f = json_out(r)["files"][0]
    assert f["status"] == "imported" and f["rows"] == 4 and f["errors"] == []
    assert f["skipped"] == ["U005"] and f["replaced"] == []

    doc = json_out(cli("votes", "list", "--year", "2024", "--json"))
    scores = {row["unit"]: row["score"] for row in doc["rows"]}
    assert scores == {"U001": 95.0, "U002": 86.67, "U003": 98.63, "U004": 95.0}  # 98.625 rounds half-up
    u1 = doc["rows"][0]
    assert u1["votes"] == {"好": 30, "较好": 10, "一般": 0, "差": 0} and u1["total"] == 40 and u1["voters"] == 40
    assert doc["rows"][1]["voters"] is None
    assert doc["missing"] == [{"unit": "U005", "name": "测试单位5机关党委"}]

    human = cli("votes", "list", "--year", "2024")
    assert human.exit_code == 0
    assert "98.63" in human.stdout and "U005" in human.output

    from djctl.services.votes import votes_for_year

    with store.read() as uow:
        got = votes_for_year(uow.session, 2024)
    assert got["U003"] == {"好": 150, "较好": 9, "一般": 1, "差": 0}
    assert list(got) == ["U001", "U002", "U003", "U004"]
    assert cli("audit", "verify").exit_code == 0


def test_english_aliases_and_extra_columns(cli, setup, tmp_path):
    header = ["备注", "code", "good", "fairly_good", "average", "poor", "voters"]
    path = votes_file(tmp_path / "v.xlsx", [["x", "U001", 3, 2, 1, 0, 6]], header)
    f = json_out(cli("votes", "import", path, "--year", "2024", "--json"))["files"][0]
    assert f["status"] == "imported" and f["rows"] == 1


def test_same_file_twice_changes_nothing(cli, setup, tmp_path, store):
    from djctl.store.tables import AuditEvent, ImportFile, Vote

    path = votes_file(tmp_path / "v.xlsx", GOOD_ROWS[:3])
    assert json_out(cli("votes", "import", path, "--year", "2024", "--json"))["files"][0]["status"] == "imported"
    events = len(db_rows(store, AuditEvent))
    again = json_out(cli("votes", "import", path, "--year", "2024", "--json"))["files"][0]
    assert again["status"] == "unchanged"
    assert len(db_rows(store, AuditEvent)) == events
    assert len(db_rows(store, Vote)) == 3
    assert len([i for i in db_rows(store, ImportFile) if i.kind == "votes"]) == 1


def test_dry_run_writes_nothing(cli, setup, tmp_path, store):
    from djctl.store.tables import Vote

    path = votes_file(tmp_path / "v.xlsx", GOOD_ROWS[:2])
    f = json_out(cli("votes", "import", path, "--year", "2024", "--dry-run", "--json"))["files"][0]
    assert f["status"] == "valid"
    assert db_rows(store, Vote) == []


def test_different_file_needs_replace_and_keeps_history(cli, setup, tmp_path, store):
    from djctl.store.tables import AuditEvent, ImportFile, Vote

    first = votes_file(tmp_path / "v1.xlsx", GOOD_ROWS[:2])
    second = votes_file(tmp_path / "v2.xlsx", [["U001", "", 20, 20, 0, 0, 40], ["U003", "", 5, 0, 0, 0, 5]])
    assert cli("votes", "import", first, "--year", "2024").exit_code == 0
    refused = cli("votes", "import", second, "--year", "2024")
    assert refused.exit_code == 2, refused.output
    assert "--replace" in refused.output and "v1.xlsx" in refused.output
    assert len(db_rows(store, Vote)) == 2

    f = json_out(cli("votes", "import", second, "--year", "2024", "--replace", "--json"))["files"][0]
    assert f["status"] == "imported"
    old_import = [i for i in db_rows(store, ImportFile) if i.path.endswith("v1.xlsx")][0]
    assert f["replaced"] == [{"import_id": old_import.id, "path": str(first), "sha256": old_import.sha256, "rows": 2}]
    assert old_import.active is False and old_import.replaced_by == f["import_id"]
    votes = db_rows(store, Vote)
    assert len(votes) == 4
    assert sorted((v.unit_code, v.active) for v in votes) == [("U001", False), ("U001", True), ("U002", False), ("U003", True)]
    event = [e for e in db_rows(store, AuditEvent) if e.action == "votes.import"][-1]
    payload = json.loads(event.payload)
    assert payload["replaced"][0]["import_id"] == old_import.id
    assert payload["rows"] == [["U001", 20, 20, 0, 0, 40], ["U003", 5, 0, 0, 0, 5]]

    doc = json_out(cli("votes", "list", "--year", "2024", "--json"))
    assert {r["unit"]: r["score"] for r in doc["rows"]} == {"U001": 90.0, "U003": 100.0}
    assert [f["active"] for f in doc["files"]] == [False, True]

    # the replaced file again is a different file from the current one: it needs --replace too
    back = cli("votes", "import", first, "--year", "2024")
    assert back.exit_code == 2, back.output
    assert cli("audit", "verify").exit_code == 0


# ------------------------------------------------------------------ import: bad input


def _dissolved_roster(path: Path) -> Path:
    header = ["单位编码", "单位名称", "组织类型", "党员人数", "撤销日期"]
    return workbook(path, {"单位": [header, ["U001", "一", "机关党委", 10, None], ["U009", "旧单位", "党支部", 5, "2023-06-30"]]})


BAD = {
    "missing_level_header": (["单位编码", "单位名称", "好", "较好", "一般", "参评人数"], [["U001", "", 1, 1, 1, 3]],
                             None, None, "缺少必需的表头：差"),
    "missing_code_header": (["单位名称", "好", "较好", "一般", "差"], [["x", 1, 1, 1, 0]], None, None, "单位编码"),
    "text_count": (HEADER, [["U002", "", 5, 0, 0, 0, 5], ["U001", "", "十", 1, 0, 0, None]], 3, "好", "「十」不是有效数字"),
    "negative_count": (HEADER, [["U001", "", 3, -1, 0, 0, None]], 2, "较好", "「-1」不能为负数"),
    "decimal_count": (HEADER, [["U001", "", 3, 1, 2.5, 0, None]], 2, "一般", "「2.5」应为整数"),
    "sum_mismatch": (HEADER, [["U001", "", 3, 1, 0, 0, 5]], 2, "参评人数", "合计 4 票，与参评人数 5 不符"),
    "unknown_unit": (HEADER, [["U001", "", 3, 1, 0, 0, 4], ["U999", "", 1, 0, 0, 0, 1]], 3, "单位编码", "不在名册中"),
    "duplicate_unit": (HEADER, [["U001", "", 3, 1, 0, 0, 4], ["U001", "", 1, 0, 0, 0, 1]], 3, "单位编码", "与第 2 行重复"),
    "all_zero": (HEADER, [["U001", "", 0, 0, 0, 0, 0]], 2, "好", "四档票数均为 0"),
    "formula": (HEADER, [["U001", "", "=1+2", 1, 0, 0, None]], 2, "好", "是公式"),
    "partly_blank": (HEADER, [["U001", "", 3, 1, 0, None, None]], 2, "差", "不能为空"),
    "empty": (HEADER, [["U001", "", None, None, None, None, None]], None, None, "没有任何填写了票数的单位"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_votes_files_are_refused_whole(cli, setup, tmp_path, store, case):
    from djctl.store.tables import ImportFile, Vote

    header, rows, row, column, message = BAD[case]
    path = votes_file(tmp_path / f"{case}.xlsx", rows, header)
    r = cli("votes", "import", path, "--year", "2024", "--json")
    assert r.exit_code == 2, r.output
    f = json.loads(r.stdout)["files"][0]
    assert f["status"] == "refused"
    text = json.dumps(f, ensure_ascii=False)
    assert message in text, text
    if row is not None:
        assert {"sheet": "民主测评", "row": row, "column": column} == {k: f["errors"][0][k] for k in ("sheet", "row", "column")}, f
        assert f"第 {row} 行" in r.stderr and f"「{column}」列" in r.stderr
    assert db_rows(store, Vote) == []
    assert [i for i in db_rows(store, ImportFile) if i.kind == "votes"] == []


def test_unit_not_active_in_year_is_refused(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", _dissolved_roster(tmp_path / "r.xlsx")).exit_code == 0
    path = votes_file(tmp_path / "v.xlsx", [["U001", "", 1, 0, 0, 0, 1], ["U009", "", 1, 0, 0, 0, 1]])
    r = cli("votes", "import", path, "--year", "2024")
    assert r.exit_code == 2, r.output
    assert "第 3 行" in r.output and "2024 年度不在册" in r.output
    # and the template leaves it out
    assert cli("votes", "template", "--year", "2024", "--out", "t.xlsx").exit_code == 0
    ws = load_workbook(tmp_path / "t.xlsx")["民主测评"]
    assert [ws.cell(i, 1).value for i in range(2, ws.max_row + 1)] == ["U001"]


def test_template_of_another_year_is_refused(cli, setup, tmp_path):
    assert cli("votes", "template", "--year", "2024", "--out", "t.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "t.xlsx")
    wb["民主测评"]["C2"] = 1
    wb.save(tmp_path / "t.xlsx")
    r = cli("votes", "import", "t.xlsx", "--year", "2025")
    assert r.exit_code == 2, r.output
    assert "2024 年度的民主测评表" in r.output


def test_another_kind_of_djctl_form_is_refused(cli, setup, tmp_path):
    assert cli("adjust", "template", "--out", "a.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "a.xlsx")
    ws = wb.create_sheet("民主测评")
    ws.append(HEADER)
    ws.append(["U001", "", 1, 0, 0, 0, 1])
    wb.save(tmp_path / "a.xlsx")
    r = cli("votes", "import", "a.xlsx", "--year", "2024")
    assert r.exit_code == 2, r.output
    assert "不是民主测评表" in r.output


def test_merged_cells_are_refused(cli, setup, tmp_path):
    path = votes_file(tmp_path / "m.xlsx", [["U001", "", 1, 1, 0, 0, 2], ["U002", "", 1, 1, 0, 0, 2]])
    wb = load_workbook(path)
    wb["民主测评"].merge_cells("C2:C3")
    wb.save(path)
    r = cli("votes", "import", path, "--year", "2024")
    assert r.exit_code == 2, r.output
    assert "合并单元格" in r.output


def test_list_needs_the_year_scheme(cli, setup):
    r = cli("votes", "list", "--year", "2023")
    assert r.exit_code == 2, r.output  # a missing scheme is a refusal naming the command to run
    assert "2023" in r.output


# ------------------------------------------------------------------ demo


def test_demo_steps(tmp_path, store):
    from djctl.services import adjust, votes
    from djctl.services.demo import DemoContext, step_setup
    from djctl.services.demo import adjust as demo_adjust
    from djctl.services.demo import votes as demo_votes

    ctx = DemoContext(dir=tmp_path / "demo")
    step_setup(store, ctx)
    lines = demo_votes.demo_step(store, ctx)
    assert "40 个单位" in lines[0]
    with store.read() as uow:
        got = votes.votes_for_year(uow.session, 2024)
        vote_rows = uow.session.exec(select(votes.Vote)).all()
    assert len(got) == 40
    assert all(v.voters == v.good + v.fairly_good + v.average + v.poor for v in vote_rows)
    demo_adjust.demo_step(store, ctx)
    doc = adjust.list_adjustments(store, 2024, include_revoked=True)
    units = {u["unit"]: u for u in doc["units"]}
    assert sum(u["veto"] for u in units.values()) == 1
    assert any(u["deduction"] > 10 and u["deduction_capped"] == 10 for u in units.values())
    assert any(u["bonus"] > 5 and u["bonus_capped"] == 5 for u in units.values())
    assert sum(i["revoked"] for i in doc["items"]) == 1
    assert any(i["reason"] == "获评省级先进基层党组织" and i["points"] == 2 for i in doc["items"])
    # deterministic: a second run in another directory gives the same store content
    from djctl.store.engine import open_store

    other = open_store(tmp_path / "again.db")
    try:
        ctx2 = DemoContext(dir=tmp_path / "demo2")
        step_setup(other, ctx2)
        demo_votes.demo_step(other, ctx2)
        with other.read() as uow:
            assert votes.votes_for_year(uow.session, 2024) == got
    finally:
        other.dispose()


def test_the_same_votes_resaved_by_another_program_are_unchanged(cli, setup, tmp_path, store):
    from djctl.store.tables import Vote

    first = votes_file(tmp_path / "a.xlsx", GOOD_ROWS)
    assert cli("votes", "import", first, "--year", "2024").exit_code == 0
    # the same counts typed differently (numbers instead of full-width text) in another file
    rows = [r[:] for r in GOOD_ROWS]
    rows[3] = ["U004", "测试单位4", 30, 10, 0, 0, 40]
    resaved = votes_file(tmp_path / "b.xlsx", rows)
    before = len(db_rows(store, Vote))
    r = cli("votes", "import", resaved, "--year", "2024", "--json")
    doc = json.loads(r.stdout)["files"][0]
    assert r.exit_code == 0 and doc["status"] == "unchanged" and "内容与已导入的民主测评表相同" in doc["message"]
    assert len(db_rows(store, Vote)) == before
    rows[3] = ["U004", "测试单位4", 29, 11, 0, 0, 40]
    r = cli("votes", "import", votes_file(tmp_path / "c.xlsx", rows), "--year", "2024")
    assert r.exit_code == 2 and "--replace" in r.output
