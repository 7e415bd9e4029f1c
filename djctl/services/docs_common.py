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
    """One draw in official language (no seed, digest or label: those go to 抽签情况公示)."""
    when = cn_month(d.period) if len(d.period) == 7 else f"{d.period}年"
    rate = f"按{fmt_rate(d.rate)}的比例" if d.rate else ""
    head = f"{when}从{d.population}个在册{what}中{rate}公开随机抽取{d.k}个"
    if d.seq > 1:
        head += f"（第{d.seq}次抽签，重新抽签原因：{d.reason}）" if d.reason else f"（第{d.seq}次抽签）"
    if not d.active:
        return f"{head}，该次抽签已作废，以重新抽签结果为准。"
    return f"{head}：{'、'.join(names.get(c, c) for c in d.selected)}。"


def cn_month(period: str) -> str:
    """"2024-04" as official text prints it: 2024年4月."""
    return f"{int(period[:4])}年{int(period[5:7])}月"


_CN_NUM = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"十": 10}


def natural_key(name: str) -> tuple:
    """Sort key putting 第二组 before 第十组 and 一组 before 三组: numbers (Arabic or Chinese) by value."""
    import re

    out: list[Any] = []
    for part in re.split(r"([0-9]+|[〇一二三四五六七八九十]+)", name):
        if not part:
            continue
        if part.isdigit():
            out.append((0, int(part), ""))
        elif all(c in _CN_NUM for c in part):
            value = 0
            if "十" in part:
                head, _, tail = part.partition("十")
                value = (_CN_NUM.get(head, 1) if head else 1) * 10 + (_CN_NUM.get(tail, 0) if tail else 0)
            else:
                for c in part:
                    value = value * 10 + _CN_NUM[c]
            out.append((0, value, ""))
        else:
            out.append((1, 0, part))
    return tuple(out)


CN_ORDINALS = "一二三四五六七八九十"


def cn_ordinal(n: int) -> str:
    """1 -> 一, 12 -> 十二 (heading numbers)."""
    if n <= 10:
        return CN_ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_ORDINALS[tens - 1] if tens > 1 else "") + "十" + (CN_ORDINALS[ones - 1] if ones else "")


def task_names(session, months: list[str]) -> dict[tuple[str, str], str]:
    """(month, task code) -> task name, from each month's active task list."""
    from djctl.store.tables import Task, TaskList

    q = (select(TaskList.month, Task.code, Task.name).join(Task, Task.task_list_id == TaskList.id)
         .where(TaskList.month.in_(months), TaskList.active == True))  # noqa: E712
    return {(m, c): n for m, c, n in session.exec(q)}


def _digest_lines(h: str) -> str:
    """A SHA-256 in two lines of 32 hex digits (a table cell that never breaks inside a group)."""
    return f"{h[:32]}\n{h[32:]}" if len(h) > 32 else h


def draw_attachment(draws: list[DrawInfo], names: dict[str, str], what: str = "单位",
                    heading: str = "抽签情况公示") -> dict[str, Any]:
    """The attachment 抽签情况公示: a table of the draws, who was drawn, and each draw's seed and
    population digest in full, so that anyone can redo the draw by the scheme's published method."""
    rows, drawn, checks = [], [], []
    for d in draws:
        when = cn_month(d.period) if len(d.period) == 7 else f"{d.period}年"
        label = f"{when}第{d.seq}次"
        if not d.active:
            state = "作废"
        elif d.seq > 1:
            state = "重新抽签"
        else:
            state = "有效"
        rows.append([when, f"第{d.seq}次", str(d.population), fmt_rate(d.rate) or "按数量", str(d.k), state])
        note = f"（{'作废' if not d.active else '重新抽签'}原因：{d.reason}）" if d.reason and (d.seq > 1 or not d.active) else ""
        drawn.append(f"{label}{note}：{'、'.join(names.get(c, c) for c in d.selected)}。")
        checks.append([label, d.seed + ("（现场生成）" if d.seed_generated else ""), _digest_lines(d.population_hash)])
    return {"heading": heading, "level": 1, "paragraphs": [],
            "tables": [{"caption": "表1 抽签记录", "columns": ["抽签时间", "次序", f"在册{what}数", "比例", "抽取数", "状态"],
                        "rows": rows}],
            "figures": [], "subsections": [
                {"heading": f"抽中{what}", "level": 2, "paragraphs": drawn, "tables": [], "figures": [],
                 "subsections": []},
                {"heading": "复核信息", "level": 2,
                 "paragraphs": ["抽签种子事先公布。按公布的种子和在册名单，任何人均可按考核方案规定的方法复算抽签结果；"
                                "名单摘要用于核对在册名单是否一致。"],
                 "tables": [{"caption": "表2 抽签种子与在册名单摘要", "columns": ["抽签", "抽签种子", "名单摘要（SHA-256）"],
                             "rows": checks}], "figures": [], "subsections": []}]}


def fmt_rate(rate: str | None) -> str:
    if not rate:
        return ""
    from decimal import Decimal

    return f"{fmt(Decimal(rate) * 100)}%"


def unit_names(session) -> dict[str, str]:
    return dict(session.exec(select(Unit.code, Unit.name)).all())


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

    lists = set(session.exec(select(TaskList.month).where(TaskList.active == True,  # noqa: E712
                                                          TaskList.month.in_(months))))
    reports = {(u, m) for u, m in session.exec(select(SelfReport.unit_code, SelfReport.month).where(
        SelfReport.active == True, SelfReport.month.in_(months)))}  # noqa: E712
    checks = {(u, m) for u, m in session.exec(select(CheckReport.unit_code, CheckReport.month).where(
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


def official_header(session, scheme, kind: str, subject: str, on_date: date,
                    doc_number: str | None = None) -> dict[str, Any]:
    """The 版头 and 版记 keys of a document context from the scheme's `[documents]` section: 发文机关
    (issuer), its mark, the 发文字号 (`doc_number` given, else the one the store holds for this document),
    主送 (recipients), 抄送 (cc), 印发机关 (printer) and 印发日期 (print_date)."""
    from djctl.services.docnumbers import stored_number

    d = scheme.documents
    issuer = d.issuer or scheme.issuer
    number = doc_number or (stored_number(session, kind, subject) if session is not None else None)
    return {"issuer": issuer, "mark": d.mark or f"{issuer}文件", "doc_number": number,
            "recipients": f"{d.recipients}：" if d.recipients else None,
            "cc": d.cc, "printer": d.printer or issuer, "print_date": cn_date(on_date)}


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
