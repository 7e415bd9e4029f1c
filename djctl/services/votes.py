"""Democratic evaluation (民主测评): the form, its import (one file per year, --replace keeps history), the list.

Read API for the annual engine: `votes_for_year(session, year)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any


from sqlmodel import select

from djctl.errors import ActionNeeded, DjctlError, Problem
from djctl.io.votes_xlsx import LEVEL_FIELDS, LEVELS, VOTE_SHEET, read_votes
from djctl.services.importing import FileResult, PeriodSheet, WorkbookImport, import_workbook
from djctl.store.engine import Store
from djctl.store.tables import ImportFile, Unit, Vote

KIND = "votes"


# ------------------------------------------------------------------ shared helpers


def unit_active_in_year(u: Unit, year: int) -> bool:
    """A unit counts in a year if its active period overlaps that year at all."""
    return (u.active_from is None or u.active_from <= date(year, 12, 31)) and \
        (u.active_to is None or u.active_to >= date(year, 1, 1))


def active_units(session: Any, year: int) -> dict[str, Unit]:
    """Units active at some time in `year`, by code (sorted)."""
    from djctl.store.rows import plain_rows

    # read-only rows (every column, attribute access like Unit): callers read them, never write them
    return {u.code: u for u in plain_rows(session, Unit, order_by=Unit.code) if unit_active_in_year(u, year)}


def unit_problem(session: Any, units: dict[str, Unit], code: str, year: int) -> str | None:
    """Why `code` cannot take an item for `year` (None when it can)."""
    if code in units:
        return None
    if session.exec(select(Unit).where(Unit.code == code)).first() is not None:
        return f"单位「{code}」在 {year} 年度不在册（已撤销或尚未成立）"
    return f"单位编码「{code}」不在名册中"


def democratic(counts: dict[str, int], levels: dict[str, Decimal]) -> Decimal | None:
    """The democratic score of one unit with the scheme's level values (DESIGN §3)."""
    from djctl.domain.scoring import democratic_score

    missing = [lv for lv in LEVELS if lv not in levels]
    if missing:
        raise DjctlError(f"考核方案的 annual.democratic_levels 缺少测评档次「{'、'.join(missing)}」",
                         hint="民主测评表固定为 好/较好/一般/差 四档，请在方案中为每档设定分值")
    return democratic_score(counts, levels)


# ------------------------------------------------------------------ template


def write_template(store: Store, year: int, path: Path) -> tuple[Path, int]:
    """The votes form for `year`, prefilled with every unit active in that year."""
    from djctl.io.votes_xlsx import write_votes_template

    with store.read() as uow:
        units = [(u.code, u.name) for u in active_units(uow.session, year).values()]
    if not units:
        raise ActionNeeded(f"{year} 年度没有在册的考核单位", hint="先用 djctl org import 导入名册")
    return write_votes_template(path, year, units), len(units)


# ------------------------------------------------------------------ import


def import_votes(store: Store, path: Path, *, year: int, dry_run: bool = False, replace: bool = False) -> FileResult:
    """Import one votes workbook for `year`, all or nothing. The same file again changes nothing; a different
    file for the year replaces the active one only with `replace` (the old rows kept as history)."""
    skipped: list[tuple[int, str]] = []

    def read(p: Path) -> tuple[str, list[Any]]:
        data = read_votes(p, year)
        skipped[:] = data.skipped
        return VOTE_SHEET, data.rows

    def check(uow: Any, sheet: str, rows: list[Any]) -> list[Problem]:
        units = active_units(uow.session, year)
        return [Problem(msg, sheet, row, "单位编码") for row, code in [(v.row, v.code) for v in rows] + skipped
                if (msg := unit_problem(uow.session, units, code, year))]

    def write(uow: Any, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        uow.conn.execute(Vote.__table__.insert(), [
            {"year": year, "unit_code": v.code, "good": v.good, "fairly_good": v.fairly_good, "average": v.average,
             "poor": v.poor, "voters": v.voters, "import_id": imp.id, "active": True, "created_at": imp.created_at,
             "decided_on": date(year, 12, 31)} for v in rows])
        uow.audit("votes.import", {
            "file": path.name, "sha256": imp.sha256, "import_id": imp.id, "year": year,
            "rows": [[v.code, v.good, v.fairly_good, v.average, v.poor, v.voters] for v in rows],
            "skipped": [c for _, c in skipped], "replaced": result.extra.get("replaced", [])})

    def same_rows(stored: list[Any], rows: list[Any]) -> bool:
        return (sorted((v.unit_code, v.good, v.fairly_good, v.average, v.poor, v.voters) for v in stored)
                == sorted((v.code, v.good, v.fairly_good, v.average, v.poor, v.voters) for v in rows))

    sheet = PeriodSheet(str(year), f"{year} 年度", Vote, "year", year, replace)
    spec = WorkbookImport(KIND, read, check, write, "民主测评表有错误，未导入任何数据", period=lambda rows: str(year),
                          sheet=sheet,
                          same=lambda uow, rows: same_rows(sheet.active_rows(uow), rows), what="民主测评表")
    result = import_workbook(store, path, spec, dry_run=dry_run)
    result.period = str(year)
    result.extra = {"year": year, "replaced": [], "skipped": [c for _, c in skipped], **result.extra}
    return result


# ------------------------------------------------------------------ reads


def votes_for_year(session: Any, year: int) -> dict[str, dict[str, int]]:
    """Active vote counts of `year`: {unit_code: {"好": n, "较好": n, "一般": n, "差": n}} (sorted by code)."""
    out: dict[str, dict[str, int]] = {}
    for v in session.exec(select(Vote).where(Vote.year == year, Vote.active == True)  # noqa: E712
                          .order_by(Vote.unit_code, Vote.id)):
        out[v.unit_code] = {lv: int(getattr(v, LEVEL_FIELDS[lv])) for lv in LEVELS}
    return out


@dataclass
class VoteList:
    year: int
    levels: dict[str, Decimal]
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        from djctl.domain.points import to_float

        return {"year": self.year, "levels": {k: to_float(v) for k, v in self.levels.items()},
                "rows": [{**r, "score": None if r["score"] is None else to_float(r["score"])} for r in self.rows],
                "missing": self.missing, "files": self.files}


def list_votes(store: Store, year: int) -> VoteList:
    """Counts and democratic score per unit, and the active units with no votes."""
    from djctl.services.setup import load_scheme

    with store.read() as uow:
        s = uow.session
        levels = dict(load_scheme(s, year).annual.democratic_levels)
        units = active_units(s, year)
        names = {u.code: u.name for u in s.exec(select(Unit))}
        votes = s.exec(select(Vote).where(Vote.year == year, Vote.active == True).order_by(Vote.unit_code)).all()  # noqa: E712
        files = s.exec(select(ImportFile).where(ImportFile.kind == KIND, ImportFile.period == str(year))
                       .order_by(ImportFile.id)).all()
    out = VoteList(year, levels)
    for v in votes:
        counts = {lv: int(getattr(v, LEVEL_FIELDS[lv])) for lv in LEVELS}
        out.rows.append({"unit": v.unit_code, "name": names.get(v.unit_code, ""), "votes": counts,
                         "total": sum(counts.values()), "voters": v.voters,
                         "score": democratic(counts, levels)})
    have = {v.unit_code for v in votes}
    out.missing = [{"unit": c, "name": u.name} for c, u in units.items() if c not in have]
    out.files = [{"import_id": f.id, "path": f.path, "sha256": f.sha256, "rows": f.rows, "active": f.active,
                  "replaced_by": f.replaced_by, "at": f.created_at.isoformat()} for f in files]
    return out
