"""Rectification items (整改事项): add, list, update, close, overdue, feedback forms.

An item is overdue as of day D when its deadline is before D (`due < D`) and it was not closed by D
(still open or in progress, or closed after D). Updates never lose anything: every change appends an audit
event with the old and the new status, feedback and closing date, and `show` reads the item's history back
from the audit chain.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from djctl.domain.textclean import clean_long_text
from djctl.errors import InputError
from djctl.io.outfile import inside, safe_part, staged_dir
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, Rectification, Unit

SOURCES: tuple[str, ...] = ("spotcheck", "lookback", "inspection")
SOURCE_CN = {"spotcheck": "月度抽查", "lookback": "回头看", "inspection": "督导检查"}
STATUSES: tuple[str, ...] = ("open", "in_progress", "closed")
STATUS_CN = {"open": "未整改", "in_progress": "整改中", "closed": "已销号"}
ORG_KINDS: tuple[str, ...] = ("unit", "branch")
ORG_KIND_CN = {"unit": "考核单位", "branch": "党支部"}
MAX_PROBLEM = 2000
MAX_FEEDBACK = 5000

_SOURCE_ALIASES = {**{v: k for k, v in SOURCE_CN.items()}, "抽查": "spotcheck", "检查": "inspection", "督查": "inspection"}
_STATUS_ALIASES = {**{v: k for k, v in STATUS_CN.items()}, "已整改": "closed", "关闭": "closed", "整改完成": "closed"}


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


def overdue_on(item: Rectification, day: date) -> bool:
    """Overdue as of `day`: deadline before `day` and not closed by `day`."""
    closed_by = item.status == "closed" and item.closed_on is not None and item.closed_on <= day
    return item.due < day and not closed_by


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
                      source_ref: str, due: date, *, audit: bool = True) -> int:
    """Add one item inside the caller's transaction (spot-check and look-back imports call this); its id.

    `org_kind` None means: a unit if the code is a unit's, else a branch. With `audit=False` the caller
    covers the item in its own audit event (it must name the returned id).
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
    t = now()
    row = Rectification(org_code=org_code, org_kind=kind, problem=problem, source=source, source_ref=source_ref or "",
                        due=due, status="open", feedback="", created_at=t, updated_at=t)
    uow.session.add(row)
    uow.session.flush()
    if audit:
        uow.audit("rectify.add", {"id": row.id, "org": org_code, "kind": kind, "problem": problem, "source": source,
                                  "source_ref": row.source_ref, "due": due.isoformat(),
                                  "row_digests": row_digests(uow, rectification=[row.id])})
    return int(row.id)


def add(store: Store, org_code: str, problem: str, source: str, due: date, *, source_ref: str = "",
        org_kind: str | None = None) -> dict[str, Any]:
    """`djctl rectify add`: one item in its own transaction."""
    with store.write() as uow:
        rid = add_rectification(uow, org_code, org_kind, problem, source, source_ref, due)
    return show(store, rid)


def _get(session, item_id: int) -> Rectification:
    r = session.get(Rectification, item_id)
    if r is None:
        raise InputError(f"找不到整改事项 #{item_id}", hint="用 djctl rectify list 查看编号")
    return r


def update(store: Store, item_id: int, *, status: str | None = None, feedback: str | None = None) -> dict[str, Any]:
    """Change status (open / in_progress) and/or feedback; the old values go into the audit event."""
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
    with store.write() as uow:
        r = _get(uow.session, item_id)
        old = _snapshot(r)
        if status is not None:
            r.status = status
            if status != "closed":
                r.closed_on = None  # reopened
        if feedback is not None:
            r.feedback = clean_long_text(feedback)
        new = _snapshot(r)
        if new != old:
            r.updated_at = now()
            uow.session.add(r)
            uow.audit("rectify.update", {"id": r.id, "org": r.org_code, "old": old, "new": new,
                                         "row_digests": row_digests(uow, rectification=[r.id])})
    doc = show(store, item_id)
    doc["changed"] = new != old
    return doc


def close(store: Store, item_id: int, *, feedback: str, on_date: date) -> dict[str, Any]:
    """Close (销号) an item with its feedback and date; closing a closed item is refused."""
    feedback = clean_long_text(feedback or "")
    if not feedback:
        raise InputError("销号须填写整改反馈（--feedback）")
    if len(feedback) > MAX_FEEDBACK:
        raise InputError(f"整改反馈过长（{len(feedback)} 字，上限 {MAX_FEEDBACK}）")
    with store.write() as uow:
        r = _get(uow.session, item_id)
        if r.status == "closed":
            raise InputError(f"整改事项 #{item_id} 已于 {r.closed_on} 销号",
                             hint="如需重新打开，用 djctl rectify update ID --status open")
        old = _snapshot(r)
        r.status, r.feedback, r.closed_on, r.updated_at = "closed", feedback, on_date, now()
        uow.session.add(r)
        uow.audit("rectify.close", {"id": r.id, "org": r.org_code, "old": old, "new": _snapshot(r),
                                    "late": on_date > r.due, "row_digests": row_digests(uow, rectification=[r.id])})
    return show(store, item_id)


# ------------------------------------------------------------------ reading


def _names(session) -> dict[tuple[str, str], str]:
    out = {("unit", u.code): u.name for u in session.exec(select(Unit))}
    out.update({("branch", b.code): b.name for b in session.exec(select(Branch))})
    return out


