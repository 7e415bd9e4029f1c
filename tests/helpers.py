"""Builders for test workbooks (real .xlsx files written with openpyxl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write sheets of rows; strings starting with '=' become real formulas (to test refusal)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


UNIT_HEADER = ["单位编码", "单位名称", "组织类型", "分组", "书记", "党员人数"]
BRANCH_HEADER = ["支部编码", "支部名称", "所属单位编码", "党员人数", "当前等次", "评定日期"]


def small_roster(path: Path, units: int = 5, extra_units: list[list[Any]] | None = None,
                 branches: list[list[Any]] | None = None) -> Path:
    rows = [UNIT_HEADER] + [[f"U{i:03d}", f"测试单位{i}机关党委", "机关党委", f"第{(i - 1) % 2 + 1}组", "张三", 20 + i]
                            for i in range(1, units + 1)]
    rows += extra_units or []
    brows = [BRANCH_HEADER] + (branches if branches is not None else
                               [[f"U{i:03d}-B01", f"测试单位{i}第一支部", f"U{i:03d}", 10 + i, "达标", "2023-06-01"]
                                for i in range(1, units + 1)])
    return workbook(path, {"单位": rows, "支部": brows})


def json_out(result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
