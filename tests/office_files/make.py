"""Regenerate the forms in this folder: djctl's 2024-03 self-assessment forms of the test store (default
scheme, units U001–U003), filled as units fill them, then saved by LibreOffice as .xlsx, .xls and .ods.

    python tests/office_files/make.py          (needs soffice on PATH; takes about a minute)

What each file holds (tests/test_office_fit_files.py relies on it):
- every unit: 自评得分 8 (U001), 7.5 (U002) or 6 (U003) on every task, 完成情况说明 "已完成";
- F7 (task T01) typed as the formula =8+1, so the saving program caches 9;
- G8:G9 (the notes of T02 and T03) merged, holding one note.
U001 is saved as .xlsx and .ods, U002 as .xls, U003 as .ods.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCORES = {"U001": 8, "U002": 7.5, "U003": 6}
SAVE_AS = {"U001": ("xlsx", "ods"), "U002": ("xls",), "U003": ("ods",)}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import openpyxl
    from typer.testing import CliRunner

    from djctl.cli import app
    from tests.monthly_helpers import MONTH, roster

    work = Path(tempfile.mkdtemp(prefix="djctl-office-files-"))
    os.environ["DJCTL_DB"] = str(work / "djctl.db")
    os.environ["DJCTL_USER"] = "tester"
    runner = CliRunner()

    def cli(*args: str) -> None:
        r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == 0, r.output

    cli("init")
    cli("org", "import", roster(work / "名册.xlsx", 3))
    cli("tasks", "set", "--month", MONTH)
    cli("selfeval", "forms", "--month", MONTH, "--out", work / "下发")
    filled = work / "填好"
    filled.mkdir()
    for form in sorted((work / "下发").glob("*.xlsx")):
        unit = form.name.split("_")[1]
        wb = openpyxl.load_workbook(form)
        ws = wb["自评表"]
        for r in range(7, ws.max_row + 1):
            if ws.cell(r, 2).value:
                ws.cell(r, 6).value = SCORES[unit]
                ws.cell(r, 7).value = "已完成"
        ws["F7"] = "=8+1"
        ws.merge_cells("G8:G9")
        ws["G8"] = "已完成（两项合并说明）"
        wb.save(filled / f"{unit}.xlsx")
    for old in HERE.glob("*.x*"):
        old.unlink()
    for old in HERE.glob("*.ods"):
        old.unlink()
    for unit, formats in SAVE_AS.items():
        for fmt in formats:
            out = work / fmt
            out.mkdir(exist_ok=True)
            subprocess.run(["soffice", "--headless", "--calc", "--convert-to", fmt, "--outdir", str(out),
                            str(filled / f"{unit}.xlsx")], check=True, capture_output=True, timeout=300)
            shutil.copy(out / f"{unit}.{fmt}", HERE / f"{MONTH}_{unit}_libreoffice.{fmt}")
    shutil.rmtree(work, ignore_errors=True)
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix in (".xlsx", ".xls", ".ods"))))


if __name__ == "__main__":
    main()
