"""The problem list (问题清单): each item's category and severity, and the year's statistics as of a date.

Categories and severities are the scheme's words (`[rectify]`). An item is classified on a business date
(`rectify add --category`, `rectify classify`); the latest classification counts and older ones stay.
An item never classified is 未分类.

Rates (as of D, over the items found in year Y, D defaulting to 31 December of Y):

- due by D: the deadline in force on D is on or before D;
- 整改率 = items due by D that were closed by D ÷ items due by D;
- 按期整改率 = items due by D closed by D without ever being closed after the deadline then in force
  (`domain.rectify.closed_late`) ÷ items due by D.

Both are shares rounded half-up to 4 decimals (percent text with 2 decimals), None when nothing was due.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlmodel import select

from djctl.domain.problems import ItemAsOf, choose, rectification_tally
from djctl.domain.rectify import closed_late, state_at
from djctl.errors import DjctlError, InputError
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Rectification, RectificationTag

UNCLASSIFIED = "未分类"


def _rules(session: Any, year: int):
    from djctl.domain.scheme import Scheme
    from djctl.services.setup import load_scheme

    try:
        return load_scheme(session, year).rectify
    except DjctlError:
        return Scheme(year=year).rectify


def tag_item(uow: UnitOfWork, item_id: int, category: str, severity: str, on_date: date, note: str = "") -> int:
    """Classify one item inside the caller's transaction and audit it (`rectify.classify`); the tag's id."""
    tag_id = insert_tag(uow, item_id, category, severity, on_date, note)
    tag = uow.session.get(RectificationTag, tag_id)
    uow.audit("rectify.classify", {"id": item_id, "tag_id": tag_id, "category": tag.category, "severity": tag.severity,
                                   "date": on_date.isoformat(), "row_digests": row_digests(uow, rectification_tag=[tag_id])})
    return tag_id


def insert_tag(uow: UnitOfWork, item_id: int, category: str, severity: str, on_date: date, note: str = "") -> int:
    """Classify one item inside the caller's transaction, which audits it (an import names the tag in its own
    event); the words are checked against the scheme of the year the item was found in."""
    s = uow.session
    item = s.get(Rectification, item_id)
    if item is None:
        raise InputError(f"没有编号为 {item_id} 的整改事项", hint="用 djctl rectify list 查看编号")
    rules = _rules(s, (item.found_on or on_date).year)
    try:
        category = choose(category, rules.categories, "问题类别")
        severity = choose(severity, rules.severities, "严重程度") if severity else ""
    except ValueError as exc:
        raise InputError(str(exc), hint="类别与严重程度的列表见考核方案 [rectify]（djctl scheme show）") from None
    if item.found_on is not None and on_date < item.found_on:
        raise InputError(f"分类日期 {on_date.isoformat()} 早于问题发现日期 {item.found_on.isoformat()}")
    tag = RectificationTag(item_id=item_id, category=category, severity=severity, on_date=on_date, note=note.strip(),
                           created_at=now())
    s.add(tag)
    s.flush()
    return int(tag.id)


def classify(store: Store, item_ids: list[int], *, category: str, severity: str = "", on_date: date | None = None,
             note: str = "") -> list[dict[str, Any]]:
    """`djctl rectify classify`: one transaction for all the items named (all or nothing)."""
    if not item_ids:
        raise InputError("请指定至少一个整改事项编号")
    out = []
    with store.write() as uow:
        for i in item_ids:
            item = uow.session.get(Rectification, i)
            day = on_date or (item.found_on if item is not None and item.found_on else None)
            if day is None:
                raise InputError(f"没有编号为 {i} 的整改事项", hint="用 djctl rectify list 查看编号")
            tag_item(uow, i, category, severity, day, note)
            out.append({"id": i, "category": category.strip(), "severity": severity.strip(), "date": day.isoformat()})
    return out


def tags_at(session: Any, as_of: date) -> dict[int, tuple[str, str]]:
    """item id -> (category, severity) as classified on or before `as_of` (the latest counts)."""
    out: dict[int, tuple[str, str]] = {}
    for t in session.exec(select(RectificationTag).where(RectificationTag.on_date <= as_of)
                          .order_by(RectificationTag.on_date, RectificationTag.id)):
        out[t.item_id] = (t.category, t.severity)
    return out


def _tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rectification_tally(ItemAsOf(r["due_by"], r["closed"], r["late"], r["overdue"]) for r in rows)


def _item_rows(session: Any, year: int, as_of: date) -> list[dict[str, Any]]:
    from djctl.services.rectify import SOURCE_CN, changes_of

    items = list(session.exec(select(Rectification).where(Rectification.found_on >= date(year, 1, 1),
                                                          Rectification.found_on <= min(as_of, date(year, 12, 31)))
                              .order_by(Rectification.id)))
    changes = changes_of(session, [int(r.id) for r in items])
    tags = tags_at(session, as_of)
    from djctl.services.scores import unit_rows

    units = {u.code: u for u in unit_rows(session)}  # light rows: name, group_name
    branch_unit = dict(session.exec(select(Branch.code, Branch.unit_code)).all())
    rows = []
    for r in items:
        cs = [c for c in changes.get(int(r.id), []) if c.on_date <= as_of]
        st = state_at(cs, as_of)
        unit = r.org_code if r.org_kind == "unit" else branch_unit.get(r.org_code, "")
        u = units.get(unit)
        cat, sev = tags.get(int(r.id), (UNCLASSIFIED, ""))
        closed = st.status == "closed"
        rows.append({"id": r.id, "category": cat, "severity": sev, "source": SOURCE_CN.get(r.source, r.source),
                     "unit": unit, "unit_name": u.name if u else "", "group": u.group_name if u else "",
                     "due_by": st.due is not None and st.due <= as_of, "closed": closed,
                     "late": closed and closed_late(cs), "overdue": st.overdue, "reopened": st.reopened})
    return rows


def year_text(session: Any, year: int, as_of: date, lead: str = "") -> str:
    """One official sentence on the year's problem list as of a day (the bulletins quote it): found, by
    category (largest first), 整改率 and 按期整改率."""
    from djctl.services.docs_common import cn_date

    rows = _item_rows(session, year, as_of)
    if not rows:
        return f"{lead or f'{year}年以来'}未发现需要整改的问题。"
    t = _tally(rows)
    cats = Counter(r["category"] for r in rows if r["category"] != UNCLASSIFIED).most_common()
    text = f"{lead or f'{year}年以来'}共发现需要整改的问题 {t['items']} 项"
    if cats:
        text += "，其中" + "、".join(f"“{c}”方面 {n} 项" for c, n in cats[:4]) + ("等" if len(cats) > 4 else "")
    if t["due"]:
        text += (f"；截至{cn_date(as_of)}应完成整改 {t['due']} 项，已整改销号 {t['closed_due']} 项，整改率 {t['rate_text']}，"
                 f"按期整改率 {t['rate_on_time_text']}")
    else:
        text += f"，截至{cn_date(as_of)}均未到整改期限"
    return text + (f"；逾期未整改 {t['overdue']} 项。" if t["overdue"] else "。")


def rectify_stats(store: Store, year: int, as_of: date | None = None) -> dict[str, Any]:
    """`djctl rectify stats`: the year's problem list by category, source, unit and group, with 整改率 and
    按期整改率, and the count by category in this and the two previous years (as found by then)."""
    as_of = as_of or date(year, 12, 31)
    if as_of < date(year, 1, 1):
        raise InputError(f"截至日期 {as_of.isoformat()} 早于 {year} 年")
    with store.read() as uow:
        s = uow.session
        rules = _rules(s, year)
        rows = _item_rows(s, year, as_of)
        past = {y: _item_rows(s, y, date(y, 12, 31)) for y in (year - 2, year - 1)}
    order = list(rules.categories) + sorted({r["category"] for r in rows} - set(rules.categories) - {UNCLASSIFIED})
    order.append(UNCLASSIFIED)

    def grouped(key: str, keys: list[str] | None = None) -> list[dict[str, Any]]:
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by[r[key]].append(r)
        return [{key: k, **_tally(by[k])} for k in (keys or sorted(by)) if by.get(k)]

    by_unit = grouped("unit")
    names = {r["unit"]: r["unit_name"] for r in rows}
    for u in by_unit:
        u["name"] = names.get(u["unit"], "")
    years = [y for y in (year - 2, year - 1) if past[y]] + [year]
    counts = {y: Counter(r["category"] for r in (past[y] if y != year else rows)) for y in years}
    trend = [{"category": c, **{str(y): counts[y].get(c, 0) for y in years}} for c in order
             if any(counts[y].get(c, 0) for y in years)]
    return {"year": year, "as_of": as_of.isoformat(), "total": _tally(rows),
            "by_category": grouped("category", order), "by_source": grouped("source"),
            "by_unit": by_unit, "by_group": grouped("group"),
            "by_severity": grouped("severity", [*rules.severities, ""]),
            "years": years, "trend": trend, "categories": list(rules.categories)}


def quarter_closure_text(session: Any, start: date, end: date, period_word: str = "本季度") -> list[str]:
    """Official sentences on the quarter's returned feedback (整改台账, 已整改待核, 销号, 退回) and its re-check of
    closed items (整改“回头看”), each from the business-dated changes of the quarter; nothing when none."""
    from djctl.services.draws import find_history
    from djctl.services.rectify_recheck import results_of_draw
    from types import SimpleNamespace
    from djctl.store.tables import RectificationEvent

    def events(action: str) -> list[RectificationEvent]:
        return list(session.exec(select(RectificationEvent).where(
            RectificationEvent.action == action, RectificationEvent.on_date >= start, RectificationEvent.on_date <= end)))

    out = []
    fed = events("feedback")
    if fed:
        items = {int(e.item_id) for e in fed}
        rows = {int(r.id): r for r in session.exec(select(Rectification).where(Rectification.id.in_(sorted(items))))}
        branch_unit = {b.code: b.unit_code for b in session.exec(select(Branch))}
        units = {r.org_code if r.org_kind == "unit" else branch_unit.get(r.org_code, r.org_code) for r in rows.values()}
        confirmed = {int(e.item_id) for e in events("close")} & items
        returned = {int(e.item_id) for e in events("return")} & items
        states = {i: state_at([c for c in _changes(session, i) if c.on_date <= end], end) for i in items}
        pending = sum(1 for st in states.values() if st.status == "submitted")
        out.append(f"{period_word}收到 {len(units)} 个单位报送的问题整改台账，涉及整改事项 {len(items)} 项；经审核销号 {len(confirmed)} 项，"
                   f"退回重新整改 {len(returned)} 项" + (f"，尚待审核 {pending} 项。" if pending else "。"))

    uow = SimpleNamespace(session=session)  # the draw readers take a unit of work; they use only its session
    for year in sorted({start.year, end.year}):
        for d in find_history(uow, "recheck", str(year)):
            if not d.active or d.as_of is None or not start <= d.as_of <= end:
                continue
            res = results_of_draw(uow, d)
            fixed = sum(1 for r in res if r["result"] == "fixed")
            again = sum(1 for r in res if r["result"] == "reopened")
            todo = sum(1 for r in res if r["result"] == "pending")
            head = f"{period_word}对{year}年已销号的 {len(d.record.population)} 项整改事项开展整改“回头看”，公开随机抽取 {d.k} 项复查"
            if not fixed and not again:
                out.append(head + "，复查正在进行。")
                continue
            out.append(head + f"：整改到位 {fixed} 项，整改不到位重新打开 {again} 项（计为重复问题）"
                       + (f"，尚未复查 {todo} 项。" if todo else "。"))
    return out


def _changes(session: Any, item_id: int) -> list:
    from djctl.services.rectify import changes_of

    return changes_of(session, [item_id]).get(item_id, [])
