"""Accountability measures (问责措施): add, import, list as of a date, revoke; the quarter's summary.

A measure is taken on a business date against a unit or its secretary, for a reason, on a basis, by
someone, and may answer rectification items. With `--deduct` it also records a deduction (减分项) of the
year in the same transaction, linked both ways. Nothing is deleted: a measure recorded by mistake is
revoked with a date and a reason, and reports as of an earlier date still show it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.points import to_x100
from djctl.domain.problems import TARGETS, choose, counts_by_kind, normalize_target
from djctl.errors import DjctlError, InputError, Problem
from djctl.services.importing import FileResult, WorkbookImport, import_workbook
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Action, Adjustment, Branch, ImportFile, Rectification, Unit

KIND = "actions"
MAX_REASON = 1000


@dataclass(frozen=True)
class NewAction:
    code: str
    kind: str
    target: str
    person: str
    on_date: date
    reason: str
    basis: str
    taken_by: str
    items: tuple[int, ...] = ()


def _kinds(session: Any, year: int) -> tuple[str, ...]:
    from djctl.services.setup import load_scheme

    return load_scheme(session, year).accountability.kinds


def _problems(session: Any, a: NewAction) -> list[tuple[str, str]]:
    """(column, message) for everything wrong with one measure against the store and the year's scheme."""
    out: list[tuple[str, str]] = []
    unit = session.exec(select(Unit).where(Unit.code == a.code)).first()
    if unit is None:
        out.append(("单位编码", f"单位编码「{a.code}」不在名册中"))
    try:
        choose(a.kind, _kinds(session, a.on_date.year), "措施")
    except ValueError as exc:
        out.append(("措施", str(exc)))
    if not a.reason.strip():
        out.append(("事由", "事由不能为空"))
    elif len(a.reason) > MAX_REASON:
        out.append(("事由", f"事由过长（{len(a.reason)} 字，上限 {MAX_REASON}）"))
    if not a.basis.strip():
        out.append(("依据", "依据不能为空（填文件文号、会议纪要或谈话记录编号）"))
    if a.target == "secretary" and not a.person and unit is not None and not unit.secretary:
        out.append(("姓名", f"名册中单位「{a.code}」没有书记姓名，请填写被谈话人的姓名"))
    if a.items:
        branches = {b.code for b in session.exec(select(Branch).where(Branch.unit_code == a.code))}
        found = {r.id: r for r in session.exec(select(Rectification).where(Rectification.id.in_(a.items)))}
        for i in a.items:
            r = found.get(i)
            if r is None:
                out.append(("整改事项编号", f"没有编号为 {i} 的整改事项"))
            elif r.org_code != a.code and r.org_code not in branches:
                out.append(("整改事项编号", f"整改事项 {i} 属于「{r.org_code}」，不是单位「{a.code}」或其所属支部的事项"))
    return out


def _row(session: Any, a: NewAction, import_id: int | None, t: Any) -> Action:
    person = a.person
    if a.target == "secretary" and not person:
        person = session.exec(select(Unit.secretary).where(Unit.code == a.code)).first() or ""
    return Action(on_date=a.on_date, kind=a.kind.strip(), target=a.target, unit_code=a.code, person=person,
                  reason=a.reason.strip(), basis=a.basis.strip(), taken_by=a.taken_by.strip(),
                  items=json.dumps(list(a.items)), import_id=import_id, created_at=t)


def add_action(store: Store, code: str, *, kind: str, on_date: date, reason: str, basis: str, target: str = "unit",
               person: str = "", taken_by: str = "", items: tuple[int, ...] = (),
               deduct: Decimal | None = None) -> dict[str, Any]:
    """`djctl action add`: one measure (and its deduction, if any) in one transaction."""
    try:
        target = normalize_target(target)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    a = NewAction(code, kind.strip(), target, person.strip(), on_date, reason, basis, taken_by, tuple(sorted(set(items))))
    if deduct is not None:
        from djctl.services.adjust import DEDUCTION, item_problem

        msg = item_problem(DEDUCTION, deduct, False)
        if msg:
            raise InputError(f"--deduct：{msg}")
    with store.write() as uow:
        s = uow.session
        problems = _problems(s, a)
        if problems:
            raise InputError("问责措施有错误，未写入", problems=[Problem(m) for _c, m in problems],
                             hint="用 djctl org list 查看单位编码，djctl scheme show 查看措施列表")
        row = _row(s, a, None, now())
        s.add(row)
        s.flush()
        if deduct is not None:
            row.adjustment_id = _deduction(uow, row, deduct)
            s.add(row)
        uow.audit("action.add", {"id": row.id, "unit": code, "kind": row.kind, "target": row.target,
                                 "date": on_date.isoformat(), "items": list(a.items),
                                 "adjustment_id": row.adjustment_id, "row_digests": row_digests(uow, action=[row.id])})
        doc = _json(row, {code: _unit_name(s, code)})
    return doc


