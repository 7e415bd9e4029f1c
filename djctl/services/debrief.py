"""书记抓党建述职评议 (debrief): the secretaries' roster from the unit and branch rosters, the form, its import
(one file per year, --replace keeps history), the list and the result document.

Read API for other services: `debrief_ratings(session, year, scheme)` -> {org_code: DebriefItem}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.people import checklist_verdict, debrief_rating, num
from djctl.errors import ActionNeeded, DjctlError, Problem
from djctl.io.people_xlsx import DEBRIEF_COLUMNS, DEBRIEF_SHEET, LEVEL_FIELDS, LEVELS, read_debrief, write_form
from djctl.services.importing import FileResult, PeriodSheet, WorkbookImport, import_workbook
from djctl.store.content import row_digests
from djctl.store.engine import Store
from djctl.store.tables import Branch
from djctl.store.tables import Debrief as DebriefRow
from djctl.store.tables import ImportFile

KIND = "debrief"


@dataclass(frozen=True)
class Secretary:
    code: str  # the organization's code (unit or branch)
    org_kind: str  # unit / branch
    name: str  # the organization's name
    level: str  # 机关党委 / 党总支 / 党支部
    secretary: str  # from the roster ('' when the roster has none: branches)
    unit: str  # the unit it belongs to (itself for a unit)


def secretaries(session, year: int) -> list[Secretary]:
    """Every organization whose secretary reports in `year`: each unit active in the year (level = its kind)
    and each active branch of a 机关党委 or 党总支 (a unit that is itself a 党支部 reports once, as the unit)."""
    from djctl.services.votes import active_units

    units = active_units(session, year)
    out = [Secretary(u.code, "unit", u.name, u.kind, u.secretary, u.code) for u in units.values()]
    from djctl.store.rows import plain_rows

    for b in plain_rows(session, Branch, Branch.active == True, order_by=Branch.code):  # noqa: E712
        u = units.get(b.unit_code)
        if u is not None and u.kind != "党支部":
            out.append(Secretary(b.code, "branch", b.name, "党支部", "", u.code))
    return sorted(out, key=lambda s: (s.unit, s.org_kind != "unit", s.code))


# ------------------------------------------------------------------ template


def write_template(store: Store, year: int, path: Path) -> tuple[Path, int]:
    with store.read() as uow:
        secs = secretaries(uow.session, year)
    if not secs:
        raise ActionNeeded(f"{year} 年度没有在册的考核单位", hint="先用 djctl org import 导入名册")
    headers = [c.name for c in DEBRIEF_COLUMNS]
    rows = [[s.code, s.name, s.level, s.secretary or None] for s in secs]
    notes = [f"{year} 年度书记抓党建述职评议情况汇总表",
             f"1. 每个组织一行：核对或填写书记姓名，填写述职日期（如 {year + 1}-01-15，{year} 年 1 月至 {year + 1} 年 6 月）和评议票数（好、较好、一般、差）。",
             "2. 「参评人数」须等于四档票数之和；没有票的档次填 0。",
             "3. 未述职的组织整行留空（书记一栏可保留）；不要增删组织行，不要修改组织编码，不要使用公式。",
             f"4. 填好后导入：djctl debrief import 本文件.xlsx --year {year}"]
    write_form(path, DEBRIEF_SHEET, headers, [14, 34, 10, 10, 12, 7, 7, 7, 7, 10, 24], rows, 4,
               {"kind": KIND, "year": str(year)}, notes, whole=True)
    return path, len(secs)


# ------------------------------------------------------------------ import


def import_debrief(store: Store, path: Path, *, year: int, dry_run: bool = False, replace: bool = False) -> FileResult:
    """Import one 述职评议 workbook for `year`, all or nothing. The same file again changes nothing; a different
    file for the year replaces the active one only with `replace` (the old rows kept as history)."""
    skipped: list[tuple[int, str]] = []
    known: dict[str, Any] = {}

    def read(p: Path) -> tuple[str, list[Any]]:
        data = read_debrief(p, year)
        skipped[:] = data.skipped
        return DEBRIEF_SHEET, data.rows

    def check(uow: Any, sheet: str, rows: list[Any]) -> list[Problem]:
        known.update({x.code: x for x in secretaries(uow.session, year)})
        return [Problem(f"组织编码「{code}」不是 {year} 年度在册的单位或支部", sheet, row, "组织编码")
                for row, code in [(r.row, r.code) for r in rows] + skipped if code not in known]

    def write(uow: Any, imp: ImportFile, rows: list[Any], result: FileResult) -> None:
        new = [DebriefRow(year=year, org_code=r.code, org_kind=known[r.code].org_kind, level=known[r.code].level,
                          secretary=r.secretary, reported_on=r.reported_on, voters=r.voters, note=r.note,
                          import_id=imp.id, created_at=imp.created_at, **{LEVEL_FIELDS[lv]: r.votes[lv] for lv in LEVELS})
               for r in rows]
        uow.session.add_all(new)
        uow.session.flush()
        uow.audit("debrief.import", {
            "file": path.name, "sha256": imp.sha256, "import_id": imp.id, "year": year, "period": str(year),
            "rows": [[r.code, r.secretary, r.reported_on.isoformat(), *[r.votes[lv] for lv in LEVELS], r.voters]
                     for r in rows],
            "not_reported": [c for _, c in skipped], "replaced": result.extra.get("replaced", []),
            "row_digests": row_digests(uow, debrief=[x.id for x in new] + [x.id for x in result.retired])})

    def same_rows(stored: list[Any], rows: list[Any]) -> bool:
        def key(code, secretary, day, votes, voters, note):
            return (code, secretary, day, *votes, voters or 0, note or "")

        return (sorted(key(x.org_code, x.secretary, x.reported_on, [getattr(x, LEVEL_FIELDS[lv]) for lv in LEVELS],
                           x.voters, x.note) for x in stored)
                == sorted(key(r.code, r.secretary, r.reported_on, [r.votes[lv] for lv in LEVELS], r.voters, r.note)
                          for r in rows))

    sheet = PeriodSheet(str(year), f"{year} 年度", DebriefRow, "year", year, replace)
    spec = WorkbookImport(KIND, read, check, write, "述职评议表有错误，未导入任何数据", period=lambda rows: str(year),
                          sheet=sheet,
                          same=lambda uow, rows: same_rows(sheet.active_rows(uow), rows), what="述职评议表")
    result = import_workbook(store, path, spec, dry_run=dry_run)
    result.period = str(year)
    result.extra = {"year": year, "replaced": [], "not_reported": [c for _, c in skipped], **result.extra}
    return result


# ------------------------------------------------------------------ reads


@dataclass
class DebriefItem:
    code: str
    org_kind: str
    name: str
    level: str
    unit: str
    secretary: str
    reported_on: date | None
    votes: dict[str, int] | None
    voters: int
    score: Any
    rating: str
    steps: list[str] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        from djctl.domain.points import to_float

        return {"org": self.code, "kind": self.org_kind, "name": self.name, "level": self.level, "unit": self.unit,
                "secretary": self.secretary, "reported": self.reported_on is not None,
                "reported_on": self.reported_on.isoformat() if self.reported_on else None,
                "votes": self.votes, "voters": self.voters,
                "score": None if self.score is None else to_float(self.score), "rating": self.rating,
                "steps": self.steps, "note": self.note}


def debrief_ratings(session, year: int, scheme) -> dict[str, DebriefItem]:
    """Every secretary of `year` with the active record (or none) and the rating by the scheme's rule."""
    rows = {r.org_code: r for r in session.exec(select(DebriefRow).where(DebriefRow.year == year,
                                                                          DebriefRow.active == True))}  # noqa: E712
    out: dict[str, DebriefItem] = {}
    for sec in secretaries(session, year):
        r = rows.get(sec.code)
        if r is None:
            out[sec.code] = DebriefItem(sec.code, sec.org_kind, sec.name, sec.level, sec.unit, sec.secretary, None,
                                        None, 0, None, "", ["未述职或未导入评议票"])
            continue
        votes = {lv: int(getattr(r, LEVEL_FIELDS[lv])) for lv in LEVELS}
        res = debrief_rating(votes, scheme.debrief)
        out[sec.code] = DebriefItem(sec.code, sec.org_kind, sec.name, r.level, sec.unit, r.secretary, r.reported_on,
                                    votes, r.voters, res.score, res.rating, res.steps, r.note)
    return out


