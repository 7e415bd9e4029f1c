"""The look-back (回头看): draw branches at 达标 or above, worksheets out, results in, rebounds, the report.

Decisions (DESIGN §3 "Look-back", "Verifiable draw"):

- **Date of the draw** (``as_of``): the tiers that decide the population are taken as of this day:
  ``--date`` if given (it must lie in the year), else today for the current year and 31 December for a
  past year; a future year needs ``--date``. The day is kept in the draw's audit event and shown.
- **Population**: active branches (``branch.active``, and their unit in the register on that day) whose
  tier as of that day (`services.tiers.tiers_at`, from the tier history) is 达标, 过硬 or 示范.
- **Strata**: that tier, always (stratified draw, quotas by largest remainder).
- **Mandatory**: branches on the previous year's negative list (active entries of kind ``branch``, and
  entries put on it by decision with 下年度必查 standing on ``as_of``) when ``lookback.include_negative_list``; a listed branch outside the population is named in a note. A UNIT on
  the negative list does not pull its branches in (units are re-checked by the monthly spot check).
- **Series**: the year's look-back is labelled ``lookback:2024``; ``--label 专项`` starts another series in
  the same year, ``lookback:2024-专项`` (period stays the year, ``seq`` numbers all draws of the year). A
  second draw of a series needs ``--redraw --reason`` and is labelled ``…#2``; only the earlier draw of the
  SAME series is superseded. ``--unannounced`` (暗访) is stored on the draw row and shown.
- **Rebound**: a branch failing any item of its tier's checklist moves down (``lookback.rebound``:
  ``down_one`` or ``to_lowest``) with basis 回头看 dated at the import (``--date``, today by default), and
  every failed item becomes a rectification item due ``lookback.rectify_days`` later — all in the file's
  transaction with ONE audit event. The check is against the tier the branch had at the draw; if its tier
  changed since (other than by this look-back) the worksheet is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl.domain.periods import active_on
from djctl.domain.points import fmt, round2
from djctl.domain.sampling import run_draw
from djctl.domain.tiers import normalize_tier, tier_level
from djctl.errors import ActionNeeded, DjctlError
from djctl.services.draw_request import draw_request
from djctl.services.draw_text import publication_lines
from djctl.services.draws import StoredDraw, audit_payload, find_draw, find_history, next_seq, save_draw, series_label
from djctl.services.setup import load_scheme
from djctl.store.audit import rows_digest
from djctl.store.engine import Store, UnitOfWork
from djctl.store.tables import Branch, Draw, LookbackResult, TierChange, Unit

KIND = "lookback"
BASIS = "回头看"
RESULT = LookbackResult.__table__
NAME_RE = re.compile(r"[\w\-]{1,20}")
FORMATS = ["docx", "md", "html", "xlsx"]
REPORT_KIND = "lookback"


# --------------------------------------------------------------------------- small helpers


def check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DjctlError(f"年度「{year}」无效（应为 2000 到 2100 之间的年份）")
    return year


def parse_series_name(text: str | None, year: int) -> str | None:
    """The name of an ad-hoc look-back series: `专项` or `lookback:2024-专项` → `专项`; None for the year's own."""
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip()
    prefix = f"{KIND}:{year}"
    if t in ("", prefix):
        return None
    if t.startswith(prefix + "-"):
        t = t[len(prefix) + 1:]
    elif t.startswith(f"{KIND}:"):
        raise DjctlError(f"标签「{text}」应为 {prefix}-名称（或只写名称，如 专项），年度须与 --year 一致")
    if not NAME_RE.fullmatch(t):
        raise DjctlError(f"标签名称「{t}」无效：只能用汉字、字母、数字、下划线和连字符，最多 20 个字（如 专项、暗访）")
    return t


def default_as_of(year: int, today: date) -> date:
    """The day tiers are taken as of when none is given: today for the current year, 31 December for a past one."""
    if year < today.year:
        return date(year, 12, 31)
    if year == today.year:
        return today
    raise DjctlError(f"{year} 年度尚未开始，无法按今天的等次确定回头看总体", hint="用 --date 指定等次截至日期（须在该年度内）")


