"""Render Word documents with LibreOffice and check GB/T 9704-2012 rules on the PDF.

    python scripts/check_documents.py DIR_OR_DOCX... [--pdf-dir DIR] [--json]

Every .docx found (recursively) is converted to PDF in ONE `soffice --headless` run; each PDF is then read
with poppler's `pdftotext -bbox-layout` (word boxes in points) and `pdftocairo -svg` (the red rule), and
these rules are checked:

- page size A4 (portrait, or landscape for an attachment page); all text inside the 版心 (37/35/28/26 mm,
  turned for landscape) but the page number;
- page number "— n —" on every page, under the 版心, odd pages on the right, even pages on the left;
- 版头 (when the document has a 发文字号): the mark centred, its top 35 mm below the top of the 版心 (±3 mm),
  the 字号 centred under it, a red rule across the 版心 about 4 mm (2–7 mm) under the 字号;
- no blank page, no page holding only the 署名/成文日期 (and 版记), no page holding only the 版记 with a page
  number;
- the 附件说明 (附件：1. …, 2. …) on the page of the 署名 (never split from it);
- 版记 (when the document has one) on the last page, its last rule on the last line of the 版心 (within 3 mm
  of the 版心's foot), read from the black rules of cairo's SVG;
- no table cell broken one character a line, no number or date wrapped inside a cell;
- each 问题整改反馈单 on one page;
- no software words in the body (before the first attachment): djctl, lookback:, sample:, ceil(, hex
  hashes, ISO dates, 「」 quotes.

Exit 0 when every rule holds, 1 when one breaks (each finding printed), 2 when LibreOffice is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
MARGINS = {"top": 37, "bottom": 35, "left": 28, "right": 26}      # mm, portrait
TOL = 1.5 * MM
SOFTWARE = re.compile(r"djctl|lookback:|sample:|inspect:|ceil\(|\b[0-9a-f]{16,}\b|\d{4}-\d{2}(?:-\d{2})?|[「」]|#\d")
PAGE_NO = re.compile(r"^—\s*(\d+)\s*—$")
NUMERIC = re.compile(r"^[0-9.,:%+\-−/年月日]+$")
CJK = re.compile(r"[\u2e80-\U0010ffff]")
HANGING = set("，。、；：！？）”’》")


@dataclass
class Finding:
    file: str
    page: int | None
    rule: str
    message: str


@dataclass
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    block: int


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)

    @property
    def landscape(self) -> bool:
        return self.width > self.height


@dataclass
class DocInfo:
    """What the .docx says it holds: the 版头 texts and the 署名 block."""

    mark: str | None
    doc_number: str | None
    signature: list[str]
    feedback_form: bool
    record: list[str] = field(default_factory=list)   # the 版记's texts (抄送…, 印发机关, 印发日期)


# ------------------------------------------------------------------ conversion


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(docx: list[Path], out_dir: Path) -> dict[Path, Path]:
    """All documents to PDF in one soffice run (a private profile, so a running office does not interfere)."""
    soffice = find_soffice()
    if soffice is None:
        raise FileNotFoundError("soffice")
    out_dir.mkdir(parents=True, exist_ok=True)
    # soffice writes by file name only: copy documents with the same name under distinct names first
    sources: dict[Path, Path] = {}
    with tempfile.TemporaryDirectory(prefix="djctl-check-") as tmp:
        stage = Path(tmp) / "in"
        stage.mkdir()
        for i, p in enumerate(docx):
            staged = stage / f"{i:03d}-{p.name}"
            shutil.copyfile(p, staged)
            sources[p] = out_dir / (staged.stem + ".pdf")
        profile = Path(tmp) / "profile"
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out_dir), *sorted(str(x) for x in stage.iterdir())],
                       check=True, capture_output=True, timeout=600)
    return sources


# ------------------------------------------------------------------ reading


def read_pages(pdf: Path) -> list[Page]:
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True).stdout
    xml = re.sub(rb"<!DOCTYPE[^>]*>", b"", xml)
    root = ET.fromstring(xml)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    pages = []
    for n, pg in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page"), 1):
        page = Page(n, float(pg.get("width")), float(pg.get("height")))
        for b, block in enumerate(pg.iter("{http://www.w3.org/1999/xhtml}block")):
            for line in block.findall("h:line", ns):
                words = [w.text or "" for w in line.findall("h:word", ns)]
                page.lines.append(Line("".join(words), float(line.get("xMin")), float(line.get("yMin")),
                                       float(line.get("xMax")), float(line.get("yMax")), b))
        pages.append(page)
    return pages


def red_rules(pdf: Path, page: int = 1) -> list[tuple[float, float, float]]:
    """Red horizontal rules of a page as (y, x0, x1) in points, from pdftocairo's SVG."""
    return hrules(pdf, page, "100%, ?0%, ?0%")