def branch_checklist_verdict(session, year: int, scheme, branch_code: str) -> tuple[str, bool | None, str]:
    """The checklist item that names the 述职评议 (scheme `debrief.checklist_item`, G02): its code, whether the
    branch secretary's rating meets it (None: no rating) and the sentence. A branch of a unit that is itself a
    党支部 takes the unit's rating."""
    items = debrief_ratings(session, year, scheme)
    item = items.get(branch_code)
    if item is None:
        b = session.exec(select(Branch).where(Branch.code == branch_code)).first()
        item = items.get(b.unit_code) if b is not None else None
    ok, text = checklist_verdict(item.rating if item else None, scheme.debrief)
    return scheme.debrief.checklist_item, ok, text


@dataclass
class DebriefList:
    year: int
    items: list[DebriefItem]
    files: list[dict[str, Any]]

    @property
    def reported(self) -> list[DebriefItem]:
        return [i for i in self.items if i.reported_on is not None]

    @property
    def missing(self) -> list[DebriefItem]:
        return [i for i in self.items if i.reported_on is None]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.reported:
            out[i.rating] = out.get(i.rating, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "rows": [i.to_json() for i in self.items], "counts": self.counts(),
                "reported": len(self.reported), "missing": [{"org": i.code, "name": i.name} for i in self.missing],
                "files": self.files}