def pct(num: int, den: int) -> Decimal | None:
    return None if den == 0 else round2(Decimal(num) * 100 / Decimal(den))


def pct_text(v: Decimal | None) -> str:
    return "—" if v is None else f"{fmt(v)}%"


def items_hash(items) -> str:
    """The hash of a checklist as a worksheet was made from it (code, item, standard, dimension in order)."""
    return rows_digest([[i.code, i.item, i.standard, i.dimension] for i in items])


def _unit_in_register(u: Unit | None, day: date) -> bool:
    return u is None or active_on(day, u.active_from, u.active_to)


def eligible_branches(session, as_of: date) -> dict[str, str]:
    """branch code -> tier as of `as_of`, for active branches (unit in the register) at 达标 or above."""
    from djctl.services.tiers import tiers_at

    units = {u.code: u for u in session.exec(select(Unit))}
    changes: dict[str, list[TierChange]] = {}
    for c in session.exec(select(TierChange).order_by(TierChange.on_date, TierChange.id)):
        changes.setdefault(c.branch_code, []).append(c)
    out: dict[str, str] = {}
    for b in session.exec(select(Branch).where(Branch.active == True).order_by(Branch.code)):  # noqa: E712
        if not _unit_in_register(units.get(b.unit_code), as_of):
            continue
        t = tiers_at(b, changes.get(b.code, []), as_of)
        if t is not None and tier_level(t) >= 1:
            out[b.code] = normalize_tier(t)
    return out


# --------------------------------------------------------------------------- the draw


@dataclass
class LookbackDraw:
    draw: StoredDraw
    as_of: str | None
    seed_generated: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc = self.draw.to_json()
        doc["as_of"] = self.as_of
        doc["series"] = self.draw.series
        return doc


def draw_as_of(uow: UnitOfWork, d: StoredDraw) -> str | None:
    payload = audit_payload(uow, KIND, d.id) or {}
    value = payload.get("as_of")
    return str(value) if value else None


def draw_lookback(store: Store, year: int, *, rate: Decimal | str | None = None, count: int | None = None,
                  seed: str | None = None, name: str | None = None, unannounced: bool = False, redraw: bool = False,
                  reason: str = "", on_date: date | None = None, today: date | None = None) -> LookbackDraw:
    """Draw the year's look-back branches and store the draw (one transaction, one audit event)."""
    from djctl.domain.negative import MUST_CHECK
    from djctl.services.negative import negative_codes

    year = check_year(year)
    name = parse_series_name(name, year)
    req = draw_request(rate=rate, count=count, seed=seed, redraw=redraw, reason=reason)
    rate, count, seed, generated, reason = req.rate, req.count, req.seed, req.seed_generated, req.reason
    as_of = on_date or default_as_of(year, today or _clock.today())
    if as_of.year != year:
        raise DjctlError(f"等次截至日期 {as_of.isoformat()} 不在 {year} 年度内")
    period = str(year)
    with store.write() as uow:
        s = uow.session
        scheme = load_scheme(s, year)
        history = find_history(uow, KIND, period)
        base = series_label(KIND, period, name)
        series = [d for d in history if d.series == base]
        if series and not redraw:
            last = series[-1]
            raise DjctlError(f"{base} 已经抽签（#{last.id}，{last.label}），不能再次抽签",
                             hint="确需重抽请加 --redraw --reason 原因（原抽签保留可查）；另行组织专项回头看请加 "
                                  f"--label 名称（如 --label 专项）；查看：djctl lookback show {last.id}")
        if redraw and not series:
            raise DjctlError(f"{base} 还没有抽签，无从重抽", hint="去掉 --redraw 与 --reason 即为首次抽签")
        label = series_label(KIND, period, name, len(series) + 1)
        pop = eligible_branches(s, as_of)
        if not pop:
            raise ActionNeeded(f"截至 {as_of.isoformat()} 没有达标及以上等次的在册党支部，无法进行回头看抽签",
                               hint="先导入名册（djctl org import）或登记支部等次（djctl tier set）")
        lb = scheme.lookback
        mandatory: dict[str, str] = {}
        notes: list[str] = []
        if lb.include_negative_list:
            for code in sorted(negative_codes(s, year - 1, "branch", as_of, MUST_CHECK)):
                if code in pop:
                    mandatory[code] = f"{year - 1} 年度负面清单"
                else:
                    notes.append(f"{code} 在 {year - 1} 年度负面清单上，但截至 {as_of.isoformat()} 不是达标及以上等次的"
                                 "在册支部，未纳入回头看抽签")
        try:
            record = run_draw(seed=seed, label=label, population=sorted(pop),
                              rate=None if count is not None else (lb.rate if rate is None else rate), count=count,
                              min_count=lb.min_count, mandatory=mandatory, strata=pop)
        except ValueError as exc:
            raise DjctlError(f"无法抽签：{exc}") from None
        from djctl.services.inspectors import assign as assign_inspectors

        notes += assign_inspectors(uow, record, scheme, kind=KIND, period=period)
        superseded = [d.id for d in series if d.active]
        if superseded:
            done = s.exec(select(LookbackResult.branch_code).where(LookbackResult.draw_id.in_(superseded),
                                                                   LookbackResult.active == True)).all()  # noqa: E712
            if done:
                notes.append(f"被取代的抽签已有 {len(set(done))} 个支部导入了回头看结果（含已生成的等次变动和整改事项），"
                             "这些记录保留，请确认是否仍然有效")
        draw_id = save_draw(uow, record, kind=KIND, period=period, seq=next_seq(uow, KIND, period), reason=reason,
                            seed_generated=generated, unannounced=unannounced,
                            audit_extra={"as_of": as_of.isoformat(), "series": base})
        stored = find_draw(uow, draw_id, KIND)
    return LookbackDraw(stored, as_of.isoformat(), generated, notes)


