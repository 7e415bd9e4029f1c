"""Rectification items (整改事项): add, list, update, close, overdue, feedback forms.

Every item carries business dates: the day the problem was found (`found_on`), its deadline, and one
`rectification_event` per change of status or deadline, each effective on its own date (found, progress,
close, reopen, extend). Reports ask `djctl.domain.rectify.state_at` how an item stood on their as-of day:
open at D = found by D and not closed by D; overdue at D = open at D with its deadline (as it stood on D)
before D. The wall clock only stamps the audit events; every change also appends one, with the old and the
new status, feedback and closing date.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.rectify import ACTION_CN, Change, StateAt, closed_late, state_at
from djctl.domain.textclean import clean_long_text
from djctl.errors import InputError
from djctl.io.outfile import inside, safe_part, staged_dir
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Rectification, RectificationEvent, Unit

SOURCES: tuple[str, ...] = ("spotcheck", "lookback", "inspection")
SOURCE_CN = {"spotcheck": "月度抽查", "lookback": "回头看", "inspection": "督导检查"}
STATUSES: tuple[str, ...] = ("open", "in_progress", "submitted", "closed")
STATUS_CN = {"open": "未整改", "in_progress": "整改中", "submitted": "已整改待核", "closed": "已销号"}
ORG_KINDS: tuple[str, ...] = ("unit", "branch")
ORG_KIND_CN = {"unit": "考核单位", "branch": "党支部"}
MAX_PROBLEM = 2000
MAX_FEEDBACK = 5000

_SOURCE_ALIASES = {**{v: k for k, v in SOURCE_CN.items()}, "抽查": "spotcheck", "检查": "inspection", "督查": "inspection"}
_STATUS_ALIASES = {**{v: k for k, v in STATUS_CN.items()}, "已整改": "closed", "关闭": "closed", "整改完成": "closed",
                   "待核": "submitted", "待核实": "submitted"}


def normalize_source(value: str) -> str:
    v = (value or "").strip()
    v = _SOURCE_ALIASES.get(v, v)
    if v not in SOURCES:
        raise ValueError(f"问题来源「{value}」无效，应为 {' / '.join(f'{s}（{SOURCE_CN[s]}）' for s in SOURCES)} 之一")
    return v


def normalize_status(value: str) -> str:
    v = (value or "").strip()
    v = _STATUS_ALIASES.get(v, v)
    if v not in STATUSES:
        raise ValueError(f"状态「{value}」无效，应为 {' / '.join(f'{s}（{STATUS_CN[s]}）' for s in STATUSES)} 之一")
    return v


def changes_of(session, item_ids: list[int] | None = None) -> dict[int, list[Change]]:
    """item id -> its changes (business-dated), from `rectification_event`; all items when `item_ids` is None."""
    q = select(RectificationEvent)
    if item_ids is not None:
        if not item_ids:
            return {}
        q = q.where(RectificationEvent.item_id.in_(sorted(set(item_ids))))
    out: dict[int, list[Change]] = {}
    for e in session.exec(q.order_by(RectificationEvent.id)):
        out.setdefault(e.item_id, []).append(Change(e.on_date, int(e.id), e.action, e.status, e.due))
    return out


def states_at(session, day: date, items: list[Rectification]) -> dict[int, StateAt]:
    changes = changes_of(session, [int(r.id) for r in items])
    return {int(r.id): state_at(changes.get(int(r.id), []), day) for r in items}


def open_at(session, day: date) -> list[tuple[Rectification, StateAt]]:
    """Items open at the end of `day` (found by it, not closed by it), by deadline as it stood then, then id."""
    items = list(session.exec(select(Rectification).where(Rectification.found_on <= day).order_by(Rectification.id)))
    st = states_at(session, day, items)
    rows = [(r, st[int(r.id)]) for r in items if st[int(r.id)].open]
    return sorted(rows, key=lambda rs: (rs[1].due, rs[0].id))


def overdue_on(session, item: Rectification, day: date) -> bool:
    """Overdue as of `day`: open at `day` with its deadline (as it stood on `day`) before `day`."""
    return state_at(changes_of(session, [int(item.id)]).get(int(item.id), []), day).overdue


def digest_ids(session, item_ids: list[int]) -> dict[str, list[int]]:
    """The `row_digests` arguments covering items and all their events (for callers that audit them)."""
    events = [int(i) for i in session.exec(select(RectificationEvent.id).where(
        RectificationEvent.item_id.in_(sorted(set(item_ids)))))] if item_ids else []
    return {"rectification": list(item_ids), "rectification_event": events}


def record_change(uow: UnitOfWork, item: Rectification, action: str, status: str, on_date: date, due: date,
                  note: str = "", detail: str = "") -> int:
    """Append one business-dated change of `item` (the caller audits it); the event's id."""
    found = item.found_on
    if found is not None and on_date < found:
        raise InputError(f"日期 {on_date.isoformat()} 早于问题发现日期 {found.isoformat()}")
    last = uow.session.exec(select(RectificationEvent).where(RectificationEvent.item_id == item.id)
                            .order_by(RectificationEvent.on_date.desc(), RectificationEvent.id.desc())).first()
    if last is not None and on_date < last.on_date:
        raise InputError(f"日期 {on_date.isoformat()} 早于该事项上一次变动的日期 {last.on_date.isoformat()}",
                         hint="变动须按发生的先后登记；用 djctl rectify show 查看变动记录")
    ev = RectificationEvent(item_id=item.id, action=action, status=status, on_date=on_date, due=due, note=note,
                            detail=detail, created_at=now())
    uow.session.add(ev)
    uow.session.flush()
    return int(ev.id)


