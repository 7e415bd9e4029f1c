"""Workbooks in and out.

Reading: files pass the guards first (io/xlsx_guard.py), then python-calamine (see `Workbook`); tables are
found by header names (Chinese with English aliases), cells are normalised (NFKC, trimmed) and formulas
without a cached value are refused.
Writing: every user-derived string goes through `cell_value`, so no cell ever becomes a formula and
no string is silently truncated.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from djctl.errors import InputError, ProblemList, SecurityError
from djctl.io.xlsx_guard import open_spreadsheet
from djctl.io.xlsx_scan import col_index, scan_sheet

MAX_CELL_CHARS = 32_767
META_SHEET = "_djctl"
_MERGE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*\bref\s*=\s*["\']([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)["\']')


def norm_text(value: Any) -> str:
    """NFKC-normalised, trimmed text of a cell ('' for None). Short texts are remembered: every returned
    form repeats its labels, headers and codes (long ones are not, so a hostile workbook cannot fill the
    cache with big strings)."""
    if value is None:
        return ""
    if type(value) is str:
        return _norm_short(value) if len(value) <= 64 else unicodedata.normalize("NFKC", value).strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


@lru_cache(maxsize=8192)
def _norm_short(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def norm_header(value: Any) -> str:
    text = norm_text(value)
    return _norm_header_cached(text) if len(text) <= 64 else _norm_header_text(text)


_HEADER_NOISE = re.compile(r"[\s*＊:：()（）]")


def _norm_header_text(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_norm_header_cached = lru_cache(maxsize=4096)(_norm_header_text)


# ---------------------------------------------------------------- reading


@dataclass(slots=True)
class Cell:
    """A cell as read. `formula`: a formula without a usable value (refused). `from_formula`: the formula
    whose cached number `value` is (taken, and the import report says so)."""

    value: Any
    formula: bool = False
    from_formula: str | None = None


#: the one empty cell both readers give for every empty place in a row (cells are never changed after
#: reading): a row padded to a far cell costs a pointer per place, not an object
EMPTY_CELL = Cell(None)


@dataclass
class SheetData:
    """A sheet read into memory as rows of `Cell` (1-based row numbers kept), plus its merged ranges."""

    title: str
    rows: list[tuple[int, list[Cell]]]
    merged: list[str] = field(default_factory=list)

    def merged_ranges(self) -> list[tuple[int, int, int, int]]:
        """(min_col, min_row, max_col, max_row) of each merged range, never expanded into cells: one range
        can be a whole sheet (A1:XFD1048576), 17 billion cells."""
        return [_range_bounds(ref) for ref in self.merged]


_CELL_RANGE = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?")


def _range_bounds(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of "A4:G4" or "B2", as openpyxl's range_boundaries gives them
    (which reads anything else: a reader that never meets an odd range never imports openpyxl)."""
    m = _CELL_RANGE.fullmatch(ref)
    if m is None:
        from openpyxl.utils.cell import range_boundaries

        return range_boundaries(ref)
    a, r1, b, r2 = m.groups()
    return col_index(a), int(r1), col_index(b or a), int(r2 or r1)


