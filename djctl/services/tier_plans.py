"""整改提升计划 of branches rated 未达标: add a plan, report progress, list plans as of a date.

A plan belongs to a branch and is set on a business date, with the person responsible, the measures
and a target date. Progress reports are dated and appended (never edited); the one marked done closes
the plan on its date. As of any day a plan is 推进中, 已完成 or 已超期 (domain.problems.plan_state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import select

from djctl.domain.problems import PLAN_STATES, plan_state
from djctl.errors import InputError
from djctl.store.content import row_digests
from djctl.store.engine import Store, now
from djctl.store.tables import Branch, TierChange, TierPlan, TierPlanUpdate

MAX_TEXT = 2000


@dataclass(frozen=True)
class PlanView:
    id: int
    branch: str
    on_date: date
    responsible: str
    measures: str
    target_date: date
    updates: tuple[tuple[date, str, bool], ...]  # (date, progress, done), by date

    def done_on(self, as_of: date) -> date | None:
        return next((d for d, _p, done in self.updates if done and d <= as_of), None)

    def state(self, as_of: date) -> str:
        return plan_state(self.target_date, self.done_on(as_of), as_of)

    def latest(self, as_of: date) -> tuple[date, str] | None:
        seen = [(d, p) for d, p, _done in self.updates if d <= as_of]
        return seen[-1] if seen else None


def load_plans(session: Any) -> list[PlanView]:
    """Every plan with its updates, as plain data (the caller filters by date)."""
    ups: dict[int, list[tuple[date, str, bool]]] = {}
    for u in session.exec(select(TierPlanUpdate).order_by(TierPlanUpdate.on_date, TierPlanUpdate.id)):
        ups.setdefault(u.plan_id, []).append((u.on_date, u.progress, bool(u.done)))
    return [PlanView(p.id, p.branch_code, p.on_date, p.responsible, p.measures, p.target_date, tuple(ups.get(p.id, ())))
            for p in session.exec(select(TierPlan).order_by(TierPlan.id))]


def _tier_on(session: Any, branch: Branch, day: date) -> str | None:
    from djctl.services.tiers import tiers_at

    changes = session.exec(select(TierChange).where(TierChange.branch_code == branch.code)
                           .order_by(TierChange.on_date, TierChange.id)).all()
    return tiers_at(branch, list(changes), day)


def add_plan(store: Store, branch_code: str, *, on_date: date, responsible: str, measures: str,
             target_date: date) -> dict[str, Any]:
    responsible, measures = responsible.strip(), measures.strip()
    if not responsible or not measures:
        raise InputError("责任人和提升措施都不能为空")
    if len(measures) > MAX_TEXT or len(responsible) > 100:
        raise InputError(f"文本过长（措施上限 {MAX_TEXT} 字，责任人上限 100 字）")
    if target_date <= on_date:
        raise InputError(f"目标日期 {target_date.isoformat()} 应晚于制定日期 {on_date.isoformat()}")
    with store.write() as uow:
        s = uow.session
        b = s.exec(select(Branch).where(Branch.code == branch_code)).first()
        if b is None:
            raise InputError(f"找不到支部「{branch_code}」", hint="用 djctl org list --branches 查看编码")
        tier = _tier_on(s, b, on_date)
        if tier != "未达标":
            raise InputError(f"支部「{b.name}」在 {on_date.isoformat()} 的等次为「{tier or '未定级'}」，"
                             "整改提升计划只为未达标支部制定")
        open_plans = [p for p in load_plans(s) if p.branch == branch_code and p.state(on_date) != "done"]
        if open_plans:
            raise InputError(f"支部「{b.name}」已有未完成的整改提升计划（编号 {open_plans[0].id}）",
                             hint="用 djctl tier plan update 报告进展，完成后再制定新计划")
        p = TierPlan(branch_code=branch_code, on_date=on_date, responsible=responsible, measures=measures,
                     target_date=target_date, created_at=now())
        s.add(p)
        s.flush()
        uow.audit("tierplan.add", {"id": p.id, "branch": branch_code, "date": on_date.isoformat(),
                                   "target_date": target_date.isoformat(),
                                   "row_digests": row_digests(uow, tier_plan=[p.id])})
        view = next(v for v in load_plans(s) if v.id == p.id)
        return _json(view, {b.code: b.name}, on_date)


def update_plan(store: Store, plan_id: int, *, on_date: date, progress: str, done: bool) -> dict[str, Any]:
    progress = progress.strip()
    if not progress:
        raise InputError("进展情况不能为空")
    if len(progress) > MAX_TEXT:
        raise InputError(f"进展情况过长（{len(progress)} 字，上限 {MAX_TEXT}）")
    with store.write() as uow:
        s = uow.session
        p = s.get(TierPlan, plan_id)
        if p is None:
            raise InputError(f"没有编号为 {plan_id} 的整改提升计划", hint="用 djctl tier plan list 查看编号")
        if on_date < p.on_date:
            raise InputError(f"进展日期 {on_date.isoformat()} 早于计划制定日期 {p.on_date.isoformat()}")
        view = next(v for v in load_plans(s) if v.id == plan_id)
        if view.updates and view.updates[-1][2]:
            raise InputError(f"整改提升计划 {plan_id} 已于 {view.updates[-1][0].isoformat()} 完成")
        if view.updates and on_date < view.updates[-1][0]:
            raise InputError(f"进展日期 {on_date.isoformat()} 早于上一次进展（{view.updates[-1][0].isoformat()}）")
        u = TierPlanUpdate(plan_id=plan_id, on_date=on_date, progress=progress, done=done, created_at=now())
        s.add(u)
        s.flush()
        uow.audit("tierplan.update", {"id": u.id, "plan": plan_id, "date": on_date.isoformat(), "done": done,
                                      "row_digests": row_digests(uow, tier_plan_update=[u.id])})
        name = s.exec(select(Branch.name).where(Branch.code == p.branch_code)).first() or ""
        view = next(v for v in load_plans(s) if v.id == plan_id)
        return _json(view, {p.branch_code: name}, on_date)


def _json(p: PlanView, names: dict[str, str], as_of: date) -> dict[str, Any]:
    latest = p.latest(as_of)
    done_on = p.done_on(as_of)
    st = p.state(as_of)
    return {"id": p.id, "branch": p.branch, "name": names.get(p.branch, ""), "date": p.on_date.isoformat(),
            "responsible": p.responsible, "measures": p.measures, "target_date": p.target_date.isoformat(),
            "state": st, "state_cn": PLAN_STATES[st], "done_on": done_on.isoformat() if done_on else None,
            "latest": {"date": latest[0].isoformat(), "progress": latest[1]} if latest else None,
            "updates": [{"date": d.isoformat(), "progress": t, "done": k} for d, t, k in p.updates if d <= as_of]}


def list_plans(store: Store, as_of: date) -> dict[str, Any]:
    """Plans set on or before `as_of`, with their state then; and the 未达标 branches without one."""
    from djctl.services.tiers import tiers_at

    with store.read() as uow:
        s = uow.session
        plans = [p for p in load_plans(s) if p.on_date <= as_of]
        branches = s.exec(select(Branch).where(Branch.active == True).order_by(Branch.code)).all()  # noqa: E712
        changes: dict[str, list[TierChange]] = {}
        for c in s.exec(select(TierChange).order_by(TierChange.on_date, TierChange.id)):
            changes.setdefault(c.branch_code, []).append(c)
    names = {b.code: b.name for b in branches}
    below = [b.code for b in branches if tiers_at(b, changes.get(b.code, []), as_of) == "未达标"]
    summary = plan_summary(plans, below, as_of)
    return {"as_of": as_of.isoformat(), "plans": [_json(p, names, as_of) for p in plans], **summary,
            "without_plan_names": [names.get(c, c) for c in summary["without_plan"]]}


def plan_summary(plans: list[PlanView], below: list[str], as_of: date) -> dict[str, Any]:
    """How the 未达标 branches of `as_of` stand with their plans (for tier stats and the schedule)."""
    by_branch: dict[str, PlanView] = {}
    for p in plans:
        if p.on_date <= as_of:
            by_branch[p.branch] = p  # the latest plan of each branch
    states = {c: by_branch[c].state(as_of) for c in below if c in by_branch}
    return {"below_standard": len(below), "with_plan": len(states),
            "active": sum(1 for v in states.values() if v == "active"),
            "done": sum(1 for v in states.values() if v == "done"),
            "overdue": sum(1 for v in states.values() if v == "overdue"),
            "without_plan": sorted(c for c in below if c not in by_branch)}
