"""Reading .xls (Excel 97–2003) and .ods (LibreOffice, WPS) workbooks with python-calamine (.xlsx: see
io/xlsx_calamine.py), and the cached values of formula cells for the openpyxl reference reader.

calamine gives each cell's value (for a formula, the value the saving program computed and cached) but not
whether it was a formula. In .ods the formula cells are found in content.xml after the guards have checked
it (no DTD, sizes bounded), so a formula is never taken for typed data without the import report saying so.
In .xls (binary BIFF) calamine cannot tell a formula from a value: such a cell is read at its cached value
(see README).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from djctl.errors import InputError

ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
MAX_CELLS = 5_000_000  # a sheet's rows × columns as calamine would hold them (a dense grid)

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def open_calamine(path: str, fmt: str = "") -> Any:
    """The workbook, its format found from the content (not the file name: a .xls saved as "x.xlsx" opens)."""
    from python_calamine import CalamineWorkbook

    try:
        with open(path, "rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    except BaseException as exc:  # calamine raises its own error types for every kind of damage (a panic too)
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        if fmt == "xls":  # an OLE file: an old .xls, or a password-protected workbook (Office encrypts into OLE)
            raise InputError(f"文件是加密的工作簿或无法读取的旧版 .xls（{str(exc)[:80]}）", path=path,
                             hint="请取消文件密码，或在办公软件中「另存为」Excel 工作簿（.xlsx）后再导入") from exc
        raise InputError(f"工作簿无法读取（{exc.__class__.__name__}：{str(exc)[:120]}）", path=path,
                         hint="文件可能已损坏或加密；请在办公软件中打开并「另存为」后再导入") from exc


def too_large(name: str, extent: str, path: str, what: str = "",
              hint: str = "请删除表格远处的无关内容后另存再导入") -> InputError:
    """The refusal of a sheet larger than MAX_CELLS (`extent`: "R 行 × C 列", or how many cells); `what`: what
    of it was to be read."""
    return InputError(f"工作表「{name}」的范围过大（{extent}），拒绝读取{what}", path=path, hint=hint)


def sheet_rows(wb: Any, name: str, path: str, max_rows: int) -> list[tuple[int, list[Any]]]:
    """The non-empty rows of a sheet as (1-based row number, values); empty cells are None."""
    try:
        ws = wb.get_sheet_by_name(name)
    except BaseException as exc:  # a Rust panic is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        raise InputError(f"工作表「{name}」无法读取（{exc.__class__.__name__}）", path=path) from exc
    height, width = ws.total_height, ws.total_width
    if height * width > MAX_CELLS:
        raise too_large(name, f"{height} 行 × {width} 列", path)
    out: list[tuple[int, list[Any]]] = []
    for i, row in enumerate(ws.to_python(skip_empty_area=False), start=1):  # from A1: positions are absolute
        values = [None if v == "" else v for v in row]
        if all(v is None for v in values):
            continue
        out.append((i, values))
        if len(out) > max_rows:
            raise InputError(f"工作表「{name}」行数超过上限 {max_rows}，拒绝读取", path=path)
    return out


def sheet_merges(wb: Any, name: str) -> list[str]:
    """Merged ranges as A1 references (xlsx and xls; calamine gives none for ods: see ods_layout)."""
    return merge_refs(wb.get_sheet_by_name(name).merged_cell_ranges)


def merge_refs(ranges: list | None) -> list[str]:
    """calamine's merged ranges ((row, col) 0-based corners) as A1 references."""
    return [f"{_col(c0)}{r0 + 1}:{_col(c1)}{r1 + 1}" for (r0, c0), (r1, c1) in ranges or []]


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --------------------------------------------------------------------------- .ods


def check_ods_zip(zf: zipfile.ZipFile, name: str) -> None:
    names = set(zf.namelist())
    if "content.xml" not in names:
        raise InputError("文件是 zip 但不是电子表格（缺少 content.xml）", path=name,
                         hint="请确认上传的是 .xlsx、.xls 或 .ods 表格，而不是 .docx 或其他压缩包")


def is_ods(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            if "mimetype" in zf.namelist():
                return zf.read("mimetype").strip() == ODS_MIME
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return False
    return False


def ods_layout(path: str) -> tuple[dict[str, dict[tuple[int, int], str]], dict[str, list[str]],
                                    dict[str, tuple[int, int]]]:
    """For each sheet of an .ods: its formula cells ((row, column) -> formula), merged ranges (A1 references),
    and the extent of its cells that hold something (rows × columns from A1).

    content.xml is parsed with defusedxml (the guard has already refused DTDs); repeated rows and columns
    are counted, not expanded. calamine expands them when it opens the workbook (every sheet at once, up to
    its own limit of 100 million cells, some 5 GB): a 1 KB file can ask for that, so the extents are checked
    (`check_ods_extents`) before calamine sees the file."""
    from defusedxml.ElementTree import iterparse

    formulas: dict[str, dict[tuple[int, int], str]] = {}
    merges: dict[str, list[str]] = {}
    extents: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        sheet = None
        row = col = 0
        last_row = max_col = 0
        row_used = False
        table_el: Any = None  # the open table and row, emptied as the walk goes (memory stays bounded)
        row_el: Any = None
        for event, el in iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == _T + "table":
                    sheet = el.get(_T + "name") or ""
                    formulas.setdefault(sheet, {})
                    merges.setdefault(sheet, [])
                    row = last_row = max_col = 0
                    table_el = el
                elif tag == _T + "table-row":
                    col = 0
                    row_used = False
                    row_el = el
                continue
            if tag in (_T + "table-cell", _T + "covered-table-cell") and sheet is not None:
                repeat = _count(el.get(_T + "number-columns-repeated"))
                formula = el.get(_T + "formula")
                if formula:
                    text = formula.split(":", 1)[1] if formula.startswith(("of:", "oooc:", "msoxl:")) else formula
                    formulas[sheet][(row + 1, col + 1)] = text
                span_c = _count(el.get(_T + "number-columns-spanned"))
                span_r = _count(el.get(_T + "number-rows-spanned"))
                if tag == _T + "table-cell" and (span_c > 1 or span_r > 1):
                    merges[sheet].append(f"{_col(col)}{row + 1}:{_col(col + span_c - 1)}{row + span_r}")
                col += repeat
                if formula or len(el) or el.get(_O + "value-type"):  # holds something (a value, text or formula)
                    max_col, row_used = max(max_col, col), True
                el.clear()
                if row_el is not None and len(row_el) > 256:
                    row_el.clear()
            elif tag == _T + "table-row":
                repeat = _count(el.get(_T + "number-rows-repeated"))
                row += repeat
                if row_used:
                    last_row = row
                el.clear()
                row_el = None
                if table_el is not None and len(table_el) > 256:
                    table_el.clear()
            elif tag == _T + "table":
                if sheet is not None:
                    extents[sheet] = (last_row, max_col)
                sheet = None
    return formulas, merges, extents


def check_ods_extents(path: str, extents: dict[str, tuple[int, int]]) -> None:
    """Refuse an .ods any of whose sheets spans more than MAX_CELLS, before calamine opens it."""
    for name, (height, width) in extents.items():
        if height * width > MAX_CELLS:
            raise too_large(name, f"{height} 行 × {width} 列", path)


def _count(raw: str | None) -> int:
    """A repeat or span count as calamine parses it (Rust's usize: ASCII digits, one leading "+" allowed);
    anything else counts once (calamine refuses it anyway)."""
    digits = raw[1:] if raw and raw.startswith("+") else raw
    return int(digits) if digits and digits.isascii() and digits.isdigit() and int(digits) > 0 else 1
