"""Entries put on a year's negative list by decision (经研究列入): add, revoke, and what stands on a date.

The computed list (`services.negative`) finds organizations by rule; the committee may also put a unit or a
branch on year Y's list by decision, with a reason, a basis (文号 or 会议纪要) and consequences chosen from the
scheme's `[negative]` words (`djctl.domain.negative`). An entry stands from its business date (`added_on`)
until it is revoked (`revoked_on`, with a reason); nothing is deleted, and a list as of an earlier date
still shows it. 扣分 writes a deduction (减分项) of year Y through the same path as `adjust add`, in the same
transaction; revoking the entry revokes that deduction too, in the same transaction.

Revocation is recorded on the entry itself (date, reason, time set once), not as a separate row: an entry is
revoked at most once (a second revocation is refused), so there is no history beyond "stood from A to B", and
the audit events `negative.add` / `negative.revoke` (each with the row's digest) keep who did what and when.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import select

from djctl.domain.negative import DEDUCT, MANUAL_CN, TOPIC, choose_consequences, stands
from djctl.domain.points import fmt, to_x100
from djctl.domain.textclean import clean_long_text
from djctl.errors import InputError, Problem
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Adjustment, Branch, NegativeManual, Unit

ADD_ACTION = "negative.add"
REVOKE_ACTION = "negative.revoke"
MAX_TEXT = 1000
KIND_CN = {"unit": "考核单位", "branch": "党支部"}


def _org(session: Any, code: str) -> tuple[str, str, str]:
    """(kind, name, unit code a deduction goes to) of a unit or branch code; InputError when unknown."""
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    branch = session.exec(select(Branch).where(Branch.code == code)).first()
    if unit is not None and branch is not None:
        raise InputError(f"编码「{code}」既是单位编码又是支部编码，无法区分", hint="请先在名册中更正编码")
    if unit is not None:
        return "unit", unit.name, unit.code
    if branch is not None:
        return "branch", branch.name, branch.unit_code
    raise InputError(f"编码「{code}」不在名册中（应为考核单位或党支部的编码）", hint="用 djctl org list 查看编码")


def add_entry(store: Store, code: str, *, year: int, reason: str, basis: str, consequences: list[str],
              on_date: date, deduct: Decimal | None = None) -> dict[str, Any]:
    """`djctl negative-list add`: one entry (and its deduction, for 扣分) in one transaction; refused with
    InputError (nothing written) for an unknown organization or consequence, an empty reason or basis, a year
    without a scheme, a date before the year, or an entry of the same organization and year that stands."""
    from djctl.services.setup import load_scheme

    code = (code or "").strip()
    reason, basis = clean_long_text(reason or ""), clean_long_text(basis or "")
    problems: list[str] = []
    if not reason:
        problems.append("列入原因（--reason）不能为空")
    elif len(reason) > MAX_TEXT:
        problems.append(f"列入原因过长（{len(reason)} 字，上限 {MAX_TEXT}）")
    if not basis:
        problems.append("依据（--basis）不能为空：填文件文号或会议纪要，如 示机工〔2024〕12号")
    elif len(basis) > 200:
        problems.append(f"依据过长（{len(basis)} 字，上限 200）")
    if on_date < date(year, 1, 1):
        problems.append(f"列入日期 {on_date.isoformat()} 早于 {year} 年度")
    if deduct is not None:
        from djctl.services.adjust import DEDUCTION, item_problem

        msg = item_problem(DEDUCTION, deduct, False)
        if msg:
            problems.append(f"--deduct：{msg}")
    with store.write() as uow:
        s = uow.session
        scheme = load_scheme(s, year)  # NoScheme (exit 2) for a year without a scheme
        kind, name, unit_code = _org(s, code)
        chosen, bad = choose_consequences(kind, consequences, scheme.negative, deduct is not None)
        problems += bad
        dup = s.exec(select(NegativeManual).where(NegativeManual.year == year, NegativeManual.org_code == code,
                                                  NegativeManual.revoked_on == None)).first()  # noqa: E711
        if dup is not None:
            problems.append(f"{name}（{code}）已于 {dup.added_on.isoformat()} 经研究列入 {year} 年度负面清单"
                            f"（编号 {dup.id}），不能重复列入")
        if problems:
            raise InputError("负面清单条目有错误，未写入", problems=[Problem(m) for m in problems],
                             hint=f"可选后果：{'、'.join(scheme.negative.consequences)}（djctl scheme show 查看）")
        row = NegativeManual(year=year, org_kind=kind, org_code=code, reason=reason, basis=basis,
                             consequences=json.dumps(list(chosen), ensure_ascii=False), added_on=on_date,
                             created_at=now())
        s.add(row)
        s.flush()
        if DEDUCT in chosen and deduct is not None:
            row.adjustment_id = _deduction(uow, row, unit_code, deduct)
            s.add(row)
        from djctl.store.content import row_digests

        uow.audit(ADD_ACTION, {"id": row.id, "year": year, "org": code, "kind": kind, "date": on_date.isoformat(),
                               "consequences": list(chosen), "adjustment_id": row.adjustment_id,
                               "row_digests": row_digests(uow, negative_manual=[row.id])})
        return entry_json(s, row, {code: name})


def _deduction(uow: UnitOfWork, row: NegativeManual, unit_code: str, points: Decimal) -> int:
    """A deduction item of the list's year, written as `adjust add` writes one (same audit event)."""
    x100 = to_x100(points)
    who = "" if row.org_kind == "unit" else f"所属党支部（{row.org_code}）"
    reason = f"{who}经研究列入{row.year}年度负面清单：{row.reason}"[:500]
    item = Adjustment(year=row.year, unit_code=unit_code, kind="deduction", points_x100=x100, reason=reason,
                      basis=row.basis, veto=False, created_at=now(), decided_on=row.added_on)
    uow.session.add(item)
    uow.session.flush()
    uow.audit("adjust.add", {"id": item.id, "year": item.year, "unit": unit_code, "kind": "deduction",
                             "points_x100": x100, "reason": reason, "basis": item.basis, "veto": False,
                             "date": row.added_on.isoformat(), "negative_manual_id": row.id})
    return int(item.id)


