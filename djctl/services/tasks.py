"""Monthly task lists (月度任务清单): set from the scheme's standing tasks plus a file, show, look up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from djctl.domain.periods import parse_month
from djctl.domain.points import fmt, from_x100, to_x100
from djctl.domain.scheme import TaskDef
from djctl.errors import ActionNeeded, InputError
from djctl.services.setup import load_scheme
from djctl.store.audit import canonical
from djctl.store.engine import Store, now
from djctl.store.tables import ImportFile, SelfReport, Task, TaskList


def task_list_hash(tasks: list[TaskDef]) -> str:
    rows = [[t.code, t.name, to_x100(t.points), t.dimension, t.note] for t in tasks]
    return hashlib.sha256(canonical(rows).encode("utf-8")).hexdigest()


def merge_tasks(standing: tuple[TaskDef, ...], extra: list[TaskDef]) -> list[TaskDef]:
    """The file extends the standing tasks; a task with the same code overrides the standing one."""
    by_code = {t.code: t for t in extra}
    merged = [by_code.pop(t.code, t) for t in standing]
    return merged + [t for t in extra if t.code in by_code]


@dataclass
class TaskSetResult:
    month: str
    status: str  # created / unchanged / replaced
    version: int
    sha256: str
    tasks: list[TaskDef]
    superseded: list[str] = field(default_factory=list)  # units whose reports went to history (--force)

    @property
    def total(self):
        return sum((t.points for t in self.tasks), start=from_x100(0))


def current_list(session, month: str) -> TaskList | None:
    return session.exec(select(TaskList).where(TaskList.month == month, TaskList.active == True)  # noqa: E712
                        .order_by(TaskList.version.desc())).first()


def list_tasks(session, task_list_id: int) -> list[Task]:
    return list(session.exec(select(Task).where(Task.task_list_id == task_list_id).order_by(Task.seq)))


def require_list(session, month: str) -> TaskList:
    tl = current_list(session, month)
    if tl is None:
        raise no_list(month)
    return tl


def no_list(month: str) -> ActionNeeded:
    return ActionNeeded(f"{month} 还没有任务清单", hint=f"先运行 djctl tasks set --month {month} [任务文件]")


def set_tasks(store: Store, month: str, path: Path | None, *, standing: bool = True, force: bool = False) -> TaskSetResult:
    p = parse_month(month)
    extra: list[TaskDef] = []
    if path is not None:
        from djctl.io.tasks_in import read_tasks

        extra = read_tasks(path)
    with store.write() as uow:
        s = uow.session
        scheme = load_scheme(s, p.year)
        tasks = merge_tasks(scheme.tasks if standing else (), extra)
        if not tasks:
            raise InputError("任务清单为空：方案中没有常设任务，也没有给出任务文件",
                             hint="djctl tasks set --month 2024-03 任务清单.xlsx")
        sha = task_list_hash(tasks)
        old = current_list(s, str(p))
        if old is not None and old.sha256 == sha:
            return TaskSetResult(str(p), "unchanged", old.version, sha, tasks)
        superseded: list[SelfReport] = []
        if old is not None:
            superseded = list(s.exec(select(SelfReport).where(SelfReport.month == str(p),
                                                              SelfReport.active == True)))  # noqa: E712
            if superseded and not force:
                raise InputError(f"{p} 已有 {len(superseded)} 个单位报送了自评，不能再修改任务清单",
                                 hint="确需修改请加 --force（旧清单与已报送的自评保留在历史中，各单位需按新表重新报送）")
            old.active = False
            s.add(old)
            # reports made against the old list go to history: the units report again on the new form
            for rep in superseded:
                rep.active = False
                s.add(rep)
                imp = s.get(ImportFile, rep.import_id)
                if imp is not None and imp.active:
                    imp.active = False
                    s.add(imp)
        version = (old.version + 1) if old else _next_version(s, str(p))
        tl = TaskList(month=str(p), version=version, sha256=sha, source=str(path or "方案常设任务"), active=True,
                      created_at=now())
        s.add(tl)
        s.flush()
        for i, t in enumerate(tasks, 1):
            s.add(Task(task_list_id=tl.id, seq=i, code=t.code, name=t.name, points_x100=to_x100(t.points),
                       dimension=t.dimension, note=t.note))
        uow.audit("tasks.set", {"month": str(p), "version": version, "sha256": sha, "task_list_id": tl.id,
                                "replaced": old.id if old else None, "forced": bool(old and force),
                                "superseded_reports": sorted((r.unit_code, r.id) for r in superseded),
                                "tasks": [[t.code, t.name, str(t.points), t.dimension] for t in tasks]})
    return TaskSetResult(str(p), "replaced" if old else "created", version, sha, tasks,
                         sorted(r.unit_code for r in superseded))


def _next_version(session, month: str) -> int:
    last = session.exec(select(func.max(TaskList.version)).where(TaskList.month == month)).one()
    return (last or 0) + 1


def show_tasks(store: Store, month: str) -> dict[str, Any]:
    with store.read() as uow:
        tl = require_list(uow.session, month)
        tasks = list_tasks(uow.session, tl.id)
        history = uow.session.exec(select(TaskList).where(TaskList.month == month).order_by(TaskList.version)).all()
    return {"month": month, "version": tl.version, "sha256": tl.sha256, "source": tl.source,
            "full": float(from_x100(sum(t.points_x100 for t in tasks))),
            "tasks": [{"code": t.code, "name": t.name, "points": float(from_x100(t.points_x100)),
                       "dimension": t.dimension, "note": t.note} for t in tasks],
            "history": [{"version": h.version, "sha256": h.sha256, "active": h.active, "source": h.source,
                         "created_at": h.created_at.isoformat()} for h in history]}


def points_text(x100: int) -> str:
    return fmt(x100, 1)
