"""Scores from stored facts: plain sums in SQL, every deciding rule in domain/.

`month_rows` computes the monthly results of many months at once: self totals are summed in SQL per
report; only checked units' tasks come back row by row to go through the double-deduction rule.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select as sa_select
from sqlmodel import select

from djctl.domain.periods import month_active
from djctl.domain.points import to_float, to_x100
from djctl.domain.scheme import Scheme
from djctl.domain.scoring import MonthResult, TaskOutcome, month_result, rate_of_x100, task_outcome
from djctl.store.tables import CheckReport, CheckScore, SelfReport, SelfScore, Task, TaskList, Unit

SR, SS, CR, CS, T, TL = (SelfReport.__table__, SelfScore.__table__, CheckReport.__table__, CheckScore.__table__,
                         Task.__table__, TaskList.__table__)


@dataclass(slots=True)
class MonthRow:
    unit: str
    name: str
    group: str
    month: str
    status: str  # reported / missing / inactive
    checked: bool = False
    false: bool = False
    self_x100: int = 0
    deduction_x100: int = 0
    final_x100: int = 0
    full_x100: int = 0
    rate: Decimal | None = None
    false_tasks: list[str] = field(default_factory=list)
    report_id: int | None = None
    rate_x100: int | None = None  # the rate in hundredths (as stored)

    def to_json(self) -> dict[str, Any]:
        counted = self.status != "inactive"
        return {"unit": self.unit, "name": self.name, "group": self.group, "status": self.status,
                "checked": self.checked, "false": self.false,
                "self": to_float(Decimal(self.self_x100) / 100) if counted else None,
                "deduction": to_float(Decimal(self.deduction_x100) / 100) if counted else None,
                "final": to_float(Decimal(self.final_x100) / 100) if counted else None,
                "full": to_float(Decimal(self.full_x100) / 100) if counted else None,
                "rate": to_float(self.rate) if self.rate is not None else None,
                "false_tasks": self.false_tasks}


def full_points(session, months: list[str]) -> dict[str, int]:
    """Full points of each month's current task list (months without a list are left out)."""
    q = (sa_select(TL.c.month, func.sum(T.c.points_x100)).select_from(TL.join(T, T.c.task_list_id == TL.c.id))
         .where(TL.c.month.in_(months), TL.c.active == True).group_by(TL.c.month))  # noqa: E712
    return {m: int(v) for m, v in session.connection().execute(q)}


def list_full_points(session, task_list_ids: set[int]) -> dict[int, int]:
    if not task_list_ids:
        return {}
    q = sa_select(T.c.task_list_id, func.sum(T.c.points_x100)).where(T.c.task_list_id.in_(task_list_ids)).group_by(T.c.task_list_id)
    return {i: int(v) for i, v in session.connection().execute(q)}


def check_outcomes(session, months: list[str], scheme: Scheme, unit: str | None = None) -> dict[tuple[str, str], list[TaskOutcome]]:
    """(unit, month) -> task outcomes of every checked task (active check reports only)."""
    q = (sa_select(CR.c.unit_code, CR.c.month, CS.c.task_code, CS.c.verified_x100, CS.c.false_flag,
                   SS.c.points_x100.label("self_x100"), T.c.points_x100.label("full_x100"))
         .select_from(CR.join(CS, CS.c.report_id == CR.c.id)
                      .join(SR, SR.c.id == CR.c.self_report_id)
                      .join(SS, and_(SS.c.report_id == SR.c.id, SS.c.task_code == CS.c.task_code))
                      .join(T, and_(T.c.task_list_id == SR.c.task_list_id, T.c.code == CS.c.task_code)))
         # a check made against a self report that was later replaced no longer counts (check status: 需重新核查)
         .where(CR.c.month.in_(months), CR.c.active == True, SR.c.active == True))  # noqa: E712
    if unit:
        q = q.where(CR.c.unit_code == unit)
    tol = to_x100(scheme.spot_check.tolerance)
    out: dict[tuple[str, str], list[TaskOutcome]] = defaultdict(list)
    for r in session.connection().execute(q.order_by(T.c.seq)):
        out[(r.unit_code, r.month)].append(task_outcome(
            task=r.task_code, full_x100=r.full_x100, self_x100=r.self_x100, verified_x100=r.verified_x100,
            false=r.false_flag, tolerance_x100=tol, multiplier=scheme.spot_check.false_multiplier))
    return out


def unit_rows(session) -> list[Any]:
    """Every unit as a light row (code, name, group_name, active_from, active_to), in code order.

    Scores read thousands of units at a time; plain rows cost a fraction of ORM objects (bench/run.py).
    Anything that takes `units` here accepts these rows or `Unit` objects alike.
    """
    u = Unit.__table__
    q = sa_select(u.c.code, u.c.name, u.c.group_name, u.c.active_from, u.c.active_to).order_by(u.c.code)
    return session.connection().execute(q).all()  # all(): one fetchall, not a fetch per row


