"""Where an .xlsx keeps its sheets, shared strings and styles (from the package relationships)."""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from djctl.io.zip_read import read_part


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


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(Relationship|sheet)\b([^>]*)>")
_ATTR = re.compile(rb"(?:^|\s)(?:[A-Za-z_][\w.-]*:)?([A-Za-z]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _tags(data: bytes, kind: bytes) -> list[dict[str, str]]:
    """The attributes of every `kind` element (the guard has refused DTDs and entities: a pattern over
    these small parts reads them as a parser would, without building a tree). Remembered for parts up to
    64 KB: a month's forms share these parts byte for byte (io/zip_read.py); callers only read the result."""
    return _tags_cached(data, kind) if len(data) <= 64 * 1024 else _parse_tags(data, kind)


def _parse_tags(data: bytes, kind: bytes) -> list[dict[str, str]]:
    out = []
    for tag, attrs in _TAG.findall(data):
        if tag == kind:
            out.append({k.decode(): html.unescape((a or b).decode("utf-8", "replace"))
                        for k, a, b in _ATTR.findall(attrs)})
    return out


_tags_cached = lru_cache(maxsize=64)(_parse_tags)


def _rels(zf: zipfile.ZipFile, names: set[str], part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, member) of a part's relationships."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return []
    out = []
    for el in _tags(read_part(zf, rels), b"Relationship"):
        if el.get("TargetMode") == "External":
            continue
        target = el.get("Target") or ""
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((el.get("Id") or "", el.get("Type") or "", member))
    return out


def workbook_parts(zf: zipfile.ZipFile) -> Parts | None:
    """The parts of the workbook, or None when they cannot be found (the reference reader then decides)."""
    try:
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
        for el in _tags(read_part(zf, book), b"sheet"):
            hit = rels.get(el.get("id") or "")
            if hit and hit[1] in names:
                parts.sheets[el.get("name") or ""] = hit[1]
        return parts
    except Exception:  # noqa: BLE001 - damaged package parts: the reference reader refuses them as before
        return None
