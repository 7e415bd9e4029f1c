"""Roster workflow: import units and branches, list and show them, write the empty template."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.periods import active_on, month_active, standing_on
from djctl.errors import InputError, Problem
from djctl.io.outfile import save_workbook
from djctl.io.roster_xlsx import BRANCH_SHEET, UNIT_SHEET, read_roster
from djctl.services.importing import UNCHANGED, FileResult, WorkbookImport, import_workbook
from djctl.store.content import row_digests
from djctl.store.engine import Store
from djctl.store.tables import Branch, ImportFile, TierChange, Unit

UNIT_FIELDS = ("name", "kind", "group_name", "secretary", "members", "active_from", "active_to")
BRANCH_FIELDS = ("name", "unit_code", "members", "tier", "tier_date")


@dataclass
class RosterReport:
    file: FileResult
    added_units: list[str] = field(default_factory=list)
    changed_units: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    missing_units: list[str] = field(default_factory=list)
    deactivated_units: list[str] = field(default_factory=list)
    added_branches: list[str] = field(default_factory=list)
    changed_branches: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    missing_branches: list[str] = field(default_factory=list)
    deactivated_branches: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"files": [self.file.to_json()], "units": {"added": self.added_units, "changed": self.changed_units,
                "missing": self.missing_units, "deactivated": self.deactivated_units},
                "branches": {"added": self.added_branches, "changed": self.changed_branches,
                             "missing": self.missing_branches, "deactivated": self.deactivated_branches}}


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def import_roster(store: Store, path: Path, *, dry_run: bool = False, deactivate_missing: bool = False,
                  on_date: date | None = None) -> RosterReport:
    """Import a roster workbook in one transaction; the same file twice changes nothing. A dry run rehearses
    the import (and rolls it back) to report what would be added, changed and deactivated."""
    from djctl.io.roster_xlsx import BranchRow

    report = RosterReport(FileResult(str(path)))

    def read(p: Path) -> tuple[str, list[Any]]:
        units, branches = read_roster(p)
        return UNIT_SHEET, [*units, *branches]

    def check(uow: Any, sheet: str, rows: list[Any]) -> list[Problem]:
        existing = {u.code for u in uow.session.exec(select(Unit))}
        in_file = {r.code for r in rows if not isinstance(r, BranchRow)}
        return [Problem(f"所属单位编码「{b.unit_code}」不在名册或数据库中", BRANCH_SHEET, b.row, "所属单位编码")
                for b in rows if isinstance(b, BranchRow) and b.unit_code not in in_file and b.unit_code not in existing]

    def write(uow: Any, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        units = [r for r in rows if not isinstance(r, BranchRow)]
        branches = [r for r in rows if isinstance(r, BranchRow)]
        written = _apply(uow, report, units, branches, path, on_date or _clock.today(), deactivate_missing,
                         imp.created_at)
        if not any(written.values()) and not report.missing_units and not report.missing_branches:
            # the store already says what the file says (re-saved by another program)
            result.status = UNCHANGED
            return
        uow.audit("org.import", {"file": path.name, "sha256": imp.sha256, "import_id": imp.id,
                                 "units": {"added": report.added_units, "changed": report.changed_units,
                                           "deactivated": report.deactivated_units},
                                 "branches": {"added": report.added_branches, "changed": report.changed_branches,
                                              "deactivated": report.deactivated_branches},
                                 "rows": [[u.code, u.name, u.kind, u.group, u.members] for u in units]
                                 + [[b.code, b.name, b.unit_code, b.members, b.tier] for b in branches],
                                 "row_digests": row_digests(uow, **{k: [r.id for r in v] for k, v in written.items()})})

    spec = WorkbookImport("roster", read, check, write, "名册有错误，未导入任何数据", rehearse=True, what="名册")
    report.file = import_workbook(store, path, spec, dry_run=dry_run)
    report.file.extra.pop("import_id", None)
    return report


def _apply(uow: Any, report: RosterReport, units: list[Any], branches: list[Any], path: Path, when: date,
           deactivate_missing: bool, t: Any) -> dict[str, list[Any]]:
    """Write the roster's units and branches (added, changed, deactivated), noting each in `report`; the rows
    written, for the audit digests."""
    s = uow.session
    existing_units = {u.code: u for u in s.exec(select(Unit))}
    existing_branches = {b.code: b for b in s.exec(select(Branch))}
    file_units = {u.code for u in units}
    written: dict[str, list[Any]] = {"unit": [], "branch": [], "tier_change": []}
    for u in units:
        values = {"name": u.name, "kind": u.kind, "group_name": u.group, "secretary": u.secretary,
                  "members": u.members, "active_from": u.active_from, "active_to": u.active_to}
        old = existing_units.get(u.code)
        if old is None:
            written["unit"].append(Unit(code=u.code, updated_at=t, **values))
            s.add(written["unit"][-1])
            report.added_units.append(u.code)
            continue
        diff = {k: [_jsonable(getattr(old, k)), _jsonable(v)] for k, v in values.items() if getattr(old, k) != v}
        if diff:
            for k, v in values.items():
                setattr(old, k, v)
            old.updated_at = t
            s.add(old)
            written["unit"].append(old)
            report.changed_units[u.code] = diff
    for code, old in sorted(existing_units.items()):
        if code not in file_units and (old.active_to is None or old.active_to >= when):
            report.missing_units.append(code)
            if deactivate_missing:
                old.active_to = when - timedelta(days=1)  # active_to is the last active day (inclusive)
                old.updated_at = t
                s.add(old)
                written["unit"].append(old)
                report.deactivated_units.append(code)
    s.flush()
    file_branches = {b.code for b in branches}
    for b in branches:
        values = {"name": b.name, "unit_code": b.unit_code, "members": b.members, "tier": b.tier,
                  "tier_date": b.tier_date}
        old = existing_branches.get(b.code)
        if old is None:
            written["branch"].append(Branch(code=b.code, updated_at=t, active=True, **values))
            written["tier_change"].append(TierChange(branch_code=b.code, from_tier=None, to_tier=b.tier,
                                                     on_date=b.tier_date or when, basis="名册导入", note=path.name,
                                                     created_at=t))
            s.add(written["branch"][-1])
            s.add(written["tier_change"][-1])
            report.added_branches.append(b.code)
            continue
        diff = {k: [_jsonable(getattr(old, k)), _jsonable(v)] for k, v in values.items() if getattr(old, k) != v}
        if not old.active:
            diff["active"] = [False, True]
            old.active = True
        if diff:
            if "tier" in diff:
                written["tier_change"].append(TierChange(branch_code=b.code, from_tier=old.tier, to_tier=b.tier,
                                                         on_date=b.tier_date or when, basis="名册导入",
                                                         note=path.name, created_at=t))
                s.add(written["tier_change"][-1])
            for k, v in values.items():
                setattr(old, k, v)
            old.updated_at = t
            s.add(old)
            written["branch"].append(old)
            report.changed_branches[b.code] = diff
    for code, old in sorted(existing_branches.items()):
        if code not in file_branches and old.active:
            report.missing_branches.append(code)
            if deactivate_missing:
                old.active = False
                old.updated_at = t
                s.add(old)
                written["branch"].append(old)
                report.deactivated_branches.append(code)
    s.flush()
    return written


# ------------------------------------------------------------------ reads


def unit_active_on_month(u: Unit, month: str) -> bool:
    return month_active(month, u.active_from, u.active_to)


def list_org(store: Store, group: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Units (and branches) with each unit's standing as of a date (DESIGN §6: the command's date, today by
    default, taken once)."""
    with store.read() as uow:
        s = uow.session
        units = s.exec(select(Unit).order_by(Unit.code)).all()
        branches = s.exec(select(Branch).order_by(Branch.code)).all()
    day = as_of or _clock.today()
    groups = sorted({u.group_name for u in units if u.group_name})
    if group is not None and units and group not in groups:  # a mistyped group would list nothing, silently
        raise InputError(f"名册中没有分组「{group}」", hint=f"现有分组：{'、'.join(groups) or '（未分组）'}")
    unit_rows = [{"code": u.code, "name": u.name, "kind": u.kind, "group": u.group_name, "members": u.members,
                  "active": active_on(day, u.active_from, u.active_to),
                  "status": standing_on(day, u.active_from, u.active_to),
                  "secretary": u.secretary,
                  "active_from": _jsonable(u.active_from), "active_to": _jsonable(u.active_to)}
                 for u in units if group is None or u.group_name == group]
    codes = {u["code"] for u in unit_rows}
    branch_rows = [{"code": b.code, "name": b.name, "unit": b.unit_code, "members": b.members, "tier": b.tier,
                    "tier_date": _jsonable(b.tier_date), "active": b.active}
                   for b in branches if b.unit_code in codes]
    return {"as_of": day.isoformat(), "units": unit_rows, "branches": branch_rows}


