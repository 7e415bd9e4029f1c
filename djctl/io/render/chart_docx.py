"""Native Word charts: a DrawingML chart part with its embedded workbook, for the .docx output.

A figure of the render context (``{"chart": {"type": "bar", "labels", "values", "series_name", "x_title",
"y_title", "max_value", "integer"}}``) becomes

- ``word/charts/chartN.xml``: a ``c:chartSpace`` with one clustered column ``c:barChart`` (党建 red bars,
  value labels above them), the category names and values cached in the chart itself (Word, WPS and
  LibreOffice draw it from the cache with their own CJK fonts), Chinese axis titles, 仿宋 for labels and
  黑体 for titles at 10.5–12 pt, an integer tick step for counts;
- ``word/embeddings/Microsoft_Excel_WorksheetN.xlsx``: the same numbers in Sheet1 (A: categories, B: the
  series, values as numbers, every string a text cell, never a formula), linked from the chart part, so
  that "编辑数据" in Word or WPS opens them;
- an inline ``w:drawing`` whose ``a:graphicData`` points at the chart part by relationship id.

The element order follows the schema (CT_ChartSpace, CT_BarChart, CT_BarSer, CT_CatAx, CT_ValAx, CT_DLbls);
python-pptx's chart XML writer and LibreOffice's own .docx export were the references. Every string is
XML-escaped here; labels are cut to `MAX_LABEL_CHARS` and a chart has at most `chart.MAX_BARS` bars.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from djctl.io.chart import _check, _display_width, clean_text, format_number, nice_scale

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CHART_URI = C_NS
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RT_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
RT_PACKAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"

MAX_LABEL_CHARS = 60          # a category name longer than this is cut and ends in "…"
SHEET = "Sheet1"
BAR_RGB = "C00000"            # the 党建 red of djctl.io.chart.BAR
GRID_RGB = "D9D9D9"
AXIS_RGB = "404040"
TEXT_FONT, TITLE_FONT, LATIN_FONT = "仿宋", "黑体", "Times New Roman"
LABEL_PT, TITLE_PT, SMALL_PT = 12, 12, 10.5   # print sizes (小四, and 五号 for crowded charts)
PT_MM = 25.4 / 72
PLOT_SHARE = 0.82             # the plot area's share of the chart's width (the value axis takes the rest)
HEIGHT_RATIO = 0.56           # chart height : width (the PNG was 1:2; the titles need room)
_AX_CAT, _AX_VAL = "50010001", "50010002"


class ChartData:
    """One bar chart's numbers, checked and cleaned once for the chart part and its workbook."""

    def __init__(self, chart: dict[str, Any]) -> None:
        labels = [_cut(clean_text(x)) for x in chart.get("labels") or []]
        values = list(chart.get("values") or [])
        floats = _check(labels, values, 1200, 600)   # same rules as the PNG/SVG: n labels = n values, ≤ MAX_BARS
        self.labels = labels
        self.integer = bool(chart.get("integer"))
        self.texts = [format_number(v) for v in values]
        self.numbers: list[int | float] = [
            int(Decimal(t)) if self.integer and Decimal(t) == Decimal(t).to_integral_value() else float(Decimal(t))
            for t in self.texts]
        self.series_name = _cut(clean_text(chart.get("series_name"))) or "数值"
        self.x_title = clean_text(chart.get("x_title"))
        self.y_title = clean_text(chart.get("y_title")) or clean_text(chart.get("series_name"))
        mv = chart.get("max_value")
        self.max_value = None if mv in (None, "") else float(Decimal(format_number(mv)))
        self.top, self.step = nice_scale(max(floats, default=0.0), mv if mv not in (None, "") else None,
                                         integer=self.integer)


def _cut(text: str) -> str:
    text = " ".join(text.split())   # a label is one line: newlines and tabs become spaces
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _x(text: str) -> str:
    return escape(text, quote=True)


# ------------------------------------------------------------------ text properties


def _rpr(tag: str, size_pt: float, east: str, *, bold: bool = False, extra: str = "") -> str:
    """a:defRPr / a:rPr with the fill and fonts, children in CT_TextCharacterProperties order."""
    return (f'<a:{tag} lang="zh-CN" altLang="en-US" sz="{int(round(size_pt * 100))}" b="{int(bold)}"{extra}>'
            f'<a:solidFill><a:srgbClr val="000000"/></a:solidFill>'
            f'<a:latin typeface="{_x(LATIN_FONT)}"/><a:ea typeface="{_x(east)}"/><a:cs typeface="{_x(LATIN_FONT)}"/>'
            f"</a:{tag}>")


