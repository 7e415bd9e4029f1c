"""The look-back report (回头看情况通报): each drawn branch's outcome, rebounds and the items they left open, as of the
report's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.tiers import TIERS
from djctl.errors import ActionNeeded
from djctl.services.draws import StoredDraw, find_history
from djctl.services.lookback import BASIS, FORMATS, KIND, REPORT_KIND, check_year, draw_as_of, pct, pct_text
from djctl.services.setup import load_scheme
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import Branch, Draw, LookbackResult, Rectification, TierChange, Unit


@dataclass
class BranchOutcome:
    code: str
    name: str
    unit: str
    tier: str
    how: str  # 必抽 / 随机
    checked: bool = False
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (code, item, problem)
    to_tier: str | None = None

    @property
    def rebounded(self) -> bool:
        return bool(self.failed)


def _outcomes(session, d: StoredDraw) -> list[BranchOutcome]:
    branches = {b.code: b for b in session.exec(select(Branch).where(Branch.code.in_(d.selected)))}
    units = {u.code: u.name for u in session.exec(select(Unit))}
    results: dict[str, list[LookbackResult]] = {}
    q = select(LookbackResult).where(LookbackResult.draw_id == d.id, LookbackResult.active == True)  # noqa: E712
    for r in session.exec(q.order_by(LookbackResult.id)):
        results.setdefault(r.branch_code, []).append(r)
    moved = {c.branch_code: c.to_tier for c in session.exec(
        select(TierChange).where(TierChange.basis == BASIS, TierChange.source_ref == f"{KIND}#{d.id}"))}
    out = []
    for code in d.selected:
        b = branches.get(code)
        o = BranchOutcome(code, b.name if b else d.names.get(code, ""), units.get(b.unit_code, "") if b else "",
                          d.group(code), d.how(code))
        rs = results.get(code, [])
        o.checked = bool(rs)
        o.failed = [(r.item_code, r.item, r.problem) for r in rs if not r.passed]
        o.to_tier = moved.get(code)
        out.append(o)
    return out


def _rect_status(session, r: Rectification, day: date) -> str:
    """The item's status as it stood on `day` (its dated history), in the report's words."""
    from djctl.services.rectify import states_at

    st = states_at(session, day, [r])[int(r.id)]
    if st.found and not st.open:
        return "已销号"
    if st.overdue:
        return "逾期未整改"
    return "整改中"


def _draw_paragraph(d: StoredDraw, as_of: str | None, outcomes: list[BranchOutcome]) -> str:
    """One look-back draw in official language; its seed, digest and label go to 抽签情况公示."""
    from djctl.services.docs_common import fmt_rate

    r = d.record
    n = len(r.population)
    when = f"截至{_cn(as_of)}，" if as_of else ""
    how = f"按{fmt_rate(r.rate)}的比例" if r.count is None else "按指定数量"
    quotas = "、".join(f"{t}支部{r.quotas.get(t, 0)}个" for t in reversed(TIERS[1:]) if r.quotas and t in r.quotas)
    text = (f"{when}达标及以上等次的在册党支部共{n}个，{how}按支部等次分层公开随机抽取{r.k}个"
            + (f"，各等次名额为{quotas}" if quotas else "") + "。")
    if r.mandatory:
        text += ("上年度负面清单上的支部必抽：" + "、".join(o.name or o.code for o in outcomes if o.code in r.mandatory) + "。")
    if d.unannounced:
        text += "本次“回头看”采取暗访方式，事先不通知被抽中的支部。"
    if d.seq > 1 and d.reason:
        text += f"本次为重新抽签，原因：{d.reason}。"
    return text


def _draw_notice(per_draw: list, year: int) -> dict[str, Any]:
    """Attachment 抽签情况公示 of the look-back report: seeds and population digests in full."""
    from djctl.services.docs_common import fmt_rate

    rows, checks = [], []
    for i, (d, _, outs) in enumerate(per_draw, 1):
        r = d.record
        rows.append([f"第{i}次", str(len(r.population)), fmt_rate(r.rate) if r.count is None else "按数量", str(r.k),
                     "暗访" if d.unannounced else "常规"])
        h = r.population_hash
        checks.append([f"第{i}次", r.seed + ("（系统生成，抽签前未公布）" if d.seed_generated else ""),
                       f"{h[:32]}\n{h[32:]}" if len(h) > 32 else h])
    return {"heading": f"{year}年度“回头看”抽签情况公示", "level": 1, "paragraphs": [],
            "tables": [{"caption": "表1 抽签记录", "columns": ["抽签", "在册支部数", "比例", "抽取数", "方式"], "rows": rows}],
            "figures": [], "subsections": [{
                "heading": "复核信息", "level": 2,
                "paragraphs": ["抽签种子事先公布。按公布的种子和在册支部名单，任何人均可按考核方案规定的方法复算抽签结果；"
                               "名单摘要用于核对在册名单是否一致。"],
                "tables": [{"caption": "表2 抽签种子与在册名单摘要", "columns": ["抽签", "抽签种子", "名单摘要（SHA-256）"],
                            "rows": checks}], "figures": [], "subsections": []}]}


def _cn(iso: str | None) -> str:
    from djctl.services.docs_common import cn_date

    return cn_date(date.fromisoformat(iso)) if iso else ""


def report_context(uow: UnitOfWork, year: int, scheme, *, on_date: date) -> dict[str, Any]:
    """The look-back report (kind "lookback") for the renderer: every figure computed here."""
    from djctl.services.docs_common import cn_date, official_header

    session = uow.session
    draws = [d for d in find_history(uow, KIND, str(year)) if d.active]
    if not draws:
        raise ActionNeeded(f"{year} 年度还没有回头看抽签", hint=f"抽签：djctl lookback --year {year} --seed 事先公布的公开数字")
    names_b = {b.code: b.name for b in session.exec(select(Branch))}
    per_draw = []
    for d in draws:
        per_draw.append((d, draw_as_of(uow, d), _outcomes(session, d)))
    all_out = [o for _, _, outs in per_draw for o in outs]
    drawn = len(all_out)
    checked = [o for o in all_out if o.checked]
    rebounded = [o for o in checked if o.rebounded]
    rate_all = pct(len(rebounded), len(checked))

    # 一、抽签
    quota_rows = []
    for draw_no, (d, _, outs) in enumerate(per_draw, 1):
        r = d.record
        for t in reversed(TIERS[1:]):
            size = sum(1 for g in (r.strata or {}).values() if g == t)
            if not size:
                continue
            quota_rows.append([f"第{draw_no}次", f"{t}支部", size, (r.quotas or {}).get(t, 0),
                               sum(1 for o in outs if o.tier == t),
                               sum(1 for o in outs if o.tier == t and o.how == "必抽")])
    sec1 = {"heading": "一、抽签情况", "level": 1,
            "paragraphs": [f"按照《{scheme.name}》，{year}年对已达到达标及以上等次的党支部开展分类定级“回头看”，"
                           f"按考核方案确定的比例公开随机抽取支部，对照其所在等次的标准逐项核查。"
                           "抽签种子事先公布，抽签结果可以复核（抽签情况见附件2）。",
                           *[_draw_paragraph(d, as_of, outs) for d, as_of, outs in per_draw]],
            "tables": [{"caption": f"表1 {year}年度“回头看”各等次抽取情况",
                        "columns": ["抽签", "等次", "在册支部数", "名额", "抽中", "其中必抽"], "rows": quota_rows,
                        "note": "名额按各等次支部数占总体的比例以最大余数法分配，合计等于应抽数量。"}],
            "figures": [], "subsections": []}

    # 二、核查结果
    tier_rows = []
    chart_labels, chart_values = [], []
    for t in reversed(TIERS[1:]):
        got = [o for o in all_out if o.tier == t]
        if not got:
            continue
        chk = [o for o in got if o.checked]
        reb = [o for o in chk if o.rebounded]
        rate = pct(len(reb), len(chk))
        tier_rows.append([f"{t}支部", len(got), len(chk), len(chk) - len(reb), len(reb), pct_text(rate)])
        chart_labels.append(f"{t}支部")
        chart_values.append(rate if rate is not None else Decimal(0))
    tier_rows.append(["合计", drawn, len(checked), len(checked) - len(rebounded), len(rebounded), pct_text(rate_all)])
    unchecked = [o for o in all_out if not o.checked]
    para2 = (f"共抽取 {drawn} 个支部，已完成核查 {len(checked)} 个"
             + (f"（尚未核查 {len(unchecked)} 个：{'、'.join(o.name or o.code for o in unchecked)}）" if unchecked else "")
             + "。" + (f"其中 {len(checked) - len(rebounded)} 个支部各项均达到所在等次标准，保持原等次；"
                       f"{len(rebounded)} 个支部存在未达到标准的项目，认定为反弹，反弹率 {pct_text(rate_all)}。"
                       if checked else "尚无核查结果。"))
    sec2 = {"heading": "二、核查结果", "level": 1, "paragraphs": [para2],
            "tables": [{"caption": f"表2 {year}年度“回头看”各等次反弹情况",
                        "columns": ["等次", "抽取", "已核查", "保持等次", "反弹", "反弹率"], "rows": tier_rows,
                        "note": "反弹率 = 反弹支部数 ÷ 已核查支部数 × 100%，四舍五入保留两位小数；等次为抽签时的等次。"}],
            "figures": [{"caption": f"图1 {year}年度“回头看”各等次支部反弹率（%）",
                         "chart": {"type": "bar", "labels": chart_labels, "values": chart_values,
                                   "series_name": "反弹率（%）", "max_value": 100, "x_title": "抽签时等次",
                                   "y_title": "反弹率（%）"}}],
            "subsections": []}

    # 三、反弹支部
    rebound_rows = []
    for i, o in enumerate(rebounded, 1):
        rebound_rows.append([i, o.name or o.code, o.unit, f"{o.tier}支部",
                             f"{o.to_tier}支部" if o.to_tier else "—",
                             "；".join(item for _, item, _ in o.failed),
                             "；".join(p for _, _, p in o.failed)])
    rule = ("下调一个等次" if scheme.lookback.rebound == "down_one" else "调整为未达标支部")
    sec3 = {"heading": "三、反弹支部及存在的问题", "level": 1,
            "paragraphs": ([f"对核查中有任何一项未达到所在等次标准的支部，认定为反弹，{rule}，"
                            f"并将每一项问题列为整改事项，限 {scheme.lookback.rectify_days} 日内整改到位。反弹支部如下："]
                           if rebounded else ["本次“回头看”核查的支部均达到所在等次标准，未发现反弹。"]),
            "tables": ([{"caption": "表3 反弹支部及主要问题",
                         "columns": ["序号", "支部", "所属单位", "原等次", "调整后等次", "未达到的项目", "问题描述"],
                         "rows": rebound_rows}] if rebounded else []),
            "figures": [], "subsections": []}

    # 四、整改
    refs = [f"{KIND}#{d.id}:" for d, _, _ in per_draw]
    rects = [r for r in session.exec(select(Rectification).where(Rectification.source == "lookback")
                                     .order_by(Rectification.due, Rectification.id))
             if any(r.source_ref.startswith(p) for p in refs)]
    statuses = [(r, _rect_status(session, r, on_date)) for r in rects]
    found = {(d.id, o.code, c): f"{item}：{problem}" for d, _, outs in per_draw for o in outs
             for c, item, problem in o.failed}

    def short(r: Rectification) -> str:
        head, _, item = r.source_ref.partition(":")
        try:
            key = (int(head.split("#", 1)[1]), r.org_code, item)
        except (IndexError, ValueError):
            return r.problem
        return found.get(key, r.problem)

    counts = {k: sum(1 for _, st in statuses if st == k) for k in ("已销号", "整改中", "逾期未整改")}
    sec4 = {"heading": "四、整改落实情况", "level": 1,
            "paragraphs": ([f"“回头看”发现的问题共列为整改事项 {len(rects)} 项（清单见附件3）。截至{cn_date(on_date)}，已整改销号 "
                            f"{counts['已销号']} 项，正在整改 {counts['整改中']} 项，逾期未整改 {counts['逾期未整改']} 项。"
                            + ("逾期未整改的支部将列入年度负面清单。" if counts["逾期未整改"] else "")]
                           if rects else ["本次“回头看”没有需要整改的问题。"]),
            "tables": [], "figures": [], "subsections": []}
    # the items' problem texts need the width of a landscape page: an attachment, not a body table
    rect_attachment = {"heading": f"{year}年度“回头看”整改事项清单", "level": 1, "paragraphs": [], "landscape": True,
                       "tables": [{"caption": f"截至{cn_date(on_date)}",
                                   "columns": ["序号", "支部", "问题", "整改期限", "状态"],
                                   "rows": [[i, names_b.get(r.org_code, r.org_code), short(r), cn_date(r.due), st]
                                            for i, (r, st) in enumerate(statuses, 1)]}],
                       "figures": [], "subsections": []}
    sec5 = {"heading": "五、下一步工作", "level": 1,
            "paragraphs": ["各单位党组织要对照反弹支部存在的问题举一反三，督促所属支部按期整改并报送《问题整改反馈单》，"
                           "整改情况纳入年度考核。",
                           "反弹支部整改到位后，须重新申报、经验收合格方可恢复原等次；整改逾期或再次反弹的，列入年度负面清单，"
                           "下一年度“回头看”必抽。"],
            "tables": [], "figures": [], "subsections": []}
    att_rows = []
    n = 0
    for d, _, outs in per_draw:
        for o in outs:
            n += 1
            result = ("反弹" if o.rebounded else "达到标准") if o.checked else "未核查"
            att_rows.append([n, o.name or o.code, o.unit, f"{o.tier}支部", o.how, result])
    attachment = {"heading": f"{year}年度“回头看”抽取支部名单及核查结果", "level": 1, "paragraphs": [], "landscape": True,
                  "tables": [{"caption": "抽取支部名单及核查结果",
                              "columns": ["序号", "支部名称", "所属单位", "抽签时等次", "抽取方式", "核查结果"],
                              "rows": att_rows}], "figures": [], "subsections": []}
    by_tier = {row[0]: {"drawn": row[1], "checked": row[2], "kept": row[3], "rebounded": row[4]}
               for row in tier_rows if row[0] != "合计"}
    return {
        "kind": REPORT_KIND,
        "title": f"关于{year}年度党支部分类定级“回头看”情况的通报",
        **official_header(session, scheme, REPORT_KIND, str(year), on_date),
        "date": cn_date(on_date),
        "sections": [sec1, sec2, sec3, sec4, sec5],
        "attachments": [attachment, _draw_notice(per_draw, year)] + ([rect_attachment] if rects else []),
        "numbers": {"year": year, "draws": [d.id for d in draws], "drawn": drawn, "checked": len(checked),
                    "rebounded": len(rebounded), "rebound_rate": None if rate_all is None else float(rate_all),
                    "by_tier": by_tier, "rebounded_branches": [o.code for o in rebounded],
                    "rectifications": len(rects), "rectification_status": counts,
                    "seeds": [d.seed for d in draws], "population_hashes": [d.population_hash for d in draws]},
    }


def write_report(store: Store, year: int, *, formats: list[str], out_dir: Path, templates: Path | None = None,
                 on_date: date | None = None) -> list[Path]:
    """Render the year's look-back report (docx, md, html, xlsx) as `out_dir/{year}_回头看报告.*`."""
    from djctl.services.docs_common import render

    year = check_year(year)
    with store.read() as uow:
        scheme = load_scheme(uow.session, year)
        day = on_date or _clock.today()  # one date for the whole run
        ctx = report_context(uow, year, scheme, on_date=day)
    return render(ctx, formats, out_dir, report_basename(year), templates, on_date=day)


def report_basename(year: int) -> str:
    return f"{year}_回头看报告"


def has_draw(store: Store, year: int) -> bool:
    with store.read() as uow:
        return uow.session.exec(select(Draw.id).where(Draw.kind == KIND, Draw.period == str(year),
                                                      Draw.active == True)).first() is not None  # noqa: E712


def yearend_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    """The year-end run's hook: the look-back report in all four formats, or [] when the year had no look-back."""
    if not has_draw(store, year):
        return []
    return write_report(store, year, formats=list(FORMATS), out_dir=out_dir, templates=templates, on_date=day)
