"""Scores from stored facts: plain sums in SQL, every deciding rule in domain/.

`month_rows` computes the monthly results of many months at once: self totals are summed in SQL per
report; only checked units' tasks come back row by row to go through the double-deduction rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select as sa_select
from sqlmodel import select

from djctl.domain.periods import month_active
from djctl.domain.points import to_float, to_x100
from djctl.domain.scheme import Scheme
from djctl.domain.scoring import TaskOutcome, monthly_rate, task_outcome
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


def month_rows(session, months: list[str], scheme: Scheme, units: list[Any] | None = None) -> dict[str, list[MonthRow]]:
    """month -> one row per unit (reported / missing / inactive), in unit-code order."""
    units = units if units is not None else unit_rows(session)
    fulls = full_points(session, months)
    # each report's total is stored at import (self_report.total_x100); a report without one (NULL) is summed
    # from its rows by a correlated subquery over the report_id index (COALESCE evaluates it only then)
    summed = sa_select(func.sum(SS.c.points_x100)).where(SS.c.report_id == SR.c.id).scalar_subquery()
    total = func.coalesce(SR.c.total_x100, summed)
    q = (sa_select(SR.c.id, SR.c.unit_code, SR.c.month, SR.c.task_list_id, total)
         .where(SR.c.month.in_(months), SR.c.active == True))  # noqa: E712
    reports: dict[tuple[str, str], tuple[int, int, int]] = {}
    for rid, unit_code, month, tl_id, total_x100 in session.connection().execute(q).all():
        if total_x100 is not None:  # a report without score rows counts as not reported (as the inner join did)
            reports[(unit_code, month)] = (rid, tl_id, int(total_x100))
    list_full = list_full_points(session, {v[1] for v in reports.values()})
    checks = check_outcomes(session, months, scheme)
    out: dict[str, list[MonthRow]] = {}
    plain = [(u.code, u.name, u.group_name, u.active_from, u.active_to) for u in units]
    for month in months:
        rows = []
        for code, name, group, active_from, active_to in plain:
            row = MonthRow(code, name, group, month, "inactive")
            if (active_from is not None or active_to is not None) and not month_active(month, active_from, active_to):
                rows.append(row)
                continue
            rep = reports.get((code, month))
            if rep is None:
                row.status = "missing"
                row.full_x100 = fulls.get(month, 0)
                row.rate = Decimal("0.00") if row.full_x100 else None
                rows.append(row)
                continue
            rid, tl_id, self_total = rep
            row.status, row.report_id, row.self_x100 = "reported", rid, self_total
            row.full_x100 = list_full.get(tl_id, fulls.get(month, 0))
            outcomes = checks.get((code, month))
            if outcomes:
                row.checked = True
                row.deduction_x100 = sum(o.deduction_x100 for o in outcomes)
                row.false_tasks = [o.task for o in outcomes if o.false]
                row.false = bool(row.false_tasks)
                # a check may find more than claimed: final follows the verified points
                row.final_x100 = self_total - sum(o.self_x100 - o.final_x100 for o in outcomes)
            else:  # most units in most months: not checked, final = self
                row.final_x100 = self_total
            row.rate = monthly_rate(row.final_x100, row.full_x100) if row.full_x100 else None
            rows.append(row)
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
