"""Monthly self-assessment (月自评): forms out, returned forms in (each file all or nothing), status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.periods import month_active, parse_month
from djctl.domain.points import from_x100, to_x100
from djctl.errors import DjctlError, InputError, Problem
from djctl.io.selfeval_form import FormTask, form_filename, read_form, write_form
from djctl.services.importing import IMPORTED, UNCHANGED, VALID, FileResult, expand_paths, file_sha256, find_import
from djctl.services.tasks import list_tasks, require_list
from djctl.store.audit import actor, rows_digest
from djctl.store.engine import Store, now
from djctl.store.tables import ImportFile, SelfReport, SelfScore, Unit

SELF_SCORE = SelfScore.__table__


def active_units(session, month: str) -> list[Unit]:
    return [u for u in session.exec(select(Unit).order_by(Unit.code)) if month_active(month, u.active_from, u.active_to)]


def write_forms(store: Store, month: str, out_dir: Path, units: list[str] | None = None) -> list[Path]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        tl = require_list(s, str(p))
        tasks = [FormTask(t.code, t.name, t.dimension, from_x100(t.points_x100)) for t in list_tasks(s, tl.id)]
        pool = active_units(s, str(p))
        if units:
            known = {u.code for u in pool}
            unknown = [c for c in units if c not in known]
            if unknown:
                raise InputError(f"以下单位不存在或 {p} 不在册：{'、'.join(unknown)}")
            pool = [u for u in pool if u.code in set(units)]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for u in pool:
        path = out_dir / form_filename(str(p), u.code, u.name)
        written.append(write_form(path, unit_code=u.code, unit_name=u.name, month=str(p), month_label=p.label,
                                  task_hash=tl.sha256, tasks=tasks))
    return written


def import_forms(store: Store, paths: list[Path], *, replace: bool = False, dry_run: bool = False,
                 progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Import returned self-assessment workbooks; every file in its own transaction."""
    results = []
    for path in expand_paths(paths):
        result = import_one(store, path, replace=replace, dry_run=dry_run)
        results.append(result)
        if progress:
            progress(result)
    return results


class _DryRun(Exception):
    pass


def import_one(store: Store, path: Path, *, replace: bool = False, dry_run: bool = False) -> FileResult:
    result = FileResult(str(path))
    try:
        if not path.is_file():
            raise InputError("文件不存在", path=str(path))
        result.sha256 = file_sha256(path)
        form = read_form(path)
        result.rows = len(form.rows)
        result.subject, result.period = form.meta.unit, form.meta.month
        with store.write() as uow:
            if find_import(uow.session, "selfeval", result.sha256):
                result.status = UNCHANGED
                return result
            _store_form(uow, path, result, form, replace)
            if dry_run:
                raise _DryRun
    except _DryRun:
        result.status = VALID
    except DjctlError as exc:
        result.refuse(exc)
    return result


