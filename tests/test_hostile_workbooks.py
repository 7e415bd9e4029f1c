"""Hostile workbooks against the reader every importer uses, and formula-proof writing.

Each hostile file is built at test time (tests/hostile.py). The reader must refuse it with a clear
Chinese message, quickly and without expanding it in memory; the bounds asserted are deliberately
generous (a bomb that gets through costs minutes and gigabytes, not a few hundred milliseconds).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from djctl.errors import InputError, SecurityError
from tests import hostile as H
from tests.helpers import UNIT_HEADER, json_out

MAX_SECONDS = 30.0               # very generous (loaded CI machines): a refusal takes milliseconds, a bomb minutes
MAX_TRACED = 128 * 1024 * 1024   # Python-level peak while reading
MAX_RSS_GROWTH = 256 * 1024 * 1024
SECRET = "DJCTL-XXE-SECRET-7f3a"


def measure(fn: Callable[[], Any]) -> tuple[Any, BaseException | None, float, int, int]:
    """Run fn; return (result, exception, seconds, traced peak bytes, growth of max RSS in bytes)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    result, error = None, None
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - the caller inspects it
        error = exc
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * (1 if sys.platform == "darwin" else 1024)
    return result, error, seconds, peak, rss


def read_all(path: Path) -> dict[str, list[list[Any]]]:
    """Open with the guarded reader and read every sheet, as every importer would."""
    from djctl.io.xlsx import Workbook

    with Workbook(path) as wb:
        return {name: [[c.value for c in cells] for _, cells in wb.sheet(name).rows] for name in wb.sheetnames}


def refused_quickly(path: Path, kind: type[Exception], *fragments: str) -> InputError:
    _, error, seconds, peak, rss = measure(lambda: read_all(path))
    assert isinstance(error, kind), f"expected {kind.__name__}, got {error!r}"
    text = str(error) + (error.hint or "")
    for frag in fragments:
        assert frag in text, f"{frag!r} not in {text!r}"
    assert str(path) in str(error)  # the file is named
    assert seconds < MAX_SECONDS, seconds
    assert peak < MAX_TRACED, peak
    assert rss < MAX_RSS_GROWTH, rss
    return error


@pytest.fixture(autouse=True)
def _store_exists():
    """Only `djctl init` (or an opened store) creates a store: the imports below run against an existing one."""
    from djctl.store.engine import open_store

    open_store().dispose()


@pytest.fixture(scope="session")
def zip_bomb_file(tmp_path_factory) -> Path:
    return H.cached_zip_bomb(tmp_path_factory.mktemp("bomb"), H.over_member_cap())


# ------------------------------------------------------------------ defusedxml


def test_defusedxml_is_active():
    import openpyxl.xml
    from openpyxl.reader import strings
    from openpyxl.worksheet import _reader

    assert openpyxl.xml.DEFUSEDXML is True
    assert _reader.iterparse.__module__.startswith("defusedxml")
    assert strings.iterparse.__module__.startswith("defusedxml")


def test_check_refuses_without_defusedxml(tmp_path, monkeypatch):
    import openpyxl.xml

    from djctl.io.xlsx_guard import check_workbook_file

    path = H.base_roster(tmp_path / "ok.xlsx")
    check_workbook_file(path)  # fine while defusedxml is on
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(SecurityError, match="defusedxml"):
        check_workbook_file(path)


def test_check_refuses_when_the_sheet_parser_is_not_defused(tmp_path, monkeypatch):
    """OPENPYXL_DEFUSEDXML read at import time could leave the flag and the parsers out of step."""
    import xml.etree.ElementTree as ET

    from openpyxl.worksheet import _reader

    from djctl.io.xlsx_guard import check_workbook_file

    monkeypatch.setattr(_reader, "iterparse", ET.iterparse)
    with pytest.raises(SecurityError, match="defusedxml"):
        check_workbook_file(H.base_roster(tmp_path / "ok.xlsx"))


# ------------------------------------------------------------------ XML bombs and external entities


BOMBS = [("sheet", False, "utf-8"), ("sharedStrings", False, "utf-8"),
         ("sheet", True, "utf-8"), ("sharedStrings", True, "utf-8"),     # DOCTYPE behind a comment with "<a"
         ("sheet", False, "utf-16"), ("sharedStrings", False, "utf-16")]  # DOCTYPE in UTF-16


