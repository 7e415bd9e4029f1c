"""The inspector pool sheet (检查人员): code, name, unit, group, role and the units served in, by header names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from djctl.errors import ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.xlsx import Column, Workbook, find_table

SHEET = "检查人员"
COLUMNS = (
    Column("人员编码", ("code", "编码", "inspector_code")),
    Column("姓名", ("name",)),
    Column("所在单位编码", ("unit", "unit_code", "所在单位", "单位编码"), required=False),
    Column("分组", ("group", "协作组"), required=False),
    Column("角色", ("role", "职责"), required=False),
    Column("曾任职单位", ("served", "近年任职单位"), required=False),
)
_SERVED = re.compile(r"^([A-Za-z0-9._-]+)\s*[:：]\s*(\d{4})$")
_SPLIT = re.compile(r"[；;，,、\s]+")


@dataclass(frozen=True)
class InspectorRow:
    row: int
    code: str
    name: str
    unit_code: str
    group: str
    role: str
    served: tuple[tuple[str, int], ...]  # (unit code, last year served)


def parse_served(text: str) -> tuple[tuple[str, int], ...]:
    """`U003:2022；U010:2019` -> (("U003", 2022), ("U010", 2019)); ValueError names the bad part."""
    out = []
    for part in (p for p in _SPLIT.split(text.strip()) if p):
        m = _SERVED.match(part)
        if not m:
            raise ValueError(f"「{part}」应写作 单位编码:离任年份，如 U003:2022，多个用；分隔")
        out.append((m.group(1), int(m.group(2))))
    return tuple(out)


def read_inspectors(path: Path) -> list[InspectorRow]:
    """Read and check the sheet 检查人员; raise InputError listing every problem."""
    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        data = wb.sheet(SHEET)
        table = find_table(str(path), data, COLUMNS)
    refuse_merged(problems, data, table.header_row, table.columns)
    rows: list[InspectorRow] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, SHEET, rownum, table, cells)
        code = r.code("人员编码")
        unit = r.code("所在单位编码", required=False) if "所在单位编码" in table.columns else ""
        served_text = r.text("曾任职单位", required=False) if "曾任职单位" in table.columns else ""
        try:
            served = parse_served(served_text)
        except ValueError as exc:
            problems.add(str(exc), SHEET, rownum, "曾任职单位")
            served = ()
        row = InspectorRow(rownum, code, r.text("姓名"), unit or "",
                           r.text("分组", required=False) if "分组" in table.columns else "",
                           r.text("角色", required=False) if "角色" in table.columns else "", served)
        if code and not re.fullmatch(r"[A-Za-z0-9._-]+", code):
            problems.add(f"人员编码「{code}」只能由字母、数字和 - _ . 组成", SHEET, rownum, "人员编码")
        if code and code in seen:
            problems.add(f"人员编码「{code}」与第 {seen[code]} 行重复", SHEET, rownum, "人员编码")
        elif code:
            seen[code] = rownum
        rows.append(row)
    if not rows:
        problems.add("没有任何检查人员", SHEET)
    problems.raise_if_any("检查人员名单有错误，未导入任何数据")
    return rows
