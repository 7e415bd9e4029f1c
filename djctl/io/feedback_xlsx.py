"""The returned-feedback twin of a feedback letter (问题整改台账): written per unit, read back when returned.

Layout (sheet 整改台账): a title, a header block (单位编码, 单位名称, 期间, 截至日期, 报送期限), the
instructions, then one row per open item of the unit (and of its branches): 事项编号 and 问题 prefilled and
locked, 整改措施, 整改结果, 责任人, 完成时间, 佐证材料 unlocked (完成时间 with a date validation). A very hidden
sheet carries the form kind, unit, period, as-of date and the item ids the letter listed (the way the other
forms carry their meta, `djctl.io.xlsx.write_meta`).

Reading checks the cells only (ids are numbers, 整改措施/整改结果/责任人/完成时间 filled, dates are dates, no
formulas, no merged cells, no repeated id); whether an id is the unit's open item is the service's check.
A row whose fill-in cells are all empty is an item not reported this time and is skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from djctl.domain.limits import FORM_MAX_ROWS
from djctl.errors import InputError, Problem, ProblemList
from djctl.io.cells import RowReader, plain_text, refuse_merged
from djctl.io.outfile import save_workbook
from djctl.io.selfeval_form import header_cell
from djctl.io.xlsx import (Column, Workbook, find_table, form_kind_cn, norm_text, print_fit, read_meta, wo_cell,
                           write_meta)

SHEET = "整改台账"
FORM_KIND = "rectify_feedback"
HEADER_ROW = 6
COLUMNS = (
    Column("事项编号", ("编号", "id", "item")),
    Column("问题", ("问题描述", "problem")),
    Column("整改措施", ("measures",)),
    Column("整改结果", ("result",)),
    Column("责任人", ("responsible",)),
    Column("完成时间", ("完成日期", "done_on")),
    Column("佐证材料", ("evidence", "佐证材料名称")),
)
FILL = ("整改措施", "整改结果", "责任人", "完成时间", "佐证材料")
MAX_MEASURES = 2000
INSTRUCTIONS = ("填表说明：每行一项问题，请填写「整改措施」「整改结果」「责任人」「完成时间」（如 2024-10-15），"
                "「佐证材料」填报送的佐证材料文件名（多个用顿号隔开）；尚未整改完成的问题整行留空，下次再报。"
                "请勿修改事项编号、增删行或重命名工作表；不要使用公式。报送后经工委审核销号，整改不到位的退回重新整改。")
_ID = re.compile(r"^\d{1,9}$")


@dataclass(frozen=True)
class LedgerItem:
    id: int
    problem: str


@dataclass(frozen=True)
class FeedbackRow:
    row: int
    item_id: int
    measures: str
    result: str
    responsible: str
    done_on: date
    evidence: str

    def fields(self) -> dict[str, str]:
        """What the store keeps of the row (the event's detail)."""
        return {"measures": self.measures, "result": self.result, "responsible": self.responsible,
                "done_on": self.done_on.isoformat(), "evidence": self.evidence}


@dataclass
class FeedbackForm:
    meta: dict[str, str]
    unit: str
    rows: list[FeedbackRow]
    notes: list[str]


def ledger_filename(period: str, unit_code: str, unit_name: str) -> str:
    from djctl.io.selfeval_form import form_filename

    return form_filename(period, unit_code, unit_name, "_问题整改台账")


def write_ledger(path: Path, *, unit_code: str, unit_name: str, period: str, period_label: str, as_of: date,
                 reply_by: date, items: list[LedgerItem]) -> Path:
    """One unit's 问题整改台账, its open items prefilled (the fill-in cells empty)."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = OWorkbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    for letter, width in zip("ABCDEFG", (10, 48, 40, 30, 12, 12, 30)):
        ws.column_dimensions[letter].width = width
    # printed by a unit before it is filled or signed: A4 landscape, every column on one page width
    print_fit(ws, landscape=True)
    first, last = HEADER_ROW + 1, HEADER_ROW + max(len(items), 1)
    dv = DataValidation(type="date", operator="between", formula1="36526", formula2="73051", allow_blank=True,
                        showErrorMessage=True, errorTitle="完成时间无效", error="请填写日期，如 2024-10-15")
    dv.add(f"F{first}:F{last}")
    ws.data_validations.append(dv)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.freeze_panes = f"A{first}"
    ws.append([wo_cell(ws, f"{unit_name}问题整改台账（{period_label}）", font=Font(bold=True, size=14))])
    ws.append([wo_cell(ws, "单位编码", font=bold), wo_cell(ws, unit_code), wo_cell(ws, "单位名称", font=bold),
               wo_cell(ws, unit_name)])
    ws.append([wo_cell(ws, "期间", font=bold), wo_cell(ws, period), wo_cell(ws, "截至日期", font=bold),
               wo_cell(ws, as_of.isoformat()), wo_cell(ws, "报送期限", font=bold), wo_cell(ws, reply_by.isoformat())])
    # the instructions wrap across the table's width (merged A:G, three lines high): printed whole on the page
    ws.merged_cells.add(f"A{HEADER_ROW - 2}:G{HEADER_ROW - 2}")
    ws.row_dimensions[HEADER_ROW - 2].height = 48
    ws.append([wo_cell(ws, INSTRUCTIONS, alignment=Alignment(wrap_text=True, vertical="top"))])
    ws.append([])
    ws.append([wo_cell(ws, c.name, font=bold, alignment=wrap) for c in COLUMNS])
    for it in items:
        ws.append([wo_cell(ws, it.id), wo_cell(ws, it.problem, alignment=wrap),
                   *[wo_cell(ws, None, protection=unlocked, alignment=wrap) for _ in FILL]])
    write_meta(wb, {"kind": FORM_KIND, "unit": unit_code, "period": period, "as_of": as_of.isoformat(),
                    "items": ",".join(str(i.id) for i in items)})
    save_workbook(wb, path)
    return path


def read_ledger(path: Path) -> FeedbackForm:
    """Read a returned 整改台账; raise InputError listing every cell problem (file, sheet, row, column)."""
    problems = ProblemList(str(path))
    with Workbook(path, max_rows=FORM_MAX_ROWS) as wb:
        meta = read_meta(wb)
        if not meta:
            raise InputError("不是 djctl 生成的问题整改台账（缺少隐藏的校验信息）", path=str(path),
                             hint="请使用 djctl rectify letters 随函生成的整改台账填写，不要复制到新建的工作簿")
        if meta.get("kind") != FORM_KIND:
            raise InputError(f"表格类型不符：这是{form_kind_cn(meta.get('kind'))}，不是问题整改台账", path=str(path))
        data = wb.sheet(SHEET)
    try:
        table = find_table(str(path), data, COLUMNS)
    except InputError as exc:
        if exc.problems:
            raise
        missing = [c.name for c in COLUMNS if c.name in exc.message.rsplit("：", 1)[-1].split("、")]
        raise InputError("问题整改台账的表头有误，未导入任何数据", path=str(path),
                         problems=[Problem(f"缺少表头「{m}」（表头被修改或删除）", SHEET, HEADER_ROW, m) for m in missing]
                         or [Problem(exc.message, SHEET, HEADER_ROW)],
                         hint="请勿修改表头；请用随函下发的原表填写") from None
    unit_row, unit = header_cell(data, "单位编码")
    if unit != meta.get("unit"):
        problems.add(f"表头的单位编码被改为「{unit or ''}」，与下发时的「{meta.get('unit')}」不符（每份台账只能用于下发时的单位）",
                     SHEET, unit_row, "单位编码")
    refuse_merged(problems, data, table.header_row, table.columns)
    names = {idx: name for name, idx in table.columns.items()}
    rows: list[FeedbackRow] = []
    seen: dict[int, int] = {}
    for rownum, cells in table.rows:
        for i, c in enumerate(cells):  # a returned ledger is typed, never computed: every formula is refused
            if (c.formula or c.from_formula is not None) and i in names:
                problems.add(f"是公式（{c.from_formula or c.value}）：请直接填写内容，不要用公式", SHEET, rownum, names[i])
        if any((c.formula or c.from_formula is not None) for i, c in enumerate(cells) if i in names):
            continue
        r = RowReader(problems, SHEET, rownum, table, cells)
        if all(not norm_text(r.raw(col).value) for col in FILL):
            continue  # not reported this time (or a blank line)
        raw_id = unicodedata.normalize("NFKC", plain_text(r.raw("事项编号").value))
        if not _ID.match(raw_id):
            problems.add(f"「{raw_id}」不是事项编号（应为整数，如 12）" if raw_id else "不能为空（每行须有事项编号）",
                         SHEET, rownum, "事项编号")
            r.ok = False
        measures = r.text("整改措施", max_len=MAX_MEASURES)
        result = r.text("整改结果", max_len=MAX_MEASURES)
        responsible = r.text("责任人", max_len=100)
        done_on = r.date("完成时间", required=True)
        evidence = r.text("佐证材料", required=False, max_len=1000)
        if not r.ok or done_on is None:
            continue
        item_id = int(raw_id)
        if item_id in seen:
            problems.add(f"事项编号 {item_id} 与第 {seen[item_id]} 行重复（每项问题只填一行）", SHEET, rownum, "事项编号")
            continue
        seen[item_id] = rownum
        rows.append(FeedbackRow(rownum, item_id, measures, result, responsible, done_on, evidence))
    if not rows and not problems:
        problems.add("没有任何已填写的整改情况（整改措施等均为空）", SHEET, HEADER_ROW + 1, "整改措施")
    problems.raise_if_any("问题整改台账有错误，未导入任何数据")
    return FeedbackForm(meta, meta.get("unit", ""), rows, list(problems.notes))
