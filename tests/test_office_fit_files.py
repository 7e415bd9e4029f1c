"""Forms from every office program (issue 16, item 5): the committed files in tests/office_files were made by
djctl and saved by LibreOffice as .xlsx, .xls and .ods (tests/office_files/make.py regenerates them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.monthly_helpers import MONTH, fill_form, setup_month

FILES = Path(__file__).parent / "office_files"


def _copy(tmp_path: Path, *names: str) -> list[Path]:
    out = tmp_path / "收回"
    out.mkdir(exist_ok=True)
    return [Path(shutil.copy(FILES / n, out / n)) for n in names]


def _import(cli, *paths: Path):
    r = cli("selfeval", "import", *map(str, paths), "--json")
    return r.exit_code, json.loads(r.stdout)


def test_xlsx_xls_and_ods_saved_by_libreoffice_import_alike(cli, tmp_path):
    setup_month(cli, tmp_path)
    files = _copy(tmp_path, f"{MONTH}_U001_libreoffice.xlsx", f"{MONTH}_U002_libreoffice.xls",
                  f"{MONTH}_U003_libreoffice.ods")
    r = cli("selfeval", "import", str(files[0]))  # as people read it: the formula is named in the report
    assert r.exit_code == 0, r.output
    assert "注：工作表「自评表」第 7 行「自评得分」列是公式（=8+1），按其计算结果 9 读取" in r.stdout
    code, doc = _import(cli, *files[1:])
    assert code == 0, doc
    assert [f["status"] for f in doc["files"]] == ["imported"] * 2
    score = json.loads(cli("score", "--month", MONTH, "--json").stdout)
    selfs = {r["unit"]: r["self"] for r in score["rows"]}
    # T01 holds =8+1 (cached 9); the other 8 tasks carry the unit's score
    assert selfs == {"U001": 9 + 8 * 8, "U002": 9 + 8 * 7.5, "U003": 9 + 8 * 6}
    notes = {Path(f["path"]).suffix: f.get("notes", []) for f in doc["files"]}
    assert any("=8+1" in n and "按其计算结果 9 读取" in n for n in notes[".ods"]), notes
    # .xls is binary: calamine gives the cached 9 but cannot tell that it was a formula (README says so)
    assert notes[".xls"] == []


def test_the_same_content_saved_by_another_program_is_unchanged(cli, tmp_path):
    setup_month(cli, tmp_path)
    xlsx, ods = _copy(tmp_path, f"{MONTH}_U001_libreoffice.xlsx", f"{MONTH}_U001_libreoffice.ods")
    assert _import(cli, xlsx)[0] == 0
    code, doc = _import(cli, ods)
    assert code == 0 and doc["files"][0]["status"] == "unchanged", doc
    assert "内容与已导入的自评表相同" in doc["files"][0]["message"]
    # a different content in another file still needs --replace
    other = fill_form(xlsx.parent.parent / "下发" / MONTH / next(p.name for p in (tmp_path / "下发" / MONTH).glob("*U001*")),
                      tmp_path / "另一份.xlsx", [5] * 9)
    code, doc = _import(cli, other)
    assert code == 2 and "已经报送过另一份自评表" in doc["files"][0]["message"]


def test_a_formula_without_a_cached_value_is_still_refused(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    path = fill_form(s.forms["U001"], tmp_path / "公式.xlsx", {"T01": "=8+1"})  # openpyxl caches no value
    code, doc = _import(cli, path)
    assert code == 2
    assert any("是公式" in e["message"] and "没有计算结果" in e["message"] for e in doc["files"][0]["errors"])


def test_merged_cells_in_the_score_column_are_still_refused(cli, tmp_path):
    s = setup_month(cli, tmp_path)
    path = fill_form(s.forms["U001"], tmp_path / "合并.xlsx", edit=lambda wb: wb["自评表"].merge_cells("F8:F9"))
    code, doc = _import(cli, path)
    assert code == 2 and any("合并单元格" in e["message"] for e in doc["files"][0]["errors"]), doc


def test_an_ods_that_is_no_spreadsheet_and_an_xls_that_is_no_workbook_are_refused(cli, tmp_path):
    setup_month(cli, tmp_path)
    fake = tmp_path / "假.xls"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    code, doc = _import(cli, fake)
    assert code == 2 and "无法读取" in doc["files"][0]["message"]
    import zipfile

    odt = tmp_path / "文本.ods"
    with zipfile.ZipFile(odt, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", "<manifest/>")
    code, doc = _import(cli, odt)
    assert code == 2 and "content.xml" in doc["files"][0]["message"], doc


def _far_ods(path: Path, rows: int, cols: int, sign: str = "") -> Path:
    """The committed LibreOffice .ods with, below its form, `rows` empty rows and then one number `cols` columns
    to the right: a few hundred bytes more that calamine expands into rows × cols cells when it opens the file."""
    import re
    import zipfile

    src = FILES / f"{MONTH}_U003_libreoffice.ods"
    far = (f'<table:table-row table:number-rows-repeated="{sign}{rows}"><table:table-cell/></table:table-row>'
           f'<table:table-row><table:table-cell table:number-columns-repeated="{sign}{cols}"/>'
           '<table:table-cell office:value-type="float" office:value="2"><text:p>2</text:p></table:table-cell>'
           '</table:table-row>').encode()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "content.xml":  # LibreOffice's empty rows to the sheet's end go (else they count too)
                end = data.index(b"</table:table>")
                first = re.sub(rb'table:number-rows-repeated="[0-9]+"', b"", data[:end])
                data = first + far + data[end:]
            zout.writestr(info, data, zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("sign", ["", "+"])  # calamine reads counts as Rust does: "+9000" is 9000
def test_an_ods_asking_calamine_for_millions_of_cells_is_refused_before_calamine_opens_it(tmp_path, monkeypatch, sign):
    """9,000 × 10,000 cells from a few hundred bytes more: calamine took 2.8 GB and 3 s to open it (5.6 GB to read
    it). The extents in content.xml are counted first, repeats not expanded, and calamine never sees it."""
    import djctl.io.calamine_read as cr
    from djctl.errors import InputError
    from djctl.io.xlsx import Workbook

    path = _far_ods(tmp_path / "远.ods", 9000, 10000, sign)
    assert path.stat().st_size < (FILES / f"{MONTH}_U003_libreoffice.ods").stat().st_size + 1000

    def never(*a, **k):
        raise AssertionError("calamine opened the file")

    monkeypatch.setattr(cr, "open_calamine", never)
    with pytest.raises(InputError, match="范围过大") as err:
        Workbook(path)
    assert "自评表" in err.value.message and "9018 行 × 10001 列" in err.value.message


def test_an_ods_too_large_to_import_is_refused_with_a_chinese_message(cli, tmp_path):
    setup_month(cli, tmp_path)
    code, doc = _import(cli, _far_ods(tmp_path / "远.ods", 2000, 3000))
    assert code == 2 and "范围过大" in doc["files"][0]["message"], doc


def _lying_xls(path: Path, rows: int = 1_000_000_000) -> Path:
    """The committed LibreOffice .xls (U002's form) whose first DIMENSIONS record (BIFF8: first row, last row,
    first column, last column) claims `rows` rows."""
    import struct

    data = bytearray((FILES / f"{MONTH}_U002_libreoffice.xls").read_bytes())
    at = data.find(b"\x00\x02\x0e\x00")  # record type 0x0200, 14 bytes
    assert at > 0
    struct.pack_into("<I", data, at + 8, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def test_an_xls_whose_dimensions_lie_is_refused_not_a_crash(cli, tmp_path):
    """calamine reserves room for what DIMENSIONS claims: a billion rows asked for 80 GB and aborted the process
    (no message, the import lost). An .xls is read in a child process: its death is a refusal."""
    setup_month(cli, tmp_path)
    code, doc = _import(cli, _lying_xls(tmp_path / "收回" / "谎报.xls"))
    assert code == 2 and "进程异常结束" in doc["files"][0]["message"], doc


def test_a_read_worker_killed_by_an_xls_hands_the_rest_back(cli, tmp_path, monkeypatch):
    """In a read worker the .xls is read in place (the worker is a child already); when it kills the worker the
    caller reads the remaining files itself, the .xls in a child: it is refused and the others are imported."""
    s = setup_month(cli, tmp_path)
    folder = tmp_path / "收回"
    for unit in s.units[:3]:
        fill_form(s.forms[unit], folder / f"{unit}.xlsx")
    _lying_xls(folder / "谎报.xls")
    monkeypatch.setenv("DJCTL_IMPORT_WORKERS", "2")
    code, doc = _import(cli, folder)
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    assert code == 2 and "异常结束" in by_name["谎报.xls"]["message"], doc
    assert [by_name[f"{u}.xlsx"]["status"] for u in s.units[:3]] == ["imported"] * 3
