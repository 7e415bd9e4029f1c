"""Large tables in Word: spliced into the saved package instead of going through docxtpl, with the same
document as a result; the Markdown/HTML fast paths give the same text as the plain ones."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from djctl.errors import SecurityError
from djctl.io import render as R
from djctl.io.render import DEFAULT_LIMITS, RenderLimits, cell_text, md_escape, normalize_context, render_document

# Cell texts that XML, docxtpl and python-docx each treat specially.
SPECIALS = [
    "A&B<c>d", "x > y", 'He said "hi" & \'bye\'', "]]>", "<![CDATA[x]]>", "&amp; &lt; &#38;", "<w:p>注入</w:p>",
    "控制\x01字符\x0b与\x0c换页\x7f", "制表\t符", "两行\n文字", "回车\r\n换行\r单独", "{{ title }}", "{_{ x }_}", "{_% y %_}",
    "  前后空格  ", "表情😀与\ufffe非字符", "=1+1", "-3.50", "1. 不是列表", "#标题 *星* _下_ |竖| `码` ~删~",
]


def big_rows(n: int) -> list[list[Any]]:
    rows = []
    for i in range(n):
        special = SPECIALS[i % len(SPECIALS)] if i % 3 == 0 else None
        name = f"{special}{i}" if special else f"市直第{i:04d}单位机关党委"
        rows.append([i + 1, name, f"第{i % 12 + 1}协作组", f"{95 - (i % 400) / 20:.2f}", i % 5 == 0, None])
    return rows


def big_ctx(n: int = 300, **over: Any) -> dict[str, Any]:
    ctx = {
        "kind": "bulletin",
        "title": "关于2024年度考核结果的通报",
        "issuer": "中共××市直属机关工作委员会",
        "doc_number": "市直工委〔2025〕1号",
        "recipients": "各直属单位党组织：",
        "date": "2025年1月15日",
        "sections": [
            {"heading": "一、考核排名", "paragraphs": ["参加排名单位 300 个。A&B<c> {_{ 段落 }_}"],
             "tables": [{"caption": "表1 排名", "columns": ["名次", "单位", "分组", "总分", "抽查", "备注"],
                         "rows": big_rows(n), "note": "注：总分相同名次并列。"},
                        {"caption": "表2 无表头", "rows": [["甲", "1"], ["乙&丙", "2"]]}],
             "figures": [{"caption": "图1 分布", "chart": {"type": "bar", "labels": ["好", "较好"], "values": [3, 4]}}],
             "subsections": [{"heading": "（一）分组", "level": 2,
                              "tables": [{"caption": "组内", "columns": ["单位", "得分"],
                                          "rows": [[r[1], r[3]] for r in big_rows(40)]}]}]},
            {"heading": "二、空表", "tables": [{"caption": "表3 空", "columns": [], "rows": []}]},
        ],
        "attachments": [
            {"heading": "各单位月度得分率", "tables": [{"caption": "附表", "columns": ["单位", "1月", "2月"],
                                                 "rows": [[r[1], r[3], "—"] for r in big_rows(n)]}]},
        ],
    }
    ctx.update(over)
    return ctx


def render_both(ctx: dict[str, Any], tpl: R.TemplateRef) -> tuple[bytes, bytes]:
    doc = normalize_context(ctx)
    return (R._render_docx(doc, tpl, DEFAULT_LIMITS, splice_tables=True),
            R._render_docx(doc, tpl, DEFAULT_LIMITS, splice_tables=False))


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def read_back(data: bytes) -> dict[str, Any]:
    d = docx.Document(io.BytesIO(data))
    sec = d.sections[0]
    return {
        "paragraphs": [(p.text, p.style.name if p.style is not None else None) for p in d.paragraphs],
        "tables": [[[c.text for c in row.cells] for row in t.rows] for t in d.tables],
        "table_styles": [t.style.name if t.style is not None else None for t in d.tables],
        "cell_styles": [sorted({str(p._p.style) for row in t.rows for c in row.cells for p in c.paragraphs})
                        for t in d.tables],
        "widths": [[g.get(R._w("w")) for g in t._tbl.tblGrid] for t in d.tables],
        "page": (sec.page_width, sec.page_height, sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin),
        "fonts": {s.name: (s.font.name, s.font.size) for s in d.styles if s.type == 1},
    }


def user_template(path: Path, *paragraphs: str) -> R.TemplateRef:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return R.TemplateRef(path, True)


# ---------------------------------------------------------------- the same document either way


def test_builtin_template_spliced_equals_docxtpl_rendering_byte_for_byte() -> None:
    spliced, inline = render_both(big_ctx(), R.find_template("bulletin", "docx"))
    a, b = parts(spliced), parts(inline)
    assert list(a) == list(b)
    for name in a:
        assert a[name] == b[name], name
    back = read_back(spliced)
    assert back == read_back(inline)
    assert len(back["tables"]) == 4                           # the empty table makes none, as before
    assert len(back["tables"][0]) == 301 and len(back["tables"][3]) == 301


def test_user_templates_spliced_equal_docxtpl_rendering(tmp_path: Path) -> None:
    plain = user_template(tmp_path / "plain.docx", "{{ title }}", "{{p body }}", "{{p attachments_body }}")
    twice = user_template(tmp_path / "twice.docx", "{{p body }}", "中间", "{{p body }}")
    none = user_template(tmp_path / "none.docx", "{{ title }}", "没有正文")
    tables = {}
    for tpl in (plain, twice, none):
        spliced, inline = render_both(big_ctx(60), tpl)
        assert parts(spliced)["word/document.xml"] == parts(inline)["word/document.xml"], tpl.path.name
        back = read_back(spliced)
        assert back == read_back(inline)
        tables[tpl.path.name] = len(back["tables"])
    assert tables == {"plain.docx": 4, "twice.docx": 6, "none.docx": 0}


def test_tables_do_not_go_through_docxtpl(monkeypatch: pytest.MonkeyPatch) -> None:
    from docxtpl import DocxTemplate

    seen: list[int] = []
    original = DocxTemplate.fix_tables

    def counting(self: Any, xml: str) -> Any:
        seen.append(xml.count("<w:tc>"))
        return original(self, xml)

    monkeypatch.setattr(DocxTemplate, "fix_tables", counting)
    spliced, _ = render_both(big_ctx(), R.find_template("bulletin", "docx"))
    assert seen[0] == 0 and seen[1] > 6 * 300            # the spliced rendering, then the inline one
    xml = parts(spliced)["word/document.xml"]
    assert b"djctl-table-" not in xml and xml.count(b"<w:tbl>") == 4


def test_table_at_the_end_of_an_attachment_is_followed_by_a_paragraph() -> None:
    data, _ = render_both(big_ctx(5), R.find_template("bulletin", "docx"))
    body = docx.Document(io.BytesIO(data)).element.body
    last_tbl = body.findall(R._w("tbl"))[-1]
    assert last_tbl.getnext().tag == R._w("p")


# ---------------------------------------------------------------- cell text survives


def test_cell_text_with_xml_specials_survives(tmp_path: Path) -> None:
    rows = [[i, text] for i, text in enumerate(SPECIALS, 1)]
    ctx = big_ctx(0, sections=[{"heading": "特殊字符", "tables": [{"columns": ["序号", "内容"], "rows": rows}]}],
                  attachments=[])
    [path] = render_document(ctx, ["docx"], tmp_path, "x")
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("word/document.xml")
    from lxml import etree

    etree.fromstring(xml)                                # well-formed without recovery
    table = docx.Document(str(path)).tables[0]
    got = [row.cells[1].text for row in table.rows[1:]]
    # what docxtpl has always done to rendered text ({_{ -> {{), besides dropping what XML forbids
    want = [R._docxtpl_text(cell_text(t)) for t in SPECIALS]
    assert got == want
    assert got[SPECIALS.index("]]>")] == "]]>"
    assert got[SPECIALS.index("<w:p>注入</w:p>")] == "<w:p>注入</w:p>"
    assert got[SPECIALS.index("控制\x01字符\x0b与\x0c换页\x7f")] == "控制字符与换页\x7f"
    assert got[SPECIALS.index("{_{ x }_}")] == "{{ x }}"


def test_user_template_output_budget_covers_spliced_tables(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    user_template(tdir / "bulletin.docx", *["{{p body }}"] * 20)
    ctx = big_ctx(200)
    render_document(ctx, ["docx"], tmp_path / "ok", "x", templates_dir=tdir)
    with pytest.raises(SecurityError, match="bulletin.docx"):
        render_document(ctx, ["docx"], tmp_path / "out", "x", templates_dir=tdir,
                        limits=RenderLimits(max_output_chars=1_000_000))
    assert not (tmp_path / "out" / "x.docx").exists()


# ---------------------------------------------------------------- Markdown / HTML fast paths


_OLD_MD_CHARS = re.compile(r"([\\`*_\[\]<>|#~])")
_OLD_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_OLD_MD_LINE_START = re.compile(r"(?m)^[ \t]*([-+=]|\d{1,9}(?=[.)](?:\s|$)))")


def old_md_escape(text: str) -> str:
    s = _OLD_MD_CHARS.sub(r"\\\1", text)
    s = _OLD_MD_ENTITY.sub(r"\\&", s)
    return _OLD_MD_LINE_START.sub(lambda m: ("\\" + m.group(1)) if not m.group(1)[0].isdigit() else m.group(1) + "\\", s)


def old_display_width(text: str) -> int:
    longest = max(text.split("\n"), key=len) if text else ""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in longest)


def old_unbreakable_width(text: str) -> int:
    if not text:
        return 0
    tokens = re.findall(r"[0-9A-Za-z.,:%+\-−/]+", text)
    latin = max((len(t) for t in tokens), default=0)
    cjk = old_display_width(text) if old_display_width(text) <= 8 else 4
    return max(latin, cjk)


TEXT = st.text(alphabet=st.sampled_from(list(" \t\n\r0123456789.)-+=#*_&;<>|`~[]\\abcAZ１٣中文😀\u3000\u2e80\u2e7f")),
               max_size=30)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_md_escape_fast_path_is_exact(text: str) -> None:
    assert md_escape(text) == old_md_escape(text)


@pytest.mark.parametrize("text", SPECIALS + ["", "95.50", "1.", "12) x", "1234567890. x", " \t- a", "a\n2. b", "&#38;"])
def test_md_escape_known_cases(text: str) -> None:
    assert md_escape(text) == old_md_escape(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_column_measures_unchanged(text: str) -> None:
    assert R._display_width(text) == old_display_width(text)
    # the unbreakable width never goes below the old rule's (numbers and Latin words stay whole)
    assert R._unbreakable_width(text) >= min(old_unbreakable_width(text), old_display_width(text))


@pytest.mark.parametrize("text, width", [
    ("市财政局机关党委", 16),              # a name of up to 8 characters stays on one line
    ("市科学技术协会机关党委", 12),        # a longer one wraps, but at least 6 characters a line
    ("2024年9月19日", 17),                 # a date never wraps (digits with a quarter of slack)
    ("100.00", 8), ("", 0)])
def test_unbreakable_width_of_names_and_dates(text: str, width: int) -> None:
    assert R._unbreakable_width(text) == width


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXT, st.integers(), st.none(), st.booleans()))
def test_md_and_html_filters_unchanged(value: Any) -> None:
    from markupsafe import Markup

    old_md = lambda v, nl: Markup((str(v) if isinstance(v, Markup) else old_md_escape(cell_text(v))).replace("\n", nl))  # noqa: E731
    old_nl2br = lambda v: Markup("<br>\n".join(R._xml_escape(line, quote=True) for line in cell_text(v).split("\n")))  # noqa: E731
    md_env, html_env = R.make_sandbox("md"), R.make_sandbox("html")
    for v in (value, Markup(old_md_escape(cell_text(value)))):
        for name, nl in (("md_cell", "<br>"), ("md_br", "  \n")):
            got = md_env.filters[name](v)
            assert type(got) is Markup and got == old_md(v, nl)
    got = html_env.filters["nl2br"](value)
    assert type(got) is Markup and got == old_nl2br(value)


def test_md_context_escapes_every_string_once_and_alike() -> None:
    from markupsafe import Markup

    doc = normalize_context(big_ctx(50))
    ctx = R._md_context(doc)
    rows, raw = ctx["sections"][0]["tables"][0]["rows"], doc["sections"][0]["tables"][0]["rows"]
    assert all(type(c) is Markup and c == old_md_escape(r) for row, rrow in zip(rows, raw) for c, r in zip(row, rrow))
    assert ctx["sections"][0]["tables"][0]["values"][0][0] == 1           # numbers stay numbers
