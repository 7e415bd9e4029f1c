"""Builders for the monthly cycle: a store with roster, scheme and a month's tasks, forms out, forms filled.

Every file is a real workbook: forms come from `djctl selfeval forms`, and are filled (or broken) with
openpyxl the way a unit would, so the importer reads exactly what it would read in the field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tests.helpers import json_out

MONTH = "2024-03"
SHEET = "自评表"
META = "_djctl"
FIRST_TASK_ROW = 7           # header row 6, tasks from row 7
COL = {"序号": 1, "任务编码": 2, "任务名称": 3, "过硬维度": 4, "分值": 5, "自评得分": 6, "完成情况说明": 7}
ROSTER_HEADER = ["单位编码", "单位名称", "组织类型", "分组", "书记", "党员人数", "启用日期", "撤销日期"]
COUNTED_TABLES = ("self_report", "self_score", "import_file", "audit_event", "task_list", "task")


@dataclass
class MonthSetup:
    """What `setup_month` built: the month, its tasks (code, points) and one blank form per active unit."""

    root: Path
    month: str
    units: list[str]
    tasks: list[tuple[str, Decimal]]
    forms: dict[str, Path] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [c for c, _ in self.tasks]

    @property
    def full(self) -> Decimal:
        return sum((p for _, p in self.tasks), Decimal(0))


def roster(path: Path, units: int = 3, *, inactive: Sequence[tuple[str, str, date | None, date | None]] = ()) -> Path:
    """Units U001..U00n (groups 第1组/第2组), plus (code, name, active_from, active_to) extra units."""
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(ROSTER_HEADER)
    for i in range(1, units + 1):
        ws.append([f"U{i:03d}", f"测试单位{i}机关党委", "机关党委", f"第{(i - 1) % 2 + 1}组", "张三", 20 + i, None, None])
    for code, name, start, end in inactive:
        ws.append([code, name, "党支部", "第1组", "李四", 9, start, end])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def task_workbook(path: Path, tasks: Sequence[Sequence[Any]], sheet: str = "任务清单") -> Path:
    """A task-list workbook: rows of (任务编码, 任务名称, 分值, 过硬维度[, 说明])."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["任务编码", "任务名称", "分值", "过硬维度", "说明"])
    for t in tasks:
        ws.append(list(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


_TEMPLATES: dict[tuple, Path] = {}
_TEMPLATE_DIR: Path | None = None


def _template_store(units: int, inactive: Sequence[tuple[str, str, date | None, date | None]]) -> Path:
    """A store with the default scheme and a roster, built once per test session and copied per test
    (migrating a fresh store costs more than a second; copying it a few milliseconds)."""
    global _TEMPLATE_DIR
    key = (units, tuple(inactive))
    if key not in _TEMPLATES:
        import tempfile

        from djctl.services.roster import import_roster
        from djctl.services.setup import init_store
        from djctl.store.engine import open_store

        if _TEMPLATE_DIR is None:
            import atexit
            import shutil

            _TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="djctl-monthly-"))
            atexit.register(shutil.rmtree, _TEMPLATE_DIR, ignore_errors=True)
        n = len(_TEMPLATES)
        db = _TEMPLATE_DIR / f"base{n}.db"
        store = open_store(db)
        try:
            init_store(store)
            rep = import_roster(store, roster(_TEMPLATE_DIR / f"roster{n}.xlsx", units, inactive=inactive),
                                     on_date=date(2024, 1, 1))
            assert rep.file.status == "imported", rep.file.to_json()
        finally:
            store.dispose()
        _TEMPLATES[key] = db
    return _TEMPLATES[key]


def setup_store(cli, root: Path, units: int = 3, *, inactive: Sequence[tuple[str, str, date | None, date | None]] = (),
                month: str = MONTH, tasks_file: Path | None = None) -> None:
    """A store with scheme + roster (copied from a session template; by the CLI on a shared test server),
    then the month's tasks by the CLI (standing tasks, extended by `tasks_file` if given)."""
    target = os.environ.get("DJCTL_DB", "")
    if "://" not in target and not os.environ.get("DJCTL_TEST_DB") and not Path(target).exists():
        from djctl.store.engine import backup_sqlite

        backup_sqlite(_template_store(units, inactive), Path(target))
    else:
        r = cli("init")
        assert r.exit_code == 0, r.output
        r = cli("org", "import", roster(root / "inputs" / "名册.xlsx", units, inactive=inactive))
        assert r.exit_code == 0, r.output
    args = ["tasks", "set", "--month", month] + ([str(tasks_file)] if tasks_file else [])
    r = cli(*args)
    assert r.exit_code == 0, r.output


def month_tasks(cli, month: str = MONTH) -> list[tuple[str, Decimal]]:
    doc = json_out(cli("tasks", "show", "--month", month, "--json"))
    return [(t["code"], Decimal(str(t["points"]))) for t in doc["tasks"]]


def write_forms(cli, out: Path, month: str = MONTH) -> dict[str, Path]:
    """`selfeval forms`: unit code -> blank form path."""
    doc = json_out(cli("selfeval", "forms", "--month", month, "--out", str(out), "--json"))
    return {Path(p).name.split("_")[1]: Path(p) for p in doc["files"]}


