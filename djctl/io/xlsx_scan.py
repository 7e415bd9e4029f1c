"""What python-calamine does not say about an .xlsx, found in the package's XML without parsing it all.

calamine gives each cell's value only. Before a sheet is handed to it, the sheet's XML is scanned once, in
bounded chunks, with a few byte patterns (no XML parser, nothing expanded):

- the extent of the cells that hold something: calamine allocates the whole rectangle, so a two-cell sheet
  (A1 and XFD1048576) would abort the process; a sheet over `MAX_CELLS` is refused before calamine sees it;
- whether the sheet has anything whose value calamine reports differently from the way djctl has always
  read it (openpyxl's rules): formulas (`<f>`), error cells, ISO-typed date cells, numbers written with a
  decimal point or exponent where the value is whole ("9.0", "1E3") or with more digits than a float keeps,
  empty inline strings, empty shared strings, and cells in a date number format. Such a sheet is read by
  the reference reader (`xlsx_openpyxl`), exactly as before; every other sheet by calamine.

The second XML wall (defusedxml) is `defused_prologs`: every XML part's prolog goes through defusedxml's
parser up to its root element, where any DTD or entity declaration must stand.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache

CHUNK = 1 << 20
_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
# a cell start tag that is not self-closing (so it holds something), with its reference
_CELL_REF = re.compile(rb"<" + _P + rb"c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*(?<!/)>")
_CELL_NO_REF = re.compile(rb"<" + _P + rb"c\b(?![^>]*\br=)[^>]*(?<!/)>")
_ROW_REF = re.compile(rb"<" + _P + rb"row\b[^>]*?\br=\"([0-9]{1,7})\"")
_ROW_NO_REF = re.compile(rb"<" + _P + rb"row\b(?![^>]*\br=)[^>]*>")
_STYLE = re.compile(rb"<" + _P + rb"c\b[^>]*?\bs=\"([0-9]+)\"[^>]*(?<!/)>")  # of cells holding something
_SPECIAL = re.compile(
    rb"<" + _P + rb"f[\s/>]"                                   # a formula
    rb"|<" + _P + rb"c\b[^>]*?\bt=\"(?:e|d)\""                # an error cell, an ISO date cell
    rb"|<" + _P + rb"v>\s*[-+]?[0-9]*\.0*(?![0-9])"          # a whole number written with a point
    rb"|<" + _P + rb"v>[^<]*[eE]"                            # an exponent (or any text value with an e)
    rb"|<" + _P + rb"v>\s*[-+]?[0-9]{16,}"                    # more digits than a float keeps
    rb"|<" + _P + rb"is\s*/>|<" + _P + rb"is>\s*(?=<\s*/)"   # an empty inline string
    rb"|<" + _P + rb"t\b[^>]*/>|<" + _P + rb"t\b[^>]*>(?=<\s*/)"  # an empty text element
)
_EMPTY_TEXT = re.compile(rb"<" + _P + rb"t\b[^>]*/>|<" + _P + rb"t\b[^>]*>(?=<\s*/)|<" + _P + rb"si\s*/>|<"
                         + _P + rb"si>\s*(?=<\s*/)")
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
    styles: frozenset[int]  # style ids used by cells


def scan_sheet(zf: zipfile.ZipFile, member: str) -> SheetScan:
    """One bounded pass over a sheet's XML (chunks cut before a '<', so a tag is never split)."""
    max_row = max_col = 0
    no_ref_cells = no_ref_rows = 0
    special = False
    styles: set[bytes] = set()
    cols: set[bytes] = set()
    carry = b""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf = carry + chunk
            if chunk:
                cut = buf.rfind(b"<")
                if cut <= 0:
                    carry = buf
                    continue
                part, carry = buf[:cut], buf[cut:]
                look = buf[:cut + 2]  # the lookaheads above need the next two bytes
            else:
                part = look = buf
                carry = b""
            refs = _CELL_REF.findall(part)
            if refs:
                cols.update(a for a, _ in refs)
                max_row = max(max_row, max(int(b) for _, b in refs))
            rows = _ROW_REF.findall(part)
            if rows:
                max_row = max(max_row, max(int(r) for r in rows))
            no_ref_cells += len(_CELL_NO_REF.findall(part))
            no_ref_rows += len(_ROW_NO_REF.findall(part))
            styles.update(_STYLE.findall(part))
            if not special and _SPECIAL.search(look):
                special = True
            if not chunk:
                break
    max_col = max((_col_index(c) for c in cols), default=0)
    return SheetScan(max_row + no_ref_rows, max_col + no_ref_cells, special, frozenset(int(s) for s in styles))


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def has_empty_shared_string(zf: zipfile.ZipFile, member: str | None) -> bool:
    """Whether the shared-string table holds an empty text (openpyxl reads it as '', calamine as empty)."""
    if not member:
        return False
    carry = b""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf = carry + chunk
            cut = buf.rfind(b"<") if chunk else len(buf)
            if cut <= 0 and chunk:
                carry = buf
                continue
            if _EMPTY_TEXT.search(buf[:cut + 2]):
                return True
            carry = buf[cut:]
            if not chunk:
                return False


def date_styles(zf: zipfile.ZipFile, member: str | None) -> frozenset[int]:
    """The cell style ids openpyxl reads as dates or durations (its own rule, `is_date_format`)."""
    if not member:
        return frozenset()
    data = zf.read(member)
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


@lru_cache(maxsize=256)
def _is_date_code(code: str) -> bool:
    from openpyxl.styles.numbers import is_date_format, is_timedelta_format

    return bool(is_date_format(code) or is_timedelta_format(code))


@lru_cache(maxsize=256)
def _is_date_builtin(fid: int) -> bool:
    from openpyxl.styles.numbers import builtin_format_code

    code = builtin_format_code(fid)
    return bool(code) and _is_date_code(code)


def defused_prologs(zf: zipfile.ZipFile) -> None:
    """Every XML part through defusedxml's parser up to its root element: a DTD or an entity declaration,
    which can only stand before it, raises defusedxml's error (the caller refuses the file)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import DefusedXMLParser

    for info in zf.infolist():
        name = info.filename
        if info.is_dir() or name.startswith("xl/media/") or name.lower().endswith(_IMAGE_SUFFIXES):
            continue
        with zf.open(info) as fh:
            head = fh.read(2048)
            if not head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00").startswith(b"<"):
                continue  # not XML (a printer setting, a VBA project): calamine does not parse it either
            parser = DefusedXMLParser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
            target = _RootSeen()
            parser.parser.StartElementHandler = target.start  # stop at the root element
            try:
                while head and not target.seen:
                    parser.feed(head)
                    head = b"" if target.seen else fh.read(2048)
            except _Root:
                pass
            except ParseError:
                pass  # malformed XML: calamine refuses it with its own error


class _Root(Exception):
    pass


class _RootSeen:
    seen = False

    def start(self, *_: object) -> None:
        self.seen = True
        raise _Root


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg")
