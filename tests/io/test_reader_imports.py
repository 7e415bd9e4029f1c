"""A process that only reads forms with calamine never imports openpyxl (a tenth of a second in every read
worker), and the defusedxml wall stands all the same: the guard checks the conditions openpyxl decides by
at import, the reference reader checks openpyxl's parsers themselves before it opens a workbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from djctl.errors import SecurityError
from tests import hostile as H

ROOT = Path(__file__).resolve().parents[2]


def _form(tmp_path: Path) -> Path:
    from djctl.io.selfeval_form import FormTask, write_form

    tasks = [FormTask("T01", "任务一", "政治统领", Decimal("10")), FormTask("T02", "任务二", "班子履职", Decimal("5.5"))]
    return write_form(tmp_path / "a.xlsx", unit_code="U1", unit_name="单位", month="2024-03", month_label="2024年3月",
                      task_hash="h", tasks=tasks, scores={"T01": (Decimal("9.5"), "完成"), "T02": (Decimal("0"), "未做")})


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_the_builtin_date_formats_are_openpyxls():
    from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format

    from djctl.io.xlsx_scan import DATE_BUILTINS

    theirs = {f for f in range(0, 1000)
              if (code := builtin_format_code(f)) and (is_date_format(code) or is_timedelta_format(code))}
    assert DATE_BUILTINS == theirs


def test_reading_a_form_does_not_import_openpyxl(tmp_path):
    form = _form(tmp_path)
    out = _run("import json, sys\n"
               "from djctl.io.selfeval_form import read_form\n"
               f"f = read_form({str(form)!r})\n"
               "print(json.dumps([[r.code, str(r.score), r.note] for r in f.rows] + [sorted(m for m in sys.modules"
               " if m.startswith('openpyxl'))]))")
    assert out.returncode == 0, out.stderr
    *rows, openpyxl_modules = json.loads(out.stdout)
    assert rows == [["T01", "9.5", "完成"], ["T02", "0", "未做"]]
    assert openpyxl_modules == []


def test_the_guard_refuses_when_openpyxl_would_not_use_defusedxml(tmp_path):
    form = _form(tmp_path)
    out = _run("import sys\n"
               "from djctl.errors import SecurityError\n"
               "from djctl.io.xlsx_guard import check_workbook_file\n"
               "assert 'openpyxl' not in sys.modules\n"
               f"try:\n    check_workbook_file({str(form)!r})\n"
               "except SecurityError as e:\n    print('refused', e)\n", env={"OPENPYXL_DEFUSEDXML": "False"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused") and "defusedxml" in out.stdout


def test_the_reference_reader_checks_the_parsers_before_it_opens(tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    from openpyxl.worksheet import _reader

    from djctl.io.xlsx_openpyxl import OpenpyxlBook

    monkeypatch.setattr(_reader, "iterparse", ET.iterparse)
    with pytest.raises(SecurityError, match="defusedxml"):
        OpenpyxlBook(str(H.base_roster(tmp_path / "ok.xlsx")))
