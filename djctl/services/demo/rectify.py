"""The demo's rectification items worked through on their 2024 dates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from djctl.services.rectify import add, close, list_items, reopen, update, write_forms
from djctl.store.engine import Store
from djctl.store.tables import Unit

DEMO_INSPECTIONS = (
    ("党费收缴台账不完整，部分月份无收缴记录", "2024-05-31"),
    ("“三会一课”记录不规范，党课无专题内容", "2024-08-31"),
    ("主题党日活动流于形式，缺少活动方案和总结", "2024-10-31"),
)


def demo_step(store: Store, ctx: Any) -> list[str]:
    """Work through the year's items on their 2024 dates, in the order they were found (every fourth alike):
    closed on time; in progress, then closed after the deadline; closed, reopened on re-check and closed again
    (late); in progress and left open. No change is dated after 20 December; what would fall later stays open.

    Runs after the spot-check and look-back steps; when they created no items, three 督导检查 items are
    added first (found 30 days before their deadlines). Feedback forms of the items open at the year's end
    are written to ctx.dir / "文书" / "整改反馈单".
    """
    year = ctx.year
    end = date(year, 12, 31)
    last = date(year, 12, 20)
    existing = list_items(store, as_of=end)["items"]
    added = 0
    if not existing:
        with store.read() as uow:
            units = uow.session.exec(select(Unit).order_by(Unit.code)).all()
        picks = [units[(2 + 7 * i) % len(units)] for i in range(len(DEMO_INSPECTIONS))] if units else []
        for (problem, due), u in zip(DEMO_INSPECTIONS, picks, strict=False):
            d = date.fromisoformat(due)
            add(store, u.code, problem, "inspection", d, source_ref=f"{year}年党建督导检查", found_on=d - timedelta(days=30))
            added += 1
        existing = list_items(store, as_of=end)["items"]
    todo = sorted((i for i in existing if i["status"] != "closed"), key=lambda i: (i["found_on"], i["id"]))
    on_time = late = reopened = progress = 0
    done = "已按要求完成整改，相关台账和佐证材料已补齐。"
    for n, item in enumerate(todo):
        rid, found, due = item["id"], date.fromisoformat(item["found_on"]), date.fromisoformat(item["due"])
        role = n % 4
        if role == 0:
            close(store, rid, feedback=done, on_date=max(found, min(found + timedelta(days=20), due)))
            on_time += 1
        elif role == 1:
            update(store, rid, status="in_progress", feedback="已制定整改方案，正在落实。", on_date=found + timedelta(days=7))
            if due + timedelta(days=25) <= last:
                close(store, rid, feedback=done, on_date=due + timedelta(days=25))
                late += 1
            else:
                progress += 1
        elif role == 2:
            first = max(found, min(found + timedelta(days=15), due))
            close(store, rid, feedback="已整改，报送整改反馈单。", on_date=first)
            reopen(store, rid, on_date=first + timedelta(days=10), reason="复查发现整改不到位，台账仍不完整",
                   due=first + timedelta(days=30))
            reopened += 1
            if first + timedelta(days=45) <= last:
                close(store, rid, feedback=done, on_date=first + timedelta(days=45))
        else:
            update(store, rid, status="in_progress", feedback="已制定整改方案，正在落实。", on_date=found + timedelta(days=10))
            progress += 1
    paths = write_forms(store, ctx.dir / "文书" / "整改反馈单", open_only=True, as_of=end)
    ctx.files.extend(paths)
    c = list_items(store, as_of=end)["counts"]
    lines = []
    if added:
        lines.append(f"新增督导检查整改事项 {added} 项")
    lines.append(f"整改事项 {len(existing)} 项：按期销号 {on_time} 项，逾期后销号 {late} 项，销号后复查重新打开 {reopened} 项；"
                 f"截至 {end.isoformat()} 未销号 {c['open'] + c['in_progress'] + c['submitted']} 项，其中逾期 {c['overdue']} 项")
    lines.append(f"问题整改反馈单 {len(paths)} 份（{ctx.dir / '文书' / '整改反馈单'}）")
    return lines
