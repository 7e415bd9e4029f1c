"""The reference .xlsx reader: openpyxl read-only, as djctl read every .xlsx before calamine.

`Workbook` (io/xlsx.py) reads a sheet with calamine unless its XML holds something calamine reports
differently (see io/xlsx_scan.py); such a sheet is read here, so it reads exactly as it always did. The
equivalence test and the benchmark also call it directly (`Workbook(path, _engine="openpyxl")`).
"""

from __future__ import annotations

import warnings
import zipfile
from typing import Any

from djctl.errors import InputError, SecurityError


class OpenpyxlBook:
    """An .xlsx opened with openpyxl read-only (formulas kept: data_only=False)."""

    def __init__(self, path: str) -> None:
        import openpyxl

        from djctl.io.xlsx import _from_defusedxml
        from djctl.io.xlsx_guard import _assert_defusedxml

        _assert_defusedxml()  # now that openpyxl is imported: its parsers themselves
        self.path = path
        try:
            with warnings.catch_warnings():  # openpyxl's English notes (no default style, unknown extension…)
                warnings.simplefilter("ignore", UserWarning)  # never reach a user's console
                self.wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
        except (zipfile.BadZipFile, KeyError, EOFError, OSError) as exc:
            raise InputError(f"工作簿无法打开（文件已损坏：{exc.__class__.__name__}）", path=path,
                             hint="请在 Excel 中打开并重新保存为 .xlsx 后再导入") from exc
        except Exception as exc:  # openpyxl raises many types on malformed parts
            if _from_defusedxml(exc):
                raise SecurityError("工作簿含有不安全的 XML 内容（DTD/实体声明），拒绝读取", path=path) from exc
            raise InputError(f"工作簿无法读取（{exc.__class__.__name__}）", path=path,
                             hint="请在 Excel 中打开并重新保存为 .xlsx 后再导入") from exc

    @property
    def sheetnames(self) -> list[str]:
        return list(self.wb.sheetnames)

    def close(self) -> None:
        self.wb.close()

    def rows(self, name: str, max_rows: int, cached: Any) -> list[tuple[int, list[Any]]]:
        """The sheet's non-empty rows of `Cell`; `cached(name)` gives calamine's values for formula cells."""
        from djctl.io.calamine_read import MAX_CELLS, too_large
        from djctl.io.xlsx import EMPTY_CELL, Cell, _from_defusedxml

        ws = self.wb[name]
        ws.reset_dimensions()  # never trust the dimension tag: read every row that is there
        rows: list[tuple[int, list[Any]]] = []
        seen = 0  # cells openpyxl gave, the empty ones it fills in up to each row's last cell included
        try:
            for row in ws.iter_rows():
                seen += len(row)
                if seen > MAX_CELLS:  # a few KB can ask for this: many rows, each with one far cell
                    raise too_large(name, f"超过 {MAX_CELLS} 个单元格", self.path)
                cells = []
                rownum = None
                for c in row:
                    if getattr(c, "row", None) is not None and rownum is None:
                        rownum = c.row
                    value = getattr(c, "value", None)
                    formula = getattr(c, "data_type", None) == "f"
                    if value is None and not formula:
                        cells.append(EMPTY_CELL)
                        continue
                    if formula and not isinstance(value, str):  # an array formula: its text, not the object
                        value = getattr(value, "text", value)
                    cells.append(Cell(value, formula))
                if rownum is None:
                    continue
                if all(cell.value is None for cell in cells):
                    continue
                rows.append((rownum, cells))
                if len(rows) > max_rows:
                    raise InputError(f"工作表「{name}」行数超过上限 {max_rows}，拒绝读取", path=self.path)
        except InputError:
            raise
        except Exception as exc:
            if _from_defusedxml(exc):
                raise SecurityError("工作簿含有不安全的 XML 内容（DTD/实体声明），拒绝读取", path=self.path) from exc
            raise InputError(f"工作表「{name}」无法读取（{exc.__class__.__name__}）", path=self.path) from exc
        if any(c.formula for _, cells in rows for c in cells):
            rows = _with_cached_values(rows, dict(cached(name)))
        return rows

    def merged(self, name: str) -> list[str]:
        from djctl.io.xlsx import _MERGE

        member = getattr(self.wb[name], "_worksheet_path", None)
        if not member:
            return []
        with zipfile.ZipFile(self.path) as zf:
            try:
                data = zf.read(member)
            except KeyError:
                return []
        return [m.decode().upper() for m in _MERGE.findall(data)]  # any quoting, either case (as calamine)


def _with_cached_values(rows: list[tuple[int, list[Any]]], cached: dict[int, list[Any]]) -> list[tuple[int, list[Any]]]:
    """Formula cells take the number the saving program cached (calamine reads it); a formula without a
    cached number stays a formula (refused by the row reader)."""
    from djctl.io.xlsx import Cell, _is_number

    out = []
    for rownum, cells in rows:
        values = cached.get(rownum, [])
        new = []
        for i, c in enumerate(cells):
            v = values[i] if i < len(values) else None
            if c.formula and _is_number(v):
                new.append(Cell(v, False, str(c.value)))
            else:
                new.append(c)
        out.append((rownum, new))
    return out
