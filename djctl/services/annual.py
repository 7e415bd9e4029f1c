"""Annual total and ranking (年总评、年排序): daily + democratic + capped bonus − capped deduction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import select

from djctl.domain.periods import Period, parse_year
from djctl.domain.points import fmt, to_float
from djctl.domain.ranking import assign_grades
from djctl.domain.scoring import (AnnualTotal, annual_total, democratic_text, mean_rate_text, mean_rate_x100,
                                  rate_of_x100)
from djctl.errors import InputError
from djctl.services.adjust import AdjustmentItem, adjustments_for_year
from djctl.services.ranking_table import ranks_with_groups
from djctl.services.scores import MonthRow, month_rows, unit_rows
from djctl.services.codes import resolve
from djctl.services.monthly import _num
from djctl.services.setup import load_scheme
from djctl.services.votes import votes_for_year
from djctl.store.engine import Store
from djctl.store.tables import Unit


@dataclass
class YearRow:
    unit: str
    name: str
    group: str
    months: dict[str, MonthRow]
    votes: dict[str, int] | None
    items: list[AdjustmentItem]
    total: AnnualTotal
    rank: int | None = None
    group_rank: int | None = None
    grade: str = ""
    grade_reason: str = ""
    active: bool = True

    @property
    def veto(self) -> bool:
        return any(i.veto for i in self.items)

    def to_json(self) -> dict[str, Any]:
        t = self.total
        return {"unit": self.unit, "name": self.name, "group": self.group,
                "daily": to_float(t.daily) if t.daily is not None else None,
                "democratic": to_float(t.democratic) if t.democratic is not None else None,
                "bonus": to_float(t.bonus_capped), "deduction": to_float(t.deduction_capped),
                "bonus_raw": to_float(t.bonus_raw), "deduction_raw": to_float(t.deduction_raw),
                "total": to_float(t.total) if self.active else None, "rank": self.rank, "group_rank": self.group_rank,
                "grade": self.grade, "veto": self.veto,
                # rate_x100 / 100 is the double nearest the 2-decimal rate, as to_float gives it
                "rates": {m: (r.rate_x100 / 100 if r.rate_x100 is not None and r.status != "inactive" else None)
                          for m, r in self.months.items()},
                "missing": [m for m, r in self.months.items() if r.status == "missing"],
                "false": [m for m, r in self.months.items() if r.false]}


def year_rows(session, y: Period, scheme, *, explain: bool = True) -> list[YearRow]:
    """Every unit's year, ranked and graded; `explain=False` skips the sentences of each total (`total.steps`)."""
    units = unit_rows(session)
    per_month = month_rows(session, y.months, scheme, units)
    votes = votes_for_year(session, y.year)
    items = adjustments_for_year(session, y.year)
    a = scheme.annual
    rows: list[YearRow] = []
    year_months = y.months
    for i, u in enumerate(units):
        months = {m: per_month[m][i] for m in year_months}
        counted = [r.rate_x100 for r in months.values() if r.status != "inactive" and r.rate_x100 is not None]
        active = bool(counted)
        its = items.get(u.code, [])
        daily = mean_rate_x100(counted)  # the stored rates in hundredths: mean_rate's rule on integers
        total = annual_total(
            daily=None if daily is None else rate_of_x100(daily),
            democratic=_democratic(votes.get(u.code), a.democratic_levels),
            bonus_x100_items=[x.points_x100 for x in its if x.kind == "bonus"],
            deduction_x100_items=[x.points_x100 for x in its if x.kind == "deduction"],
            weight_daily=a.weight_daily, weight_democratic=a.weight_democratic,
            bonus_cap=a.bonus_cap, deduction_cap=a.deduction_cap, explain=explain)
        rows.append(YearRow(u.code, u.name, u.group_name, months, votes.get(u.code), its, total, active=active))
    ranked = [r for r in rows if r.active]
    totals = {r.unit: r.total.total for r in ranked}
    grades = assign_grades(totals, a.grades, a.rest_grade, a.fail_grade, fail_below=a.fail_below,
                           vetoes=[r.unit for r in ranked if r.veto])
    overall, in_group = ranks_with_groups(totals, {r.unit: r.group for r in ranked})
    for r in ranked:
        g = grades[r.unit]
        r.rank, r.grade, r.grade_reason, r.group_rank = overall[r.unit], g.grade, g.reason, in_group[r.unit]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit))
    return rows


def _democratic(votes: dict[str, int] | None, levels) -> Decimal | None:
    from djctl.domain.scoring import democratic_score

    return democratic_score(votes, levels) if votes else None