def revoke_entry(store: Store, entry_id: int, *, reason: str, on_date: date) -> dict[str, Any]:
    """`djctl negative-list revoke`: the entry stops standing on `on_date` (kept, with the reason); its
    deduction, if any, is revoked in the same transaction."""
    reason = clean_long_text(reason or "")
    if not reason:
        raise InputError("撤销原因（--reason）不能为空")
    with store.write() as uow:
        s = uow.session
        row = s.get(NegativeManual, entry_id)
        if row is None:
            raise InputError(f"没有编号为 {entry_id} 的经研究列入条目",
                             hint="用 djctl negative-list --year 年度 --json 查看条目编号（manual_id）")
        if row.revoked_on is not None:
            raise InputError(f"条目 {entry_id} 已于 {row.revoked_on.isoformat()} 撤销（原因：{row.revoke_reason}），"
                             "不能重复撤销")
        if on_date < row.added_on:
            raise InputError(f"撤销日期 {on_date.isoformat()} 早于列入日期 {row.added_on.isoformat()}")
        t = now()
        row.revoked_on, row.revoke_reason, row.revoked_at = on_date, reason, t
        s.add(row)
        adjustment = s.get(Adjustment, row.adjustment_id) if row.adjustment_id else None
        if adjustment is not None and adjustment.revoked_at is None:
            adjustment.revoked_at, adjustment.revoke_reason = t, f"负面清单条目 {row.id} 已撤销：{reason}"[:500]
            s.add(adjustment)
            s.flush()
            uow.audit("adjust.revoke", {"id": adjustment.id, "reason": adjustment.revoke_reason, "item": {
                "year": adjustment.year, "unit": adjustment.unit_code, "kind": adjustment.kind,
                "points_x100": adjustment.points_x100, "reason": adjustment.reason, "basis": adjustment.basis,
                "veto": adjustment.veto, "import_id": adjustment.import_id}, "negative_manual_id": row.id})
        from djctl.store.content import row_digests

        uow.audit(REVOKE_ACTION, {"id": row.id, "year": row.year, "org": row.org_code, "date": on_date.isoformat(),
                                  "reason": reason, "adjustment_revoked": adjustment.id if adjustment else None,
                                  "row_digests": row_digests(uow, negative_manual=[row.id])})
        return entry_json(s, row, _names(s))