# ------------------------------------------------------------------ writing


def resolve_org(session, org_code: str, org_kind: str | None = None) -> tuple[str, str]:
    """(kind, name) of a unit or branch code; InputError when unknown (or not of `org_kind`)."""
    if org_kind is not None and org_kind not in ORG_KINDS:
        raise InputError(f"组织类别「{org_kind}」无效，应为 unit（考核单位）或 branch（党支部）")
    if org_kind in (None, "unit"):
        u = session.exec(select(Unit).where(Unit.code == org_code)).first()
        if u is not None:
            return "unit", u.name
    if org_kind in (None, "branch"):
        b = session.exec(select(Branch).where(Branch.code == org_code)).first()
        if b is not None:
            return "branch", b.name
    what = ORG_KIND_CN.get(org_kind or "", "单位或支部")
    raise InputError(f"找不到{what}「{org_code}」", hint="用 djctl org list --branches 查看编码")


def _snapshot(r: Rectification) -> dict[str, Any]:
    return {"status": r.status, "feedback": r.feedback, "closed_on": r.closed_on.isoformat() if r.closed_on else None}


def add_rectification(uow: UnitOfWork, org_code: str, org_kind: str | None, problem: str, source: str,
                      source_ref: str, due: date, *, found_on: date, audit: bool = True) -> int:
    """Add one item, found on `found_on`, inside the caller's transaction (spot-check and look-back imports call
    this); its id.

    `org_kind` None means: a unit if the code is a unit's, else a branch. With `audit=False` the caller
    covers the item and its first event in its own audit event (`digest_ids`).
    """
    problem = clean_long_text(problem or "")  # from a form or typed: hidden characters never reach documents
    if not problem:
        raise InputError("问题描述不能为空")
    if len(problem) > MAX_PROBLEM:
        raise InputError(f"问题描述过长（{len(problem)} 字，上限 {MAX_PROBLEM}）")
    try:
        source = normalize_source(source)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if not isinstance(due, date):
        raise InputError(f"整改期限「{due}」不是日期")
    kind, _name = resolve_org(uow.session, org_code, org_kind)
    if due < found_on:
        raise InputError(f"整改期限 {due.isoformat()} 早于发现问题的日期 {found_on.isoformat()}",
                         hint="补登以前发现的问题时，请用 --found 指定发现问题的日期")
    t = now()
    row = Rectification(org_code=org_code, org_kind=kind, problem=problem, source=source, source_ref=source_ref or "",
                        due=due, status="open", feedback="", found_on=found_on, created_at=t, updated_at=t)
    uow.session.add(row)
    uow.session.flush()
    record_change(uow, row, "found", "open", found_on, due)
    if audit:
        uow.audit("rectify.add", {"id": row.id, "org": org_code, "kind": kind, "problem": problem, "source": source,
                                  "source_ref": row.source_ref, "due": due.isoformat(), "found_on": found_on.isoformat(),
                                  "row_digests": row_digests(uow, **digest_ids(uow.session, [int(row.id)]))})
    return int(row.id)


