"""The quarterly bulletin (季通报) and the scheduling-meeting materials (季调度).

One service builds one context (plain dict) with every number; templates only lay it out.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.periods import Period, parse_quarter
from djctl.domain.points import fmt, round2
from djctl.domain.scoring import mean_rate
from djctl.errors import ActionNeeded, InputError
from djctl.services.docs_common import (cn_date, cn_ordinal, draw_attachment, draw_sentence, draws_for, month_gaps,
                                        natural_key, official_header, open_rectifications, render, task_names,
                                        unit_names)
from djctl.services.quarterly import QuarterRow, quarter_rows
from djctl.services.scores import check_outcomes
from djctl.services.setup import load_scheme
from djctl.store.engine import Store

BANDS = [(Decimal(95), "95 分及以上"), (Decimal(90), "90（含）至 95 分"), (Decimal(85), "85（含）至 90 分"),
         (Decimal(80), "80（含）至 85 分"), (Decimal(0), "80 分以下")]
SOURCE_CN = {"spotcheck": "月抽查", "lookback": "回头看", "inspection": "督查检查"}


def _n(v: Decimal | None) -> str:
    """Scores in documents: always two decimals (95.00), as people print them."""
    return "" if v is None else f"{round2(Decimal(v)):.2f}"


def distribution(scores: list[Decimal]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for s in scores:
        for lo, name in BANDS:
            if s >= lo:
                counts[name] += 1
                break
    return [(name, counts[name]) for _, name in BANDS]


def _org_name(session, r) -> str:
    """A unit's or a branch's name (rectification items belong to either)."""
    from djctl.store.tables import Branch, Unit

    model = Branch if r.org_kind == "branch" else Unit
    row = session.exec(select(model).where(model.code == r.org_code)).first()
    return row.name if row is not None else r.org_code


def _findings(session, q: Period, scheme, names: dict[str, str]) -> list[list[str]]:
    rows = []
    outcomes = check_outcomes(session, q.months, scheme)
    tasks = task_names(session, q.months)
    for (unit, month), items in sorted(outcomes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for o in items:
            if o.false:
                rows.append([f"{int(month[5:])}月", names.get(unit, unit), tasks.get((month, o.task), o.task),
                             fmt(o.self_x100), fmt(o.verified_x100), fmt(o.deduction_x100), fmt(o.final_x100)])
    return rows


def short_group(name: str) -> str:
    """A group's name without its explanation in brackets (第四协作组（政法与城建） -> 第四协作组), for tables."""
    import re

    return re.sub(r"[（(][^（）()]*[)）]$", "", name).strip() or name


def next_quarter_text(scheme, q: Period, remarks: str | None) -> list[str]:
    """下季度工作要求: `--remarks` text, else the scheme's text for the quarter, else its default."""
    text = remarks if remarks and remarks.strip() else (
        scheme.documents.next_quarter.get(f"Q{q.index}") or scheme.documents.next_quarter.get("default") or "")
    return [p.strip() for p in text.splitlines() if p.strip()]


