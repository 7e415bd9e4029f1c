"""Tier workbooks: 验收 results in (matched by header names), statistics out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from djctl.domain.tiers import TIERS, normalize_tier
from djctl.errors import InputError, ProblemList
from djctl.io.cells import RowReader, refuse_merged
from djctl.io.xlsx import META_SHEET, Column, Workbook, find_table, write_table_workbook

RESULTS_SHEET = "验收结果"
SHEET_HINT = "表头须含 支部编码、等次、评定日期，可选 依据、强制"
COLUMNS = (
    Column("支部编码", ("code", "branch", "branch_code", "支部代码")),
    Column("等次", ("tier", "评定等次", "认定等次", "验收等次", "当前等次", "支部等次")),
    Column("评定日期", ("date", "tier_date", "定级日期", "验收日期", "认定日期")),
    Column("依据", ("说明", "依据/说明", "依据说明", "备注", "文件依据", "note", "basis"), required=False),
    Column("强制", ("越级", "force"), required=False),
    Column("支部名称", ("name", "branch_name"), required=False),
)


@dataclass(frozen=True)
class TierRow:
    row: int
    code: str
    tier: str
    on_date: date
    note: str
    force: bool


def read_tier_results(path: Path) -> tuple[str, list[TierRow]]:
    """(sheet title, rows) of a 验收 results workbook; InputError listing every problem."""
    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        names = [n for n in wb.sheetnames if n != META_SHEET]
        if RESULTS_SHEET in names:
            names.remove(RESULTS_SHEET)
            names.insert(0, RESULTS_SHEET)
        first_error: InputError | None = None
        table = data = None
        for name in names:
            data = wb.sheet(name)
            try:
                table = find_table(str(path), data, COLUMNS)
                break
            except InputError as exc:
                first_error = first_error or exc
                table = None
        if table is None or data is None:
            raise first_error or InputError("工作簿中没有工作表", path=str(path))
    refuse_merged(problems, data, table.header_row, table.columns)
    rows: list[TierRow] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        r = RowReader(problems, data.title, rownum, table, cells)
        code = r.code("支部编码")
        tier = r.choice("等次", TIERS, normalize=normalize_tier)
        on_date = r.date("评定日期", required=True)
        note = r.text("依据", required=False)
        force = r.yes_no("强制") if "强制" in table.columns else None
        if code and code in seen:
            problems.add(f"支部编码「{code}」与第 {seen[code]} 行重复（每个支部只能有一行）", data.title, rownum, "支部编码")
        elif code:
            seen[code] = rownum
        if r.ok and code and tier and on_date:
            rows.append(TierRow(rownum, code, tier, on_date, note, bool(force)))
    if not table.rows:
        problems.add("没有任何数据行", data.title)
    problems.raise_if_any(f"等次文件有错误，未导入任何数据（{SHEET_HINT}）")
    return data.title, rows


def write_results_workbook(path: Path, rows: list[list[Any]]) -> Path:
    """A results workbook (also the empty template): 支部编码, 支部名称, 等次, 评定日期, 依据, 强制."""
    write_table_workbook(path, [(RESULTS_SHEET, ["支部编码", "支部名称", "等次", "评定日期", "依据", "强制"], rows)])
    return path


def write_stats_workbook(doc: dict[str, Any], path: Path) -> Path:
    """`tier stats --xlsx`: summary, breakdown (if any), movement matrix and changed branches."""
    yes = {True: "是", False: "否"}
    summary = [[f"{t}支部", n, "", ""] for t, n in doc["counts"].items()]
    summary.append(["合计", doc["branches"], "", ""])
    summary.append(["达标率", doc["rate_standard_text"], doc["targets_text"]["达标率"], yes[doc["met"]["达标率"]]])
    summary.append(["过硬率", doc["rate_strong_text"], doc["targets_text"]["过硬率"], yes[doc["met"]["过硬率"]]])
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        (f"{doc['year']}年等次统计", ["项目", "数值", "目标", "是否达到"], summary)]
    if doc.get("rows"):
        first = "单位编码" if doc["by"] == "unit" else "分组"
        sheets.append(("分单位" if doc["by"] == "unit" else "分组",
                       [first, "名称", "支部数", *[f"{t}支部" for t in doc["counts"]], "达标率", "过硬率", "升级", "降级"],
                       [[r[doc["by"]], r["name"], r["branches"], *r["counts"].values(),
                         r["rate_standard_text"], r["rate_strong_text"], r["up"], r["down"]] for r in doc["rows"]]))
    mv = doc["movements"]
    order = list(reversed(TIERS))
    matrix = [[f"{f}支部", *[mv["matrix"][f][t] for t in order], sum(mv["matrix"][f].values())] for f in order]
    matrix.append(["首次定级", "", "", "", "", mv["new"]])
    matrix.append([f"升级 {mv['up']}，降级 {mv['down']}，未变 {mv['same']}，首次定级 {mv['new']}", "", "", "", "", mv["total"]])
    sheets.append(("等次变动", ["上年末＼本年末", *[f"{t}支部" for t in order], "合计"], matrix))
    cn = {"up": "升级", "down": "降级", "same": "未变", "new": "首次定级"}
    sheets.append(("变动明细", ["支部编码", "支部名称", "所属单位", "上年末等次", "本年末等次", "变动"],
                   [[c["branch"], c["name"], c["unit"], c["from"] or "", c["to"], cn[c["direction"]]]
                    for c in mv["changed"]]))
    write_table_workbook(path, sheets)
    return path