def show_org(store: Store, code: str) -> dict[str, Any]:
    with store.read() as uow:
        s = uow.session
        from djctl.services.codes import resolve

        code = resolve(s, Unit.code, code)
        code = code if s.exec(select(Unit.code).where(Unit.code == code)).first() else resolve(s, Branch.code, code)
        u = s.exec(select(Unit).where(Unit.code == code)).first()
        if u is not None:
            branches = s.exec(select(Branch).where(Branch.unit_code == code).order_by(Branch.code)).all()
            return {"type": "unit", "code": u.code, "name": u.name, "kind": u.kind, "group": u.group_name,
                    "secretary": u.secretary, "members": u.members, "active_from": _jsonable(u.active_from),
                    "active_to": _jsonable(u.active_to),
                    "branches": [{"code": b.code, "name": b.name, "members": b.members, "tier": b.tier,
                                  "active": b.active} for b in branches]}
        b = s.exec(select(Branch).where(Branch.code == code)).first()
        if b is not None:
            history = s.exec(select(TierChange).where(TierChange.branch_code == code).order_by(TierChange.id)).all()
            return {"type": "branch", "code": b.code, "name": b.name, "unit": b.unit_code, "members": b.members,
                    "tier": b.tier, "tier_date": _jsonable(b.tier_date), "active": b.active,
                    "tier_history": [{"from": h.from_tier, "to": h.to_tier, "date": h.on_date.isoformat(),
                                      "basis": h.basis, "note": h.note} for h in history]}
    raise InputError(f"找不到单位或支部「{code}」", hint="用 djctl org list 查看全部编码")


