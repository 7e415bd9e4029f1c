"""scripts/check_documents.py: Word documents rendered with LibreOffice and checked on the PDF.

One soffice run converts a clean document and one that breaks rules on purpose (software words in the
body, a table too narrow for its names); the check passes the first and names the faults of the second.
Skipped only where LibreOffice or poppler is not installed (CI installs both).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from djctl.io.render import render_document
from tests.test_yearend import year  # noqa: F401 - the fixture: a complete small year

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdftocairo")),
                                reason="LibreOffice or poppler-utils not installed")


def _script():
    spec = importlib.util.spec_from_file_location("check_documents", ROOT / "scripts" / "check_documents.py")
    mod = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["check_documents"] = mod   # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


HEAD = {"issuer": "中共示范市直属机关工作委员会", "mark": "中共示范市直属机关工作委员会文件",
        "doc_number": "示工委〔2025〕3号", "recipients": "各直属单位党组织：", "date": "2025年1月10日",
        "cc": "市委组织部", "printer": "中共示范市直属机关工作委员会办公室", "print_date": "2025年1月10日"}


def test_check_passes_a_clean_document_and_names_broken_rules(tmp_path: Path) -> None:
    check = _script()
    good = {**HEAD, "kind": "bulletin", "title": "关于2024年第二季度市直机关党建工作考核情况的通报",
            "sections": [{"heading": "一、基本情况", "paragraphs": ["本季度各单位均按时报送月度自评。" * 3],
                          "tables": [{"caption": "表1 排名", "columns": ["名次", "单位", "得分"],
                                      "rows": [[1, "市科学技术协会机关党委", "95.80"], [2, "市财政局机关党委", "94.10"]]}]}]}
    bad = {**HEAD, "kind": "bulletin", "title": "关于2024年第二季度市直机关党建工作考核情况的通报",
           "sections": [{"heading": "一、抽签", "paragraphs": [
               "任何人均可用 djctl sample verify 复核（lookback:2024，名单哈希 987b4ccd216e37000362c483b8b8aa1c）。"],
               "tables": [{"caption": "表1 过宽的表", "columns": [str(i) for i in range(1, 21)],
                           "rows": [["市科学技术协会机关党委"] * 20]}]}]}
    render_document(good, ["docx"], tmp_path / "good", "good")
    render_document(bad, ["docx"], tmp_path / "bad", "bad")
    findings, pages = check.check_documents([tmp_path / "good", tmp_path / "bad"])
    by_file: dict[str, set[str]] = {}
    for f in findings:
        by_file.setdefault(f.file, set()).add(f.rule)
    assert set(pages) == {"good.docx", "bad.docx"}
    assert {"software-words", "cell-per-character"} <= by_file["bad.docx"]
    assert "good.docx" not in by_file, [f for f in findings if f.file == "good.docx"]


def test_a_clean_document_passes_every_rule(tmp_path: Path) -> None:
    check = _script()
    good = {**HEAD, "kind": "bulletin", "title": "关于2024年第二季度市直机关党建工作考核情况的通报",
            "sections": [{"heading": "一、基本情况", "paragraphs": ["本季度各单位均按时报送月度自评。" * 3],
                          "tables": [{"caption": "表1 排名", "columns": ["名次", "单位", "得分"],
                                      "rows": [[1, "市科学技术协会机关党委", "95.80"], [2, "市财政局机关党委", "94.10"]]}]}]}
    render_document(good, ["docx"], tmp_path, "good")
    measures: dict = {}
    findings, _ = check.check_documents([tmp_path], measures=measures)
    assert findings == []
    m = measures["good.docx"]
    assert abs(m["mark_top_mm"] - 35) <= 3 and 2 <= m["rule_below_number_mm"] <= 7 and m["rule_width_mm"] > 154


def test_check_measures_the_head_rule_on_pages() -> None:
    """The rule functions alone: a mark 20 mm down and a red rule under half the width are found."""
    check = _script()
    mm = check.MM
    page = check.Page(1, *check.A4)
    page.lines = [check.Line("中共示范市直属机关工作委员会文件", 28 * mm + 10, 57 * mm, 184 * mm - 10, 67 * mm, 0),
                  check.Line("示工委〔2025〕3号", 80 * mm, 90 * mm, 132 * mm, 96 * mm, 1),
                  check.Line("— 1 —", 160 * mm, 270 * mm, 178 * mm, 275 * mm, 2)]
    info = check.DocInfo("中共示范市直属机关工作委员会文件", "示工委〔2025〕3号", [], False)
    found = check.check_pdf("x.docx", [page], info, [(100 * mm, 60 * mm, 130 * mm)])
    rules = {f.rule: f.message for f in found}
    assert "距版心上边缘 20.0 mm" in rules["mark"]
    assert "红色分隔线宽 70 mm" in rules["red-rule"]


def test_a_page_with_only_the_signature_and_the_record_is_found() -> None:
    check = _script()
    mm = check.MM
    info = check.DocInfo(None, None, ["中共示范市直属机关工作委员会", "2025年1月10日"], False,
                         ["抄送：市委组织部。", "中共示范市直属机关工作委员会办公室", "2025年1月10日印发"])
    texts = info.signature + info.record
    alone = check.Page(2, *check.A4)
    alone.lines = [check.Line(s, 100 * mm, (60 + 10 * k) * mm, 150 * mm, (65 + 10 * k) * mm, k) for k, s in enumerate(texts)]
    alone.lines.append(check.Line("— 2 —", 32 * mm, 270 * mm, 50 * mm, 275 * mm, 9))
    with_text = check.Page(2, *check.A4)
    with_text.lines = [check.Line("请各单位认真落实。", 40 * mm, 50 * mm, 150 * mm, 55 * mm, 0), *alone.lines]
    assert [f.rule for f in check.check_pdf("x.docx", [alone], info, [])] == ["signature-alone"]
    assert check.check_pdf("x.docx", [with_text], info, []) == []


def test_an_attachment_note_split_from_the_signature_is_found() -> None:
    """附件：1. on one page, 2. and the 署名 on the next (the Q2 bulletin before the note kept together)."""
    check = _script()
    mm = check.MM
    info = check.DocInfo(None, None, ["中共示范市直属机关工作委员会", "2025年1月10日"], False, [])
    first, second = check.Page(1, *check.A4), check.Page(2, *check.A4)
    first.lines = [check.Line("请各单位认真落实。", 40 * mm, 50 * mm, 150 * mm, 55 * mm, 0),
                   check.Line("附件：1. 抽签情况公示", 40 * mm, 70 * mm, 120 * mm, 75 * mm, 1),
                   check.Line("— 1 —", 160 * mm, 270 * mm, 178 * mm, 275 * mm, 9)]
    second.lines = [check.Line("2. 未完成整改事项清单", 56 * mm, 40 * mm, 140 * mm, 45 * mm, 0),
                    check.Line("中共示范市直属机关工作委员会", 100 * mm, 60 * mm, 150 * mm, 65 * mm, 1),
                    check.Line("2025年1月10日", 110 * mm, 70 * mm, 150 * mm, 75 * mm, 2),
                    check.Line("— 2 —", 32 * mm, 270 * mm, 50 * mm, 275 * mm, 9)]
    found = check.check_pdf("x.docx", [first, second], info, [])
    assert [(f.page, f.rule) for f in found] == [(2, "attachment-note-split")]
    together = check.Page(1, *check.A4)
    together.lines = first.lines[:2] + [check.Line(ln.text, ln.x0, ln.y0 + 40 * mm, ln.x1, ln.y1 + 40 * mm, ln.block + 2)
                                        for ln in second.lines[:3]] + first.lines[2:]
    assert check.check_pdf("x.docx", [together], info, []) == []


def test_a_record_off_the_foot_or_alone_on_a_numbered_page_is_found(tmp_path: Path, monkeypatch) -> None:
    """Two documents broken on purpose: the 版记 unframed (in the flow, right under the date) and the 版记
    after a page break (a page of its own with a page number); the clean one passes."""
    import re

    from djctl.io.render import official

    check = _script()
    doc = {**HEAD, "kind": "bulletin", "title": "关于2024年第二季度市直机关党建工作考核情况的通报",
           "sections": [{"heading": "一、基本情况", "paragraphs": ["本季度各单位均按时报送月度自评。" * 3]}]}
    render_document(doc, ["docx"], tmp_path, "good")
    framed = official.record_xml
    monkeypatch.setattr(official, "record_xml", lambda *a: re.sub(r"<w:framePr [^>]*/>", "", framed(*a)))
    render_document(doc, ["docx"], tmp_path, "in_flow")
    page_break = f'<w:p xmlns:w="{official.W_NS}"><w:r><w:br w:type="page"/></w:r></w:p>'
    monkeypatch.setattr(official, "record_xml", lambda *a: page_break + framed(*a))
    render_document(doc, ["docx"], tmp_path, "alone")
    measures: dict = {}
    findings, pages = check.check_documents([tmp_path], measures=measures)
    by_file: dict[str, list[str]] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f.rule)
    assert "good.docx" not in by_file, findings
    assert abs(measures["good.docx"]["record_rule_above_bottom_mm"]) <= check.RECORD_FOOT_MM
    assert by_file["in_flow.docx"] == ["record-foot"]
    assert measures["in_flow.docx"]["record_rule_above_bottom_mm"] > 50
    assert by_file["alone.docx"] == ["record-alone"] and pages["alone.docx"] == pages["good.docx"] + 1


def test_the_record_rules_on_pages() -> None:
    """The rule functions alone: a 版记 whose last rule is 20 mm above the foot of the 版心 is found; one on
    the last line passes; a page with only the 版记 is found when it carries a page number."""
    check = _script()
    mm = check.MM
    info = check.DocInfo(None, None, [], False, ["抄送：市委组织部。", "中共示范市直属机关工作委员会办公室", "2025年1月10日印发"])
    foot = check.A4[1] - 35 * mm

    def page(bottom_mm: float, number: bool = True, text: bool = True) -> check.Page:
        pg = check.Page(1, *check.A4)
        y = foot - bottom_mm * mm
        pg.lines = [check.Line("抄送：市委组织部。", 32 * mm, y - 14 * mm, 80 * mm, y - 9 * mm, 1),
                    check.Line("中共示范市直属机关工作委员会办公室2025年1月10日印发", 32 * mm, y - 6 * mm, 180 * mm, y - 1 * mm, 2)]
        if text:
            pg.lines.insert(0, check.Line("请各单位认真落实。", 40 * mm, 50 * mm, 150 * mm, 55 * mm, 0))
        if number:
            pg.lines.append(check.Line("— 1 —", 160 * mm, 270 * mm, 178 * mm, 275 * mm, 9))
        return pg

    def rules(bottom_mm: float) -> list:
        return [(foot - bottom_mm * mm, 28 * mm, 184 * mm)]

    assert check.check_pdf("x.docx", [page(0.3)], info, [], {}, rules(0.3)) == []
    found = check.check_pdf("x.docx", [page(20)], info, [], {}, rules(20))
    assert [f.rule for f in found] == ["record-foot"] and "20.0 mm" in found[0].message
    assert [f.rule for f in check.check_pdf("x.docx", [page(0.3)], info, [], {}, [])] == ["record-foot"]   # no rule
    assert [f.rule for f in check.check_pdf("x.docx", [page(0.3, text=False)], info, [], {}, rules(0.3))] == ["record-alone"]
    assert check.check_pdf("x.docx", [page(0.3, number=False, text=False)], info, [], {}, rules(0.3)) == [
        check.Finding("x.docx", 1, "page-number", "没有页码“— n —”")]   # the page-number rule, not record-alone


def test_every_document_of_a_year_end_run_passes(cli, year, tmp_path):  # noqa: F811
    """The documents `year-end` issues for a small complete year, all rendered in one soffice run."""
    check = _script()
    r = cli("year-end", "--year", "2024", "--out", "y", "--date", "2025-01-10")
    assert r.exit_code == 0, r.output
    measures: dict = {}
    findings, pages = check.check_documents([tmp_path / "y"], measures=measures)
    # four bulletins, the annual result, the negative list and the 评先评优资格 notice
    assert len(pages) == 7 and findings == [], (sorted(pages), findings)
    assert all(abs(m["mark_top_mm"] - 35) <= 3 for m in measures.values())