def _check_summary(session, q: Period, scheme, names) -> list[list[str]]:
    rows = []
    tasks = task_names(session, q.months)
    outcomes = check_outcomes(session, q.months, scheme)
    for (unit, month), items in sorted(outcomes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ded = sum(o.deduction_x100 for o in items)
        false = [tasks.get((month, o.task), o.task) for o in items if o.false]
        rows.append([f"{int(month[5:])}月", names.get(unit, unit), str(len(items)), fmt(ded), "、".join(false) or "无"])
    return rows


def bulletin_context(session, q: Period, scheme, *, doc_number: str | None, on_date: date,
                     remarks: str | None) -> dict[str, Any]:
    rows = quarter_rows(session, q, scheme)
    names = unit_names(session)
    ranked = [r for r in rows if r.score is not None]
    if not ranked:
        raise ActionNeeded(f"{q.label}还没有任何得分", hint="先导入各月自评表")
    draws = draws_for(session, "sample", q.months)
    gaps = month_gaps(session, q.months)
    # a month without a task list is not counted at all (its gap is said in the text): due, reported and
    # missing come from the same months as the table's rates
    unlisted = {g.period for g in gaps if g.kind == "tasks"}
    due = sum(1 for r in rows for m in r.months if m not in unlisted)
    reported = sum(1 for r in rows for m, mr in r.months.items() if m not in unlisted and mr.status == "reported")
    missing = [(m, r) for r in rows for m, mr in r.months.items() if m not in unlisted and mr.status == "missing"]
    scores = [r.score for r in ranked]
    mean = mean_rate(scores)
    findings = _findings(session, q, scheme, names)
    false_units = sorted({f[1] for f in findings})
    total_ded = sum(Decimal(f[5]) for f in findings)
    months_cn = "、".join(f"{int(m[5:])}月" for m in q.months)

    intro = [
        f"按照《{scheme.name}》，{q.label}（{months_cn}）市直机关党建工作考核采取"
        f"“月自评、月抽查”的方式进行。现将考核情况通报如下。",
    ]
    if gaps:
        intro.append("需要说明的是：" + "；".join(g.message for g in gaps) + "。")
    rect = open_rectifications(session, q.last_day())
    method = [
        f"自评报送：本季度应报送自评 {due} 份，实际报送 {reported} 份，报送率 {fmt(round2(Decimal(reported) * 100 / due)) if due else 0}%。"
        + (f"未按时报送 {len(missing)} 份，按 0 分计。" if missing else "各单位均按时报送。"),
    ]
    if draws:
        active = [d for d in draws if d.active]
        method.append("随机抽查：每月按考核方案确定的比例公开随机抽签确定抽查单位，抽签种子事先公布，抽签结果可以复核"
                      f"（抽签情况见附件{'1' if rect else ''}）。"
                      + "".join(f"{int(d.period[5:])}月抽取{d.k}个单位：{'、'.join(names.get(c, c) for c in d.selected)}。"
                                for d in active))
        method.append(f"对抽查发现的虚假自评，按虚假部分的{fmt(scheme.spot_check.false_multiplier)}倍扣分（双倍扣分）。")
    else:
        method.append("本季度未进行随机抽查，最终得分即自评得分。")

    groups: dict[str, list[QuarterRow]] = {}
    for r in ranked:
        groups.setdefault(r.group, []).append(r)
    grouped = len(groups) > 1
    rank_cols = ["名次", "单位", *(["协作组", "组内名次"] if grouped else []),
                 *[f"{int(m[5:])}月" for m in q.months], "季度得分"]
    rank_rows = [[str(r.rank), r.name, *([short_group(r.group), str(r.group_rank)] if grouped else []),
                  *[_n(r.rates[m]) for m in q.months], _n(r.score)] for r in ranked]
    dist = distribution(scores)
    group_sections = []
    for i, g in enumerate(sorted(groups, key=natural_key) if grouped else [], 1):
        members = sorted(groups[g], key=lambda r: (r.group_rank, r.unit))
        first = [m.name for m in members if m.group_rank == 1]
        group_sections.append({"heading": f"（{cn_ordinal(i)}）{g}", "level": 2, "paragraphs": [
            f"本组{len(members)}个单位，平均得分{_n(mean_rate([m.score for m in members]))}，"
            f"最高{_n(members[0].score)}（{'、'.join(first)}），最低{_n(members[-1].score)}。"],
            "tables": [], "figures": [], "subsections": []})

    sections = [
        {"heading": "一、考核工作开展情况", "level": 1, "paragraphs": intro + method, "tables": [], "figures": [], "subsections": []},
        {"heading": "二、考核结果", "level": 1,
         "paragraphs": [f"本季度参加排名单位 {len(ranked)} 个，平均得分 {_n(mean)}，最高 {_n(max(scores))}，最低 {_n(min(scores))}。"
                        + "得分分布：" + "；".join(f"{name} {n} 个" for name, n in dist) + "。"],
         "tables": [{"caption": f"表1 {q.label}党建工作考核排名", "columns": rank_cols, "rows": rank_rows,
                     "note": "注：各月为当月得分率，得分率 = 最终得分 ÷ 当月满分 × 100；季度得分为本季度各月得分率的平均；得分相同名次并列"
                             + ("；组内名次为在本协作组内的名次。" if grouped else "。")}],
         "figures": [{"caption": f"图1 {q.label}季度得分分布",
                      "chart": {"type": "bar", "labels": [name for name, _ in dist], "values": [n for _, n in dist],
                                "series_name": "单位个数", "x_title": "季度得分", "y_title": "单位个数（个）",
                                "integer": True}}],
         "subsections": group_sections},
        {"heading": "三、抽查发现的问题", "level": 1,
         "paragraphs": ([f"抽查发现 {len(false_units)} 个单位存在自评得分虚假问题：{'、'.join(false_units)}，"
                         f"共涉及 {len(findings)} 项任务，合计扣减 {fmt(total_ded)} 分。"] if findings
                        else ["本季度抽查未发现自评得分虚假问题。" if draws else "本季度未进行随机抽查。"]),
         "tables": ([{"caption": "表2 自评得分虚假情况及扣分", "columns": ["月份", "单位", "任务", "自评", "核查", "扣减", "最终"],
                      "rows": findings,
                      "note": f"注：扣减 = 自评 − 核查 + 虚假部分 ×（{fmt(scheme.spot_check.false_multiplier)} − 1），"
                              "最终得分不低于 0。"}] if findings else []),
         "figures": [], "subsections": []},
        {"heading": "四、未按时报送自评的单位", "level": 1,
         "paragraphs": ([f"{m}：{r.name}" for m, r in sorted(missing, key=lambda x: (x[0], x[1].unit))] and
                        ["以下单位未按时报送月度自评，当月按 0 分计：" + "；".join(f"{r.name}（{int(m[5:])}月）"
                                                                     for m, r in sorted(missing, key=lambda x: (x[0], x[1].unit)))]
                        or ["本季度各单位均按时报送月度自评。"]),
         "tables": [], "figures": [], "subsections": []},
    ]
    sections.append({"heading": "五、需要整改的问题", "level": 1,
                     "paragraphs": ([f"截至{cn_date(q.last_day())}，尚有 {len(rect)} 项问题正在整改（清单见附件{2 if draws else ''}），"
                                     "请有关单位按期完成并报送问题整改台账。"]
                                    if rect else [f"截至{cn_date(q.last_day())}，没有未完成的整改事项。"]),
                     "tables": [], "figures": [], "subsections": []})
    # the open items' long problem texts need the width of a landscape page: an attachment, not a body table
    rect_attachment = {"heading": f"{q.label}未完成整改事项清单", "level": 1, "paragraphs": [], "landscape": True,
                       "tables": [{"caption": "未完成整改事项", "columns": ["单位/支部", "问题", "来源", "整改期限", "状态"],
                                   "rows": [[_org_name(session, r), r.problem, SOURCE_CN.get(r.source, r.source),
                                             cn_date(st.due), _state_cn(st)] for r, st in rect]}],
                       "figures": [], "subsections": []}
    from djctl.services.actions import quarter_summary
    from djctl.services.rectify_stats import quarter_closure_text, year_text

    sections[-1]["paragraphs"][1:1] = quarter_closure_text(session, q.first_day(), q.last_day())
    sections[-1]["paragraphs"].insert(0, year_text(session, q.year, q.last_day()))

    acc = quarter_summary(session, q.first_day(), q.last_day(), scheme.accountability.kinds, names,
                          scheme.accountability.name_units)
    sections[-1]["paragraphs"].append(acc["text"])
    if acc["rows"]:
        sections[-1]["tables"].append({"caption": f"表{3 + len(sections[-1]['tables'])} 问责措施",
                                       "columns": ["日期", "单位", "措施", "事由"], "rows": acc["rows"]})
    requirements = next_quarter_text(scheme, q, remarks)
    if requirements:
        sections.append({"heading": "六、下季度工作要求", "level": 1, "paragraphs": requirements,
                         "tables": [], "figures": [], "subsections": []})
    return {
        "kind": "bulletin",
        "title": f"关于{q.label}市直机关党建工作考核情况的通报",
        **official_header(session, scheme, "bulletin", str(q), on_date, doc_number),
        "date": cn_date(on_date),
        "sections": sections,
        "attachments": ([draw_attachment(draws, names)] if draws else []) + ([rect_attachment] if rect else []),
        "gaps": [g.message for g in gaps],
        "numbers": {"period": str(q), "units_ranked": len(ranked), "mean": _n(mean), "reported": reported,
                    "due": due, "missing": len(missing), "false_units": false_units,
                    "seeds": [d.seed for d in draws], "population_hashes": [d.population_hash for d in draws],
                    "actions": acc["count"], "actions_by_kind": acc["counts"]},
    }


def write_bulletin(store: Store, quarter: str, *, formats: list[str], out_dir: Path, templates: Path | None,
                   doc_number: str | None, on_date: date | None, remarks_path: Path | None,
                   gaps: list[str] | None = None) -> list[Path]:
    """Render the bulletin; the quarter's gaps (plain sentences, also in the document) go into `gaps`."""
    q = parse_quarter(quarter)
    remarks = None
    if remarks_path is not None:
        try:
            remarks = remarks_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"无法读取工作要求文本（应为 UTF-8 文本文件）：{exc}", path=str(remarks_path)) from None
    with store.read() as uow:
        scheme = load_scheme(uow.session, q.year)
        day = on_date or _clock.today()  # one date for the whole run
        ctx = bulletin_context(uow.session, q, scheme, doc_number=doc_number, on_date=day,
                               remarks=remarks)
    if gaps is not None:
        gaps.extend(ctx["gaps"])
    return render(ctx, formats, out_dir, f"{q}_季度考核通报", templates, on_date=day)


