"""Build djctl/templates/official.docx, the built-in Word template, with python-docx.

    python scripts/make_docx_templates.py [OUT.docx]

The layout follows GB/T 9704-2012《党政机关公文格式》:

- A4 (210 x 297 mm); margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (版心 156 x 225 mm);
  document grid 22 lines x 28 characters (line pitch 28.95 pt).
- 标题 2号 (22 pt) 方正小标宋简体, centred; 正文 3号 (16 pt) 仿宋_GB2312, first line indented 2 characters,
  exact line spacing 28.95 pt; 一级标题 黑体, 二级标题 楷体_GB2312, 三级标题 仿宋_GB2312 bold, all 3号.
- 版头 (only when the context has a 发文字号): 发文机关标志 in red 方正小标宋简体, its top 35 mm below the top
  of the 版心, 发文字号 centred two lines under it, a red rule about 4 mm under the 字号 the width of the 版心.
- 发文机关署名 centred over 成文日期, the date ending 4 characters from the right margin.
- 版记 (抄送, 印发机关 and 印发日期 between rules) at the foot of the last page.
- Page numbers `— 1 —` in 4号 (14 pt) 宋体 in the footer: odd pages right, even pages left, one character
  in from the edge of the 版心 (odd/even footers, `w:evenAndOddHeaders`), a PAGE field.
- Tables in 小四 (12 pt) 仿宋, header row 黑体 and repeated on each page, fitted to the 版心 width.

Every font is named as an East Asian font (`w:eastAsia`) with Times New Roman for Latin text, without
theme fonts, so Word uses the installed 仿宋_GB2312 etc. The styles keep their Chinese names; a user can
restyle them in Word and pass the file back with `--templates DIR` (saved as DIR/official.docx or
DIR/<kind>.docx). The body holds docxtpl tags: {{p head_body }}, {{p body }}, {{p signature_body }},
{{p attachments_body }} and {{p record_body }} (older templates with {{ title }} and {{ issuer }} still work).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from djctl.io.render import DOCX_STYLES  # noqa: E402

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
LATIN = "Times New Roman"
FANGSONG, HEITI, KAITI, XBS, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
LINE = 579            # twips: 28.95 pt, 22 lines in the 225 mm 版心
CHAR = 320            # twips: one 3号 character (16 pt)
RED = "FF0000"

# role -> (style id, East Asian font, half-points, paragraph properties, extra run properties)
# Paragraph properties are WordprocessingML in schema order; Normal supplies 仿宋 3号 and the grid line.
PARAGRAPH_STYLES: dict[str, tuple[str, str, int, str, str]] = {
    "body": ("djctlBody", FANGSONG, 32,
             f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
             f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/><w:jc w:val="both"/>', ""),
    "issuer_mark": ("djctlIssuerMark", XBS, 52,
                    '<w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="240" '
                    'w:lineRule="auto"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', f'<w:color w:val="{RED}"/>'),
    "doc_number": ("djctlDocNumber", FANGSONG, 32,
                   f'<w:keepNext/><w:spacing w:before="{2 * LINE}" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                   '<w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "red_line": ("djctlRedLine", FANGSONG, 8,
                 f'<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="1" w:color="{RED}"/></w:pBdr>'
                 f'<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="{2 * LINE}" w:line="160" '
                 'w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "title": ("djctlTitle", XBS, 44,
              f'<w:keepNext/><w:spacing w:before="0" w:after="{LINE}" w:line="{LINE}" w:lineRule="atLeast"/>'
              '<w:ind w:firstLine="0"/><w:jc w:val="center"/><w:outlineLvl w:val="0"/>', ""),
    "recipients": ("djctlRecipients", FANGSONG, 32,
                   f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                   '<w:ind w:firstLine="0"/><w:jc w:val="both"/>', ""),
    "heading1": ("djctlHeading1", HEITI, 32,
                 f'<w:keepNext/><w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                 f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/><w:jc w:val="both"/>'
                 '<w:outlineLvl w:val="1"/>', ""),
    "heading2": ("djctlHeading2", KAITI, 32,
                 f'<w:keepNext/><w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                 f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/><w:jc w:val="both"/>'
                 '<w:outlineLvl w:val="2"/>', ""),
    "heading3": ("djctlHeading3", FANGSONG, 32,
                 f'<w:keepNext/><w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                 f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/><w:jc w:val="both"/>'
                 '<w:outlineLvl w:val="3"/>', "<w:b/><w:bCs/>"),
    "table_caption": ("djctlTableCaption", HEITI, 28,
                      '<w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="120" w:after="120" '
                      'w:line="400" w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "table_text": ("djctlTableText", FANGSONG, 24,
                   '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="360" '
                   'w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    # no keepNext: LibreOffice makes it "keep the table with the next paragraph" and pushes the last rows
    # of a table onto the next page with the signature; the header row repeats on every page instead
    "table_header": ("djctlTableHeader", HEITI, 24,
                     '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="360" '
                     'w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "table_note": ("djctlTableNote", FANGSONG, 24,
                   '<w:snapToGrid w:val="0"/><w:spacing w:before="60" w:after="120" w:line="360" '
                   'w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="both"/>', ""),
    "figure": ("djctlFigure", FANGSONG, 32,
               '<w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="120" w:after="0" w:line="240" '
               'w:lineRule="auto"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "figure_caption": ("djctlFigureCaption", HEITI, 28,
                       '<w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="60" w:after="60" '
                       'w:line="400" w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="center"/>', ""),
    "figure_note": ("djctlFigureNote", FANGSONG, 24,
                    '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="120" w:line="360" '
                    'w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="both"/>', ""),
    "attachment_note": ("djctlAttachmentNote", FANGSONG, 32,
                        f'<w:spacing w:before="{LINE}" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
                        f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/><w:jc w:val="left"/>', ""),
    "signature": ("djctlSignature", FANGSONG, 32,
                  f'<w:keepNext/><w:spacing w:before="{2 * LINE}" w:after="0" w:line="{LINE}" '
                  f'w:lineRule="exact"/><w:ind w:rightChars="400" w:right="{4 * CHAR}" w:firstLine="0"/>'
                  '<w:jc w:val="right"/>', ""),
    "date": ("djctlDate", FANGSONG, 32,
             f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
             f'<w:ind w:rightChars="400" w:right="{4 * CHAR}" w:firstLine="0"/><w:jc w:val="right"/>', ""),
    "attachment_label": ("djctlAttachmentLabel", HEITI, 32,
                         f'<w:keepNext/><w:pageBreakBefore/><w:spacing w:before="0" w:after="{LINE}" '
                         f'w:line="{LINE}" w:lineRule="exact"/><w:ind w:firstLine="0"/><w:jc w:val="left"/>', ""),
    "page_number": ("djctlPageNumber", SONG, 28,
                    '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="240" '
                    'w:lineRule="auto"/><w:ind w:firstLine="0"/>', ""),
}


def fonts(east: str, latin: str = LATIN) -> str:
    return f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east}" w:cs="{latin}"/>'


def run_props(east: str, half_points: int, extra: str = "", latin: str = LATIN) -> str:
    """rPr children in schema order: rFonts, b/bCs (in extra), color (in extra), sz, szCs."""
    bold = "".join(x for x in ("<w:b/>", "<w:bCs/>") if x in extra)
    rest = extra.replace("<w:b/>", "").replace("<w:bCs/>", "")
    # 3号 text a quarter point tighter: 28 characters fill the 156 mm line (GB/T 9704: 22 lines x 28 characters)
    tight = '<w:spacing w:val="-5"/>' if half_points == 32 else ""
    return f'{fonts(east, latin)}{bold}{rest}{tight}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


def style_xml(style_id: str, name: str, ppr: str, rpr: str, *, based_on: str = "Normal") -> str:
    return (f'<w:style xmlns:w="{W}" w:type="paragraph" w:customStyle="1" w:styleId="{style_id}">'
            f'<w:name w:val="{name}"/><w:basedOn w:val="{based_on}"/><w:next w:val="djctlBody"/>'
            f'<w:uiPriority w:val="1"/><w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>')


def table_style_xml() -> str:
    border = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    return (f'<w:style xmlns:w="{W}" w:type="table" w:customStyle="1" w:styleId="djctlTable">'
            f'<w:name w:val="{DOCX_STYLES["table"]}"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/>'
            '<w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="360" w:lineRule="exact"/>'
            '<w:ind w:firstLine="0"/><w:jc w:val="center"/></w:pPr>'
            f'<w:rPr>{run_props(FANGSONG, 24)}</w:rPr>'
            f'<w:tblPr><w:jc w:val="center"/><w:tblBorders>{border}</w:tblBorders>'
            '<w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="57" w:type="dxa"/>'
            '<w:bottom w:w="28" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr>'
            '<w:tcPr><w:vAlign w:val="center"/></w:tcPr>'
            f'<w:tblStylePr w:type="firstRow"><w:rPr><w:rFonts w:eastAsia="{HEITI}"/><w:b/></w:rPr>'
            '<w:tblPr/><w:trPr><w:tblHeader/></w:trPr></w:tblStylePr></w:style>')


def setup_styles(doc) -> None:
    styles = doc.styles.element
    # No theme fonts anywhere: they would override the named Chinese fonts.
    for rfonts in styles.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
    defaults = styles.find(qn("w:docDefaults"))
    defaults.getparent().remove(defaults)
    styles.insert(0, parse_xml(
        f'<w:docDefaults xmlns:w="{W}"><w:rPrDefault><w:rPr>{run_props(FANGSONG, 32)}'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
        '</w:pPrDefault></w:docDefaults>'))
    normal = doc.styles["Normal"].element
    for tag in ("w:pPr", "w:rPr"):
        old = normal.find(qn(tag))
        if old is not None:
            normal.remove(old)
    normal.append(parse_xml(
        f'<w:pPr xmlns:w="{W}"><w:widowControl w:val="0"/><w:overflowPunct w:val="0"/><w:adjustRightInd w:val="0"/>'
        f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/><w:jc w:val="both"/></w:pPr>'))
    normal.append(parse_xml(f'<w:rPr xmlns:w="{W}">{run_props(FANGSONG, 32)}</w:rPr>'))
    for role, (style_id, east, size, ppr, extra) in PARAGRAPH_STYLES.items():
        latin = SONG if role == "page_number" else LATIN
        styles.append(parse_xml(style_xml(style_id, DOCX_STYLES[role], ppr, run_props(east, size, extra, latin))))
    styles.append(parse_xml(table_style_xml()))


def setup_page(doc) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance = Mm(15)
    sec.footer_distance = Mm(21.5)   # puts the number line about 7 mm under the 版心
    sec.gutter = Mm(0)
    grid = sec._sectPr.find(qn("w:docGrid"))
    # A line grid (22 lines in the 225 mm type area). No character grid: 3号 characters are 16 pt and
    # 156 mm holds 27.6 of them; a "linesAndChars" grid of 28 (15.79 pt pitch) made LibreOffice and WPS
    # give every character two cells, i.e. 14 characters a line (seen in a rendered page).
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE))


def page_number_paragraph(part_p, align: str) -> None:
    """— PAGE — in the footer paragraph, one 4号 character in from the outer edge."""
    side = "right" if align == "right" else "left"
    ppr = (f'<w:pPr xmlns:w="{W}"><w:pStyle w:val="djctlPageNumber"/>'
           f'<w:ind w:{side}Chars="100" w:{side}="280" w:firstLine="0"/><w:jc w:val="{align}"/></w:pPr>')
    p = part_p._p
    for child in list(p):
        p.remove(child)
    p.append(parse_xml(ppr))
    rpr = f'<w:rPr>{fonts(SONG, SONG)}<w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr>'
    for xml in (f'<w:r>{rpr}<w:t xml:space="preserve">— </w:t></w:r>',
                f'<w:r>{rpr}<w:fldChar w:fldCharType="begin"/></w:r>',
                f'<w:r>{rpr}<w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
                f'<w:r>{rpr}<w:fldChar w:fldCharType="separate"/></w:r>',
                f'<w:r>{rpr}<w:t>1</w:t></w:r>',
                f'<w:r>{rpr}<w:fldChar w:fldCharType="end"/></w:r>',
                f'<w:r>{rpr}<w:t xml:space="preserve"> —</w:t></w:r>'):
        p.append(parse_xml(xml.replace("<w:r>", f'<w:r xmlns:w="{W}">', 1)))


def setup_footers(doc) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    sec = doc.sections[0]
    sec.different_first_page_header_footer = False
    page_number_paragraph(sec.footer.paragraphs[0], "right")             # odd pages
    page_number_paragraph(sec.even_page_footer.paragraphs[0], "left")
    sec.header.is_linked_to_previous = False
    sec.even_page_header.is_linked_to_previous = False


def setup_settings(doc) -> None:
    settings = doc.settings.element
    for el in settings.iter(qn("w:themeFontLang")):
        el.set(qn("w:eastAsia"), "zh-CN")
    for el in settings.iter(qn("w:characterSpacingControl")):
        el.set(qn("w:val"), "compressPunctuation")


# Word falls back on altName when a font is missing (Windows 10 has 仿宋 but not 仿宋_GB2312).
FONT_TABLE = ((FANGSONG, "仿宋", "modern"), (KAITI, "楷体", "modern"), (XBS, "宋体", "roman"),
              (HEITI, "SimHei", "modern"), (SONG, "SimSun", "auto"))


def setup_font_table(doc) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = parse_xml(part.blob)
    names = {el.get(qn("w:name")) for el in root.findall(qn("w:font"))}
    for name, alt, family in FONT_TABLE:
        if name not in names:
            root.append(parse_xml(
                f'<w:font xmlns:w="{W}" w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'))
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def body(doc) -> None:
    """The docxtpl skeleton; every paragraph carries the style of what it becomes."""
    b = doc.element.body
    for child in list(b):
        if child.tag != qn("w:sectPr"):
            b.remove(child)

    def p(text: str, role: str | None = None) -> None:
        doc.add_paragraph(text, style=DOCX_STYLES[role] if role else None)

    # 版头 + title + 主送, the body, 署名 and 成文日期, the attachments, then the 版记: each laid out by
    # djctl/io/render/official.py with the styles below (a user may restyle them in Word).
    p("{{p head_body }}", "title")
    p("{{p body }}", "body")
    p("{{p signature_body }}", "signature")
    p("{{p attachments_body }}", "body")
    p("{{p record_body }}", "body")


def drop_thumbnail(doc) -> None:
    """The python-docx default package carries a thumbnail of another document; Word makes its own."""
    rels = doc.part.package.rels
    for rid, rel in list(rels.items()):
        if rel.reltype.endswith("/metadata/thumbnail"):
            del rels[rid]


def build(out: Path) -> Path:
    doc = Document()
    drop_thumbnail(doc)
    setup_styles(doc)
    setup_page(doc)
    setup_settings(doc)
    setup_footers(doc)
    setup_font_table(doc)
    body(doc)
    cp = doc.core_properties
    cp.title = "djctl 公文模板"
    cp.subject = "GB/T 9704-2012 党政机关公文格式"
    cp.author = "djctl"
    cp.comments = ("可在 Word 中修改样式（公文标题、公文正文、一级标题、二级标题、djctl表格等）后，"
                   "以 official.docx 或 文档类型.docx 的名字放入 --templates 目录使用。")
    cp.keywords = ""
    cp.last_modified_by = "djctl"
    cp.revision = 1
    import datetime as _dt

    fixed = _dt.datetime(2024, 1, 1, 0, 0, 0)   # reproducible output
    cp.created = cp.modified = fixed
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "djctl" / "templates" / "official.docx"
    print(build(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
