"""Word figures as native charts: chart part, relationships, content types, embedded workbook, axis and
escaping (djctl/io/render/chart_docx.py)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from lxml import etree

from djctl.io.chart import MAX_BARS
from djctl.io.render import render_document
from djctl.io.render.chart_docx import MAX_LABEL_CHARS, ChartData, chart_workbook, chart_xml

NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
CHART_URI = NS["c"]

DIST = {"type": "bar", "labels": ["95分及以上", "90（含）至95分", "80（含）至90分", "80分以下"],
        "values": [3, 10, 24, 3], "series_name": "单位个数", "x_title": "季度得分", "y_title": "单位个数（个）",
        "integer": True}
HOSTILE = ["<script>alert(1)</script>", "=1+1", "@SUM(A1)", 'A&B "q"', "甲" * 500, "tab\there\nline\x07bell"]


def ctx_with(*charts: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "bulletin", "title": "关于2024年第二季度党建工作考核情况的通报", "issuer": "中共××市直属机关工作委员会",
        "date": "2024年7月10日",
        "sections": [{"heading": "一、考核结果", "level": 1, "paragraphs": ["本季度考核情况如下。"],
                      "figures": [{"caption": f"图{i} 得分分布", "chart": c} for i, c in enumerate(charts, 1)]}],
        "attachments": [],
    }


def render(tmp_path: Path, *charts: dict[str, Any], templates: Path | None = None) -> Path:
    [path] = render_document(ctx_with(*charts), ["docx"], tmp_path, "doc", templates)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rels(blob: bytes) -> dict[str, tuple[str, str]]:
    root = etree.fromstring(blob)
    return {r.get("Id"): (r.get("Type").rsplit("/", 1)[1], r.get("Target")) for r in root.findall("rel:Relationship", NS)}


def cached(chart: etree._Element, kind: str) -> list[str]:
    return [pt.findtext("c:v", namespaces=NS) for pt in chart.findall(f".//c:ser/c:{kind}//c:pt", NS)]


def sheet_rows(blob: bytes) -> list[list[Any]]:
    wb = openpyxl.load_workbook(io.BytesIO(blob))
    return [[c.value for c in row] for row in wb["Sheet1"].iter_rows()]


# ------------------------------------------------------------------ package structure


def test_chart_part_relationships_and_content_types(tmp_path: Path) -> None:
    path = render(tmp_path, DIST)
    p = parts(path)
    assert "word/charts/chart1.xml" in p and "word/embeddings/Microsoft_Excel_Worksheet1.xlsx" in p
    doc_rels = rels(p["word/_rels/document.xml.rels"])
    chart_rids = [rid for rid, (kind, target) in doc_rels.items() if kind == "chart"]
    assert [doc_rels[r][1] for r in chart_rids] == ["charts/chart1.xml"]
    assert rels(p["word/charts/_rels/chart1.xml.rels"]) == {
        "rId1": ("package", "../embeddings/Microsoft_Excel_Worksheet1.xlsx")}
    types = etree.fromstring(p["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.findall("ct:Override", NS)}
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.findall("ct:Default", NS)}
    assert overrides["/word/charts/chart1.xml"] == "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
    xlsx_type = overrides.get("/word/embeddings/Microsoft_Excel_Worksheet1.xlsx", defaults.get("xlsx"))
    assert xlsx_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # the chart names its workbook by the relationship it has
    chart = etree.fromstring(p["word/charts/chart1.xml"])
    assert chart.find("c:externalData", NS).get(f"{{{NS['r']}}}id") == "rId1"
    # the body: an inline drawing whose graphicData points at the chart part, 150 mm wide
    body = etree.fromstring(p["word/document.xml"])
    [inline] = body.findall(".//w:drawing/wp:inline", NS)
    assert inline.find("wp:extent", NS).get("cx") == str(150 * 36000)
    data = inline.find("a:graphic/a:graphicData", NS)
    assert data.get("uri") == CHART_URI
    assert data.find("c:chart", NS).get(f"{{{NS['r']}}}id") == chart_rids[0]


def test_python_docx_opens_it_and_resolves_the_chart(tmp_path: Path) -> None:
    d = docx.Document(str(render(tmp_path, DIST, dict(DIST, integer=False, values=[1.5, 2, 3.25, 0]))))
    charts = d.element.body.findall(".//" + "{%s}chart" % NS["c"])
    assert len(charts) == 2
    names = [str(d.part.related_parts[c.get(f"{{{NS['r']}}}id")].partname) for c in charts]
    assert names == ["/word/charts/chart1.xml", "/word/charts/chart2.xml"]
    books = [str(p.partname) for p in d.part.package.iter_parts() if str(p.partname).endswith(".xlsx")]
    assert sorted(books) == ["/word/embeddings/Microsoft_Excel_Worksheet1.xlsx",
                             "/word/embeddings/Microsoft_Excel_Worksheet2.xlsx"]
    # no legend by number: the chart carries the names
    text = "\n".join(p.text for p in d.paragraphs)
    assert "序号对应" not in text and "图1 得分分布" in text and "图2 得分分布" in text


# ------------------------------------------------------------------ content


def test_labels_and_values_round_trip_from_chart_and_workbook(tmp_path: Path) -> None:
    p = parts(render(tmp_path, DIST))
    chart = etree.fromstring(p["word/charts/chart1.xml"])
    assert cached(chart, "cat") == DIST["labels"]
    assert cached(chart, "val") == ["3", "10", "24", "3"]
    assert chart.findtext(".//c:ser/c:tx//c:v", namespaces=NS) == "单位个数"
    assert chart.findtext(".//c:ser/c:cat//c:f", namespaces=NS) == "Sheet1!$A$2:$A$5"
    assert chart.findtext(".//c:ser/c:val//c:f", namespaces=NS) == "Sheet1!$B$2:$B$5"
    titles = ["".join(t.itertext()) for t in chart.findall(".//c:title", NS)]
    assert titles == ["季度得分", "单位个数（个）"]     # category axis, then value axis
    assert chart.find(".//c:ser/c:spPr/a:solidFill/a:srgbClr", NS).get("val") == "C00000"
    assert chart.find(".//c:ser/c:dLbls/c:showVal", NS).get("val") == "1"
    rows = sheet_rows(p["word/embeddings/Microsoft_Excel_Worksheet1.xlsx"])
    assert rows == [["季度得分", "单位个数"], *[[lab, v] for lab, v in zip(DIST["labels"], DIST["values"], strict=True)]]
    assert all(type(r[1]) is int for r in rows[1:])


def test_print_sizes_and_chinese_fonts() -> None:
    root = etree.fromstring(chart_xml(ChartData(DIST), width_mm=150))
    sizes = [int(e.get("sz")) for e in root.iter() if e.get("sz") is not None]
    assert sizes and min(sizes) >= 1050
    fonts = {e.get("typeface") for e in root.findall(".//a:ea", NS)}
    assert fonts == {"仿宋", "黑体"}
    for title in root.findall(".//c:title", NS):
        assert {e.get("typeface") for e in title.findall(".//a:ea", NS)} == {"黑体"}
    # many bars: the category names drop to 五号, never below
    many = dict(DIST, labels=[f"市直单位{i:02d}党组" for i in range(40)], values=list(range(40)))
    root = etree.fromstring(chart_xml(ChartData(many), width_mm=150))
    assert min(int(e.get("sz")) for e in root.iter() if e.get("sz") is not None) == 1050


def test_integer_axis_when_asked() -> None:
    root = etree.fromstring(chart_xml(ChartData(DIST), width_mm=150))
    ax = root.find(".//c:valAx", NS)
    unit = float(ax.find("c:majorUnit", NS).get("val"))
    assert unit == int(unit) and unit >= 1
    assert ax.find("c:numFmt", NS).get("formatCode") == "0"
    assert ax.find("c:scaling/c:min", NS).get("val") == "0"
    # one unit per tick for small counts (a chart of 0..3 never ticks at 0.5)
    small = ChartData(dict(DIST, values=[1, 3, 2, 0]))
    assert etree.fromstring(chart_xml(small, width_mm=150)).find(".//c:valAx/c:majorUnit", NS).get("val") == "1"
    # a rate chart: no forced unit, scale to the given maximum, decimals kept
    rate = dict(DIST, integer=False, values=[0, 9.09, 16.67, 50], max_value=100)
    ax = etree.fromstring(chart_xml(ChartData(rate), width_mm=150)).find(".//c:valAx", NS)
    assert ax.find("c:scaling/c:max", NS).get("val") == "100"
    assert ax.find("c:numFmt", NS).get("formatCode") == "General"
    free = etree.fromstring(chart_xml(ChartData(dict(rate, max_value=None)), width_mm=150))
    assert free.find(".//c:valAx/c:majorUnit", NS) is None
    assert sheet_rows(chart_workbook(ChartData(rate)))[2][1] == pytest.approx(9.09)


def test_no_formula_cells_and_hostile_labels(tmp_path: Path) -> None:
    chart = {"type": "bar", "labels": HOSTILE, "values": list(range(len(HOSTILE))), "series_name": "=SUM(B2:B9)",
             "x_title": "<b>单位</b>", "y_title": "得分 & 排名"}
    p = parts(render(tmp_path, chart))
    raw = p["word/charts/chart1.xml"].decode("utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "<b>" not in raw
    root = etree.fromstring(p["word/charts/chart1.xml"])     # well-formed
    labels = cached(root, "cat")
    assert labels[:4] == HOSTILE[:4]
    assert len(labels[4]) == MAX_LABEL_CHARS and labels[4].endswith("…")
    assert labels[5] == "tab here linebell"                   # one line, control characters dropped
    assert [t.text for t in root.findall(".//a:t", NS)] == ["<b>单位</b>", "得分 & 排名"]
    book = openpyxl.load_workbook(io.BytesIO(p["word/embeddings/Microsoft_Excel_Worksheet1.xlsx"]))
    cells = [c for row in book["Sheet1"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in cells if c.column == 1][1:] == labels
    assert book["Sheet1"]["B1"].value == "=SUM(B2:B9)" and book["Sheet1"]["B1"].data_type == "s"
    # the raw sheet XML holds no <f> element at all
    with zipfile.ZipFile(io.BytesIO(p["word/embeddings/Microsoft_Excel_Worksheet1.xlsx"])) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def test_bar_cap_and_mismatch_are_refused() -> None:
    ok = ChartData({"labels": [str(i) for i in range(MAX_BARS)], "values": [1] * MAX_BARS})
    assert len(ok.labels) == MAX_BARS
    with pytest.raises(ValueError, match="上限"):
        ChartData({"labels": [str(i) for i in range(MAX_BARS + 1)], "values": [1] * (MAX_BARS + 1)})
    with pytest.raises(ValueError, match="数量不一致"):
        ChartData({"labels": ["a", "b"], "values": [1]})
    # 1000 bars: no value labels crowding the plot, the XML still well-formed
    root = etree.fromstring(chart_xml(ok, width_mm=150))
    assert root.find(".//c:dLbls", NS) is None and len(cached(root, "cat")) == MAX_BARS


def test_empty_chart_is_still_valid(tmp_path: Path) -> None:
    p = parts(render(tmp_path, {"type": "bar", "labels": [], "values": []}))
    root = etree.fromstring(p["word/charts/chart1.xml"])
    assert cached(root, "cat") == [] and sheet_rows(p["word/embeddings/Microsoft_Excel_Worksheet1.xlsx"])[0][0] == "类别"


# ------------------------------------------------------------------ schema order

# The sequences of the chart schema (ECMA-376 dml-chart.xsd) for the elements written, in order.
SEQUENCES = {
    "chartSpace": ["date1904", "lang", "roundedCorners", "AlternateContent", "style", "clrMapOvr", "pivotSource",
                   "protection", "chart", "spPr", "txPr", "externalData", "printSettings", "userShapes", "extLst"],
    "chart": ["title", "autoTitleDeleted", "pivotFmts", "view3D", "floor", "sideWall", "backWall", "plotArea", "legend",
              "plotVisOnly", "dispBlanksAs", "showDLblsOverMax", "extLst"],
    "plotArea": ["layout", "barChart", "catAx", "valAx", "dTable", "spPr", "extLst"],
    "barChart": ["barDir", "grouping", "varyColors", "ser", "dLbls", "gapWidth", "overlap", "serLines", "axId", "extLst"],
    "ser": ["idx", "order", "tx", "spPr", "invertIfNegative", "pictureOptions", "dPt", "dLbls", "trendline", "errBars",
            "cat", "val", "shape", "extLst"],
    "dLbls": ["dLbl", "delete", "numFmt", "spPr", "txPr", "dLblPos", "showLegendKey", "showVal", "showCatName",
              "showSerName", "showPercent", "showBubbleSize", "separator", "showLeaderLines", "leaderLines", "extLst"],
    "catAx": ["axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", "crosses", "crossesAt", "auto",
              "lblAlgn", "lblOffset", "tickLblSkip", "tickMarkSkip", "noMultiLvlLbl", "extLst"],
    "valAx": ["axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", "crosses", "crossesAt",
              "crossBetween", "majorUnit", "minorUnit", "dispUnits", "extLst"],
    "scaling": ["logBase", "orientation", "max", "min", "extLst"],
    "title": ["tx", "layout", "overlay", "spPr", "txPr", "extLst"],
    "defRPr": ["ln", "noFill", "solidFill", "effectLst", "highlight", "latin", "ea", "cs", "sym", "extLst"],
    "rPr": ["ln", "noFill", "solidFill", "effectLst", "highlight", "latin", "ea", "cs", "sym", "extLst"],
}


@pytest.mark.parametrize("chart", [DIST, dict(DIST, integer=False, max_value=100), {"labels": [], "values": []}])
def test_element_order_follows_the_schema(chart: dict[str, Any]) -> None:
    root = etree.fromstring(chart_xml(ChartData(chart), width_mm=150))
    seen = 0
    for el in root.iter():
        name = etree.QName(el).localname
        if name in SEQUENCES and etree.QName(el).namespace in (NS["c"], NS["a"]):
            order = SEQUENCES[name]
            kids = [etree.QName(k).localname for k in el]
            assert all(k in order for k in kids), (name, kids)
            positions = [order.index(k) for k in kids]
            assert positions == sorted(positions), (name, kids)
            seen += 1
    assert seen >= 8


# ------------------------------------------------------------------ templates and HTML


def test_a_template_with_its_own_chart_keeps_it(tmp_path: Path) -> None:
    """A user's Word template that already holds chart1.xml: the figure gets chart2.xml and its own workbook."""
    from djctl.io.render import BUILTIN_DIR
    from djctl.io.render.chart_docx import add_chart

    tdir = tmp_path / "tpl"
    tdir.mkdir()
    template = docx.Document(str(BUILTIN_DIR / "official.docx"))
    xml = add_chart(template.part, dict(DIST, labels=["旧"], values=[1]), width_emu=3_600_000, shape_id=900)
    p = template.add_paragraph()
    p._p.append(etree.fromstring(xml))
    template.save(str(tdir / "bulletin.docx"))
    out = tmp_path / "out"
    out.mkdir()
    got = parts(render(out, DIST, templates=tdir))
    assert cached(etree.fromstring(got["word/charts/chart1.xml"]), "cat") == ["旧"]
    assert cached(etree.fromstring(got["word/charts/chart2.xml"]), "cat") == DIST["labels"]
    assert rels(got["word/charts/_rels/chart2.xml.rels"])["rId1"][1] == "../embeddings/Microsoft_Excel_Worksheet2.xlsx"
    assert sheet_rows(got["word/embeddings/Microsoft_Excel_Worksheet1.xlsx"])[1][0] == "旧"


def test_html_figure_labels_at_least_12px(tmp_path: Path) -> None:
    [path] = render_document(ctx_with(DIST), ["html"], tmp_path, "doc")
    html = path.read_text("utf-8")
    svg = re.search(r"<svg[^>]*>", html).group(0)
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    font = int(re.search(r'font-size="(\d+)"', svg).group(1))
    # the official HTML body is 156 mm (about 590 px) wide: the SVG is not scaled down
    assert width <= 590 and font >= 12
    assert not re.search(r'font-size="(?:[0-9]|1[01])(?:\.\d+)?"', html)
    for text in ("95分及以上", "季度得分", "单位个数（个）"):
        assert text in html


def test_the_same_chart_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    first = chart_workbook(ChartData(DIST))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 400)   # zip members would be dated by the clock
    assert chart_workbook(ChartData(DIST)) == first
    assert chart_xml(ChartData(DIST), width_mm=150) == chart_xml(ChartData(DIST), width_mm=150)