def _deduction(uow: UnitOfWork, row: Action, points: Decimal) -> int:
    """A deduction item of the measure's year, written as `adjust add` writes one (same audit event)."""
    x100 = to_x100(points)
    reason = f"{row.kind}：{row.reason}"[:500]
    item = Adjustment(year=row.on_date.year, unit_code=row.unit_code, kind="deduction", points_x100=x100,
                      reason=reason, basis=row.basis, veto=False, created_at=now())
    uow.session.add(item)
    uow.session.flush()
    uow.audit("adjust.add", {"id": item.id, "year": item.year, "unit": item.unit_code, "kind": "deduction",
                             "points_x100": x100, "reason": reason, "basis": item.basis, "veto": False,
                             "action_id": row.id})
    return int(item.id)


def _unit_name(session: Any, code: str) -> str:
    return session.exec(select(Unit.name).where(Unit.code == code)).first() or ""


def _json(a: Action, names: dict[str, str], as_of: date | None = None) -> dict[str, Any]:
    revoked = a.revoked_on is not None and (as_of is None or a.revoked_on <= as_of)
    return {"id": a.id, "date": a.on_date.isoformat(), "year": a.on_date.year, "unit": a.unit_code,
            "name": names.get(a.unit_code, ""), "kind": a.kind, "target": a.target, "target_cn": TARGETS[a.target],
            "person": a.person, "reason": a.reason, "basis": a.basis, "taken_by": a.taken_by,
            "items": json.loads(a.items or "[]"), "adjustment_id": a.adjustment_id, "revoked": revoked,
            "revoked_on": a.revoked_on.isoformat() if revoked and a.revoked_on else None,
            "revoke_reason": a.revoke_reason if revoked else "",
            "source": "import" if a.import_id else "manual"}


# ------------------------------------------------------------------ import


def _check_rows(uow: Any, sheet: str, rows: list) -> list[Problem]:
    """What the store refuses in an accountability workbook, row by row, and duplicates within the file."""
    problems: list[Problem] = []
    seen: dict[tuple, int] = {}
    for r in rows:
        try:
            found = _problems(uow.session, _new(r))
        except DjctlError as exc:  # no scheme for the measure's year
            found = [("日期", exc.message + (f"（{exc.hint}）" if exc.hint else ""))]
        problems.extend(Problem(m, sheet, r.row, c) for c, m in found)
        key = (r.code, r.kind, r.target, r.on_date, r.reason.strip())
        if key in seen:
            problems.append(Problem(f"与第 {seen[key]} 行重复（同一单位、措施、对象、日期和事由）", sheet, r.row, "事由"))
        seen.setdefault(key, r.row)
        dup = _same_action(uow.session, r)
        if dup is not None:  # a measure imported before (another file): never counted twice
            problems.append(Problem(f"数据库中已有相同的问责措施（编号 {dup.id}）", sheet, r.row, "事由"))
    return problems


def _same_action(session: Any, r: Any) -> Action | None:
    """The standing measure with this unit, kind, target, date and reason, if any."""
    return session.exec(select(Action).where(
        Action.unit_code == r.code, Action.kind == r.kind, Action.target == r.target, Action.on_date == r.on_date,
        Action.reason == r.reason.strip(), Action.revoked_on == None)).first()  # noqa: E711


def _all_stored(uow: Any, rows: list) -> bool:
    """Every row is a standing measure already: the file says what the store says (re-saved by another program)."""
    return bool(rows) and all(_same_action(uow.session, r) is not None for r in rows)


def _new(r: Any) -> NewAction:
    return NewAction(r.code, r.kind, r.target, r.person, r.on_date, r.reason, r.basis, r.taken_by, r.items)


def _write_rows(uow: Any, imp: ImportFile, rows: list, result: FileResult) -> None:
    made = [_row(uow.session, _new(r), imp.id, imp.created_at) for r in rows]
    uow.session.add_all(made)
    uow.session.flush()
    ids = [int(m.id) for m in made]
    result.extra["ids"] = ids
    uow.audit("action.import", {"file": Path(imp.path).name, "sha256": imp.sha256, "import_id": imp.id,
                                "rows": len(ids), "ids": ids, "row_digests": row_digests(uow, action=ids)})


def import_actions(store: Store, path: Path, *, dry_run: bool = False) -> FileResult:
    """Import an accountability workbook, all or nothing; the same file again changes nothing."""
    from djctl.io.actions_xlsx import read_actions

    spec = WorkbookImport(KIND, read_actions, _check_rows, _write_rows, "问责措施表有错误，未导入任何数据",
                          same=_all_stored, what="问责措施表")
    return import_workbook(store, path, spec, dry_run=dry_run)


# ------------------------------------------------------------------ revoke and reads


