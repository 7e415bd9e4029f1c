"""What python-calamine does not say about an .xlsx, found in the package's XML without parsing it all.

calamine gives each cell's value only. Before a sheet is handed to it, the sheet's XML is scanned once, in
bounded chunks, with a few byte patterns (no XML parser, nothing expanded):

- the extent of the cells that hold something: calamine allocates the whole rectangle, so a two-cell sheet
  (A1 and XFD1048576) would abort the process; a sheet over `MAX_CELLS` is refused before calamine sees it;
- whether the sheet has anything whose value calamine reports differently from the way djctl has always
  read it (openpyxl's rules): formulas (`<f>`), error cells, ISO-typed date cells, numbers written with a
  decimal point or exponent where the value is whole ("9.0", "1E3") or with more digits than a float keeps,
  empty inline strings, empty shared strings, leading or trailing white space not marked
  xml:space="preserve" (calamine trims it), and cells in a date number format. Such a sheet is read by
  the reference reader (`xlsx_openpyxl`), exactly as before; every other sheet by calamine.

The XML walls stay in the guard (io/xlsx_guard.py): the prolog byte scan, and defusedxml's refusals on
every part's prolog up to its root element.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from djctl.io.zip_read import inflate, read_part

CHUNK = 1 << 20


# text with leading or trailing white space but no xml:space="preserve": calamine trims it, openpyxl did not
_UNPRESERVED = rb"<%st(?![^>]*preserve)(?:\s[^>]*)?>(?:\s|[^<]*+(?<=\s)<)"


def _patterns(p: bytes) -> tuple[re.Pattern[bytes], ...]:
    """The scan's patterns; `p` matches a namespace prefix ("" when the sheet uses none: much faster)."""
    return (
        # a cell start tag that is not self-closing (so it holds something), with its reference
        re.compile(rb"<" + p + rb"c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*(?<!/)>"),
        re.compile(rb"<" + p + rb"c\b(?![^>]*\br=)[^>]*(?<!/)>"),  # ... without one
        re.compile(rb"<" + p + rb"row\b[^>]*?\br=\"([0-9]{1,7})\""),
        re.compile(rb"<" + p + rb"row\b(?![^>]*\br=)[^>]*>"),
        re.compile(rb"<" + p + rb"c\b[^>]*?\bs=\"([0-9]+)\"[^>]*(?<!/)>"),  # the style of a cell holding something
        re.compile(rb"<" + p + rb"f[\s/>]"),  # a formula
        re.compile(rb"t=\"[ed]\""),  # an error cell, an ISO date cell (or another attribute ending in t)
        re.compile(rb"<" + p + rb"v>(?:\s*[-+]?[0-9]*\.0*(?![0-9])"  # a whole number written with a point,
                   rb"|[^<]*[eE]"  # an exponent (or a text value with an e),
                   rb"|\s*[-+]?[0-9]{16,})"),  # more digits than a float keeps
        re.compile(rb"<" + p + rb"is(?:\s*/>|>\s*(?=<\s*/))"),  # an empty inline string
        # empty text, or text with white space calamine would trim (_UNPRESERVED): one pass over the <t> tags
        re.compile(rb"<" + p + rb"t(?:\b[^>]*/>|\b[^>]*>(?=<\s*/)|(?![^>]*preserve)(?:\s[^>]*)?>(?:\s|[^<]*+(?<=\s)<))"),
    )


_PLAIN = _patterns(b"")
_PREFIXED = _patterns(rb"(?:[A-Za-z_][\w.-]*:)?")
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_EMPTY_TEXT = re.compile(rb"<" + _P + rb"t\b[^>]*/>|<" + _P + rb"t\b[^>]*>(?=<\s*/)|<" + _P + rb"si\s*/>|<"
                         + _P + rb"si>\s*(?=<\s*/)|" + _UNPRESERVED % _P)
_NUMFMT = re.compile(rb"<" + _P + rb"numFmt\b[^>]*>")
_ATTR = re.compile(rb"\b(numFmtId|formatCode)=\"([^\"]*)\"")
_CELLXFS = re.compile(rb"<" + _P + rb"cellXfs\b.*?</" + _P + rb"cellXfs>", re.S)
_XF = re.compile(rb"<" + _P + rb"xf\b[^>]*>")
_XF_NUMFMT = re.compile(rb"\bnumFmtId=\"([0-9]+)\"")


@dataclass
class SheetScan:
    height: int       # rows calamine would hold (from A1)
    width: int        # columns
    special: bool     # something calamine reports differently: read with the reference reader
    formulas: bool    # formulas (read by `formula_cells`, the values by calamine)
    styles: frozenset[int]  # style ids used by cells


def _pieces(zf: zipfile.ZipFile, member: str) -> Iterator[tuple[bytes, bytes]]:
    """A part's XML in bounded pieces cut before a '<', so a tag is never split: (piece, the piece and the next
    two bytes, which the lookaheads above need). A part of at most CHUNK bytes (a form's sheet) is one piece,
    inflated at once."""
    info = zf.getinfo(member)
    whole = inflate(zf, info) if info.file_size <= CHUNK else None
    if whole is not None:
        yield whole, whole
        return
    carry = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf = carry + chunk
            if not chunk:
                yield buf, buf
                return
            cut = buf.rfind(b"<")
            if cut <= 0:
                carry = buf
                continue
            carry = buf[cut:]
            yield buf[:cut], buf[:cut + 2]


