"""The roster workbook (单位名册): sheets 单位 and 支部, matched by header names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from djctl.domain.scheme import ORG_KINDS
from djctl.domain.tiers import TIERS, normalize_tier
from djctl.errors import ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.xlsx import Column, Workbook, find_table

UNIT_SHEET, BRANCH_SHEET = "单位", "支部"
UNIT_COLUMNS = (
    Column("单位编码", ("code", "unit_code", "单位代码")),
    Column("单位名称", ("name", "unit_name")),
    Column("组织类型", ("kind", "type", "党组织类型")),
    Column("分组", ("group", "协作组", "类别"), required=False),
    Column("书记", ("secretary", "党组织书记"), required=False),
    Column("党员人数", ("members", "党员数")),
    Column("启用日期", ("active_from", "成立日期"), required=False),
    Column("撤销日期", ("active_to",), required=False),
)
BRANCH_COLUMNS = (
    Column("支部编码", ("code", "branch_code", "支部代码")),
    Column("支部名称", ("name", "branch_name")),
    Column("所属单位编码", ("unit", "unit_code", "单位编码")),
    Column("党员人数", ("members", "党员数")),
    Column("当前等次", ("tier", "等次"), required=False),
    Column("评定日期", ("tier_date", "定级日期"), required=False),
)


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    group: str
    secretary: str
    members: int
    active_from: date | None
    active_to: date | None


@dataclass(frozen=True)
class BranchRow:
    row: int
    code: str
    name: str
    unit_code: str
    members: int
    tier: str
    tier_date: date | None


def read_roster(path: Path) -> tuple[list[UnitRow], list[BranchRow]]:
    """Read and check a roster workbook; raise InputError listing every problem."""
    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        units_data = wb.sheet(UNIT_SHEET)
        branch_data = wb.sheet(BRANCH_SHEET) if wb.has_sheet(BRANCH_SHEET) else None
        unit_table = find_table(str(path), units_data, UNIT_COLUMNS)
        branch_table = find_table(str(path), branch_data, BRANCH_COLUMNS) if branch_data else None
    refuse_merged(problems, units_data, unit_table.header_row, unit_table.columns)
    units: list[UnitRow] = []
    seen: dict[str, int] = {}
    for rownum, cells in unit_table.rows:
        r = RowReader(problems, UNIT_SHEET, rownum, unit_table, cells)
        code = r.code("单位编码")
        row = UnitRow(rownum, code, r.text("单位名称"), r.choice("组织类型", ORG_KINDS),
                      r.text("分组", required=False), r.text("书记", required=False),
                      r.count("党员人数") or 0, r.date("启用日期"), r.date("撤销日期"))
        if code and code in seen:
            problems.add(f"单位编码「{code}」与第 {seen[code]} 行重复", UNIT_SHEET, rownum, "单位编码")
        elif code:
            seen[code] = rownum
        if row.active_from and row.active_to and row.active_to < row.active_from:
            problems.add("撤销日期早于启用日期", UNIT_SHEET, rownum, "撤销日期")
        units.append(row)
    if not units:
        problems.add("没有任何单位数据", UNIT_SHEET)
    branches: list[BranchRow] = []
    if branch_table is not None and branch_data is not None:
        refuse_merged(problems, branch_data, branch_table.header_row, branch_table.columns)
        bseen: dict[str, int] = {}
        for rownum, cells in branch_table.rows:
            r = RowReader(problems, BRANCH_SHEET, rownum, branch_table, cells)
            code = r.code("支部编码")
            tier = r.choice("当前等次", TIERS, required=False, normalize=normalize_tier) or "未达标"
            row = BranchRow(rownum, code, r.text("支部名称"), r.code("所属单位编码"), r.count("党员人数") or 0,
                            tier, r.date("评定日期"))
            if code and code in bseen:
                problems.add(f"支部编码「{code}」与第 {bseen[code]} 行重复", BRANCH_SHEET, rownum, "支部编码")
            elif code:
                bseen[code] = rownum
            branches.append(row)
    problems.raise_if_any("名册有错误，未导入任何数据")
    return units, branches
