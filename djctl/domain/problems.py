"""Problems to closure: the scheme's vocabularies (问题类别, 严重程度, 问责措施) and the pure rules on them.

Everything here is data in, data out: no store, no files. The services pass rows as plain tuples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from djctl.domain.points import percent_text, share

#: 问题类别 after seed 004 (800 problems sorted into these 方面); a scheme may replace the list.
DEFAULT_CATEGORIES: tuple[str, ...] = ("责任落实", "组织设置", "队伍建设", "制度执行", "组织生活", "党费管理", "作用发挥",
                                       "基础保障")
DEFAULT_SEVERITIES: tuple[str, ...] = ("一般", "较重", "严重")
#: 问责措施, mildest first (seeds 001 and 004).
DEFAULT_ACTION_KINDS: tuple[str, ...] = ("提醒谈话", "约谈", "通报批评", "责令整改", "诫勉谈话", "问责")
#: Whom a measure is taken against.
TARGETS: dict[str, str] = {"unit": "单位", "secretary": "书记"}
_TARGET_ALIASES = {"单位": "unit", "党组织": "unit", "书记": "secretary", "党组织书记": "secretary", "unit": "unit",
                   "secretary": "secretary"}
PLAN_STATES: dict[str, str] = {"active": "推进中", "done": "已完成", "overdue": "已超期"}


@dataclass(frozen=True)
class RectifyRules:
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    severities: tuple[str, ...] = DEFAULT_SEVERITIES
    #: 整改回头看: the share of the year's closed items drawn for a re-check (`rectify recheck` without --rate)
    recheck_rate: Decimal = Decimal("0.2")
    #: draw the re-check stratified by 问题类别 (quotas by largest remainder)
    recheck_by_category: bool = False
    #: an item found not really fixed on re-check is reopened with this many days to rectify
    recheck_days: int = 30


@dataclass(frozen=True)
class Accountability:
    kinds: tuple[str, ...] = DEFAULT_ACTION_KINDS
    #: the quarterly bulletin names the units a measure was taken against (otherwise counts only)
    name_units: bool = True


def parse_rectify(r: Any, raw: Any) -> RectifyRules:
    """`[rectify]`: categories (non-empty, distinct), severities (non-empty, distinct); the re-check's
    recheck_rate (0 < rate ≤ 1), recheck_by_category (bool) and recheck_days (1–366)."""
    t = r.table(raw, "rectify", {"categories", "severities", "recheck_rate", "recheck_by_category", "recheck_days"})
    return RectifyRules(categories=_vocabulary(r, t, "rectify", "categories", DEFAULT_CATEGORIES),
                        severities=_vocabulary(r, t, "rectify", "severities", DEFAULT_SEVERITIES),
                        recheck_rate=r.decimal(t, "rectify", "recheck_rate", RectifyRules.recheck_rate, Decimal(0),
                                               Decimal(1), lo_open=True),
                        recheck_by_category=r.boolean(t, "rectify", "recheck_by_category", False),
                        recheck_days=r.integer(t, "rectify", "recheck_days", 30, 1, 366))


def parse_accountability(r: Any, raw: Any) -> Accountability:
    """`[accountability]`: kinds (the measures, mildest first), name_units (bool)."""
    t = r.table(raw, "accountability", {"kinds", "name_units"})
    return Accountability(kinds=_vocabulary(r, t, "accountability", "kinds", DEFAULT_ACTION_KINDS),
                          name_units=r.boolean(t, "accountability", "name_units", True))


def _vocabulary(r: Any, t: dict, path: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in t:
        return default
    v = t[key]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
        r.err(f"{path}.{key}", "应为非空的文本列表，如 [\"责任落实\", \"组织生活\"]")
        return default
    words = tuple(x.strip() for x in v)
    if len(set(words)) != len(words):
        r.err(f"{path}.{key}", "列表中有重复的项")
    if any(len(x) > 20 for x in words):
        r.err(f"{path}.{key}", "每项不超过 20 个字")
    return words


def normalize_target(value: str) -> str:
    v = (value or "").strip()
    if v not in _TARGET_ALIASES:
        raise ValueError(f"对象「{value}」无效，应为 单位 或 书记")
    return _TARGET_ALIASES[v]


def choose(value: str, words: Iterable[str], what: str) -> str:
    """`value` if it is one of `words` (after trimming), else ValueError naming the choices."""
    words = tuple(words)
    v = (value or "").strip()
    if v not in words:
        raise ValueError(f"{what}「{value}」不在考核方案的列表中，应为 {'、'.join(words)} 之一")
    return v


def counts_by_kind(kinds: Iterable[str], vocabulary: Iterable[str]) -> list[tuple[str, int]]:
    """(kind, count) in the scheme's order, then kinds outside it (an older scheme's words), zeros left out."""
    c = Counter(kinds)
    order = list(vocabulary) + sorted(k for k in c if k not in set(vocabulary))
    return [(k, c[k]) for k in order if c[k]]


def plan_state(target_date: date, done_on: date | None, as_of: date) -> str:
    """A 整改提升计划's state as of a day: done (by then), overdue (target passed, not done), or active."""
    if done_on is not None and done_on <= as_of:
        return "done"
    return "overdue" if target_date < as_of else "active"


@dataclass(frozen=True)
class ItemAsOf:
    """A rectification item as it stood on a report's as-of date D (what the rates count)."""

    due_by: bool  # its deadline in force on D is on or before D
    closed: bool  # closed by D
    late: bool  # some close came after the deadline then in force
    overdue: bool  # open on D with its deadline before D


def rectification_tally(items: Iterable[ItemAsOf]) -> dict[str, Any]:
    """Counts and rates of a set of items (DESIGN §3): 整改率 = due by D and closed by D ÷ due by D;
    按期整改率 = due by D and closed without ever being closed after its deadline ÷ due by D."""
    items = list(items)
    due = [i for i in items if i.due_by]
    closed = sum(1 for i in due if i.closed)
    on_time = sum(1 for i in due if i.closed and not i.late)
    rate, rate_on_time = share(closed, len(due)), share(on_time, len(due))
    return {"items": len(items), "open": sum(1 for i in items if not i.closed),
            "overdue": sum(1 for i in items if i.overdue), "due": len(due), "closed_due": closed,
            "closed_on_time": on_time, "rate": None if rate is None else float(rate), "rate_text": percent_text(rate),
            "rate_on_time": None if rate_on_time is None else float(rate_on_time),
            "rate_on_time_text": percent_text(rate_on_time)}
