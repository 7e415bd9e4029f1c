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
        sheets.append((title, t["columns"], t["values"]))
    if not sheets:
        sheets.append(("文档", ["标题", "发文机关", "成文日期"], [[doc["title"], doc["issuer"], doc["date"]]]))
    with tempfile.TemporaryDirectory(prefix="djctl-xlsx-") as tmp:
        path = Path(tmp) / "out.xlsx"
        write_table_workbook(path, sheets)
        return path.read_bytes()


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


