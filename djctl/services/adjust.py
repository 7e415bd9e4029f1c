"""Bonus (加分项) and deduction (减分项) items: add, import, list with the scheme's caps, revoke.

Items are never deleted: a wrong item is revoked with a reason and stays visible with `--all`.
A veto (一票否决) is a deduction-type item; its points may be 0 and, when not 0, count as a deduction.

Read API for the annual engine: `adjustments_for_year(session, year)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.points import fmt, from_x100, to_float, to_x100
from djctl.domain.textclean import clean_long_text
from djctl.errors import InputError, Problem, no_scheme
from djctl.services.importing import FileResult, WorkbookImport, import_workbook
from djctl.services.votes import active_units, unit_problem
from djctl.store.engine import Store, now
from djctl.store.tables import Adjustment, ImportFile, Scheme, Unit

KIND = "adjust"
BONUS, DEDUCTION = "bonus", "deduction"
KIND_CN = {BONUS: "加分", DEDUCTION: "减分"}
MAX_ITEM_POINTS = Decimal(100)


@dataclass(frozen=True)
class AdjustmentItem:
    """One bonus or deduction item that counts (not revoked). Points in integer hundredths."""

    id: int
    kind: str  # bonus / deduction
    points_x100: int
    reason: str
    basis: str
    veto: bool


def item_problem(kind: str, points: Decimal, veto: bool) -> str | None:
    """Why an item is not acceptable (None when it is): points > 0 with at most one decimal, ≤ 100;
    a veto must be a deduction and may have 0 points."""
    if kind not in KIND_CN:
        return f"类型「{kind}」无效，应为加分或减分"
    if veto and kind != DEDUCTION:
        return "一票否决项只能是减分项（用 --deduct，分值可以为 0）"
    if points < 0:
        return f"分值 {points} 不能为负数（减分项也填正数）"
    if points == 0 and not veto:
        return "分值应大于 0（只有一票否决项可以为 0 分）"
    if points > MAX_ITEM_POINTS:
        return f"分值 {points} 超过单项上限 {MAX_ITEM_POINTS}"
    if points != points.quantize(Decimal("0.1")):
        return f"分值 {points} 最多保留一位小数"
    return None


def _scheme_years(session: Any) -> set[int]:
    return {r.year for r in session.exec(select(Scheme))}


def _item_json(a: Adjustment, names: dict[str, str]) -> dict[str, Any]:
    return {"id": a.id, "year": a.year, "unit": a.unit_code, "name": names.get(a.unit_code, ""), "kind": a.kind,
            "kind_cn": KIND_CN.get(a.kind, a.kind), "points": to_float(from_x100(a.points_x100)),
            "reason": a.reason, "basis": a.basis, "veto": a.veto, "revoked": a.revoked_at is not None,
            "revoked_at": a.revoked_at.isoformat() if a.revoked_at else None, "revoke_reason": a.revoke_reason,
            "source": "import" if a.import_id else "manual", "import_id": a.import_id,
            "decided_on": a.decided_on.isoformat() if a.decided_on else None}


def _same_item(session: Any, year: int, code: str, kind: str, points_x100: int, reason: str) -> Adjustment | None:
    return session.exec(select(Adjustment).where(
        Adjustment.year == year, Adjustment.unit_code == code, Adjustment.kind == kind,
        Adjustment.points_x100 == points_x100, Adjustment.reason == reason,
        Adjustment.revoked_at == None)).first()  # noqa: E711


# ------------------------------------------------------------------ add


def add_adjustment(store: Store, unit: str, *, year: int, kind: str, points: Decimal, reason: str, basis: str,
                   veto: bool = False, on_date: date | None = None) -> dict[str, Any]:
    """Add one item by hand, decided `on_date` (default 31 December of `year`); returns it as JSON. An identical
    item that still counts is refused."""
    decided = on_date or date(year, 12, 31)
    problem = item_problem(kind, points, veto)
    if problem:
        raise InputError(problem)
    reason, basis = clean_long_text(reason), clean_long_text(basis)  # typed text too loses hidden characters
    if not reason or not basis:
        raise InputError("事由和依据都不能为空", hint="依据填文件文号或会议纪要等，如：示委发〔2024〕12号")
    x100 = to_x100(points)
    with store.write() as uow:
        s = uow.session
        if year not in _scheme_years(s):
            raise no_scheme(year)
        msg = unit_problem(s, active_units(s, year), unit, year)
        if msg:
            raise InputError(msg, hint="用 djctl org list 查看单位编码")
        dup = _same_item(s, year, unit, kind, x100, reason)
        if dup is not None:
            raise InputError(f"单位 {unit} 已有相同的{KIND_CN[kind]}项（编号 {dup.id}：{dup.reason}，{fmt(dup.points_x100)} 分）",
                             hint="如确为另一项，请在事由中写明区别")
        item = Adjustment(year=year, unit_code=unit, kind=kind, points_x100=x100, reason=reason, basis=basis,
                          veto=veto, created_at=now(), decided_on=decided)
        s.add(item)
        s.flush()
        names = {unit: s.exec(select(Unit.name).where(Unit.code == unit)).first() or ""}
        doc = _item_json(item, names)
        uow.audit("adjust.add", {"id": item.id, "year": year, "unit": unit, "kind": kind, "points_x100": x100,
                                 "reason": reason, "basis": basis, "veto": veto, "date": decided.isoformat()})
    return doc


# ------------------------------------------------------------------ import


def _check_rows(uow: Any, sheet: str, rows: list) -> list[Problem]:
    """What the store refuses in an adjustments workbook: years without a scheme, units not in register,
    items the rules refuse, duplicates within the file or of items that still count."""
    s = uow.session
    years = _scheme_years(s)
    units_by_year = {y: active_units(s, y) for y in {r.year for r in rows}}
    problems: list[Problem] = []
    seen: dict[tuple, int] = {}
    for r in rows:
        if r.year not in years:
            problems.append(Problem(f"数据库中没有 {r.year} 年度的考核方案", sheet, r.row, "年度"))
        msg = unit_problem(s, units_by_year[r.year], r.code, r.year)
        if msg:
            problems.append(Problem(msg, sheet, r.row, "单位编码"))
        msg = item_problem(r.kind, r.points, r.veto)
        if msg:
            problems.append(Problem(msg, sheet, r.row, "一票否决" if msg.startswith("一票否决") else "分值"))
            continue
        key = (r.year, r.code, r.kind, to_x100(r.points), r.reason)
        if key in seen:
            problems.append(Problem(f"与第 {seen[key]} 行重复（同一单位、类型、分值和事由）", sheet, r.row, "事由"))
            continue
        seen[key] = r.row
        dup = _same_item(s, *key)
        if dup is not None:
            problems.append(Problem(f"数据库中已有相同的{KIND_CN[r.kind]}项（编号 {dup.id}）", sheet, r.row, "事由"))
    return problems


def _write_rows(uow: Any, imp: ImportFile, rows: list, result: FileResult) -> None:
    items = [Adjustment(year=r.year, unit_code=r.code, kind=r.kind, points_x100=to_x100(r.points),
                        reason=r.reason, basis=r.basis, veto=r.veto, import_id=imp.id, created_at=imp.created_at,
                        decided_on=date(r.year, 12, 31))
             for r in rows]
    uow.session.add_all(items)
    uow.session.flush()
    result.extra["ids"] = [a.id for a in items]
    uow.audit("adjust.import", {
        "file": Path(imp.path).name, "sha256": imp.sha256, "import_id": imp.id,
        "rows": [[a.id, a.year, a.unit_code, a.kind, a.points_x100, a.reason, a.basis, a.veto] for a in items]})


def import_adjustments(store: Store, path: Path, *, dry_run: bool = False) -> FileResult:
    """Import an adjustments workbook, all or nothing; the same file again changes nothing."""
    from djctl.io.adjust_xlsx import read_adjustments

    def all_stored(uow: Any, rows: list) -> bool:  # re-saved by another program: what the store says already
        return bool(rows) and all(_same_item(uow.session, r.year, r.code, r.kind, to_x100(r.points), r.reason)
                                  is not None for r in rows)

    spec = WorkbookImport(KIND, read_adjustments, _check_rows, _write_rows, "加减分项表有错误，未导入任何数据", same=all_stored, what="加减分项表",
                          period=lambda rows: str(rows[0].year) if len({r.year for r in rows}) == 1 else "")
    return import_workbook(store, path, spec, dry_run=dry_run)


# ------------------------------------------------------------------ revoke


def revoke_adjustment(store: Store, item_id: int, reason: str) -> dict[str, Any]:
    """Mark an item revoked (never deleted); revoking twice is refused."""
    reason = reason.strip()
    if not reason:
        raise InputError("撤销原因不能为空")
    with store.write() as uow:
        s = uow.session
        item = s.get(Adjustment, item_id)
        if item is None:
            raise InputError(f"没有编号为 {item_id} 的加减分项", hint="用 djctl adjust list --year 年度 --all 查看编号")
        if item.revoked_at is not None:
            raise InputError(f"加减分项 {item_id} 已于 {item.revoked_at:%Y-%m-%d %H:%M} 撤销（原因：{item.revoke_reason}），不能重复撤销")
        item.revoked_at = now()
        item.revoke_reason = reason
        s.add(item)
        s.flush()
        names = {item.unit_code: s.exec(select(Unit.name).where(Unit.code == item.unit_code)).first() or ""}
        doc = _item_json(item, names)
        uow.audit("adjust.revoke", {"id": item.id, "reason": reason, "item": {
            "year": item.year, "unit": item.unit_code, "kind": item.kind, "points_x100": item.points_x100,
            "reason": item.reason, "basis": item.basis, "veto": item.veto, "import_id": item.import_id}})
    return doc


# ------------------------------------------------------------------ reads


def adjustments_for_year(session: Any, year: int) -> dict[str, list[AdjustmentItem]]:
    """Items of `year` that count (not revoked): {unit_code: [AdjustmentItem...]} sorted by code, then id."""
    out: dict[str, list[AdjustmentItem]] = {}
    for a in session.exec(select(Adjustment).where(Adjustment.year == year, Adjustment.revoked_at == None)  # noqa: E711
                          .order_by(Adjustment.unit_code, Adjustment.id)):
        out.setdefault(a.unit_code, []).append(
            AdjustmentItem(a.id, a.kind, int(a.points_x100), a.reason, a.basis, bool(a.veto)))
    return out


def list_adjustments(store: Store, year: int, *, unit: str | None = None, include_revoked: bool = False) -> dict[str, Any]:
    """Items and, per unit, raw and capped sums against the scheme's caps (revoked items never count)."""
    from djctl.services.setup import load_scheme

    with store.read() as uow:
        s = uow.session
        annual = load_scheme(s, year).annual
        q = select(Adjustment).where(Adjustment.year == year)
        if unit:
            if s.exec(select(Unit).where(Unit.code == unit)).first() is None:
                raise InputError(f"单位编码「{unit}」不在名册中", hint="用 djctl org list 查看单位编码")
            q = q.where(Adjustment.unit_code == unit)
        items = s.exec(q.order_by(Adjustment.unit_code, Adjustment.id)).all()
        names = {u.code: u.name for u in s.exec(select(Unit))}
    bcap, dcap = Decimal(annual.bonus_cap), Decimal(annual.deduction_cap)
    sums: dict[str, dict[str, Any]] = {}
    for a in items:
        if a.revoked_at is not None:
            continue
        u = sums.setdefault(a.unit_code, {"bonus": 0, "deduction": 0, "veto": False, "items": 0})
        u[a.kind] += a.points_x100
        u["veto"] = u["veto"] or a.veto
        u["items"] += 1
    units = []
    for code, u in sorted(sums.items()):
        b, d = from_x100(u["bonus"]), from_x100(u["deduction"])
        units.append({"unit": code, "name": names.get(code, ""), "items": u["items"],
                      "bonus": to_float(b), "bonus_capped": to_float(min(b, bcap)), "bonus_over_cap": b > bcap,
                      "deduction": to_float(d), "deduction_capped": to_float(min(d, dcap)),
                      "deduction_over_cap": d > dcap, "veto": u["veto"]})
    shown = [a for a in items if include_revoked or a.revoked_at is None]
    return {"year": year, "caps": {"bonus": to_float(bcap), "deduction": to_float(dcap)},
            "items": [_item_json(a, names) for a in shown], "units": units,
            "revoked_hidden": 0 if include_revoked else sum(1 for a in items if a.revoked_at is not None)}


# ------------------------------------------------------------------ template


def write_template(path: Path) -> Path:
    from djctl.io.adjust_xlsx import write_adjust_template

    return write_adjust_template(path)
