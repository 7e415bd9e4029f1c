"""Shared option aliases: every command spells the same option the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="输出一个 JSON 文档（供脚本读取）")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")]
MonthOpt = Annotated[str, typer.Option("--month", "-m", help="月份，如 2024-03")]
QuarterOpt = Annotated[str, typer.Option("--quarter", help="季度，如 2024Q1 或 2024-Q1")]


def check_year(value: int | None) -> int | None:
    """A year option outside 2000–2100 is a usage error (exit 2), not a date error deep inside a service."""
    if value is not None and not 2000 <= value <= 2100:
        raise typer.BadParameter(f"「{value}」不是有效年度（2000 到 2100）")
    return value


YearOpt = Annotated[int, typer.Option("--year", "-y", help="年度，如 2024", callback=check_year)]
OutDirOpt = Annotated[Path, typer.Option("--out", "-o", help="输出目录")]
SeedOpt = Annotated[Optional[str], typer.Option("--seed", help="抽签种子（建议事先公布的公开数字，如彩票开奖号码）")]
XlsxOpt = Annotated[Optional[Path], typer.Option("--xlsx", help="同时导出为 .xlsx 表格")]
RecordOpt = Annotated[Optional[Path], typer.Option("--record", help="导出的抽签记录文件（不打开数据库，独立核验）")]
FilesArg = Annotated[list[Path], typer.Argument(help="要导入的 .xlsx 文件或目录（可多个）", show_default=False)]


def parse_period_opt(value: str, kinds: tuple[str, ...], option: str):
    """Parse a period option with the one domain parser; a bad value is a usage error (exit 2)."""
    from djctl.domain.periods import parse_period

    try:
        return parse_period(value, kinds)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def parse_points_opt(value: str | None, option: str):
    """A points option (1.5) as a Decimal with at most one decimal (None stays None); a bad one exits 2."""
    from djctl.domain.points import parse_points

    if value is None:
        return None
    try:
        return parse_points(value, max_decimals=1)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def parse_date_opt(value: str | None, option: str = "--date"):
    """An ISO date option (2024-06-30) as a date (None stays None); a bad one is a usage error (exit 2)."""
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"「{value}」不是有效日期（示例：2024-06-30）", param_hint=option) from None
