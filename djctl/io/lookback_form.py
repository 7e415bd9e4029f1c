"""The look-back worksheet (回头看核查表): one per drawn branch, read back when the committee has filled it.

Layout (sheet 回头看核查表): a title, a header block (支部编码, 支部名称, 所属单位, 等次, 抽签, 方式), the
instructions, then the branch's checklist (every item of every tier from 达标 up to its tier). Only 是否达到,
问题描述 and 核查人 are unlocked; 是否达到 carries a 是/否 list. A very hidden sheet carries the form kind,
the draw, the branch, its tier at the draw, the year and a hash of the checklist the sheet was made from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.outfile import save_workbook
from djctl.io.selfeval_form import form_filename
from djctl.io.xlsx import Column, SheetData, Workbook, find_table, norm_text, read_meta, wo_cell, write_meta, form_kind_cn

SHEET = "回头看核查表"
FORM_KIND = "lookback"
FILE_SUFFIX = "_回头看核查表"
HEADER_ROW = 8  # the table header row as written; reading finds it by names
YES, NO = "是", "否"
COLUMNS = (
    Column("序号", ("no",), required=False),
    Column("项目编码", ("item_code", "code", "编码")),
    Column("项目", ("item", "项目名称", "名称"), required=False),
    Column("标准", ("standard", "检查标准"), required=False),
    Column("过硬维度", ("dimension", "维度"), required=False),
    Column("是否达到", ("passed", "达到", "是否达标")),
    Column("问题描述", ("problem", "问题")),
    Column("核查人", ("checker",), required=False),
    Column("问题类别", ("category", "类别"), required=False),  # for the problem list; older worksheets lack it
)
LETTERS = "ABCDEFGHI"
COL = {c.name: LETTERS[i] for i, c in enumerate(COLUMNS)}
FILL_COLUMNS = ("是否达到", "问题描述", "核查人", "问题类别")
HEADER_LABELS = ("支部编码", "支部名称", "所属单位", "等次", "抽签", "方式")
INSTRUCTIONS = ("填表说明：请逐项核查，在「是否达到」选择「是」或「否」（每项都要填写）；未达到的项目须在「问题描述」"
                "写明发现的问题（将作为整改事项下发），可在「问题类别」选择问题所属方面（问题清单按此分类统计），在「核查人」署名。任何一项未达到即认定该支部反弹，"
                "按考核方案下调等次。请勿增删行、修改项目编码、重命名工作表。")
META_KEYS = ("kind", "draw_id", "branch", "tier", "year", "items_hash")


@dataclass(frozen=True)
class FormItem:
    code: str
    item: str
    standard: str
    dimension: str
    prefill: str | None = None  # 是/否 already known to the store (the 述职评议 item); the checker may change it
    source: str = ""  # where the prefill comes from, shown under the standard


def lookback_filename(tag: str, branch_code: str, branch_name: str) -> str:
    """`2024_U001-B01_名称_回头看核查表.xlsx` (tag is the year, or `2024-专项` for an ad-hoc look-back)."""
    return form_filename(tag, branch_code, branch_name, FILE_SUFFIX)


def write_lookback_form(path: Path, *, branch_code: str, branch_name: str, unit_code: str, unit_name: str,
                        tier: str, year: int, draw_id: int, draw_label: str, unannounced: bool, items_hash: str,
                        items: list[FormItem], categories: tuple[str, ...] = ()) -> Path:
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = OWorkbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    for letter, width in zip(LETTERS, (6, 10, 30, 44, 10, 10, 40, 12, 12)):
        ws.column_dimensions[letter].width = width
    first, last = HEADER_ROW + 1, HEADER_ROW + max(1, len(items))
    f = COL["是否达到"]
    dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=False, showErrorMessage=True,
                        errorTitle="是否达到", error="请选择「是」或「否」")
    dv.add(f"{f}{first}:{f}{last}")
    ws.data_validations.append(dv)
    from djctl.io.check_form import category_choices

    category_choices(ws, categories, COL["问题类别"], first, last)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.freeze_panes = f"A{first}"
    ws.append([wo_cell(ws, f"{year}年度党支部分类定级“回头看”核查表", font=Font(bold=True, size=14))])
    ws.append([wo_cell(ws, "支部编码", font=bold), wo_cell(ws, branch_code), wo_cell(ws, "支部名称", font=bold),
               wo_cell(ws, branch_name)])
    ws.append([wo_cell(ws, "所属单位", font=bold), wo_cell(ws, f"{unit_code} {unit_name}".strip())])
    ws.append([wo_cell(ws, "等次", font=bold), wo_cell(ws, f"{tier}支部"), wo_cell(ws, "抽签", font=bold),
               wo_cell(ws, f"#{draw_id}（{draw_label}）")])
    ws.append([wo_cell(ws, "方式", font=bold), wo_cell(ws, "暗访" if unannounced else "常规核查")])
    ws.append([wo_cell(ws, INSTRUCTIONS)])
    ws.append([])
    ws.append([wo_cell(ws, c.name, font=bold, alignment=wrap) for c in COLUMNS])
    for i, it in enumerate(items, 1):
        ws.append([wo_cell(ws, i), wo_cell(ws, it.code), wo_cell(ws, it.item, alignment=wrap),
                   wo_cell(ws, "\n".join(x for x in (it.standard, it.source) if x) or None, alignment=wrap),
                   wo_cell(ws, it.dimension or None),
                   *[wo_cell(ws, it.prefill if c == "是否达到" else None, protection=unlocked,
                             **({"alignment": wrap} if c == "问题描述" else {})) for c in FILL_COLUMNS]])
    write_meta(wb, {"kind": FORM_KIND, "draw_id": str(draw_id), "branch": branch_code, "tier": tier,
                    "year": str(year), "items_hash": items_hash})
    save_workbook(wb, path)
    return path


# ---------------------------------------------------------------- reading


@dataclass
class ItemRow:
    row: int
    code: str
    passed: bool | None
    problem: str
    checker: str
    category: str = ""


@dataclass
class LookbackForm:
    meta: dict[str, str]
    header: dict[str, tuple[int, str]]  # label -> (row, value) of the header block
    rows: list[ItemRow]
    problems: ProblemList


def header_block(data: SheetData, header_row: int) -> dict[str, tuple[int, str]]:
    """label -> (row, value right of it) for the header labels found above the table."""
    out: dict[str, tuple[int, str]] = {}
    for rownum, cells in data.rows:
        if rownum >= header_row:
            break
        for i, c in enumerate(cells):
            label = norm_text(c.value)
            if label in HEADER_LABELS and label not in out:
                out[label] = (rownum, norm_text(cells[i + 1].value) if i + 1 < len(cells) else "")
    return out


def _passed(r: RowReader) -> bool | None:
    """是 / 否 only; empty or anything else is refused with its position."""
    value = unicodedata.normalize("NFKC", r.text("是否达到", required=False, max_len=20)).strip()
    if value == YES:
        return True
    if value == NO:
        return False
    r.error("是否达到", "不能为空，请选择「是」或「否」" if not value else f"「{value}」无效，应填「{YES}」或「{NO}」")
    return None


def read_lookback_form(path: Path) -> LookbackForm:
    """Read a returned look-back worksheet; structural problems raise, value problems are collected."""
    problems = ProblemList(str(path))
    with Workbook(path, max_rows=5000) as wb:
        meta = read_meta(wb)
        if not meta:
            raise InputError("不是 djctl 生成的表格（缺少隐藏的校验信息）", path=str(path),
                             hint="请使用 djctl lookback forms 生成的原表填写，不要复制到新建的工作簿")
        if meta.get("kind") != FORM_KIND:
            raise InputError(f"表格类型不符：这是{form_kind_cn(meta.get('kind'))}，不是回头看核查表", path=str(path))
        data = wb.sheet(SHEET)
    table = find_table(str(path), data, COLUMNS)
    refuse_merged(problems, data, table.header_row, table.columns)
    rows: list[ItemRow] = []
    for rownum, cells in table.rows:
        r = RowReader(problems, SHEET, rownum, table, cells)
        code = r.code("项目编码", required=False)
        if not code:
            problems.add("不是检查项目行（没有项目编码）：请勿插入行或在表格下方填写内容", SHEET, rownum, "项目编码")
            continue
        passed = _passed(r)
        problem = r.text("问题描述", required=False, max_len=1500)
        checker = r.text("核查人", required=False, max_len=100)
        if passed is False and not problem:
            problems.add("未达到的项目须填写问题描述（将作为整改事项下发）", SHEET, rownum, "问题描述")
        category = r.text("问题类别", required=False, max_len=50) if "问题类别" in table.columns else ""
        rows.append(ItemRow(rownum, code, passed, problem, checker, category))
    return LookbackForm({k: meta.get(k, "") for k in META_KEYS}, header_block(data, table.header_row), rows, problems)
