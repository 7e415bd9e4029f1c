"""The demo year's third-quarter feedback letters and two units' returned 整改台账 (issue 18).

A 督导检查 in September finds four problems in three units (one of a branch); the letters go out as of
30 September to every unit with open items; two units fill in their ledger as a unit would (openpyxl on the
generated file) and it is imported as received on 25 October; on 30 October the committee confirms one
item (销号, within its deadline) and returns another (退回) with a reason; the rest stay 已整改待核."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from typing import Any

from djctl.store.engine import Store

#: (problem, category, branch item?, deadline month-day) of the September 督导检查, per unit picked
INSPECTION = (("党组（党委）理论学习中心组学习记录不完整，缺少研讨发言材料", "责任落实", False, "10-31"),
              ("“三会一课”台账未按月归档，部分党课没有记录", "组织生活", True, "10-31"),
              ("党费收缴基数未按规定核定，个别党员少交党费", "党费管理", False, "11-15"),
              ("主题党日活动缺少方案和总结，活动流于形式", "组织生活", False, "11-15"))
MEASURES = "召开专题会议研究整改，逐项对照问题制定整改方案，补齐相关台账和记录，建立按月检查的长效机制。"
RESULT = "问题已整改到位，相关台账、会议记录已补齐并归档。"


def _fill(path: Any, ids: set[int], found: dict[int, date], received: date, person: str) -> int:
    """Fill the rows of `ids` like a unit's party office would; the other rows stay empty (not done yet)."""
    import openpyxl

    from djctl.io.feedback_xlsx import HEADER_ROW, SHEET

    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    filled = 0
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        item = row[0].value
        if not isinstance(item, int) or item not in ids:
            continue
        done = max(found[item], received - timedelta(days=7))
        for cell, value in zip(row[2:7], (MEASURES, RESULT, person, done, f"整改方案_{item}.pdf、台账照片_{item}.jpg")):
            cell.value = value
        filled += 1
    wb.save(path)
    return filled


def demo_step(store: Store, ctx: Any) -> list[str]:
    from djctl.domain.periods import parse_period
    from djctl.services.rectify import changes_of, close, reopen
    from djctl.services.rectify_feedback import import_files, write_letters
    from djctl.store.tables import Rectification

    y = ctx.year
    received, decided = date(y, 10, 25), date(y, 10, 30)
    found = _inspect(store, y)
    doc = write_letters(store, parse_period(f"{y}Q3"), ctx.dir / "文书" / "整改反馈函",
                        templates=getattr(ctx, "templates", None))
    for x in doc["letters"]:
        ctx.files.extend([x["letter"], x["ledger"]])
    lines = [f"{y}年9月督导检查发现问题 {found} 个（3 个单位）；{y}年第三季度问题整改反馈函 {len(doc['letters'])} 份（各附问题整改台账），列出未销号问题 {doc['items']} 个"]
    ids = [i for x in doc["letters"] for i in x["items"]]
    with store.read() as uow:
        changes = changes_of(uow.session, ids)
        items = {int(r.id): r for r in uow.session.exec(select_items(Rectification, ids))}
    # what a unit can report on 25 October: items still open whose last change came before it
    ready = {i for i in ids if items[i].status != "closed" and max(c.on_date for c in changes[i]) <= received}
    back = ctx.dir / "inputs" / "整改台账回收"
    back.mkdir(parents=True, exist_ok=True)
    returned: list[int] = []
    for x in [x for x in doc["letters"] if ready & set(x["items"])][:2]:
        target = back / x["ledger"].rsplit("/", 1)[-1]
        shutil.copyfile(x["ledger"], target)
        mine = ready & set(x["items"])
        _fill(target, mine, {i: items[i].found_on for i in mine}, received, f"{x['secretary'] or '书记'}、党办主任")
        returned.extend(sorted(mine))
    if not returned:
        return lines
    results = import_files(store, [back], on_date=received)
    lines.append(f"回收问题整改台账 {len(results)} 份，{sum(1 for r in results if r.status == 'imported')} 份导入，"
                 f"{len(returned)} 个问题改为已整改待核")
    close(store, returned[0], on_date=decided)
    if len(returned) > 1:
        reopen(store, returned[1], on_date=decided, reason="佐证材料不足，整改台账仍缺少近三个月的记录，退回重新整改")
    lines.append(f"审核：#{returned[0]} 销号" + (f"，#{returned[1]} 退回重新整改" if len(returned) > 1 else "")
                 + (f"，其余 {len(returned) - 2} 个待核" if len(returned) > 2 else ""))
    return lines


def _inspect(store: Store, year: int) -> int:
    """The September 督导检查: four classified items in three units with secretaries (one of a branch)."""
    from sqlmodel import select

    from djctl.services.rectify import add
    from djctl.store.tables import Branch, Unit

    with store.read() as uow:
        units = [u for u in uow.session.exec(select(Unit).order_by(Unit.code)) if u.secretary][4::9][:3]
        branch = {b.unit_code: b.code for b in uow.session.exec(select(Branch).order_by(Branch.code.desc()))}
    picks = [units[0], units[0], units[1], units[2]] if len(units) == 3 else []
    for (problem, category, of_branch, due), u in zip(INSPECTION, picks):
        org = branch.get(u.code, u.code) if of_branch else u.code
        add(store, org, problem, "inspection", date.fromisoformat(f"{year}-{due}"), source_ref=f"{year}年第三季度党建督导检查",
            found_on=date(year, 9, 12), category=category, severity="一般")
    return len(picks)


def select_items(model: Any, ids: list[int]) -> Any:
    from sqlmodel import select

    return select(model).where(model.id.in_(ids))
