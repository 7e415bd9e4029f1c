"""What python-calamine does not say about an .xlsx, found in the package's XML without parsing it all.

calamine gives each cell's value only. Before a sheet is handed to it, the sheet's XML is scanned once, in
bounded chunks, with a few byte patterns (nothing expanded; an XML parser only where the patterns cannot
be sure of the extent):

- the extent of the cells that hold something: calamine allocates the whole rectangle, so a two-cell sheet
  (A1 and XFD1048576) would abort the process; a sheet over `MAX_CELLS` is refused before calamine sees it.
  The bound is taken from every `r` attribute in whatever syntax XML allows (single quotes, spaces around
  "=", lower-case letters: calamine accepts them all); where it cannot be sure (cells written other than
  `<c r="...`, no namespace-free sheetData, or a bound over `MAX_CELLS`) the sheet is walked by an XML
  parser the way calamine walks it (`_walked_extent`);
- whether the sheet has anything whose value calamine reports differently from the way djctl has always
  read it (openpyxl's rules): formulas (`<f>`), error cells, ISO-typed date cells, numbers written with a
  decimal point or exponent where the value is whole ("9.0", "1E3") or with more digits than a float keeps,
  empty inline strings, empty shared strings, leading or trailing white space not marked
  xml:space="preserve" (calamine trims it), cells in a date number format, and attributes written other
  than name="value" (single quotes, spaces around "="), which the value patterns assume. Such a sheet is
  read by the reference reader (`xlsx_openpyxl`), exactly as before; every other sheet by calamine.

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

from djctl.io.calamine_read import MAX_CELLS
from djctl.io.zip_read import inflate, read_part

CHUNK = 1 << 20


# text with leading or trailing white space but no xml:space="preserve": calamine trims it, openpyxl did not
_UNPRESERVED = rb"<%st(?![^>]*preserve)(?:\s[^>]*)?>(?:\s|[^<]*+(?<=\s)<)"


def _patterns(p: bytes) -> tuple[re.Pattern[bytes], ...]:
    """The scan's patterns; `p` matches a namespace prefix ("" when the sheet uses none: much faster)."""
    return (
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


#: every attribute named r (a cell's or a row's reference), in any syntax XML allows, with its letters and its
#: row number (leading zeros dropped, at most 12 digits: more is past any bound anyway); other attributes
#: ending in r ("header", "footer") give small numbers or nothing, which only widens the bound
_R_ATTR = re.compile(rb"r\s*=\s*[\"']([A-Za-z]*)0*([0-9]{0,12})")
#: every cell start tag: "<c" and a character that cannot continue an element name; and one with a
#: namespace prefix ("<x:c"), which calamine takes for a cell too
_CELL_START = re.compile(rb"<c[^\w.:-]")
_PREFIXED_CELL = re.compile(rb":c[^\w.:-]")
#: attribute syntax other than name="value": the value patterns below assume it
_ODD_ATTR = re.compile(rb"=(?:(?<=\s=)|\s|')")
_LARGEST = (1_048_576, 16_384)  # an extent that cannot be known is taken as the largest a sheet can have

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
    max_row = max_col = 0
    walk = special = formulas = False
    styles: set[bytes] = set()
    cols: set[bytes] = set()
    pats = None
    for part, look in _pieces(zf, member):
        if pats is None:  # SpreadsheetML written with a namespace prefix (x:c, x:v) needs the slower patterns
            pats = _PLAIN if b"<sheetData" in look else _PREFIXED
            walk = pats is _PREFIXED
        style, formula, *specials = pats
        refs = _R_ATTR.findall(part)
        if refs:
            letters, numbers = zip(*refs)
            cols.update(letters)
            max_row = max(max_row, max(int(n or 0) for n in set(numbers)))
        # a cell whose start tag is not `<c r="` (no reference, or another attribute first): walked below
        if not walk and (len(_CELL_START.findall(part)) != part.count(b'<c r="') + part.count(b"<c/")
                         or _PREFIXED_CELL.search(part)):
            walk = True
        if styles_needed:
            styles.update(style.findall(part))
        if not special:
            special = _ODD_ATTR.search(look) is not None or any(pat.search(look) for pat in specials)
        if not formulas:
            formulas = formula.search(look) is not None
    max_col = max((col_index(c.upper()) if len(c) <= 3 else _LARGEST[1] + 1 for c in cols), default=0)
    if walk or max_row * max_col > MAX_CELLS:
        max_row, max_col = _walked_extent(zf, member) or _LARGEST
    return SheetScan(max_row, max_col, special, formulas, frozenset(int(s) for s in styles))


def _walked_extent(zf: zipfile.ZipFile, member: str) -> tuple[int, int] | None:
    """The extent of the cells calamine would hold, found the way calamine walks sheetData (calamine's
    xlsx/cells_reader.rs): a row's r sets the row, the end of a row moves to the next; a cell's r sets
    its place, a cell without one takes the next column; only a cell with content counts. By a streaming
    defusedxml parse. None when calamine would refuse a reference or the XML does not parse (the extent is
    then unknown)."""
    from defusedxml.ElementTree import iterparse

    row_index = col_index_ = height = width = 0
    cell: list[Any] | None = None  # [row, column, holds something]
    data: Any = None  # the sheetData element and the open row: emptied as the walk goes (memory stays bounded)
    row_el: Any = None
    try:
        with zf.open(member) as fh:
            for event, el in iterparse(fh, events=("start", "end")):
                tag = el.tag.rpartition("}")[2]
                if data is None:
                    if event == "start" and tag == "sheetData":
                        data = el
                    continue
                if event == "start":
                    if cell is not None:
                        cell[2] = True
                    elif tag == "row":
                        row_el = el
                        if el.get("r") is not None:
                            ref = _calamine_ref(el.get("r"))
                            if ref is None:
                                return None
                            row_index = ref[0]
                    elif tag == "c":
                        place = (row_index, col_index_)
                        if el.get("r") is not None:
                            ref = _calamine_ref(el.get("r"))
                            if ref is None or ref[1] < 0:
                                return None
                            place = ref
                            col_index_ = ref[1]
                        cell = [place[0], place[1], False]
                    continue
                if tag == "c" and cell is not None:
                    if cell[2]:
                        height, width = max(height, cell[0] + 1), max(width, cell[1] + 1)
                    col_index_ += 1
                    cell = None
                    for parent in (data, row_el):  # finished cells outside a row, or in a long one
                        if parent is not None and len(parent) > 256:
                            parent.clear()
                elif tag == "row" and cell is None:
                    row_index += 1
                    col_index_ = 0
                    data.clear()
                    row_el = None
                elif tag == "sheetData" and cell is None:
                    break
                el.clear()
    except Exception:  # noqa: BLE001 - XML that does not parse: the extent is unknown
        return None
    return height, width


_CALAMINE_REF = re.compile(r"([A-Za-z]*)([0-9]+)")


def _calamine_ref(value: str) -> tuple[int, int] | None:
    """(row, column), 0-based, of a reference as calamine reads it: letters of either case, then digits;
    column -1 when there are no letters (a row's reference). None where calamine refuses it."""
    m = _CALAMINE_REF.fullmatch(value)
    if m is None or int(m.group(2)) < 1:
        return None
    return int(m.group(2)) - 1, col_index(m.group(1).upper()) - 1


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
