"""Monthly self-assessment (月自评): forms out, returned forms in (each file all or nothing), status."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from djctl.domain.periods import month_active, parse_month
from djctl.domain.points import from_x100, to_x100
from djctl.domain.scoring import month_result
from djctl.errors import DjctlError, InputError, Problem
from djctl.io.selfeval_form import FormTask, form_filename, read_form, write_form
from djctl.services.importing import (IMPORTED, UNCHANGED, VALID, FileResult, expand_paths, file_sha256, name_committed,
                                     imported_active)
from djctl.io.outfile import inside, staged_dir
from djctl.services.scores import result_values
from djctl.services.tasks import list_tasks, no_list, require_list
from djctl.store.audit import actor, rows_digest
from djctl.store.bulk import insert_rows
from djctl.store.engine import Store, now
from djctl.store.tables import ImportFile, SelfReport, SelfScore, TaskList, Unit

SELF_SCORE = SelfScore.__table__
UNIT = Unit.__table__
TASK_LIST = TaskList.__table__
REPORT = SelfReport.__table__
IMPORT = ImportFile.__table__


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
    written = []
    with staged_dir(out_dir) as stage:  # every form or none (a full disk leaves no half set)
        for u in pool:
            name = form_filename(str(p), u.code, u.name)
            write_form(inside(stage.dir, name), unit_code=u.code, unit_name=u.name, month=str(p),
                       month_label=p.label, task_hash=tl.sha256, tasks=tasks)
            written.append(inside(out_dir, name))
    return written


#: Forms written per transaction: each file is all or nothing through its own savepoint, and one commit (one
#: fsync with synchronous=FULL, ~5–15 ms on these disks) serves a batch instead of every file.
BATCH_FILES = 64
BATCH_SECONDS = 1.0


def import_forms(store: Store, paths: list[Path], *, replace: bool = False, dry_run: bool = False,
                 progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Import returned self-assessment workbooks; every file all or nothing.

    Files already imported (same SHA-256) are answered from one query for the whole run, without being
    parsed again: re-running the import over a folder that keeps filling up costs little. Forms are read
    outside any transaction, then written in batches: one write transaction per batch, one savepoint per
    file (a refused file rolls back its savepoint only). A crash loses at most the batch not yet committed,
    whose files were not yet reported: every file is wholly in the store or wholly absent.
    """
    files = expand_paths(paths)
    shas = {path: _sha_or_none(path) for path in files}
    known = seen_imports(store, {sha for sha in shas.values() if sha})
    task_lists: dict[int, dict[str, Any]] = {}
    results: list[FileResult] = []
    batch: list[tuple[FileResult, Any]] = []
    started = 0.0
    batch_files = _batch_files()

    def flush() -> None:
        write_batch(store, batch, replace=replace, dry_run=dry_run, task_lists=task_lists)
        for result, _ in batch:
            results.append(result)
            if progress:
                progress(result)
        batch.clear()

    try:
        for path in files:
            result, form = read_one(path, sha256=shas[path], known=known)
            if not batch:
                started = time.perf_counter()
            batch.append((result, form))
            if len(batch) >= batch_files or time.perf_counter() - started >= BATCH_SECONDS:
                flush()
        flush()
    except DjctlError as exc:
        raise name_committed(exc, results) from exc.__cause__
    return results


