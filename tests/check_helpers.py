"""Builders for the spot-check worksheets: a store with a month reported and drawn, forms out, forms filled.

The store is built once per test session through the real CLI (init, org import, tasks set, selfeval forms
filled with openpyxl and imported, sample) and copied per test. Five units: U001–U004 reported, U005 did
not; the draw (seed "x", three units) picks U005, U004 and U001.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.helpers import json_out, small_roster
from tests.monthly_helpers import fill_form, query

MONTH = "2024-03"
SEED = "x"
SHEET = "核查表"
META = "_djctl"
FIRST = 7                                    # header row 6, tasks from row 7
COL = {"序号": 1, "任务编码": 2, "任务名称": 3, "分值": 4, "自评得分": 5, "自评说明": 6, "核查得分": 7,
       "是否虚假": 8, "核查说明": 9, "核查人": 10}
TASKS = ["T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09"]
POINTS = [15, 10, 15, 10, 10, 10, 10, 10, 10]
ROW = {code: FIRST + i for i, code in enumerate(TASKS)}
# self-scores as the units reported them (U001: 10 on T02 for the worked example 10 self, 6 verified, false → 2)
SELF = {
    "U001": [15, 10, 14, 9.5, 10, 8, 10, 9, 10],     # 95.5
    "U002": [15, 10, 15, 10, 10, 10, 10, 10, 10],
    "U003": [12, 8, 12, 8, 8, 8, 8, 8, 8],
    "U004": [13.5, 9, 14, 10, 9, 9.5, 10, 8, 9],     # 92
}
DRAWN = ["U005", "U004", "U001"]
REPORTED_DRAWN = ["U001", "U004"]
COUNTED = ("check_report", "check_score", "import_file", "audit_event", "rectification", "self_report")

_TEMPLATE: Path | None = None


def _build(run: Callable[..., Any], root: Path) -> None:
    def ok(*args: Any) -> Any:
        r = run(*args)
        assert r.exit_code == 0, r.output
        return r

    ok("init")
    ok("org", "import", small_roster(root / "名册.xlsx", units=5))
    ok("tasks", "set", "--month", MONTH)
    doc = json.loads(ok("selfeval", "forms", "--month", MONTH, "--out", root / "自评表", "--json").stdout)
    forms = {Path(p).name.split("_")[1]: Path(p) for p in doc["files"]}
    for unit, scores in SELF.items():
        fill_form(forms[unit], root / "自评收回" / forms[unit].name, scores, notes=[f"{unit} 说明 {t}" for t in TASKS])
    ok("selfeval", "import", root / "自评收回")
    drawn = json.loads(ok("sample", "--month", MONTH, "--seed", SEED, "--count", "3", "--json").stdout)
    assert drawn["selected"] == DRAWN, drawn["selected"]


def template_store() -> Path:
    """The store built once per session (through the CLI, on a separate database file)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        from typer.testing import CliRunner

        from djctl.cli import app

        root = Path(tempfile.mkdtemp(prefix="djctl-check-"))
        db = root / "djctl.db"
        runner = CliRunner()
        _build(lambda *a: runner.invoke(app, ["--db", str(db), *[str(x) for x in a]], catch_exceptions=False), root)
        _TEMPLATE = db
    return _TEMPLATE


def setup_checks(cli, root: Path) -> None:
    """The test's store: a copy of the template (or built by the CLI on a shared test server)."""
    target = os.environ.get("DJCTL_DB", "")
    if os.environ.get("DJCTL_TEST_DB") or "://" in target:
        _build(cli, root / "build")
        return
    from djctl.store.engine import backup_sqlite

    backup_sqlite(template_store(), Path(target))


def check_forms(cli, out: Path, month: str = MONTH) -> dict[str, Path]:
    """`check forms --json`: unit code -> blank worksheet."""
    doc = json_out(cli("check", "forms", "--month", month, "--out", str(out), "--json"))
    return {Path(p).name.split("_")[1]: Path(p) for p in doc["files"]}


def self_of(unit: str) -> dict[str, Any]:
    return dict(zip(TASKS, SELF[unit]))


def fill_check(src: Path, dest: Path, verified: dict[str, Any] | None = None, false: dict[str, Any] | None = None,
               *, checker: Any = "王明", note: Any = "经查阅台账核实", edit: Callable[[Any], None] | None = None) -> Path:
    """Fill a worksheet as the committee would: 核查得分 = the prefilled self-score unless `verified` gives a
    raw value for a task (written as given: "=…" becomes a formula, None leaves it empty); 是否虚假 from
    `false` (raw), empty otherwise. `edit(wb)` may then change anything."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb[SHEET]
    row = FIRST
    while ws.cell(row, COL["任务编码"]).value:
        code = ws.cell(row, COL["任务编码"]).value
        value = (verified or {}).get(code, ws.cell(row, COL["自评得分"]).value)
        ws.cell(row, COL["核查得分"]).value = value
        ws.cell(row, COL["是否虚假"]).value = (false or {}).get(code)
        ws.cell(row, COL["核查说明"]).value = note
        ws.cell(row, COL["核查人"]).value = checker
        row += 1
    if edit is not None:
        edit(wb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def set_cells(*cells: tuple[int, int, Any]) -> Callable[[Any], None]:
    def edit(wb):
        for row, col, value in cells:
            wb[SHEET].cell(row, col).value = value
    return edit


def set_meta(key: str, value: str) -> Callable[[Any], None]:
    def edit(wb):
        ws = wb[META]
        for row in range(1, ws.max_row + 1):
            if ws.cell(row, 1).value == key:
                ws.cell(row, 2).value = value
                return
        raise AssertionError(key)
    return edit


def both(*edits: Callable[[Any], None]) -> Callable[[Any], None]:
    def edit(wb):
        for e in edits:
            e(wb)
    return edit


def import_check(cli, *args: Any) -> tuple[int, dict[str, Any]]:
    """`check import --json ARGS...` -> (exit code, document)."""
    r = cli("check", "import", "--json", *[str(a) for a in args])
    assert r.exit_code in (0, 2), r.output
    return r.exit_code, json.loads(r.stdout)


def counts(tables: Sequence[str] = COUNTED) -> dict[str, int]:
    from tests.monthly_helpers import table_counts

    return table_counts(tables)


def check_scores(unit: str, month: str = MONTH) -> dict[str, tuple[int, Any, str, str]]:
    """task code -> (verified_x100, false_flag, note, checker) of the unit's active check report."""
    rows = query("SELECT cs.task_code, cs.verified_x100, cs.false_flag, cs.note, cs.checker FROM check_score cs "
                 "JOIN check_report cr ON cr.id = cs.report_id WHERE cr.unit_code = :u AND cr.month = :m AND cr.active",
                 u=unit, m=month)
    return {r[0]: (r[1], None if r[2] is None else bool(r[2]), r[3], r[4]) for r in rows}


def rectifications() -> list[tuple]:
    """(id, org_code, org_kind, source, source_ref, due, status, problem) of every item."""
    return query("SELECT id, org_code, org_kind, source, source_ref, due, status, problem FROM rectification ORDER BY id")


def audit_actions() -> list[str]:
    return [r[0] for r in query("SELECT action FROM audit_event ORDER BY seq")]
