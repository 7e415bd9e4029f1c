"""The xlsx output: one sheet per table of the document."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from djctl.io.render.context import _tables


def _render_xlsx(doc: dict[str, Any]) -> bytes:
    from djctl.io.xlsx import write_table_workbook

    sheets = []
    used: set[str] = set()
    for t in _tables(doc):
        title = _unique_sheet_title(t["caption"] or f"表{t['number']}", used)
        sheets.append((title, t["columns"], [[_number(v) for v in row] for row in t["values"]]))
    if not sheets:
        sheets.append(("文档", ["标题", "发文机关", "成文日期"], [[doc["title"], doc["issuer"], doc["date"]]]))
    with tempfile.TemporaryDirectory(prefix="djctl-xlsx-") as tmp:
        path = Path(tmp) / "out.xlsx"
        write_table_workbook(path, sheets)
        return path.read_bytes()


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?%?")


def _number(value: Any) -> Any:
    """A table cell as Excel should hold it: a score, rate, rank or count written as text in the document
    ("94.33", "1", "38.46%") becomes a number (Decimal: the writer keeps its decimals as the cell's format),
    so that a reader can sort and sum; codes ("001", "U001"), dates and words stay text."""
    from decimal import Decimal

    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        if text.endswith("%"):
            return Percent(text[:-1])
        return Decimal(text)
    return value


class Percent(str):
    """A percentage from a table ("38.46" of "38.46%"): written as 0.3846 with the format 0.00%."""


def _unique_sheet_title(caption: str, used: set[str]) -> str:
    """A legal, unique Excel sheet name (31 characters, no []:*?/\\, no leading/trailing apostrophe)."""
    base = re.sub(r"[\[\]:*?/\\\n\t]", "_", caption).strip().strip("'") or "表"
    if base.lower() == "history":
        base = "History_"
    base = base[:31]
    title, n = base, 1
    while title.lower() in used:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


