"""The inspector pool (检查人员) and the inspectors of a draw (双随机, 回避).

`import_pool` reads the sheet 检查人员 and replaces the active pool in one transaction (the old rows stay,
inactive; the same content again changes nothing). `assign` adds the inspectors to a draw record before it
is stored: the pool, the conflicts of every drawn unit with their reasons (from the scheme's [inspection]
rules, the roster and earlier draws), and the assignment `djctl.domain.inspection.assign_inspectors` makes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.inspection import InspectorShortage, assign_inspectors
from djctl.errors import DjctlError
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import Branch, Draw, Inspector, Unit

ACTION = "inspector.import"


@dataclass
class PoolImport:
    path: str
    sha256: str
    status: str  # imported / unchanged
    rows: int
    replaced: int = 0
    codes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "status": self.status, "rows": self.rows,
                "replaced": self.replaced, "codes": self.codes}


def _active(session) -> list[Inspector]:
    return list(session.exec(select(Inspector).where(Inspector.active == True).order_by(Inspector.code)))  # noqa: E712


def _pool_query() -> Any:
    from sqlalchemy import select as sa_select, true

    t = Inspector.__table__
    return sa_select(t.c.id).where(t.c.active == true()).limit(1)


def _has_pool(uow: UnitOfWork) -> bool:
    """Whether any inspector is active: one statement compiled once per process (every draw asks, most stores
    have no pool; an ORM query is compiled again for every new store engine, a few ms of a 5,000-unit draw)."""
    from djctl.store.compiled import exec_cached

    return exec_cached(uow.conn, "inspectors.any", _pool_query).first() is not None


def _values(code: str, name: str, unit: str, group: str, role: str, served: str) -> tuple:
    return (code, name, unit, group, role, served)


def import_pool(store: Store, path: Path) -> PoolImport:
    """Replace the active inspector pool with the file's, through the one import pipeline (one transaction, one
    audit event, an import_file row); a pool the store already holds, in any file, is unchanged. A refused
    file raises its InputError (file, sheet, row, column), nothing written."""
    from djctl.errors import InputError, Problem
    from djctl.io.inspector_xlsx import SHEET, read_inspectors
    from djctl.services.importing import REFUSED, UNCHANGED, WorkbookImport, import_workbook
    from djctl.store.content import row_digests

    def read(p: Path) -> tuple[str, list[Any]]:
        return SHEET, read_inspectors(p)

    def check(uow: UnitOfWork, sheet: str, rows: list[Any]) -> list[Problem]:
        units = {u.code for u in uow.session.exec(select(Unit))}
        bad = [Problem(f"所在单位编码「{r.unit_code}」不在名册中", sheet, r.row, "所在单位编码")
               for r in rows if r.unit_code and r.unit_code not in units]
        return bad + [Problem(f"曾任职单位「{c}」不在名册中", sheet, r.row, "曾任职单位")
                      for r in rows for c, _ in r.served if c not in units]

    def new_values(rows: list[Any]) -> dict[str, tuple]:
        return {r.code: _values(r.code, r.name, r.unit_code, r.group, r.role, json.dumps([list(s) for s in r.served]))
                for r in rows}

    def same(uow: UnitOfWork, rows: list[Any]) -> bool:
        old = _active(uow.session)
        return {o.code: _values(o.code, o.name, o.unit_code, o.group_name, o.role, o.served) for o in old} == new_values(rows)

    def write(uow: UnitOfWork, imp: Any, rows: list[Any], result: Any) -> None:
        s = uow.session
        new = new_values(rows)
        old = _active(s)
        for o in old:
            o.active = False
            s.add(o)
        added = [Inspector(code=v[0], name=v[1], unit_code=v[2], group_name=v[3], role=v[4], served=v[5],
                           active=True, created_at=imp.created_at) for v in new.values()]
        s.add_all(added)
        s.flush()
        result.extra.update(replaced=len(old), codes=sorted(new))
        uow.audit(ACTION, {"file": Path(path).name, "sha256": imp.sha256, "import_id": imp.id, "rows": len(added),
                           "codes": sorted(new), "replaced": [o.id for o in old],
                           "row_digests": row_digests(uow, inspector=[o.id for o in old] + [a.id for a in added])})

    spec = WorkbookImport("inspectors", read, check, write, "检查人员名单有错误，未导入任何数据", same=same,
                          what="检查人员名单")
    result = import_workbook(store, path, spec)
    if result.status == REFUSED:  # the command reports a refusal as an error (exit 2), with every cell named
        raise InputError(result.message, path=str(path),
                         problems=[e for e in result.errors if e.sheet is not None] or None)
    status = "unchanged" if result.status == UNCHANGED else "imported"
    return PoolImport(str(path), result.sha256, status, result.rows, result.extra.get("replaced", 0),
                      result.extra.get("codes", []))


def list_pool(store: Store) -> list[dict[str, Any]]:
    with store.read() as uow:
        return [{"code": i.code, "name": i.name, "unit": i.unit_code, "group": i.group_name, "role": i.role,
                 "served": json.loads(i.served)} for i in _active(uow.session)]


def inspector_directory(uow: UnitOfWork) -> dict[str, dict[str, str]]:
    """code -> name, unit, role of every inspector ever in a pool (the latest row of each code)."""
    out: dict[str, dict[str, str]] = {}
    for i in uow.session.exec(select(Inspector).order_by(Inspector.id)):
        out[i.code] = {"name": i.name, "unit": i.unit_code, "role": i.role}
    return out


# ---------------------------------------------------------------------- the inspectors of a draw


def _month_index(period: str) -> int:
    """2024-03 -> 2024*12+2; a year (or a year series such as 2024-专项) counts as its December."""
    year = int(period[:4])
    tail = period[5:7]
    return year * 12 + (int(tail) - 1 if len(period) >= 7 and tail.isdigit() and period[4] == "-" else 11)


def _recent_pairs(uow: UnitOfWork, kind: str, period: str, months: int) -> dict[tuple[str, str], list[str]]:
    """(inspector, unit) -> periods in which the pair met, over the active draws of the `months` months
    before `period` (any kind; the draws of this same kind and period, being replaced, are left out)."""
    if months <= 0:
        return {}
    t = _month_index(period)
    pairs: dict[tuple[str, str], list[str]] = {}
    first_year = (t - months) // 12
    q = select(Draw).where(Draw.active == True, Draw.period >= f"{first_year:04d}")  # noqa: E712
    for d in uow.session.exec(q):
        if (d.kind, d.period) == (kind, period):
            continue
        try:
            ti = _month_index(d.period)
        except ValueError:
            continue
        if not t - months <= ti < t:
            continue
        ins = (json.loads(d.record).get("inspection") or {})
        for unit, people in (ins.get("assignments") or {}).items():
            for p in people:
                pairs.setdefault((p, unit), []).append(d.period)
    return pairs


def assign(uow: UnitOfWork, record, scheme, *, kind: str, period: str) -> list[str]:
    """Add the inspectors to `record` (in place) when the store holds a pool; notes for the user.
    Too few eligible inspectors for a unit: DjctlError (exit 2) naming the unit and the rules."""
    if not record.selected or not _has_pool(uow):
        return []
    pool = _active(uow.session)
    rules = scheme.inspection
    units = {u.code: u for u in uow.session.exec(select(Unit))}
    branch_unit = {}
    if kind != "sample":
        branch_unit = {b.code: b.unit_code for b in uow.session.exec(select(Branch))}
    year = int(period[:4])
    pairs = _recent_pairs(uow, kind, period, rules.repeat_months)
    conflicts: dict[str, dict[str, str]] = {}
    for org in record.selected:
        unit_code = branch_unit.get(org, org)
        unit = units.get(unit_code)
        group = unit.group_name if unit is not None else ""
        mine: dict[str, str] = {}
        for p in pool:
            why = []
            if rules.avoid_own_unit and p.unit_code and p.unit_code == unit_code:
                why.append("本单位人员")
            p_group = p.group_name or (units[p.unit_code].group_name if p.unit_code in units else "")
            if rules.avoid_same_group and group and p_group == group:
                why.append(f"同组单位人员（{group}）")
            served = [y for c, y in json.loads(p.served) if c == unit_code and y >= year - rules.served_years]
            if served:
                why.append(f"近 {rules.served_years} 年曾在该单位任职（{max(served)} 年）")
            met = pairs.get((p.code, org))
            if met:
                why.append(f"近 {rules.repeat_months} 个月检查过（{'、'.join(sorted(set(met)))}）")
            if why:
                mine[p.code] = "；".join(why)
        conflicts[org] = mine
    texts = [*(["本单位人员回避"] if rules.avoid_own_unit else []),
             *(["同组单位人员回避"] if rules.avoid_same_group else []),
             f"近 {rules.served_years} 年在该单位任职过的人员回避",
             f"{rules.repeat_months} 个月内检查过该单位的人员回避"]
    try:
        record.inspection = assign_inspectors(seed=record.seed, draw_label=record.label, pool=[p.code for p in pool],
                                              per_unit=rules.per_unit, units=list(record.selected),
                                              conflicts=conflicts, rules=texts)
    except InspectorShortage as exc:
        raise DjctlError(f"无法确定检查人员：{exc}",
                         hint="增加检查人员（djctl inspector import），或调整考核方案 [inspection] 的每单位人数与回避规则") from None
    n = len(pool)
    avoided = sum(len(v) for v in conflicts.values())
    return [f"检查人员：从 {n} 人中为每个抽中单位随机确定 {rules.per_unit} 人（标签 {record.inspection['label']}），"
            f"回避 {avoided} 人次"]
