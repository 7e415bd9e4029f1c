"""Word documents built directly with python-docx in the official layout (after GB/T 9704-2012).

A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; body 仿宋_GB2312 三号 (16 pt), title
方正小标宋简体 二号 (22 pt). Chinese fonts are set on the East Asian slot (`w:rFonts w:eastAsia`) of every
run as well as on the styles, so Word shows them even where the Latin font differs.

The 问题整改反馈单 (one per rectification item) is built here; reports go through `djctl.io.render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from djctl.io.outfile import save_docx

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
BODY_PT = 16  # 三号
TABLE_PT = 14  # 四号
TITLE_PT = 22  # 二号


def set_run_font(run: Any, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    """Name the font for Latin and East Asian text of one run (w:rFonts ascii/hAnsi/eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)
    if size_pt is not None:
        run.font.size = Pt(size_pt)
    if bold is not None:
        run.font.bold = bold


def new_document() -> Any:
    """An empty A4 document with the official margins and a 仿宋_GB2312 三号 Normal style."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), BODY_FONT)
    pf = normal.paragraph_format
    pf.line_spacing = Pt(28)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    return doc


def add_title(doc: Any, text: str) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(16)
    p.paragraph_format.line_spacing = Pt(36)
    set_run_font(p.add_run(text), TITLE_FONT, TITLE_PT)
    return p


def add_body(doc: Any, text: str, *, indent: bool = True, align: str | None = None, font: str = BODY_FONT,
             size_pt: float = BODY_PT, bold: bool | None = None) -> Any:
    """A body paragraph; first line indented two characters unless `indent` is False."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size_pt * 2)
    if align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_run_font(p.add_run(text), font, size_pt, bold)
    return p


def _cell_text(cell: Any, text: str, *, size_pt: float = TABLE_PT, bold: bool | None = None,
               center: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    lines = text.split("\n") if text else [""]
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        p.paragraph_format.line_spacing = Pt(size_pt * 1.5)
        p.paragraph_format.first_line_indent = None
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_run_font(p.add_run(line), BODY_FONT, size_pt, bold)


def _row_height(row: Any, mm: float) -> None:
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.shared import Mm

    row.height = Mm(mm)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def _widths(table: Any, mms: Sequence[float]) -> None:
    from docx.shared import Mm

    table.autofit = False
    for col, w in zip(table.columns, mms, strict=False):   # the grid, which LibreOffice and WPS lay out by
        col.width = Mm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, mms, strict=False):
            cell.width = Mm(w)


# ------------------------------------------------------------------ 问题整改反馈单

FILL_IN = ("整改措施", "整改结果", "责任人", "完成时间")


def write_feedback_form(path: Path, item: dict[str, Any], *, issuer: str) -> Path:
    """One 问题整改反馈单: the item's organization, problem, source and deadline; blanks to fill in."""
    doc = new_document()
    add_title(doc, "问题整改反馈单")
    add_body(doc, f"编号：{item['id']:04d}", indent=False, align="right", size_pt=TABLE_PT)
    rows = [
        ("单位（组织）名称", item["name"] or item["org"]),
        ("问题来源", item["source_cn"] + (f"（{ref}）" if (ref := item.get("source_ref") or "")
                                         and ":" not in ref and "#" not in ref else "")),   # a person's words, not a key
        ("问题描述", item["problem"]),
        ("整改时限", f"{cn_date(item['due'])}前"),
        ("整改措施", ""),
        ("整改结果", ""),
        ("责任人", ""),
        ("完成时间", "　　　　年　　月　　日"),
    ]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for (label, value), row in zip(rows, table.rows, strict=True):
        _cell_text(row.cells[0], label, bold=True, center=True)
        _cell_text(row.cells[1], value)
        # one A4 page: 225 mm of 版心 hold the title, these rows and the signature lines
        if label in ("整改措施", "整改结果"):
            _row_height(row, 36)
        elif label == "问题描述":
            _row_height(row, 20)
        else:
            _row_height(row, 9)
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.insert(0, tr_pr.makeelement("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cantSplit", {}))
    _widths(table, (44, 112))
    add_body(doc, "单位（盖章）：　　　　　　　　　负责人（签字）：", indent=False, size_pt=TABLE_PT)
    add_body(doc, "填报日期：　　　　年　　月　　日", indent=False, align="right", size_pt=TABLE_PT)
    add_body(doc, f"请于整改时限前填写本单，连同整改佐证材料报送{issuer}。", size_pt=TABLE_PT)
    save_docx(doc, path)
    return path


def cn_date(value: Any) -> str:
    """2024-09-30 → 2024年9月30日 (Arabic numerals, as GB/T 9704-2012 asks)."""
    from datetime import date

    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{d.year}年{d.month}月{d.day}日"