def report_outcomes(conn, scheme: Scheme, report_ids: list[int]) -> dict[int, list[TaskOutcome]]:
    """self report id -> task outcomes of its active check (reports without one are left out)."""
    out: dict[int, list[TaskOutcome]] = defaultdict(list)
    if not report_ids:
        return out
    tol = to_x100(scheme.spot_check.tolerance)
    for i in range(0, len(report_ids), 500):
        q = (sa_select(CR.c.self_report_id, CS.c.task_code, CS.c.verified_x100, CS.c.false_flag,
                       SS.c.points_x100.label("self_x100"), T.c.points_x100.label("full_x100"))
             .select_from(CR.join(CS, CS.c.report_id == CR.c.id)
                          .join(SR, SR.c.id == CR.c.self_report_id)
                          .join(SS, and_(SS.c.report_id == SR.c.id, SS.c.task_code == CS.c.task_code))
                          .join(T, and_(T.c.task_list_id == SR.c.task_list_id, T.c.code == CS.c.task_code)))
             .where(CR.c.self_report_id.in_(report_ids[i:i + 500]), CR.c.active == True)  # noqa: E712
             .order_by(CR.c.self_report_id, T.c.seq))
        for r in conn.execute(q):
            out[r.self_report_id].append(task_outcome(
                task=r.task_code, full_x100=r.full_x100, self_x100=r.self_x100, verified_x100=r.verified_x100,
                false=r.false_flag, tolerance_x100=tol, multiplier=scheme.spot_check.false_multiplier))
    return out


def recompute_results(conn, scheme: Scheme, report_ids: list[int]) -> dict[int, MonthResult]:
    """Each report's month result computed from its rows (self scores, its task list, its active check):
    what `store_results` keeps and `audit verify` compares the stored result with."""
    if not report_ids:
        return {}
    out: dict[int, MonthResult] = {}
    outcomes = report_outcomes(conn, scheme, report_ids)
    summed = sa_select(func.sum(SS.c.points_x100)).where(SS.c.report_id == SR.c.id).scalar_subquery()
    for i in range(0, len(report_ids), 500):
        part = report_ids[i:i + 500]
        rows = conn.execute(sa_select(SR.c.id, SR.c.task_list_id, summed).where(SR.c.id.in_(part))).all()
        fulls = list_full_points_conn(conn, {r[1] for r in rows})
        for rid, tl_id, total in rows:
            out[rid] = month_result(int(total or 0), fulls.get(tl_id, 0), outcomes.get(rid, ()))
    return out


def result_values(res: MonthResult) -> dict[str, Any]:
    """The self_report columns of a month result."""
    return {"final_x100": res.final_x100, "rate_x100": res.rate_x100, "deduction_x100": res.deduction_x100,
            "checked": res.checked, "false_tasks": json.dumps(list(res.false_tasks), ensure_ascii=False)}


def result_json(res: MonthResult) -> dict[str, Any]:
    """A month result as audit payloads carry it."""
    return {"final_x100": res.final_x100, "rate_x100": res.rate_x100, "deduction_x100": res.deduction_x100,
            "checked": res.checked, "false_tasks": list(res.false_tasks)}


def store_results(conn, results: dict[int, MonthResult]) -> None:
    """Write month results into their self_report rows (the check, scheme change ... that changed them)."""
    for rid, res in results.items():
        conn.execute(SR.update().where(SR.c.id == rid).values(**result_values(res)))


def refresh_checked_results(conn, scheme: Scheme) -> int:
    """Recompute and store the result of every active report of the scheme's year that has an active check
    (a replaced scheme may change the double-deduction rule); the number of reports refreshed."""
    q = (sa_select(CR.c.self_report_id).join(SR, SR.c.id == CR.c.self_report_id)
         .where(CR.c.active == True, SR.c.active == True, SR.c.month.like(f"{int(scheme.year):04d}-%"))  # noqa: E712
         .distinct())
    ids = sorted(i for (i,) in conn.execute(q))
    store_results(conn, recompute_results(conn, scheme, ids))
    return len(ids)


def stored_results(conn) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """report id -> (month, unit, stored result as `result_json` gives it) of every active report with one."""
    q = (sa_select(SR.c.id, SR.c.month, SR.c.unit_code, SR.c.final_x100, SR.c.rate_x100, SR.c.deduction_x100,
                   SR.c.checked, SR.c.false_tasks)
         .where(SR.c.active == True, SR.c.final_x100.is_not(None)).order_by(SR.c.id))  # noqa: E712
    out = {}
    for rid, month, unit, final, rate, deduction, checked, false_tasks in conn.execute(q):
        try:
            tasks = json.loads(false_tasks) if false_tasks else []
        except ValueError:
            tasks = false_tasks
        out[rid] = (month, unit, {"final_x100": final, "rate_x100": rate, "deduction_x100": deduction,
                                  "checked": checked, "false_tasks": tasks})
    return out


def list_full_points_conn(conn, task_list_ids: set[int]) -> dict[int, int]:
    if not task_list_ids:
        return {}
    q = sa_select(T.c.task_list_id, func.sum(T.c.points_x100)).where(T.c.task_list_id.in_(task_list_ids)).group_by(T.c.task_list_id)
    return {i: int(v) for i, v in conn.execute(q)}


