"""结果运用: the party-building share of each organ's combined assessment (综合考核) and 评先评优 eligibility.

Both read the year's ranking (services.annual.year_rows) and never write: the business scores come from the
workbook given on the command (the 目标绩效 office's figures), read and checked at the door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from djctl import clock as _clock
from djctl.domain.people import CombinedFigure, EligibilityResult, UnitFacts, combined_figure, eligibility, num
from djctl.domain.people_scheme import fraction_text
from djctl.domain.periods import parse_year
from djctl.domain.points import fmt, to_float
from djctl.domain.ranking import competition_ranks
from djctl.errors import ActionNeeded, InputError, Problem
from djctl.store.engine import Store


def _f(v: Decimal | None) -> float | None:
    return None if v is None else to_float(v)


# ------------------------------------------------------------------ combined


@dataclass
class CombinedRow:
    unit: str
    name: str
    group: str
    figure: CombinedFigure
    rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        f = self.figure
        return {"unit": self.unit, "name": self.name, "group": self.group, "party_score": _f(f.party_score),
                "grade": f.grade, "combined_grade": f.combined_grade, "party": _f(f.party),
                "business": _f(f.business), "business_part": _f(f.business_part), "total": _f(f.total),
                "rank": self.rank, "steps": f.steps}


@dataclass
class CombinedResult:
    year: int
    weight: str
    scale: Decimal
    basis: str
    rows: list[CombinedRow]
    business_file: str | None = None
    business_sha256: str | None = None
    missing_business: list[str] = field(default_factory=list)
    business_scale: Decimal = Decimal(100)

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "weight": self.weight, "scale": to_float(self.scale), "basis": self.basis,
                "business_file": self.business_file, "business_sha256": self.business_sha256,
                "missing_business": self.missing_business, "rows": [r.to_json() for r in self.rows]}


def read_business_scores(path: Path, units: dict[str, Any]) -> dict[str, Decimal]:
    """unit code -> business score from the workbook; unknown codes refused with their row (exit 2)."""
    from djctl.io.people_xlsx import BUSINESS_SHEET, read_business

    data = read_business(path)
    bad = [Problem(f"单位编码「{code}」不在名册中", BUSINESS_SHEET, row, "单位编码")
           for row, code, _ in data.rows if code not in units]
    if bad:
        raise InputError("业务工作得分表有错误，未使用", path=str(path), problems=bad)
    return {code: score for _, code, score in data.rows}


def combined(store: Store, year: int, business_path: Path | None = None) -> CombinedResult:
    from djctl.services.annual import year_rows
    from djctl.services.importing import file_sha256
    from djctl.services.setup import load_scheme

    y = parse_year(str(year))
    with store.read() as uow:
        scheme = load_scheme(uow.session, y.year)
        rows = [r for r in year_rows(uow.session, y, scheme, explain=False) if r.active]
    if not rows:
        raise ActionNeeded(f"{y.year} 年度还没有任何单位的考核得分，无法折算综合考核", hint="先导入各月自评表")
    units = {r.unit: r for r in rows}
    business = read_business_scores(business_path, units) if business_path else {}
    rule = scheme.combined
    out = CombinedResult(y.year, fraction_text(rule.weight), rule.scale, rule.basis,
                         [CombinedRow(r.unit, r.name, r.group,
                                      combined_figure(annual_total=r.total.total, grade=r.grade,
                                                      business=business.get(r.unit), rule=rule))
                          for r in rows], business_scale=rule.business_scale)
    if business_path:
        out.business_file, out.business_sha256 = str(business_path), file_sha256(business_path)
        out.missing_business = [r.unit for r in out.rows if r.unit not in business]
        ranks = competition_ranks({r.unit: r.figure.total for r in out.rows if r.figure.total is not None})
        for r in out.rows:
            r.rank = ranks.get(r.unit)
        out.rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit))
    return out


def combined_table(res: CombinedResult) -> tuple[list[str], list[list[Any]]]:
    """One row per unit, the shape the 目标绩效 office receives (numbers as numbers, never formulas)."""
    cols = ["单位编码", "单位名称", "党建考核总分", "党建考核等次", "综合考核对应等次",
            f"党建工作得分（权重 {res.weight}，满分 {fmt(res.scale)}）"]
    with_business = res.business_file is not None
    if with_business:
        cols += ["业务工作得分", "业务工作折算分", "综合考核得分", "综合排名"]
    rows = []
    for r in res.rows:
        f = r.figure
        row: list[Any] = [r.unit, r.name, f.party_score, f.grade, f.combined_grade, f.party]
        if with_business:
            row += [f.business, f.business_part, f.total, r.rank]
        rows.append(row)
    return cols, rows


def write_combined_xlsx(res: CombinedResult, path: Path) -> Path:
    from djctl.io.people_xlsx import write_export

    cols, rows = combined_table(res)
    title = f"{res.year}年度综合考核" + ("结果" if res.business_file else "党建部分")
    return write_export(path, title, cols, rows, title=title)


def write_business_template(res: CombinedResult, path: Path) -> Path:
    """A blank business-score workbook: one row per ranked unit, only the score column to fill in."""
    from djctl.io.people_xlsx import BUSINESS_COLUMNS, BUSINESS_SHEET, write_form

    rows = [[r.unit, r.name] for r in sorted(res.rows, key=lambda r: r.unit)]
    notes = [f"{res.year} 年度业务工作得分表（由目标绩效考核部门填写）",
             f"1. 每个单位填写业务工作得分（0 到 {num(res.business_scale)} 分，最多 2 位小数），不要使用公式。",
             f"2. 填好后运行：djctl combined --year {res.year} --business 本文件.xlsx --xlsx 综合考核结果.xlsx"]
    return write_form(path, BUSINESS_SHEET, [c.name for c in BUSINESS_COLUMNS], [14, 36, 14], rows, 3,
                      {"kind": "business", "year": str(res.year)}, notes)


def explain_combined(store: Store, year: int, unit: str, business_path: Path | None = None) -> CombinedRow:
    res = combined(store, year, business_path)
    for r in res.rows:
        if r.unit == unit:
            return r
    raise InputError(f"单位「{unit}」在 {year} 年度没有考核结果（不在册或全年未参加排名）",
                     hint="用 djctl score --year 查看参加排名的单位")


# ------------------------------------------------------------------ eligibility


@dataclass
class EligibilityRow:
    unit: str
    name: str
    grade: str
    result: EligibilityResult

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "name": self.name, "grade": self.grade, "eligible": self.result.eligible,
                "reasons": [{"rule": k, "reason": t} for k, t in self.result.reasons]}


@dataclass
class EligibilityList:
    year: int
    honour: str
    rules: tuple[str, ...]
    rows: list[EligibilityRow]
    warnings: list[str] = field(default_factory=list)  # rules that could not be checked in full

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "honour": self.honour, "rules": list(self.rules), "warnings": self.warnings,
                "eligible": sum(1 for r in self.rows if r.result.eligible),
                "not_eligible": sum(1 for r in self.rows if not r.result.eligible),
                "rows": [r.to_json() for r in self.rows]}


def eligibility_list(store: Store, year: int) -> EligibilityList:
    return eligibility_with_scheme(store, year)[0]


def eligibility_with_scheme(store: Store, year: int) -> tuple[EligibilityList, Any]:
    """The list and the scheme it was made with, from one read transaction."""
    from sqlmodel import select

    from djctl.services.annual import year_rows
    from djctl.services.debrief import debrief_ratings, has_debriefs
    from djctl.services.negative import is_built, negative_codes
    from djctl.services.setup import load_scheme
    from djctl.services.votes import active_units
    from djctl.store.tables import Branch

    y = parse_year(str(year))
    with store.read() as uow:
        s = uow.session
        scheme = load_scheme(s, y.year)
        rows = {r.unit: r for r in year_rows(s, y, scheme, explain=False)}
        units = active_units(s, y.year)
        neg_units = negative_codes(s, y.year, "unit")
        neg_branches = negative_codes(s, y.year, "branch")
        branch_unit = {c: (u, n) for c, u, n in s.exec(select(Branch.code, Branch.unit_code, Branch.name))}
        debriefs = debrief_ratings(s, y.year, scheme)
        from datetime import date as _date

        from djctl.services.actions import actions_between

        measures: dict[str, list[str]] = {}
        for a in actions_between(s, _date(y.year, 1, 1), _date(y.year, 12, 31)):
            if a.kind in scheme.eligibility.accountability_kinds:
                who = "书记" if a.target == "secretary" else "单位"
                measures.setdefault(a.unit_code, []).append(
                    f"{a.on_date.year}年{a.on_date.month}月{a.on_date.day}日对{who}{a.kind}（{a.reason}）")
        warnings = []
        if "negative_list" in scheme.eligibility.rules and not is_built(s, y.year):
            warnings.append(f"{y.year} 年度负面清单尚未生成，“列入负面清单”一项未能核对"
                            f"（djctl negative-list --year {y.year} --build）")
        if "debrief" in scheme.eligibility.rules and not has_debriefs(s, y.year):
            warnings.append(f"{y.year} 年度尚未导入书记述职评议结果，“述职评议为差”一项未能核对")
    out = []
    for code, u in units.items():
        r = rows.get(code)
        # who is on the list; why is in the negative list itself (djctl negative-list --year Y)
        negative = ["本单位"] if code in neg_units else []
        negative += [f"所属{name}" for b in neg_branches for uc, name in [branch_unit.get(b, ("", b))] if uc == code]
        d = debriefs.get(code)
        facts = UnitFacts(code, ranked=bool(r and r.rank is not None), grade=r.grade if r else "",
                          veto_reasons=[i.reason for i in r.items if i.veto] if r else [],
                          negative=negative, debrief_rating=d.rating if d else "",
                          accountability=measures.get(code, []))
        out.append(EligibilityRow(code, u.name, facts.grade, eligibility(facts, scheme.eligibility)))
    return EligibilityList(y.year, scheme.eligibility.honour, scheme.eligibility.rules, out, warnings), scheme


def eligibility_context(res: EligibilityList, scheme, *, on_date: date, doc_number: str | None = None) -> dict[str, Any]:
    from djctl.services.docs_common import cn_date

    rule_cn = {"grade": "年度考核等次为“" + "、".join(scheme.eligibility.fail_grades) + "”",
               "veto": "有一票否决事项", "negative_list": "本单位或所属党支部列入本年度负面清单",
               "debrief": "书记述职评议结果为“" + "、".join(scheme.eligibility.debrief_fail) + "”",
               "unranked": "未参加年度考核排名",
               "accountability": "本年度受到" + "、".join(scheme.eligibility.accountability_kinds) + "等问责措施"}
    no = [r for r in res.rows if not r.result.eligible]
    yes = [r for r in res.rows if r.result.eligible]
    paras = [f"按照《{scheme.name}》，有下列情形之一的，当年不得评为{res.honour}："
             + "；".join(rule_cn[k] for k in res.rules) + "。",
             f"经核对，{len(res.rows)} 个考核单位中，{len(yes)} 个具备评先评优资格，{len(no)} 个不具备。",
             *[f"需要说明的是：{w.split('（djctl')[0]}。" for w in res.warnings]]
    table = [[r.name, r.grade or "—", "是" if r.result.eligible else "否",
              "；".join(t for _, t in r.result.reasons) or "—"] for r in res.rows]
    from djctl.services.docs_common import official_header

    return {"kind": "eligibility", "title": f"{res.year}年度评先评优资格审核情况",
            **official_header(None, scheme, "eligibility", str(res.year), on_date, doc_number), "recipients": None,
            "date": cn_date(on_date),
            "sections": [{"heading": "一、审核依据和结果", "level": 1, "paragraphs": paras,
                          "tables": [{"caption": f"表1 {res.year}年度各单位评先评优资格", "columns":
                                      ["单位", "考核等次", "具备资格", "不具备资格的原因"], "rows": table}],
                          "figures": [], "subsections": []},
                         {"heading": "二、有关要求", "level": 1, "paragraphs": [
                             f"{res.year}年度评选{res.honour}时，以本审核结果为依据。"
                             f"各单位对审核结果有异议的，请于{cn_date(on_date + timedelta(days=7))}前向机关工委书面反映。"],
                          "tables": [], "figures": [], "subsections": []}],
            "attachments": []}


def write_eligibility(store: Store, year: int, *, formats: list[str], out_dir: Path, templates: Path | None,
                      on_date: date | None) -> list[Path]:
    from djctl.services.docs_common import render

    from djctl.services.docnumbers import stored_number

    res, scheme = eligibility_with_scheme(store, year)
    with store.read() as uow:  # the 发文字号 year-end gave it (none when run on its own before year-end)
        number = stored_number(uow.session, "eligibility", str(year))
    return render(eligibility_context(res, scheme, on_date=on_date or _clock.today(), doc_number=number), formats,
                  out_dir, f"{year}_评先评优资格", templates)