def add(store: Store, org_code: str, problem: str, source: str, due: date, *, source_ref: str = "",
        org_kind: str | None = None, found_on: date | None = None, category: str = "",
        severity: str = "") -> dict[str, Any]:
    """`djctl rectify add`: one item (and its category, if given) in its own transaction; found today (the
    run's date) unless `found_on`."""
    from djctl.services.rectify_stats import tag_item

    today = _clock.today()  # the run's one date
    found = found_on or today
    with store.write() as uow:
        rid = add_rectification(uow, org_code, org_kind, problem, source, source_ref, due, found_on=found)
        if category or severity:
            if not category:
                raise InputError("指定严重程度时也要指定问题类别（--category）")
            tag_item(uow, rid, category, severity, found)
    return show(store, rid, as_of=max(found, today))


def _get(session, item_id: int) -> Rectification:
    r = session.get(Rectification, item_id)
    if r is None:
        raise InputError(f"找不到整改事项 #{item_id}", hint="用 djctl rectify list 查看编号")
    return r


def _sync(uow: UnitOfWork, r: Rectification) -> None:
    """Keep the item's current columns (status, deadline, closing day) equal to its latest change."""
    st = state_at(changes_of(uow.session, [int(r.id)]).get(int(r.id), []), date.max)
    r.status, r.due, r.closed_on = st.status or "open", st.due or r.due, st.closed_on
    r.updated_at = now()
    uow.session.add(r)


def _audit_change(uow: UnitOfWork, action: str, r: Rectification, old: dict[str, Any], **extra: Any) -> None:
    uow.audit(action, {"id": r.id, "org": r.org_code, "old": old, "new": _snapshot(r), **extra,
                       "row_digests": row_digests(uow, **digest_ids(uow.session, [int(r.id)]))})


def update(store: Store, item_id: int, *, status: str | None = None, feedback: str | None = None,
           on_date: date | None = None) -> dict[str, Any]:
    """Change status (open / in_progress), effective `on_date` (the run's date by default), and/or feedback."""
    if status is None and feedback is None:
        raise InputError("没有要修改的内容", hint="用 --status 或 --feedback 指定")
    if status is not None:
        try:
            status = normalize_status(status)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if status == "closed":
            raise InputError("销号请用 djctl rectify close（须填写整改反馈和销号日期）")
    if feedback is not None and len(feedback) > MAX_FEEDBACK:
        raise InputError(f"整改反馈过长（{len(feedback)} 字，上限 {MAX_FEEDBACK}）")
    day = on_date or _clock.today()
    with store.write() as uow:
        r = _get(uow.session, item_id)
        old = _snapshot(r)
        extra: dict[str, Any] = {}
        if status is not None and status != r.status:
            action = "reopen" if r.status == "closed" else "progress"
            record_change(uow, r, action, status, day, r.due)
            extra = {"date": day.isoformat(), "change": action}
            _sync(uow, r)
        if feedback is not None:
            r.feedback = clean_long_text(feedback)
        new = _snapshot(r)
        if new != old:
            r.updated_at = now()
            uow.session.add(r)
            _audit_change(uow, "rectify.update", r, old, **extra)
    doc = show(store, item_id, as_of=max(day, _clock.today()))
    doc["changed"] = new != old
    return doc


def close(store: Store, item_id: int, *, feedback: str = "", on_date: date) -> dict[str, Any]:
    """Close (销号) an item with its feedback and date; closing a closed item is refused. An item 已整改待核
    (its unit's feedback imported) is confirmed by its close; without `feedback` the submitted one is kept."""
    feedback = clean_long_text(feedback or "")
    if len(feedback) > MAX_FEEDBACK:
        raise InputError(f"整改反馈过长（{len(feedback)} 字，上限 {MAX_FEEDBACK}）")
    with store.write() as uow:
        r = _get(uow.session, item_id)
        if r.status == "closed":
            raise InputError(f"整改事项 #{item_id} 已于 {r.closed_on} 销号",
                             hint="如需重新打开，用 djctl rectify reopen ID --date 日期 --reason 原因")
        if not feedback and r.status == "submitted":
            feedback = r.feedback
        if not feedback:
            raise InputError("销号须填写整改反馈（--feedback）")
        old = _snapshot(r)
        record_change(uow, r, "close", "closed", on_date, r.due, note=feedback)
        r.feedback = feedback
        _sync(uow, r)
        _audit_change(uow, "rectify.close", r, old, late=on_date > r.due, date=on_date.isoformat())
    return show(store, item_id, as_of=max(on_date, _clock.today()))


