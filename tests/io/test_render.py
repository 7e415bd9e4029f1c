"""One context rendered to Word, Markdown, HTML and xlsx; Word read back with python-docx."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from djctl.errors import InputError, SecurityError
from djctl.io.render import BUILTIN_DIR, DOCX_STYLES, find_template, md_escape, render_document

NASTY = ["A&B<c>", 'He said "hi" & \'bye\'', "第一党支部|甲", "=1+1", "*星号*_下划线_"]


def make_rows(n: int = 30) -> list[list[Any]]:
    rows = []
    for i in range(n):
        name = f"{NASTY[i]}{i}" if i < len(NASTY) else f"市直单位{i:02d}党组"
        rows.append([i + 1, name, str(Decimal("95.50") - Decimal(i) / 2), None if i % 7 else "抽查"])
    return rows


def make_ctx(**over: Any) -> dict[str, Any]:
    rows = make_rows()
    ctx = {
        "kind": "bulletin",
        "title": "关于2024年第一季度党建工作考核情况的通报",
        "issuer": "中共××市直属机关工作委员会",
        "doc_number": "市直工委〔2024〕5号",
        "recipients": "各直属单位党组织：",
        "date": "2024年4月10日",
        "sections": [
            {"heading": "一、基本情况", "level": 1,
             "paragraphs": ["第一季度，各单位认真落实月度任务清单。A&B<c> 表现突出。", "第二段\n换行。"],
             "tables": [{"caption": "表1 第一季度得分排名", "columns": ["排名", "单位", "得分", "备注"],
                         "rows": rows, "note": "注：得分为月度得分率的平均值。"}],
             "figures": [{"caption": "图1 第一季度得分", "chart": {
                 "type": "bar", "labels": [r[1] for r in rows[:10]], "values": [r[2] for r in rows[:10]],
                 "series_name": "得分", "max_value": 100}}],
             "subsections": [{"heading": "（一）抽查情况", "level": 2, "paragraphs": ["抽查 8 个单位。"]}]},
            {"heading": "二、存在问题", "level": 1, "paragraphs": ["1. 个别单位未报送。"]},
        ],
        "attachments": [],
    }
    ctx.update(over)
    return ctx


def cell_str(v: Any) -> str:
    return "" if v is None else str(v)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("render")
    paths = render_document(make_ctx(), ["docx", "md", "html", "xlsx"], out, "2024Q1季度通报")
    return {p.name: p for p in paths}


# ---------------------------------------------------------------- files


def test_all_formats_written(rendered: dict[str, Path]) -> None:
    assert sorted(rendered) == sorted(["2024Q1季度通报.docx", "2024Q1季度通报.md", "2024Q1季度通报-fig1.png",
                                       "2024Q1季度通报.html", "2024Q1季度通报.xlsx"])
    for path in rendered.values():
        assert path.stat().st_size > 0
    assert not [p for p in next(iter(rendered.values())).parent.iterdir() if p.name.startswith(".djctl-")]
    assert rendered["2024Q1季度通报-fig1.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- Word


def _docx(rendered: dict[str, Path]) -> Any:
    return docx.Document(str(rendered["2024Q1季度通报.docx"]))


def _style_attr(style: Any, tag: str, attr: str) -> str | None:
    """Follow basedOn until the style (or docDefaults) sets the attribute."""
    while style is not None:
        el = style.element.find(f"{qn('w:rPr')}/{qn(tag)}")
        if el is not None and el.get(qn(attr)) is not None:
            return el.get(qn(attr))
        style = style.base_style
    return None


def _para(document: Any, text: str) -> Any:
    return next(p for p in document.paragraphs if p.text == text)


def test_docx_page_is_a4_with_gb9704_margins(rendered: dict[str, Path]) -> None:
    sec = _docx(rendered).sections[0]
    for got, want in ((sec.page_width, 210), (sec.page_height, 297), (sec.top_margin, 37),
                      (sec.bottom_margin, 35), (sec.left_margin, 28), (sec.right_margin, 26)):
        assert abs(got.mm - want) < 0.1, (got.mm, want)
    grid = sec._sectPr.find(qn("w:docGrid"))
    # a line grid only: a character grid of 28 made LibreOffice give 16 pt characters two cells each
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"


def test_docx_fonts_are_east_asian(rendered: dict[str, Path]) -> None:
    d = _docx(rendered)
    title = _para(d, make_ctx()["title"])
    assert title.style.name == DOCX_STYLES["title"]
    assert _style_attr(title.style, "w:rFonts", "w:eastAsia") == "方正小标宋简体"
    assert _style_attr(title.style, "w:sz", "w:val") == "44"
    assert title.style.paragraph_format.alignment == 1  # centre
    body = _para(d, "抽查 8 个单位。")
    assert _style_attr(body.style, "w:rFonts", "w:eastAsia") == "仿宋_GB2312"
    assert _style_attr(body.style, "w:rFonts", "w:ascii") == "Times New Roman"
    assert _style_attr(body.style, "w:sz", "w:val") == "32"
    ppr = body.style.element.find(qn("w:pPr"))
    assert ppr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    spacing = ppr.find(qn("w:spacing"))
    assert (spacing.get(qn("w:line")), spacing.get(qn("w:lineRule"))) == ("579", "exact")
    assert _style_attr(_para(d, "一、基本情况").style, "w:rFonts", "w:eastAsia") == "黑体"
    assert _style_attr(_para(d, "（一）抽查情况").style, "w:rFonts", "w:eastAsia") == "楷体_GB2312"
    assert _style_attr(d.styles["Normal"], "w:rFonts", "w:eastAsia") == "仿宋_GB2312"
    # no theme font may override the named fonts
    assert "asciiTheme" not in d.styles.element.xml.split("<w:latentStyles")[0]


def test_docx_header_block_and_closing(rendered: dict[str, Path]) -> None:
    d = _docx(rendered)
    texts = [(p.style.name, p.text) for p in d.paragraphs]
    assert texts[0] == (DOCX_STYLES["issuer_mark"], "中共××市直属机关工作委员会")
    assert texts[1] == (DOCX_STYLES["doc_number"], "市直工委〔2024〕5号")
    assert d.paragraphs[1].style.paragraph_format.alignment == 1
    assert (DOCX_STYLES["recipients"], "各直属单位党组织：") in texts
    date = _para(d, "2024年4月10日")
    assert date.style.name == DOCX_STYLES["date"] and date.style.paragraph_format.alignment == 2  # right
    assert not any("{{" in t or "{%" in t for _, t in texts)


def test_docx_table_reads_back_exactly(rendered: dict[str, Path]) -> None:
    d = _docx(rendered)
    assert len(d.tables) == 1
    table = d.tables[0]
    rows = make_rows()
    got = [[c.text for c in r.cells] for r in table.rows]
    assert got[0] == ["排名", "单位", "得分", "备注"]
    assert got[1:] == [[cell_str(v) for v in r] for r in rows]
    assert got[1][1] == "A&B<c>0" and got[2][1] == 'He said "hi" & \'bye\'1'
    assert table.style.name == DOCX_STYLES["table"]
    assert table.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    widths = [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(widths) <= round(156 / 25.4 * 1440) + 2  # fits the 156 mm text width
    assert _para(d, "表1 第一季度得分排名").style.name == DOCX_STYLES["table_caption"]


def test_docx_figure_is_a_native_chart_without_legend(rendered: dict[str, Path]) -> None:
    d = _docx(rendered)
    c_ns = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    [chart] = d.element.body.findall(f".//{{{c_ns}}}chart")
    inline = chart.getparent().getparent().getparent()
    assert int(inline.find(qn("wp:extent")).get("cx")) == 150 * 36000
    part = d.part.related_parts[chart.get(qn("r:id"))]
    from lxml import etree

    cats = etree.fromstring(part.blob).findall(f".//{{{c_ns}}}cat//{{{c_ns}}}v")
    assert [v.text for v in cats][:2] == ["A&B<c>0", 'He said "hi" & \'bye\'1'] and len(cats) == 10
    caption = _para(d, "图1 第一季度得分")
    assert caption.style.name == DOCX_STYLES["figure_caption"]
    assert not [p for p in d.paragraphs if p.style.name == DOCX_STYLES["figure_note"]]
    assert not any("序号对应" in p.text for p in d.paragraphs)


def test_docx_footer_has_page_field_odd_right_even_left(rendered: dict[str, Path]) -> None:
    d = _docx(rendered)
    sec = d.sections[0]
    assert d.settings.odd_and_even_pages_header_footer
    for footer, align in ((sec.footer, "right"), (sec.even_page_footer, "left")):
        xml = footer._element.xml
        assert re.search(r"<w:instrText[^>]*>\s*PAGE\s*</w:instrText>", xml) or 'w:instr=" PAGE "' in xml
        p = footer.paragraphs[0]
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert p._p.pPr.find(qn("w:jc")).get(qn("w:val")) == align
        assert _style_attr(p.style, "w:sz", "w:val") == "28"


def test_docx_without_doc_number_or_recipients_has_no_header_block(tmp_path: Path) -> None:
    ctx = make_ctx(doc_number=None, recipients=None)
    [path] = render_document(ctx, ["docx"], tmp_path, "x")
    d = docx.Document(str(path))
    assert d.paragraphs[0].text == ctx["title"]
    names = {p.style.name for p in d.paragraphs}
    assert DOCX_STYLES["issuer_mark"] not in names and DOCX_STYLES["recipients"] not in names
    assert _para(d, ctx["issuer"]).style.name == DOCX_STYLES["signature"]


def test_docx_attachments_each_on_a_new_page(tmp_path: Path) -> None:
    atts = [{"heading": "问题清单", "tables": [{"caption": "附表", "columns": ["单位", "问题"],
                                              "rows": [["A&B<c>", "台账不全\n整改中"]]}]},
            {"heading": "整改反馈单", "paragraphs": ["请于30日内反馈。"]}]
    [path] = render_document(make_ctx(attachments=atts), ["docx"], tmp_path, "x")
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs]
    assert "附件：1. 问题清单" in texts and "\u3000\u3000\u30002. 整改反馈单" in texts
    labels = [p for p in d.paragraphs if p.style.name == DOCX_STYLES["attachment_label"]]
    assert [p.text for p in labels] == ["附件1", "附件2"]
    assert labels[0].style.paragraph_format.page_break_before
    assert d.tables[1].cell(1, 1).text == "台账不全\n整改中"
    assert texts.index("附件1") > texts.index("2024年4月10日")


def test_docx_record_is_framed_at_the_foot_of_the_last_page(tmp_path: Path) -> None:
    """版记: one framed paragraph per line group, the last at the bottom of the 版心, the 抄送 above it at the
    distance of its height; a long 抄送 is broken here (each line within the width, none starting with a
    comma, later lines after a tab); the last attachment table's last row keeps with it."""
    cc = "市委组织部，市纪委监委派驻纪检监察组，市委宣传部，市委统战部，市直机关各部门，各区县直属机关工委，市委办公室"
    atts = [{"heading": "问题清单", "landscape": True, "tables": [{"columns": ["单位", "问题"], "rows": [["甲", "乙"]]}]}]
    [path] = render_document(make_ctx(cc=cc, printer="中共××市直属机关工作委员会办公室", print_date="2024年4月10日",
                                      attachments=atts), ["docx"], tmp_path, "x")
    d = docx.Document(str(path))
    body = d.element.body
    frames = [p for p in body.iter(qn("w:p")) if p.find(f"{qn('w:pPr')}/{qn('w:framePr')}") is not None]
    assert len(frames) == 2 and body.findall(qn("w:p"))[-1].xpath("string(.)") == ""   # an empty anchor ends it
    fp = [f.find(f"{qn('w:pPr')}/{qn('w:framePr')}") for f in frames]
    sec = d.sections[-1]
    height = (sec.page_height - sec.top_margin - sec.bottom_margin) * 1440 // 914400   # landscape 版心
    assert fp[1].get(qn("w:yAlign")) == "bottom" and fp[1].get(qn("w:vAnchor")) == "margin"
    cc_lines = [t.text for t in frames[0].iter(qn("w:t"))]
    assert "".join(cc_lines) == f"抄送：{cc}。" and len(cc_lines) == 2
    assert int(fp[0].get(qn("w:y"))) == height - (2 * 440 + 30) - (440 + 20)
    assert int(fp[0].get(qn("w:w"))) == (sec.page_width - sec.left_margin - sec.right_margin) * 1440 // 914400
    assert not any(line[0] in "，。" for line in cc_lines) and len(frames[0].findall(f"{qn('w:r')}/{qn('w:tab')}")) == 1
    assert [t.text for t in frames[1].iter(qn("w:t"))] == ["中共××市直属机关工作委员会办公室", "2024年4月10日印发"]
    last_row = d.tables[-1].rows[-1]._tr
    assert all(p.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None for p in last_row.iter(qn("w:p")))
    # without an attachment the 成文日期 keeps with the 版记; without a 版记 nothing is framed
    [plain] = render_document(make_ctx(cc="市委组织部"), ["docx"], tmp_path, "y")
    assert docx.Document(str(plain)).paragraphs[-3].text == "2024年4月10日"   # then the 抄送 frame, the anchor
    assert _para(docx.Document(str(plain)), "2024年4月10日").paragraph_format.keep_with_next
    [bare] = render_document(make_ctx(), ["docx"], tmp_path, "z")
    assert "framePr" not in docx.Document(str(bare)).element.body.xml
    assert not _para(docx.Document(str(bare)), "2024年4月10日").paragraph_format.keep_with_next