class Workbook:
    """A checked workbook opened for reading. Use as a context manager.

    .xls and .ods are read by python-calamine; .xlsx by python-calamine too, each sheet after a bounded scan
    of its XML (io/xlsx_scan.py) that finds what calamine cannot say (formulas, error cells, date formats,
    numbers typed "9.0", empty strings); such a sheet, and any sheet or workbook calamine cannot read, is
    read by the reference reader (openpyxl read-only, io/xlsx_openpyxl.py) exactly as before, so every
    importer sees the same values either way. `_engine="openpyxl"` reads every sheet with the reference
    reader (tests and the benchmark compare the two)."""

    def __init__(self, path: str | Path, max_rows: int = 200_000, *, _engine: str = "calamine") -> None:
        self.path = str(path)
        self.max_rows = max_rows
        # the guards: size, zip, XML prologs (refuses before parsing); the checked zip stays open for the scans
        self.format, zf = open_spreadsheet(path)
        self._cal: Any = None
        self._ods: Any = None
        self._ref: Any = None   # the reference reader (openpyxl), opened when a sheet needs it
        self._zf: zipfile.ZipFile | None = zf if self.format == "xlsx" and _engine != "openpyxl" else None
        if zf is not None and self._zf is None:
            zf.close()
        self._parts: Any = None
        self._scans: dict[str, Any] = {}
        self.read_by: dict[str, str] = {}  # sheet -> "calamine" or "openpyxl" (which reader read it)
        if self.format != "xlsx":  # .xls and .ods: python-calamine
            from djctl.io.calamine_read import check_ods_extents, open_calamine

            if self.format == "ods":  # calamine expands every sheet when it opens the file: the extents first
                check_ods_extents(self.path, self._ods_layout()[2])
                self._cal = open_calamine(self.path, self.format)
            else:  # .xls: in a child process (io/xls_child.py)
                from djctl.io.xls_child import open_xls

                self._cal = open_xls(self.path)
            return
        if _engine == "openpyxl":
            self._reference()
            return
        if self._zf is None:
            try:
                self._zf = zipfile.ZipFile(self.path)
            except Exception as exc:
                raise InputError(f"工作簿无法打开（文件已损坏：{exc.__class__.__name__}）", path=self.path,
                                 hint="请在 Excel 中打开并重新保存为 .xlsx 后再导入") from exc
        from djctl.io.xlsx_parts import workbook_parts

        self._parts = workbook_parts(self._zf)
        if self._parts is not None:
            try:
                from python_calamine import CalamineWorkbook

                if isinstance(self._zf.fp, io.BytesIO):  # the file read once by the guard: the same bytes
                    self._cal = CalamineWorkbook.from_filelike(io.BytesIO(self._zf.fp.getvalue()))
                else:
                    with open(self.path, "rb") as fh:
                        self._cal = CalamineWorkbook.from_filelike(fh)
            except BaseException as exc:  # noqa: BLE001 - a Rust panic too: the reference reader decides
                if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
                    raise
                self._cal = None
        if self._cal is None:
            self._reference()

    def _reference(self) -> Any:
        if self._ref is None:
            from djctl.io.xlsx_openpyxl import OpenpyxlBook

            self._ref = OpenpyxlBook(self.path)
        return self._ref

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._ref is not None:
            self._ref.close()
        if self._cal is not None:
            self._cal.close()
            self._cal = None
        if self._zf is not None:
            self._zf.close()
            self._zf = None

    @property
    def sheetnames(self) -> list[str]:
        return list(self._cal.sheet_names) if self._cal is not None else self._ref.sheetnames

    def has_sheet(self, name: str) -> bool:
        return name in self.sheetnames

    def sheet(self, name: str, *, merged: bool = True) -> SheetData:
        """The sheet's non-empty rows (trailing empty cells dropped); `merged=False` skips its merged ranges
        for sheets whose merges nobody checks."""
        if name not in self.sheetnames:
            raise InputError(f"缺少工作表「{name}」（现有：{'、'.join(self.sheetnames) or '无'}）", path=self.path,
                             hint="请勿重命名或删除工作表")
        if self.format != "xlsx":
            return self._calamine_sheet(name, merged)
        if self._cal is not None:
            data = self._xlsx_sheet(name, merged)
            if data is not None:
                self.read_by[name] = "calamine"
                return data
        self.read_by[name] = "openpyxl"
        ref = self._reference()
        rows = _trimmed(ref.rows(name, self.max_rows, self._cached))
        return SheetData(name, rows, ref.merged(name) if merged else [])

    def _cached(self, name: str) -> list[tuple[int, list[Any]]]:
        """calamine's values of a sheet (the cached results of its formulas), after the extent check."""
        from djctl.io.calamine_read import MAX_CELLS, open_calamine, sheet_rows, too_large

        scan = self._scan(name)  # None: the part was not found (calamine then reads it as before)
        if scan is not None and scan.height * scan.width > MAX_CELLS:
            raise too_large(name, f"{scan.height} 行 × {scan.width} 列", self.path, "其中的公式结果",
                            hint="请删除表格远处的无关内容，或把公式改为数值后另存再导入")
        if self._cal is None:
            self._cal = open_calamine(self.path)
        return sheet_rows(self._cal, name, self.path, self.max_rows)

    def _scan(self, name: str) -> Any:
        """The sheet's XML scan (None when the sheet's part cannot be found or read)."""
        if name not in self._scans:
            if self._zf is None:
                self._zf = zipfile.ZipFile(self.path)
                from djctl.io.xlsx_parts import workbook_parts

                self._parts = workbook_parts(self._zf)
            member = self._parts.sheets.get(name) if self._parts is not None else None
            try:
                self._scans[name] = scan_sheet(self._zf, member, styles_needed=bool(
                    self._parts.date_styles(self._zf))) if member else None
            except Exception:  # noqa: BLE001 - damaged: the reference reader refuses it with its message
                self._scans[name] = None
        return self._scans[name]

    def _xlsx_sheet(self, name: str, merged: bool) -> SheetData | None:
        """The sheet read by calamine, or None when the reference reader must read it."""
        from djctl.io.xlsx_calamine import read_sheet

        scan = self._scan(name)
        if scan is None:
            return None
        return read_sheet(self, name, scan, merged)

    def _ods_layout(self) -> Any:
        """An .ods's formula cells, merged ranges and sheet extents (io/calamine_read.ods_layout), read once."""
        if self._ods is None:
            from djctl.io.calamine_read import ods_layout

            try:
                self._ods = ods_layout(self.path)
            except Exception as exc:
                if _from_defusedxml(exc):
                    raise SecurityError("工作簿含有不安全的 XML 内容（DTD/实体声明），拒绝读取", path=self.path) from exc
                raise InputError(f"工作簿无法读取（{exc.__class__.__name__}）", path=self.path) from exc
        return self._ods

    def _calamine_sheet(self, name: str, merged: bool) -> SheetData:
        from djctl.io.calamine_read import sheet_merges, sheet_rows

        formulas: dict[tuple[int, int], str] = {}
        merges: list[str] = []
        if self.format == "ods":
            formulas = self._ods_layout()[0].get(name, {})
            merges = self._ods_layout()[1].get(name, [])
        elif merged:
            merges = sheet_merges(self._cal, name)
        rows: list[tuple[int, list[Cell]]] = []
        for rownum, values in sheet_rows(self._cal, name, self.path, self.max_rows):
            cells = []
            for col, v in enumerate(values, start=1):
                f = formulas.get((rownum, col))
                if f is None:
                    cells.append(EMPTY_CELL if v is None else Cell(v))
                elif _is_number(v):
                    cells.append(Cell(v, False, f"={f.lstrip('=')}"))
                else:
                    cells.append(Cell(f"={f.lstrip('=')}", True))
            rows.append((rownum, cells))
        return SheetData(name, _trimmed(rows), merges if merged else [])


