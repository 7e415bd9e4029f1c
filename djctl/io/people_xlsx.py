"""Workbooks of issue 19: the 述职评议 form, the business-score workbook (业务工作得分), the staff roster and the
staff monthly form. Matched by header names; every problem names sheet, row and column; formulas,
merged cells and duplicates refused. Whether a code is in the store is the service's check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.xlsx import Column, Workbook, find_table, norm_text, read_meta

DEBRIEF_SHEET = "述职评议"
BUSINESS_SHEET = "业务工作得分"
ROSTER_SHEET = "工委干部"
STAFF_SHEET = "月度考评"
LEVELS = ("好", "较好", "一般", "差")
LEVEL_FIELDS = {"好": "good", "较好": "fairly_good", "一般": "average", "差": "poor"}
ORG_LEVELS = ("机关党委", "党总支", "党支部")

DEBRIEF_COLUMNS = (
    Column("组织编码", ("code", "org_code", "单位编码", "支部编码")),
    Column("组织名称", ("name", "org_name"), required=False),
    Column("层级", ("level", "组织类型"), required=False),
    Column("书记", ("secretary", "书记姓名", "姓名")),
    Column("述职日期", ("reported_on", "date", "日期")),
    Column("好", ("good", "好票")), Column("较好", ("fairly_good", "较好票", "比较好")),
    Column("一般", ("average", "一般票")), Column("差", ("poor", "差票", "较差")),
    Column("参评人数", ("voters", "测评人数", "有效票数")),
    Column("备注", ("note", "说明"), required=False),
)
BUSINESS_COLUMNS = (
    Column("单位编码", ("code", "unit_code", "单位代码")),
    Column("单位名称", ("name",), required=False),
    Column("业务工作得分", ("business", "business_score", "业务得分", "目标绩效得分")),
)
ROSTER_COLUMNS = (
    Column("人员编码", ("code", "staff_code", "编码", "工号")),
    Column("姓名", ("name",)),
    Column("职务", ("position", "职务职级")),
    Column("处室", ("department", "部门", "科室")),
)
STAFF_COLUMNS = (
    Column("人员编码", ("code", "staff_code", "编码", "工号")),
    Column("姓名", ("name",), required=False),
    Column("工作实绩", ("work", "performance")),
    Column("作风表现", ("conduct", "style")),
    Column("综合测评", ("overall", "evaluation")),
    Column("备注", ("note",), required=False),
)


@dataclass(frozen=True)
class DebriefRow:
    row: int
    code: str
    secretary: str
    reported_on: date
    votes: dict[str, int]
    voters: int
    note: str


@dataclass(frozen=True)
class StaffRow:
    row: int
    code: str
    name: str
    position: str
    department: str


@dataclass(frozen=True)
class StaffScoreRow:
    row: int
    code: str
    scores: dict[str, Decimal]
    note: str


@dataclass
class Parsed:
    rows: list[Any] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, code) left blank: not reported
    meta: dict[str, str] = field(default_factory=dict)


def _open(path: Path, sheet: str, columns: tuple[Column, ...], kind: str, period_key: str | None, period: str,
          what: str, template_cmd: str):
    with Workbook(path) as wb:
        meta = read_meta(wb)
        data = wb.sheet(sheet)
        table = find_table(str(path), data, columns)
    if meta.get("kind") and meta["kind"] != kind:
        raise InputError(f"这不是{what}（表内标记为「{meta['kind']}」）", path=str(path), hint=f"用 {template_cmd} 生成")
    if period_key and meta.get(period_key) and meta[period_key] != period:
        raise InputError(f"这是 {meta[period_key]} 的{what}，与指定的 {period} 不符", path=str(path),
                         hint=f"请核对期间，或用 {template_cmd} 重新生成")
    problems = ProblemList(str(path))
    refuse_merged(problems, data, table.header_row, table.columns)
    return meta, table, problems


def _blank(r: RowReader, column: str) -> bool:
    c = r.raw(column)
    return not c.formula and (c.value is None or norm_text(c.value) == "")


def _dup(problems: ProblemList, seen: dict[str, int], code: str, sheet: str, row: int, column: str) -> bool:
    if code and code in seen:
        problems.add(f"编码「{code}」与第 {seen[code]} 行重复", sheet, row, column)
        return True
    if code:
        seen[code] = row
    return False


def read_debrief(path: Path, year: int) -> Parsed:
    """The 述职评议 form of `year`: who reported, when, and the votes (adding up to 参评人数)."""
    meta, table, problems = _open(path, DEBRIEF_SHEET, DEBRIEF_COLUMNS, "debrief", "year", str(year), "述职评议表",
                                  f"djctl debrief template --year {year}")
    out = Parsed(meta=meta)
    seen: dict[str, int] = {}
    filled = ("述职日期", *LEVELS, "参评人数")
    for rownum, cells in table.rows:
        r = RowReader(problems, DEBRIEF_SHEET, rownum, table, cells)
        code = r.code("组织编码")
        if _dup(problems, seen, code, DEBRIEF_SHEET, rownum, "组织编码"):
            continue
        if all(_blank(r, c) for c in filled):
            if code:
                out.skipped.append((rownum, code))
            continue
        secretary = r.text("书记", max_len=40)
        day = r.date("述职日期", required=True)
        if day is not None and not date(year, 1, 1) <= day <= date(year + 1, 6, 30):
            r.error("述职日期", f"{day.isoformat()} 不在 {year} 年度述职评议的时间内（{year}年1月1日至{year + 1}年6月30日）")
        votes = {lv: r.count(lv) for lv in LEVELS}
        voters = r.count("参评人数")
        note = r.text("备注", required=False, max_len=500)
        if not r.ok or any(v is None for v in votes.values()) or voters is None:
            continue
        total = sum(votes.values())
        if total == 0:
            problems.add("四档票数均为 0：未评议的请整行留空", DEBRIEF_SHEET, rownum, "好")
            continue
        if total != voters:
            problems.add(f"好、较好、一般、差合计 {total} 票，与参评人数 {voters} 不符", DEBRIEF_SHEET, rownum, "参评人数")
            continue
        out.rows.append(DebriefRow(rownum, code, secretary, day, votes, voters, note))
    if not out.rows and not problems:
        problems.add("没有任何填写了述职日期和票数的行", DEBRIEF_SHEET)
    problems.raise_if_any("述职评议表有错误，未导入任何数据")
    return out


def read_business(path: Path) -> Parsed:
    """The business-score workbook the 目标绩效 office keeps: one row per unit, a score ≥ 0 (≤ 2 decimals)."""
    meta, table, problems = _open(path, BUSINESS_SHEET, BUSINESS_COLUMNS, "business", None, "", "业务工作得分表",
                                  "djctl combined --business-template")
    out = Parsed(meta=meta)
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, BUSINESS_SHEET, rownum, table, cells)
        code = r.code("单位编码")
        if _dup(problems, seen, code, BUSINESS_SHEET, rownum, "单位编码"):
            continue
        score = r.points("业务工作得分", max_decimals=2)
        if code and score is not None:
            out.rows.append((rownum, code, score))
    if not out.rows and not problems:
        problems.add("没有任何单位的业务工作得分", BUSINESS_SHEET)
    problems.raise_if_any("业务工作得分表有错误，未使用")
    return out


def read_staff_roster(path: Path) -> Parsed:
    meta, table, problems = _open(path, ROSTER_SHEET, ROSTER_COLUMNS, "staff_roster", None, "", "工委干部名册",
                                  "djctl staff roster-template")
    out = Parsed(meta=meta)
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, ROSTER_SHEET, rownum, table, cells)
        code = r.code("人员编码")
        if _dup(problems, seen, code, ROSTER_SHEET, rownum, "人员编码"):
            continue
        name, position, dept = r.text("姓名", max_len=40), r.text("职务", max_len=60), r.text("处室", max_len=60)
        if r.ok:
            out.rows.append(StaffRow(rownum, code, name, position, dept))
    if not out.rows and not problems:
        problems.add("名册中没有任何人员", ROSTER_SHEET)
    problems.raise_if_any("工委干部名册有错误，未导入任何数据")
    return out


def read_staff_scores(path: Path, month: str, max_points: Decimal) -> Parsed:
    """The staff monthly form: three dimension scores per person (0 to max, at most 1 decimal)."""
    meta, table, problems = _open(path, STAFF_SHEET, STAFF_COLUMNS, "staff", "month", month, "工委干部月度考评表",
                                  f"djctl staff template --month {month}")
    out = Parsed(meta=meta)
    seen: dict[str, int] = {}
    dims = ("工作实绩", "作风表现", "综合测评")
    for rownum, cells in table.rows:
        r = RowReader(problems, STAFF_SHEET, rownum, table, cells)
        code = r.code("人员编码")
        if _dup(problems, seen, code, STAFF_SHEET, rownum, "人员编码"):
            continue
        if all(_blank(r, c) for c in dims):
            if code:
                out.skipped.append((rownum, code))
            continue
        scores = {d: r.points(d, hi=max_points) for d in dims}
        note = r.text("备注", required=False, max_len=500)
        if r.ok and code:
            out.rows.append(StaffScoreRow(rownum, code, scores, note))  # type: ignore[arg-type]
    if not out.rows and not problems:
        problems.add("没有任何人员的考评分数", STAFF_SHEET)
    problems.raise_if_any("工委干部月度考评表有错误，未导入任何数据")
    return out


# ------------------------------------------------------------------ writing forms


def write_form(path: Path, sheet: str, headers: list[str], widths: list[int], rows: list[list[Any]],
               fill_from: int, meta: dict[str, str], notes: list[str], *, whole: bool = False,
               max_value: Decimal | None = None) -> Path:
    """A protected form: the first `fill_from - 1` columns locked (codes, names), the rest to fill in.

    `whole`: counts (whole numbers ≥ 0) validated; `max_value`: points 0..max validated."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import put, write_meta

    wb = OWorkbook()
    ws = wb.active
    ws.title = sheet
    bold = Font(bold=True)
    for i, (h, w) in enumerate(zip(headers, widths), 1):
        put(ws, 1, i, h, font=bold, alignment=Alignment(horizontal="center"))
        ws.column_dimensions[get_column_letter(i)].width = w
    unlocked = Protection(locked=False)
    for r, row in enumerate(rows, 2):
        for c in range(1, len(headers) + 1):
            value = row[c - 1] if c - 1 < len(row) else None
            if c >= fill_from:
                put(ws, r, c, value, protection=unlocked)
            else:
                put(ws, r, c, value)
    last = len(rows) + 1
    if rows and (whole or max_value is not None):
        cols = [i for i, h in enumerate(headers, 1) if i >= fill_from and h in (*LEVELS, "参评人数", "工作实绩",
                                                                              "作风表现", "综合测评")]
        if whole:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                showErrorMessage=True, errorTitle="票数无效", error="请填写不小于 0 的整数")
        else:
            dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=str(max_value),
                                allow_blank=True, showErrorMessage=True, errorTitle="分数无效",
                                error=f"请填写 0 到 {max_value} 之间的分数（最多 1 位小数）")
        for c in cols:
            letter = get_column_letter(c)
            dv.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(2, fill_from).coordinate
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    note = wb.create_sheet("填写说明")
    for i, text in enumerate(notes, 1):
        put(note, i, 1, text, font=bold if i == 1 else Font())
    note.column_dimensions["A"].width = 100
    write_meta(wb, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    from djctl.io.outfile import save_workbook

    save_workbook(wb, path)
    return path


def _width(value: Any) -> int:
    text = "" if value is None else (f"{value:.2f}" if isinstance(value, Decimal) else str(value))
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_export(path: Path, sheet: str, headers: list[str], rows: list[list[Any]], *, title: str = "") -> Path:
    """A table for another office: header row 1, one row per record, numbers as numbers shown with two decimals
    (Decimal cells) or as whole numbers (int), columns as wide as their content, printed landscape one page wide.
    Strings are written as text, never as formulas."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    from djctl.io.xlsx import put

    wb = OWorkbook()
    ws = wb.active
    ws.title = sheet[:31]
    bold = Font(bold=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, h in enumerate(headers, 1):
        put(ws, 1, c, h, font=bold, border=box, alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
    for r, row in enumerate(rows, 2):
        for c, v in enumerate(row, 1):
            style: dict[str, Any] = {"border": box}
            if isinstance(v, Decimal):
                style["number_format"] = "0.00"
            elif isinstance(v, int) and not isinstance(v, bool):
                style["number_format"] = "0"
                style["alignment"] = Alignment(horizontal="center")
            put(ws, r, c, v, **style)
    for c, h in enumerate(headers, 1):
        content = max([_width(row[c - 1]) for row in rows if c - 1 < len(row)] or [0])
        ws.column_dimensions[get_column_letter(c)].width = max(8, min(48, max(content, min(_width(h), 16)) + 2))
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "C2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title:
        ws.oddHeader.center.text = title
    path.parent.mkdir(parents=True, exist_ok=True)
    from djctl.io.outfile import save_workbook

    save_workbook(wb, path)
    return path
