"""The negative list's manual entries (经研究列入): the scheme's `[negative]` vocabulary of consequences and the
pure rules on them (which consequences an entry may carry, whether it stands on a date).

Four consequence words carry a meaning djctl acts on; a scheme may rename none of them, but may add others,
which are recorded and printed only:

- 下年度必抽 (units): the unit is drawn in every monthly spot check of the next year (mandatory);
- 下年度必查 (branches): the branch is drawn in the next year's look-back (回头看, mandatory);
- 扣分: a deduction (减分项) of the list's year, recorded through `adjust` in the same transaction;
- 专项督查: the entry's reason is named as a topic of special supervision (专项督查) in the list's documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

MUST_DRAW = "下年度必抽"
MUST_CHECK = "下年度必查"
DEDUCT = "扣分"
TOPIC = "专项督查"
DEFAULT_CONSEQUENCES: tuple[str, ...] = (MUST_DRAW, MUST_CHECK, DEDUCT, TOPIC)
#: the words djctl acts on, and the kinds of organization each applies to
ONLY_FOR: dict[str, str] = {MUST_DRAW: "unit", MUST_CHECK: "branch"}
KIND_CN = {"unit": "考核单位", "branch": "党支部"}
MANUAL_CN = "经研究列入"


@dataclass(frozen=True)
class NegativeRules:
    consequences: tuple[str, ...] = DEFAULT_CONSEQUENCES
    unit_default: tuple[str, ...] = (MUST_DRAW,)
    branch_default: tuple[str, ...] = (MUST_CHECK,)

    def default(self, kind: str) -> tuple[str, ...]:
        return self.unit_default if kind == "unit" else self.branch_default


def parse_negative(r: Any, raw: Any) -> NegativeRules:
    """`[negative]`: consequences (non-empty, distinct, containing the four words djctl acts on),
    unit_default and branch_default (lists of those consequences)."""
    from djctl.domain.problems import _vocabulary

    t = r.table(raw, "negative", {"consequences", "unit_default", "branch_default"})
    words = _vocabulary(r, t, "negative", "consequences", DEFAULT_CONSEQUENCES)
    missing = [w for w in DEFAULT_CONSEQUENCES if w not in words]
    if missing:
        r.err("negative.consequences", f"须包含 {'、'.join(missing)}（djctl 按这几项执行后果，可以另加其他项）")
    defaults = {}
    for key, kind, fallback in (("unit_default", "unit", (MUST_DRAW,)), ("branch_default", "branch", (MUST_CHECK,))):
        value = _vocabulary(r, t, "negative", key, fallback) if key in t else fallback
        for w in value:
            if w not in words:
                r.err(f"negative.{key}", f"「{w}」不在 negative.consequences 中")
            elif ONLY_FOR.get(w, kind) != kind:
                r.err(f"negative.{key}", f"「{w}」只适用于{KIND_CN[ONLY_FOR[w]]}")
            elif w == DEDUCT:
                r.err(f"negative.{key}", "扣分须逐条给出分值，不能作为默认后果")
        defaults[key] = value
    return NegativeRules(consequences=words, **defaults)


def choose_consequences(kind: str, chosen: Iterable[str], rules: NegativeRules,
                        deduct: bool) -> tuple[tuple[str, ...], list[str]]:
    """(the consequences in the scheme's order, problems in Chinese) for an entry of `kind` (unit / branch);
    none chosen: the scheme's default for the kind; a deduction amount given implies 扣分."""
    words = [w.strip() for w in chosen if w and w.strip()]
    problems = [f"后果「{w}」不在考核方案的列表中，应为 {'、'.join(rules.consequences)} 之一"
                for w in words if w not in rules.consequences]
    picked = set(words) or set(rules.default(kind))
    if deduct:
        picked.add(DEDUCT)
    for w in sorted(picked):
        only = ONLY_FOR.get(w)
        if only and only != kind:
            problems.append(f"后果「{w}」只适用于{KIND_CN[only]}，不适用于{KIND_CN[kind]}")
    if DEDUCT in picked and not deduct:
        problems.append("后果含「扣分」时须用 --deduct 给出扣减分值")
    return tuple(w for w in rules.consequences if w in picked), problems


def stands(added_on: date, revoked_on: date | None, as_of: date | None) -> bool:
    """Whether an entry stands on `as_of`: added on or before it and not revoked on or before it (None: now,
    i.e. every entry not revoked)."""
    if as_of is None:
        return revoked_on is None
    return added_on <= as_of and (revoked_on is None or revoked_on > as_of)