def _trimmed(rows: list[tuple[int, list[Cell]]]) -> list[tuple[int, list[Cell]]]:
    """Rows without their trailing empty cells (readers differ in how many they give; none means anything)."""
    for _, cells in rows:
        while cells and cells[-1].value is None:
            cells.pop()
    return rows


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _from_defusedxml(exc: BaseException) -> bool:
    """defusedxml refused something, maybe wrapped by openpyxl (it re-raises as ValueError)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if cur.__class__.__module__.startswith("defusedxml"):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


@dataclass(frozen=True)
class Column:
    """A column matched by header name: the canonical Chinese name and accepted aliases."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def matches(self, header: str) -> bool:
        return norm_header(header) in _column_names(self)


@lru_cache(maxsize=1024)
def _column_names(col: Column) -> frozenset[str]:
    """The normalised name and aliases of a column (computed once per column)."""
    return frozenset(norm_header(n) for n in (col.name, *col.aliases))


@dataclass
class Table:
    sheet: str
    header_row: int
    columns: dict[str, int]  # canonical name -> 0-based index
    rows: list[tuple[int, list[Cell]]]

    def get(self, cells: list[Cell], name: str) -> Cell:
        idx = self.columns.get(name)
        if idx is None or idx >= len(cells):
            return Cell(None)
        return cells[idx]


