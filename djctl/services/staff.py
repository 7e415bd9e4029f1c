"""工委干部月度考评: the committee's own staff roster, the monthly form and its import, monthly and annual
scores (annual = sum of the monthly totals), the monthly announcement and `explain` for a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any


from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.people import StaffMonth, num, staff_month, staff_year
from djctl.domain.people_scheme import STAFF_DIMENSIONS, fraction_text
from djctl.domain.periods import parse_period
from djctl.domain.points import from_x100, to_float, to_x100
from djctl.domain.ranking import competition_ranks
from djctl.errors import ActionNeeded, InputError, Problem
from djctl.io.people_xlsx import (ROSTER_COLUMNS, ROSTER_SHEET, STAFF_COLUMNS, STAFF_SHEET, read_staff_roster,
                                  read_staff_scores, write_form)
from djctl.services.importing import (
    UNCHANGED,
    FileResult,
    PeriodSheet,
    WorkbookImport,
    import_workbook,
)
from djctl.store.content import row_digests
from djctl.store.engine import Store
from djctl.store.tables import ImportFile, StaffMember, StaffScore

ROSTER_KIND, SCORE_KIND = "staff_roster", "staff"
FIELDS = {"工作实绩": "work_x100", "作风表现": "conduct_x100", "综合测评": "overall_x100"}


def _roster(session) -> dict[str, StaffMember]:
    return {m.code: m for m in session.exec(select(StaffMember).where(StaffMember.active == True)  # noqa: E712
                                            .order_by(StaffMember.code))}


# ------------------------------------------------------------------ roster


def write_roster_template(path: Path) -> Path:
    notes = ["工委干部名册", "每人一行：人员编码（如 S01）、姓名、职务、处室。导入：djctl staff roster 本文件.xlsx"]
    return write_form(path, ROSTER_SHEET, [c.name for c in ROSTER_COLUMNS], [12, 12, 20, 20], [], 1,
                      {"kind": ROSTER_KIND}, notes)


def import_roster(store: Store, path: Path, *, dry_run: bool = False) -> FileResult:
    """The staff roster, all or nothing: new people added, changed rows kept as a new version (the old one
    inactive), people missing from the file marked as left (inactive). The same content again changes nothing;
    a dry run rehearses the import and reports who would be added, changed and marked as left."""
    def read(p: Path) -> tuple[str, list[Any]]:
        return ROSTER_SHEET, read_staff_roster(p).rows

    def write(uow: Any, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        s = uow.session
        current = _roster(s)
        new_rows = {r.code: r for r in rows}
        added = [c for c in new_rows if c not in current]
        changed = [c for c in new_rows if c in current and (current[c].name, current[c].position, current[c].department)
                   != (new_rows[c].name, new_rows[c].position, new_rows[c].department)]
        left = [c for c in current if c not in new_rows]
        result.extra.update(added=added, changed=changed, left=left)
        if not (added or changed or left):
            result.status = UNCHANGED
            return
        old = [current[c] for c in changed + left]
        for m in old:
            m.active = False
            s.add(m)
        fresh = [StaffMember(code=c, name=new_rows[c].name, position=new_rows[c].position,
                             department=new_rows[c].department, import_id=imp.id, created_at=imp.created_at)
                 for c in added + changed]
        s.add_all(fresh)
        s.flush()
        uow.audit("staff.roster", {
            "file": path.name, "sha256": imp.sha256, "import_id": imp.id, "period": "",
            "rows": [[r.code, r.name, r.position, r.department] for r in rows],
            "added": added, "changed": changed, "left": left, "replaced": [],
            "row_digests": row_digests(uow, staff_member=[m.id for m in old + fresh])})

    spec = WorkbookImport(ROSTER_KIND, read, lambda uow, sheet, rows: [], write, "工委干部名册有错误，未导入任何数据",
                          rehearse=True, what="工委干部名册")
    result = import_workbook(store, path, spec, dry_run=dry_run)
    result.extra = {"added": [], "changed": [], "left": [], **result.extra}
    result.extra.pop("import_id", None)
    return result


def list_staff(store: Store) -> list[dict[str, str]]:
    with store.read() as uow:
        return [{"code": m.code, "name": m.name, "position": m.position, "department": m.department}
                for m in _roster(uow.session).values()]


# ------------------------------------------------------------------ monthly form and import


def _month(month: str) -> str:
    try:
        return str(parse_period(month, ("month",)))
    except ValueError as exc:
        raise InputError(str(exc)) from None


def write_template(store: Store, month: str, path: Path) -> tuple[Path, int]:
    from djctl.services.setup import load_scheme

    m = _month(month)
    with store.read() as uow:
        scheme = load_scheme(uow.session, int(m[:4]))
        people = list(_roster(uow.session).values())
    if not people:
        raise ActionNeeded("还没有工委干部名册", hint="先用 djctl staff roster 名册.xlsx 导入")
    w = scheme.staff.weights
    notes = [f"{m[:4]}年{int(m[5:])}月工委干部月度考评表",
             f"1. 每人填写工作实绩、作风表现、综合测评三项得分（0 到 {num(scheme.staff.max_points)} 分，最多 1 位小数）。",
             "2. 月度得分 = " + " + ".join(f"{d} × {fraction_text(w[d])}" for d in STAFF_DIMENSIONS) + "（由 djctl 计算）。",
             "3. 本月未参加考评的人员整行留空；不要修改人员编码，不要使用公式。",
             f"4. 填好后导入：djctl staff import 本文件.xlsx --month {m}"]
    rows = [[p.code, p.name] for p in people]
    write_form(path, STAFF_SHEET, [c.name for c in STAFF_COLUMNS], [12, 12, 10, 10, 10, 30], rows, 3,
               {"kind": SCORE_KIND, "month": m}, notes, max_value=scheme.staff.max_points)
    return path, len(people)


def import_scores(store: Store, path: Path, *, month: str, dry_run: bool = False, replace: bool = False) -> FileResult:
    """Import one month's staff scores, all or nothing. The same file again changes nothing; a different file
    for the month replaces the active one only with `replace` (the old rows kept as history)."""
    from djctl.services.setup import load_scheme

    m = _month(month)
    skipped: list[tuple[int, str]] = []

    def read(p: Path) -> tuple[str, list[Any]]:
        with store.read() as uow:
            max_points = load_scheme(uow.session, int(m[:4])).staff.max_points
        data = read_staff_scores(p, m, max_points)
        skipped[:] = data.skipped
        return STAFF_SHEET, data.rows

    def check(uow: Any, sheet: str, rows: list[Any]) -> list[Problem]:
        roster = _roster(uow.session)
        return [Problem(f"人员编码「{code}」不在工委干部名册中", sheet, row, "人员编码")
                for row, code in [(r.row, r.code) for r in rows] + skipped if code not in roster]

    def write(uow: Any, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        fresh = [StaffScore(month=m, staff_code=r.code, note=r.note, import_id=imp.id, created_at=imp.created_at,
                            **{FIELDS[d]: to_x100(r.scores[d]) for d in STAFF_DIMENSIONS}) for r in rows]
        uow.session.add_all(fresh)
        uow.session.flush()
        uow.audit("staff.import", {
            "file": path.name, "sha256": imp.sha256, "import_id": imp.id, "month": m, "period": m,
            "rows": [[r.code, *[str(r.scores[d]) for d in STAFF_DIMENSIONS]] for r in rows],
            "skipped": [c for _, c in skipped], "replaced": result.extra.get("replaced", []),
            "row_digests": row_digests(uow, staff_score=[x.id for x in fresh] + [x.id for x in result.retired])})

    def same_rows(stored: list[Any], rows: list[Any]) -> bool:
        return (sorted((x.staff_code, *[getattr(x, FIELDS[d]) for d in STAFF_DIMENSIONS], x.note or "") for x in stored)
                == sorted((r.code, *[to_x100(r.scores[d]) for d in STAFF_DIMENSIONS], r.note or "") for r in rows))

    sheet = PeriodSheet(m, f"{m} ", StaffScore, "month", m, replace)
    spec = WorkbookImport(SCORE_KIND, read, check, write, "工委干部月度考评表有错误，未导入任何数据",
                          period=lambda rows: m, sheet=sheet,
                          same=lambda uow, rows: same_rows(sheet.active_rows(uow), rows), what="考评表")
    result = import_workbook(store, path, spec, dry_run=dry_run)
    result.period = m
    result.extra = {"month": m, "replaced": [], "skipped": [c for _, c in skipped], **result.extra}
    return result


# ------------------------------------------------------------------ scores


@dataclass
class StaffLine:
    code: str
    name: str
    position: str
    department: str
    month: StaffMonth | None = None
    rank: int | None = None
    monthly: dict[str, Decimal | None] = field(default_factory=dict)
    year_total: Decimal | None = None
    missing: list[str] = field(default_factory=list)
    year_text: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"code": self.code, "name": self.name, "position": self.position,
                               "department": self.department, "rank": self.rank}
        if self.month is not None:
            doc["scores"] = {d: to_float(v) for d, v in self.month.scores.items()}
            doc["total"] = to_float(self.month.total)
        if self.monthly:
            doc["monthly"] = {m: (None if v is None else to_float(v)) for m, v in self.monthly.items()}
            doc["total"] = None if self.year_total is None else to_float(self.year_total)
            doc["missing"] = self.missing
        return doc


@dataclass
class StaffScores:
    period: str
    weights: dict[str, str]
    rows: list[StaffLine]
    not_scored: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "weights": self.weights, "rows": [r.to_json() for r in self.rows],
                "not_scored": self.not_scored}


def _members(session) -> dict[str, StaffMember]:
    """The latest version of every staff member ever on the roster (names of people who have left included)."""
    out: dict[str, StaffMember] = {}
    for m in session.exec(select(StaffMember).order_by(StaffMember.id)):
        out[m.code] = m
    return out


def _month_lines(session, month: str, scheme) -> tuple[list[StaffLine], list[str]]:
    members = _members(session)
    lines = []
    for r in session.exec(select(StaffScore).where(StaffScore.month == month, StaffScore.active == True)  # noqa: E712
                          .order_by(StaffScore.staff_code)):
        p = members.get(r.staff_code)
        res = staff_month({d: from_x100(getattr(r, FIELDS[d])) for d in STAFF_DIMENSIONS}, scheme.staff)
        lines.append(StaffLine(r.staff_code, p.name if p else "", p.position if p else "", p.department if p else "", res))
    ranks = competition_ranks({x.code: x.month.total for x in lines})
    for x in lines:
        x.rank = ranks[x.code]
    lines.sort(key=lambda x: (x.rank, x.code))
    scored = {x.code for x in lines}
    return lines, [c for c in _roster(session) if c not in scored]


def staff_scores(store: Store, period: str) -> StaffScores:
    from djctl.services.setup import load_scheme

    p = parse_period(period, ("month", "year"))
    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, p.year)
        weights = {d: fraction_text(w) for d, w in scheme.staff.weights.items()}
        roster = _roster(s)
        if p.kind == "month":
            lines, missing = _month_lines(s, str(p), scheme)
            return StaffScores(str(p), weights, lines, [{"code": c, "name": roster[c].name} for c in missing])
        members = _members(s)
        per_month = {m: {x.code: x.month.total for x in _month_lines(s, m, scheme)[0]} for m in p.months}
    codes = sorted(set(roster) | {c for v in per_month.values() for c in v})
    lines = []
    for c in codes:
        mem = members[c]
        monthly = {m: per_month[m].get(c) for m in p.months}
        total, missing, text = staff_year(monthly, p.months)
        lines.append(StaffLine(c, mem.name, mem.position, mem.department, monthly=monthly, year_total=total,
                               missing=missing, year_text=text))
    ranks = competition_ranks({x.code: x.year_total for x in lines})
    for x in lines:
        x.rank = ranks[x.code]
    lines.sort(key=lambda x: (x.rank, x.code))
    return StaffScores(str(p), weights, lines)


def explain_staff(store: Store, code: str, period: str) -> dict[str, Any]:
    res = staff_scores(store, period)
    line = next((x for x in res.rows if x.code == code), None)
    if line is None:
        raise InputError(f"{res.period} 没有人员「{code}」的考评结果", hint="用 djctl staff list 查看人员编码")
    steps: list[str] = []
    if line.month is not None:
        steps += [f"{d} {num(v)}" for d, v in line.month.scores.items()] + line.month.steps
        steps.append(f"本月第 {line.rank} 名（共 {len(res.rows)} 人，得分相同名次并列）")
    else:
        steps += [f"{int(m[5:])}月：{'未考评' if v is None else num(v)}" for m, v in line.monthly.items()]
        steps.append(f"年度得分 = 各月得分之和 = {line.year_text}")
        steps.append(f"全年第 {line.rank} 名（共 {len(res.rows)} 人）")
    return {"period": res.period, "code": line.code, "name": line.name, "row": line.to_json(), "steps": steps}


# ------------------------------------------------------------------ the monthly announcement


def bulletin_context(store: Store, month: str, *, on_date: date) -> dict[str, Any]:
    from djctl.services.docs_common import cn_date
    from djctl.services.setup import load_scheme

    res = staff_scores(store, _month(month))
    if not res.rows:
        raise ActionNeeded(f"{res.period} 还没有导入工委干部考评结果", hint=f"djctl staff import 文件.xlsx --month {res.period}")
    with store.read() as uow:
        scheme = load_scheme(uow.session, int(res.period[:4]))
    label = f"{res.period[:4]}年{int(res.period[5:])}月"
    top = [x for x in res.rows if x.rank == 1]
    paras = [f"根据机关工委干部月度考评办法，对{label}工委干部的工作实绩、作风表现和综合测评进行了考评。"
             f"月度得分 = " + " + ".join(f"{d} × {w}" for d, w in res.weights.items()) + "。",
             f"本月参加考评 {len(res.rows)} 人，平均得分 {num(sum((x.month.total for x in res.rows), Decimal(0)) / len(res.rows))} 分，"
             f"最高 {num(res.rows[0].month.total)} 分（{'、'.join(x.name for x in top)}），最低 {num(res.rows[-1].month.total)} 分。"]
    if res.not_scored:
        paras.append("本月未参加考评：" + "、".join(x["name"] for x in res.not_scored) + "。")
    paras.append("考评结果记入个人年度考评档案，年度得分为全年各月得分之和。")
    table = [[str(x.rank), x.name, x.position, x.department, *[num(v) for v in x.month.scores.values()], num(x.month.total)]
             for x in res.rows]
    return {"kind": "staff_bulletin", "title": f"关于{label}机关工委干部月度考评结果的通报", "issuer": scheme.issuer,
            "doc_number": None, "recipients": f"{scheme.staff.issuer_department}、各处室：", "date": cn_date(on_date),
            "sections": [
                {"heading": "一、考评情况", "level": 1, "paragraphs": paras, "tables": [], "figures": [], "subsections": []},
                {"heading": "二、考评结果", "level": 1, "paragraphs": [],
                 "tables": [{"caption": f"表1 {label}工委干部月度考评结果", "columns":
                             ["名次", "姓名", "职务", "处室", *STAFF_DIMENSIONS, "月度得分"], "rows": table,
                             "note": "得分相同名次并列，下一名次顺延。"}], "figures": [], "subsections": []}],
            "attachments": []}


def write_bulletin(store: Store, month: str, *, formats: list[str], out_dir: Path, templates: Path | None,
                   on_date: date | None) -> list[Path]:
    from djctl.services.docs_common import render

    m = _month(month)
    ctx = bulletin_context(store, m, on_date=on_date or _clock.today())
    return render(ctx, formats, out_dir, f"{m}_工委干部月度考评通报", templates)