@pytest.mark.parametrize("part, hide, encoding", BOMBS)
def test_xml_bomb_is_refused(tmp_path, part, hide, encoding):
    path = H.xml_bomb(tmp_path / "bomb.xlsx", part, hide=hide, encoding=encoding)
    refused_quickly(path, SecurityError, "DTD/实体声明", "拒绝读取")


def test_xml_bomb_in_a_part_not_named_xml(tmp_path):
    refused_quickly(H.sst_outside_xml_name(tmp_path / "bomb.xlsx"), SecurityError, "strings.bin", "实体")


@pytest.mark.parametrize("part", ["sheet", "sharedStrings"])
def test_xml_bomb_is_refused_by_defusedxml_even_without_the_prolog_scan(tmp_path, monkeypatch, part):
    """The second wall: with the guard's scan switched off, the parser itself refuses the entities."""
    from djctl.io import xlsx_guard

    monkeypatch.setattr(xlsx_guard, "_check_prolog", lambda *a: None)
    refused_quickly(H.xml_bomb(tmp_path / "bomb.xlsx", part), SecurityError, "不安全的 XML")


class _FileOpens:
    """Records every audited open()/urlopen of the secret file (an audit hook cannot be removed, so
    one hook serves the session and only looks at paths holding the secret's name)."""

    seen: list[str] = []
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return

        def hook(event: str, args: tuple) -> None:
            if event in ("open", "urllib.Request", "os.open") and args and "xxe-secret" in str(args[0]):
                cls.seen.append(f"{event}:{args[0]}")

        sys.addaudithook(hook)
        cls.installed = True


@pytest.fixture
def secret_file(tmp_path) -> Path:
    _FileOpens.install()
    path = tmp_path / "xxe-secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    _FileOpens.seen.clear()  # after our own write
    yield path
    assert _FileOpens.seen == []  # nobody opened it


@pytest.mark.parametrize("part, hide", [("sheet", False), ("sharedStrings", False), ("sharedStrings", True)])
def test_external_entity_is_refused_and_never_read(tmp_path, secret_file, part, hide):
    err = refused_quickly(H.xxe(tmp_path / "xxe.xlsx", str(secret_file), part, hide), SecurityError, "实体")
    assert SECRET not in str(err)


def test_external_entity_etc_passwd(tmp_path):
    err = refused_quickly(H.xxe(tmp_path / "xxe.xlsx", "/etc/passwd"), SecurityError, "外部实体")
    assert "root:" not in str(err)


@pytest.mark.parametrize("part", ["sheet", "sharedStrings"])
def test_external_entity_is_not_resolved_even_without_the_prolog_scan(tmp_path, monkeypatch, secret_file, part):
    from djctl.io import xlsx_guard

    monkeypatch.setattr(xlsx_guard, "_check_prolog", lambda *a: None)
    result, error, *_ = measure(lambda: read_all(H.xxe(tmp_path / "xxe.xlsx", str(secret_file), part)))
    assert isinstance(error, SecurityError), error
    assert SECRET not in json.dumps(result, ensure_ascii=False, default=str) + str(error)


# ------------------------------------------------------------------ zip attacks


def test_zip_bomb_over_the_member_cap(zip_bomb_file):
    from djctl.io.xlsx_guard import MAX_MEMBER_UNCOMPRESSED

    with zipfile.ZipFile(zip_bomb_file) as zf:
        biggest = max(i.file_size for i in zf.infolist())
    assert biggest > MAX_MEMBER_UNCOMPRESSED and zip_bomb_file.stat().st_size < 5 * H.MB  # a real bomb, small file
    refused_quickly(zip_bomb_file, SecurityError, "解压后体积过大", "压缩炸弹")


def test_zip_bomb_by_compression_ratio(tmp_path):
    refused_quickly(H.zip_bomb(tmp_path / "ratio.xlsx", 20 * H.MB), SecurityError, "压缩比异常", "压缩炸弹")