def pick_draw(uow: UnitOfWork, year: int, name: str | None = None) -> StoredDraw:
    """The year's active look-back draw (of a series, when named); a clear error when none or several."""
    active = [d for d in find_history(uow, KIND, str(year)) if d.active]
    if name is not None:
        base = series_label(KIND, str(year), name)
        active = [d for d in active if d.series == base]
    if not active:
        what = f"「{series_label(KIND, str(year), name)}」" if name else ""
        raise ActionNeeded(f"{year} 年度还没有{what}回头看抽签",
                           hint=f"抽签：djctl lookback --year {year} --seed 事先公布的公开数字")
    if len(active) > 1:
        raise DjctlError(f"{year} 年度有 {len(active)} 次回头看抽签：" + "、".join(f"#{d.id}（{d.label}）" for d in active),
                         hint="请指定抽签编号，或用 --label 指定哪一次")
    return active[0]


def show_lookback(store: Store, draw_id: int | None = None, year: int | None = None,
                  name: str | None = None) -> LookbackDraw:
    """A look-back draw by id, the year's active draw, or (neither given) the latest active one."""
    with store.read() as uow:
        if draw_id is not None:
            d = find_draw(uow, draw_id, KIND)
        elif year is not None:
            d = pick_draw(uow, check_year(year), parse_series_name(name, year))
        else:
            row = uow.session.exec(select(Draw).where(Draw.kind == KIND, Draw.active == True)  # noqa: E712
                                   .order_by(Draw.period.desc(), Draw.seq.desc())).first()
            if row is None:
                raise DjctlError("还没有任何回头看抽签", hint="抽签：djctl lookback --year 2024 --seed 事先公布的公开数字")
            d = find_draw(uow, row.id, KIND)
        return LookbackDraw(d, draw_as_of(uow, d))


def draw_lines(ld: LookbackDraw) -> list[str]:
    """The 公示文本 plus the day the tiers were taken as of."""
    lines = publication_lines(ld.draw)
    if ld.as_of:
        at = next((i for i, line in enumerate(lines) if line.startswith("总体：")), len(lines) - 1)
        lines.insert(at + 1, f"总体口径：截至 {ld.as_of} 等次为达标及以上的在册党支部（按抽签时的等次分层）")
    return lines


# --------------------------------------------------------------------------- worksheets out
