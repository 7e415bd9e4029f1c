"""The spot-check worksheet (抽查核查表): written per drawn unit, read back when the committee has filled it.

Layout (sheet 核查表): a title, a header block (单位编码, 单位名称, 月份, 抽签, 核查日期; each value right of its
label, found anywhere above the table, so worksheets of the earlier layout, labels from column A, still read), the instructions, then the
task table prefilled with the unit's stored self-scores. Only 核查得分, 是否虚假, 核查说明 and 核查人 are
unlocked; 核查得分 carries data validation (0 to 分值, at most one decimal) and 是否虚假 a 是/否 list. A very
hidden sheet carries the form kind, unit, month, the draw and self-report ids and a hash of the self-scores
as stored, so a returned sheet is matched to exactly what was checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from djctl.domain.limits import FORM_MAX_ROWS
from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.form_template import FormSpec, Validation, wrapped_heights, write_spec
from djctl.io.selfeval_form import HEADER_ROW, form_filename, header_cell, month_start
from djctl.io.xlsx import Column, Workbook, find_table, form_kind_cn, read_meta

SHEET = "核查表"
FORM_KIND = "check"
FILE_SUFFIX = "_核查表"
YES, NO = "是", "否"
COLUMNS = (
    Column("序号", ("no",), required=False),
    Column("任务编码", ("task_code", "code", "编码")),
    Column("任务名称", ("task", "name", "名称"), required=False),
    Column("分值", ("points",)),
    Column("自评得分", ("self_score",)),
    Column("自评说明", ("self_note", "完成情况说明"), required=False),
    Column("核查得分", ("verified", "verified_score", "核定得分")),
    Column("是否虚假", ("false", "虚假")),
    Column("核查说明", ("check_note",), required=False),
    Column("核查人", ("checker",), required=False),
    Column("问题类别", ("category", "类别"), required=False),  # for the problem list; older worksheets lack it
)
LETTERS = "ABCDEFGHIJK"
COL = {c.name: LETTERS[i] for i, c in enumerate(COLUMNS)}
FILL_COLUMNS = ("核查得分", "是否虚假", "核查说明", "核查人", "问题类别")
INSTRUCTIONS = ("填表说明：请逐项填写「核查得分」（0 到分值之间，最多 1 位小数，每项都要填写）；自评得分高于核查得分且"
                "属虚报的，在「是否虚假」填「是」（双倍扣分），不属虚报的填「否」，留空则按考核方案的容差规则认定；"
                "在「核查说明」写明依据，在「核查人」署名；认定虚假的任务将生成整改事项，可在「问题类别」选择问题所属方面（问题清单按此分类统计）。自评得分为单位报送的原值，请勿修改；请勿增删行、"
                "修改任务编码或分值、重命名工作表。「核查日期」填实际核查的日期（如 2024-04-08），默认为所核查月份的最后一天。")
DATE_LABEL = "核查日期"
META_KEYS = ("kind", "unit", "month", "draw_id", "self_report_id", "self_hash", "task_hash")


@dataclass(frozen=True)
class CheckFormTask:
    code: str
    name: str
    points: Decimal
    self_score: Decimal
    self_note: str = ""


def check_filename(month: str, unit_code: str, unit_name: str) -> str:
    """`2024-03_U005_名称_核查表.xlsx`."""
    return form_filename(month, unit_code, unit_name, FILE_SUFFIX)


def check_spec(*, unit_code: str, unit_name: str, month: str, month_label: str, draw_id: int, draw_label: str,
               self_report_id: int, self_hash: str, task_hash: str, tasks: list[CheckFormTask],
               check_day: date | None = None, checkers: str = "", categories: tuple[str, ...] = ()) -> FormSpec:
    """One drawn unit's worksheet as cells (value, style key): the layout both writers share (io/form_template)."""
    first, last = HEADER_ROW + 1, HEADER_ROW + len(tasks)
    v, pts = COL["核查得分"], COL["分值"]
    score_dv = Validation.of(f"{v}{first}:{v}{last}", type="custom", allow_blank=False, showErrorMessage=True,
                             formula1=f"AND(ISNUMBER({v}{first}),{v}{first}>=0,{v}{first}<={pts}{first},"
                                      f"ROUND({v}{first},1)={v}{first})",
                             errorTitle="核查得分无效", error="请填写 0 到分值之间的数，最多 1 位小数")
    f = COL["是否虚假"]
    flag_dv = Validation.of(f"{f}{first}:{f}{last}", type="list", formula1=f'"{YES},{NO}"', allow_blank=True,
                            showErrorMessage=True, errorTitle="是否虚假",
                            error="请选择「是」或「否」，或留空（按容差规则认定）")
    validations = [score_dv, flag_dv]
    cat = category_validation(categories, COL["问题类别"], first, last)
    if cat is not None:
        validations.append(cat)
    rows: list[list[Any]] = [
        [(f"{month_label}党建工作抽查核查表", "title")],
        # labels stand in columns wide enough for them (A, the 序号 column, is not): 单位编码/月份 in B with their
        # values in the wide C, 单位名称/抽签 in E with theirs in F, 核查日期 in H with the date in I. The empty
        # cells have a style so that openpyxl writes them (the template fills rows of a fixed shape)
        [(None, "bold"), ("单位编码", "bold"), (unit_code, None), (None, "bold"), ("单位名称", "bold"), (unit_name, None)],
        [(None, "bold"), ("月份", "bold"), (month, None), (None, "bold"), ("抽签", "bold"),
         (f"#{draw_id}（{draw_label}）", None), (None, "bold"), (DATE_LABEL, "bold"),
         (check_day.isoformat() if check_day else None, "unlocked")],
        [(INSTRUCTIONS, "wrap")],
        [],
        [(c.name, "header") for c in COLUMNS],
    ]
    for i, t in enumerate(tasks, 1):
        rows.append([(i, "cell"), (t.code, "cell"), (t.name, "cell_wrap"), (_num(t.points), "cell"),
                     (_num(t.self_score), "cell"), (t.self_note or None, "cell_wrap"),
                     *[((checkers or None) if c == "核查人" else None, "unlocked_wrap" if c == "核查说明" else "unlocked")
                       for c in FILL_COLUMNS]])
    meta = {"kind": FORM_KIND, "unit": unit_code, "month": month, "draw_id": str(draw_id),
            "self_report_id": str(self_report_id), "self_hash": self_hash, "task_hash": task_hash}
    widths = (6, 10, 40, 8, 10, 28, 10, 10, 36, 12, 12)
    heights = ((HEADER_ROW - 2, 45),) + wrapped_heights(rows[HEADER_ROW - 1:], widths, HEADER_ROW)
    return FormSpec(FORM_KIND, SHEET, widths, f"A{first}", tuple(validations), rows, meta,
                    merges=(f"A{HEADER_ROW - 2}:K{HEADER_ROW - 2}",), heights=heights, landscape=True)


