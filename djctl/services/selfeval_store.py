"""Storing returned self-assessment forms: each form checked against the store, a batch written together.

`selfeval import` reads forms outside any transaction and hands them here a batch at a time (one write
transaction). What a form is checked against (its unit, the month's task list, whether its file or its
unit-month is already in the store) is read once for the whole batch; the forms that pass are written with
one statement per table for the batch, one audit event per file. A form that is refused never reaches the
write, so it leaves nothing behind. Should the batch write itself fail on a file (DjctlError), it is taken
back to its savepoint and the batch is written again a file at a time, each in its own savepoint, so that
only that file is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select

from djctl.domain.periods import month_active, parse_month
from djctl.domain.points import from_x100, to_x100
from djctl.domain.scoring import MonthResult, month_result
from djctl.errors import DjctlError, InputError, Problem
from djctl.services.importing import IMPORTED, UNCHANGED, VALID, FileResult
from djctl.services.scores import result_values
from djctl.services.tasks import list_tasks, no_list
from djctl.store.audit import actor, append_many, rows_digest
from djctl.store.bulk import insert_ids, insert_rows
from djctl.store.engine import UnitOfWork, now
from djctl.store.tables import ImportFile, SelfReport, SelfScore, TaskList, Unit

SELF_SCORE = SelfScore.__table__
UNIT = Unit.__table__
TASK_LIST = TaskList.__table__
REPORT = SelfReport.__table__
IMPORT = ImportFile.__table__
SHEET = "自评表"
_CHUNK = 500  # values per IN (...): well under every driver's parameter limit

NOT_CURRENT = "这份文件以前导入过，但已不是当前有效的自评（已被另一份替换，或当月任务清单已修改），未改动"
SAME_CONTENT = "内容与已导入的自评表相同（文件由其他程序另存或转换），未改动"


@dataclass(frozen=True)
class TaskInfo:
    code: str
    seq: int
    points_x100: int


@dataclass
class _Pending:
    """A checked form waiting for the batch write."""

    result: FileResult
    path: Path
    unit: str
    month: str
    task_list_id: int
    task_list_sha: str
    rows: list[tuple[str, int, str]]  # (task code, points x100, note) in task order
    res: MonthResult
    total_x100: int
    old: Any  # the active report it replaces (id, import_id), or None


class FormBatch:
    """The forms of one write transaction. `add` checks a form (raises DjctlError to refuse it, or settles it
    as unchanged or valid); `flush` writes what was added. With `dry_run` nothing is queued: each form is
    checked against the store alone, as if it were the only one."""

    def __init__(self, uow: UnitOfWork, forms: list[tuple[FileResult, Any]], *, replace: bool, dry_run: bool,
                 task_lists: dict[int, dict[str, TaskInfo]] | None = None) -> None:
        self.uow, self.conn = uow, uow.conn
        self.replace, self.dry_run = replace, dry_run
        self.task_lists = task_lists if task_lists is not None else {}
        self.queue: list[_Pending] = []
        self.queued_shas: set[str] = set()
        self.queued_keys: set[tuple[str, str]] = set()
        self._prefetch(forms)

    # -- what the batch is checked against, read once ------------------------------------------------------

    def _prefetch(self, forms: list[tuple[FileResult, Any]]) -> None:
        conn = self.conn
        shas = sorted({r.sha256 for r, _ in forms})
        codes = sorted({f.meta.unit for _, f in forms})
        months = sorted({m for m in (_month_or_none(f.meta.month) for _, f in forms) if m})
        self.imported: dict[str, bool] = {}
        for part in _chunks(shas):
            for sha, active in conn.execute(sa_select(IMPORT.c.sha256, IMPORT.c.active)
                                            .where(IMPORT.c.kind == "selfeval", IMPORT.c.sha256.in_(part))):
                self.imported[sha] = self.imported.get(sha, False) or bool(active)
        self.units: dict[str, Any] = {}
        for part in _chunks(codes):
            for u in conn.execute(sa_select(UNIT.c.code, UNIT.c.active_from, UNIT.c.active_to)
                                  .where(UNIT.c.code.in_(part))):
                self.units[u.code] = u
        self.lists: dict[str, Any] = {}
        self.olds: dict[tuple[str, str], Any] = {}
        if not months:
            return
        for tl in conn.execute(sa_select(TASK_LIST.c.id, TASK_LIST.c.sha256, TASK_LIST.c.version, TASK_LIST.c.month)
                               .where(TASK_LIST.c.month.in_(months), TASK_LIST.c.active == True)  # noqa: E712
                               .order_by(TASK_LIST.c.version)):
            self.lists[tl.month] = tl  # the highest version last
        for part in _chunks(codes):
            for r in conn.execute(sa_select(REPORT.c.id, REPORT.c.import_id, REPORT.c.unit_code, REPORT.c.month)
                                  .where(REPORT.c.active == True, REPORT.c.month.in_(months),  # noqa: E712
                                         REPORT.c.unit_code.in_(part))):
                self.olds[(r.unit_code, r.month)] = r

    def _old_report(self, unit: str, month: str) -> Any:
        return self.conn.execute(sa_select(REPORT.c.id, REPORT.c.import_id, REPORT.c.unit_code, REPORT.c.month)
                                 .where(REPORT.c.unit_code == unit, REPORT.c.month == month,
                                        REPORT.c.active == True)).first()  # noqa: E712

    def tasks(self, task_list_id: int) -> dict[str, TaskInfo]:
        """The tasks of a task list by code. Stored task lists never change (a change is a new version with
        new rows), so one import run reads each list once."""
        if task_list_id not in self.task_lists:
            self.task_lists[task_list_id] = {t.code: TaskInfo(t.code, t.seq, t.points_x100)
                                             for t in list_tasks(self.uow.session, task_list_id)}
        return self.task_lists[task_list_id]

    # -- one form ----------------------------------------------------------------------------------------------

    def add(self, result: FileResult, form: Any) -> None:
        path = Path(result.path)
        active = self.imported.get(result.sha256)
        if active is None and result.sha256 in self.queued_shas:
            active = True
        if active is not None:  # imported by another process meanwhile, or twice in this batch
            result.status = UNCHANGED
            result.message = "" if active else NOT_CURRENT
            return
        meta, problems = form.meta, form.problems
        month = _month_or_none(meta.month)
        if month is None:
            raise InputError(f"表格校验信息中的月份「{meta.month}」无效", path=str(path))
        if form.header_unit != meta.unit:
            msg = f"表头的单位编码被改为「{form.header_unit}」，与表格校验信息中的「{meta.unit}」不符"
            raise InputError(msg, path=str(path), problems=[Problem(msg, SHEET, form.header_unit_row, "单位编码")],
                             hint="每个单位只能报送下发给本单位的表格")
        if form.header_month != month:
            msg = f"表头的月份被改为「{form.header_month}」，与表格校验信息中的「{month}」不符"
            raise InputError(msg, path=str(path), problems=[Problem(msg, SHEET, form.header_month_row, "月份")])
        unit = self.units.get(meta.unit)
        if unit is None:
            raise InputError(f"单位「{meta.unit}」不在名册中", path=str(path))
        if not month_active(month, unit.active_from, unit.active_to):
            raise InputError(f"单位「{meta.unit}」{month} 不在册（已撤销或尚未启用），不应报送", path=str(path))
        tl = self.lists.get(month)
        if tl is None:
            raise no_list(month)
        if tl.sha256 != meta.task_hash:
            raise InputError(f"这份表格是按旧的任务清单下发的，{month} 的任务清单已经修改（当前第 {tl.version} 版）",
                             path=str(path), hint=f"请重新下发表格（djctl selfeval forms --month {month}），由单位按新表填报")
        tasks = self.tasks(tl.id)
        check_rows(form, tasks, month)
        problems.raise_if_any("自评表有错误，整份未导入")
        key = (unit.code, month)
        if key in self.queued_keys:  # the same unit-month twice in this batch: the first is written first
            self.flush()
            self.olds[key] = self._old_report(*key)
        old = self.olds.get(key)
        rows = [(r.code, to_x100(r.score), r.note) for r in sorted(form.rows, key=lambda r: tasks[r.code].seq)]
        if old is not None and _same_content(self.conn, old.id, rows):
            # the same scores and notes in another file (re-saved by WPS or LibreOffice, converted to .xls/.ods):
            # what is stored already says it; nothing to write
            result.status = UNCHANGED
            result.message = SAME_CONTENT
            return
        if old is not None and not self.replace:
            old_path = self.conn.execute(sa_select(IMPORT.c.path).where(IMPORT.c.id == old.import_id)).scalar()
            raise InputError(f"{unit.code} {month} 已经报送过另一份自评表（{Path(old_path).name if old_path else old.import_id}）",
                             path=str(path), hint="确需以这份为准请加 --replace（原自评保留在历史中）")
        if self.dry_run:
            result.status = VALID
            return
        total_x100 = sum(p for _, p, _ in rows)
        # the month's result goes with the report (a new report is unchecked: a check of a replaced one no longer
        # counts); scores read it instead of recomputing every unit-month
        res = month_result(total_x100, sum(t.points_x100 for t in tasks.values()))
        self.queue.append(_Pending(result, path, unit.code, month, tl.id, tl.sha256, rows, res, total_x100, old))
        self.queued_shas.add(result.sha256)
        self.queued_keys.add(key)

    # -- the write -----------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the queued forms: together, or (when that fails on a file) one savepoint per file."""
        queue, self.queue = self.queue, []
        self.queued_shas, self.queued_keys = set(), set()
        if not queue:
            return
        try:
            with self.conn.begin_nested():
                self._write(queue)
        except DjctlError:
            for p in queue:
                try:
                    with self.conn.begin_nested():
                        self._write([p])
                except DjctlError as exc:
                    p.result.refuse(exc)
        for p in queue:
            if p.result.status == IMPORTED:
                self.imported[p.result.sha256] = True

    def _write(self, queue: list[_Pending]) -> None:
        conn, t, who = self.conn, now(), actor()
        imp_ids = insert_ids(conn, IMPORT, [
            {"kind": "selfeval", "path": str(p.path), "sha256": p.result.sha256, "subject": p.unit, "period": p.month,
             "rows": len(p.rows), "active": True, "replaced_by": None, "actor": who, "created_at": t} for p in queue])
        replaced = [(p, imp_id) for p, imp_id in zip(queue, imp_ids) if p.old is not None]
        if replaced:
            conn.execute(REPORT.update().where(REPORT.c.id == bindparam("old_id")).values(active=False),
                         [{"old_id": p.old.id} for p, _ in replaced])
            conn.execute(IMPORT.update().where(IMPORT.c.id == bindparam("old_id"))
                         .values(active=False, replaced_by=bindparam("new_id")),
                         [{"old_id": p.old.import_id, "new_id": imp_id} for p, imp_id in replaced])
        report_ids = insert_ids(conn, REPORT, [
            {"unit_code": p.unit, "month": p.month, "task_list_id": p.task_list_id, "import_id": imp_id, "active": True,
             "created_at": t, "total_x100": p.total_x100, **result_values(p.res)} for p, imp_id in zip(queue, imp_ids)])
        insert_rows(conn, SELF_SCORE, ("report_id", "task_code", "points_x100", "note"),
                    [(report_id, c, pts, n) for p, report_id in zip(queue, report_ids) for c, pts, n in p.rows])
        # the digest of what was just written, in the order written: what content.self_score_digest reads back
        append_many(conn, [("selfeval.import", {
            "file": p.path.name, "sha256": p.result.sha256, "unit": p.unit, "month": p.month, "import_id": imp_id,
            "report_id": report_id, "task_list": p.task_list_sha, "replaced_report": p.old.id if p.old else None,
            "rows": len(p.rows), "rows_sha256": rows_digest(p.rows), "self_total_x100": p.total_x100,
            "rate_x100": p.res.rate_x100}) for p, imp_id, report_id in zip(queue, imp_ids, report_ids)])
        for p in queue:
            p.result.status = IMPORTED