def _store_form(uow, path: Path, result: FileResult, form, replace: bool) -> None:
    s = uow.session
    meta = form.meta
    problems = form.problems
    try:
        month = str(parse_month(meta.month))
    except ValueError:
        raise InputError(f"表格校验信息中的月份「{meta.month}」无效", path=str(path)) from None
    if form.header_unit != meta.unit:
        raise InputError(f"表头的单位编码被改为「{form.header_unit}」，与表格校验信息中的「{meta.unit}」不符",
                         path=str(path), hint="每个单位只能报送下发给本单位的表格")
    if form.header_month != month:
        raise InputError(f"表头的月份被改为「{form.header_month}」，与表格校验信息中的「{month}」不符", path=str(path))
    unit = s.exec(select(Unit).where(Unit.code == meta.unit)).first()
    if unit is None:
        raise InputError(f"单位「{meta.unit}」不在名册中", path=str(path))
    if not month_active(month, unit.active_from, unit.active_to):
        raise InputError(f"单位「{meta.unit}」{month} 不在册（已撤销或尚未启用），不应报送", path=str(path))
    tl = require_list(s, month)
    if tl.sha256 != meta.task_hash:
        raise InputError(f"这份表格是按旧的任务清单下发的，{month} 的任务清单已经修改（当前第 {tl.version} 版）",
                         path=str(path), hint=f"请重新下发表格（djctl selfeval forms --month {month}），由单位按新表填报")
    tasks = {t.code: t for t in list_tasks(s, tl.id)}
    seen: dict[str, int] = {}
    sheet = "自评表"
    for row in form.rows:
        t = tasks.get(row.code)
        if t is None:
            problems.add(f"任务编码「{row.code}」不在 {month} 的任务清单中（请勿修改或增加任务）", sheet, row.row, "任务编码")
            continue
        if row.code in seen:
            problems.add(f"任务「{row.code}」与第 {seen[row.code]} 行重复", sheet, row.row, "任务编码")
            continue
        seen[row.code] = row.row
        if row.points is not None and to_x100(row.points) != t.points_x100:
            problems.add(f"分值被改为 {row.points}，应为 {from_x100(t.points_x100)}（请勿修改分值）", sheet, row.row, "分值")
        elif row.score is not None and to_x100(row.score) > t.points_x100:
            problems.add(f"自评得分 {row.score} 超过分值 {from_x100(t.points_x100)}", sheet, row.row, "自评得分")
    missing = [c for c in tasks if c not in seen]
    if missing:
        problems.add(f"缺少任务：{'、'.join(missing)}（请勿删除任务行）", sheet)
    problems.raise_if_any("自评表有错误，整份未导入")
    old = s.exec(select(SelfReport).where(SelfReport.unit_code == unit.code, SelfReport.month == month,
                                          SelfReport.active == True)).first()  # noqa: E712
    if old is not None and not replace:
        old_file = s.get(ImportFile, old.import_id)
        raise InputError(f"{unit.code} {month} 已经报送过另一份自评表（{Path(old_file.path).name if old_file else old.import_id}）",
                         path=str(path), hint="确需以这份为准请加 --replace（原自评保留在历史中）")
    t = now()
    imp = ImportFile(kind="selfeval", path=str(path), sha256=result.sha256, subject=unit.code, period=month,
                     rows=len(form.rows), actor=actor(), created_at=t)
    s.add(imp)
    s.flush()
    if old is not None:
        old.active = False
        s.add(old)
        old_imp = s.get(ImportFile, old.import_id)
        if old_imp is not None:
            old_imp.active = False
            old_imp.replaced_by = imp.id
            s.add(old_imp)
    report = SelfReport(unit_code=unit.code, month=month, task_list_id=tl.id, import_id=imp.id, active=True, created_at=t)
    s.add(report)
    s.flush()
    rows = [(r.code, to_x100(r.score), r.note) for r in sorted(form.rows, key=lambda r: tasks[r.code].seq)]
    uow.conn.execute(SELF_SCORE.insert(), [{"report_id": report.id, "task_code": c, "points_x100": p, "note": n}
                                           for c, p, n in rows])
    uow.audit("selfeval.import", {"file": path.name, "sha256": result.sha256, "unit": unit.code, "month": month,
                                  "import_id": imp.id, "report_id": report.id, "task_list": tl.sha256,
                                  "replaced_report": old.id if old else None, "rows": len(rows),
                                  "rows_sha256": rows_digest(rows), "self_total_x100": sum(p for _, p, _ in rows)})
    result.status = IMPORTED


@dataclass
class StatusRow:
    unit: str
    name: str
    group: str
    status: str  # reported / missing / inactive
    file: str = ""
    imported_at: str = ""


def status(store: Store, month: str) -> list[StatusRow]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        units = list(s.exec(select(Unit).order_by(Unit.code)))
        reports = {r.unit_code: r for r in s.exec(select(SelfReport).where(SelfReport.month == str(p),
                                                                             SelfReport.active == True))}  # noqa: E712
        files = {f.id: f for f in s.exec(select(ImportFile).where(ImportFile.kind == "selfeval", ImportFile.period == str(p)))}
    rows = []
    for u in units:
        if not month_active(str(p), u.active_from, u.active_to):
            rows.append(StatusRow(u.code, u.name, u.group_name, "inactive"))
        elif u.code in reports:
            f = files.get(reports[u.code].import_id)
            rows.append(StatusRow(u.code, u.name, u.group_name, "reported", Path(f.path).name if f else "",
                                  f.created_at.isoformat(timespec="seconds") if f else ""))
        else:
            rows.append(StatusRow(u.code, u.name, u.group_name, "missing"))
    return rows


def status_doc(month: str, rows: list[StatusRow]) -> dict[str, Any]:
    counts = {k: sum(1 for r in rows if r.status == k) for k in ("reported", "missing", "inactive")}
    return {"period": month, "counts": counts, "missing": [r.unit for r in rows if r.status == "missing"],
            "rows": [{"unit": r.unit, "name": r.name, "group": r.group, "status": r.status, "file": r.file,
                      "imported_at": r.imported_at} for r in rows]}
