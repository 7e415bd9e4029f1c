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


def open_rectifications(session, as_of: date) -> list[Rectification]:
    q = select(Rectification).where(Rectification.status != "closed").order_by(Rectification.due, Rectification.id)
    return [r for r in session.exec(q) if r.created_at.date() <= as_of]


def render(ctx: dict[str, Any], formats: list[str], out_dir: Path, basename: str, templates: Path | None) -> list[Path]:
    from djctl.io.render import render_document

    return render_document(ctx, formats, out_dir, basename, templates)


def parse_formats(text: str, allowed: tuple[str, ...] = ("docx", "md", "html", "xlsx")) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise ValueError(f"不支持的格式：{'、'.join(bad) or '（空）'}；可选 {','.join(allowed)}")
    return list(dict.fromkeys(formats))