# ------------------------------------------------------------------ scheduling materials (季调度)


def schedule_context(session, q: Period, scheme, *, on_date: date, tiers: dict[str, Any] | None = None) -> dict[str, Any]:
    rows = quarter_rows(session, q, scheme)
    names = unit_names(session)
    status_cn = {"reported": "已报送", "missing": "未报送", "inactive": "—"}
    gaps = month_gaps(session, q.months)

    missing_lines = [] if not gaps else ["需要说明的是：" + "；".join(g.message for g in gaps) + "。"]
    unlisted = {g.period for g in gaps if g.kind == "tasks"}
    report_rows = [[r.name, *["无任务清单" if m in unlisted else status_cn[r.months[m].status] if m in r.months else "—"
                              for m in q.months]] for r in sorted(rows, key=lambda r: r.unit)]
    for m in q.months:
        if m in unlisted:
            continue
        miss = [r.name for r in rows if m in r.months and r.months[m].status == "missing"]
        missing_lines.append(f"{int(m[5:])}月：{'、'.join(miss) if miss else '全部按时报送'}")
    draws = draws_for(session, "sample", q.months)
    checks = _check_summary(session, q, scheme, names)
    prev = quarter_rows(session, q.previous(), scheme) if q.index > 1 else []
    prev_scores = {r.unit: r.score for r in prev if r.score is not None}
    drops = sorted(((prev_scores[r.unit] - r.score, r) for r in rows
                    if r.score is not None and r.unit in prev_scores and prev_scores[r.unit] > r.score),
                   key=lambda t: (-t[0], t[1].unit))[:10]
    rect = open_rectifications(session, q.last_day())
    overdue = [r for r, st in rect if st.overdue]
    from djctl.services.rectify_stats import quarter_closure_text, year_text

    sections = [
        {"heading": "一、自评报送情况", "level": 1, "paragraphs": missing_lines,
         "tables": [{"caption": "表1 各单位月度自评报送情况", "columns": ["单位", *[f"{int(m[5:])}月" for m in q.months]],
                     "rows": report_rows}], "figures": [], "subsections": []},
        {"heading": "二、随机抽查与核查情况", "level": 1,
         "paragraphs": [draw_sentence(d, names) for d in draws] or ["本季度尚未抽签。"],
         "tables": ([{"caption": "表2 抽查核查结果", "columns": ["月份", "单位", "核查任务数", "扣减分值", "虚假任务"],
                      "rows": checks}] if checks else []), "figures": [], "subsections": []},
        {"heading": "三、得分下降较多的单位", "level": 1,
         "paragraphs": ([f"与{q.previous().label}相比，以下单位季度得分下降较多，需重点关注。"] if drops else
                        ["本季度为年度第一季度，无上季度可比。" if q.index == 1 else "与上季度相比，没有单位得分下降。"]),
         "tables": ([{"caption": "表3 得分下降较多的单位", "columns": ["单位", "上季度", "本季度", "下降"],
                      "rows": [[r.name, _n(prev_scores[r.unit]), _n(r.score), _n(d)] for d, r in drops]}] if drops else []),
         "figures": [], "subsections": []},
        {"heading": "四、整改事项", "level": 1,
         "paragraphs": [f"截至{cn_date(q.last_day())}，未完成整改事项 {len(rect)} 项，其中已逾期 {len(overdue)} 项。" if rect
                        else f"截至{cn_date(q.last_day())}，没有未完成的整改事项。", year_text(session, q.year, q.last_day()),
                        *quarter_closure_text(session, q.first_day(), q.last_day())],
         "tables": ([{"caption": "表4 未完成的整改事项", "columns": ["单位/支部", "问题", "来源", "期限", "状态"],
                      "rows": [[_org_name(session, r), r.problem, SOURCE_CN.get(r.source, r.source),
                                cn_date(st.due), _state_cn(st)] for r, st in rect]}] if rect else []),
         "figures": [], "subsections": []},
    ]
    if tiers is not None:
        sections.append(_tier_section(q, tiers))
    return {"kind": "schedule", "title": f"{q.label}党建工作调度会议材料", "issuer": scheme.issuer, "doc_number": None,
            "recipients": None, "date": cn_date(on_date), "sections": sections, "attachments": [],
            "gaps": [g.message for g in gaps]}