def write_check_form(path: Path, *, unit_code: str, unit_name: str, month: str, month_label: str, draw_id: int,
                     draw_label: str, self_report_id: int, self_hash: str, task_hash: str,
                     tasks: list[CheckFormTask], check_day: date | None = None, checkers: str = "",
                     categories: tuple[str, ...] = ()) -> Path:
    """Write one drawn unit's worksheet from the template of its shape (io/form_template); file dates: the
    month's first day."""
    spec = check_spec(unit_code=unit_code, unit_name=unit_name, month=month, month_label=month_label,
                      draw_id=draw_id, draw_label=draw_label, self_report_id=self_report_id, self_hash=self_hash,
                      task_hash=task_hash, tasks=tasks, check_day=check_day, checkers=checkers,
                      categories=categories)
    write_spec(path, spec, month_start(month))
    return path


def category_validation(categories: tuple[str, ...], column: str, first: int, last: int) -> Validation | None:
    """The scheme's 问题类别 as a drop-down (blank allowed); none when the list does not fit Excel's
    255-character inline list (the import checks the words either way)."""
    if not categories or len(",".join(categories)) >= 250:
        return None
    return Validation.of(f"{column}{first}:{column}{last}", type="list", formula1='"' + ",".join(categories) + '"',
                         allow_blank=True, showErrorMessage=True, errorTitle="问题类别", error="请从列表中选择，或留空")