def reopen(store: Store, item_id: int, *, on_date: date, reason: str, due: date | None = None) -> dict[str, Any]:
    """Reopen a closed item on `on_date` (整改不到位、问题反弹), optionally with a new deadline; an item 已整改待核
    is returned (退回, change "return": open again, not counted as a reopened problem)."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError("重新打开须说明原因（--reason）")
    with store.write() as uow:
        r = _get(uow.session, item_id)
        if r.status not in ("closed", "submitted"):
            raise InputError(f"整改事项 #{item_id} 尚未销号，不需要重新打开")
        if r.closed_on is not None and on_date < r.closed_on:
            raise InputError(f"重新打开的日期 {on_date.isoformat()} 早于销号日期 {r.closed_on.isoformat()}")
        new_due = due or r.due
        if new_due < (r.found_on or new_due):
            raise InputError(f"整改期限 {new_due.isoformat()} 早于发现问题的日期")
        old = _snapshot(r)
        record_change(uow, r, "return" if r.status == "submitted" else "reopen", "open", on_date, new_due, note=reason)
        _sync(uow, r)
        _audit_change(uow, "rectify.reopen", r, old, date=on_date.isoformat(), reason=reason, due=new_due.isoformat())
    return show(store, item_id, as_of=max(on_date, _clock.today()))


def extend(store: Store, item_id: int, *, due: date, on_date: date, reason: str) -> dict[str, Any]:
    """Extend (延期) an open item's deadline to `due`, decided on `on_date`."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError("延长整改期限须说明原因（--reason）")
    with store.write() as uow:
        r = _get(uow.session, item_id)
        if r.status == "closed":
            raise InputError(f"整改事项 #{item_id} 已销号，不能延期", hint="如需重新整改，用 djctl rectify reopen")
        if due <= r.due:
            raise InputError(f"新的整改期限 {due.isoformat()} 不晚于原期限 {r.due.isoformat()}")
        old = {**_snapshot(r), "due": r.due.isoformat()}
        record_change(uow, r, "extend", r.status, on_date, due, note=reason)
        _sync(uow, r)
        _audit_change(uow, "rectify.extend", r, old, date=on_date.isoformat(), reason=reason, due=due.isoformat())
    return show(store, item_id, as_of=max(on_date, _clock.today()))


# ------------------------------------------------------------------ reading


def _names(session) -> dict[tuple[str, str], str]:
    out = {("unit", u.code): u.name for u in session.exec(select(Unit))}
    out.update({("branch", b.code): b.name for b in session.exec(select(Branch))})
    return out


def item_doc(r: Rectification, names: dict[tuple[str, str], str], st: StateAt,
             changes: list[Change]) -> dict[str, Any]:
    """The item as it stood on `st.day` (status, deadline, closing day, overdue), with its business dates."""
    status = st.status or "open"
    found = r.found_on
    return {"id": r.id, "org": r.org_code, "kind": r.org_kind, "name": names.get((r.org_kind, r.org_code), ""),
            "problem": r.problem, "source": r.source, "source_cn": SOURCE_CN.get(r.source, r.source),
            "source_ref": r.source_ref, "found_on": found.isoformat() if found else None,
            "due": (st.due or r.due).isoformat(), "status": status,
            "status_cn": STATUS_CN.get(status, status), "feedback": r.feedback,
            "closed_on": st.closed_on.isoformat() if st.closed_on else None,
            "overdue": st.overdue, "days_overdue": st.days_overdue,
            "closed_late": bool(st.closed_on and closed_late([c for c in changes if c.on_date <= st.day])),
            "reopened": st.reopened,
            "created_year": found.year if found else st.day.year,  # the business year it was found in
            "as_of": st.day.isoformat()}


def _items_at(session, as_of: date, rows: list[Rectification]) -> list[dict[str, Any]]:
    changes = changes_of(session, [int(r.id) for r in rows])
    names = _names(session)
    out = []
    for r in rows:
        cs = changes.get(int(r.id), [])
        st = state_at(cs, as_of)
        if st.found:
            out.append(item_doc(r, names, st, cs))
    return out