def revoke_action(store: Store, action_id: int, on_date: date, reason: str) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise InputError("撤销原因不能为空")
    with store.write() as uow:
        s = uow.session
        a = s.get(Action, action_id)
        if a is None:
            raise InputError(f"没有编号为 {action_id} 的问责措施", hint="用 djctl action list --year 年度 --all 查看编号")
        if a.revoked_on is not None:
            raise InputError(f"问责措施 {action_id} 已于 {a.revoked_on.isoformat()} 撤销（原因：{a.revoke_reason}），不能重复撤销")
        if on_date < a.on_date:
            raise InputError(f"撤销日期 {on_date.isoformat()} 早于措施日期 {a.on_date.isoformat()}")
        a.revoked_on, a.revoke_reason = on_date, reason
        s.add(a)
        uow.audit("action.revoke", {"id": a.id, "date": on_date.isoformat(), "reason": reason,
                                    "row_digests": row_digests(uow, action=[a.id])})
        doc = _json(a, {a.unit_code: _unit_name(s, a.unit_code)})
    return doc


def actions_between(session: Any, start: date, end: date, as_of: date | None = None) -> list[Action]:
    """Measures dated in [start, end] that stood (were not revoked) as of `as_of` (default: `end`)."""
    as_of = as_of or end
    q = (select(Action).where(Action.on_date >= start, Action.on_date <= end, Action.on_date <= as_of)
         .order_by(Action.on_date, Action.id))
    return [a for a in session.exec(q) if a.revoked_on is None or a.revoked_on > as_of]


def list_actions(store: Store, year: int, *, as_of: date | None = None, unit: str | None = None,
                 include_revoked: bool = False) -> dict[str, Any]:
    """The year's measures as they stood on `as_of` (default: the year's end), with counts by kind."""
    from djctl.services.setup import load_scheme

    end = date(year, 12, 31)
    as_of = as_of or end
    with store.read() as uow:
        s = uow.session
        kinds = load_scheme(s, year).accountability.kinds
        q = (select(Action).where(Action.on_date >= date(year, 1, 1), Action.on_date <= min(end, as_of))
             .order_by(Action.on_date, Action.id))
        if unit:
            if s.exec(select(Unit).where(Unit.code == unit)).first() is None:
                raise InputError(f"单位编码「{unit}」不在名册中", hint="用 djctl org list 查看单位编码")
            q = q.where(Action.unit_code == unit)
        rows = s.exec(q).all()
        names = {u.code: u.name for u in s.exec(select(Unit))}
    items = [_json(a, names, as_of) for a in rows]
    standing = [i for i in items if not i["revoked"]]
    return {"year": year, "as_of": as_of.isoformat(),
            "counts": [{"kind": k, "count": n} for k, n in counts_by_kind((i["kind"] for i in standing), kinds)],
            "units": len({i["unit"] for i in standing}),
            "actions": items if include_revoked else standing,
            "revoked_hidden": 0 if include_revoked else len(items) - len(standing)}


def quarter_summary(session: Any, start: date, end: date, kinds: tuple[str, ...], names: dict[str, str],
                    name_units: bool, period_word: str = "本季度") -> dict[str, Any]:
    """The paragraph on accountability for a period (a quarter's bulletin, the year's result), as plain data
    and one sentence; measures revoked by the period's end are left out."""
    acts = actions_between(session, start, end)
    counts = counts_by_kind((a.kind for a in acts), kinds)
    if not acts:
        return {"count": 0, "counts": [], "text": f"{period_word}未对考核单位采取问责措施。", "rows": []}
    parts = "，".join(f"{k} {n} 次" for k, n in counts)
    text = f"{period_word}对 {len({a.unit_code for a in acts})} 个单位采取问责措施 {len(acts)} 次：{parts}。"
    rows = [[f"{a.on_date.year}年{a.on_date.month}月{a.on_date.day}日", names.get(a.unit_code, a.unit_code),
             a.kind + ("（书记）" if a.target == "secretary" else ""), a.reason] for a in acts] if name_units else []
    return {"count": len(acts), "counts": [{"kind": k, "count": n} for k, n in counts], "text": text, "rows": rows}


def write_template(store: Store, path: Path, year: int) -> Path:
    from djctl.io.actions_xlsx import write_actions_template

    with store.read() as uow:
        kinds = _kinds(uow.session, year)
    return write_actions_template(path, kinds)


def describe(a: dict[str, Any]) -> str:
    who = f"{a['name'] or a['unit']}" + (f"书记{a['person']}" if a["target"] == "secretary" else "")
    extra = f"，关联整改事项 {'、'.join(map(str, a['items']))}" if a["items"] else ""
    ded = f"，同时记减分项 {a['adjustment_id']} 号" if a.get("adjustment_id") else ""
    return f"{a['date']} 对{who}{a['kind']}：{a['reason']}（依据：{a['basis']}{extra}{ded}）"

