"""Word output: docxtpl renders the template around the laid-out body; tables are spliced in afterwards."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from html import escape as _xml_escape
from typing import Any

from djctl.errors import DjctlError, InputError, SecurityError
from djctl.io.render.context import _FIGURE_WIDTH_MM, RenderLimits, TemplateRef
from djctl.io.render import official
from djctl.io.render.measure import _column_widths, _display_width, _unbreakable_width  # noqa: F401
from djctl.io.render.sandbox import _sandbox_classes, make_sandbox

DOCX_STYLES: dict[str, str] = {
    "normal": "Normal",
    "issuer_mark": "发文机关标志",
    "doc_number": "发文字号",
    "red_line": "版头分隔线",
    "title": "公文标题",
    "recipients": "主送机关",
    "body": "公文正文",
    "heading1": "一级标题",
    "heading2": "二级标题",
    "heading3": "三级标题",
    "table_caption": "表格标题",
    "table_header": "表格表头",
    "table_text": "表格文字",
    "table_note": "表格注释",
    "figure": "图片",
    "figure_caption": "图题",
    "figure_note": "图注",
    "attachment_note": "附件说明",
    "signature": "发文机关署名",
    "date": "成文日期",
    "attachment_label": "附件标识",
    "page_number": "页码",
    "table": "djctl表格",
}
# Used when a user's Word template lacks one of the styles above.
_STYLE_FALLBACK = {
    "heading1": "Heading 1", "heading2": "Heading 2", "heading3": "Heading 3", "title": "Title",
    "table": "Table Grid", "figure_caption": "Caption", "table_caption": "Caption",
}




_DOCX_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _check_docx_file(tpl: TemplateRef, limits: RenderLimits) -> None:
    path, where = tpl.path, str(tpl.path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"模板文件无法读取（{exc.strerror or exc}）", path=where) from exc
    if size > limits.max_docx_template_bytes:
        raise InputError(f"Word 模板过大（{size // 1048576} MB）", path=where)
    if not zipfile.is_zipfile(path):
        raise InputError("Word 模板不是有效的 .docx 文件", path=where, hint="请在 Word 中另存为 .docx（不是 .doc）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 2000:
                raise SecurityError("Word 模板内部文件过多，拒绝读取", path=where)
            total = 0
            for info in infos:
                total += info.file_size
                if total > limits.max_docx_uncompressed or (
                        info.file_size > 1048576 and info.file_size > 150 * max(info.compress_size, 1)):
                    raise SecurityError("Word 模板解压后体积过大（疑似压缩炸弹），拒绝读取", path=where)
                if info.flag_bits & 0x1:
                    raise InputError("Word 模板已加密，无法读取", path=where)
            if "word/document.xml" not in {i.filename for i in infos}:
                raise InputError("文件是 zip 但不是 Word 文档（缺少 word/document.xml）", path=where)
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as fh:
                        head = fh.read(4096)
                    root = re.search(rb"<(?![?!])", head)
                    prolog = head if root is None else head[: root.start()]
                    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
                        raise SecurityError(f"Word 模板内部文件「{info.filename}」含有 DTD/实体声明，拒绝读取",
                                            path=where)
    except zipfile.BadZipFile as exc:
        raise InputError(f"Word 模板已损坏（{exc}）", path=where) from exc


def _render_docx(doc: dict[str, Any], tpl: TemplateRef, limits: RenderLimits, *, splice_tables: bool = True) -> bytes:
    """The Word document. Tables are not laid out through docxtpl: the body carries one placeholder
    paragraph per table, docxtpl renders the template around it, and the table XML is streamed into
    the saved package in its place (`_splice_tables`). docxtpl would otherwise re-parse, re-map and
    re-serialise every table cell (most of the time and memory for a table of thousands of rows).
    ``splice_tables=False`` keeps the tables inline through docxtpl (the equivalence tests' reference:
    both ways give the same word/document.xml byte for byte)."""
    from docxtpl import DocxTemplate
    from jinja2.exceptions import SecurityError as JinjaSecurityError
    from markupsafe import Markup

    class SafeDocxTemplate(DocxTemplate):
        def render_xml_part(self, src_xml: str, part: Any, context: Any, jinja_env: Any = None) -> str:
            out = super().render_xml_part(src_xml, part, context, jinja_env)
            if _DOCX_DTD.search(out):
                raise JinjaSecurityError("rendered XML declares a DTD or entity")
            return out

    if tpl.user:
        _check_docx_file(tpl, limits)
    try:
        docx_tpl = SafeDocxTemplate(str(tpl.path))
        document = docx_tpl.get_docx()
    except DjctlError:
        raise
    except Exception as exc:
        raise InputError(f"Word 模板无法打开（{type(exc).__name__}）", path=str(tpl.path),
                         hint="请在 Word 中打开并重新保存为 .docx") from exc
    builder = _DocxBuilder(document, splice_tables=splice_tables)
    context = {k: v for k, v in doc.items()}
    context["body"] = Markup(builder.body(doc))
    context["attachments_body"] = Markup(builder.attachments(doc))
    context["head_body"] = Markup(official.head_xml(doc, builder.style_ids, builder.text_width_twips))
    context["signature_body"] = Markup(official.signature_xml(doc, builder.style_ids))
    context["record_body"] = Markup(official.record_xml(doc, builder.final_width_twips, builder.final_height_twips))
    env = make_sandbox("docx", limits)
    docx_tpl.render(context, jinja_env=env, autoescape=True)
    document = docx_tpl.docx
    document.core_properties.title = doc["title"][:255]
    if doc["issuer"]:
        document.core_properties.author = doc["issuer"][:255]
    buf = io.BytesIO()
    docx_tpl.save(buf)
    if not builder.tables:
        return buf.getvalue()
    # A user template's output budget covers the tables it places, as when they were part of its output.
    allowance = limits.max_output_chars - env.budget.output if tpl.user else None
    return _splice_tables(buf, builder, allowance)


def _splice_tables(package: io.BytesIO, builder: _DocxBuilder, allowance: int | None) -> bytes:
    """Copy the saved package, writing each table's XML where its placeholder paragraph ended up.

    Every part keeps its name, order, date and compression; a part that holds placeholders is written
    as a stream (the text around the placeholders, then each table row by row), so a table of any size
    is never held whole in memory. A placeholder that the template copied twice gets the table twice,
    as the inline body would have; one the template dropped leaves no table, as before. `allowance`
    (characters, None for no limit) bounds the table XML written in all.
    """
    token = builder.token.encode("ascii")
    pattern = re.compile(rb"<((?:[\w.-]+:)?)p(?: [^>]*)?><\1r><\1t>" + re.escape(token)
                         + rb"-(\d+)</\1t></\1r></\1p>")
    budget = [allowance]
    out = io.BytesIO()
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if token not in data:
                zout.writestr(info, data)
                continue
            target = zipfile.ZipInfo(info.filename, info.date_time)
            target.compress_type = info.compress_type
            target.external_attr = info.external_attr
            with zout.open(target, "w") as fh:
                pos = 0
                for m in pattern.finditer(data):
                    number = int(m.group(2))
                    if not 1 <= number <= len(builder.tables):
                        continue
                    fh.write(data[pos:m.start()])
                    # `w` is bound to the WordprocessingML namespace where the placeholder was written
                    # without a declaration; anywhere else the table declares it itself.
                    plain = m.group(0).startswith(b"<w:p><w:r><w:t>")
                    builder.write_table(fh, number - 1, declare_ns=not plain, budget=budget)
                    pos = m.end()
                fh.write(data[pos:])
    return out.getvalue()


class _DocxBuilder:
    """Lays out sections, tables and figures as WordprocessingML with the template's own styles.

    Paragraphs and tables are written as XML that names the styles by id (looked up once), which is
    far quicker than python-docx's per-paragraph style lookup; figures are native charts (`chart_docx`).
    With ``splice_tables`` a table becomes a placeholder paragraph in the body (see `_render_docx`)
    and its XML is written later by `write_table`.
    """

    def __init__(self, document: Any, *, splice_tables: bool = True) -> None:
        import secrets

        from docx.shared import Mm

        self.document = document
        self.splice_tables = splice_tables
        self.token = f"djctl-table-{secrets.token_hex(16)}"
        self.tables: list[tuple[list[str], list[list[str]], int, int]] = []
        self.keep_tables: set[int] = set()   # tables whose last row keeps with what follows (the 署名)
        by_name: dict[tuple[str, str], str] = {}
        for el in document.styles.element.findall(_w("style")):
            name_el = el.find(_w("name"))
            if name_el is not None and el.get(_w("styleId")):
                by_name.setdefault((el.get(_w("type")) or "paragraph", name_el.get(_w("val"), "").lower()),
                                   el.get(_w("styleId")))
        self.style_ids: dict[str, str | None] = {}
        for key, name in DOCX_STYLES.items():
            kind = "table" if key == "table" else "paragraph"
            sid = by_name.get((kind, name.lower()))
            if sid is None and key in _STYLE_FALLBACK:
                sid = by_name.get((kind, _STYLE_FALLBACK[key].lower()))
            self.style_ids[key] = sid
        try:
            sec = document.sections[-1]
            width = sec.page_width - sec.left_margin - sec.right_margin
        except (IndexError, TypeError):
            width = None
        self.text_width = int(width) if width and width > Mm(40) else int(Mm(156))
        self.portrait_width = self.text_width
        try:
            sec = document.sections[-1]
            self.landscape_width = int(sec.page_height - sec.top_margin - sec.bottom_margin)
        except (IndexError, TypeError):
            self.landscape_width = int(Mm(225))
        self.final_landscape = False
        self._next_shape_id: int | None = None

    @property
    def text_width_twips(self) -> int:
        return self.portrait_width * 1440 // 914400

    @property
    def final_height_twips(self) -> int:
        """Height of the 版心 of the document's last section (after its orientation is set), in twips."""
        try:
            sec = self.document.sections[-1]
            return int(sec.page_height - sec.top_margin - sec.bottom_margin) * 1440 // 914400
        except (IndexError, TypeError):
            return 12756

    @property
    def final_width_twips(self) -> int:
        return (self.landscape_width if self.final_landscape else self.portrait_width) * 1440 // 914400

    # --- containers
    @staticmethod
    def _container() -> Any:
        from docx.oxml import OxmlElement

        return OxmlElement("w:body")

    @staticmethod
    def _xml(element: Any) -> str:
        from lxml import etree

        return "".join(etree.tostring(child, encoding="unicode") for child in element)

    def body(self, doc: dict[str, Any]) -> str:
        element = self._container()
        for s in doc["sections"]:
            self._section(element, s)
        atts = doc["attachments"]
        names = [_attachment_name(a["heading"]) for a in atts]
        if atts:  # the last lines of text go with the 附件说明 and the 署名 (GB/T 9704 7.3.5.4)
            self._keep_last(element)
        if len(atts) == 1:
            self._para(element, f"附件：{names[0]}", "attachment_note")
        elif atts:
            for i, name in enumerate(names, 1):
                prefix = "附件：" if i == 1 else "\u3000\u3000\u3000"
                # one blank line above the 附件说明 (the style's), none between its lines
                p = self._para(element, f"{prefix}{i}. {name}", "attachment_note",
                               '<w:spacing w:before="0"/>' if i > 1 else "")
                if i < len(names):  # the 附件说明 is one block: never split across pages
                    _keep_next(p)
        # the 署名 follows the last lines of text onto their page (never alone on a page)
        self._keep_last(element)
        return self._xml(element)

    def _keep_last(self, element: Any) -> None:
        """The last paragraph, or the last row of a last table, keeps with what follows."""
        last = element[-1] if len(element) else None
        if last is None:
            return
        if self._is_placeholder(last):
            self.keep_tables.add(int((last.xpath("string(.)") or "").rsplit("-", 1)[1]) - 1)
        elif last.tag == _w("p"):
            _keep_next(last)
        elif last.tag == _w("tbl"):   # a table laid inline (splice_tables=False), as `_table_xml` keep_last
            rows = last.findall(_w("tr"))
            for p in rows[-1].iter(_w("p")) if rows else ():
                _keep_next(p)

    def attachments(self, doc: dict[str, Any]) -> str:
        element = self._container()
        atts = doc["attachments"]
        landscape = False
        for i, a in enumerate(atts, 1):
            want = bool(a.get("landscape"))
            if want != landscape:
                # end the section so far (its orientation) and start one in the other orientation
                self._section_break(element, landscape)
                landscape = want
                self.text_width = self.landscape_width if landscape else self.portrait_width
            extra = "" if self.style_ids["attachment_label"] else "<w:pageBreakBefore/>"
            if i > 1 and want and not bool(atts[i - 2].get("landscape")):
                extra = ""
            self._para(element, "附件" if len(atts) == 1 else f"附件{i}", "attachment_label", extra)
            if a["heading"]:
                self._para(element, _attachment_name(a["heading"]), "title")
            self._content(element, a)
        ends_with_table = len(element) and (element[-1].tag == _w("tbl") or self._is_placeholder(element[-1]))
        if atts and official.has_record(doc):
            # the attachment's last lines keep with the 版记 at the foot of their page (never a page of its own)
            self._keep_last(element)
        if ends_with_table:
            if atts and official.has_record(doc):   # a table is followed by a paragraph: one that takes no line
                self._para(element, "", "normal", '<w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="0" '
                           'w:after="0" w:line="20" w:lineRule="exact"/>')
            else:
                self._para(element, "", "normal")
        self.final_landscape = landscape
        if landscape:
            _set_orientation(self.document.sections[-1]._sectPr, landscape=True)
        self.text_width = self.portrait_width
        return self._xml(element)

    def _section_break(self, element: Any, landscape: bool) -> None:
        """A paragraph closing the current section with the template's page setup in `landscape` or not."""
        import copy

        from docx.oxml import parse_xml

        sect = copy.deepcopy(self.document.sections[-1]._sectPr)
        _set_orientation(sect, landscape=landscape)
        p = parse_xml(f'<w:p xmlns:w="{_W_NS}"><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" '
                      'w:lineRule="exact"/></w:pPr></w:p>')
        p[0].append(sect)
        element.append(p)

    def _is_placeholder(self, p: Any) -> bool:
        return p.tag == _w("p") and (p.xpath("string(.)") or "").startswith(self.token)

    # --- pieces
    def _para(self, element: Any, text: str, key: str, ppr_extra: str = "") -> Any:
        from docx.oxml import parse_xml

        sid = self.style_ids.get(key)
        style = f'<w:pStyle w:val="{_xml_attr(sid)}"/>' if sid else ""
        ppr = f"<w:pPr>{style}{ppr_extra}</w:pPr>" if style or ppr_extra else ""
        p = parse_xml(f'<w:p xmlns:w="{_W_NS}">{ppr}{_runs_xml(text, "")}</w:p>')
        element.append(p)
        return p

    def _section(self, element: Any, s: dict[str, Any]) -> None:
        if s["heading"]:
            level = min(max(int(s["level"]), 1), 3)
            self._para(element, s["heading"], f"heading{level}")
        self._content(element, s)

    def _content(self, element: Any, s: dict[str, Any]) -> None:
        for text in s["paragraphs"]:
            self._para(element, text, "body")
        for t in s["tables"]:
            self._table(element, t)
        for f in s["figures"]:
            self._figure(element, f)
        for sub in s["subsections"]:
            self._section(element, sub)

    def _table(self, element: Any, t: dict[str, Any]) -> None:
        from docx.oxml import parse_xml

        if t["caption"]:
            self._para(element, t["caption"], "table_caption")
        columns, rows = t["columns"], t["rows"]
        ncols = len(columns) or max((len(r) for r in rows), default=0)
        if ncols:
            if self.splice_tables:
                self.tables.append((columns, rows, ncols, self.text_width))
                element.append(parse_xml(f'<w:p xmlns:w="{_W_NS}"><w:r><w:t>{self.token}-{len(self.tables)}'
                                         "</w:t></w:r></w:p>"))
            else:
                element.append(parse_xml("".join(self._table_xml(columns, rows, ncols, declare_ns=True,
                                                                 docxtpl_text=False))))
        if t["note"]:
            self._para(element, t["note"], "table_note")

    def write_table(self, fh: Any, index: int, *, declare_ns: bool, budget: list[int | None]) -> None:
        """Write spliced table `index` (0-based) to the binary stream `fh`, in pieces of about 256 KB,
        charging `budget[0]` (characters left, None for no limit)."""
        columns, rows, ncols, width = self.tables[index]
        pending: list[str] = []
        size = 0
        for piece in self._table_xml(columns, rows, ncols, declare_ns=declare_ns, docxtpl_text=True, width=width,
                                     keep_last=index in self.keep_tables):
            pending.append(piece)
            size += len(piece)
            if size >= 1 << 18:
                self._charge(budget, size)
                fh.write("".join(pending).encode("utf-8"))
                pending, size = [], 0
        self._charge(budget, size)
        fh.write("".join(pending).encode("utf-8"))

    @staticmethod
    def _charge(budget: list[int | None], size: int) -> None:
        if budget[0] is None:
            return
        budget[0] -= size
        if budget[0] < 0:
            _, limit_exceeded = _sandbox_classes()
            raise limit_exceeded("输出超过上限（模板放入的表格过多或过大）")

    def _table_xml(self, columns: list[str], rows: list[list[str]], ncols: int, *, declare_ns: bool,
                   docxtpl_text: bool, width: int | None = None, keep_last: bool = False) -> Iterator[str]:
        """The table as pieces of XML text: the properties and grid, then one piece per row.

        ``docxtpl_text`` applies what docxtpl's rendering does to all text it renders (``{_{`` becomes
        ``{{`` and so on), so that a spliced table reads exactly as one rendered through docxtpl."""
        widths_chars = []
        minimums = []
        measures: dict[str, tuple[int, int]] = {}
        for c in range(ncols):
            natural = minimum = None
            for x in ([columns[c]] if columns else []) + [r[c] for r in rows]:
                m = measures.get(x)
                if m is None:
                    m = measures[x] = (_display_width(x), _unbreakable_width(x))
                if natural is None:
                    natural, minimum = m
                else:
                    natural = max(natural, m[0])
                    minimum = max(minimum, m[1])
            widths_chars.append(2 if natural is None else natural)
            minimums.append(2 if minimum is None else minimum)
        del measures
        total_twips = (width or self.text_width) * 1440 // 914400
        widths = _column_widths(widths_chars, minimums, total_twips)
        long_text = [w > 24 for w in widths_chars]
        table_style = self.style_ids["table"]
        parts = [f'<w:tbl xmlns:w="{_W_NS}"><w:tblPr>' if declare_ns else "<w:tbl><w:tblPr>"]
        if table_style:
            parts.append(f'<w:tblStyle w:val="{_xml_attr(table_style)}"/>')
        parts.append(f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>')
        if not table_style:
            parts.append("<w:tblBorders>" + "".join(
                f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                for side in ("top", "left", "bottom", "right", "insideH", "insideV")) + "</w:tblBorders>")
        parts.append('<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
                     'w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>')
        parts.extend(f'<w:gridCol w:w="{w}"/>' for w in widths)
        parts.append("</w:tblGrid>")
        head = "".join(parts)
        yield _docxtpl_text(head) if docxtpl_text else head
        if columns:
            row = self._row_xml(columns, widths, "table_header", header=True, left=[False] * ncols, cache={})
            yield _docxtpl_text(row) if docxtpl_text else row
        cache: dict[tuple[int, str], str] = {}
        last = len(rows) - 1
        for n, r in enumerate(rows):
            row = self._row_xml(r, widths, "table_text", header=False, left=long_text, cache=cache)
            if keep_last and n == last:   # the 署名 that follows keeps this row on its page
                row = re.sub(r"<w:pPr/>|<w:pPr>(<w:pStyle [^>]*/>)?",
                             lambda m: f"<w:pPr>{m.group(1) or ''}<w:keepNext/>" + ("</w:pPr>" if m.group(0) == "<w:pPr/>" else ""),
                             row)
            yield _docxtpl_text(row) if docxtpl_text else row
        yield "</w:tbl>"

    def _row_xml(self, cells: list[str], widths: list[int], key: str, *, header: bool, left: list[bool],
                 cache: dict[tuple[int, str], str]) -> str:
        """One table row; `cache` keeps each column's cell XML by text (scores and names repeat)."""
        style_id = self.style_ids.get(key)
        ppr_style = f'<w:pStyle w:val="{_xml_attr(style_id)}"/>' if style_id else ""
        rpr = "" if style_id or not header else "<w:rPr><w:b/></w:rPr>"
        out = ["<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header
               else "<w:tr><w:trPr><w:cantSplit/></w:trPr>"]
        ncells = len(cells)
        for i, w in enumerate(widths):
            text = cells[i] if i < ncells else ""
            xml = cache.get((i, text))
            if xml is None:
                jc = '<w:jc w:val="left"/>' if left[i] else ""
                ppr = f"<w:pPr>{ppr_style}{jc}</w:pPr>" if ppr_style or jc else "<w:pPr/>"   # as lxml writes it
                xml = cache[(i, text)] = (
                    f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                    f"<w:p>{ppr}{_runs_xml(text, rpr)}</w:p></w:tc>")
                if len(cache) > 50_000:
                    cache.clear()
            out.append(xml)
        out.append("</w:tr>")
        return "".join(out)

    def _figure(self, element: Any, f: dict[str, Any]) -> None:
        """A native Word chart (chart part + embedded workbook, `chart_docx`): it carries the Chinese
        category names and axis titles itself, so no legend by number follows it."""
        from docx.oxml import parse_xml
        from docx.shared import Mm

        from djctl.io.render.chart_docx import add_chart

        p = self._para(element, "", "figure")
        if self._next_shape_id is None:   # ids of drawings added here; the body is not in the document yet
            self._next_shape_id = self.document.part.next_id + 100
        width = min(int(Mm(_FIGURE_WIDTH_MM)), self.text_width)
        p.append(parse_xml(add_chart(self.document.part, f["chart"], width_emu=width, shape_id=self._next_shape_id,
                                     name=f"图表 {f['number']}")))
        self._next_shape_id += 1
        if f["caption"]:
            self._para(element, f["caption"], "figure_caption")


def _attachment_name(heading: str) -> str:
    """An attachment's title without a leading 附件/附件：/附件1 (the layout adds the label itself)."""
    return re.sub(r"^附件\s*\d*\s*[：:.、]?\s*", "", heading or "") or heading


def _keep_next(p: Any) -> None:
    from docx.oxml import parse_xml

    ppr = p.find(_w("pPr"))
    if ppr is None:
        ppr = parse_xml(f'<w:pPr xmlns:w="{_W_NS}"/>')
        p.insert(0, ppr)
    if ppr.find(_w("keepNext")) is None:
        el = parse_xml(f'<w:keepNext xmlns:w="{_W_NS}"/>')
        style = ppr.find(_w("pStyle"))
        ppr.insert(1 if style is not None else 0, el)


def _set_orientation(sect: Any, *, landscape: bool) -> None:
    """Turn a sectPr's A4 page (and its margins) to landscape, or back to the template's portrait."""
    pg, mar = sect.find(_w("pgSz")), sect.find(_w("pgMar"))
    if pg is None or mar is None:
        return
    w, h = int(pg.get(_w("w"))), int(pg.get(_w("h")))
    if (w > h) == landscape:
        return
    pg.set(_w("w"), str(h))
    pg.set(_w("h"), str(w))
    if landscape:
        pg.set(_w("orient"), "landscape")
    else:
        pg.attrib.pop(_w("orient"), None)
    top, right, bottom, left = (mar.get(_w(k)) for k in ("top", "right", "bottom", "left"))
    # the 版心 turned a quarter: the long margins (top 37, bottom 35 mm) become left and right
    new = {"top": left, "bottom": right, "left": top, "right": bottom} if landscape else \
        {"top": left, "right": bottom, "bottom": right, "left": top}
    for k, v in new.items():
        if v is not None:
            mar.set(_w(k), v)
    if landscape:
        mar.set(_w("footer"), str(round(15 * 1440 / 25.4)))


def _w(tag: str) -> str:
    return f"{{{_W_NS}}}{tag}"


def _runs_xml(text: str, rpr: str) -> str:
    if not text:
        return ""
    if "\n" not in text and "\t" not in text:
        return f'<w:r>{rpr}<w:t xml:space="preserve">{_xml_escape(text, quote=False)}</w:t></w:r>'
    pieces = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append("<w:br/>")
        for j, chunk in enumerate(line.split("\t")):
            if j:
                pieces.append("<w:tab/>")
            if chunk:
                pieces.append(f'<w:t xml:space="preserve">{_xml_escape(chunk, quote=False)}</w:t>')
    return f"<w:r>{rpr}{''.join(pieces)}</w:r>"


def _xml_attr(value: str) -> str:
    """An attribute value escaped as lxml writes it (so spliced XML matches what docxtpl would save)."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _docxtpl_text(xml: str) -> str:
    """What docxtpl's `render_xml_part` does to all the XML it renders, besides running Jinja."""
    if "_" not in xml:
        return xml
    return xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
