"""Monthly views: the month's scores table and a unit's month explained task by task."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import select

from djctl.domain.periods import parse_month
from djctl.domain.points import fmt
from djctl.errors import InputError
from djctl.services.codes import resolve
from djctl.services.scores import MonthRow, month_detail, month_rows
from djctl.services.setup import load_scheme
from djctl.store.engine import Store
from djctl.store.tables import Draw, Task, Unit


def sort_rows(rows: list[MonthRow]) -> list[MonthRow]:
    order = {"reported": 0, "missing": 1, "inactive": 2}
    return sorted(rows, key=lambda r: (order[r.status], -(r.rate if r.rate is not None else Decimal(-1)), r.unit))


def month_scores(store: Store, month: str) -> dict[str, Any]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, p.year)
        rows = month_rows(s, [str(p)], scheme)[str(p)]
        drawn = s.exec(select(Draw).where(Draw.kind == "sample", Draw.period == str(p), Draw.active == True)).first()  # noqa: E712
    rows = sort_rows(rows)
    return {"period": str(p), "drawn": drawn is not None, "rows": [r.to_json() for r in rows]}


def rule_lines(scheme, checked: bool, false: bool) -> list[str]:
    """Where the factors of a month's figures come from, in the words of the scheme people hold."""
    sc = scheme.spot_check
    where = f"见考核方案「{scheme.name}」" if scheme.name else "见考核方案"
    out = []
    if checked:
        out.append(f"核查得分低于自评得分超过 {_num(sc.tolerance)} 分即认定为虚假自评（核查容差 {_num(sc.tolerance)}，{where}）")
    if false:
        out.append(f"虚假自评扣分倍数 {_num(sc.false_multiplier)}：最终得分 = 自评得分 − {_num(sc.false_multiplier)} × 多报分数，"
                   f"最低为 0（{where}）")
    if not checked:
        out.append("本月未抽中或尚未核查：最终得分等于自评得分")
    return out


def _num(value: Any) -> str:
    text = format(value, "f") if hasattr(value, "as_tuple") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def explain_month(store: Store, unit_code: str, month: str) -> dict[str, Any]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, p.year)
        unit_code = resolve(s, Unit.code, unit_code)  # a01 finds A01
        unit = s.exec(select(Unit).where(Unit.code == unit_code)).first()
        if unit is None:
            raise InputError(f"找不到单位「{unit_code}」", hint="用 djctl org list 查看单位编码")
        row, outcomes, tasks = month_detail(s, unit, str(p), scheme)
    names = {t.code: t.name for t in tasks}
    lines: list[str] = []
    if row.status == "inactive":
        lines.append(f"{unit.code} {unit.name} {p.label}不在册（启用/撤销日期之外），不计入平均。")
    elif row.status == "missing":
        lines.append(f"{p.label}未报送自评：按 0 分计，月度得分率 0（未报送按 0 分计，见考核方案「{scheme.name}」）。")
    else:
        for o in outcomes:
            lines.append(f"{o.task} {names.get(o.task, '')}：{o.formula}")
        lines.append(f"自评合计 {fmt(row.self_x100)}，核查扣减 {fmt(row.deduction_x100)}，最终得分 {fmt(row.final_x100)}")
        lines.append(f"月度得分率 = {fmt(row.final_x100)} ÷ {fmt(row.full_x100)} × 100 = {fmt(row.rate) if row.rate is not None else '—'}")

    return {
        "unit": unit.code, "name": unit.name, "period": str(p), "status": row.status, "checked": row.checked,
        "false": row.false,
        "tasks": [{"task": o.task, "name": names.get(o.task, ""), "full": float(o.full_x100) / 100,
                   "self": o.self_x100 / 100, "verified": None if o.verified_x100 is None else o.verified_x100 / 100,
                   "false": o.false, "deduction": o.deduction_x100 / 100, "final": o.final_x100 / 100,
                   "formula": o.formula} for o in outcomes],
        "row": row.to_json(), "steps": lines,
        "rules": rule_lines(scheme, row.checked, row.false) if row.status == "reported" else [],
    }


def task_names(session, task_list_id: int) -> dict[str, str]:
    return {t.code: t.name for t in session.exec(select(Task).where(Task.task_list_id == task_list_id))}