def year_scores(store: Store, year: int | str) -> dict[str, Any]:
    y = parse_year(str(year))
    with store.read() as uow:
        scheme = load_scheme(uow.session, y.year)
        rows = year_rows(uow.session, y, scheme, explain=False)
    return {"period": str(y), "rows": [r.to_json() for r in rows]}


def explain_year(store: Store, unit_code: str, year: int | str) -> dict[str, Any]:
    """From each month's rate (with its checks) through the quarters to the total and the grade."""
    y = parse_year(str(year))
    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, y.year)
        unit_code = resolve(s, Unit.code, unit_code)  # a01 finds A01
        if s.exec(select(Unit).where(Unit.code == unit_code)).first() is None:
            raise InputError(f"找不到单位「{unit_code}」", hint="用 djctl org list 查看单位编码")
        rows = year_rows(s, y, scheme)
    row = next(r for r in rows if r.unit == unit_code)
    a = scheme.annual
    steps: list[dict[str, Any]] = []
    month_lines = []
    for m, r in row.months.items():
        if r.status == "inactive":
            month_lines.append(f"{m}：不在册，不计入平均")
        elif r.status == "missing":
            month_lines.append(f"{m}：未报送，按 0 计，得分率 0")
        else:
            note = ""
            if r.checked:
                note = f"；抽查核查扣减 {fmt(r.deduction_x100)}" + (f"，其中 {'、'.join(r.false_tasks)} 认定虚假（双倍扣分）" if r.false else "")
            month_lines.append(f"{m}：自评 {fmt(r.self_x100)}{note}，最终 {fmt(r.final_x100)} ÷ 满分 {fmt(r.full_x100)} × 100 = {fmt(r.rate)}")
    steps.append({"step": "月度得分率", "rule": "月度得分率 = 最终得分 ÷ 当月满分 × 100；抽查认定虚假的任务按虚假自评扣分倍数 "
                  f"{_num(scheme.spot_check.false_multiplier)} 扣分（见考核方案）", "lines": month_lines})
    q_lines = []
    for qi in range(1, 5):
        months = [f"{y.year}-{m:02d}" for m in range(3 * qi - 2, 3 * qi + 1)]
        rates = [row.months[m].rate for m in months if row.months[m].status != "inactive" and row.months[m].rate is not None]
        q_lines.append(f"第{'一二三四'[qi - 1]}季度：{mean_rate_text(rates)}")
    steps.append({"step": "季度得分", "rule": "季度得分 = 本季度各月得分率的平均（不在册的月份不计）", "lines": q_lines})
    counted = [r.rate for r in row.months.values() if r.status != "inactive" and r.rate is not None]
    steps.append({"step": "日常考核得分", "rule": "日常考核得分 = 全年各月得分率的平均", "lines": [mean_rate_text(counted)]})
    steps.append({"step": "民主测评得分", "rule": "民主测评得分 = Σ 票数 × 档次分值 ÷ 总票数（档次分值："
                  + "、".join(f"{k} {fmt(v)}" for k, v in a.democratic_levels.items()) + "）",
                  "lines": [democratic_text(row.votes, a.democratic_levels) if row.votes else "无测评票，按 0 计"]})
    item_lines = [f"#{i.id} {'加分' if i.kind == 'bonus' else '减分'} {fmt(i.points_x100)}：{i.reason}（依据：{i.basis}）"
                  + ("【一票否决】" if i.veto else "") for i in row.items] or ["无加分项、减分项"]
    steps.append({"step": "加分项与减分项", "rule": f"加分封顶 {fmt(a.bonus_cap)}，减分封顶 {fmt(a.deduction_cap)}，见考核方案", "lines": item_lines})
    steps.append({"step": "年度总分", "rule": f"年度总分 = {fmt(a.weight_daily)} × 日常 + {fmt(a.weight_democratic)} × 民主测评 + min(加分, 封顶) − min(减分, 封顶)；"
                  f"日常考核权重 {fmt(a.weight_daily)}、民主测评权重 {fmt(a.weight_democratic)}，见考核方案",
                  "lines": row.total.steps})
    steps.append({"step": "排名与等次", "rule": "总分相同（保留两位小数）名次并列，下一名次顺延；一票否决或低于 "
                  f"{fmt(a.fail_below)} 分为「{a.fail_grade}」",
                  "lines": [f"总分 {fmt(row.total.total)}，第 {row.rank} 名（{row.group} 第 {row.group_rank} 名）"
                            if row.rank else "全年不在册，不参加排名", row.grade_reason or ""]})
    return {"unit": row.unit, "name": row.name, "period": str(y), "row": row.to_json(), "steps": steps}
