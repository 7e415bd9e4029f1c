"""The self-assessment workbook (月度自评表): written per unit, read back when the unit returns it.

Layout (sheet 自评表): a title, a header block (单位编码, 单位名称, 月份; each value right of its label, which
the reader looks for anywhere above the table, so forms of the earlier layout, labels in column A, still
read), the instructions, then the task table. A very hidden sheet carries the form kind, unit, month and the task-list hash. Only the score and
note cells are unlocked; the score cells carry data validation (0 to 分值, at most one decimal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from djctl.domain.limits import FORM_MAX_ROWS
from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.form_template import FormSpec, Validation, wrapped_heights, write_spec
from djctl.io.outfile import safe_part
from djctl.io.xlsx import Column, SheetData, Workbook, find_table, form_kind_cn, norm_text, read_meta

SHEET = "自评表"
FORM_KIND = "selfeval"
HEADER_ROW = 6
COLUMNS = (
    Column("序号", ("no",), required=False),
    Column("任务编码", ("task_code", "code")),
    Column("任务名称", ("task", "name"), required=False),
    Column("过硬维度", ("dimension",), required=False),
    Column("分值", ("points",)),
    Column("自评得分", ("self_score", "score", "得分")),
    Column("完成情况说明", ("note", "说明", "完成情况")),
)
INSTRUCTIONS = ("填表说明：请在「自评得分」列逐项填写 0 到分值之间的分数（最多 1 位小数，0 分也要填写），"
                "在「完成情况说明」列简述完成情况；请勿增删行、修改任务编码或分值、重命名工作表。")


@dataclass(frozen=True)
class FormTask:
    code: str
    name: str
    dimension: str
    points: Decimal


@dataclass
class FormMeta:
    kind: str
    unit: str
    month: str
    task_hash: str


def form_filename(month: str, unit_code: str, unit_name: str, suffix: str = "") -> str:
    """`2024-03_U005_名称.xlsx`, every part sanitised (io/outfile.safe_part): no separators, controls, bidi or
    zero-width characters, no leading dots; callers also check the result lands inside their folder."""
    name = safe_part(unit_name) if unit_name.strip() else safe_part(unit_code)
    return f"{safe_part(month)}_{safe_part(unit_code)}_{name}{suffix}.xlsx"


def form_spec(*, unit_code: str, unit_name: str, month: str, month_label: str, task_hash: str,
              tasks: list[FormTask], title_suffix: str = "党建工作月度自评表",
              scores: Mapping[str, tuple[Decimal, str]] | None = None) -> FormSpec:
    """One unit's form as cells (value, style key): the layout both writers share (io/form_template)."""
    first, last = HEADER_ROW + 1, HEADER_ROW + len(tasks)
    dv = Validation.of(f"F{first}:F{last}", type="custom", allow_blank=False, showErrorMessage=True,
                       formula1=f"AND(ISNUMBER(F{first}),F{first}>=0,F{first}<=E{first},ROUND(F{first},1)=F{first})",
                       errorTitle="自评得分无效", error="请填写 0 到分值之间的数，最多 1 位小数")
    rows: list[list[Any]] = [
        [(f"{month_label}{title_suffix}", "title")],
        # labels stand in the columns wide enough for them (A, the 序号 column, is not): 单位编码 and 月份 in B
        # with their values in the wide C, 单位名称 in D with the name running on over E to G. The empty A cell
        # has a style so that openpyxl writes it (the template fills rows of a fixed shape)
        [(None, "bold"), ("单位编码", "bold"), (unit_code, None), ("单位名称", "bold"), (unit_name, None)],
        [(None, "bold"), ("月份", "bold"), (month, None)],
        [(INSTRUCTIONS, "wrap")],
        [],
        [(c.name, "header") for c in COLUMNS],
    ]
    for i, t in enumerate(tasks, 1):
        score, note = (scores or {}).get(t.code, (None, None))
        rows.append([(i, "cell"), (t.code, "cell"), (t.name, "cell_wrap"), (t.dimension, "cell"), (_num(t.points), "cell"),
                     (None if score is None else _num(Decimal(score)), "unlocked"), (note, "unlocked_wrap")])
    widths = (6, 10, 48, 10, 8, 10, 40)
    heights = ((HEADER_ROW - 2, 45),) + wrapped_heights(rows[HEADER_ROW - 1:], widths, HEADER_ROW)
    return FormSpec(FORM_KIND, SHEET, widths, f"A{first}", (dv,), rows,
                    {"kind": FORM_KIND, "unit": unit_code, "month": month, "task_hash": task_hash},
                    merges=(f"A{HEADER_ROW - 2}:G{HEADER_ROW - 2}",), heights=heights, landscape=True)


