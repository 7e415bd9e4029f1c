"""The demo's bonus and deduction items."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from djctl.errors import DjctlError
from djctl.services.adjust import (
    BONUS,
    DEDUCTION,
    add_adjustment,
    import_adjustments,
    list_adjustments,
    revoke_adjustment,
)
from djctl.services.importing import REFUSED
from djctl.services.votes import active_units
from djctl.store.engine import Store


def demo_step(store: Store, ctx: Any) -> list[str]:
    """The year's bonus and deduction items: a workbook from the committee's files, one veto by hand,
    one item entered by mistake and revoked."""
    import random

    from djctl.io.adjust_xlsx import write_adjust_template

    y = ctx.year
    with store.read() as uow:
        units = {c: u.name for c, u in active_units(uow.session, y).items()}
    codes = sorted(units)
    rng = random.Random(f"djctl-demo-adjust-{y}")
    picks = rng.sample(codes, 9)
    star, prov, brand, promo, low1, low2, over, veto_unit, mistake = picks
    doc = f"示委发〔{y}〕"
    rows = [
        (star, units[star], y, "加分", 3, "获评全国先进基层党组织", f"中组发〔{y}〕7号", "否"),
        (star, units[star], y, "加分", 2, "党建品牌获评全市机关党建示范品牌", f"{doc}31号", "否"),
        (star, units[star], y, "加分", 1.5, "经验做法被省委组织部《组工信息》刊发推广", f"省组信〔{y}〕第45期", "否"),
        (prov, units[prov], y, "加分", 2, "获评省级先进基层党组织", f"{doc}12号", "否"),
        (brand, units[brand], y, "加分", 1, "党建与业务融合案例入选市级优秀案例", f"{doc}27号", "否"),
        (promo, units[promo], y, "加分", 0.5, "在全市机关党建工作会议上作经验交流", f"示机工〔{y}〕9号", "否"),
        (low1, units[low1], y, "减分", 2, "“三会一课”记录不全，抽查发现补记", f"示机工督〔{y}〕3号", "否"),
        (low2, units[low2], y, "减分", 1.5, "党费收缴不及时，未按期整改", f"示机工督〔{y}〕5号", "否"),
        (low2, units[low2], y, "减分", 1, "党建信息报送逾期两次", f"示机工办〔{y}〕14号", "否"),
        (over, units[over], y, "减分", 6, "巡察反馈党建问题整改不力", f"示巡反〔{y}〕2号", "否"),
        (over, units[over], y, "减分", 6.5, "上级党建督查通报批评", f"示委督〔{y}〕8号", "否"),
    ]
    book = write_adjust_template(ctx.dir / "inputs" / f"加减分项{y}.xlsx", rows)
    res = import_adjustments(store, book)
    if res.status == REFUSED:
        raise DjctlError(f"示范加减分项表导入失败：{res.message}")
    add_adjustment(store, veto_unit, year=y, kind=DEDUCTION, points=Decimal(0), veto=True,
                   reason="班子成员发生严重违纪问题，被给予党纪处分", basis=f"示纪通〔{y}〕6号")
    wrong = add_adjustment(store, mistake, year=y, kind=BONUS, points=Decimal(1), reason="获评市级文明单位",
                           basis=f"示文明委〔{y}〕2号")
    revoke_adjustment(store, wrong["id"], "文明单位评选不属于党建考核加分范围，误录")
    listing = list_adjustments(store, y)
    capped = [u["unit"] for u in listing["units"] if u["bonus_over_cap"] or u["deduction_over_cap"]]
    return [f"加减分项：导入 {res.rows} 项（{book}），一票否决 1 项（{veto_unit}），误录撤销 1 项",
            f"超过封顶按封顶计：{'、'.join(capped)}（加分封顶 {listing['caps']['bonus']:g}，减分封顶 {listing['caps']['deduction']:g}）"]