def find_table(path: str, data: SheetData, columns: Sequence[Column], *, scan_rows: int = 30) -> Table:
    """Locate the header row (the first row naming every required column) and map columns by name."""
    required = [c for c in columns if c.required]
    if not data.rows:
        raise InputError(f"工作表「{data.title}」是空的（没有任何行）", path=path,
                         hint="请在第一行填写表头，其下每行一条数据；可用 djctl 生成的模板")
    best: tuple[int, list[str]] | None = None
    for rownum, cells in data.rows[:scan_rows]:
        keys = [norm_header(c.value) for c in cells]  # each cell normalised once, matched against every column
        present = set(keys)
        present.discard("")
        found = [c.name for c in required if not present.isdisjoint(_column_names(c))]
        if len(found) == len(required):
            mapping: dict[str, int] = {}
            problems = ProblemList(path)
            for col in columns:
                names = _column_names(col)
                hits = [i for i, k in enumerate(keys) if k and k in names]
                if len(hits) > 1:
                    problems.add(f"表头「{col.name}」出现了 {len(hits)} 次", data.title, rownum)
                elif hits:
                    mapping[col.name] = hits[0]
            problems.raise_if_any("表头有误，未导入")
            body = [(r, c) for r, c in data.rows if r > rownum]
            return Table(data.title, rownum, mapping, body)
        if best is None or len(found) > len(best[1]):
            best = (rownum, found)
    missing = [c.name for c in required if best is None or c.name not in best[1]]
    raise InputError(
        f"工作表「{data.title}」缺少必需的表头：{'、'.join(missing)}",
        path=path,
        hint="表头按名称识别，列的顺序可以不同；请使用 djctl 生成的模板",
    )


FORM_KINDS_CN = {"selfeval": "月度自评表", "check": "抽查核查表", "lookback": "回头看核查表", "adjust": "加减分项表",
                 "actions": "问责措施表", "votes": "民主测评票数汇总表", "tier": "支部等次验收结果表", "roster": "名册",
                 "recheck": "整改回头看复查表", "rectify_feedback": "问题整改台账"}


def form_kind_cn(kind: str | None) -> str:
    """A form's kind as users call it (the code name stays inside the file's hidden sheet)."""
    return FORM_KINDS_CN.get(kind or "", "其他表格")


def read_meta(wb: Workbook) -> dict[str, str]:
    """The hidden key/value sheet djctl writes into every form ({} if absent)."""
    if not wb.has_sheet(META_SHEET):
        return {}
    data = wb.sheet(META_SHEET, merged=False)
    out: dict[str, str] = {}
    for _, cells in data.rows:
        if len(cells) >= 2 and cells[0].value is not None:
            out[norm_text(cells[0].value)] = norm_text(cells[1].value)
    return out


# ---------------------------------------------------------------- writing


def cell_value(value: Any) -> Any:
    """Check a value before it goes into a cell: refuse strings Excel would truncate."""
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise InputError(f"文本过长（{len(value)} 个字符，Excel 单元格上限 {MAX_CELL_CHARS}），拒绝写入")
    if isinstance(value, str) and _ILLEGAL_CHARS.search(value):
        raise InputError(f"文本「{_ILLEGAL_CHARS.sub('?', value[:40])}」含有 Excel 不允许的控制字符，拒绝写入",
                         hint="请删除其中的不可见控制字符后再试")
    return value


_ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses (tab, LF, CR are fine)


def put(ws: Any, row: int, column: int, value: Any, **style: Any) -> Any:
    """Write one cell of a normal (not write-only) sheet; strings are always text, never formulas."""
    cell = ws.cell(row=row, column=column)
    cell.value = cell_value(value)
    if isinstance(value, str):
        cell.data_type = "s"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


_write_only_cell: Any = None  # openpyxl's WriteOnlyCell, imported on first use (an import per cell doubled its cost)


def wo_cell(ws: Any, value: Any, **style: Any) -> Any:
    """A write-only cell; strings are always text, never formulas."""
    global _write_only_cell
    if _write_only_cell is None:
        from openpyxl.cell import WriteOnlyCell

        _write_only_cell = WriteOnlyCell
    cell = _write_only_cell(ws, value=cell_value(value))
    if isinstance(value, str):
        cell.data_type = "s"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def print_fit(ws: Any, landscape: bool = False) -> None:
    """A form as a unit prints it: A4, every column on one page width (as many pages down as it takes)."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_meta(wb: Any, meta: dict[str, str]) -> None:
    """Add the very hidden key/value sheet (write-only workbook)."""
    ws = wb.create_sheet(META_SHEET)
    ws.sheet_state = "veryHidden"
    for key, value in meta.items():
        ws.append([wo_cell(ws, key), wo_cell(ws, str(value))])


def write_table_workbook(path: str | Path, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> None:
    """A plain export: one sheet per (title, headers, rows), header bold, frozen, strings as text."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Font

    wb = OWorkbook(write_only=True)
    bold = Font(bold=True)
    try:
        for title, headers, rows in sheets:
            ws = wb.create_sheet(_sheet_title(title))
            ws.freeze_panes = "A2"
            for i, h in enumerate(headers):
                width = max(8, min(40, 2 * len(str(h)) + 2))
                ws.column_dimensions[_col_letter(i + 1)].width = width
            ws.append([wo_cell(ws, h, font=bold) for h in headers])
            for row in rows:
                ws.append([_table_cell(ws, v) for v in row])
    except BaseException:
        _discard_write_only(wb)  # a refused value: close the sheet streams and remove their temp files
        raise
    from djctl.io.outfile import save_workbook

    try:
        save_workbook(wb, path)
    except BaseException:
        _discard_write_only(wb)  # e.g. the path is a directory: close the streams (no noise at exit), then report
        raise


def _table_cell(ws: Any, value: Any) -> Any:
    """A cell of a table export: a Decimal is a number shown with its own decimals ("94.30" stays 94.30), a
    percentage (a `str` subclass named Percent holding "38.46") the fraction 0.3846 shown as 38.46%."""
    from decimal import Decimal

    if type(value).__name__ == "Percent":
        d = Decimal(str(value))
        places = max(0, -d.as_tuple().exponent)
        return wo_cell(ws, float(d / 100), number_format="0." + "0" * places + "%" if places else "0%")
    if isinstance(value, Decimal):
        places = max(0, -value.as_tuple().exponent)
        return wo_cell(ws, int(value) if not places else float(value),
                       number_format="0." + "0" * places if places else "0")
    return wo_cell(ws, value)


def _discard_write_only(wb: Any) -> None:
    for ws in wb.worksheets:
        try:
            ws.close()
            ws._writer.cleanup()
        except Exception:  # noqa: BLE001 - best effort on the way out of an error
            pass


def _sheet_title(title: str) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", title)[:31]
    return clean or "Sheet"


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def iter_rows_plain(table: Table) -> Iterator[tuple[int, list[Cell]]]:
    yield from table.rows