def write_form(path: Path, *, unit_code: str, unit_name: str, month: str, month_label: str, task_hash: str,
               tasks: list[FormTask], title_suffix: str = "党建工作月度自评表",
               scores: Mapping[str, tuple[Decimal, str]] | None = None) -> Path:
    """Write one unit's form from the template of its shape (rendered once a process, io/form_template).
    `scores` (task code -> (self score, note)) pre-fills the cells a unit fills in, for demos and benchmarks
    that need returned forms; without it the cells are left empty. Zip and document dates: the month's
    first day (the same input gives the same bytes)."""
    spec = form_spec(unit_code=unit_code, unit_name=unit_name, month=month, month_label=month_label,
                     task_hash=task_hash, tasks=tasks, title_suffix=title_suffix, scores=scores)
    write_spec(path, spec, month_start(month))
    return path


def month_start(month: str) -> date:
    """The first day of a `YYYY-MM` month (a form's file date); 1980-01-01 for anything else."""
    try:
        return date(int(month[:4]), int(month[5:7]), 1)
    except (ValueError, IndexError):
        return date(1980, 1, 1)


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def header_value(data: SheetData, label: str) -> str | None:
    """The value right of a label in the header block (above the task table)."""
    return header_cell(data, label)[1]


def header_cell(data: SheetData, label: str) -> tuple[int | None, str | None]:
    """(row, value) of the cell right of a label in the header block; (None, None) if the label is gone."""
    for rownum, cells in data.rows:
        if rownum >= HEADER_ROW:
            break
        for i, c in enumerate(cells):
            if norm_text(c.value) == label:
                return rownum, norm_text(cells[i + 1].value) if i + 1 < len(cells) else ""
    return None, None


@dataclass
class ReturnedRow:
    row: int
    code: str
    points: Decimal | None
    score: Decimal | None
    note: str


@dataclass
class ReturnedForm:
    meta: FormMeta
    header_unit: str
    header_month: str
    rows: list[ReturnedRow]
    problems: ProblemList
    extra: dict[str, Any]
    header_unit_row: int | None = None   # where the header values were found, for error positions
    header_month_row: int | None = None


def read_form(path: Path, *, kind: str = FORM_KIND, sheet: str = SHEET, columns: tuple[Column, ...] = COLUMNS,
              score_column: str = "自评得分", note_column: str = "完成情况说明",
              extra_reader: Any = None) -> ReturnedForm:
    """Read a returned form; structural problems raise, value problems are collected in `problems`."""
    problems = ProblemList(str(path))
    with Workbook(path, max_rows=FORM_MAX_ROWS) as wb:
        meta = read_meta(wb)
        if not meta:
            raise InputError("不是 djctl 生成的表格（缺少隐藏的校验信息）", path=str(path),
                             hint="请使用 djctl 下发的原表填写，不要复制到新建的工作簿")
        if meta.get("kind") != kind:
            raise InputError(f"表格类型不符：这是{form_kind_cn(meta.get('kind'))}，不是{form_kind_cn(kind)}", path=str(path))
        data = wb.sheet(sheet)
    fm = FormMeta(meta.get("kind", ""), meta.get("unit", ""), meta.get("month", ""), meta.get("task_hash", ""))
    table = find_table(str(path), data, columns)
    refuse_merged(problems, data, table.header_row, table.columns)
    rows: list[ReturnedRow] = []
    extra: dict[str, Any] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, sheet, rownum, table, cells)
        code = r.code("任务编码", required=False)
        if not code:
            problems.add("不是任务行（没有任务编码）：请勿插入行或在表格下方填写内容", sheet, rownum, "任务编码")
            continue
        pts = r.points("分值", max_decimals=2)
        hi = pts if pts is not None else None
        score = r.points(score_column, hi=hi)
        note = r.text(note_column, required=False, max_len=2000)
        rows.append(ReturnedRow(rownum, code, pts, score, note))
        if extra_reader is not None:
            extra[code] = extra_reader(r)
    unit_row, unit = header_cell(data, "单位编码")
    month_row, month = header_cell(data, "月份")
    return ReturnedForm(fm, unit or "", month or "", rows, problems, extra, unit_row, month_row)