def _tx_pr(size_pt: float, east: str = TEXT_FONT, *, rot: int | None = None) -> str:
    body = '<a:bodyPr/>' if rot is None else f'<a:bodyPr rot="{rot}" vert="horz"/>'
    return (f"<c:txPr>{body}<a:lstStyle/><a:p><a:pPr>{_rpr('defRPr', size_pt, east)}</a:pPr>"
            '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>')


def _title(text: str, *, vertical: bool = False) -> str:
    body = '<a:bodyPr rot="-5400000" vert="horz"/>' if vertical else '<a:bodyPr/>'
    return (f"<c:title><c:tx><c:rich>{body}<a:lstStyle/><a:p><a:pPr>{_rpr('defRPr', TITLE_PT, TITLE_FONT)}</a:pPr>"
            f"<a:r>{_rpr('rPr', TITLE_PT, TITLE_FONT)}<a:t>{_x(text)}</a:t></a:r></a:p></c:rich></c:tx>"
            '<c:overlay val="0"/></c:title>')


def _line(rgb: str, width_emu: int = 9525) -> str:
    return f'<a:ln w="{width_emu}"><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill></a:ln>'


# ------------------------------------------------------------------ the chart part


def _label_size(data: ChartData, width_mm: float) -> float:
    """小四 (12 pt) for the category names when the longest fits its slot on one line, else 五号 (10.5 pt)."""
    if not data.labels:
        return LABEL_PT
    slot_mm = width_mm * PLOT_SHARE / len(data.labels)
    ems = max(_display_width(s) for s in data.labels) / 2
    return LABEL_PT if ems * LABEL_PT * PT_MM <= slot_mm else SMALL_PT


def _show_values(data: ChartData, width_mm: float) -> bool:
    """Value labels only when each fits over its bar (a digit of 10.5–12 pt is about 2.2 mm wide)."""
    if not data.texts:
        return False
    slot_mm = width_mm * PLOT_SHARE / len(data.texts)
    return max(len(t) for t in data.texts) * 2.2 <= slot_mm


def _str_cache(items: Sequence[str]) -> str:
    return f'<c:ptCount val="{len(items)}"/>' + "".join(
        f'<c:pt idx="{i}"><c:v>{_x(s)}</c:v></c:pt>' for i, s in enumerate(items))


def _series(data: ChartData, width_mm: float) -> str:
    n = len(data.labels)
    last = n + 1
    fmt = "0" if data.integer else "General"
    dlbls = ""
    if _show_values(data, width_mm):
        dlbls = (f'<c:dLbls><c:numFmt formatCode="{fmt}" sourceLinked="0"/>'
                 "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
                 f"{_tx_pr(LABEL_PT if len(data.texts) <= 12 else SMALL_PT)}"
                 '<c:dLblPos val="outEnd"/><c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
                 '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>')
    cats = (f"<c:cat><c:strRef><c:f>{SHEET}!$A$2:$A${last}</c:f><c:strCache>{_str_cache(data.labels)}"
            "</c:strCache></c:strRef></c:cat>") if n else ""
    vals = (f"<c:val><c:numRef><c:f>{SHEET}!$B$2:$B${last}</c:f><c:numCache><c:formatCode>{fmt}</c:formatCode>"
            f'<c:ptCount val="{n}"/>'
            + "".join(f'<c:pt idx="{i}"><c:v>{t}</c:v></c:pt>' for i, t in enumerate(data.texts))
            + "</c:numCache></c:numRef></c:val>") if n else ""
    return ('<c:ser><c:idx val="0"/><c:order val="0"/>'
            f"<c:tx><c:strRef><c:f>{SHEET}!$B$1</c:f><c:strCache>{_str_cache([data.series_name])}</c:strCache>"
            "</c:strRef></c:tx>"
            f'<c:spPr><a:solidFill><a:srgbClr val="{BAR_RGB}"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>'
            f'<c:invertIfNegative val="0"/>{dlbls}{cats}{vals}</c:ser>')


