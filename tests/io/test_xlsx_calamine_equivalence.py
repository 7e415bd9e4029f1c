"""Issue 21, item 1: every .xlsx is read through python-calamine, and every importer sees exactly what the
openpyxl reader gave it (values and their types, formulas, merged cells), file by file and cell by cell.

The workbooks: djctl's own forms filled in as units fill them (numbers, 8.5, formulas with and without a
cached value, merged notes, dates typed in notes), its other templates, the LibreOffice-saved forms in
tests/office_files, and hand-made packages with what calamine reports differently (error cells, date
formats including the Chinese built-in ones, "5.0", empty inline and shared strings, rich text, cells
without references, a far cell)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from djctl.io.xlsx import Workbook
from tests.monthly_helpers import MONTH, fill_form, setup_month

OFFICE = Path(__file__).resolve().parent.parent / "office_files"


def _view(path: Path, engine: str) -> tuple[dict, dict]:
    with Workbook(path, _engine=engine) as wb:
        names = wb.sheetnames
        sheets = {n: wb.sheet(n) for n in names}
        read_by = dict(wb.read_by)
    out = {}
    for n, d in sheets.items():
        rows = [(r, [(c.value, type(c.value), c.formula, c.from_formula) for c in cells]) for r, cells in d.rows]
        out[n] = (rows, sorted(d.merged_ranges()))
    return {"names": names, "sheets": out}, read_by


def assert_same(path: Path) -> dict[str, str]:
    new, read_by = _view(path, "calamine")
    old, _ = _view(path, "openpyxl")
    assert new["names"] == old["names"], path
    for name, (rows, merged) in old["sheets"].items():
        got_rows, got_merged = new["sheets"][name]
        for (r0, c0), (r1, c1) in zip(rows, got_rows):
            assert (r1, c1) == (r0, c0), (path.name, name, r0)
        assert len(got_rows) == len(rows), (path.name, name)
        assert got_merged == merged, (path.name, name)
    return read_by


# ---------------------------------------------------------------- hand-made packages

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         f'xmlns:r="{_R}"><sheets><sheet name="数据" sheetId="1" r:id="rId1"/>'
         '<sheet name="_djctl" sheetId="2" state="veryHidden" r:id="rId2"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
              f'<Relationship Id="rId2" Type="{_R}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
              f'<Relationship Id="rId3" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/>'
              f'<Relationship Id="rId4" Type="{_R}/styles" Target="styles.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
           '<numFmt numFmtId="165" formatCode="0.0"/></numFmts>'
           '<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="31"/><xf numFmtId="164"/>'
           '<xf numFmtId="165"/><xf numFmtId="57"/></cellXfs></styleSheet>')
_META = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
         '<row r="1"><c r="A1" t="inlineStr"><is><t>kind</t></is></c><c r="B1" t="inlineStr"><is><t>selfeval</t></is></c></row>'
         '</sheetData></worksheet>')


def _sst(strings: list[str]) -> str:
    body = "".join(s if s.startswith("<si") else f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
    return ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{body}</sst>')


def _package(path: Path, sheet_data: str, strings: list[str], extra: str = "") -> Path:
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{sheet_data}</sheetData>{extra}</worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", _BOOK),
                           ("xl/_rels/workbook.xml.rels", _BOOK_RELS), ("xl/styles.xml", _STYLES),
                           ("xl/sharedStrings.xml", _sst(strings)), ("xl/worksheets/sheet1.xml", sheet),
                           ("xl/worksheets/sheet2.xml", _META)):
            zf.writestr(name, text)
    return path


PLAIN = ['单位编码', '自评得分', '  前后空格  ', '<si><r><rPr><b/></rPr><t>富</t></r><r><t>文本</t></r></si>', '中文说明']
PLAIN_ROWS = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" s="4"/></row>'
              '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>8.5</v></c><c r="C3"><v>9</v></c>'
              '<c r="D3" t="b"><v>1</v></c><c r="E3" t="b"><v>0</v></c><c r="F3" s="4"><v>-3</v></c></row>'
              '<row r="4"><c r="B4" t="s"><v>3</v></c><c r="C4" t="str"><v>文本</v></c><c r="D4" t="str"><v></v></c>'
              '<c r="E4" t="inlineStr"><is><t>内联</t></is></c><c r="F4" t="inlineStr"/><c r="G4"><v>0.30000000000000004</v></c></row>'
              '<row r="5"><c r="A5" s="4"/><c r="B5" s="1"/></row>'
              '<row r="7"><c r="C7" t="s"><v>4</v></c><c r="D7"><v>123456789012345</v></c></row>'
              '<row r="3000"><c r="H3000"><v>7</v></c></row>')
SPECIAL = {  # each read by the reference reader, so each reads as before
    "error": '<row r="2"><c r="A2" t="e"><v>#N/A</v></c><c r="B2"><v>1</v></c></row>',
    "date": '<row r="2"><c r="A2" s="1"><v>45296</v></c><c r="B2" s="3"><v>45296.5</v></c></row>',
    "chinese-date": '<row r="2"><c r="A2" s="2"><v>45296</v></c><c r="B2" s="5"><v>45296</v></c></row>',
    "point-zero": '<row r="2"><c r="A2"><v>5.0</v></c><c r="B2"><v>1E3</v></c><c r="C2"><v>12345678901234567890</v></c>'
                   '<c r="D2"><v>1.5E-3</v></c></row>',
    "empty-inline": '<row r="2"><c r="A2" t="inlineStr"><is><t></t></is></c><c r="B2"><v>1</v></c></row>',
    "unpreserved-spaces": '<row r="2"><c r="A2" t="inlineStr"><is><t> x </t></is></c><c r="B2" t="inlineStr"><is><t>  </t></is></c></row>',
    "iso-date": '<row r="2"><c r="A2" t="d"><v>2024-01-05T00:00:00</v></c></row>',
}
FORMULAS = {  # read by calamine, the formula cells found by a defusedxml parse of the sheet
    "array-formula": '<row r="2"><c r="A2"><f t="array" ref="A2">SUM(B2:B3)</f><v>3</v></c><c r="B2"><v>1</v></c></row>',
    "formula-cached": '<row r="2"><c r="A2"><f>8+1</f><v>9</v></c><c r="B2"><f>A2&amp;"x"</f><v>9x</v></c></row>',
    "formula-uncached": '<row r="2"><c r="A2"><f>8+1</f></c></row><row r="5"><c r="C5"><f>SUM(A1:A2)</f><v></v></c></row>',
    "shared-formula": ('<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">B2*2</f><v>2</v></c><c r="B2"><v>1</v></c></row>'
                       '<row r="3"><c r="A3"><f t="shared" si="0"/><v>4</v></c><c r="B3"><v>2</v></c></row>'),
}
NO_REFS = '<row><c><v>1</v></c><c t="inlineStr"><is><t>x</t></is></c></row><row><c><v>2</v></c></row>'


def test_plain_package_is_read_by_calamine_and_reads_alike(tmp_path):
    path = _package(tmp_path / "plain.xlsx", PLAIN_ROWS, PLAIN, '<mergeCells count="2"><mergeCell ref="A8:B9"/>'
                    '<mergeCell ref="C10"/></mergeCells>')
    assert assert_same(path) == {"数据": "calamine", "_djctl": "calamine"}
    with Workbook(path) as wb:
        rows = dict(wb.sheet("数据").rows)
    assert [c.value for c in rows[3]] == ["  前后空格  ", 8.5, 9, True, False, -3]
    assert [c.value for c in rows[4]] == [None, "富文本", "文本", None, "内联", None, 0.30000000000000004]


@pytest.mark.parametrize("case", list(SPECIAL))
def test_what_calamine_cannot_say_is_read_as_before(tmp_path, case):
    path = _package(tmp_path / f"{case}.xlsx", SPECIAL[case], PLAIN)
    assert assert_same(path)["数据"] == "openpyxl"


@pytest.mark.parametrize("case", list(FORMULAS))
def test_formulas_are_found_in_the_sheet_and_read_as_before(tmp_path, case):
    assert assert_same(_package(tmp_path / f"{case}.xlsx", FORMULAS[case], PLAIN))["数据"] == "calamine"


def test_cells_without_references_read_alike(tmp_path):
    assert assert_same(_package(tmp_path / "norefs.xlsx", NO_REFS, PLAIN))["数据"] == "calamine"


def test_an_empty_shared_string_is_read_as_before(tmp_path):
    path = _package(tmp_path / "sst.xlsx", '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>1</v></c></row>',
                    ["x", "<si><t/></si>"])
    assert assert_same(path)["数据"] == "openpyxl"
    with Workbook(path) as wb:
        assert [c.value for c in dict(wb.sheet("数据").rows)[2]] == ["", 1]


def test_shared_strings_with_unpreserved_spaces_are_read_as_before(tmp_path):
    path = _package(tmp_path / "sst2.xlsx", '<row r="2"><c r="A2" t="s"><v>5</v></c><c r="B2" t="s"><v>6</v></c></row>',
                    PLAIN + ["<si><t>  </t></si>", "<si><t> y</t></si>"])
    assert assert_same(path)["数据"] == "openpyxl"
    with Workbook(path) as wb:
        assert [c.value for c in dict(wb.sheet("数据").rows)[2]] == ["  ", " y"]


def test_a_far_apart_sheet_never_reaches_calamine(tmp_path):
    """calamine holds a sheet as one dense rectangle: A1 and XFD1048576 would abort the process."""
    path = _package(tmp_path / "far.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>'
                    '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>', PLAIN)
    new, read_by = _view(path, "calamine")
    assert read_by["数据"] == "openpyxl"
    assert new["sheets"]["数据"][0][-1][0] == 1048576


#: a far cell in each syntax that XML and calamine accept, and the old byte patterns did not see: each one
#: made calamine allocate A1:XFD1048576 and abort the process
_FAR = "XFD1048576"
FAR_CELLS = {
    "single quotes": f"<row r='1048576'><c r='{_FAR}'><v>2</v></c></row>",
    "spaces around =": f'<row r = "1048576"><c r = "{_FAR}"><v>2</v></c></row>',
    "lower case": f'<row r="1048576"><c r="{_FAR.lower()}"><v>2</v></c></row>',
    "prefixed cell": f'<row r="1048576"><x:c xmlns:x="{_MAIN}" r="{_FAR}"><x:v>2</x:v></x:c></row>',
    "> in a value": f'<row r="1048576"><c r="{_FAR}" x="/>"><v>2</v></c></row>',
    "tab before r": f'<row\tr="1048576"><c\tr="{_FAR}"><v>2</v></c></row>',
    "no references": '<row r="1048576">' + "<c><v>1</v></c>" * 16384 + "</row>",
}


def _read_in_child(path: Path) -> list[str]:
    """The sheet read in a child process (a regression aborts that process, not the test run): which reader
    read it and its last row number, or the refusal's message."""
    import subprocess
    import sys

    code = ("import sys; from djctl.errors import InputError; from djctl.io.xlsx import Workbook\n"
            "try:\n"
            "    with Workbook(sys.argv[1]) as wb:\n"
            "        rows = wb.sheet('数据').rows\n"
            "        print(wb.read_by['数据'], rows[-1][0])\n"
            "except InputError as exc:\n"
            "    print('refused', exc.message)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


@pytest.mark.parametrize("variant", sorted(FAR_CELLS))
def test_a_far_cell_in_any_syntax_never_reaches_calamine(tmp_path, variant):
    path = _package(tmp_path / "far.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>' + FAR_CELLS[variant], PLAIN)
    assert _read_in_child(path) == ["openpyxl", "1048576"]


def test_a_far_empty_cell_leaves_the_sheet_to_calamine(tmp_path):
    """calamine skips cells without content (a self-closing styled cell): the sheet it holds is A1 alone, found
    by walking the XML as calamine does once the quick bound says A1:XFD1048576."""
    path = _package(tmp_path / "far_empty.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>'
                    f'<row r="1048576"><c r="{_FAR}" s="4"/></row>', PLAIN)
    assert assert_same(path) == {"数据": "calamine", "_djctl": "calamine"}


def test_a_formula_beside_a_far_cell_in_odd_syntax_is_refused_not_a_crash(tmp_path):
    """The reference reader asks calamine for a formula's cached value, behind the same extent check."""
    path = _package(tmp_path / "farf2.xlsx", "<row r='1'><c r='A1'><f>1+1</f><v>2</v></c></row>"
                    + FAR_CELLS["single quotes"], PLAIN)
    out = _read_in_child(path)
    assert out[0] == "refused" and "范围过大" in out[1]


# ---------------------------------------------------------------- djctl's forms and office files


def _variants(src: Path, out: Path, tasks: int) -> list[Path]:
    from openpyxl.comments import Comment

    def merged_notes(wb):
        wb["自评表"].merge_cells("G8:G9")

    def date_in_note(wb):
        wb["自评表"]["G9"] = date(2024, 3, 5)
        wb["自评表"]["G10"] = datetime(2024, 3, 5, 9, 30)

    def comment(wb):
        wb["自评表"]["F7"].comment = Comment("备注", "单位")

    mixed = [8.5, 9, 0, "7", None, "=8+1", Decimal("2.5"), " 6 ", "九"] + [1] * max(0, tasks - 9)
    return [
        fill_form(src, out / "default.xlsx"),
        fill_form(src, out / "mixed.xlsx", mixed[:tasks], notes=["已完成", "", None, "=1+1", "  空格 "] + ["x"] * (tasks - 5)),
        fill_form(src, out / "merged.xlsx", edit=merged_notes),
        fill_form(src, out / "dates.xlsx", edit=date_in_note),
        fill_form(src, out / "comment.xlsx", edit=comment),
        src,
    ]


def test_forms_and_office_files_read_alike(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    src = s.forms["U001"]
    paths = _variants(src, tmp_path / "填好", len(s.tasks))
    paths += sorted(OFFICE.glob("*.xlsx"))
    read_by = {p.name: assert_same(p) for p in paths}
    # the forms as units return them (formulas too) are read by calamine; dates by the reference reader
    assert read_by["default.xlsx"] == {"自评表": "calamine", "_djctl": "calamine"}
    assert read_by["merged.xlsx"]["自评表"] == "calamine"
    assert read_by["mixed.xlsx"]["自评表"] == "calamine"
    assert read_by["dates.xlsx"]["自评表"] == "openpyxl"
    assert read_by[f"{MONTH}_U001_libreoffice.xlsx"]["自评表"] == "calamine"  # =8+1, merged notes


def test_other_templates_read_alike(tmp_path):
    from djctl.io.adjust_xlsx import write_adjust_template
    from djctl.io.votes_xlsx import write_votes_template
    from djctl.io.xlsx import write_table_workbook

    paths = [write_adjust_template(tmp_path / "adjust.xlsx", [("U001", "加分", 1.5, "表彰", "2024-03-01")]),
             write_votes_template(tmp_path / "votes.xlsx", 2024, [("U001", "一单位"), ("U002", "二单位")])]
    write_table_workbook(tmp_path / "table.xlsx", [("表", ["编码", "分", "日期"], [["U1", 9, "2024-01-05"], ["U2", 8.5, None]])])
    paths.append(tmp_path / "table.xlsx")
    for p in paths:
        assert set(assert_same(p).values()) <= {"calamine", "openpyxl"}


def test_a_formula_in_a_far_apart_sheet_is_refused_not_a_crash(tmp_path):
    """The openpyxl reader asked calamine for the formula's cached value: on such a sheet that aborted."""
    from djctl.errors import InputError

    path = _package(tmp_path / "farf.xlsx", '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>'
                    '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>', PLAIN)
    with Workbook(path) as wb, pytest.raises(InputError, match="范围过大"):
        wb.sheet("数据")


def test_check_worksheets_read_alike(cli, tmp_path):
    from tests.check_helpers import check_forms, fill_check, setup_checks

    setup_checks(cli, tmp_path)
    forms = check_forms(cli, tmp_path / "核查表")
    unit, src = sorted(forms.items())[0]
    paths = [src, fill_check(src, tmp_path / "填好" / "a.xlsx"),
             fill_check(src, tmp_path / "填好" / "b.xlsx", {"T01": "=2+3", "T02": 1.5}, {"T01": "是"}, checker=None)]
    read_by = [assert_same(p) for p in paths]
    assert all(set(r.values()) == {"calamine"} for r in read_by), read_by  # a formula in b.xlsx too
