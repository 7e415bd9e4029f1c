"""Where an .xlsx keeps its sheets, shared strings and styles (from the package relationships)."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parts:
    sheets: dict[str, str]            # sheet name -> zip member
    sst: str | None = None
    styles: str | None = None
    _dates: Any = field(default=None, repr=False)
    _empty: Any = field(default=None, repr=False)

    def date_styles(self, zf: zipfile.ZipFile) -> frozenset[int]:
        if self._dates is None:
            from djctl.io.xlsx_scan import date_styles

            self._dates = date_styles(zf, self.styles)
        return self._dates

    def empty_strings(self, zf: zipfile.ZipFile) -> bool:
        if self._empty is None:
            from djctl.io.xlsx_scan import has_empty_shared_string

            self._empty = has_empty_shared_string(zf, self.sst)
        return self._empty


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rels(zf: zipfile.ZipFile, names: set[str], part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, member) of a part's relationships."""
    from defusedxml.ElementTree import fromstring

    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return []
    out = []
    for el in fromstring(zf.read(rels)):
        if _local(el.tag) != "Relationship" or el.get("TargetMode") == "External":
            continue
        target = el.get("Target") or ""
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((el.get("Id") or "", el.get("Type") or "", member))
    return out


def workbook_parts(zf: zipfile.ZipFile) -> Parts | None:
    """The parts of the workbook, or None when they cannot be found (the reference reader then decides)."""
    try:
        from defusedxml.ElementTree import fromstring

        names = set(zf.namelist())
        book = next((m for _, t, m in _rels(zf, names, "") if t.endswith("/officeDocument")), "xl/workbook.xml")
        if book not in names:
            return None
        rels = {i: (t, m) for i, t, m in _rels(zf, names, book)}
        parts = Parts({})
        for t, m in rels.values():
            if t.endswith("/sharedStrings") and m in names:
                parts.sst = m
            elif t.endswith("/styles") and m in names:
                parts.styles = m
        for el in fromstring(zf.read(book)).iter():
            if _local(el.tag) != "sheet":
                continue
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            hit = rels.get(rid or "")
            if hit and hit[1] in names:
                parts.sheets[el.get("name") or ""] = hit[1]
        return parts
    except Exception:  # noqa: BLE001 - damaged package parts: the reference reader refuses them as before
        return None
