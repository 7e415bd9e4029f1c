"""The annual ranking notice (年度考核结果通报) and its workbook (full table and twelve monthly rates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from djctl import clock as _clock
from djctl.domain.periods import Period, parse_year
from decimal import Decimal

from djctl.domain.points import fmt, round2
from djctl.errors import ActionNeeded
from djctl.services.annual import YearRow, year_rows
from djctl.services.docs_common import cn_date, official_header, render
from djctl.services.setup import load_scheme
from djctl.store.engine import Store


def _n(v) -> str:
    """Scores in documents: always two decimals (95.00), as people print them."""
    return "" if v is None else f"{round2(Decimal(v)):.2f}"


def ranking_context(session, y: Period, scheme, *, doc_number: str | None, on_date: date) -> dict[str, Any]:
    rows = year_rows(session, y, scheme)
    ranked = [r for r in rows if r.rank is not None]
    if not ranked:
        raise ActionNeeded(f"{y.label}还没有任何得分", hint="先导入各月自评表")
    a = scheme.annual
    by_grade: dict[str, list[YearRow]] = {}
    for r in ranked:
        by_grade.setdefault(r.grade, []).append(r)
    grade_order = [g for g, _ in a.grades] + [a.rest_grade, a.fail_grade]
    grade_paras = [f"{g}（{len(by_grade[g])} 个）：{'、'.join(r.name for r in by_grade[g])}。"
                   for g in grade_order if g in by_grade]
    no_votes = [r.name for r in ranked if r.votes is None]
    method = [
        f"按照《{scheme.name}》，年度考核总分 = 日常考核得分 × {fmt(a.weight_daily)} + 民主测评得分 × "
        f"{fmt(a.weight_democratic)} + 加分（最高 {fmt(a.bonus_cap)} 分）− 减分（最高 {fmt(a.deduction_cap)} 分）。",
        "日常考核得分为全年各月得分率的平均（得分率 = 抽查核查后的最终得分 ÷ 当月满分 × 100，"
        "未报送的月份按 0 分计，不在册的月份不计）。",
        "民主测评按“好、较好、一般、差”四个档次计票，档次分值为"
        + "、".join(f"{k} {fmt(v)} 分" for k, v in a.democratic_levels.items()) + "。",
        "考核等次按总分排名确定：" + "，".join(f"前{fmt(s * 100)}%为“{g}”" for g, s in a.grades)
        + f"（累计计算，名次并列时取较高等次），其余为“{a.rest_grade}”；有一票否决事项或总分低于{fmt(a.fail_below)}分的为“{a.fail_grade}”。",
    ]
    if no_votes:
        method.append("以下单位没有民主测评票，民主测评得分按 0 计：" + "、".join(no_votes) + "。")
    grouped = len({r.group for r in ranked}) > 1 and all(getattr(r, "group_rank", None) is not None for r in ranked)
    from djctl.services.bulletin import short_group

    columns = ["名次", "单位", *(["协作组", "组内名次"] if grouped else []), "日常考核", "民主测评", "加分", "减分", "总分",
               "等次"]
    table = [[str(r.rank), r.name, *([short_group(r.group), str(r.group_rank)] if grouped else []), _n(r.total.daily),
              _n(r.total.democratic), _n(r.total.bonus_capped), _n(r.total.deduction_capped), _n(r.total.total),
              r.grade] for r in ranked]
    adjust_rows = [[r.name, "加分" if i.kind == "bonus" else "减分", fmt(i.points_x100), i.reason, i.basis,
                    "是" if i.veto else ""] for r in ranked for i in r.items]
    monthly = [[r.name, *[_n(r.months[m].rate) if r.months[m].status != "inactive" else "—" for m in y.months],
                _n(r.total.daily)] for r in sorted(rows, key=lambda r: r.unit)]
    sections = [
        {"heading": "一、考核办法", "level": 1, "paragraphs": method, "tables": [], "figures": [], "subsections": []},
        {"heading": "二、考核等次", "level": 1, "paragraphs": grade_paras, "tables": [], "figures": [],
         "subsections": []},
        {"heading": "三、考核排名", "level": 1,
         "paragraphs": [f"参加排名单位{len(ranked)}个，各单位总分与排名见附件1，各月得分率见附件2。"],
         "tables": [],
         "figures": [{"caption": "图1 各考核等次单位数", "chart": {"type": "bar", "labels": [g for g in grade_order if g in by_grade],
                                                          "values": [len(by_grade[g]) for g in grade_order if g in by_grade],
                                                          "series_name": "单位个数", "x_title": "考核等次",
                                                          "y_title": "单位个数（个）", "integer": True}}],
         "subsections": []},
    ]
    if adjust_rows:
        sections.append({"heading": "四、加分与减分事项", "level": 1, "paragraphs": [],
                         "tables": [{"caption": "表2 加分与减分事项", "columns": ["单位", "类型", "分值", "事由", "依据", "一票否决"],
                                     "rows": adjust_rows}], "figures": [], "subsections": []})
    from djctl.services.actions import quarter_summary
    from djctl.services.docs_common import cn_ordinal, unit_names

    from djctl.services.rectify_stats import quarter_closure_text, year_text

    acc = quarter_summary(session, y.first_day(), y.last_day(), scheme.accountability.kinds, unit_names(session),
                          scheme.accountability.name_units, period_word="全年")
    closure = [year_text(session, y.year, y.last_day(), lead="全年"), *quarter_closure_text(session, y.first_day(), y.last_day(), "全年"),
               *_negative_text(session, y.year, on_date)]
    if acc["count"] or len(closure) > 1 or not closure[0].endswith("未发现需要整改的问题。"):
        import re

        n_tables = max([1] + [int(m) for sec in sections for t in sec["tables"]
                              for m in re.findall(r"^表(\d+)", t["caption"])])  # 表1 is the ranking's
        sections.append({"heading": f"{cn_ordinal(len(sections) + 1)}、问题整改和问责情况", "level": 1,
                         "paragraphs": [*closure, acc["text"]],
                         "tables": [{"caption": f"表{n_tables + 1} 问责措施", "columns": ["日期", "单位", "措施", "事由"],
                                     "rows": acc["rows"]}] if acc["rows"] else [],
                         "figures": [], "subsections": []})
    attachments = [{"heading": f"{y.label}党建工作考核总分与排名", "level": 1, "paragraphs": [], "landscape": True,
                    "tables": [{"caption": "考核总分与排名", "columns": columns, "rows": table,
                                "note": "注：总分相同（保留两位小数）名次并列，下一名次顺延"
                                        + ("；组内名次为在本协作组内的名次。" if grouped else "。")}],
                    "figures": [], "subsections": []},
                   {"heading": f"{y.label}各单位月度得分率", "level": 1, "paragraphs": [], "landscape": True,
                    "tables": [{"caption": "各单位月度得分率", "columns": ["单位", *[f"{int(m[5:])}月" for m in y.months], "平均"],
                                "rows": monthly,
                                "note": "注：得分率保留两位小数；“平均”即日常考核得分（各月得分率的平均）；"
                                        "“—”表示该月不在考核范围内（单位尚未设立或已撤销）。"}],
                    "figures": [], "subsections": []}]
    return {"kind": "ranking", "title": f"关于{y.label}市直机关党建工作考核结果的通报",
            **official_header(session, scheme, "ranking", str(y.year), on_date, doc_number),
            "date": cn_date(on_date), "sections": sections, "attachments": attachments}


def _negative_text(session: Any, year: int, on_date: date) -> list[str]:
    """The year's negative list as it stands on the document's date, in one sentence (none when not built)."""
    from djctl.services import negative
    from djctl.services.negative_manual import standing

    entries = negative._entries_as_of(session, year, on_date)
    manual = standing(session, year, on_date)
    if not entries and not manual and not negative._built_by(session, year, on_date):
        return []
    doc = negative._doc(session, year, entries, "stored", on_date)
    c = doc["counts"]
    if not c["total"]:
        return [f"{year}年度没有考核单位和党支部列入负面清单。"]
    decided = {(m["kind"], m["org"]) for m in doc["manual"]}
    by_decision = f"（其中经研究列入 {len(decided)} 个）" if decided else ""
    return [f"{year}年度负面清单共列入 {c['unit']} 个考核单位、{c['branch']} 个党支部{by_decision}，另行通报；"
            f"列入的考核单位和党支部在{year + 1}年度随机抽查和“回头看”中作为必查对象。"]


def write_ranking(store: Store, year: int | str, *, formats: list[str], out_dir: Path, templates: Path | None,
                  doc_number: str | None, on_date: date | None) -> list[Path]:
    y = parse_year(str(year))
    with store.read() as uow:
        scheme = load_scheme(uow.session, y.year)
        day = on_date or _clock.today()  # one date for the whole run
        ctx = ranking_context(uow.session, y, scheme, doc_number=doc_number, on_date=day)
    return render(ctx, formats, out_dir, f"{y.year}_年度考核结果通报", templates, on_date=day)
