"""The demo year's accountability measures and 整改提升计划 (issue 18): dated 2024 facts, as a committee
would record them after the rectification items fell due."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from djctl.store.engine import Store

#: the demo's rule of thumb for classifying its items by their wording (a committee classifies by hand)
_KEYWORDS = (("党费", "党费管理"), ("三会一课", "组织生活"), ("主题党日", "组织生活"), ("组织生活", "组织生活"),
             ("支部委员", "组织设置"), ("换届", "组织设置"), ("发展党员", "队伍建设"), ("党员教育", "队伍建设"),
             ("台账", "基础保障"), ("信息报送", "基础保障"), ("主体责任", "责任落实"), ("学习", "责任落实"),
             ("融合", "作用发挥"), ("服务", "作用发挥"))


def category_of(text: str) -> str:
    """The demo's category for a problem text (its keyword rule)."""
    return next((c for k, c in _KEYWORDS if k in text), "制度执行")


def classify_items(store: Store, year: int) -> list[str]:
    """Classify every item of the year by its wording; overdue ones at year end are 较重."""
    from djctl.services.rectify import list_items
    from djctl.services.rectify_stats import classify, rectify_stats, tags_at

    items = list_items(store, as_of=date(year, 12, 31))["items"]
    with store.read() as uow:
        tagged = tags_at(uow.session, date(year, 12, 31))  # classified on the worksheet already
    groups: dict[tuple[str, str], list[int]] = {}
    for i in items:
        if i["id"] in tagged:
            continue
        cat = category_of(i["problem"])
        groups.setdefault((cat, "较重" if i["overdue"] else "一般"), []).append(i["id"])
    for (cat, sev), ids in sorted(groups.items()):
        classify(store, ids, category=cat, severity=sev)
    st = rectify_stats(store, year)
    t = st["total"]
    top = sorted(st["by_category"], key=lambda c: -c["items"])[:3]
    return [f"问题清单：{t['items']} 项问题归入 {len(st['by_category'])} 类（" + "，".join(
        f"{c['category']} {c['items']} 项" for c in top) + f"……），整改率 {t['rate_text']}，按期整改率 {t['rate_on_time_text']}"]


def demo_step(store: Store, ctx: Any) -> list[str]:
    from djctl.services.actions import add_action, list_actions
    from djctl.services.rectify import list_items
    from djctl.services.tier_plans import add_plan, list_plans, update_plan

    y = ctx.year
    lines = classify_items(store, y)
    items = sorted((i for i in list_items(store)["items"] if i["kind"] == "unit"), key=lambda i: (i["due"], i["id"]))
    first_per_unit: list[dict[str, Any]] = []
    for i in items:
        if all(i["org"] != f["org"] for f in first_per_unit):
            first_per_unit.append(i)
    # three measures after the items they answer fell due: a reminder talk with a secretary, a formal talk,
    # a circulated criticism with a deduction (seed 004: 提醒谈话 over dues, 约谈, 通报批评)
    plan = [("提醒谈话", True, None, "整改事项未按期销号，督促书记履行第一责任人职责"),
            ("约谈", True, None, "同类问题整改进展缓慢"),
            ("通报批评", False, "1", "整改事项逾期未完成，经提醒仍未整改到位")]
    made = 0
    for (kind, secretary, deduct, reason), item in zip(plan, first_per_unit, strict=False):
        day = min(date.fromisoformat(item["due"]) + timedelta(days=10), date(y, 12, 20))
        add_action(store, item["org"], kind=kind, on_date=day, reason=reason, basis=f"示机工纪〔{y}〕{made + 1}号",
                   target="secretary" if secretary else "unit", taken_by="工委副书记", items=(item["id"],),
                   deduct=Decimal(deduct) if deduct else None)
        made += 1
    if made:
        doc = list_actions(store, y)
        lines.append(f"问责措施 {made} 项：" + "，".join(f"{c['kind']} {c['count']} 次" for c in doc["counts"]))
    # 整改提升计划 for the branches still 未达标 in July; one done in October, one reported in September
    july = date(y, 7, 1)
    without = list_plans(store, july)["without_plan"][:3]
    ids = [add_plan(store, code, on_date=july, responsible="支部书记", measures="补齐支部委员，规范“三会一课”记录，"
                    "完成党费收缴台账整改", target_date=date(y, 11, 30))["id"] for code in without]
    if ids:
        update_plan(store, ids[0], on_date=date(y, 10, 15), progress="支委已补齐，三会一课记录规范，申请验收", done=True)
    if len(ids) > 1:
        update_plan(store, ids[1], on_date=date(y, 9, 30), progress="已补选一名支部委员，党费台账正在整理", done=False)
    if ids:
        end = list_plans(store, date(y, 12, 31))
        lines.append(f"未达标支部整改提升计划 {len(ids)} 个：年底已完成 {end['done']} 个，推进中 {end['active']} 个，"
                     f"已超期 {end['overdue']} 个")
    return lines or ["没有需要问责或制定整改提升计划的对象"]