def _batch_files() -> int:
    """BATCH_FILES, or DJCTL_IMPORT_BATCH (1 = a transaction per file, as the crash tests also exercise)."""
    raw = os.environ.get("DJCTL_IMPORT_BATCH", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else BATCH_FILES


def read_one(path: Path, *, sha256: str | None = None,
             known: dict[str, SeenImport] | None = None) -> tuple[FileResult, Any]:
    """Hash and parse one returned form (no transaction). The form is None when the result is final:
    refused, or answered "unchanged" from `known`."""
    result = FileResult(str(path))
    try:
        if not path.is_file():
            raise InputError("文件不存在", path=str(path))
        try:
            result.sha256 = sha256 or file_sha256(path)
        except OSError as exc:
            raise InputError(f"文件无法读取（{exc.strerror or exc.__class__.__name__}）", path=str(path)) from None
        prior = (known or {}).get(result.sha256)
        if prior is not None:
            result.status = UNCHANGED
            result.rows, result.subject, result.period = prior.rows, prior.subject, prior.period
            result.message = "" if prior.active else _NOT_CURRENT
            return result, None
        form = read_form(path)
    except DjctlError as exc:
        result.refuse(exc)
        return result, None
    result.rows = len(form.rows)
    result.subject, result.period = form.meta.unit, form.meta.month
    if form.problems.notes:  # formulas taken at their cached values: the report says so
        result.extra["notes"] = list(form.problems.notes)
    return result, form


def write_batch(store: Store, batch: list[tuple[FileResult, Any]], *, replace: bool = False, dry_run: bool = False,
                task_lists: dict[int, dict[str, Any]] | None = None) -> None:
    """Write the parsed forms of a batch in one transaction, each file in its own savepoint."""
    todo = [(result, form) for result, form in batch if form is not None]
    if not todo:
        return
    try:
        with store.write() as uow:
            for result, form in todo:
                try:
                    with uow.conn.begin_nested():
                        active = imported_active(uow.conn, "selfeval", result.sha256)
                        if active is not None:  # imported by another process meanwhile, or twice in this batch
                            result.status = UNCHANGED
                            result.message = "" if active else _NOT_CURRENT
                            continue
                        _store_form(uow, Path(result.path), result, form, replace, task_lists)
                        if dry_run:
                            raise _DryRun
                except _DryRun:
                    result.status = VALID
                except DjctlError as exc:
                    result.refuse(exc)
            if dry_run:
                raise _DryRun  # nothing of a dry run is kept
    except _DryRun:
        pass


@dataclass(frozen=True)
class SeenImport:
    """What the store remembers of an imported file (enough to answer "unchanged")."""

    rows: int
    subject: str
    period: str
    active: bool


def seen_imports(store: Store, shas: set[str]) -> dict[str, SeenImport]:
    """sha256 -> the stored self-assessment import with that content (the active one if several)."""
    out: dict[str, SeenImport] = {}
    if not shas:
        return out
    f = ImportFile.__table__
    ordered = sorted(shas)
    with store.read() as uow:
        for i in range(0, len(ordered), 500):
            q = (sa_select(f.c.sha256, f.c.rows, f.c.subject, f.c.period, f.c.active)
                 .where(f.c.kind == "selfeval", f.c.sha256.in_(ordered[i:i + 500])))
            for r in uow.conn.execute(q):
                if r.sha256 not in out or r.active:
                    out[r.sha256] = SeenImport(r.rows, r.subject, r.period, bool(r.active))
    return out


def _sha_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path) if path.is_file() else None
    except OSError:
        return None


class _DryRun(Exception):
    pass


_NOT_CURRENT = "这份文件以前导入过，但已不是当前有效的自评（已被另一份替换，或当月任务清单已修改），未改动"


def import_one(store: Store, path: Path, *, replace: bool = False, dry_run: bool = False,
               sha256: str | None = None, known: dict[str, SeenImport] | None = None,
               task_lists: dict[int, dict[str, Any]] | None = None) -> FileResult:
    """Import one returned form in its own transaction."""
    result, form = read_one(path, sha256=sha256, known=known)
    write_batch(store, [(result, form)], replace=replace, dry_run=dry_run, task_lists=task_lists)
    return result