def scan_sheet(zf: zipfile.ZipFile, member: str, *, styles_needed: bool = True) -> SheetScan:
    """One bounded pass over a sheet's XML (`_pieces`).
    `styles_needed=False`: the workbook has no date format, so the cells' styles are not collected."""
    max_row = 0
    no_ref_cells = no_ref_rows = 0
    special = formulas = False
    styles: set[bytes] = set()
    cols: set[bytes] = set()
    pats = None
    for part, look in _pieces(zf, member):
        if pats is None:  # SpreadsheetML written with a namespace prefix (x:c, x:v) needs the slower patterns
            pats = _PLAIN if b"<sheetData" in look else _PREFIXED
        cell_ref, cell_no_ref, row_ref, row_no_ref, style, formula, *specials = pats
        refs = cell_ref.findall(part)
        if refs:
            letters, numbers = zip(*refs)
            cols.update(letters)
            max_row = max(max_row, max(map(int, set(numbers))))
        rows = row_ref.findall(part)
        if rows:
            max_row = max(max_row, max(map(int, rows)))
        # cells and rows without a reference: counted by pattern only when a quick count says there are any
        if pats is _PREFIXED or part.count(b"<c ") + part.count(b"<c>") != part.count(b'<c r="'):
            no_ref_cells += len(cell_no_ref.findall(part))
        if pats is _PREFIXED or part.count(b"<row ") + part.count(b"<row>") != part.count(b'<row r="'):
            no_ref_rows += len(row_no_ref.findall(part))
        if styles_needed:
            styles.update(style.findall(part))
        if not special:
            special = any(pat.search(look) for pat in specials)
        if not formulas:
            formulas = formula.search(look) is not None
    max_col = max((col_index(c) for c in cols), default=0)
    return SheetScan(max_row + no_ref_rows, max_col + no_ref_cells, special, formulas,
                     frozenset(int(s) for s in styles))


def formula_cells(zf: zipfile.ZipFile, member: str) -> dict[tuple[int, int], str] | None:
    """The sheet's formula cells, (row, column) -> "=formula" as openpyxl gave them (a shared formula
    translated to each cell), by a streaming defusedxml parse; None for data-table formulas or cells without
    references (the reference reader reads those sheets)."""
    from defusedxml.ElementTree import iterparse

    out: dict[tuple[int, int], str] = {}
    shared: dict[str, Any] = {}
    with zf.open(member) as fh:
        for _, el in iterparse(fh, events=("end",)):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "row":
                el.clear()
                continue
            if tag != "c":
                continue
            f = next((ch for ch in el if ch.tag.rsplit("}", 1)[-1] == "f"), None)
            if f is not None:
                ref = el.get("r")
                kind = f.get("t")
                if not ref or kind == "dataTable":
                    return None
                value = "=" + (f.text or "")
                if kind == "shared":
                    si = f.get("si")
                    if si in shared:
                        value = shared[si].translate_formula(ref)
                    elif value != "=":
                        from openpyxl.formula.translate import Translator

                        shared[si] = Translator(value, ref)
                out[_ref(ref)] = value
            el.clear()
    return out


def _ref(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]), col_index(letters)


def col_index(letters: str | bytes) -> int:
    """A column's number from its letters (A = 1, XFD = 16384), as text or bytes."""
    n = 0
    for ch in letters.encode() if isinstance(letters, str) else letters:
        n = n * 26 + ch - 64
    return n


def has_empty_shared_string(zf: zipfile.ZipFile, member: str | None) -> bool:
    """Whether the shared-string table holds an empty text (openpyxl reads it as '', calamine as empty) or
    white space that calamine would trim."""
    return bool(member) and any(_EMPTY_TEXT.search(look) for _, look in _pieces(zf, member))


def date_styles(zf: zipfile.ZipFile, member: str | None) -> frozenset[int]:
    """The cell style ids openpyxl reads as dates or durations (its own rule, `is_date_format`)."""
    if not member:
        return frozenset()
    data = read_part(zf, member)
    # remembered by the part's bytes: a month's forms share one styles part (a large one is not kept)
    return _date_styles_cached(data) if len(data) <= 256 * 1024 else _parse_date_styles(data)


def _parse_date_styles(data: bytes) -> frozenset[int]:
    custom: dict[bytes, str] = {}
    for tag in _NUMFMT.findall(data):
        attrs = dict(_ATTR.findall(tag))
        if b"numFmtId" in attrs:
            custom[attrs[b"numFmtId"]] = html.unescape(attrs.get(b"formatCode", b"").decode("utf-8", "replace"))
    m = _CELLXFS.search(data)
    if not m:
        return frozenset()
    out = set()
    for idx, xf in enumerate(_XF.findall(m.group(0))):
        fm = _XF_NUMFMT.search(xf)
        fid = fm.group(1) if fm else b"0"
        if fid in custom:
            is_date = _is_date_code(custom[fid])
        else:
            is_date = _is_date_builtin(int(fid))
        if is_date:
            out.add(idx)
    return frozenset(out)


_date_styles_cached = lru_cache(maxsize=64)(_parse_date_styles)


@lru_cache(maxsize=256)
def _is_date_code(code: str) -> bool:
    from openpyxl.styles.numbers import is_date_format, is_timedelta_format

    return bool(is_date_format(code) or is_timedelta_format(code))


#: the built-in number formats openpyxl reads as dates or durations (its BUILTIN_FORMATS through
#: is_date_format/is_timedelta_format; a test derives the set from openpyxl itself): written out so that a
#: reader meeting only built-in formats never imports openpyxl
DATE_BUILTINS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})


def _is_date_builtin(fid: int) -> bool:
    return fid in DATE_BUILTINS