def check_rows(form: Any, tasks: dict[str, TaskInfo], month: str) -> None:
    """The task rows against the month's task list: every task once, points unchanged, no score above them.
    Problems go to the form's problem list with their rows."""
    problems = form.problems
    seen: dict[str, int] = {}
    for row in form.rows:
        t = tasks.get(row.code)
        if t is None:
            problems.add(f"任务编码「{row.code}」不在 {month} 的任务清单中（请勿修改或增加任务）", SHEET, row.row, "任务编码")
            continue
        if row.code in seen:
            problems.add(f"任务「{row.code}」与第 {seen[row.code]} 行重复", SHEET, row.row, "任务编码")
            continue
        seen[row.code] = row.row
        if row.points is not None and to_x100(row.points) != t.points_x100:
            problems.add(f"分值被改为 {row.points}，应为 {from_x100(t.points_x100)}（请勿修改分值）", SHEET, row.row, "分值")
        elif row.score is not None and to_x100(row.score) > t.points_x100:
            problems.add(f"自评得分 {row.score} 超过分值 {from_x100(t.points_x100)}", SHEET, row.row, "自评得分")
    missing = [c for c in tasks if c not in seen]
    if missing:
        problems.add(f"缺少任务：{'、'.join(missing)}（请勿删除任务行）", SHEET)


def _same_content(conn, report_id: int, rows: list[tuple[str, int, str]]) -> bool:
    """Whether the stored report holds exactly these (task, points, note) rows: a digest of normalised cells,
    not of file bytes, so that a file another program re-saved with the same content is recognised."""
    stored = conn.execute(sa_select(SELF_SCORE.c.task_code, SELF_SCORE.c.points_x100, SELF_SCORE.c.note)
                          .where(SELF_SCORE.c.report_id == report_id)).all()
    return rows_digest(sorted((c, p, n or "") for c, p, n in stored)) == rows_digest(sorted((c, p, n or "") for c, p, n in rows))


def _month_or_none(raw: str) -> str | None:
    try:
        return str(parse_month(raw))
    except (ValueError, TypeError):
        return None


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]