def test_zip_bomb_by_total_size(tmp_path, monkeypatch):
    """Many members each under the per-member cap whose sum is over the total cap."""
    import random

    from djctl.io import xlsx_guard

    monkeypatch.setattr(xlsx_guard, "MAX_TOTAL_UNCOMPRESSED", 3 * H.MB)
    path = H.base_roster(tmp_path / "total.xlsx")
    rnd = random.Random(3)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        for i in range(4):
            zf.writestr(f"xl/extra/{i}.bin", rnd.randbytes(H.MB))  # incompressible: ratio 1
    refused_quickly(path, SecurityError, "解压后体积过大")


def test_member_whose_header_lies_about_its_size(tmp_path):
    """Headers claim 1,000 bytes, the stream holds 20 MB: never inflated past the claim, then refused."""
    refused_quickly(H.lying_size(tmp_path / "lie.xlsx"), InputError, "损坏")


def test_too_many_zip_members(tmp_path):
    from djctl.io.xlsx_guard import MAX_MEMBERS

    refused_quickly(H.many_members(tmp_path / "many.xlsx", MAX_MEMBERS), SecurityError, "内部文件过多",
                    str(MAX_MEMBERS))


def test_many_members_under_the_cap_are_fine(tmp_path):
    data = read_all(H.many_members(tmp_path / "many.xlsx", 100))
    assert len(data["单位"]) == 4


def test_truncated_zip(tmp_path):
    refused_quickly(H.truncated(tmp_path / "half.xlsx"), InputError, "截断", "重新发送")


def test_corrupt_member_data(tmp_path):
    refused_quickly(H.corrupt_member(tmp_path / "corrupt.xlsx"), InputError, "损坏")


# ------------------------------------------------------------------ not a workbook at all


def test_encrypted_or_ole_file(tmp_path):
    refused_quickly(H.ole_file(tmp_path / "secret.xlsx"), InputError, "加密", "另存为")


def test_docx_given_as_xlsx(tmp_path):
    refused_quickly(H.docx_as_xlsx(tmp_path / "report.xlsx"), InputError, "不是 Excel 工作簿", ".docx")


def test_plain_zip_given_as_xlsx(tmp_path):
    refused_quickly(H.plain_zip(tmp_path / "files.xlsx"), InputError, "不是 Excel 工作簿")


def test_random_bytes(tmp_path):
    refused_quickly(H.random_bytes(tmp_path / "noise.xlsx"), InputError, "不是有效的 .xlsx")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    refused_quickly(path, InputError, "0 字节")


@pytest.mark.parametrize("declared", ['uniqueCount="1000000000000"', "uniqueCount = '100000000000000000'",
                                      'uniqueCount="+000999999999999"'])
def test_a_shared_string_table_claiming_a_trillion_strings_is_refused(tmp_path, declared):
    """calamine reserved room for the claimed count first: 24 TB asked for, the process aborted (no message,
    the whole import lost). Read in a child process, so that a regression fails this test only."""
    import subprocess

    path = H.string_count(tmp_path / "sst.xlsx", declared)
    code = ("import sys; from djctl.errors import DjctlError; from tests.test_hostile_workbooks import read_all\n"
            "try:\n    read_all(__import__('pathlib').Path(sys.argv[1]))\n"
            "except DjctlError as exc:\n    print(type(exc).__name__, exc.message)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[1]))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("SecurityError") and "共享字符串" in done.stdout, done.stdout


@pytest.mark.parametrize("declared", ['uniqueCount="1"', 'uniqueCount="40"', ""])
def test_a_shared_string_table_with_a_plausible_count_reads(tmp_path, declared):
    """Writers that miscount a little, or leave the count out, are read as before."""
    data = read_all(H.string_count(tmp_path / "sst.xlsx", declared))
    assert data["单位"][1][1] == "一单位"


def test_rows_padded_to_a_far_column_are_refused_within_bounds(tmp_path):
    """400 rows, each with a cell in A and one in XFD: 6.5 million places once each row is padded to its last
    cell. Too large for calamine's grid, the sheet went to the reference reader, which built every place
    (about 800 MB and ten seconds for 6 KB; 5,000 such rows: 10 GB). It now stops at MAX_CELLS."""
    refused_quickly(H.far_column_rows(tmp_path / "wide.xlsx", 400), InputError, "范围过大", "单位")


def test_a_sheet_just_under_the_cell_limit_reads_with_one_empty_cell_object(tmp_path):
    """Below the limit a padded sheet is read (by calamine), its empty places all one shared cell."""
    from djctl.io.xlsx import EMPTY_CELL, Workbook

    with Workbook(H.far_column_rows(tmp_path / "wide.xlsx", 200)) as wb:
        rows = wb.sheet("单位").rows
    assert len(rows[-1][1]) == 16384 and rows[-1][1][1] is EMPTY_CELL and rows[-1][1][-1].value == 1


# ------------------------------------------------------------------ the dimension trap: read correctly


def test_lying_dimension_tag_reads_every_row(tmp_path):
    path = H.lying_dimension(tmp_path / "dim.xlsx", units=5000)
    with zipfile.ZipFile(path) as zf:
        assert b'<dimension ref="A1:A1"/>' in zf.read(H.SHEET1)
    # the trap is real: openpyxl trusting the tag would see one row
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    assert wb["单位"].max_row == 1
    wb.close()
    data, error, seconds, peak, _ = measure(lambda: read_all(path))
    assert error is None, error
    units = data["单位"]
    assert len(units) == 5001
    assert units[0] == UNIT_HEADER and units[-1][0] == "U05000"
    assert peak < MAX_TRACED


def test_lying_dimension_through_org_import(cli, tmp_path):
    path = H.lying_dimension(tmp_path / "dim.xlsx", units=1500)
    doc = json_out(cli("org", "import", path, "--json"))
    assert doc["files"][0]["status"] == "imported" and doc["files"][0]["rows"] == 1500
    assert len(json_out(cli("org", "list", "--json"))["units"]) == 1500


# ------------------------------------------------------------------ every class through `djctl org import`


def _counts(store) -> tuple[int, ...]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("unit", "branch", "import_file", "audit_event"))


