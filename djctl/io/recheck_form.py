"""The re-check worksheet (整改回头看复查表): one per rectification item drawn for a re-check, read back when
the checker has filled it.

Layout (sheet 整改回头看复查表): a title; the item as it stood at the draw, one label and value per row
(整改事项编号, 检查对象, 所属单位, 问题类别, 问题来源, 问题描述, 整改反馈, 销号日期, 抽签); the instructions; then a
table of one row to fill: 复查日期, 复查人, 是否整改到位 (a 是/否 list), 复查情况. Only those four cells are
unlocked. A very hidden sheet carries the form kind, the draw, the item, the year and the closing day the
sheet was made from. Every cell is written as a value (strings as text: never a formula).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.outfile import safe_part, save_workbook
from djctl.io.xlsx import META_SHEET, Column, Workbook, find_table, form_kind_cn, norm_text, read_meta

SHEET = "整改回头看复查表"
FORM_KIND = "recheck"
YES, NO = "是", "否"
ITEM_LABEL = "整改事项编号"
HEADER_LABELS = (ITEM_LABEL, "检查对象", "所属单位", "问题类别", "问题来源", "问题描述", "整改反馈", "销号日期", "抽签")
COLUMNS = (
    Column("复查日期", ("recheck_date", "日期")),
    Column("复查人", ("checker", "复查人员")),
    Column("是否整改到位", ("fixed", "整改到位", "是否到位")),
    Column("复查情况", ("finding", "情况说明", "复查意见")),
)
INSTRUCTIONS = ("填表说明：请到现场复查该问题的整改情况，填写「复查日期」（不早于抽签日期和销号日期）、「复查人」，"
                "在「是否整改到位」选择「是」或「否」。选「否」的须在「复查情况」写明仍存在的问题：该事项将于复查日期"
                "重新打开、限期重新整改，并作为重复问题列入负面清单。请勿增删行、修改事项编号或重命名工作表。")
META_KEYS = ("kind", "draw_id", "item", "year", "closed_on", "label")


def recheck_filename(year: int, item_id: int, org_code: str, org_name: str) -> str:
    """`2024_R12_U003_名称_整改回头看复查表.xlsx` (every part sanitised)."""
    name = safe_part(org_name) if org_name.strip() else safe_part(org_code)
    return f"{int(year)}_R{int(item_id)}_{safe_part(org_code)}_{name}_整改回头看复查表.xlsx"


@dataclass(frozen=True)
class FormItem:
    """What the worksheet shows of a drawn item (as it stood on the draw's date)."""

    item_id: int
    org: str  # "U003 名称" or "U003-B01 名称"
    unit: str  # the unit (for a branch, its unit), "U003 名称"
    category: str
    source: str
    problem: str
    feedback: str
    closed_on: date


def write_recheck_form(path: Path, *, year: int, draw_id: int, draw_label: str, as_of: date, item: FormItem) -> Path:
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import put

    wb = OWorkbook()
    ws = wb.active
    ws.title = SHEET
    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (14, 26, 16, 44)):
        ws.column_dimensions[letter].width = width
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    values = (f"R{item.item_id}", item.org, item.unit, item.category, item.source, item.problem, item.feedback,
              item.closed_on.isoformat(), f"#{draw_id}（{draw_label}，抽签日期 {as_of.isoformat()}）")
    put(ws, 1, 1, f"{year}年度整改“回头看”复查表", font=Font(bold=True, size=14))
    ws.merge_cells("A1:D1")
    for i, (label, value) in enumerate(zip(HEADER_LABELS, values), 2):
        put(ws, i, 1, label, font=bold, alignment=wrap)
        put(ws, i, 2, value or "—", alignment=wrap)
        ws.merge_cells(f"B{i}:D{i}")  # above the table: never read as data (refuse_merged looks below it)
        ws.row_dimensions[i].height = 15 * max(1, -(-len(value or "—") // 40))
    note = 2 + len(HEADER_LABELS)
    put(ws, note, 1, INSTRUCTIONS, alignment=wrap)
    ws.merge_cells(f"A{note}:D{note}")
    ws.row_dimensions[note].height = 15 * 4
    header_row = note + 2
    for c, col in enumerate(COLUMNS, 1):
        put(ws, header_row, c, col.name, font=bold)
        cell = ws.cell(header_row + 1, c)
        cell.protection = unlocked
        cell.alignment = wrap
    ws.cell(header_row + 1, 1).number_format = "yyyy-mm-dd"
    ws.row_dimensions[header_row + 1].height = 15 * 4
    dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=False, showErrorMessage=True,
                        errorTitle="是否整改到位", error="请选择「是」或「否」")
    dv.add(f"C{header_row + 1}")
    ws.add_data_validation(dv)
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    for r, (key, value) in enumerate({"kind": FORM_KIND, "draw_id": str(draw_id), "item": str(item.item_id),
                                      "year": str(year), "closed_on": item.closed_on.isoformat(),
                                      "label": draw_label}.items(), 1):
        put(meta, r, 1, key)
        put(meta, r, 2, value)
    save_workbook(wb, path)
    return path


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class RecheckRow:
    """A returned worksheet: its marks, where the item number stands, and the filled row."""

    draw_id: int
    item_id: int
    year: int
    closed_on: date
    item_row: int  # the row of 整改事项编号 (where an item not drawn is named)
    row: int  # the filled row
    on_date: date
    checker: str
    fixed: bool
    finding: str


def _meta_int(meta: dict[str, str], key: str, path: Path) -> int:
    value = meta.get(key, "")
    if not value.isdigit():
        raise InputError(f"表格的隐藏校验信息已损坏（{key}「{value}」）", path=str(path),
                         hint="请使用 djctl rectify recheck forms 重新生成的原表填写")
    return int(value)


def read_recheck_form(path: Path) -> tuple[str, list[RecheckRow]]:
    """Read a returned re-check worksheet: (sheet, [its one row]); InputError listing every problem."""
    problems = ProblemList(str(path))
    with Workbook(path, max_rows=200) as wb:
        meta = read_meta(wb)
        if not meta:
            raise InputError("不是 djctl 生成的表格（缺少隐藏的校验信息）", path=str(path),
                             hint="请使用 djctl rectify recheck forms 生成的原表填写，不要复制到新建的工作簿")
        if meta.get("kind") != FORM_KIND:
            raise InputError(f"表格类型不符：这是{form_kind_cn(meta.get('kind'))}，不是整改回头看复查表", path=str(path))
        if not wb.has_sheet(SHEET):
            raise InputError(f"找不到工作表「{SHEET}」（请勿重命名工作表）", path=str(path))
        data = wb.sheet(SHEET)
    draw_id, item_id, year = (_meta_int(meta, k, path) for k in ("draw_id", "item", "year"))
    try:
        closed_on = date.fromisoformat(meta.get("closed_on", ""))
    except ValueError:
        raise InputError("表格的隐藏校验信息已损坏（销号日期）", path=str(path)) from None
    table = find_table(str(path), data, COLUMNS)
    refuse_merged(problems, data, table.header_row, table.columns)
    item_row, shown = 0, ""
    for rownum, cells in data.rows:
        if rownum >= table.header_row:
            break
        if cells and norm_text(cells[0].value) == ITEM_LABEL:
            item_row, shown = rownum, norm_text(cells[1].value) if len(cells) > 1 else ""
    if not item_row:
        raise InputError(f"找不到「{ITEM_LABEL}」一行（请勿删除表头信息）", path=str(path))
    if unicodedata.normalize("NFKC", shown).upper() != f"R{item_id}":
        problems.add(f"整改事项编号「{shown}」与表格生成时的 R{item_id} 不一致：请勿修改事项编号", SHEET, item_row, ITEM_LABEL)
    filled = [(r, cells) for r, cells in table.rows if any(norm_text(c.value) for c in cells)]
    rows: list[RecheckRow] = []
    if not filled:
        problems.add("复查结果未填写（复查日期、复查人、是否整改到位）", SHEET, table.header_row + 1, "复查日期")
    for rownum, cells in filled[1:]:
        problems.add("复查表只填写一行复查结果：请勿在下方增加行", SHEET, rownum)
    for rownum, cells in filled[:1]:
        r = RowReader(problems, SHEET, rownum, table, cells)
        on_date = r.date("复查日期", required=True)
        checker = r.text("复查人", max_len=100)
        fixed_text = unicodedata.normalize("NFKC", r.text("是否整改到位", required=False, max_len=20)).strip()
        fixed = {YES: True, NO: False}.get(fixed_text)
        if fixed is None:
            r.error("是否整改到位", "不能为空，请选择「是」或「否」" if not fixed_text
                   else f"「{fixed_text}」无效，应填「{YES}」或「{NO}」")
        finding = r.text("复查情况", required=False, max_len=2000)
        if fixed is False and not finding:
            r.error("复查情况", "整改不到位的须写明复查发现的问题（将作为重新整改的要求）")
        if r.ok and on_date is not None and fixed is not None:
            rows.append(RecheckRow(draw_id, item_id, year, closed_on, item_row, rownum, on_date, checker, fixed,
                                   finding))
    problems.raise_if_any("整改回头看复查表有错误，未导入任何数据")
    return SHEET, rows