def setup_month(cli, root: Path, units: int = 3, *, inactive: Sequence[tuple[str, str, date | None, date | None]] = (),
                month: str = MONTH, tasks_file: Path | None = None) -> MonthSetup:
    setup_store(cli, root, units, inactive=inactive, month=month, tasks_file=tasks_file)
    forms = write_forms(cli, root / "下发" / month, month)
    return MonthSetup(root, month, sorted(forms), month_tasks(cli, month), forms)


_COMMAND: Any = None


def fast_cli(monkeypatch):
    """The conftest `cli`, with the Click command built once per session instead of once per call.

    Typer rebuilds the whole command tree (evaluating every annotation) on each `CliRunner.invoke`,
    about 0.2 s here; the tree never changes between calls, so these tests build it once.
    """
    import typer.testing
    from typer.testing import CliRunner

    from djctl.cli import app

    global _COMMAND
    original = typer.testing._get_command
    if _COMMAND is None:
        _COMMAND = original(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda a: _COMMAND if a is app else original(a))
    runner = CliRunner()

    def run(*args: Any, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def default_scores(tasks: Sequence[tuple[str, Decimal]], seed: int = 0) -> list[Any]:
    """Deterministic valid scores: full points less a tenth-step that depends on seed and position."""
    out: list[Any] = []
    for i, (_, pts) in enumerate(tasks):
        v = max(Decimal(0), pts - Decimal((seed * 7 + i * 3) % 20) / 10)
        out.append(int(v) if v == v.to_integral_value() else float(v))
    return out


def fill_form(src: Path, dest: Path, scores: Sequence[Any] | dict[str, Any] | None = None,
              notes: Sequence[Any] | None = None, edit: Callable[[Any], None] | None = None) -> Path:
    """Fill a form as a unit would and save it to `dest`.

    `scores`: one value per task row in order (or {task code: value}); values are written as given, so a
    string starting with "=" becomes a real formula and None leaves the cell empty. `edit(wb)` may then
    change anything (rename sheets, insert rows, edit the hidden meta sheet...).
    """
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb[SHEET]
    row = FIRST_TASK_ROW
    codes = []
    while ws.cell(row, COL["任务编码"]).value:
        codes.append(ws.cell(row, COL["任务编码"]).value)
        row += 1
    if scores is None:
        scores = default_scores([(c, Decimal(str(ws.cell(FIRST_TASK_ROW + i, COL["分值"]).value)))
                                 for i, c in enumerate(codes)])
    if isinstance(scores, dict):
        scores = [scores.get(c) for c in codes]
    assert len(scores) == len(codes), f"{len(codes)} task rows, {len(scores)} scores"
    for i, value in enumerate(scores):
        ws.cell(FIRST_TASK_ROW + i, COL["自评得分"]).value = value
        note = notes[i] if notes is not None else "已按要求完成"
        ws.cell(FIRST_TASK_ROW + i, COL["完成情况说明"]).value = note
    if edit is not None:
        edit(wb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def fill_all(setup: MonthSetup, dest_dir: Path, units: Sequence[str] | None = None,
             scores: dict[str, Sequence[Any]] | None = None) -> dict[str, Path]:
    """Fill the forms of `units` (all by default) into dest_dir with given or default scores."""
    out = {}
    for n, code in enumerate(units if units is not None else setup.units):
        src = setup.forms[code]
        given = (scores or {}).get(code)
        out[code] = fill_form(src, dest_dir / src.name,
                              given if given is not None else default_scores(setup.tasks, seed=n + 1))
    return out


def import_json(cli, *args: Any) -> tuple[int, dict[str, Any]]:
    """`selfeval import --json ARGS...` -> (exit code, document)."""
    r = cli("selfeval", "import", "--json", *[str(a) for a in args])
    assert r.exit_code in (0, 2), r.output
    return r.exit_code, json.loads(r.stdout)


def table_counts(tables: Sequence[str] = COUNTED_TABLES) -> dict[str, int]:
    """Row counts of store tables (the store DJCTL_DB names)."""
    from sqlalchemy import text

    from djctl.store.engine import open_store

    s = open_store()
    try:
        with s.engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
    finally:
        s.dispose()


def query(sql: str, **params: Any) -> list[tuple]:
    from sqlalchemy import text

    from djctl.store.engine import open_store

    s = open_store()
    try:
        with s.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        s.dispose()


def active_scores(unit: str, month: str = MONTH) -> dict[str, int]:
    """task code -> stored points_x100 of the unit's active report."""
    rows = query("SELECT ss.task_code, ss.points_x100 FROM self_score ss JOIN self_report sr ON sr.id = ss.report_id "
                 "WHERE sr.unit_code = :u AND sr.month = :m AND sr.active", u=unit, m=month)
    return dict(rows)


def add_unit_directly(code: str, name: str, group: str = "第1组") -> None:
    """Add a unit through the store (with its audit event): for names the roster reader rightly refuses."""
    from djctl.store.engine import now, open_store
    from djctl.store.tables import Unit

    s = open_store()
    try:
        with s.write() as uow:
            uow.session.add(Unit(code=code, name=name, kind="机关党委", group_name=group, members=5, updated_at=now()))
            uow.audit("test.unit.add", {"code": code, "name": name})
    finally:
        s.dispose()


def fullwidth(text: str) -> str:
    """ASCII digits and '.' as their full-width forms (８．５)."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() or ch == "." else ch for ch in text)