def list_debriefs(store: Store, year: int) -> DebriefList:
    from djctl.services.setup import load_scheme

    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, year)
        items = list(debrief_ratings(s, year, scheme).values())
        files = s.exec(select(ImportFile).where(ImportFile.kind == KIND, ImportFile.period == str(year))
                       .order_by(ImportFile.id)).all()
    return DebriefList(year, items, [{"import_id": f.id, "path": f.path, "sha256": f.sha256, "rows": f.rows,
                                      "active": f.active, "replaced_by": f.replaced_by} for f in files])


# ------------------------------------------------------------------ the result document


def debrief_context(session, year: int, scheme, *, on_date: date) -> dict[str, Any]:
    from djctl.domain.people_scheme import fraction_cn
    from djctl.domain.points import fmt
    from djctl.services.docs_common import cn_date

    items = list(debrief_ratings(session, year, scheme).values())
    done = [i for i in items if i.reported_on is not None]
    if not done:
        raise ActionNeeded(f"{year} 年度还没有导入述职评议结果", hint=f"djctl debrief import 文件.xlsx --year {year}")
    d = scheme.debrief
    order = [r for r, _ in d.thresholds] + [d.rest_rating]
    counts = {r: [i for i in done if i.rating == r] for r in order}
    first = min(i.reported_on for i in done)
    last = max(i.reported_on for i in done)
    span = cn_date(first) if first == last else f"{cn_date(first)}至{cn_date(last)}"
    method = [f"{span}，各直属单位党组织和所属党支部书记围绕抓党建工作进行述职，参会人员按“好、较好、一般、差”"
              f"四个档次进行评议。共 {len(done)} 名书记述职，其中机关党委书记 {sum(1 for i in done if i.level == '机关党委')} 名、"
              f"党总支书记 {sum(1 for i in done if i.level == '党总支')} 名、党支部书记 {sum(1 for i in done if i.level == '党支部')} 名。",
              "评议得分 = Σ 各档票数 × 档次分值 ÷ 参评人数，档次分值为"
              + "、".join(f"“{k}” {fmt(v)} 分" for k, v in d.levels.items()) + "；"
              + "，".join(f"得分 {fmt(v)} 分及以上为“{k}”" for k, v in d.thresholds)
              + f"，其余为“{d.rest_rating}”；“差”票超过参评人数{fraction_cn(d.poor_share)}的，评为“{d.rest_rating}”。"]
    results = ["评议结果为" + "、".join(f"“{r}”的 {len(counts[r])} 名" for r in order if counts[r]) + "（名单见附件）。"]
    top = order[0] if order else ""
    units_top = [i for i in counts.get(top, []) if i.org_kind == "unit"]
    if units_top:
        results.append(f"直属单位党组织书记中评议结果为“{top}”的：" + "、".join(f"{i.name}{i.secretary}" for i in units_top) + "。")
    for r in order[2:]:  # the lower ratings are named, each with the secretary
        if counts[r]:
            results.append(f"评议结果为“{r}”的：" + "、".join(f"{i.name}{i.secretary}" for i in counts[r])
                           + "，请所在单位党组织督促其认真整改。")
    if len(items) > len(done):
        results.append(f"以下 {len(items) - len(done)} 个组织的书记未述职或未报送评议结果：" +
                       "、".join(i.name for i in items if i.reported_on is None) + "。")
    results.append(f"述职评议结果作为党支部分类定级（{d.checklist_item} 支部书记履职尽责，须为“{d.checklist_rating}”）"
                   "和评先评优的依据。")
    # seven columns on a landscape page: names never break per character, dates never wrap
    table = [[i.name, i.secretary, cn_date(i.reported_on), "/".join(str(i.votes[lv]) for lv in LEVELS), str(i.voters),
              num(i.score), i.rating] for i in done]
    from djctl.services.docs_common import official_header

    return {"kind": "debrief", "title": f"关于{year}年度书记抓党建工作述职评议结果的通报",
            **official_header(session, scheme, "debrief", str(year), on_date), "date": cn_date(on_date),
            "sections": [
                {"heading": "一、基本情况", "level": 1, "paragraphs": method, "tables": [], "figures": [], "subsections": []},
                {"heading": "二、评议结果", "level": 1, "paragraphs": results, "tables": [], "figures": [],
                 "subsections": []}],
            "attachments": [{"heading": "书记抓党建述职评议结果", "level": 1, "paragraphs": [], "landscape": True,
                             "tables": [{"caption": f"{year}年度书记抓党建述职评议结果",
                                         "columns": ["组织", "书记", "述职日期", "好/较好/一般/差", "参评人数", "得分", "结果"],
                                         "rows": table, "note": "票数依次为好、较好、一般、差。"}],
                             "figures": [], "subsections": []}]}


