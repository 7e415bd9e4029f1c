"""The accountability workbook (问责措施): one measure per row, matched by header names.

Reading checks the cells (codes, dates, 单位/书记, item numbers, no formulas, no merged cells). Whether the
unit exists, the measure is one of the scheme's words and the items belong to the unit is the service's check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from djctl.domain.problems import normalize_target
from djctl.io.cells import RowReader, open_list
from djctl.io.xlsx import Column

ACTIONS_SHEET = "问责措施"
ACTION_COLUMNS = (
    Column("单位编码", ("code", "unit_code", "单位代码")),
    Column("单位名称", ("name", "unit_name"), required=False),
    Column("措施", ("kind", "问责措施", "措施类型")),
    Column("对象", ("target", "问责对象"), required=False),
    Column("姓名", ("person", "书记姓名", "对象姓名"), required=False),
    Column("日期", ("date", "on_date", "实施日期")),
    Column("事由", ("reason", "问题", "原因")),
    Column("依据", ("basis", "文件依据")),
    Column("实施人", ("taken_by", "谈话人", "实施单位"), required=False),
    Column("整改事项编号", ("items", "整改事项", "关联整改事项"), required=False),
)
_ITEM_SEP = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class ActionRow:
    row: int
    code: str
    kind: str
    target: str  # unit / secretary
    person: str
    on_date: date
    reason: str
    basis: str
    taken_by: str
    items: tuple[int, ...]


def read_actions(path: Path) -> tuple[str, list[ActionRow]]:
    """Read and check an accountability workbook: (sheet name, rows); raise InputError listing every problem."""
    sheet, _data, table, problems = open_list(path, ACTIONS_SHEET, ACTION_COLUMNS, "actions", "问责措施表", "用 djctl action template 生成问责措施表")
    rows: list[ActionRow] = []
    for rownum, cells in table.rows:
        r = RowReader(problems, sheet, rownum, table, cells)
        code = r.code("单位编码")
        measure = r.text("措施", max_len=20)
        target_text = r.text("对象", required=False, max_len=10) or "单位"
        try:
            target = normalize_target(target_text)
        except ValueError as exc:
            problems.add(str(exc), sheet, rownum, "对象")
            target = ""
        person = r.text("姓名", required=False, max_len=50)
        on_date = r.date("日期", required=True)
        reason = r.text("事由", max_len=1000)
        basis = r.text("依据", max_len=500)
        taken_by = r.text("实施人", required=False, max_len=100)
        items_text = r.text("整改事项编号", required=False, max_len=500)
        items: list[int] = []
        for part in filter(None, _ITEM_SEP.split(items_text)):
            if part.isdigit() and len(part) <= 9:
                items.append(int(part))
            else:
                problems.add(f"整改事项编号「{part}」不是编号（多个编号用顿号或逗号隔开，如 3、15）", sheet, rownum,
                             "整改事项编号")
        if r.ok and code and measure and target and on_date is not None:
            rows.append(ActionRow(rownum, code, measure, target, person, on_date, reason, basis, taken_by,
                                  tuple(sorted(set(items)))))
    if not rows and not problems:
        problems.add("没有任何问责措施", sheet)
    problems.raise_if_any("问责措施表有错误，未导入任何数据")
    return sheet, rows


def write_actions_template(path: Path, kinds: tuple[str, ...], rows: list[tuple] | None = None) -> Path:
    """An empty (or, for the demo, filled) accountability workbook with lists and a hidden meta sheet."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import put, write_meta

    wb = OWorkbook()
    ws = wb.active
    ws.title = ACTIONS_SHEET
    bold = Font(bold=True)
    widths = [12, 30, 12, 8, 10, 12, 40, 30, 16, 14]
    for i, (c, w) in enumerate(zip(ACTION_COLUMNS, widths), 1):
        put(ws, 1, i, c.name, font=bold)
        ws.column_dimensions[ws.cell(1, i).column_letter].width = w
    for r, values in enumerate(rows or [], 2):
        for c, v in enumerate(values, 1):
            put(ws, r, c, v)
    ws.freeze_panes = "A2"
    dv_kind = DataValidation(type="list", formula1='"' + ",".join(kinds) + '"', allow_blank=False,
                             showErrorMessage=True, error="请从列表中选择问责措施（见考核方案 accountability.kinds）")
    dv_kind.add("C2:C5000")
    dv_target = DataValidation(type="list", formula1='"单位,书记"', allow_blank=True, showErrorMessage=True,
                               error="请选择「单位」或「书记」")
    dv_target.add("D2:D5000")
    dv_date = DataValidation(type="date", operator="between", formula1="36526", formula2="73051", showErrorMessage=True,
                             error="请填写日期，如 2024-05-20")
    dv_date.add("F2:F5000")
    for dv in (dv_kind, dv_target, dv_date):
        ws.add_data_validation(dv)
    note = wb.create_sheet("填写说明")
    lines = [
        "问责措施填写说明",
        "1. 每行一项措施：单位编码、措施（" + "、".join(kinds) + "）、对象（单位或书记）、日期、事由、依据。",
        "2. 对象为「书记」时，姓名可不填，默认取名册中该单位的书记。",
        "3. 「整改事项编号」填本措施针对的整改事项编号，多个用顿号隔开；须是该单位或其所属支部的事项。",
        "4. 整份文件全部通过才导入；导入：djctl action import 本文件.xlsx",
    ]
    for i, text in enumerate(lines, 1):
        put(note, i, 1, text, font=bold if i == 1 else Font())
    note.column_dimensions["A"].width = 100
    write_meta(wb, {"kind": "actions"})
    path.parent.mkdir(parents=True, exist_ok=True)
    from djctl.io.outfile import save_workbook

    save_workbook(wb, path)
    return path
