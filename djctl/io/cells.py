"""Turning raw cells into checked values, each refusal naming sheet, row and column (Chinese)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from djctl.domain.points import parse_count, parse_points
from djctl.domain.textclean import clean_long_text, clean_name, code_problem, printable
from djctl.errors import ProblemList
from djctl.io.xlsx import Cell, norm_text

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def plain_text(value: Any) -> str:
    """A text cell as typed, trimmed; numbers as their plain text (12.0 -> '12')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def number_problem(raw: Any, exc: ValueError) -> str:
    """The one wording of a number cell that does not parse (every importer): 「九」不是有效数字,
    「-1」不能为负数, 「2.5」应为整数, 「8.55」最多保留 1 位小数 …; the cell's value is always quoted."""
    text = str(exc)
    return text if "「" in text else f"「{'' if raw is None else raw}」{text}"


def _has_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _points(raw: Any, max_decimals: int) -> Decimal:
    """parse_points, remembered for the plain numbers and short texts a month's forms repeat (a Decimal is
    immutable; a refusal is not remembered). Keyed by the value's type too: 1, 1.0 and True are equal keys."""
    if type(raw) in (int, str) or (type(raw) is float and raw):  # not 0.0, which -0.0 equals
        if type(raw) is str and len(raw) > 40:
            return parse_points(raw, max_decimals=max_decimals)
        return _points_cached(type(raw), raw, max_decimals)
    return parse_points(raw, max_decimals=max_decimals)


@lru_cache(maxsize=4096)
def _points_cached(_kind: type, raw: Any, max_decimals: int) -> Decimal:
    return parse_points(raw, max_decimals=max_decimals)


@lru_cache(maxsize=4096)
def _checked_code(text: str) -> tuple[str, str | None]:
    """(the code as NFKC text, why it is refused or None): a pure function of the cell's text, remembered."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return "", None
    if re.search(r"\s", value):
        return value, f"编码「{printable(value)}」中含有空白字符"
    why = code_problem(value)
    return value, (f"编码「{printable(value)}」无效：{why}" if why else None)


def _clean(raw: str, long: bool) -> str:
    if len(raw) <= 200:
        return _clean_cached(raw, long)
    return clean_long_text(raw) if long else clean_name(raw)


@lru_cache(maxsize=8192)
def _clean_cached(raw: str, long: bool) -> str:
    return clean_long_text(raw) if long else clean_name(raw)


class RowReader:
    """Reads the cells of one row; every problem is added to `problems` with its position."""

    def __init__(self, problems: ProblemList, sheet: str, row: int, table: Any, cells: list[Cell]) -> None:
        self.problems, self.sheet, self.row, self.table, self.cells = problems, sheet, row, table, cells
        self.ok = True

    def error(self, column: str, message: str) -> None:
        """Refuse this row's `column` with a Chinese `message` (the file, sheet and row are added)."""
        self.ok = False
        self.problems.add(message, self.sheet, self.row, column)

    def raw(self, column: str) -> Cell:
        return self.table.get(self.cells, column)

    def _no_formula(self, column: str) -> Cell | None:
        cell = self.raw(column)
        if cell.formula:
            self.error(column, f"是公式（{cell.value}），没有计算结果：请填写数值或文本，不要用公式")
            return None
        if cell.from_formula is not None:
            self.problems.note(f"工作表「{self.sheet}」第 {self.row} 行「{column}」列是公式（{cell.from_formula}），"
                               f"按其计算结果 {plain_text(cell.value)} 读取")
        return cell

    def text(self, column: str, *, required: bool = True, max_len: int = 200) -> str:
        cell = self._no_formula(column)
        if cell is None:
            return ""
        # names are kept as typed (only trimmed): NFKC would turn full-width （） into ASCII ()
        # hidden characters are stripped at the door (see domain/textclean.py for the choice per field)
        raw = plain_text(cell.value)
        value = _clean(raw, max_len > 200)
        if required and not value:
            self.error(column, "不能为空")
        if len(value) > max_len:
            self.error(column, f"过长（{len(value)} 字，上限 {max_len}）")
        return value

    def code(self, column: str, *, required: bool = True) -> str:
        """A code: letters (any script), digits and -_. only, refused otherwise (never silently changed)."""
        cell = self._no_formula(column)
        if cell is None:
            return ""
        value, why = _checked_code(plain_text(cell.value))
        if not value:
            if required:
                self.error(column, "不能为空")
            return ""
        if why:
            self.error(column, why)
        return value

    def count(self, column: str, *, required: bool = True, empty: str = "不能为空") -> int | None:
        cell = self._no_formula(column)
        if cell is None:
            return None
        if cell.value is None or norm_text(cell.value) == "":
            if required:
                self.error(column, empty)
            return None
        try:
            return parse_count(cell.value)
        except ValueError as exc:
            self.error(column, number_problem(cell.value, exc))
            return None

    def points(self, column: str, *, lo: Decimal = Decimal(0), hi: Decimal | None = None,
               max_decimals: int = 1) -> Decimal | None:
        cell = self._no_formula(column)
        if cell is None:
            return None
        if not _has_number(cell.value) and norm_text(cell.value) == "":
            self.error(column, "不能为空（每项都要填写，0 分也要填 0）")
            return None
        try:
            value = _points(cell.value, max_decimals)
        except ValueError as exc:
            self.error(column, number_problem(cell.value, exc))
            return None
        if value < lo:
            self.error(column, f"「{cell.value}」不能为负数" if lo == 0 else f"{value} 小于 {lo}")
            return None
        if hi is not None and value > hi:
            self.error(column, f"{value} 超过上限 {hi}")
            return None
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        cell = self._no_formula(column)
        if cell is None:
            return None
        v = cell.value
        if v is None or norm_text(v) == "":
            if required:
                self.error(column, "不能为空")
            return None
        if isinstance(v, datetime):
            return v.date()
        if isinstance(v, date):
            return v
        m = _DATE.match(unicodedata.normalize("NFKC", str(v)).strip())
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                pass
        self.error(column, f"「{v}」不是有效日期（示例：2024-01-15）")
        return None

    def choice(self, column: str, choices: tuple[str, ...], *, required: bool = True,
               normalize: Any = None) -> str:
        value = self.text(column, required=required)
        if not value:
            return ""
        if normalize:
            try:
                return normalize(value)
            except ValueError:
                pass
        elif value in choices:
            return value
        self.error(column, f"「{value}」无效，应为 {' / '.join(choices)} 之一")
        return ""

    def yes_no(self, column: str) -> bool | None:
        """是/否 (also Y/N, true/false, √/×); empty gives None."""
        value = self.text(column, required=False)
        if not value:
            return None
        if value in ("是", "Y", "y", "yes", "Yes", "true", "True", "TRUE", "√", "1"):
            return True
        if value in ("否", "N", "n", "no", "No", "false", "False", "FALSE", "×", "0"):
            return False
        self.error(column, f"「{value}」无效，应填「是」或「否」")
        return None


