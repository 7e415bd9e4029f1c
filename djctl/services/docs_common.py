"""What every document service shares: draws of a period, check findings, dates, rendering."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl.domain.points import fmt
from djctl.store.tables import Draw, Rectification, Unit

CN_DIGITS = "〇一二三四五六七八九"


def cn_date(d: date) -> str:
    """成文日期 as GB/T 9704 prints it: 2024年4月10日 (Arabic numerals, no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class DrawInfo:
    id: int
    period: str
    seq: int
    label: str
    seed: str
    seed_generated: bool
    rate: str | None
    k: int
    population: int
    population_hash: str
    selected: list[str]
    mandatory: dict[str, str]
    excluded: dict[str, str]
    reason: str
    active: bool


def draws_for(session, kind: str, periods: list[str]) -> list[DrawInfo]:
    out = []
    q = select(Draw).where(Draw.kind == kind, Draw.period.in_(periods)).order_by(Draw.period, Draw.seq)
    for d in session.exec(q):
        rec = json.loads(d.record)
        out.append(DrawInfo(d.id, d.period, d.seq, d.label, d.seed, d.seed_generated, d.rate, d.k,
                            len(rec.get("population", [])), d.population_hash, list(rec.get("selected", [])),
                            dict(rec.get("mandatory") or {}), dict(rec.get("excluded") or {}), d.reason, d.active))
    return out


def draw_sentence(d: DrawInfo, names: dict[str, str], what: str = "单位") -> str:
    rate = f"按 {fmt_rate(d.rate)} 的比例" if d.rate else ""
    head = (f"{d.period} 从 {d.population} 个在册{what}中{rate}随机抽取 {d.k} 个"
            f"（抽签种子「{d.seed}」{'，系现场生成' if d.seed_generated else ''}，名单哈希 {d.population_hash[:16]}…）")
    if d.seq > 1:
        head += f"；此为第 {d.seq} 次抽签（重抽原因：{d.reason}）"
    if not d.active:
        head += "；该次抽签已被重抽取代"
    sel = "、".join(names.get(c, c) for c in d.selected)
    return f"{head}：{sel}。"


def fmt_rate(rate: str | None) -> str:
    if not rate:
        return ""
    from decimal import Decimal

    return f"{fmt(Decimal(rate) * 100)}%"


def unit_names(session) -> dict[str, str]:
    return {u.code: u.name for u in session.exec(select(Unit))}


def open_rectifications(session, as_of: date) -> list[tuple[Rectification, Any]]:
    """(item, its state on `as_of`) for the items open at the end of `as_of`: found by then, not closed by then
    (their dated history, `djctl.domain.rectify.state_at`); by deadline as it stood then, then id."""
    from djctl.services.rectify import open_at

    return open_at(session, as_of)


@dataclass
class MonthGap:
    kind: str  # tasks / draw / check
    period: str
    message: str  # plain Chinese, for documents and stderr
    org: str = ""


def month_gaps(session, months: list[str]) -> list[MonthGap]:
    """What is missing for a report over `months`: a month without a task list, a month without an active draw,
    a drawn unit that reported but has no check imported yet. One read, in month order."""
    from djctl.store.tables import CheckReport, SelfReport, TaskList

    lists = {t.month for t in session.exec(select(TaskList).where(TaskList.active == True,  # noqa: E712
                                                                  TaskList.month.in_(months)))}
    reports = {(r.unit_code, r.month) for r in session.exec(select(SelfReport).where(
        SelfReport.active == True, SelfReport.month.in_(months)))}  # noqa: E712
    checks = {(c.unit_code, c.month) for c in session.exec(select(CheckReport).where(
        CheckReport.active == True, CheckReport.month.in_(months)))}  # noqa: E712
    draws = {d.period: d for d in draws_for(session, "sample", months) if d.active}
    names = unit_names(session)
    out: list[MonthGap] = []
    for m in months:
        cn = f"{int(m[:4])}年{int(m[5:])}月"
        if m not in lists:
            out.append(MonthGap("tasks", m, f"{cn}没有月度任务清单，该月未计入得分和报送统计"))
            continue
        d = draws.get(m)
        if d is None:
            out.append(MonthGap("draw", m, f"{cn}没有进行抽查抽签"))
            continue
        for code in d.selected:
            if (code, m) in reports and (code, m) not in checks:
                out.append(MonthGap("check", m, f"{cn}抽中的{names.get(code, code)}尚未导入核查结果", code))
    return out


def render(ctx: dict[str, Any], formats: list[str], out_dir: Path, basename: str, templates: Path | None,
           on_date: date | None = None) -> list[Path]:
    """Render a document; with `on_date` (the run's date) its .docx/.xlsx carry that date, not the clock's, in
    their zip entries and document properties, so the same store and date give the same bytes on any day."""
    from djctl.io.render import render_document

    paths = render_document(ctx, formats, out_dir, basename, templates)
    if on_date is not None:
        stamp(paths, on_date)
    return paths


def stamp(paths: list[Path], on_date: date) -> None:
    from djctl.io.zipnorm import normalize_zip

    for p in paths:
        if p.suffix in (".docx", ".xlsx"):
            normalize_zip(p, on_date)


def parse_formats(text: str, allowed: tuple[str, ...] = ("docx", "md", "html", "xlsx")) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise ValueError(f"不支持的格式：{'、'.join(bad) or '（空）'}；可选 {','.join(allowed)}")
    return list(dict.fromkeys(formats))