def test_docx_user_template_restyled_in_word_is_used(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    user = docx.Document(str(BUILTIN_DIR / "official.docx"))
    rfonts = user.styles[DOCX_STYLES["body"]].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    rfonts.set(qn("w:eastAsia"), "楷体_GB2312")
    user.save(str(tdir / "official.docx"))
    [path] = render_document(make_ctx(), ["docx"], tmp_path / "out", "x", templates_dir=tdir)
    d = docx.Document(str(path))
    assert _style_attr(_para(d, "抽查 8 个单位。").style, "w:rFonts", "w:eastAsia") == "楷体_GB2312"
    assert d.tables[0].cell(1, 1).text == "A&B<c>0"


def test_docx_plain_user_template_without_djctl_styles(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    user = docx.Document()
    user.add_paragraph("{{ title }}")
    user.add_paragraph("{{p body }}")
    user.save(str(tdir / "bulletin.docx"))
    [path] = render_document(make_ctx(), ["docx"], tmp_path / "out", "x", templates_dir=tdir)
    d = docx.Document(str(path))
    assert d.paragraphs[0].text == make_ctx()["title"]
    assert _para(d, "一、基本情况").style.name == "Heading 1"
    assert [c.text for c in d.tables[0].rows[1].cells] == ["1", "A&B<c>0", "95.50", "抽查"]


# ---------------------------------------------------------------- Markdown and HTML


def test_md_has_headings_and_every_table_row(rendered: dict[str, Path]) -> None:
    md = rendered["2024Q1季度通报.md"].read_text(encoding="utf-8")
    assert "# 关于2024年第一季度党建工作考核情况的通报" in md
    assert "\n## 一、基本情况\n" in md and "\n### （一）抽查情况\n" in md
    assert "| 排名 | 单位 | 得分 | 备注 |" in md
    for row in make_rows():
        line = "| " + " | ".join(md_escape(cell_str(v)) for v in row) + " |"
        assert line.replace("|  |", "| |") in md.replace("|  |", "| |"), line
    assert "| 1 | A&B\\<c\\>0 | 95.50 | 抽查 |" in md
    assert "| 3 | 第一党支部\\|甲2 | 94.50 | |" in md.replace("|  |", "| |")
    assert "![图1 第一季度得分](<2024Q1季度通报-fig1.png>)" in md
    assert "1\\. 个别单位未报送。" in md     # not turned into a list


def test_md_table_rows_keep_their_column_count(rendered: dict[str, Path]) -> None:
    md = rendered["2024Q1季度通报.md"].read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(rows) == 32  # header, rule, 30 rows
    for line in rows:
        assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_html_is_escaped_and_cells_read_back(rendered: dict[str, Path]) -> None:
    html = rendered["2024Q1季度通报.html"].read_text(encoding="utf-8")
    assert "A&amp;B&lt;c&gt;0" in html
    assert "<c>" not in html
    assert "&quot;hi&quot;" in html
    parser = _Cells()
    parser.feed(html)
    assert parser.rows[0] == ["排名", "单位", "得分", "备注"]
    assert parser.rows[1:] == [[cell_str(v) for v in r] for r in make_rows()]
    assert html.count("<svg") == 1 and "<h2>一、基本情况</h2>" in html


def test_user_md_template_overrides_builtin(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "bulletin.md.j2").write_text("自定义：{{ title }}|{{ sections[0].tables[0].rows[0][1] }}\n",
                                         encoding="utf-8")
    paths = render_document(make_ctx(), ["md", "html"], tmp_path / "out", "x", templates_dir=tdir)
    assert paths[0].read_text(encoding="utf-8") == "自定义：关于2024年第一季度党建工作考核情况的通报|A&B\\<c\\>0\n"
    assert "<h1>关于2024年" in paths[-1].read_text(encoding="utf-8")  # html: built-in
    assert find_template("bulletin", "md", tdir).user
    assert not find_template("bulletin", "html", tdir).user


def test_user_official_template_applies_to_every_kind(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "official.html.j2").write_text("<p>{{ kind }}:{{ title }}</p>", encoding="utf-8")
    [path] = render_document(make_ctx(kind="ranking", title="A<B"), ["html"], tmp_path / "out", "x",
                             templates_dir=tdir)
    assert path.read_text(encoding="utf-8") == "<p>ranking:A&lt;B</p>"


@pytest.mark.parametrize("kind", ["../bulletin", "..", "a/b", "/etc/passwd", "a\\b", "x.y"])
def test_template_names_outside_the_directory_are_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(SecurityError):
        render_document(make_ctx(kind=kind), ["md"], tmp_path / "out", "x", templates_dir=tmp_path)
    assert not (tmp_path / "out").exists()


def test_symlink_out_of_the_templates_dir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md.j2"
    outside.write_text("{{ title }}", encoding="utf-8")
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "bulletin.md.j2").symlink_to(outside)
    with pytest.raises(SecurityError) as err:
        render_document(make_ctx(), ["md"], tmp_path / "out", "x", templates_dir=tdir)
    assert "bulletin.md.j2" in str(err.value)
    inside = tdir / "real.md.j2"
    inside.write_text("ok {{ title }}", encoding="utf-8")
    (tdir / "bulletin.html.j2").symlink_to(inside)
    [path] = render_document(make_ctx(), ["html"], tmp_path / "out", "x", templates_dir=tdir)
    assert path.read_text(encoding="utf-8").startswith("ok ")


def test_nothing_written_when_one_format_fails(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "bulletin.html.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(InputError) as err:
        render_document(make_ctx(), ["md", "docx", "html"], tmp_path / "out", "x", templates_dir=tdir)
    assert "bulletin.html.j2" in str(err.value) and "no_such_variable" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_bad_format_basename_and_templates_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        render_document(make_ctx(), ["pdf"], tmp_path, "x")
    for name in ("", "../x", "a/b", ".hidden", "a:b", "x\x00"):
        with pytest.raises(InputError):
            render_document(make_ctx(), ["md"], tmp_path, name)
    with pytest.raises(InputError):
        render_document(make_ctx(), ["md"], tmp_path, "x", templates_dir=tmp_path / "missing")


# ---------------------------------------------------------------- xlsx


def test_xlsx_one_sheet_per_table_values_equal_no_formulas(rendered: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(rendered["2024Q1季度通报.xlsx"])
    assert wb.sheetnames == ["表1 第一季度得分排名"]
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["排名", "单位", "得分", "备注"]
    # scores written as text in the document are numbers in the workbook, with their two decimals as the format
    assert values[1:] == [[r[0], r[1], float(r[2]), r[3]] for r in make_rows()]
    assert ws["C2"].data_type == "n" and ws["C2"].number_format == "0.00" and ws["C3"].value == 95.0
    assert ws["B5"].value == "=1+13" and ws["B5"].data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_xlsx_sheet_titles_are_legal_and_unique(tmp_path: Path) -> None:
    long = "表2 各单位第一季度党建工作考核得分明细（含抽查核查结果）/说明"
    tables = [{"caption": long, "columns": ["a"], "rows": [[1]]},
              {"caption": long, "columns": ["a"], "rows": [[2]]},
              {"caption": None, "columns": ["a"], "rows": [[3]]}]
    ctx = make_ctx(sections=[{"heading": "x", "tables": tables}])
    [path] = render_document(ctx, ["xlsx"], tmp_path, "x")
    names = openpyxl.load_workbook(path).sheetnames
    assert len(names) == 3 and len(set(names)) == 3
    assert all(len(n) <= 31 and "/" not in n for n in names)
    assert names[2] == "表3"


def test_xlsx_without_tables_still_has_a_sheet(tmp_path: Path) -> None:
    [path] = render_document(make_ctx(sections=[]), ["xlsx"], tmp_path, "x")
    ws = openpyxl.load_workbook(path).active
    assert ws["A2"].value == make_ctx()["title"]


# ---------------------------------------------------------------- details


def test_md_escape() -> None:
    assert md_escape("A|B") == "A\\|B"
    assert md_escape("<script>") == "\\<script\\>"
    assert md_escape("1. 不是列表") == "1\\. 不是列表"
    assert md_escape("- 不是列表\n+ 也不是") == "\\- 不是列表\n\\+ 也不是"
    assert md_escape("&amp; A&B") == "\\&amp; A&B"
    assert md_escape("95.5") == "95.5"


def test_control_characters_do_not_break_documents(tmp_path: Path) -> None:
    ctx = make_ctx(title="标题\x00\x07", sections=[{"heading": "一\x1b", "paragraphs": ["正文\x0c"],
                                                   "tables": [{"columns": ["a"], "rows": [["x\x01y"]]}]}])
    paths = render_document(ctx, ["docx", "md", "html", "xlsx"], tmp_path, "x")
    d = docx.Document(str(paths[0]))
    assert _para(d, "标题").text == "标题" and d.tables[0].cell(1, 0).text == "xy"
    assert openpyxl.load_workbook(paths[3]).active["A2"].value == "xy"


def test_builtin_templates_are_shipped() -> None:
    for name in ("official.docx", "official.md.j2", "official.html.j2"):
        assert (BUILTIN_DIR / name).is_file()
    assert find_template("bulletin", "docx").path.name == "official.docx"


def test_rendering_does_not_change_the_context(tmp_path: Path) -> None:
    ctx = make_ctx()
    before = repr(ctx)
    render_document(ctx, ["md", "html"], tmp_path, "x")
    assert repr(ctx) == before


def test_make_docx_templates_script_builds_a_template(tmp_path: Path) -> None:
    import runpy

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_docx_templates.py"
    module = runpy.run_path(str(script))
    out = module["build"](tmp_path / "official.docx")
    d = docx.Document(str(out))
    names = {s.name for s in d.styles}
    assert set(DOCX_STYLES.values()) <= names
    shutil.rmtree(tmp_path)
