"""Branch tiers (分类定级): set a tier, import 验收 results, history, and the year's statistics.

The history in `tier_change` is the truth: a branch's tier on a day is the `to_tier` of its latest change
dated on or before that day (ties broken by entry order). A branch with no recorded change at all falls back
to the tier on its `branch` row; a branch whose first recorded change (its first rating) is dated after the
day had no tier then. Changes are entered in date order: a change dated before the branch's latest change is
refused, so the history always reads forwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.periods import active_on
from djctl.domain.tiers import movements, normalize_tier, steps_up, tier_counts, tier_rates
from djctl.errors import DjctlError, InputError, Problem
from djctl.services.importing import UNCHANGED, FileResult, WorkbookImport, import_workbook
from djctl.store.content import row_digests
from djctl.store.engine import Store, UnitOfWork, now
from djctl.store.tables import Branch, ImportFile, TierChange, Unit

#: Bases a person may give with `djctl tier set`; 名册导入 is written by the roster import.
SET_BASES: tuple[str, ...] = ("验收", "回头看", "申报")
BASES: tuple[str, ...] = SET_BASES + ("名册导入",)
IMPORT_BASIS = "验收"


def tier_label(tier: str | None) -> str:
    """"过硬" → "过硬支部" (the name people read); None → "未定级"."""
    return f"{tier}支部" if tier else "未定级"


def direction(from_tier: str | None, to_tier: str) -> str:
    """up / down / same / new."""
    if from_tier is None:
        return "new"
    d = steps_up(from_tier, to_tier)
    return "up" if d > 0 else "down" if d < 0 else "same"


DIRECTION_CN = {"up": "升级", "down": "降级", "same": "未变", "new": "首次定级"}


# ------------------------------------------------------------------ one change


@dataclass
class TierChangeResult:
    branch: str
    name: str
    from_tier: str | None
    to_tier: str
    on_date: date
    basis: str
    changed: bool
    change_id: int | None = None
    note: str = ""
    forced: bool = False
    branch_id: int | None = None  # the branch row changed (for the caller's audit digests)

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.branch, "name": self.name, "from": self.from_tier, "to": self.to_tier,
                "date": self.on_date.isoformat(), "basis": self.basis, "changed": self.changed,
                "direction": direction(self.from_tier, self.to_tier) if self.changed else "same",
                "id": self.change_id, "note": self.note, "forced": self.forced}


def _latest_change(session, branch_code: str) -> TierChange | None:
    return session.exec(select(TierChange).where(TierChange.branch_code == branch_code)
                        .order_by(TierChange.on_date.desc(), TierChange.id.desc())).first()


def check_change(branch: Branch, latest: TierChange | None, to_tier: str, on_date: date, *,
                 force: bool) -> tuple[str, str] | None:
    """Why a change of `branch` to `to_tier` on `on_date` is refused: ("date" | "steps", Chinese reason)."""
    if latest is not None and on_date < latest.on_date:
        return "date", (f"日期 {on_date.isoformat()} 早于该支部最近一次等次变动（{latest.on_date.isoformat()}，"
                f"{tier_label(latest.from_tier) if latest.from_tier else '首次定级'} → {tier_label(latest.to_tier)}），"
                "等次变动须按时间顺序登记")
    current = branch.tier
    if not force and steps_up(current, to_tier) > 1:
        return "steps", (f"由{tier_label(current)}直接升为{tier_label(to_tier)}，一次升了 {steps_up(current, to_tier)} 个等次；"
                "等次原则上逐级晋升")
    return None


def change_tier(uow: UnitOfWork, branch_code: str, to_tier: str, on_date: date, basis: str, *,
                note: str = "", source_ref: str = "", force: bool = False, audit: bool = True) -> TierChangeResult:
    """Change one branch's tier inside the caller's transaction (look-back imports call this).

    Appends a `tier_change` row and updates the branch row; the same tier changes nothing. Raises
    InputError (nothing written by the caller's rollback) for an unknown branch or tier, a basis not in
    BASES, a date before the branch's latest change, or a rise of more than one tier without `force`.
    With `audit=False` the caller covers the change in its own audit event.
    """
    s = uow.session
    try:
        to_tier = normalize_tier(to_tier)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if basis not in BASES:
        raise InputError(f"等次变动依据「{basis}」无效，应为 {' / '.join(BASES)} 之一")
    branch = s.exec(select(Branch).where(Branch.code == branch_code)).first()
    if branch is None:
        raise InputError(f"找不到支部「{branch_code}」", hint="用 djctl org list --branches 查看支部编码")
    result = TierChangeResult(branch.code, branch.name, branch.tier, to_tier, on_date, basis, False, note=note,
                              forced=force)
    if branch.tier == to_tier:
        return result
    refused = check_change(branch, _latest_change(s, branch.code), to_tier, on_date, force=force)
    if refused:
        kind, why = refused
        hint = "确需越级晋升请加 --force（并在 --note 写明依据）" if kind == "steps" else None
        raise InputError(f"支部 {branch.code}（{branch.name}）：{why}", hint=hint)
    t = now()
    row = TierChange(branch_code=branch.code, from_tier=branch.tier, to_tier=to_tier, on_date=on_date, basis=basis,
                     note=note, source_ref=source_ref, created_at=t)
    s.add(row)
    branch.tier, branch.tier_date, branch.updated_at = to_tier, on_date, t
    s.add(branch)
    s.flush()
    result.changed, result.change_id, result.branch_id = True, row.id, branch.id
    if audit:
        uow.audit("tier.set", {"branch": branch.code, "from": result.from_tier, "to": to_tier,
                               "date": on_date.isoformat(), "basis": basis, "note": note, "source_ref": source_ref,
                               "forced": force, "tier_change_id": row.id,
                               "row_digests": row_digests(uow, branch=[branch.id], tier_change=[row.id])})
    return result


def set_tier(store: Store, branch_code: str, tier: str, on_date: date, basis: str, *, note: str = "",
             force: bool = False) -> TierChangeResult:
    """`djctl tier set`: one change in its own transaction, audited."""
    with store.write() as uow:
        return change_tier(uow, branch_code, tier, on_date, basis, note=note, force=force)


def history(store: Store, branch_code: str) -> dict[str, Any]:
    with store.read() as uow:
        s = uow.session
        b = s.exec(select(Branch).where(Branch.code == branch_code)).first()
        if b is None:
            raise InputError(f"找不到支部「{branch_code}」", hint="用 djctl org list --branches 查看支部编码")
        rows = s.exec(select(TierChange).where(TierChange.branch_code == branch_code)
                      .order_by(TierChange.on_date, TierChange.id)).all()
    return {"branch": b.code, "name": b.name, "unit": b.unit_code, "tier": b.tier,
            "tier_date": b.tier_date.isoformat() if b.tier_date else None, "active": b.active,
            "history": [{"id": r.id, "date": r.on_date.isoformat(), "from": r.from_tier, "to": r.to_tier,
                         "direction": direction(r.from_tier, r.to_tier), "basis": r.basis, "note": r.note,
                         "source_ref": r.source_ref} for r in rows]}


# ------------------------------------------------------------------ import of 验收 results


def import_tiers(store: Store, path: Path, *, dry_run: bool = False) -> FileResult:
    """Import a workbook of 验收 results, all or nothing; the same file twice changes nothing. A dry run
    rehearses the changes (and rolls them back) to report how many branches would change."""
    from djctl.io.tier_xlsx import SHEET_HINT, read_tier_results

    planned: list[tuple[Any, Branch]] = []

    def read(p: Path) -> tuple[str, list[Any]]:
        if not p.is_file():
            raise InputError("文件不存在", path=str(p))
        return read_tier_results(p)

    def check(uow: UnitOfWork, sheet: str, rows: list[Any]) -> list[Problem]:
        s = uow.session
        branches = {b.code: b for b in s.exec(select(Branch))}
        problems: list[Problem] = []
        for r in rows:
            b = branches.get(r.code)
            if b is None:
                problems.append(Problem(f"支部编码「{r.code}」不在名册中", sheet, r.row, "支部编码"))
                continue
            refused = check_change(b, _latest_change(s, b.code), r.tier, r.on_date, force=r.force)
            if refused and b.tier != r.tier:
                kind, why = refused
                if kind == "steps":
                    why += "；确需越级晋升请在「强制」列填「是」"
                problems.append(Problem(why, sheet, r.row, "评定日期" if kind == "date" else "等次"))
                continue
            planned.append((r, b))
        return problems

    def write(uow: UnitOfWork, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        changes, same = [], []
        for r, b in planned:
            res = change_tier(uow, b.code, r.tier, r.on_date, IMPORT_BASIS, note=r.note, source_ref=f"import:{imp.id}",
                              force=r.force, audit=False)
            (changes.append(res) if res.changed else same.append(b.code))
        result.extra.update({"changed": len(changes), "same": len(same), "changes": [c.to_json() for c in changes]})
        if not changes:  # every branch already stands at the tier the file gives it
            result.status = UNCHANGED
            return
        uow.audit("tier.import", {"file": path.name, "sha256": imp.sha256, "import_id": imp.id,
                                  "rows": len(rows), "same": same, "period": imp.period,
                                  "changes": [[c.branch, c.from_tier, c.to_tier, c.on_date.isoformat(), c.note,
                                               c.forced, c.change_id] for c in changes],
                                  "row_digests": row_digests(uow, branch=[c.branch_id for c in changes],
                                                             tier_change=[c.change_id for c in changes])})

    spec = WorkbookImport("tier", read, check, write, f"等次文件有错误，未导入任何数据（{SHEET_HINT}）",
                          period=lambda rows: str(max(r.on_date for r in rows).year) if rows else "", rehearse=True,
                          what="等次验收结果表")
    result = import_workbook(store, path, spec, dry_run=dry_run)
    result.extra.pop("import_id", None)
    return result


# ------------------------------------------------------------------ statistics


def _unit_active_at(u: Unit | None, day: date) -> bool:
    return u is None or active_on(day, u.active_from, u.active_to)


def tiers_at(branch: Branch, changes: list[TierChange], day: date) -> str | None:
    """The branch's tier on `day` from its changes (sorted by date, then id); see the module doc."""
    if not changes:
        return branch.tier
    found = None
    for c in changes:
        if c.on_date <= day:
            found = c.to_tier
        else:
            break
    if found is not None:
        return found
    return changes[0].from_tier  # None: not yet rated on that day


def _num(d: Decimal | None) -> float | None:
    return None if d is None else float(d)


def _pct(d: Decimal | None) -> str:
    if d is None:
        return "—"
    from djctl.domain.points import fmt

    return f"{fmt(d * 100)}%"


def tier_stats(store: Store, year: int, *, by: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """The year's tier statistics (DESIGN §4 `tier stats --json`).

    Rates are shares (0–1) rounded half-up to 4 decimals (`rate_standard`, `rate_strong`), with the same
    figures as percentage text in `rate_standard_text` / `rate_strong_text`. `by` is None, "unit" or "group".
    """
    from djctl.domain.scheme import Scheme
    from djctl.services.setup import load_scheme

    end = as_of or date(year, 12, 31)  # as_of: figures part-way through the year (quarterly materials)
    prev_end = date(year - 1, 12, 31)
    with store.read() as uow:
        s = uow.session
        from djctl.store.rows import plain_rows

        # read-only rows (every column): thousands of branches cost a fraction of ORM objects
        branches = plain_rows(s, Branch, Branch.active == True, order_by=Branch.code)  # noqa: E712
        units = {u.code: u for u in plain_rows(s, Unit)}
        changes: dict[str, list[TierChange]] = {}
        for c in s.exec(select(TierChange).order_by(TierChange.on_date, TierChange.id)):
            changes.setdefault(c.branch_code, []).append(c)
        from djctl.services.tier_plans import load_plans, plan_summary

        plans = load_plans(s)
        try:
            scheme = load_scheme(s, year)
            targets_source = "scheme"
        except DjctlError:
            scheme = Scheme(year=year)
            targets_source = "default"
    rows = []
    unrated = []
    for b in branches:
        u = units.get(b.unit_code)
        if not _unit_active_at(u, end):
            continue
        ch = changes.get(b.code, [])
        now_tier = tiers_at(b, ch, end)
        before = tiers_at(b, ch, prev_end) if ch else b.tier
        if now_tier is None:
            unrated.append(b.code)
            continue
        rows.append({"branch": b.code, "name": b.name, "unit": b.unit_code, "unit_name": u.name if u else "",
                     "group": u.group_name if u else "", "from": before, "to": now_tier,
                     "direction": direction(before, now_tier)})
    counts = tier_counts(r["to"] for r in rows)
    std, strong = tier_rates(counts)
    scope = scheme.tiers.rate_scope
    org_scope = None
    if scope == "organisations":  # 基层党组织: branches plus the 机关党委 and 党总支 (domain.tiers)
        from djctl.domain.tiers import organisation_standard_rate

        by_unit: dict[str, list[str]] = {}
        for r in rows:
            by_unit.setdefault(r["unit"], []).append(r["to"])
        kinds = {c: u.kind for c, u in units.items() if _unit_active_at(u, end)}
        std, met, total = organisation_standard_rate(by_unit, kinds)
        org_scope = {"organisations": total, "standard": met}
    t_std, t_strong = scheme.tiers.target_standard, scheme.tiers.target_strong
    mv = movements((r["from"], r["to"]) for r in rows)
    mv["changed"] = [{"branch": r["branch"], "name": r["name"], "unit": r["unit"], "from": r["from"], "to": r["to"],
                      "direction": r["direction"]} for r in rows if r["direction"] != "same"]
    doc: dict[str, Any] = {
        "year": year,
        "as_of": end.isoformat(),
        "branches": len(rows),
        "counts": counts,
        "rate_standard": _num(std),
        "rate_strong": _num(strong),
        "rate_scope": scope,
        "scope_counts": org_scope,
        "rate_standard_text": _pct(std),
        "rate_strong_text": _pct(strong),
        "rates_are": "share",
        "targets": {"达标率": float(t_std), "过硬率": float(t_strong)},
        "targets_text": {"达标率": _pct(t_std), "过硬率": _pct(t_strong)},
        "targets_source": targets_source,
        "met": {"达标率": std is not None and std >= t_std, "过硬率": strong is not None and strong >= t_strong},
        "movements": mv,
        "unrated": unrated,
        "plans": plan_summary(plans, [r["branch"] for r in rows if r["to"] == "未达标"], end),
    }
    if by in ("unit", "group"):
        key = "unit" if by == "unit" else "group"
        groups: dict[str, list[dict[str, Any]]] = {}
        names: dict[str, str] = {}
        for r in rows:
            groups.setdefault(r[key], []).append(r)
            names[r[key]] = r["unit_name"] if by == "unit" else r["group"]
        breakdown = []
        for k in sorted(groups):
            g = groups[k]
            c = tier_counts(x["to"] for x in g)
            gs, gg = tier_rates(c)
            breakdown.append({by: k, "name": names[k], "branches": len(g), "counts": c,
                              "rate_standard": _num(gs), "rate_strong": _num(gg),
                              "rate_standard_text": _pct(gs), "rate_strong_text": _pct(gg),
                              "met": {"达标率": gs is not None and gs >= t_std,
                                      "过硬率": gg is not None and gg >= t_strong},
                              "up": sum(1 for x in g if x["direction"] == "up"),
                              "down": sum(1 for x in g if x["direction"] == "down")})
        doc["by"] = by
        doc["rows"] = breakdown
    return doc


def write_stats_xlsx(doc: dict[str, Any], path: Path) -> Path:
    """The statistics as a plain workbook: summary, per-row breakdown, movement matrix, changed branches."""
    from djctl.io.tier_xlsx import write_stats_workbook

    write_stats_workbook(doc, path)
    return path