def write_template(path: Path) -> Path:
    """An empty roster workbook with the right headers, notes and data validation."""
    from openpyxl import Workbook as OWorkbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from djctl.domain.scheme import ORG_KINDS
    from djctl.domain.tiers import TIERS
    from djctl.io.roster_xlsx import BRANCH_COLUMNS, UNIT_COLUMNS
    from djctl.io.xlsx import put

    wb = OWorkbook()
    ws = wb.active
    ws.title = UNIT_SHEET
    bold = Font(bold=True)
    for i, c in enumerate(UNIT_COLUMNS, 1):
        put(ws, 1, i, c.name, font=bold)
        ws.column_dimensions[ws.cell(1, i).column_letter].width = 16
    dv = DataValidation(type="list", formula1='"' + ",".join(ORG_KINDS) + '"', allow_blank=False)
    dv.add("C2:C2000")
    ws.add_data_validation(dv)
    dvn = DataValidation(type="whole", operator="between", formula1="0", formula2="100000")
    dvn.add("F2:F2000")
    ws.add_data_validation(dvn)
    ws2 = wb.create_sheet(BRANCH_SHEET)
    for i, c in enumerate(BRANCH_COLUMNS, 1):
        put(ws2, 1, i, c.name, font=bold)
        ws2.column_dimensions[ws2.cell(1, i).column_letter].width = 16
    dvt = DataValidation(type="list", formula1='"' + ",".join(TIERS) + '"', allow_blank=True)
    dvt.add("E2:E20000")
    ws2.add_data_validation(dvt)
    dvn2 = DataValidation(type="whole", operator="between", formula1="0", formula2="100000")
    dvn2.add("D2:D20000")
    ws2.add_data_validation(dvn2)
    save_workbook(wb, path)
    return path