def hrules(pdf: Path, page: int, colour: str = "0%, ?0%, ?0%") -> list[tuple[float, float, float]]:
    """Horizontal rules (over 35 mm long) of one `colour` (an rgb() pattern) on a page, as (y, x0, x1)."""
    svg = subprocess.run(["pdftocairo", "-svg", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True).stdout.decode("utf-8", "replace")
    svg = svg[svg.find("</defs>"):] if "</defs>" in svg else svg     # glyph outlines live in <defs>
    out = []
    for m in re.finditer(r"<path ([^>]*)/>", svg):
        attrs = m.group(1)
        if not re.search(r'(?:fill|stroke)(?:=")?:?rgb\(' + colour + r"\)", attrs):
            continue
        d = re.search(r'd="([^"]*)"', attrs)
        if not d:
            continue
        nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d.group(1))]
        xs, ys = nums[0::2], nums[1::2]
        tm = re.search(r'transform="matrix\(([^)]*)\)"', attrs)
        if tm:
            a, b, c, dd, e, f = (float(x) for x in re.split(r"[ ,]+", tm.group(1).strip()))
            pts = [(a * x + c * y + e, b * x + dd * y + f) for x, y in zip(xs, ys)]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        if xs and ys and max(ys) - min(ys) < 3 and max(xs) - min(xs) > 100:
            out.append(((min(ys) + max(ys)) / 2, min(xs), max(xs)))
    return out