def _plain_rows(conn, q) -> list[tuple]:
    """The rows of a Core select of plain columns (integers, text) as the driver's tuples, without SQLAlchemy's
    row objects and result processing: a year's scores fetch 60,000 reports (booleans come back as 0/1)."""
    if conn.dialect.name != "sqlite":
        return [tuple(r) for r in conn.execute(q).all()]
    compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup]
    cursor = conn.connection.driver_connection.cursor()
    try:
        return cursor.execute(compiled.string, args).fetchall()
    finally:
        cursor.close()


@lru_cache(maxsize=None)
def _rate(value: int) -> Decimal:
    return rate_of_x100(value)


_NO_TASKS = "[]"


def month_rows(session, months: list[str], scheme: Scheme, units: list[Any] | None = None) -> dict[str, list[MonthRow]]:
    """month -> one row per unit (reported / missing / inactive), in unit-code order.

    A reported month reads the result stored with its report (self_report.final_x100 ..., migration 0004);
    a report without one (NULL) is computed from its rows and its check."""
    units = units if units is not None else unit_rows(session)
    conn = session.connection()
    fulls = full_points(session, months)
    # each report's total is stored at import (self_report.total_x100); a report without one (NULL) is summed
    # from its rows by a correlated subquery over the report_id index (COALESCE evaluates it only then)
    summed = sa_select(func.sum(SS.c.points_x100)).where(SS.c.report_id == SR.c.id).scalar_subquery()
    total = func.coalesce(SR.c.total_x100, summed)
    q = (sa_select(SR.c.id, SR.c.unit_code, SR.c.month, SR.c.task_list_id, total, SR.c.final_x100, SR.c.rate_x100,
                   SR.c.deduction_x100, SR.c.checked, SR.c.false_tasks)
         .where(SR.c.month.in_(months), SR.c.active == True))  # noqa: E712
    by_month: dict[str, dict[str, tuple]] = {m: {} for m in months}  # month -> unit -> report
    unstored: list[int] = []
    task_lists: set[int] = set()
    for r in _plain_rows(conn, q):
        if r[4] is not None:  # a report without score rows counts as not reported (as the inner join did)
            by_month[r[2]][r[1]] = r
            task_lists.add(r[3])
            if r[5] is None:
                unstored.append(r[0])
    list_full = list_full_points(session, task_lists)
    computed = recompute_results(conn, scheme, unstored) if unstored else {}
    out: dict[str, list[MonthRow]] = {}
    plain = [(u.code, u.name, u.group_name, u.active_from, u.active_to) for u in units]
    zero = Decimal("0.00")
    rate_of = _rate
    for month in months:
        rows = []
        append = rows.append
        month_full = fulls.get(month, 0)
        missing_rate, missing_x100 = (zero, 0) if month_full else (None, None)
        report_of = by_month[month].get
        last_list, last_full = None, month_full
        for code, name, group, active_from, active_to in plain:
            if (active_from is not None or active_to is not None) and not month_active(month, active_from, active_to):
                append(MonthRow(code, name, group, month, "inactive"))
                continue
            rep = report_of(code)
            if rep is None:
                append(MonthRow(code, name, group, month, "missing", False, False, 0, 0, 0, month_full, missing_rate,
                                [], None, missing_x100))
                continue
            rid, _, _, tl_id, self_total, final, rate, deduction, checked, false_tasks = rep
            if final is None:
                res = computed[rid]
                final, rate, deduction, checked = res.final_x100, res.rate_x100, res.deduction_x100, res.checked
                false_list = list(res.false_tasks)
            else:
                false_list = [] if false_tasks == _NO_TASKS or not false_tasks else json.loads(false_tasks)
            if tl_id != last_list:  # a month's reports share a task list or two
                last_list, last_full = tl_id, list_full.get(tl_id, month_full)
            append(MonthRow(code, name, group, month, "reported", bool(checked), bool(false_list), self_total,
                            deduction or 0, final, last_full,
                            None if rate is None else rate_of(rate), false_list, rid, rate))
        out[month] = rows
    return out


def month_detail(session, unit: Unit, month: str, scheme: Scheme) -> tuple[MonthRow, list[TaskOutcome], list[Task]]:
    """One unit's month, task by task (for explain)."""
    row = month_rows(session, [month], scheme, [unit])[month][0]
    outcomes: list[TaskOutcome] = []
    tasks: list[Task] = []
    if row.report_id is not None:
        rep = session.get(SelfReport, row.report_id)
        tasks = list(session.exec(select(Task).where(Task.task_list_id == rep.task_list_id).order_by(Task.seq)))
        selfs = {s.task_code: s for s in session.exec(select(SelfScore).where(SelfScore.report_id == rep.id))}
        checked = {o.task: o for o in check_outcomes(session, [month], scheme, unit.code).get((unit.code, month), [])}
        for t in tasks:
            if t.code in checked:
                outcomes.append(checked[t.code])
            else:
                outcomes.append(task_outcome(task=t.code, full_x100=t.points_x100, self_x100=selfs[t.code].points_x100))
    return row, outcomes, tasks
