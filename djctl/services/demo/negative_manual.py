"""The demo year's entry put on the negative list by decision (经研究列入, issue 18): one unit whose
组织生活 problems kept coming back, decided at the committee's December meeting, before the list is built."""

from __future__ import annotations

from datetime import date
from typing import Any

from djctl.store.engine import Store


def _pick_unit(store: Store, year: int) -> str | None:
    """The unit with the most rectification items found in the year among those the rules do not put on the
    list (ties: by code); None when there is no such unit."""
    from sqlmodel import select

    from djctl.services.negative import compute
    from djctl.store.tables import Rectification, Unit

    with store.read() as uow:
        s = uow.session
        listed = {f.code for f in compute(s, year) if f.kind == "unit"}
        counts: dict[str, int] = {}
        for r in s.exec(select(Rectification).where(Rectification.org_kind == "unit",
                                                    Rectification.found_on >= date(year, 1, 1),
                                                    Rectification.found_on <= date(year, 12, 31))):
            counts[r.org_code] = counts.get(r.org_code, 0) + 1
        units = [u.code for u in s.exec(select(Unit).order_by(Unit.code)) if u.code not in listed]
    if not units:
        return None
    return sorted(units, key=lambda c: (-counts.get(c, 0), c))[0]


def demo_step(store: Store, ctx: Any) -> list[str]:
    """Add the entry (下年度必抽 and 专项督查), dated 20 December of the demo year."""
    from djctl.services.negative_manual import add_entry

    y = ctx.year
    code = _pick_unit(store, y)
    if code is None:
        return ["没有可经研究列入负面清单的单位"]
    doc = add_entry(store, code, year=y, on_date=date(y, 12, 20), basis=f"示机工〔{y}〕27号",
                    reason="组织生活不严肃，“三会一课”记录事后补写，主题党日活动流于形式，经督促整改后仍反复出现",
                    consequences=["下年度必抽", "专项督查"])
    return [f"经研究列入{y}年度负面清单：{doc['name']}（{'、'.join(doc['consequences'])}，依据{doc['basis']}）"]