CLI_CASES = {
    "xml_bomb": (lambda p: H.xml_bomb(p, "sharedStrings", hide=True), "实体声明"),
    "xxe": (lambda p: H.xxe(p, "/etc/passwd"), "外部实体"),
    "truncated": (H.truncated, "截断"),
    "too_many_members": (lambda p: H.many_members(p, 2000), "内部文件过多"),
    "ole": (H.ole_file, "加密"),
    "docx": (H.docx_as_xlsx, "不是 Excel 工作簿"),
    "lying_size": (H.lying_size, "损坏"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_hostile_file_through_org_import(cli, store, tmp_path, case):
    build, fragment = CLI_CASES[case]
    path = build(tmp_path / f"{case}.xlsx")
    before = _counts(store)
    r = cli("org", "import", path, "--json")
    assert r.exit_code == 2, r.output
    doc = json.loads(r.stdout)
    assert doc["files"][0]["status"] == "refused"
    assert fragment in doc["files"][0]["message"] or fragment in json.dumps(doc, ensure_ascii=False)
    assert fragment in " ".join(r.output.split())
    assert _counts(store) == before


def test_zip_bomb_through_org_import(cli, store, zip_bomb_file):
    before = _counts(store)
    r = cli("org", "import", zip_bomb_file)
    assert r.exit_code == 2 and "压缩炸弹" in r.output
    assert _counts(store) == before


# ------------------------------------------------------------------ formula-proof writing

# OWASP CSV-injection payloads, and characters that must survive XML escaping
PAYLOADS = ["=1+1", '=HYPERLINK("http://x","y")', "=cmd|'/c calc'!A1", "+1+2", "-1+2", "@SUM(A1)",
            "\t=1+1", "\n=1+1", "\r=1+1", "&<>\"'", "=1+1\n=2+2", "<f>1+1</f>", "'=1+1"]


def _no_formula_anywhere(path: Path) -> list[list[Any]]:
    """Read back with openpyxl (full and read-only) and from the raw XML: no formula, ever."""
    from openpyxl import load_workbook

    values = []
    wb = load_workbook(path)
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
        values += [[c.value for c in row] for row in ws.iter_rows()]
    ro = load_workbook(path, read_only=True)
    for ws in ro:
        for row in ws.iter_rows():
            for c in row:
                assert getattr(c, "data_type", None) != "f"
    ro.close()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    return values


def test_payloads_round_trip_through_import_list_and_export(cli, tmp_path):
    """Text cells holding payloads import as data, list unchanged, and export as text again."""
    from djctl.io.xlsx import write_table_workbook

    path = H.text_roster(tmp_path / "payloads.xlsx", PAYLOADS)
    _no_formula_anywhere(path)  # written by `put`: text cells, not formulas
    r = cli("org", "import", path)
    assert r.exit_code == 0, r.output
    doc = json_out(cli("org", "list", "--json"))
    names = [u["name"] for u in doc["units"]]
    # names are kept as written, except that a name is one line: surrounding whitespace is trimmed and a line
    # break inside becomes a space (hidden characters are cleaned at the door, issue 14)
    from djctl.domain.textclean import clean_name

    assert names == [clean_name(p) for p in PAYLOADS]
    assert [b["name"] for b in doc["branches"]] == [clean_name(p) for p in PAYLOADS]
    assert [n for n, p in zip(names, PAYLOADS) if not p[0].isspace() and "\n" not in p and n != p] == []
    assert "=1+1 =2+2" in names

    out = tmp_path / "export.xlsx"
    write_table_workbook(out, [("单位", ["编码", "名称"], [(u["code"], u["name"]) for u in doc["units"]])])
    values = _no_formula_anywhere(out)
    assert [row[1] for row in values[1:]] == names


def test_put_wo_cell_and_table_export_never_write_formulas(tmp_path):
    from openpyxl import Workbook

    from djctl.io.xlsx import put, wo_cell, write_table_workbook

    a = tmp_path / "put.xlsx"
    wb = Workbook()
    for r, p in enumerate(PAYLOADS, 1):
        cell = put(wb.active, r, 1, p)
        assert cell.data_type == "s"
    wb.save(a)
    assert [row[0] for row in _no_formula_anywhere(a)] == PAYLOADS

    b = tmp_path / "wo.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    for p in PAYLOADS:
        cell = wo_cell(ws, p)
        assert cell.data_type == "s"
        ws.append([cell])
    wb.save(b)
    assert [row[0] for row in _no_formula_anywhere(b)] == PAYLOADS

    c = tmp_path / "table.xlsx"
    write_table_workbook(c, [("=表", ["=标题", "+列"], [[p, p] for p in PAYLOADS])])
    values = _no_formula_anywhere(c)
    assert values[0] == ["=标题", "+列"]
    assert [row[0] for row in values[1:]] == PAYLOADS and [row[1] for row in values[1:]] == PAYLOADS


def test_plain_openpyxl_would_write_a_formula(tmp_path):
    """Why the safe writers exist: the same string through a bare cell becomes a formula."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "=1+1"
    assert wb.active["A1"].data_type == "f"


def test_writers_refuse_text_longer_than_excel_allows(tmp_path):
    from openpyxl import Workbook

    from djctl.io.xlsx import MAX_CELL_CHARS, put, wo_cell, write_table_workbook

    assert MAX_CELL_CHARS == 32_767
    ok, long = "字" * 32_767, "字" * 32_768
    wb = Workbook()
    put(wb.active, 1, 1, ok)
    with pytest.raises(InputError, match="32767"):
        put(wb.active, 2, 1, long)
    assert wb.active.cell(2, 1).value is None  # nothing half-written
    wo = Workbook(write_only=True)
    ws = wo.create_sheet("x")
    wo_cell(ws, ok)
    with pytest.raises(InputError, match="文本过长"):
        wo_cell(ws, long)
    out = tmp_path / "t.xlsx"
    with pytest.raises(InputError, match="文本过长"):
        write_table_workbook(out, [("x", ["名称"], [[long]])])
    write_table_workbook(out, [("x", ["名称"], [[ok]])])
    assert _no_formula_anywhere(out)[1][0] == ok


def test_writers_refuse_control_characters_with_an_input_error(tmp_path):
    """openpyxl raises its own IllegalCharacterError (an internal error to the user); ours names the problem."""
    from openpyxl import Workbook

    from djctl.io.xlsx import put, wo_cell

    wb = Workbook()
    with pytest.raises(InputError, match="控制字符"):
        put(wb.active, 1, 1, "甲\x01乙")
    with pytest.raises(InputError, match="控制字符"):
        wo_cell(Workbook(write_only=True).create_sheet("x"), "甲\x1b乙")
    put(wb.active, 1, 1, "甲\t乙\n丙")  # tab and newline are fine
