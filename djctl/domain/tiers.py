"""Branch tiers (分类定级): 未达标 < 达标 < 过硬 < 示范, their rates and movements."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal

from djctl.domain.points import share

__all__ = [
    "DIMENSIONS",
    "TIERS",
    "down_one",
    "movements",
    "normalize_tier",
    "steps_up",
    "tier_level",
    "tier_rates",
]

TIERS: tuple[str, ...] = ("未达标", "达标", "过硬", "示范")
DIMENSIONS: tuple[str, ...] = ("政治统领", "班子履职", "队伍建设", "内部管理", "制度落实", "基础保障", "功能发挥")



def normalize_tier(name: str) -> str:
    """The tier's short name: "示范支部" → "示范"; raises ValueError (Chinese) for an unknown tier."""
    if name is None:
        raise ValueError("支部等次为空")
    text = unicodedata.normalize("NFKC", str(name)).strip()
    if text.endswith("支部"):
        text = text[: -len("支部")].strip()
    if text not in TIERS:
        raise ValueError(f"支部等次「{name}」无效（应为 {'、'.join(TIERS)}）")
    return text


def tier_level(name: str) -> int:
    """0 for 未达标 up to 3 for 示范."""
    return TIERS.index(normalize_tier(name))


def down_one(tier: str) -> str:
    """One tier lower (a rebound); 未达标 stays 未达标."""
    return TIERS[max(0, tier_level(tier) - 1)]


def steps_up(from_tier: str, to_tier: str) -> int:
    """How many tiers up from ``from_tier`` to ``to_tier`` (negative when down)."""
    return tier_level(to_tier) - tier_level(from_tier)


def tier_counts(tiers: Iterable[str]) -> dict[str, int]:
    """Count branches per tier, all four tiers present, highest first (示范, 过硬, 达标, 未达标)."""
    counts = {t: 0 for t in reversed(TIERS)}
    for t in tiers:
        counts[normalize_tier(t)] += 1
    return counts


def tier_rates(counts: Mapping[str, int]) -> tuple[Decimal | None, Decimal | None]:
    """(达标率, 过硬率) as shares rounded half-up to 4 decimals.

    达标率 = (达标 + 过硬 + 示范) / all branches; 过硬率 = (过硬 + 示范) / (达标 + 过硬 + 示范).
    None when the denominator is 0.
    """
    c = {t: 0 for t in TIERS}
    for name, n in counts.items():
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"「{name}」的支部数应为非负整数")
        c[normalize_tier(name)] += int(n)
    standard = c["达标"] + c["过硬"] + c["示范"]
    strong = c["过硬"] + c["示范"]
    return share(standard, sum(c.values())), share(strong, standard)


def movements(pairs: Iterable[tuple[str | None, str | None]]) -> dict:
    """Tier movements over (from, to) pairs.

    Returns ``{"matrix": {from: {to: count}}, "up": n, "down": n, "same": n, "new": n, "total": n}``:
    the matrix lists all four tiers both ways (zeros included); a pair with no ``from`` (a branch
    newly rated) counts as "new" and not in the matrix; a pair with no ``to`` is ignored.
    """
    matrix = {f: {t: 0 for t in TIERS} for f in TIERS}
    up = down = same = new = 0
    for before, after in pairs:
        if after is None:
            continue
        a = normalize_tier(after)
        if before is None:
            new += 1
            continue
        b = normalize_tier(before)
        matrix[b][a] += 1
        diff = TIERS.index(a) - TIERS.index(b)
        if diff > 0:
            up += 1
        elif diff < 0:
            down += 1
        else:
            same += 1
    return {"matrix": matrix, "up": up, "down": down, "same": same, "new": new, "total": up + down + same + new}


def organisation_standard_rate(branch_tiers: Mapping[str, list[str]], unit_kinds: Mapping[str, str]) -> tuple[
        Decimal | None, int, int]:
    """达标率 over 基层党组织 (`tiers.rate_scope = "organisations"`): every branch, plus every 机关党委 and 党总支,
    which meets the standard when it has branches and all of them are 达标 or above.

    `branch_tiers`: unit code -> the tiers of its branches; `unit_kinds`: unit code -> kind, for the units counted.
    Returns (rate as a share rounded half-up to 4 decimals, organisations meeting the standard, organisations).
    """
    met = total = 0
    for tiers in branch_tiers.values():
        total += len(tiers)
        met += sum(1 for t in tiers if tier_level(t) >= 1)
    for code, kind in unit_kinds.items():
        if kind in ("机关党委", "党总支"):
            tiers = branch_tiers.get(code, [])
            total += 1
            met += 1 if tiers and all(tier_level(t) >= 1 for t in tiers) else 0
    return share(met, total), met, total
