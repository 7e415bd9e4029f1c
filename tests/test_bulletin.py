"""The quarterly bulletin read back: layout, fonts, ranking rows equal to `score --quarter --json`, seed in text."""

from __future__ import annotations

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from tests.helpers import json_out
from tests.test_annual import city  # noqa: F401  (the hand-computed five-unit fixture)


def test_bulletin_docx_matches_quarter_scores(cli, city, tmp_path):  # noqa: F811
    r = cli("bulletin", "--quarter", "2024Q1", "--format", "docx,md", "--out", "out", "--doc-number",
            "示工委〔2024〕5号", "--date", "2024-04-10")
    # January and February had no draw: said on stderr and in the document, exit 1 (needs attention)
    assert r.exit_code == 1, r.output
    assert "2024年1月没有进行抽查抽签" in r.stderr and "--allow-gaps" in r.stderr
    scores = json_out(cli("score", "--quarter", "2024Q1", "--json"))
    doc = Document(str(tmp_path / "out" / "2024Q1_季度考核通报.docx"))
    sec = doc.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.2) and abs(sec.page_height - Mm(297)) < Mm(0.2)
    assert abs(sec.top_margin - Mm(37)) < Mm(0.2) and abs(sec.left_margin - Mm(28)) < Mm(0.2)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "关于2024年第一季度" in text and "示工委〔2024〕5号" in text and "2024年4月10日" in text
    assert "需要说明的是：2024年1月没有进行抽查抽签；2024年2月没有进行抽查抽签。" in text
    # the month's draw seed, in the attachment 抽签情况公示 (table 表2), so anyone can verify the draw
    seeds = [row.cells[1].text for tbl in doc.tables for row in tbl.rows if row.cells[0].text.endswith("第1次")]
    assert "test" in seeds, seeds
    body = text.split("抽签情况公示")[0]
    assert "djctl" not in body and "「" not in body and "2024-0" not in body
    fonts = {s.name: s.element.find(qn("w:rPr")) for s in doc.styles if s.type == 1}
    east = {name: (rpr.find(qn("w:rFonts")).get(qn("w:eastAsia")) if rpr is not None and rpr.find(qn("w:rFonts")) is not None else None)
            for name, rpr in fonts.items()}
    assert "方正小标宋简体" in east.values() and "仿宋_GB2312" in east.values()
    table = next(t for t in doc.tables if "季度得分" in [c.text for c in t.rows[0].cells])
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    ranked = [row for row in scores["rows"] if row["score"] is not None]
    assert [(b[0], b[1], b[-1]) for b in body] == [(str(x["rank"]), x["name"], f"{x['score']:.2f}") for x in ranked]
