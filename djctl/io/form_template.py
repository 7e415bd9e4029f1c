"""Forms written from a rendered template (issue 21): openpyxl renders a kind of form once, each unit's file is
the template's zip with only the sheets' cells (and the hidden meta sheet's values) filled in.

A form is described by a `FormSpec`: the sheet's rows as (value, style key) cells, column widths, data
validations, the frozen row and the meta sheet's key/values. `render_openpyxl` writes a spec the way the
forms were always written (openpyxl write-only: styles, validation, protection, a very hidden meta sheet);
it renders the template, and is the reference the tests compare the fast writer with. `form_bytes` takes
the template for the spec's shape (rendered on first use, kept for the process) and produces the unit's
file: every part but the two sheets is the template's own bytes (already compressed), and each sheet is the
template's XML around a `<sheetData>` rebuilt from the unit's values, cell by cell as openpyxl writes it
(inline strings, XML-escaped, non-ASCII as character references; a string is always a string cell, never a
formula). A template checks on creation that the cell writer here reproduces openpyxl's bytes for every row
it rendered, and a fill refuses rows whose shape differs from the template's.

Zip members keep the template's order; their dates (and the document's created/modified dates) are the
caller's business date, so the same input gives the same bytes. Files are written by the caller through
`djctl.io.outfile` (temporary file, sync, rename, links refused).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from djctl.errors import InputError
from djctl.domain.textclean import display_width
from djctl.io.xlsx import cell_value

def _styles() -> dict[str | None, dict[str, Any]]:
    """The style keys a spec may use, as openpyxl style keyword arguments."""
    from openpyxl.styles import Alignment, Border, Font, Protection, Side

    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)  # the table's cells: ruled when printed
    return {None: {}, "title": {"font": Font(bold=True, size=14)}, "bold": {"font": bold},
            "header": {"font": bold, "alignment": Alignment(wrap_text=True, vertical="center", horizontal="center"),
                       "border": box},
            "wrap": {"alignment": wrap}, "cell": {"border": box, "alignment": Alignment(vertical="center")},
            "cell_wrap": {"border": box, "alignment": wrap},
            "unlocked": {"protection": unlocked, "border": box, "alignment": Alignment(vertical="center")},
            "unlocked_wrap": {"protection": unlocked, "alignment": wrap, "border": box}}


Cell = tuple[Any, str | None]  # (value, style key)


@dataclass(frozen=True)
class Validation:
    """A data validation: openpyxl DataValidation keyword arguments (as sorted pairs) and its range."""

    kwargs: tuple[tuple[str, Any], ...]
    sqref: str

    @classmethod
    def of(cls, sqref: str, **kwargs: Any) -> Validation:
        return cls(tuple(sorted(kwargs.items())), sqref)


@dataclass
class FormSpec:
    kind: str                              # the form kind (also a template cache key part)
    sheet: str
    widths: tuple[float, ...]              # columns A, B, … in order
    freeze: str                            # the first unfrozen cell, e.g. "A7"
    validations: tuple[Validation, ...]
    rows: list[list[Cell]]
    meta: dict[str, str] = field(default_factory=dict)
    merges: tuple[str, ...] = ()                  # e.g. the instructions across the table: ("A4:G4",)
    heights: tuple[tuple[int, float], ...] = ()   # (row, points)
    landscape: bool = False                       # printed on A4, fit to one page width either way

    def shape(self) -> tuple[Any, ...]:
        """Everything of the spec that is the same for every unit of a template: the parts outside the cells
        and the style of every cell position."""
        return (self.kind, self.sheet, self.widths, self.freeze, self.validations,
                tuple(tuple(style for _, style in row) for row in self.rows), tuple(self.meta), self.merges,
                self.heights, self.landscape)


WRAP_STYLES = frozenset({"wrap", "cell_wrap", "unlocked_wrap", "header"})
LINE_POINTS = 15.0  # one line of the default 11-point font


def text_lines(text: str, width: float) -> int:
    """About how many lines `text` takes wrapped in a column `width` characters wide (a CJK character counts
    as two), line breaks included. Short texts (task names repeat on every unit's form) are cached."""
    return _short_lines(text, width) if len(text) <= 200 else _lines(text, width)


def _lines(text: str, width: float) -> int:
    per_line = max(1.0, width - 1)
    return sum(max(1, -(-display_width(part) // per_line)) for part in text.split("\n"))


_short_lines = lru_cache(maxsize=4096)(_lines)


def wrapped_heights(rows: list[list[Cell]], widths: tuple[float, ...], first_row: int) -> tuple[tuple[int, float], ...]:
    """Row heights for the rows whose wrapped text takes more than one line: a row without a height keeps one
    line in LibreOffice (and when printed), so a long task name ran into the next row. `rows[0]` is sheet row
    `first_row`."""
    out = []
    for rownum, row in enumerate(rows, first_row):
        lines = max((int(text_lines(v, widths[c])) for c, (v, style) in enumerate(row)
                     if style in WRAP_STYLES and isinstance(v, str) and v and c < len(widths)), default=1)
        if lines > 1:
            out.append((rownum, min(409.0, lines * LINE_POINTS)))  # 409 points: Excel's highest row
    return tuple(out)


# ---------------------------------------------------------------- the reference writer (openpyxl)


def render_openpyxl(spec: FormSpec) -> bytes:
    """The spec as openpyxl write-only writes it (styles, validation, protection, very hidden meta sheet)."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.xlsx import _col_letter, _discard_write_only, print_fit, wo_cell, write_meta

    styles = _styles()
    wb = OWorkbook(write_only=True)
    try:
        ws = wb.create_sheet(spec.sheet)
        for i, width in enumerate(spec.widths, 1):
            ws.column_dimensions[_col_letter(i)].width = width
        for v in spec.validations:
            dv = DataValidation(**dict(v.kwargs))
            dv.add(v.sqref)
            ws.data_validations.append(dv)
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.freeze_panes = spec.freeze
        for ref in spec.merges:
            ws.merged_cells.add(ref)
        for rownum, height in spec.heights:
            ws.row_dimensions[rownum].height = height
        print_fit(ws, spec.landscape)
        for row in spec.rows:
            ws.append([wo_cell(ws, value, **styles[style]) for value, style in row])
        write_meta(wb, spec.meta)
    except BaseException:
        _discard_write_only(wb)
        raise
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- cells as openpyxl writes them

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    """Element text as lxml writes it into openpyxl's ASCII sheet stream (non-ASCII becomes &#N; later)."""
    if _XML_INVALID.search(value):
        raise InputError(f"文本「{_XML_INVALID.sub('?', value[:40])}」含有表格文件不允许的字符，拒绝写入",
                         hint="请删除其中的不可见控制字符后再试")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


@lru_cache(maxsize=256)
def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def cell_xml(ref: str, style: str, value: Any) -> str:
    """One `<c>` element, byte for byte as openpyxl's write-only lxml writer makes it (`style`: ' s="N"' or '')."""
    value = cell_value(value)  # the same checks as every cell djctl writes (length, control characters)
    if value is None:
        return f'<c r="{ref}"{style} t="n"></c>'
    if isinstance(value, str):
        if value == "":
            return f'<c r="{ref}"{style} t="inlineStr"></c>'
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
    if isinstance(value, bool):
        raise TypeError("form cells take no booleans")
    if isinstance(value, (int, float, Decimal)):
        num = "" if value != value or value in (float("inf"), float("-inf")) else "%.16g" % value
        return f'<c r="{ref}"{style} t="n"><v>{num}</v></c>'
    raise TypeError(f"form cells take text and numbers, not {type(value).__name__}")


def row_xml(rownum: int, values: Sequence[Any], styles: Sequence[str], attrs: str = "") -> str:
    """A row as openpyxl writes it; `attrs` are the row's own attributes (a set height), the template's."""
    cells = "".join(cell_xml(f"{_letter(i)}{rownum}", styles[i - 1], v) for i, v in enumerate(values, 1))
    return f'<row r="{rownum}"{attrs}>{cells}</row>'


# ---------------------------------------------------------------- the template

_SHEET_DATA = re.compile(rb"<sheetData>(.*)</sheetData>", re.S)
_ROW = re.compile(rb'<row r="(\d+)"([^>]*)>(.*?)</row>', re.S)
_CELL_STYLE = re.compile(rb'<c r="[A-Z]+\d+"( s="\d+")?')
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
MAIN_PART = "xl/worksheets/sheet1.xml"
META_PART = "xl/worksheets/sheet2.xml"


class NotReproduced(Exception):
    """The cell writer here does not give the bytes this openpyxl wrote for a template's row."""


class _Sheet:
    """A sheet of the template: the XML around its cells, each position's style and the rows it rendered."""

    def __init__(self, xml: bytes, rows: list[list[Any]], part: str) -> None:
        m = _SHEET_DATA.search(xml)
        if m is None:
            raise NotReproduced(f"template {part}: no sheetData")
        self.head = xml[: m.start(1)]
        self.tail = xml[m.end(1):]
        found = _ROW.findall(m.group(1))
        if [int(r) for r, _, _ in found] != list(range(1, len(rows) + 1)):
            raise NotReproduced(f"template {part}: rows {[int(r) for r, _, _ in found]} for {len(rows)} rows")
        self.styles = [[s.decode() for s in _CELL_STYLE.findall(body)] for _, _, body in found]
        self.attrs = [a.decode() for _, a, _ in found]
        self.values = [list(r) for r in rows]
        self.rows = [f'<row r="{r.decode()}"{a.decode()}>'.encode() + body + b"</row>" for r, a, body in found]
        for i, values in enumerate(rows):  # the writer here must give openpyxl's bytes for every rendered row
            if len(self.styles[i]) != len(values) or row_xml(i + 1, values, self.styles[i], self.attrs[i]).encode(
                    "ascii", "xmlcharrefreplace") != self.rows[i]:
                raise NotReproduced(f"template {part}: row {i + 1} not reproduced")

    def fill(self, rows: Sequence[Sequence[Any]]) -> bytes:
        if len(rows) != len(self.values):
            raise ValueError(f"form has {len(rows)} rows, its template {len(self.values)}")
        parts = [self.head]
        for i, values in enumerate(rows):
            if values == self.values[i]:
                parts.append(self.rows[i])
                continue
            styles = self.styles[i]
            if len(values) != len(styles):
                raise ValueError(f"row {i + 1} has {len(values)} cells, its template {len(styles)}")
            parts.append(row_xml(i + 1, values, styles, self.attrs[i]).encode("ascii", "xmlcharrefreplace"))
        parts.append(self.tail)
        return b"".join(parts)


@dataclass
class _Member:
    name: str
    raw: bytes
    crc: int
    packed: bytes


def _member(name: str, raw: bytes) -> _Member:
    return _Member(name, raw, zlib.crc32(raw), _deflate(raw))


def _deflate(raw: bytes) -> bytes:
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile's ZIP_DEFLATED
    return c.compress(raw) + c.flush()


class FormTemplate:
    """A form kind rendered once; `fill` gives a unit's xlsx bytes."""

    def __init__(self, spec: FormSpec) -> None:
        for row in spec.rows:  # a value no workbook can hold is refused here as in every fill (InputError)
            for value, _ in row:
                cell_xml("A1", "", value)
        for key, value in spec.meta.items():
            cell_xml("A1", "", key)
            cell_xml("A1", "", str(value))
        rendered = render_openpyxl(spec)
        with zipfile.ZipFile(io.BytesIO(rendered)) as zf:
            parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
        names = [n for n, _ in parts]
        if MAIN_PART not in names or META_PART not in names:
            raise NotReproduced(f"template parts: {names}")
        raw = dict(parts)
        self.order = names
        self.main = _Sheet(raw[MAIN_PART], [[v for v, _ in row] for row in spec.rows], MAIN_PART)
        self.meta = _Sheet(raw[META_PART], [[k, str(v)] for k, v in spec.meta.items()], META_PART)
        self.core = raw.get("docProps/core.xml")
        self.fixed = {n: _member(n, b) for n, b in parts if n not in (MAIN_PART, META_PART, "docProps/core.xml")}
        self._cores: dict[date, _Member] = {}

    def fill(self, spec: FormSpec, on: date) -> bytes:
        """The unit's workbook: the template with `spec`'s cells and meta values; zip and document dates `on`."""
        members = []
        for name in self.order:
            if name == MAIN_PART:
                members.append(_member(name, self.main.fill([[v for v, _ in row] for row in spec.rows])))
            elif name == META_PART:
                members.append(_member(name, self.meta.fill([[k, str(v)] for k, v in spec.meta.items()])))
            elif name == "docProps/core.xml":
                members.append(self._core(on))
            else:
                members.append(self.fixed[name])
        return zip_members(members, on)

    def _core(self, on: date) -> _Member:
        if on not in self._cores:
            self._cores[on] = _member("docProps/core.xml", _core_dates(self.core or b"", on))
        return self._cores[on]


_TEMPLATES: OrderedDict[tuple[Any, ...], FormTemplate | None] = OrderedDict()
_KEEP = 8


def template_for(spec: FormSpec) -> FormTemplate | None:
    """The template of the spec's shape: rendered on first use, kept for the process (a few kinds at most).
    None when the cell writer here does not reproduce what this openpyxl wrote (another openpyxl, no lxml):
    the forms of that shape are then rendered by openpyxl one by one."""
    key = spec.shape()
    if key in _TEMPLATES:
        _TEMPLATES.move_to_end(key)
        return _TEMPLATES[key]
    try:
        tpl: FormTemplate | None = FormTemplate(spec)
    except NotReproduced:
        tpl = None
    _TEMPLATES[key] = tpl
    while len(_TEMPLATES) > _KEEP:
        _TEMPLATES.popitem(last=False)
    return tpl


def form_bytes(spec: FormSpec, on: date) -> bytes:
    tpl = template_for(spec)
    if tpl is not None:
        return tpl.fill(spec, on)
    with zipfile.ZipFile(io.BytesIO(render_openpyxl(spec))) as zf:  # the slow way, same dates and zip layout
        parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return zip_members([_member(n, _core_dates(b, on) if n == "docProps/core.xml" else b) for n, b in parts], on)


def _core_dates(xml: bytes, on: date) -> bytes:
    iso = f"{on.isoformat()}T00:00:00Z".encode()
    return _CORE_DATES.sub(lambda m: m.group(1) + iso + m.group(3), xml)


def write_spec(path: Any, spec: FormSpec, on: date, **kw: Any) -> Any:
    """Write a form through the one safe writer (target checked, temporary file, sync, rename; links refused)."""
    from djctl.io.outfile import write_bytes

    return write_bytes(path, form_bytes(spec, on), **kw)


# ---------------------------------------------------------------- the zip, as zipfile writes it


def zip_members(members: Sequence[_Member], on: date) -> bytes:
    """A zip of already-deflated members, byte for byte what `zipfile` writes with ZIP_DEFLATED, the date `on`
    (midnight) and mode 0644 (as io/zipnorm) — written here so constant parts are compressed only once."""
    dosdate = (max(on.year, 1980) - 1980) << 9 | on.month << 5 | on.day
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        name = m.name.encode("ascii")
        head = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, dosdate, m.crc, len(m.packed),
                           len(m.raw), len(name), 0)
        central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 8, 0, dosdate, m.crc,
                                   len(m.packed), len(m.raw), len(name), 0, 0, 0, 0, 0o644 << 16, offset) + name)
        local += (head, name, m.packed)
        offset += len(head) + len(name) + len(m.packed)
    cd = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), offset, 0)
    return b"".join(local) + cd + end

