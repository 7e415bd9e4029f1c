"""An .xlsx sheet read by python-calamine, the way the openpyxl reader read it (see io/xlsx_scan.py for
what sends a sheet to that reader instead)."""

from __future__ import annotations

from typing import Any

from djctl.errors import InputError


_PLAIN = {str, float, int, bool}


def read_sheet(wb: Any, name: str, scan: Any, merged: bool) -> Any:
    """`wb`'s sheet `name` as SheetData, or None when the reference reader must read it: something calamine
    reports differently, a sheet too large for calamine's dense grid, a date format, an empty shared
    string, an array formula, or any error of calamine's."""
    from djctl.io.calamine_read import MAX_CELLS, merge_refs
    from djctl.io.xlsx import EMPTY_CELL, Cell, SheetData, _is_number
    from djctl.io.xlsx_scan import formula_cells

    parts, zf = wb._parts, wb._zf
    if scan.special or scan.height * scan.width > MAX_CELLS \
            or (scan.styles and scan.styles & parts.date_styles(zf)) or parts.empty_strings(zf):
        return None
    formulas: dict[tuple[int, int], str] = {}
    if scan.formulas:
        try:
            found = formula_cells(zf, parts.sheets[name])
        except Exception:  # noqa: BLE001 - the reference reader reads it, or refuses it as before
            return None
        if found is None:
            return None
        formulas = found
    try:
        ws = wb._cal.get_sheet_by_name(name)
        values = ws.to_python(skip_empty_area=False)
        ranges = ws.merged_cell_ranges if merged else None
    except BaseException as exc:  # noqa: BLE001 - calamine's errors (a Rust panic too): the reference reads
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        return None
    by_row: dict[int, dict[int, str]] = {}
    for (r, c), f in formulas.items():
        by_row.setdefault(r, {})[c] = f
    rows: list[tuple[int, list[Any]]] = []
    max_rows = wb.max_rows

    def add(rownum: int, row: list[Any]) -> bool:
        if row.count("") == len(row) and rownum not in by_row:
            return True  # an empty row
        kinds = set(map(type, row))
        if not kinds <= _PLAIN:  # a date, time or duration: calamine's date rule is not openpyxl's
            return False
        out: list[Any] = [None if v == "" else int(v) if type(v) is float and v.is_integer() else v for v in row]
        fs = by_row.pop(rownum, None)
        if fs:  # formulas: the cached number, as the openpyxl reader took it
            for c, f in fs.items():
                out.extend([None] * (c - len(out)))
                raw = row[c - 1] if c <= len(row) else None
                out[c - 1] = Cell(raw, False, f) if _is_number(raw) else Cell(f, True)
        while out and out[-1] is None:
            out.pop()
        if out:
            rows.append((rownum, [EMPTY_CELL if v is None else v if type(v) is Cell else Cell(v) for v in out]))
            if len(rows) > max_rows:
                raise InputError(f"工作表「{name}」行数超过上限 {max_rows}，拒绝读取", path=wb.path)
        return True

    for rownum, row in enumerate(values, start=1):
        if not add(rownum, row):
            return None
    for rownum in sorted(by_row):  # formula rows past calamine's last value (no cached value)
        add(rownum, [])
    return SheetData(name, rows, merge_refs(ranges))