def _store_form(uow, path: Path, result: FileResult, form, replace: bool,
                task_lists: dict[int, dict[str, Any]] | None = None) -> None:
    s = uow.session
    meta = form.meta
    problems = form.problems
    try:
        month = str(parse_month(meta.month))
    except ValueError:
        raise InputError(f"表格校验信息中的月份「{meta.month}」无效", path=str(path)) from None
    sheet = "自评表"
    if form.header_unit != meta.unit:
        msg = f"表头的单位编码被改为「{form.header_unit}」，与表格校验信息中的「{meta.unit}」不符"
        raise InputError(msg, path=str(path), problems=[Problem(msg, sheet, form.header_unit_row, "单位编码")],
                         hint="每个单位只能报送下发给本单位的表格")
    if form.header_month != month:
        msg = f"表头的月份被改为「{form.header_month}」，与表格校验信息中的「{month}」不符"
        raise InputError(msg, path=str(path), problems=[Problem(msg, sheet, form.header_month_row, "月份")])
    conn = uow.conn  # Core statements: this runs once per returned form, thousands of times a month
    unit = conn.execute(sa_select(UNIT.c.code, UNIT.c.active_from, UNIT.c.active_to)
                        .where(UNIT.c.code == meta.unit)).first()
    if unit is None:
        raise InputError(f"单位「{meta.unit}」不在名册中", path=str(path))
    if not month_active(month, unit.active_from, unit.active_to):
        raise InputError(f"单位「{meta.unit}」{month} 不在册（已撤销或尚未启用），不应报送", path=str(path))
    tl = conn.execute(sa_select(TASK_LIST.c.id, TASK_LIST.c.sha256, TASK_LIST.c.version)
                      .where(TASK_LIST.c.month == month, TASK_LIST.c.active == True)  # noqa: E712
                      .order_by(TASK_LIST.c.version.desc()).limit(1)).first()
    if tl is None:
        raise no_list(month)
    if tl.sha256 != meta.task_hash:
        raise InputError(f"这份表格是按旧的任务清单下发的，{month} 的任务清单已经修改（当前第 {tl.version} 版）",
                         path=str(path), hint=f"请重新下发表格（djctl selfeval forms --month {month}），由单位按新表填报")
    tasks = _tasks_by_code(s, tl.id, task_lists)
    seen: dict[str, int] = {}
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
    old = conn.execute(sa_select(REPORT.c.id, REPORT.c.import_id)
                       .where(REPORT.c.unit_code == unit.code, REPORT.c.month == month,
                              REPORT.c.active == True)).first()  # noqa: E712
    rows = [(r.code, to_x100(r.score), r.note) for r in sorted(form.rows, key=lambda r: tasks[r.code].seq)]
    if old is not None and _same_content(conn, old.id, rows):
        # the same scores and notes in another file (re-saved by WPS or LibreOffice, converted to .xls/.ods):
        # what is stored already says it; nothing to write
        result.status = UNCHANGED
        result.message = "内容与已导入的自评表相同（文件由其他程序另存或转换），未改动"
        return
    if old is not None and not replace:
        old_path = conn.execute(sa_select(IMPORT.c.path).where(IMPORT.c.id == old.import_id)).scalar()
        raise InputError(f"{unit.code} {month} 已经报送过另一份自评表（{Path(old_path).name if old_path else old.import_id}）",
                         path=str(path), hint="确需以这份为准请加 --replace（原自评保留在历史中）")
    t = now()
    imp_id = conn.execute(IMPORT.insert().values(
        kind="selfeval", path=str(path), sha256=result.sha256, subject=unit.code, period=month, rows=len(form.rows),
        active=True, replaced_by=None, actor=actor(), created_at=t)).inserted_primary_key[0]
    if old is not None:
        conn.execute(REPORT.update().where(REPORT.c.id == old.id).values(active=False))
        conn.execute(IMPORT.update().where(IMPORT.c.id == old.import_id).values(active=False, replaced_by=imp_id))
    total_x100 = sum(p for _, p, _ in rows)
    # the month's result goes with the report (a new report is unchecked: a check of a replaced one no longer
    # counts); scores read it instead of recomputing every unit-month
    res = month_result(total_x100, sum(t.points_x100 for t in tasks.values()))
    report_id = conn.execute(REPORT.insert().values(
        unit_code=unit.code, month=month, task_list_id=tl.id, import_id=imp_id, active=True,
        created_at=t, total_x100=total_x100, **result_values(res))).inserted_primary_key[0]
    insert_rows(uow.conn, SELF_SCORE, ("report_id", "task_code", "points_x100", "note"),
                [(report_id, c, p, n) for c, p, n in rows])
    # the digest of what was just written, in the order written: what content.self_score_digest reads back
    uow.audit("selfeval.import", {"file": path.name, "sha256": result.sha256, "unit": unit.code, "month": month,
                                  "import_id": imp_id, "report_id": report_id, "task_list": tl.sha256,
                                  "replaced_report": old.id if old else None, "rows": len(rows),
                                  "rows_sha256": rows_digest(rows),
                                  "self_total_x100": total_x100, "rate_x100": res.rate_x100})
    result.status = IMPORTED


def _same_content(conn, report_id: int, rows: list[tuple[str, int, str]]) -> bool:
    """Whether the stored report holds exactly these (task, points, note) rows: a digest of normalised cells,
    not of file bytes, so that a file another program re-saved with the same content is recognised."""
    stored = conn.execute(sa_select(SELF_SCORE.c.task_code, SELF_SCORE.c.points_x100, SELF_SCORE.c.note)
                          .where(SELF_SCORE.c.report_id == report_id)).all()
    return rows_digest(sorted((c, p, n or "") for c, p, n in stored)) == rows_digest(sorted((c, p, n or "") for c, p, n in rows))


@dataclass(frozen=True)
class _TaskInfo:
    code: str
    seq: int
    points_x100: int


def _tasks_by_code(session, task_list_id: int, cache: dict[int, dict[str, Any]] | None) -> dict[str, _TaskInfo]:
    """The tasks of a task list by code, as plain values. Stored task lists never change (a change is a new
    version with new rows), so one import run reads each list once (`cache`: task list id -> tasks)."""
    if cache is not None and task_list_id in cache:
        return cache[task_list_id]
    tasks = {t.code: _TaskInfo(t.code, t.seq, t.points_x100) for t in list_tasks(session, task_list_id)}
    if cache is not None:
        cache[task_list_id] = tasks
    return tasks


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
