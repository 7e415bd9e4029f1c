"""The bonus/deduction workbook (加减分项): one item per row, matched by header names.

Reading checks the cells (codes, years, 加分/减分, points with at most one decimal, 是/否, no formulas,
no merged cells). Whether the unit, the year's scheme and the item's rules hold is the service's check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from djctl.io.cells import RowReader, open_list
from djctl.io.outfile import save_workbook
from djctl.io.xlsx import Column

ADJUST_SHEET = "加减分项"
KINDS_CN = {"bonus": "加分", "deduction": "减分"}
_KIND_WORDS = {"加分": "bonus", "加分项": "bonus", "bonus": "bonus", "+": "bonus",
               "减分": "deduction", "减分项": "deduction", "扣分": "deduction", "deduction": "deduction", "-": "deduction"}
ADJUST_COLUMNS = (
    Column("单位编码", ("code", "unit_code", "单位代码")),
    Column("单位名称", ("name", "unit_name"), required=False),
    Column("年度", ("year", "考核年度")),
    Column("类型", ("kind", "type", "加减分类型", "加分减分")),
    Column("分值", ("points", "分数")),
    Column("事由", ("reason", "事项", "加减分事由")),
    Column("依据", ("basis", "文件依据", "依据文件")),
    Column("一票否决", ("veto",), required=False),
)


@dataclass(frozen=True)
class AdjustRow:
    row: int
    code: str
    year: int
    kind: str  # bonus / deduction
    points: Decimal
    reason: str
    basis: str
    veto: bool


def normalize_kind(value: str) -> str:
    kind = _KIND_WORDS.get(value.strip().lower())
    if kind is None:
        raise ValueError(value)
    return kind


def read_adjustments(path: Path) -> tuple[str, list[AdjustRow]]:
    """Read and check an adjustments workbook: (sheet name, rows); raise InputError listing every problem."""
    sheet, _data, table, problems = open_list(path, ADJUST_SHEET, ADJUST_COLUMNS, "adjust", "加减分项表", "用 djctl adjust template 生成加减分项表")
    rows: list[AdjustRow] = []
    for rownum, cells in table.rows:
        r = RowReader(problems, sheet, rownum, table, cells)
        code = r.code("单位编码")
        year = r.count("年度")
        if year is not None and not 2000 <= year <= 2100:
            problems.add(f"年度「{year}」无效（应为如 2024 的四位年份）", sheet, rownum, "年度")
            year = None
        kind_ = r.choice("类型", ("加分", "减分"), normalize=normalize_kind)
        points = r.points("分值", max_decimals=1)
        reason = r.text("事由", max_len=500)
        basis = r.text("依据", max_len=500)
        veto = r.yes_no("一票否决")
        if r.ok and code and year is not None and kind_ and points is not None:
            rows.append(AdjustRow(rownum, code, year, kind_, points, reason, basis, bool(veto)))
    if not rows and not problems:
        problems.add("没有任何加减分项", sheet)
    problems.raise_if_any("加减分项表有错误，未导入任何数据")
    return sheet, rows


def write_adjust_template(path: Path, rows: list[tuple] | None = None) -> Path:
    """An empty (or, for the demo, filled) adjustments workbook with validation and a hidden meta sheet."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import put, write_meta

    wb = OWorkbook()
    ws = wb.active
    ws.title = ADJUST_SHEET
    bold = Font(bold=True)
    widths = [12, 30, 8, 8, 8, 40, 30, 10]
    for i, (c, w) in enumerate(zip(ADJUST_COLUMNS, widths), 1):
        put(ws, 1, i, c.name, font=bold)
        ws.column_dimensions[ws.cell(1, i).column_letter].width = w
    for r, values in enumerate(rows or [], 2):
        for c, v in enumerate(values, 1):
            put(ws, r, c, v)
    ws.freeze_panes = "A2"
    dv_kind = DataValidation(type="list", formula1='"加分,减分"', allow_blank=False, showErrorMessage=True,
                             error="请选择「加分」或「减分」")
    dv_kind.add("D2:D5000")
    dv_points = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", showErrorMessage=True,
                               error="分值应在 0 到 100 之间，最多一位小数")
    dv_points.add("E2:E5000")
    dv_year = DataValidation(type="whole", operator="between", formula1="2000", formula2="2100", showErrorMessage=True,
                             error="请填写四位年份，如 2024")
    dv_year.add("C2:C5000")
    dv_veto = DataValidation(type="list", formula1='"是,否"', allow_blank=True, showErrorMessage=True,
                             error="请选择「是」或「否」")
    dv_veto.add("H2:H5000")
    for dv in (dv_kind, dv_points, dv_year, dv_veto):
        ws.add_data_validation(dv)
    note = wb.create_sheet("填写说明")
    lines = [
        "加减分项填写说明",
        "1. 每行一项：单位编码、年度、类型（加分/减分）、分值（大于 0，最多一位小数）、事由、依据（文件文号等）。",
        "2. 「一票否决」填「是」表示该单位年度考核等次直接定为「差」；一票否决项须为减分项，分值可以为 0。",
        "3. 年度加分、减分分别按考核方案的封顶分值（annual.bonus_cap / annual.deduction_cap）计入年度总分。",
        "4. 整份文件全部通过才导入；导入：djctl adjust import 本文件.xlsx",
    ]
    for i, text in enumerate(lines, 1):
        put(note, i, 1, text, font=bold if i == 1 else Font())
    note.column_dimensions["A"].width = 100
    write_meta(wb, {"kind": "adjust"})
    save_workbook(wb, path)
    return path