def chart_xml(data: ChartData, *, width_mm: float, book_rid: str = "rId1") -> bytes:
    """The chart part (word/charts/chartN.xml) as UTF-8 bytes."""
    label_pt = _label_size(data, width_mm)
    scaling = '<c:orientation val="minMax"/>' + (f'<c:max val="{data.top:g}"/>' if data.max_value is not None else "") \
        + '<c:min val="0"/>'
    major = f'<c:majorUnit val="{data.step:g}"/>' if data.integer or data.max_value is not None else ""
    val_fmt = "0" if data.integer else "General"
    cat_ax = (f'<c:catAx><c:axId val="{_AX_CAT}"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
              '<c:delete val="0"/><c:axPos val="b"/>'
              + (_title(data.x_title) if data.x_title else "")
              + '<c:numFmt formatCode="General" sourceLinked="1"/>'
              '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
              f"<c:spPr>{_line(AXIS_RGB)}</c:spPr>{_tx_pr(label_pt)}"
              f'<c:crossAx val="{_AX_VAL}"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
              '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>')
    val_ax = (f'<c:valAx><c:axId val="{_AX_VAL}"/><c:scaling>{scaling}</c:scaling>'
              '<c:delete val="0"/><c:axPos val="l"/>'
              f"<c:majorGridlines><c:spPr>{_line(GRID_RGB)}</c:spPr></c:majorGridlines>"
              + (_title(data.y_title, vertical=True) if data.y_title else "")
              + f'<c:numFmt formatCode="{val_fmt}" sourceLinked="0"/>'
              '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
              f"<c:spPr>{_line(AXIS_RGB)}</c:spPr>{_tx_pr(LABEL_PT)}"
              f'<c:crossAx val="{_AX_CAT}"/><c:crosses val="autoZero"/><c:crossBetween val="between"/>'
              f"{major}</c:valAx>")
    xml = (
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/>'
        '<c:chart><c:autoTitleDeleted val="1"/><c:plotArea><c:layout/>'
        '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        f"{_series(data, width_mm)}"
        f'<c:gapWidth val="80"/><c:axId val="{_AX_CAT}"/><c:axId val="{_AX_VAL}"/></c:barChart>'
        f"{cat_ax}{val_ax}"
        "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr></c:plotArea>"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        '<c:spPr><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>'
        f"{_tx_pr(LABEL_PT)}"
        f'<c:externalData r:id="{_x(book_rid)}"><c:autoUpdate val="0"/></c:externalData>'
        "</c:chartSpace>"
    )
    return xml.encode("utf-8")


# ------------------------------------------------------------------ the embedded workbook


def chart_workbook(data: ChartData) -> bytes:
    """Sheet1 as the chart reads it: A1 the category heading, B1 the series name, then one row a bar.
    Strings are written as text cells (a label "=1+1" stays text), values as numbers."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    from djctl.io.xlsx import put

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    put(ws, 1, 1, data.x_title or "类别")
    put(ws, 1, 2, data.series_name)
    for i, (label, number) in enumerate(zip(data.labels, data.numbers, strict=True), 2):
        put(ws, i, 1, label)
        put(ws, i, 2, number, number_format="0" if data.integer else "General")
    ws.column_dimensions["A"].width = min(60, max(12, 2 * max((len(s) for s in data.labels), default=4) + 2))
    ws.column_dimensions["B"].width = max(12, 2 * len(data.series_name) + 2)
    wb.properties.creator = "djctl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        # openpyxl's ExcelWriter, not wb.save(): save() stamps the wall clock as the modified date
        wb.properties.created = wb.properties.modified = datetime(2000, 1, 1)
        ExcelWriter(wb, archive).save()
    return _fixed_dates(buf.getvalue())


def _fixed_dates(data: bytes) -> bytes:
    """The zip again with every member dated 1980-01-01: the same chart gives the same bytes at any time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), zin.read(info),
                          compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ------------------------------------------------------------------ into the document


def add_chart(document_part: Any, chart: dict[str, Any], *, width_emu: int, shape_id: int, name: str = "图表") -> str:
    """Add the chart part and its workbook to the document package; the inline drawing XML (one w:r)."""
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    data = ChartData(chart)
    package = document_part.package
    width_mm = width_emu / 36000
    chart_name = package.next_partname("/word/charts/chart%d.xml")
    chart_part = Part(PackURI(chart_name), CT_CHART, b"", package)
    rid = document_part.relate_to(chart_part, RT_CHART)
    # the workbook is named after the chart's number, so chart3.xml embeds Microsoft_Excel_Worksheet3.xlsx
    number = chart_name.rsplit("chart", 1)[1].split(".")[0]
    book_name = f"/word/embeddings/Microsoft_Excel_Worksheet{number}.xlsx"
    if any(p.partname == book_name for p in package.iter_parts()):
        book_name = package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx")
    book = Part(PackURI(book_name), CT_XLSX, chart_workbook(data), package)
    book_rid = chart_part.relate_to(book, RT_PACKAGE)
    chart_part._blob = chart_xml(data, width_mm=width_mm, book_rid=book_rid)
    return inline_xml(rid, width_emu, int(width_emu * HEIGHT_RATIO), shape_id, name)


def inline_xml(rid: str, cx: int, cy: int, shape_id: int, name: str) -> str:
    return (f'<w:r xmlns:w="{W_NS}"><w:drawing>'
            f'<wp:inline xmlns:wp="{WP_NS}" distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{shape_id}" name="{_x(name)}"/><wp:cNvGraphicFramePr/>'
            f'<a:graphic xmlns:a="{A_NS}"><a:graphicData uri="{CHART_URI}">'
            f'<c:chart xmlns:c="{C_NS}" xmlns:r="{R_NS}" r:id="{_x(rid)}"/>'
            "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")
