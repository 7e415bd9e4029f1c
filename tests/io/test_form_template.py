"""Forms written from a rendered template (io/form_template) against the per-unit openpyxl writers they replace.

The reference writers below are the old `write_form` / `write_check_form` bodies, kept verbatim here (but for
the self-assessment form's header rows, which follow its current layout): every
zip member except the document dates must be byte-identical, and the workbooks must read the same in openpyxl
(full and read-only) and python-calamine, cell by cell, with validations, protection, widths and the very
hidden meta sheet; filled forms import unchanged; LibreOffice converts them.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from djctl.errors import InputError
from djctl.io import form_template
from djctl.io.check_form import CheckFormTask, read_check_form, write_check_form
from djctl.io.form_template import FormTemplate, form_bytes, zip_members
from djctl.io.outfile import OutputError, save_workbook
from djctl.io.selfeval_form import FormTask, form_spec, read_form, write_form
from djctl.io.xlsx import print_fit, wo_cell, write_meta

HOSTILE = '<&"> =1+1 \u202e'
NAMES = ["第一测试厅机关党委", HOSTILE, "长" * 5000 + " 尾", "  =SUM(A1:A9) ", "x\ty\n😀 &amp; ]]>", "@cmd|' /C calc'!A0"]
TASKS = [FormTask("T01", "严格落实“三会一课”", "政治统领", Decimal("5")),
         FormTask("T02", " 任务 <二> & ", "组织", Decimal("2.5")),
         FormTask("T03", "=1+1", "=A1", Decimal("10"))]
CHECK_TASKS = [CheckFormTask("T01", "任务一", Decimal("5"), Decimal("4.5"), "已完成 <b>"),
               CheckFormTask("T02", "=2*3", Decimal("2.5"), Decimal("2"), ""),
               CheckFormTask("T03", "任务三", Decimal("10"), Decimal("10"), "=HYPERLINK(\"x\")")]


# ---------------------------------------------------------------- the old writers, verbatim


def _ref_lines(text, width):
    """The reference rule for a wrapped cell: a CJK character is two characters wide, a line holds width - 1."""
    if not isinstance(text, str) or not text:
        return 1
    total = 0
    for part in text.split("\n"):
        units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
        total += max(1, math.ceil(units / (width - 1)))
    return total


def _ref_heights(ws, rows):
    """rows: (row number, [(text, width), ...]) of the wrapped cells; a row over one line gets 15 points a line."""
    for rownum, cells in rows:
        lines = max([_ref_lines(t, w) for t, w in cells] or [1])
        if lines > 1:
            ws.row_dimensions[rownum].height = min(409, 15 * lines)


def old_write_form(path, *, unit_code, unit_name, month, month_label, task_hash, tasks,
                   title_suffix="党建工作月度自评表", scores=None):
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Border, Font, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.selfeval_form import COLUMNS, HEADER_ROW, INSTRUCTIONS, _num
    wb = OWorkbook(write_only=True)
    ws = wb.create_sheet("自评表")
    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    box = Border(left=Side(style="thin"), right=Side(style="thin"), top=Side(style="thin"), bottom=Side(style="thin"))
    mid = Alignment(vertical="center")  # the table is ruled; its header centred
    head = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for letter, width in zip("ABCDEFG", (6, 10, 48, 10, 8, 10, 40)):
        ws.column_dimensions[letter].width = width
    first, last = HEADER_ROW + 1, HEADER_ROW + len(tasks)
    dv = DataValidation(type="custom", allow_blank=False, showErrorMessage=True,
                        formula1=f"AND(ISNUMBER(F{first}),F{first}>=0,F{first}<=E{first},ROUND(F{first},1)=F{first})",
                        errorTitle="自评得分无效", error="请填写 0 到分值之间的数，最多 1 位小数")
    dv.add(f"F{first}:F{last}")
    ws.data_validations.append(dv)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.freeze_panes = f"A{first}"
    ws.merged_cells.add(f"A{HEADER_ROW - 2}:G{HEADER_ROW - 2}")  # printing: the instructions across the table
    ws.row_dimensions[HEADER_ROW - 2].height = 45
    _ref_heights(ws, [(HEADER_ROW, [(c.name, w) for c, w in zip(COLUMNS, (6, 10, 48, 10, 8, 10, 40))])]
                 + [(HEADER_ROW + i, [(t.name, 48), ((scores or {}).get(t.code, (None, None))[1], 40)])
                    for i, t in enumerate(tasks, 1)])
    print_fit(ws, landscape=True)
    ws.append([wo_cell(ws, f"{month_label}{title_suffix}", font=Font(bold=True, size=14))])
    # the header block as the form lays it out now (labels in B and D, where the columns are wide enough)
    ws.append([wo_cell(ws, None, font=bold), wo_cell(ws, "单位编码", font=bold), wo_cell(ws, unit_code),
               wo_cell(ws, "单位名称", font=bold), wo_cell(ws, unit_name)])
    ws.append([wo_cell(ws, None, font=bold), wo_cell(ws, "月份", font=bold), wo_cell(ws, month)])
    ws.append([wo_cell(ws, INSTRUCTIONS, alignment=wrap)])
    ws.append([])
    ws.append([wo_cell(ws, c.name, font=bold, alignment=head, border=box) for c in COLUMNS])
    for i, t in enumerate(tasks, 1):
        score, note = (scores or {}).get(t.code, (None, None))
        ws.append([wo_cell(ws, i, border=box, alignment=mid), wo_cell(ws, t.code, border=box, alignment=mid),
                   wo_cell(ws, t.name, alignment=wrap, border=box), wo_cell(ws, t.dimension, border=box, alignment=mid),
                   wo_cell(ws, _num(t.points), border=box, alignment=mid),
                   wo_cell(ws, None if score is None else _num(Decimal(score)), protection=unlocked, border=box,
                           alignment=mid),
                   wo_cell(ws, note, protection=unlocked, alignment=wrap, border=box)])
    write_meta(wb, {"kind": "selfeval", "unit": unit_code, "month": month, "task_hash": task_hash})
    save_workbook(wb, path)
    return path


def old_write_check_form(path, *, unit_code, unit_name, month, month_label, draw_id, draw_label, self_report_id,
                         self_hash, task_hash, tasks, check_day=None, checkers="", categories=()):
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Alignment, Border, Font, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.io.check_form import COL, COLUMNS, DATE_LABEL, FILL_COLUMNS, INSTRUCTIONS, LETTERS, NO, YES, _num
    from djctl.io.selfeval_form import HEADER_ROW
    wb = OWorkbook(write_only=True)
    ws = wb.create_sheet("核查表")
    unlocked = Protection(locked=False)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    box = Border(left=Side(style="thin"), right=Side(style="thin"), top=Side(style="thin"), bottom=Side(style="thin"))
    mid = Alignment(vertical="center")  # the table is ruled; its header centred
    head = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for letter, width in zip(LETTERS, (6, 10, 40, 8, 10, 28, 10, 10, 36, 12, 12)):
        ws.column_dimensions[letter].width = width
    first, last = HEADER_ROW + 1, HEADER_ROW + len(tasks)
    v, pts = COL["核查得分"], COL["分值"]
    score_dv = DataValidation(type="custom", allow_blank=False, showErrorMessage=True,
                              formula1=f"AND(ISNUMBER({v}{first}),{v}{first}>=0,{v}{first}<={pts}{first},"
                                       f"ROUND({v}{first},1)={v}{first})",
                              errorTitle="核查得分无效", error="请填写 0 到分值之间的数，最多 1 位小数")
    score_dv.add(f"{v}{first}:{v}{last}")
    f = COL["是否虚假"]
    flag_dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True, showErrorMessage=True,
                             errorTitle="是否虚假", error="请选择「是」或「否」，或留空（按容差规则认定）")
    flag_dv.add(f"{f}{first}:{f}{last}")
    ws.data_validations.append(score_dv)
    ws.data_validations.append(flag_dv)
    if categories and len(",".join(categories)) < 250:
        dv = DataValidation(type="list", formula1='"' + ",".join(categories) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="问题类别", error="请从列表中选择，或留空")
        dv.add(f"{COL['问题类别']}{first}:{COL['问题类别']}{last}")
        ws.data_validations.append(dv)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.freeze_panes = f"A{first}"
    ws.merged_cells.add(f"A{HEADER_ROW - 2}:K{HEADER_ROW - 2}")
    ws.row_dimensions[HEADER_ROW - 2].height = 45
    widths = (6, 10, 40, 8, 10, 28, 10, 10, 36, 12, 12)
    _ref_heights(ws, [(HEADER_ROW, [(c.name, w) for c, w in zip(COLUMNS, widths)])]
                 + [(HEADER_ROW + i, [(t.name, 40), (t.self_note, 28)]) for i, t in enumerate(tasks, 1)])
    print_fit(ws, landscape=True)
    ws.append([wo_cell(ws, f"{month_label}党建工作抽查核查表", font=Font(bold=True, size=14))])
    ws.append([wo_cell(ws, None, font=bold), wo_cell(ws, "单位编码", font=bold), wo_cell(ws, unit_code),
               wo_cell(ws, None, font=bold), wo_cell(ws, "单位名称", font=bold), wo_cell(ws, unit_name)])
    ws.append([wo_cell(ws, None, font=bold), wo_cell(ws, "月份", font=bold), wo_cell(ws, month),
               wo_cell(ws, None, font=bold), wo_cell(ws, "抽签", font=bold), wo_cell(ws, f"#{draw_id}（{draw_label}）"),
               wo_cell(ws, None, font=bold), wo_cell(ws, DATE_LABEL, font=bold),
               wo_cell(ws, check_day.isoformat() if check_day else None, protection=unlocked, border=box, alignment=mid)])
    ws.append([wo_cell(ws, INSTRUCTIONS, alignment=wrap)])
    ws.append([])
    ws.append([wo_cell(ws, c.name, font=bold, alignment=head, border=box) for c in COLUMNS])
    for i, t in enumerate(tasks, 1):
        ws.append([wo_cell(ws, i, border=box, alignment=mid), wo_cell(ws, t.code, border=box, alignment=mid),
                   wo_cell(ws, t.name, alignment=wrap, border=box), wo_cell(ws, _num(t.points), border=box, alignment=mid),
                   wo_cell(ws, _num(t.self_score), border=box, alignment=mid),
                   wo_cell(ws, t.self_note or None, alignment=wrap, border=box),
                   *[wo_cell(ws, (checkers or None) if c == "核查人" else None, protection=unlocked, border=box,
                             alignment=wrap if c == "核查说明" else mid)
                     for c in FILL_COLUMNS]])
    write_meta(wb, {"kind": "check", "unit": unit_code, "month": month, "draw_id": str(draw_id),
                    "self_report_id": str(self_report_id), "self_hash": self_hash, "task_hash": task_hash})
    save_workbook(wb, path)
    return path


# ---------------------------------------------------------------- comparisons


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _style(c) -> tuple:
    return (c.font.b, c.font.sz, c.alignment.wrap_text, c.alignment.vertical, c.protection.locked,
            c.protection.hidden, c.number_format)


def _full(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    out = {"sheets": wb.sheetnames, "states": [ws.sheet_state for ws in wb.worksheets]}
    for ws in wb.worksheets:
        cells = [(c.coordinate, c.value, c.data_type, _style(c)) for row in ws.iter_rows() for c in row]
        dvs = [(str(d.sqref), d.type, d.formula1, d.allow_blank, d.showErrorMessage, d.errorTitle, d.error)
               for d in ws.data_validations.dataValidation]
        prot = ws.protection
        out[ws.title] = {
            "cells": cells, "dvs": dvs, "freeze": ws.freeze_panes,
            "protection": (prot.sheet, prot.formatColumns, prot.formatRows, prot.formatCells, prot.insertRows,
                           prot.deleteRows, prot.selectLockedCells, prot.selectUnlockedCells),
            "widths": {k: (d.width, d.customWidth) for k, d in ws.column_dimensions.items()},
        }
        assert all(c[2] != "f" for c in cells), "a cell became a formula"
    return out


def _read_only(path: Path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}
    finally:
        wb.close()


def _same(old: Path, new: Path) -> None:
    a, b = _members(old), _members(new)
    assert [n for n, _ in a] == [n for n, _ in b]
    for (name, x), (_, y) in zip(a, b):
        if name != "docProps/core.xml":
            assert x == y, name
    assert _full(old) == _full(new)
    assert _read_only(old) == _read_only(new)
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return
    ca, cb = CalamineWorkbook.from_path(str(old)), CalamineWorkbook.from_path(str(new))
    assert ca.sheet_names == cb.sheet_names
    for s in ca.sheet_names:
        assert ca.get_sheet_by_name(s).to_python() == cb.get_sheet_by_name(s).to_python()


def _form_kw(name: str, code: str = "U001", scores=None) -> dict:
    return dict(unit_code=code, unit_name=name, month="2024-03", month_label="2024年3月", task_hash="ab" * 32,
                tasks=TASKS, scores=scores)


@pytest.mark.parametrize("filled", [False, True])
def test_self_assessment_forms_match_the_old_writer(tmp_path, filled):
    for n, name in enumerate(NAMES):
        scores = {"T01": (Decimal("4.5"), HOSTILE), "T02": (Decimal("0"), " =SUM(1) "),
                  "T03": (Decimal(n), "好" * 2000)} if filled else None
        kw = _form_kw(name, f"U{n:03d}", scores)
        old = old_write_form(tmp_path / f"old{n}.xlsx", **kw)
        new = write_form(tmp_path / f"new{n}.xlsx", **kw)
        _same(old, new)
        wb = openpyxl.load_workbook(new)
        assert wb["_djctl"].sheet_state == "veryHidden"
        assert wb["自评表"]["E2"].value == name and wb["自评表"]["E2"].data_type == "s"
        assert {r[0].value: r[1].value for r in wb["_djctl"].iter_rows()}["unit"] == f"U{n:03d}"


def test_check_worksheets_match_the_old_writer(tmp_path):
    for n, name in enumerate(NAMES):
        for day, checkers, cats in ((date(2024, 3, 31), "张三、李四", ("组织建设", "作风建设")), (None, "", ()),
                                    (None, HOSTILE, ("长" * 300,))):
            kw = dict(unit_code=f"U{n:03d}", unit_name=name, month="2024-03", month_label="2024年3月", draw_id=7,
                      draw_label="2024年3月抽查 <1>", self_report_id=40 + n, self_hash="cd" * 32,
                      task_hash="ab" * 32, tasks=CHECK_TASKS, check_day=day, checkers=checkers, categories=cats)
            old = old_write_check_form(tmp_path / f"old{n}.xlsx", **kw)
            new = write_check_form(tmp_path / f"new{n}.xlsx", **kw)
            _same(old, new)
            form = read_check_form(new)
            assert form.meta["unit"] == f"U{n:03d}" and form.meta["self_report_id"] == str(40 + n)
            assert [r.self_score for r in form.rows] == [t.self_score for t in CHECK_TASKS]
            assert form.check_day == day


def test_one_template_serves_every_unit_and_the_bytes_are_reproducible(tmp_path, monkeypatch):
    built = []
    real = FormTemplate.__init__

    def counting(self, spec):
        built.append(spec.kind)
        real(self, spec)

    monkeypatch.setattr(form_template, "_TEMPLATES", form_template.OrderedDict())
    monkeypatch.setattr(FormTemplate, "__init__", counting)
    paths = [write_form(tmp_path / f"{i}.xlsx", **_form_kw(f"单位{i}", f"U{i}")) for i in range(20)]
    assert built == ["selfeval"]
    again = write_form(tmp_path / "again.xlsx", **_form_kw("单位3", "U3"))
    assert again.read_bytes() == paths[3].read_bytes()
    with zipfile.ZipFile(again) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2024, 3, 1, 0, 0, 0)}
        assert b"2024-03-01T00:00:00Z" in zf.read("docProps/core.xml")
    assert read_form(paths[5]).meta.unit == "U5"


def test_the_zip_is_what_zipfile_writes():
    parts = [("a.xml", b"<a/>" * 50), ("b/c.xml", "<b>中文</b>".encode()), ("[Content_Types].xml", b"")]
    ours = zip_members([form_template._member(n, d) for n, d in parts], date(2024, 3, 1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in parts:
            zi = zipfile.ZipInfo(n, date_time=(2024, 3, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, d)
    assert ours == buf.getvalue()


@pytest.mark.parametrize("bad", ["a\x01b", "x" * 32_768, "a\uffffb", "a\ud800b"])
def test_text_no_workbook_can_hold_is_refused_and_nothing_written(tmp_path, monkeypatch, bad):
    monkeypatch.setattr(form_template, "_TEMPLATES", form_template.OrderedDict())
    with pytest.raises(InputError):  # the first form of its shape: refused before the template is rendered
        write_form(tmp_path / "f.xlsx", **_form_kw(bad))
    assert not form_template._TEMPLATES
    write_form(tmp_path / "ok.xlsx", **_form_kw("单位"))
    with pytest.raises(InputError):  # a later one: refused by the fill
        write_form(tmp_path / "f.xlsx", **_form_kw(bad))
    with pytest.raises(InputError):
        write_form(tmp_path / "f.xlsx", **_form_kw("单位", scores={"T01": (Decimal(1), bad)}))
    assert [p.name for p in tmp_path.iterdir()] == ["ok.xlsx"]


def test_a_link_is_never_written_through(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    (tmp_path / "f.xlsx").symlink_to(target)
    with pytest.raises(OutputError):
        write_form(tmp_path / "f.xlsx", **_form_kw("单位"))
    assert target.read_text() == "keep"


def test_a_row_of_another_shape_is_refused():
    spec = form_spec(**_form_kw("单位"))
    tpl = FormTemplate(spec)
    spec.rows[1].append(("多出的单元格", None))
    with pytest.raises(ValueError):
        tpl.fill(spec, date(2024, 3, 1))
    # a different shape is a different template, written correctly
    assert openpyxl.load_workbook(io.BytesIO(form_bytes(spec, date(2024, 3, 1))))["自评表"]["F2"].value == "多出的单元格"


def test_filled_forms_import_unchanged(tmp_path, monkeypatch):
    """The CLI's forms, filled as a unit would (openpyxl) and as the benchmark does (write_form with scores),
    import; re-importing changes nothing."""
    from tests.monthly_helpers import fast_cli, fill_all, import_json, setup_month

    cli = fast_cli(monkeypatch)
    setup = setup_month(cli, tmp_path, units=3)
    filled = fill_all(setup, tmp_path / "填好")
    code, doc = import_json(cli, *filled.values())
    assert code == 0, doc
    assert all(f["status"] == "imported" for f in doc["files"])
    code, doc = import_json(cli, *filled.values())
    assert code == 0 and all(f["status"] == "unchanged" for f in doc["files"]), doc
    # the blank form as issued, and the same form written with scores, read back to the same tasks
    issued = read_form(setup.forms[setup.units[0]])
    assert [r.code for r in issued.rows] == [c for c, _ in setup.tasks]
    assert all(r.score is None for r in issued.rows)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
def test_libreoffice_converts_the_forms(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_form(src / "自评表.xlsx", **_form_kw(HOSTILE, scores={"T01": (Decimal("4.5"), "好")}))
    write_check_form(src / "核查表.xlsx", unit_code="U1", unit_name=HOSTILE, month="2024-03", month_label="2024年3月",
                     draw_id=1, draw_label="抽签", self_report_id=1, self_hash="x", task_hash="y", tasks=CHECK_TASKS,
                     check_day=date(2024, 3, 31), categories=("组织建设",))
    out = tmp_path / "out"
    env = dict(os.environ, HOME=str(tmp_path))  # a profile of its own
    r = subprocess.run(["soffice", "--headless", "--calc", "--convert-to", "xlsx", "--outdir", str(out),
                        *[str(p) for p in sorted(src.iterdir())]], capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr
    for name in ("自评表.xlsx", "核查表.xlsx"):
        wb = openpyxl.load_workbook(out / name)
        ws = wb.worksheets[0]
        assert ws["E2" if name == "自评表.xlsx" else "F2"].value == HOSTILE
        assert wb["_djctl"]["B2"].value == "U001" if name == "自评表.xlsx" else True
        assert ws.protection.sheet


def test_without_a_reproducible_template_forms_are_rendered_one_by_one(tmp_path, monkeypatch):
    """If this openpyxl writes cells differently (the template's self-check fails), each form is rendered by
    openpyxl: the same workbook, the same file dates."""
    monkeypatch.setattr(form_template, "_TEMPLATES", form_template.OrderedDict())
    monkeypatch.setattr(form_template, "row_xml", lambda *a: "<row/>")
    kw = _form_kw(HOSTILE, scores={"T01": (Decimal("4.5"), "好")})
    new = write_form(tmp_path / "new.xlsx", **kw)
    assert list(form_template._TEMPLATES.values()) == [None]
    _same(old_write_form(tmp_path / "old.xlsx", **kw), new)
    with zipfile.ZipFile(new) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2024, 3, 1, 0, 0, 0)}


def test_rows_of_wrapped_text_get_the_height_of_their_lines(tmp_path):
    """A row without a height stays one line in LibreOffice and in print: a long task name ran into the next
    row. Rows whose wrapped cells take more lines get 15 points a line (at most Excel's 409)."""
    from djctl.io.form_template import text_lines, wrapped_heights

    assert text_lines("严格落实“三会一课”制度", 48) == 1
    assert text_lines("学" * 30, 48) == 2             # 60 half-widths in 47 a line
    assert text_lines("a" * 47, 48) == 1 and text_lines("a" * 48, 48) == 2
    assert text_lines("第一行\n第二行", 48) == 2
    rows = [[("短", "wrap")], [("长" * 30, "wrap"), ("x", None)], [("长" * 30, None)], [("好" * 5000, "unlocked_wrap")]]
    assert wrapped_heights(rows, (48,), 7) == ((8, 30.0), (10, 409.0))
    long_task = FormTask("T09", "学习贯彻党的创新理论（理论学习中心组、支部集中学习）并结合本单位实际开展专题研讨", "政治统领",
                         Decimal(10))
    path = write_form(tmp_path / "f.xlsx", unit_code="U1", unit_name="单位", month="2024-03", month_label="2024年3月",
                      task_hash="ab" * 32, tasks=[*TASKS, long_task])
    ws = openpyxl.load_workbook(path)["自评表"]
    last = 6 + len(TASKS) + 1
    assert ws.row_dimensions[last].height == 30
    assert ws.row_dimensions[last - 1].height is None  # a short name keeps the default height
