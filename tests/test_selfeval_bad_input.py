"""Returned self-assessment forms that must be refused, each a real file: exit 2, the place named, nothing written."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.monthly_helpers import (
    COL,
    FIRST_TASK_ROW,
    META,
    SHEET,
    active_scores,
    default_scores,
    fast_cli,
    fill_form,
    fullwidth,
    import_json,
    setup_month,
    table_counts,
)

INACTIVE = [("U900", "已撤销单位党支部", None, date(2024, 1, 31))]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
T01, T02, T03 = FIRST_TASK_ROW, FIRST_TASK_ROW + 1, FIRST_TASK_ROW + 2
SCORE, CODE = "自评得分", "任务编码"


@pytest.fixture
def cli(monkeypatch):
    return fast_cli(monkeypatch)


@pytest.fixture
def month(cli, tmp_path):
    return setup_month(cli, tmp_path, units=2, inactive=INACTIVE)


def scores_with(s, **at: Any) -> list[Any]:
    """Valid scores, with some tasks (by code) set to the given raw values."""
    scores = default_scores(s.tasks)
    for i, (code, _) in enumerate(s.tasks):
        if code in at:
            scores[i] = at[code]
    return scores


# ------------------------------------------------------------------ workbook edits


def set_cells(*cells: tuple[int, int, Any]) -> Callable[[Any], None]:
    def edit(wb):
        for row, col, value in cells:
            wb[SHEET].cell(row, col).value = value
    return edit


def set_meta(key: str, value: str) -> Callable[[Any], None]:
    def edit(wb):
        ws = wb[META]
        for row in range(1, ws.max_row + 1):
            if ws.cell(row, 1).value == key:
                ws.cell(row, 2).value = value
                return
        raise AssertionError(key)
    return edit


def both(*edits: Callable[[Any], None]) -> Callable[[Any], None]:
    def edit(wb):
        for e in edits:
            e(wb)
    return edit


def rename_sheet(wb):
    wb[SHEET].title = "Sheet1"


def drop_meta(wb):
    del wb[META]


def insert_text_row(wb):
    ws = wb[SHEET]
    ws.insert_rows(T03)
    ws.cell(T03, COL["任务名称"]).value = "补充：本月还开展了志愿服务活动"


def duplicate_row(wb):
    ws = wb[SHEET]
    ws.insert_rows(T02)
    for col in range(1, 8):
        ws.cell(T02, col).value = ws.cell(T01, col).value


def delete_row(wb):
    wb[SHEET].delete_rows(T03)


def add_task_row(wb):
    ws = wb[SHEET]
    row = FIRST_TASK_ROW + 9
    for col, value in zip(range(1, 8), (10, "T99", "自行增加的任务", "功能发挥", 5, 5, "完成")):
        ws.cell(row, col).value = value


def merge_scores(wb):
    wb[SHEET].merge_cells(f"F{T01}:F{T02}")


# ------------------------------------------------------------------ cases


@dataclass
class Case:
    id: str
    scores: dict[str, Any] | None = None          # task code -> raw value written into 自评得分
    edit: Callable[[Any], None] | None = None     # any other change made with openpyxl
    raw: Callable[[Path, Path], Path] | None = None  # (a valid filled form, dest dir) -> a file made from bytes
    where: tuple[str | None, int | None, str | None] | None = None  # the first error's sheet, row, column
    says: str = ""                                 # in the first error's (or the file's) message


def ole_file(suffix: str) -> Callable[[Path, Path], Path]:
    def make(_: Path, d: Path) -> Path:
        p = d / f"2024-03_U001_测试单位1机关党委{suffix}"
        p.write_bytes(OLE_MAGIC + b"\x00" * 504 + bytes(range(256)) * 8)
        return p
    return make


def truncated(src: Path, d: Path) -> Path:
    p = d / src.name
    p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    return p


def csv_file(_: Path, d: Path) -> Path:
    p = d / "2024-03_U001_测试单位1机关党委.csv"
    p.write_text("任务编码,自评得分\nT01,15\n", encoding="utf-8")
    return p


CASES = [
    Case("above-points", {"T01": 15.5}, where=(SHEET, T01, SCORE), says="15.5 超过上限 15"),
    Case("below-zero", {"T02": -1}, where=(SHEET, T02, SCORE), says="「-1」不能为负数"),
    Case("below-zero-text", {"T02": "-0.5"}, where=(SHEET, T02, SCORE), says="「-0.5」不能为负数"),
    Case("chinese-numeral", {"T01": "八"}, where=(SHEET, T01, SCORE), says="「八」不是有效数字"),
    Case("unit-suffix", {"T01": "8分"}, where=(SHEET, T01, SCORE), says="「8分」不是有效数字"),
    Case("comma-decimal", {"T01": "8,5"}, where=(SHEET, T01, SCORE), says="不要用逗号"),
    Case("two-decimals", {"T01": 8.25}, where=(SHEET, T01, SCORE), says="最多保留 1 位小数"),
    Case("two-decimals-text", {"T01": "8.25"}, where=(SHEET, T01, SCORE), says="最多保留 1 位小数"),
    Case("formula", {"T01": "=5+3"}, where=(SHEET, T01, SCORE), says="是公式"),
    Case("empty", {"T03": None}, where=(SHEET, T03, SCORE), says="不能为空"),
    Case("code-changed", edit=set_cells((T03, COL[CODE], "T33")), where=(SHEET, T03, CODE),
         says="任务编码「T33」不在 2024-03 的任务清单中"),
    Case("code-removed", edit=delete_row, where=(SHEET, None, None), says="缺少任务：T03"),
    Case("code-added", edit=add_task_row, where=(SHEET, FIRST_TASK_ROW + 9, CODE), says="「T99」不在 2024-03 的任务清单中"),
    Case("header-unit", edit=set_cells((2, 3, "U002")), where=(SHEET, 2, "单位编码"), says="单位编码被改为「U002」"),
    Case("header-month", edit=set_cells((3, 3, "2024-04")), where=(SHEET, 3, "月份"), says="月份被改为「2024-04」"),
    Case("inactive-unit", edit=both(set_meta("unit", "U900"), set_cells((2, 3, "U900"))), says="U900」2024-03 不在册"),
    Case("unknown-unit", edit=both(set_meta("unit", "U999"), set_cells((2, 3, "U999"))), says="「U999」不在名册中"),
    Case("sheet-renamed", edit=rename_sheet, says="缺少工作表「自评表」"),
    Case("meta-deleted", edit=drop_meta, says="不是 djctl 生成的表格"),
    Case("row-inserted", edit=insert_text_row, where=(SHEET, T03, CODE), says="不是任务行"),
    Case("merged-scores", edit=merge_scores, where=(SHEET, T01, SCORE), says="合并单元格"),
    Case("points-changed", edit=set_cells((T01, COL["分值"], 20)), where=(SHEET, T01, "分值"), says="分值被改为 20"),
    Case("duplicate-row", edit=duplicate_row, where=(SHEET, T02, CODE), says="任务「T01」与第 7 行重复"),
    Case("encrypted", raw=ole_file(".xlsx"), says="加密的工作簿"),
    Case("old-xls", raw=ole_file(".xls"), says="旧版 .xls"),
    Case("truncated", raw=truncated, says="zip 文件被截断"),
    Case("csv", raw=csv_file, says="文件是 .csv"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_form_is_refused_and_nothing_is_written(cli, tmp_path, month, case):
    src = month.forms["U001"]
    scores = scores_with(month, **case.scores) if case.scores else None
    good = fill_form(src, tmp_path / "base" / src.name, scores, edit=case.edit)
    path = good
    if case.raw is not None:
        (tmp_path / "bad").mkdir()
        path = case.raw(good, tmp_path / "bad")
    before = table_counts()
    code, doc = import_json(cli, path)
    assert code == 2, doc
    [f] = doc["files"]
    assert f["status"] == "refused" and f["path"] == str(path)
    assert f["errors"], f
    first = f["errors"][0]
    if case.where is not None:
        sheet, row, column = case.where
        positioned = [e for e in f["errors"] if (e["sheet"], e["row"], e["column"]) == (sheet, row, column)]
        assert positioned, f["errors"]
        first = positioned[0]
    assert case.says in first["message"] or case.says in f.get("message", ""), f
    assert table_counts() == before
    # and people read the same place in words
    if case.where is not None and case.where[1] is not None:
        r = cli("selfeval", "import", str(path))
        assert r.exit_code == 2
        assert f"工作表「{case.where[0]}」第 {case.where[1]} 行「{case.where[2]}」列" in r.output, r.output
        assert table_counts() == before


def test_full_width_digits_are_accepted(cli, tmp_path, month):
    src = month.forms["U001"]
    assert fullwidth("8.5") == "８．５"
    scores = scores_with(month, T01="８.５", T02="１０", T03=fullwidth("12.5"))
    code, doc = import_json(cli, fill_form(src, tmp_path / "back" / src.name, scores))
    assert code == 0 and doc["files"][0]["status"] == "imported", doc
    got = active_scores("U001")
    assert (got["T01"], got["T02"], got["T03"]) == (850, 1000, 1250)


def test_every_problem_of_a_file_is_listed(cli, tmp_path, month):
    """A unit sees all its mistakes at once, not one per attempt."""
    src = month.forms["U001"]
    scores = scores_with(month, T01="八", T02=11, T03=None)
    code, doc = import_json(cli, fill_form(src, tmp_path / src.name, scores))
    assert code == 2
    assert [(e["row"], e["column"]) for e in doc["files"][0]["errors"]] == [(T01, SCORE), (T02, SCORE), (T03, SCORE)]


def test_a_bad_file_among_good_ones_is_the_only_one_refused(cli, tmp_path, month):
    d = tmp_path / "收回"
    fill_form(month.forms["U001"], d / month.forms["U001"].name, scores_with(month, T01="=5+3"))
    fill_form(month.forms["U002"], d / month.forms["U002"].name)
    shutil.copy(d / month.forms["U002"].name, tmp_path / "copy.xlsx")
    code, doc = import_json(cli, d)
    assert code == 2
    assert [(Path(f["path"]).name[:12], f["status"]) for f in doc["files"]] == [
        ("2024-03_U001", "refused"), ("2024-03_U002", "imported")]
    assert active_scores("U001") == {} and len(active_scores("U002")) == 9
