"""The demo's mid-year 验收: branches move up a tier from an imported workbook."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import select

from djctl.domain.tiers import TIERS
from djctl.errors import DjctlError
from djctl.services.tiers import import_tiers, tier_stats
from djctl.store.engine import Store
from djctl.store.tables import Branch

DEMO_UPGRADES = (("未达标", 3, "2024-06-28"), ("达标", 6, "2024-06-28"), ("过硬", 2, "2024-07-26"))


def demo_step(store: Store, ctx: Any) -> list[str]:
    """The demo's mid-year 验收: a few branches of each tier move up one tier, imported from a workbook."""
    from djctl.io.tier_xlsx import write_results_workbook

    with store.read() as uow:
        branches = uow.session.exec(select(Branch).where(Branch.active == True).order_by(Branch.code)).all()  # noqa: E712
    rows = []
    for tier, n, day in DEMO_UPGRADES:
        picked = [b for b in branches if b.tier == tier][::5][:n]
        for b in picked:
            to = TIERS[TIERS.index(tier) + 1]
            rows.append([b.code, b.name, to, date.fromisoformat(day), f"{ctx.year}年上半年支部分类定级验收"])
    path = write_results_workbook(ctx.dir / "inputs" / f"{ctx.year}年支部等次验收结果.xlsx", rows)
    res = import_tiers(store, path)
    if res.status == "refused":
        raise DjctlError(f"示范等次验收结果导入失败：{res.message}")
    doc = tier_stats(store, ctx.year)
    return [f"支部等次验收：{res.extra.get('changed', 0)} 个支部晋升一级（{path.name}）",
            f"{ctx.year} 年底达标率 {doc['rate_standard_text']}，过硬率 {doc['rate_strong_text']}"]