# ------------------------------------------------------------------ reads


def _names(session: Any) -> dict[str, str]:
    out = dict(session.exec(select(Unit.code, Unit.name)).all())
    out.update(session.exec(select(Branch.code, Branch.name)).all())
    return out


def consequences_of(row: NegativeManual) -> list[str]:
    return list(json.loads(row.consequences or "[]"))


def standing(session: Any, year: int, as_of: date | None = None, kind: str | None = None) -> list[NegativeManual]:
    """The entries of `year` that stand on `as_of` (None: every entry not revoked), by code then id."""
    q = select(NegativeManual).where(NegativeManual.year == year)
    if kind is not None:
        q = q.where(NegativeManual.org_kind == kind)
    rows = session.exec(q.order_by(NegativeManual.org_code, NegativeManual.id)).all()
    return [r for r in rows if stands(r.added_on, r.revoked_on, as_of)]


def _codes_query():
    from sqlalchemy import bindparam
    from sqlalchemy import select as sa_select

    m = NegativeManual.__table__
    return (sa_select(m.c.org_code, m.c.reason, m.c.consequences, m.c.added_on, m.c.revoked_on)
            .where(m.c.year == bindparam("year"), m.c.org_kind == bindparam("kind")).order_by(m.c.org_code, m.c.id))


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives ISO text


def manual_codes(session: Any, year: int, kind: str, as_of: date | None = None,
                 consequence: str | None = None) -> dict[str, str]:
    """code -> reason of the standing entries of one kind (only those carrying `consequence`, when given);
    one compiled Core query, as the draws read it on their hot path."""
    from djctl.store.compiled import exec_cached

    out: dict[str, str] = {}
    for code, reason, consequences, added_on, revoked_on in exec_cached(
            session.connection(), "negative.manual_codes", _codes_query, year=year, kind=kind):
        if stands(_day(added_on), _day(revoked_on), as_of) and (
                consequence is None or consequence in json.loads(consequences or "[]")):
            out.setdefault(code, f"{MANUAL_CN}：{reason}")
    return out


def sentence(row: NegativeManual, deduction: str | None = None) -> str:
    """The entry as one reason of the list: 经研究列入：reason（依据：basis；后果）."""
    cons = [c if c != DEDUCT or not deduction else f"扣{deduction}分" for c in consequences_of(row)]
    return f"{MANUAL_CN}：{row.reason}（依据：{row.basis}；处理：{'、'.join(cons)}）"


def entry_json(session: Any, row: NegativeManual, names: dict[str, str]) -> dict[str, Any]:
    points = None
    if row.adjustment_id:
        a = session.get(Adjustment, row.adjustment_id)
        points = fmt(a.points_x100) if a is not None else None
    return {"manual_id": row.id, "year": row.year, "org": row.org_code, "kind": row.org_kind,
            "kind_cn": KIND_CN.get(row.org_kind, row.org_kind), "name": names.get(row.org_code, ""),
            "reason": row.reason, "basis": row.basis, "consequences": consequences_of(row),
            "adjustment_id": row.adjustment_id, "deduct": points, "added_on": row.added_on.isoformat(),
            "revoked_on": row.revoked_on.isoformat() if row.revoked_on else None, "revoke_reason": row.revoke_reason,
            "sentence": sentence(row, points), "topic": TOPIC in consequences_of(row)}


def manual_entries(session: Any, year: int, as_of: date | None = None) -> list[dict[str, Any]]:
    """The standing entries of `year` on `as_of`, as JSON (what the list's documents show)."""
    names = _names(session)
    return [entry_json(session, r, names) for r in standing(session, year, as_of)]


def revoked_entries(session: Any, year: int, as_of: date | None = None) -> list[dict[str, Any]]:
    """Entries of `year` revoked on or before `as_of` (None: all revoked ones), for the listing."""
    names = _names(session)
    rows = session.exec(select(NegativeManual).where(NegativeManual.year == year,
                                                     NegativeManual.revoked_on != None)  # noqa: E711
                        .order_by(NegativeManual.id)).all()
    return [entry_json(session, r, names) for r in rows if as_of is None or (r.revoked_on and r.revoked_on <= as_of)]