def _state_cn(st: Any) -> str:
    """An open item's state in the bulletin and schedule tables."""
    if st.status == "submitted":
        return "已整改待核（已逾期）" if st.overdue else "已整改待核"
    return "逾期" if st.overdue else "整改中"


def _tier_section(q: Period, doc: dict[str, Any]) -> dict[str, Any]:
    """Tier figures at the quarter's end (支部分类定级进展), from the tiers service's statistics."""
    counts = doc["counts"]
    total = sum(counts.values())
    t = doc.get("targets", {})
    lines = [f"截至{cn_date(q.last_day())}，在册党支部 {total} 个：" + "，".join(f"{k}支部 {counts[k]} 个" for k in ("示范", "过硬", "达标", "未达标")) + "。",
             f"达标率 {doc.get('rate_standard_text', '')}（目标 {_pct(t.get('达标率'))}），"
             f"过硬率 {doc.get('rate_strong_text', '')}（目标 {_pct(t.get('过硬率'))}）。"]
    mv = doc.get("movements", {})
    if mv:
        lines.append(f"本年度以来等次上升 {mv.get('up', 0)} 个，下降 {mv.get('down', 0)} 个。")
    plans = doc.get("plans") or {}
    if plans.get("below_standard"):
        without = len(plans.get("without_plan", []))
        lines.append(f"未达标支部 {plans['below_standard']} 个，已制定整改提升计划 {plans['with_plan']} 个"
                     f"（推进中 {plans['active']} 个，已完成 {plans['done']} 个，已超过目标日期 {plans['overdue']} 个）"
                     + (f"，尚未制定计划 {without} 个，请所在单位抓紧制定。" if without else "。"))
    return {"heading": "五、支部分类定级进展", "level": 1, "paragraphs": lines, "tables": [], "figures": [], "subsections": []}


def _pct(v: Any) -> str:
    return "" if v is None else f"{fmt(Decimal(str(v)) * 100)}%"


def write_schedule(store: Store, quarter: str, *, formats: list[str], out_dir: Path, templates: Path | None,
                   on_date: date | None, gaps: list[str] | None = None) -> list[Path]:
    q = parse_quarter(quarter)
    from djctl.services.tiers import tier_stats

    tiers = tier_stats(store, q.year, as_of=q.last_day())
    with store.read() as uow:
        scheme = load_scheme(uow.session, q.year)
        day = on_date or _clock.today()  # one date for the whole run
        ctx = schedule_context(uow.session, q, scheme, on_date=day, tiers=tiers)
    if gaps is not None:
        gaps.extend(ctx["gaps"])
    return render(ctx, formats, out_dir, f"{q}_季度调度会材料", templates, on_date=day)