def category_choices(ws, categories: tuple[str, ...], column: str, first: int, last: int) -> None:
    """`category_validation` added to an openpyxl worksheet (the look-back worksheet)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    v = category_validation(categories, column, first, last)
    if v is None:
        return
    dv = DataValidation(**dict(v.kwargs))
    dv.add(v.sqref)
    ws.data_validations.append(dv)


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


# ---------------------------------------------------------------- reading


@dataclass
class CheckRow:
    row: int
    code: str
    points: Decimal | None
    self_score: Decimal | None
    verified: Decimal | None
    false_flag: bool | None
    note: str
    checker: str
    category: str = ""


@dataclass
class CheckForm:
    meta: dict[str, str]
    header_unit: str
    header_month: str
    rows: list[CheckRow]
    problems: ProblemList
    header_unit_row: int | None = None
    header_month_row: int | None = None
    check_day: date | None = None  # 核查日期 as filled in (None: left empty)


def _flag(r: RowReader) -> bool | None:
    """是 / 否 / empty (None: the scheme's tolerance rule decides); anything else is refused."""
    value = r.text("是否虚假", required=False, max_len=20)
    if not value:
        return None
    if value == YES:
        return True
    if value == NO:
        return False
    r.error("是否虚假", f"「{value}」无效，应填「{YES}」或「{NO}」（或留空，按容差规则认定）")
    return None


def read_check_form(path: Path) -> CheckForm:
    """Read a returned check worksheet; structural problems raise, value problems are collected."""
    problems = ProblemList(str(path))
    with Workbook(path, max_rows=FORM_MAX_ROWS) as wb:
        meta = read_meta(wb)
        if not meta:
            raise InputError("不是 djctl 生成的表格（缺少隐藏的校验信息）", path=str(path),
                             hint="请使用 djctl check forms 生成的原表填写，不要复制到新建的工作簿")
        if meta.get("kind") != FORM_KIND:
            raise InputError(f"表格类型不符：这是{form_kind_cn(meta.get('kind'))}，不是抽查核查表", path=str(path),
                             hint="自评表请用 djctl selfeval import 导入")
        data = wb.sheet(SHEET)
    table = find_table(str(path), data, COLUMNS)
    refuse_merged(problems, data, table.header_row, table.columns)
    rows: list[CheckRow] = []
    for rownum, cells in table.rows:
        r = RowReader(problems, SHEET, rownum, table, cells)
        code = r.code("任务编码", required=False)
        if not code:
            problems.add("不是任务行（没有任务编码）：请勿插入行或在表格下方填写内容", SHEET, rownum, "任务编码")
            continue
        pts = r.points("分值", max_decimals=2)
        self_score = r.points("自评得分", max_decimals=2)
        verified = r.points("核查得分", hi=pts)
        flag = _flag(r)
        note = r.text("核查说明", required=False, max_len=2000)
        checker = r.text("核查人", required=False, max_len=100)
        category = r.text("问题类别", required=False, max_len=50) if "问题类别" in table.columns else ""
        rows.append(CheckRow(rownum, code, pts, self_score, verified, flag, note, checker, category))
    unit_row, unit = header_cell(data, "单位编码")
    month_row, month = header_cell(data, "月份")
    return CheckForm({k: meta.get(k, "") for k in META_KEYS}, unit or "", month or "", rows, problems,
                     unit_row, month_row, _header_date(data, DATE_LABEL, problems))


def parse_day(value) -> date | None:
    """A date cell: a date, or text such as 2024-04-08, 2024/4/8, 2024年4月8日; None when empty. ValueError if bad."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    parts = text.split()[0].split("-") if text else []
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(value)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def _header_date(data, label: str, problems: ProblemList) -> date | None:
    """The date right of `label` in the header block (None when empty or the label is gone)."""
    for rownum, cells in data.rows:
        if rownum >= HEADER_ROW:
            break
        for i, c in enumerate(cells):
            if isinstance(c.value, str) and c.value.strip() == label:
                value = cells[i + 1].value if i + 1 < len(cells) else None
                try:
                    return parse_day(value)
                except ValueError:
                    problems.add(f"「{value}」不是有效日期（示例：2024-04-08）", SHEET, rownum, label)
                    return None
    return None