def item_doc(r: Rectification, names: dict[tuple[str, str], str], as_of: date) -> dict[str, Any]:
    late = overdue_on(r, as_of)
    return {"id": r.id, "org": r.org_code, "kind": r.org_kind, "name": names.get((r.org_kind, r.org_code), ""),
            "problem": r.problem, "source": r.source, "source_cn": SOURCE_CN.get(r.source, r.source),
            "source_ref": r.source_ref, "due": r.due.isoformat(), "status": r.status,
            "status_cn": STATUS_CN.get(r.status, r.status), "feedback": r.feedback,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None,
            "overdue": late, "days_overdue": (as_of - r.due).days if late else 0,
            "closed_late": bool(r.status == "closed" and r.closed_on and r.closed_on > r.due),
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "created_year": r.created_at.year if r.created_at else as_of.year,
            "updated_at": r.updated_at.isoformat() if r.updated_at else None}


def list_items(store: Store, *, overdue: bool = False, org: str | None = None, source: str | None = None,
               status: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Items filtered; `overdue` keeps those overdue as of `as_of` (default today)."""
    as_of = as_of or date.today()
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
        q = select(Rectification).order_by(Rectification.id)
        if org:
            q = q.where(Rectification.org_code == org)
        if source:
            q = q.where(Rectification.source == source)
        if status:
            q = q.where(Rectification.status == status)
        rows = s.exec(q).all()
        names = _names(s)
    items = [item_doc(r, names, as_of) for r in rows]
    if overdue:
        items = [i for i in items if i["overdue"]]
    counts = {st: sum(1 for i in items if i["status"] == st) for st in STATUSES}
    counts["overdue"] = sum(1 for i in items if i["overdue"])
    counts["total"] = len(items)
    return {"as_of": as_of.isoformat(), "items": items, "counts": counts}


def overdue_items(store: Store, as_of: date | None = None) -> dict[str, Any]:
    return list_items(store, overdue=True, as_of=as_of)


def show(store: Store, item_id: int, as_of: date | None = None) -> dict[str, Any]:
    """One item and its history (from the audit chain: add, updates, close, each with old and new values)."""
    from djctl.store.audit import AUDIT

    as_of = as_of or date.today()
    with store.read() as uow:
        r = _get(uow.session, item_id)
        doc = item_doc(r, _names(uow.session), as_of)
        events = uow.conn.execute(sa_select(AUDIT.c.seq, AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.payload)
                                  .where(AUDIT.c.action.in_(("rectify.add", "rectify.update", "rectify.close")))
                                  .where(AUDIT.c.payload.like(f'%"id":{int(item_id)},%'))
                                  .order_by(AUDIT.c.seq)).all()
    history = []
    for e in events:
        p = json.loads(e.payload)
        if p.get("id") != item_id:
            continue
        history.append({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                        "old": p.get("old"), "new": p.get("new")})
    doc["history"] = history
    return doc


# ------------------------------------------------------------------ feedback forms


def _safe_name(text: str) -> str:
    return re.sub(r"\s+", "_", safe_part(text)).strip("._") or "org"


def write_forms(store: Store, out_dir: Path, *, open_only: bool = False, org: str | None = None,
                ids: list[int] | None = None) -> list[Path]:
    """One 问题整改反馈单 .docx per item (optionally only the items not yet closed, or of one org)."""
    from djctl.io.feedback_docx import write_feedback_form

    doc = list_items(store, org=org)
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


# ------------------------------------------------------------------ demo


DEMO_INSPECTIONS = (
    ("党费收缴台账不完整，部分月份无收缴记录", "2024-05-31"),
    ("“三会一课”记录不规范，党课无专题内容", "2024-08-31"),
    ("主题党日活动流于形式，缺少活动方案和总结", "2024-10-31"),
)


def demo_step(store: Store, ctx: Any) -> list[str]:
    """Work through the year's items: two of every three closed before the deadline, the rest left open.

    Runs after the spot-check and look-back steps; when they created no items, three 督导检查 items are
    added first. Feedback forms of the items still open are written to ctx.dir / "文书" / "整改反馈单".
    """
    year = ctx.year
    existing = list_items(store)["items"]
    added = 0
    if not existing:
        with store.read() as uow:
            units = uow.session.exec(select(Unit).order_by(Unit.code)).all()
        picks = [units[(2 + 7 * i) % len(units)] for i in range(len(DEMO_INSPECTIONS))] if units else []
        for (problem, due), u in zip(DEMO_INSPECTIONS, picks, strict=False):
            add(store, u.code, problem, "inspection", date.fromisoformat(due), source_ref=f"{year}年党建督导检查")
            added += 1
        existing = list_items(store)["items"]
    closed = progress = 0
    for n, item in enumerate(i for i in existing if i["status"] != "closed"):
        due = date.fromisoformat(item["due"])
        if n % 3 == 2:
            if n % 2 == 0:
                update(store, item["id"], status="in_progress", feedback="已制定整改方案，正在落实。")
                progress += 1
            continue
        day = min(due, date(year, 12, 20))
        close(store, item["id"], feedback="已按要求完成整改，相关台账和佐证材料已补齐。", on_date=day)
        closed += 1
    paths = write_forms(store, ctx.dir / "文书" / "整改反馈单", open_only=True)
    ctx.files.extend(paths)
    late = overdue_items(store, date(year, 12, 31))["counts"]["overdue"]
    lines = []
    if added:
        lines.append(f"新增督导检查整改事项 {added} 项")
    lines.append(f"整改事项 {len(existing)} 项：销号 {closed} 项，整改中 {progress} 项；{year} 年底逾期未销号 {late} 项")
    lines.append(f"问题整改反馈单 {len(paths)} 份（{ctx.dir / '文书' / '整改反馈单'}）")
    return lines