def write_report(store: Store, year: int, *, formats: list[str], out_dir: Path, templates: Path | None,
                 on_date: date | None) -> list[Path]:
    from djctl.services.docs_common import render
    from djctl.services.setup import load_scheme

    with store.read() as uow:
        scheme = load_scheme(uow.session, year)
        ctx = debrief_context(uow.session, year, scheme, on_date=on_date or _clock.today())
    return render(ctx, formats, out_dir, f"{year}_书记述职评议结果", templates)


def has_debriefs(session, year: int) -> bool:
    return session.exec(select(DebriefRow.id).where(DebriefRow.year == year, DebriefRow.active == True)).first() is not None  # noqa: E712


def checklist_prefill(session, year: int, scheme, branch_code: str) -> dict[str, tuple[str | None, str]]:
    """For a look-back form: {item code: (是/否 or None, source sentence)} of the item that names the 述职评议.

    The rating of `year`, else of the year before (述职评议 is often held in January for the past year)."""
    from djctl.services.setup import load_scheme

    for y in (year, year - 1):
        try:
            sch = scheme if y == year else load_scheme(session, y)
        except DjctlError:
            continue
        if not has_debriefs(session, y):
            continue
        code, ok, text = branch_checklist_verdict(session, y, sch, branch_code)
        return {code: (None if ok is None else "是" if ok else "否", f"【{y}年度述职评议】{text}")}
    return {}
