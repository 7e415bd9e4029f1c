"""The democratic evaluation workbook (民主测评): sheet 民主测评, one row per unit, matched by header names.

Reading checks everything that needs no store: codes, whole non-negative counts (full-width digits
accepted), counts adding up to 参评人数, no all-zero rows, no duplicates, no formulas, no merged cells.
Whether a code is a unit active in the year is the service's check (it needs the store).
A row whose five count cells are all empty is not an error: it is reported as skipped (not evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.outfile import save_workbook
from djctl.io.xlsx import Column, Workbook, find_table, norm_text, read_meta

VOTE_SHEET = "民主测评"
LEVELS = ("好", "较好", "一般", "差")  # the four levels of DESIGN §3, in the order of the form
LEVEL_FIELDS = {"好": "good", "较好": "fairly_good", "一般": "average", "差": "poor"}
VOTERS = "参评人数"
VOTE_COLUMNS = (
    Column("单位编码", ("code", "unit_code", "单位代码")),
    Column("单位名称", ("name", "unit_name"), required=False),
    Column("好", ("good", "好票", "好票数")),
    Column("较好", ("fairly_good", "fairlygood", "较好票", "较好票数", "比较好")),
    Column("一般", ("average", "一般票", "一般票数")),
    Column("差", ("poor", "差票", "差票数", "较差")),
    Column(VOTERS, ("voters", "参评人数人", "参加测评人数", "测评人数", "有效票数"), required=False),
)


@dataclass(frozen=True)
class VoteRow:
    row: int
    code: str
    good: int
    fairly_good: int
    average: int
    poor: int
    voters: int | None

    def counts(self) -> dict[str, int]:
        """Counts keyed by the Chinese level names."""
        return {lv: getattr(self, LEVEL_FIELDS[lv]) for lv in LEVELS}


@dataclass
class VoteFile:
    rows: list[VoteRow] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, code) of rows with no counts at all
    meta: dict[str, str] = field(default_factory=dict)


EMPTY_COUNT = "不能为空（没有票请填 0）"


def _blank(cell: Any) -> bool:
    return cell.value is None or norm_text(cell.value) == ""


def read_votes(path: Path, year: int) -> VoteFile:
    """Read and check a votes workbook for `year`; raise InputError listing every problem."""
    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        meta = read_meta(wb)
        data = wb.sheet(VOTE_SHEET)
        table = find_table(str(path), data, VOTE_COLUMNS)
    kind = meta.get("kind", "")
    if kind and kind != "votes":
        raise InputError(f"这不是民主测评表（表内标记为「{kind}」）", path=str(path),
                         hint="用 djctl votes template 生成民主测评表")
    if meta.get("year") and meta["year"] != str(year):
        raise InputError(f"这是 {meta['year']} 年度的民主测评表，与 --year {year} 不符", path=str(path),
                         hint=f"请核对年度，或用 djctl votes template --year {year} 重新生成")
    refuse_merged(problems, data, table.header_row, table.columns)
    out = VoteFile(meta=meta)
    seen: dict[str, int] = {}
    count_columns = (*LEVELS, VOTERS)
    for rownum, cells in table.rows:
        r = RowReader(problems, VOTE_SHEET, rownum, table, cells)
        code = r.code("单位编码")
        if code and code in seen:
            problems.add(f"单位编码「{code}」与第 {seen[code]} 行重复", VOTE_SHEET, rownum, "单位编码")
        elif code:
            seen[code] = rownum
        if all(_blank(r.raw(c)) and not r.raw(c).formula for c in count_columns):
            if code:
                out.skipped.append((rownum, code))
            continue
        counts = {lv: r.count(lv, empty=EMPTY_COUNT) for lv in LEVELS}
        voters = None
        if not _blank(r.raw(VOTERS)) or r.raw(VOTERS).formula:
            voters = r.count(VOTERS, empty=EMPTY_COUNT)
        if any(v is None for v in counts.values()):
            continue
        total = sum(v for v in counts.values() if v is not None)
        if total == 0:
            problems.add("四档票数均为 0：没有测评票的单位请整行留空", VOTE_SHEET, rownum, "好")
            continue
        if voters is not None and voters != total:
            problems.add(f"好、较好、一般、差合计 {total} 票，与参评人数 {voters} 不符", VOTE_SHEET, rownum, VOTERS)
            continue
        if code:
            out.rows.append(VoteRow(rownum, code, counts["好"] or 0, counts["较好"] or 0, counts["一般"] or 0,
                                    counts["差"] or 0, voters))
    if not out.rows and not problems:
        problems.add("没有任何填写了票数的单位", VOTE_SHEET)
    problems.raise_if_any("民主测评表有错误，未导入任何数据")
    return out


def write_votes_template(path: Path, year: int, units: list[tuple[str, str]]) -> Path:
    """The form the committee fills after the evaluation meeting: one row per unit, counts unlocked."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import put, write_meta

    wb = OWorkbook()
    ws = wb.active
    ws.title = VOTE_SHEET
    bold = Font(bold=True)
    headers = [c.name for c in VOTE_COLUMNS]
    widths = [14, 36, 8, 8, 8, 8, 10]
    for i, (h, w) in enumerate(zip(headers, widths), 1):
        put(ws, 1, i, h, font=bold, alignment=Alignment(horizontal="center"))
        ws.column_dimensions[ws.cell(1, i).column_letter].width = w
    unlocked = Protection(locked=False)
    for r, (code, name) in enumerate(units, 2):
        put(ws, r, 1, code)
        put(ws, r, 2, name)
        for c in range(3, 8):
            put(ws, r, c, None, protection=unlocked, number_format="0")
    last = len(units) + 1
    if units:
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            showErrorMessage=True, errorTitle="票数无效", error="请填写不小于 0 的整数票数")
        dv.add(f"C2:G{last}")
        ws.add_data_validation(dv)
    ws.freeze_panes = "C2"
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # people may widen columns
    note = wb.create_sheet("填写说明")
    lines = [
        f"{year} 年度民主测评票数汇总表",
        "1. 每个单位填写「好」「较好」「一般」「差」四档的票数（不小于 0 的整数，没有票填 0）。",
        "2. 「参评人数」可不填；填写时须等于四档票数之和。",
        "3. 未组织测评的单位整行留空；不要增删单位行，不要修改单位编码，不要使用公式。",
        f"4. 填好后导入：djctl votes import 本文件.xlsx --year {year}",
    ]
    for i, text in enumerate(lines, 1):
        put(note, i, 1, text, font=bold if i == 1 else Font())
    note.column_dimensions["A"].width = 90
    write_meta(wb, {"kind": "votes", "year": str(year)})
    save_workbook(wb, path)
    return path