def doc_info(docx: Path) -> DocInfo:
    with zipfile.ZipFile(docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = ET.fromstring(xml)
    by_style: dict[str, list[str]] = {}
    record: list[str] = []
    for p in root.iter(f"{w}p"):
        style = p.find(f"{w}pPr/{w}pStyle")
        pieces = [t.text or "" for t in p.iter(f"{w}t")]
        text = "".join(pieces)
        if text.startswith("抄送") or text.endswith("印发"):
            record.extend(x.strip() for x in pieces if x.strip())
        if style is not None and text:
            by_style.setdefault(style.get(f"{w}val"), []).append(text)
    return DocInfo(mark=(by_style.get("djctlIssuerMark") or [None])[0],
                   doc_number=(by_style.get("djctlDocNumber") or [None])[0],
                   signature=(by_style.get("djctlSignature") or [])[-1:] + (by_style.get("djctlDate") or [])[-1:],
                   feedback_form=docx.name.startswith("问题整改反馈单"), record=record)


# ------------------------------------------------------------------ rules


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def check_pdf(name: str, pages: list[Page], info: DocInfo, rules: list[tuple[float, float, float]],
              measures: dict | None = None, record_rules: list[tuple[float, float, float]] | None = None) -> list[Finding]:
    """The findings of one rendered document; `measures` (if given) receives the 版头 and 版记 measurements.
    `rules` are the red rules of the first page, `record_rules` the black rules of the page holding the 版记
    (None: its position is not checked)."""
    f: list[Finding] = []
    measures = {} if measures is None else measures

    def bad(page: int | None, rule: str, message: str) -> None:
        f.append(Finding(name, page, rule, message))

    if info.feedback_form and len(pages) != 1:
        bad(None, "feedback-one-page", f"问题整改反馈单共 {len(pages)} 页，应为 1 页")
    in_attachment = False
    note_page = sig_page = None   # the pages of the 附件说明's first line and of the 署名
    for pg in pages:
        size = sorted((pg.width, pg.height))
        if abs(size[0] - A4[0]) > 2 or abs(size[1] - A4[1]) > 2:
            bad(pg.number, "page-size", f"页面 {pg.width / MM:.0f}×{pg.height / MM:.0f} mm，应为 A4")
        if pg.landscape:
            top, bottom, left, right = MARGINS["left"], MARGINS["right"], MARGINS["top"], MARGINS["bottom"]
        else:
            top, bottom, left, right = MARGINS["top"], MARGINS["bottom"], MARGINS["left"], MARGINS["right"]
        x0, x1 = left * MM, pg.width - right * MM
        y0, y1 = top * MM, pg.height - bottom * MM
        numbers = [ln for ln in pg.lines if PAGE_NO.match(_squash(ln.text))]
        body = [ln for ln in pg.lines if ln not in numbers]
        if not numbers and not info.feedback_form:   # a one-page form carries no page number
            bad(pg.number, "page-number", "没有页码“— n —”")
        elif not numbers:
            pass
        else:
            ln = numbers[-1]
            n = int(PAGE_NO.match(_squash(ln.text)).group(1))
            if n != pg.number:
                bad(pg.number, "page-number", f"页码为 {n}，应为 {pg.number}")
            if ln.y0 < y1 - TOL:
                bad(pg.number, "page-number", "页码不在版心下方")
            centre = (ln.x0 + ln.x1) / 2
            if pg.number % 2 and centre < pg.width / 2:
                bad(pg.number, "page-number", "单页页码应在右侧")
            if not pg.number % 2 and centre > pg.width / 2:
                bad(pg.number, "page-number", "双页页码应在左侧")
        if not body:
            bad(pg.number, "blank-page", "空白页（只有页码）")
            continue
        for ln in body:
            if ln.x0 < x0 - TOL or ln.x1 > x1 + TOL or ln.y0 < y0 - TOL or ln.y1 > y1 + TOL:
                if (ln.x0 >= x0 - TOL and ln.y0 >= y0 - TOL and ln.y1 <= y1 + TOL and ln.x1 - x1 <= 17
                        and ln.text.rstrip()[-1:] in HANGING):
                    # LibreOffice hangs a closing mark into the margin (Word, with overflowPunct off, does not)
                    measures.setdefault("hanging_punctuation", []).append(pg.number)
                    continue
                bad(pg.number, "margins", f"文字超出版心：“{ln.text[:20]}”")
                break
        texts = [_squash(ln.text) for ln in body]
        if info.record and numbers and all(is_record(t, info.record) for t in texts):
            bad(pg.number, "record-alone", "本页只有版记，却编了页码（版记应在末页正文之下，或单独一页时不编页码）")
        sig = {_squash(s) for s in info.signature}
        if not in_attachment:
            if note_page is None and any(t.startswith("附件：") for t in texts):
                note_page = pg.number
            if sig_page is None and any(t in sig for t in texts):
                sig_page = pg.number
        allowed = sig | {_squash(s) for s in info.record}
        if sig and any(t in sig for t in texts) and all(t in allowed for t in texts):
            bad(pg.number, "signature-alone", "本页只有发文机关署名和成文日期")
        if any(re.fullmatch(r"附件\d*", t) for t in texts[:1]):
            in_attachment = True
        if not in_attachment:
            for t in texts:
                m = SOFTWARE.search(t)
                if m:
                    bad(pg.number, "software-words", f"正文中出现“{m.group(0)}”：“{t[:30]}”")
        # table cells: lines of a block stacked in one column
        blocks: dict[int, list[Line]] = {}
        for ln in body:
            blocks.setdefault(ln.block, []).append(ln)
        for lines in blocks.values():
            if len(lines) < 2:
                continue
            stacked = all(abs(a.x0 - b.x0) < 30 and 0 < b.y0 - a.y0 < 40 for a, b in zip(lines, lines[1:]))
            if not stacked:
                continue
            texts_b = [_squash(x.text) for x in lines]
            if len(lines) >= 2 and all(len(CJK.findall(t)) == 1 and len(t) == 1 for t in texts_b):
                bad(pg.number, "cell-per-character", f"表格中文字一字一行：“{''.join(texts_b)}”")
            joined = "".join(texts_b)
            if NUMERIC.match(joined) and any(re.search(r"\d", t) for t in texts_b):
                bad(pg.number, "cell-number-wraps", f"数字或日期在单元格中折行：“{' / '.join(texts_b)}”")
    if note_page is not None and sig_page is not None and note_page != sig_page:
        bad(sig_page, "attachment-note-split", f"附件说明被分在两页：“附件：”在第 {note_page} 页，署名在第 {sig_page} 页")
    if info.doc_number and pages:
        _check_head(pages[0], info, rules, bad, measures)
    if info.record and pages and record_rules is not None:
        _check_record(pages, info, record_rules, bad, measures)
    return f


def is_record(text: str, pieces: list[str]) -> bool:
    """Whether a line of the PDF is made of the 版记's texts only (pdftotext may join 印发机关 and date)."""
    rest = _squash(text)
    parts = sorted({_squash(p) for p in pieces if _squash(p)}, key=len, reverse=True)
    while rest:
        for p in parts:
            if rest.startswith(p):
                rest = rest[len(p):]
                break
        else:
            return False
    return True


def record_page(pages: list[Page], info: DocInfo) -> Page | None:
    """The last page with a line of the 版记."""
    held = [pg for pg in pages if any(is_record(ln.text, info.record) for ln in pg.lines)]
    return held[-1] if held else None


RECORD_FOOT_MM = 3.0


def _check_record(pages: list[Page], info: DocInfo, rules: list[tuple[float, float, float]], bad, measures: dict) -> None:
    """GB/T 9704 7.5: the 版记 on the last page, its last rule on the last line of the 版心."""
    pg = record_page(pages, info)
    if pg is None:
        bad(None, "record-foot", "PDF 中找不到版记（抄送、印发机关和印发日期）")
        return
    if pg.number != pages[-1].number:
        bad(pg.number, "record-foot", f"版记在第 {pg.number} 页，应在最后一页（第 {pages[-1].number} 页）")
    bottom = pg.height - (MARGINS["right"] if pg.landscape else MARGINS["bottom"]) * MM
    low = max((ln for ln in pg.lines if is_record(ln.text, info.record)), key=lambda ln: ln.y1)
    below = [r for r in rules if r[0] >= low.y1 - 1 and r[1] <= low.x0 + TOL and r[2] >= low.x1 - TOL]
    if not below:
        bad(pg.number, "record-foot", "版记下没有末条分隔线")
        return
    gap = (bottom - min(r[0] for r in below)) / MM
    measures["record_rule_above_bottom_mm"] = round(gap, 1)
    if not -TOL / MM <= gap <= RECORD_FOOT_MM:
        bad(pg.number, "record-foot", f"版记末条分隔线距版心下边缘 {gap:.1f} mm，应在版心最后一行（{RECORD_FOOT_MM:.0f} mm 内）")


def _check_head(pg: Page, info: DocInfo, rules: list[tuple[float, float, float]], bad, measures: dict) -> None:
    x0, x1 = MARGINS["left"] * MM, pg.width - MARGINS["right"] * MM
    centre = (x0 + x1) / 2
    mark = next((ln for ln in pg.lines if _squash(ln.text) == _squash(info.mark or "")), None)
    number = next((ln for ln in pg.lines if _squash(ln.text) == _squash(info.doc_number or "")), None)
    if mark is None:
        bad(1, "mark", f"首页没有发文机关标志“{info.mark}”")
        return
    top_mm = (mark.y0 - MARGINS["top"] * MM) / MM
    measures["mark_top_mm"] = round(top_mm, 1)
    measures["mark_centre_offset_mm"] = round(((mark.x0 + mark.x1) / 2 - centre) / MM, 1)
    if abs(top_mm - 35) > 3:
        bad(1, "mark", f"发文机关标志上边缘距版心上边缘 {top_mm:.1f} mm，应为 35 mm")
    if abs((mark.x0 + mark.x1) / 2 - centre) > 2 * MM:
        bad(1, "mark", "发文机关标志未居中")
    if number is None:
        bad(1, "doc-number", f"首页没有发文字号“{info.doc_number}”")
        return
    if number.y0 <= mark.y1 or abs((number.x0 + number.x1) / 2 - centre) > 2 * MM:
        bad(1, "doc-number", "发文字号应在发文机关标志之下居中")
    below = [r for r in rules if r[0] > number.y1]
    if not below:
        bad(1, "red-rule", "发文字号下没有红色分隔线")
        return
    y, rx0, rx1 = min(below)
    gap = (y - number.y1) / MM
    measures["rule_below_number_mm"] = round(gap, 1)
    measures["rule_width_mm"] = round((rx1 - rx0) / MM, 1)
    if not 2 <= gap <= 7:
        bad(1, "red-rule", f"红色分隔线在发文字号下 {gap:.1f} mm，应约为 4 mm")
    if rx0 > x0 + TOL or rx1 < x1 - TOL:
        bad(1, "red-rule", f"红色分隔线宽 {(rx1 - rx0) / MM:.0f} mm，应与版心同宽（156 mm）")


# ------------------------------------------------------------------ running


def check_documents(paths: list[Path], pdf_dir: Path | None = None,
                    measures: dict[str, dict] | None = None) -> tuple[list[Finding], dict[str, int]]:
    """Convert and check every .docx under `paths`; returns the findings and the page count per file
    (`measures`, if given, receives each file's 版头 measurements)."""
    docx = sorted({p for x in paths for p in ([x] if x.suffix == ".docx" else Path(x).rglob("*.docx"))
                   if not p.name.startswith("~$")})
    with tempfile.TemporaryDirectory(prefix="djctl-pdf-") as tmp:
        out = Path(pdf_dir) if pdf_dir else Path(tmp)
        pdfs = convert(docx, out)
        findings: list[Finding] = []
        pages: dict[str, int] = {}
        for src, pdf in pdfs.items():
            if not pdf.exists():
                findings.append(Finding(src.name, None, "convert", "LibreOffice 没有生成 PDF"))
                continue
            info = doc_info(src)
            pg = read_pages(pdf)
            pages[src.name] = len(pg)
            m: dict = {}
            held = record_page(pg, info) if info.record else None
            findings += check_pdf(src.name, pg, info, red_rules(pdf) if info.doc_number else [], m,
                                  hrules(pdf, held.number) if held else ([] if info.record else None))
            if measures is not None and m:
                measures[src.name] = m
    return findings, pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--pdf-dir", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if find_soffice() is None:
        print("LibreOffice (soffice) not found", file=sys.stderr)
        return 2
    measures: dict[str, dict] = {}
    findings, pages = check_documents(a.paths, a.pdf_dir, measures)
    if a.json:
        print(json.dumps({"pages": pages, "measures": measures, "findings": [asdict(x) for x in findings]},
                         ensure_ascii=False, indent=1))
    else:
        for name, n in sorted(pages.items()):
            own = [x for x in findings if x.file == name]
            print(f"{'FAIL' if own else 'ok  '} {name}: {n} 页" + (f"，{len(own)} 处问题" if own else ""))
            if measures.get(name, {}).get("hanging_punctuation"):
                print(f"     注：第 {'、'.join(map(str, measures[name]['hanging_punctuation']))} 页有行末标点悬挂在版心外"
                      "（LibreOffice 的标点悬挂；Word 中 overflowPunct 已关闭）")
            if "mark_top_mm" in measures.get(name, {}):
                m = measures[name]
                print(f"     版头：标志上边缘距版心 {m.get('mark_top_mm')} mm（居中偏差 {m.get('mark_centre_offset_mm')} mm），"
                      f"红线在字号下 {m.get('rule_below_number_mm')} mm，宽 {m.get('rule_width_mm')} mm")
            if "record_rule_above_bottom_mm" in measures.get(name, {}):
                print(f"     版记：末条分隔线距版心下边缘 {measures[name]['record_rule_above_bottom_mm']} mm")
            for x in own:
                print(f"     第 {x.page or '-'} 页 [{x.rule}] {x.message}")
        print(f"{len(pages)} 份文书，{sum(pages.values())} 页，{len(findings)} 处问题")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