def list_items(store: Store, *, overdue: bool = False, org: str | None = None, source: str | None = None,
               status: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Items found by `as_of` (default: the run's date), each as it stood then; `overdue` keeps the overdue."""
    as_of = as_of or _clock.today()
    if source is not None:
        try:
            source = normalize_source(source)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if status is not None:
        try:
            status = normalize_status(status)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    with store.read() as uow:
        s = uow.session
        q = select(Rectification).where(Rectification.found_on <= as_of).order_by(Rectification.id)
        if org:
            q = q.where(Rectification.org_code == org)
        if source:
            q = q.where(Rectification.source == source)
        items = _items_at(s, as_of, list(s.exec(q)))
    if status:
        items = [i for i in items if i["status"] == status]
    if overdue:
        items = [i for i in items if i["overdue"]]
    counts = {st: sum(1 for i in items if i["status"] == st) for st in STATUSES}
    counts["overdue"] = sum(1 for i in items if i["overdue"])
    counts["total"] = len(items)
    return {"as_of": as_of.isoformat(), "items": items, "counts": counts}


def overdue_items(store: Store, as_of: date | None = None) -> dict[str, Any]:
    return list_items(store, overdue=True, as_of=as_of)


def show(store: Store, item_id: int, as_of: date | None = None) -> dict[str, Any]:
    """One item as of `as_of`, its business-dated changes, and its audit history (old and new values)."""
    from djctl.store.audit import AUDIT

    as_of = as_of or _clock.today()
    with store.read() as uow:
        r = _get(uow.session, item_id)
        cs = changes_of(uow.session, [item_id]).get(item_id, [])
        doc = item_doc(r, _names(uow.session), state_at(cs, max(as_of, r.found_on or as_of)), cs)
        evs = list(uow.session.exec(select(RectificationEvent).where(RectificationEvent.item_id == item_id)
                                    .order_by(RectificationEvent.on_date, RectificationEvent.id)))
        events = uow.conn.execute(sa_select(AUDIT.c.seq, AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.payload)
                                  .where(AUDIT.c.action.like("rectify.%"))
                                  .where(AUDIT.c.payload.like(f'%"id":{int(item_id)},%'))
                                  .order_by(AUDIT.c.seq)).all()
    doc["changes"] = [{"date": e.on_date.isoformat(), "action": e.action, "action_cn": ACTION_CN.get(e.action, e.action),
                       "status": e.status, "status_cn": STATUS_CN.get(e.status, e.status), "due": e.due.isoformat(),
                       "note": e.note, "detail": json.loads(e.detail) if e.detail else None} for e in evs]
    fed = [c for c in doc["changes"] if c["action"] == "feedback"]
    doc["submission"] = {**fed[-1]["detail"], "date": fed[-1]["date"]} if fed and fed[-1]["detail"] else None
    history = []
    for e in events:
        p = json.loads(e.payload)
        if p.get("id") != item_id:  # an import's one event lists its items
            p = next((i for i in p.get("items") or [] if isinstance(i, dict) and i.get("id") == item_id), None)
            if p is None:
                continue
        history.append({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                        "old": p.get("old"), "new": p.get("new")})
    doc["history"] = history
    return doc


# ------------------------------------------------------------------ feedback forms


def _safe_name(text: str) -> str:
    return re.sub(r"\s+", "_", safe_part(text)).strip("._") or "org"


def write_forms(store: Store, out_dir: Path, *, open_only: bool = False, org: str | None = None,
                ids: list[int] | None = None, as_of: date | None = None) -> list[Path]:
    """One 问题整改反馈单 .docx per item (optionally only the items not yet closed, or of one org)."""
    from djctl.io.feedback_docx import write_feedback_form

    doc = list_items(store, org=org, as_of=as_of)
    items = doc["items"]
    if open_only:
        items = [i for i in items if i["status"] != "closed"]
    if ids is not None:
        items = [i for i in items if i["id"] in ids]
    issuer = _issuer(store)
    paths: list[Path] = []
    with staged_dir(out_dir) as stage:  # all the forms or none
        for item in items:
            name = f"问题整改反馈单_{item['id']:04d}_{_safe_name(item['org'])}.docx"
            write_feedback_form(inside(stage.dir, name), item, issuer=issuer)
            paths.append(inside(out_dir, name))
    return paths


def _issuer(store: Store) -> str:
    from djctl.domain.scheme import Scheme
    from djctl.services.setup import load_scheme, scheme_years

    with store.read() as uow:
        years = scheme_years(uow.session)
        return load_scheme(uow.session, years[-1]).issuer if years else Scheme(year=2000).issuer