FREE_TEXT_WORDS = ("说明", "备注", "意见")


def refuse_merged(problems: ProblemList, data: Any, header_row: int, columns: dict[str, int]) -> None:
    """Merged cells over data columns make rows ambiguous: refuse them, naming the first cell."""
    # free-text columns (说明, 备注) may be merged over several rows: the text belongs to the first row
    names = {idx + 1: name for name, idx in columns.items() if not any(w in name for w in FREE_TEXT_WORDS)}
    first: tuple[int, int] | None = None  # the first merged cell below the header in a data column, by (row, column)
    for min_col, min_row, max_col, max_row in data.merged_ranges():
        row = max(min_row, header_row + 1)
        col = min((c for c in names if min_col <= c <= max_col), default=None)
        if row <= max_row and col is not None and (first is None or (row, col) < first):
            first = (row, col)
    if first is not None:
        problems.add("有合并单元格，请取消合并后每行分别填写", data.title, first[0], names[first[1]])


def open_list(path: Any, sheet_name: str, columns: Any, kind: str, what: str,
              hint: str) -> tuple[str, Any, Any, ProblemList]:
    """A one-sheet list workbook (加减分项表, 问责措施表, …): its sheet (by name, else the first visible one), its
    table found by header names, a refusal when the hidden mark says it is another kind of workbook, and
    merged cells in its columns already listed. Returns (sheet name, sheet data, table, problems)."""
    from djctl.errors import InputError
    from djctl.io.xlsx import META_SHEET, Workbook, find_table, form_kind_cn, read_meta

    problems = ProblemList(str(path))
    with Workbook(path) as wb:
        meta = read_meta(wb)
        names = [n for n in wb.sheetnames if n != META_SHEET]
        sheet = sheet_name if wb.has_sheet(sheet_name) else (names[0] if names else sheet_name)
        data = wb.sheet(sheet)
        table = find_table(str(path), data, columns)
    marked = meta.get("kind", "")
    if marked and marked != kind:
        raise InputError(f"这不是{what}（这是一份{form_kind_cn(marked)}）", path=str(path), hint=hint)
    refuse_merged(problems, data, table.header_row, table.columns)
    return sheet, data, table, problems
