"""Ranking and grades (DESIGN §3).

Ranks are competition ranks over totals rounded half-up to 2 decimals: equal rounded totals share
a rank and the next rank skips (1, 2, 2, 4). Grades go by share of the ranking: with N ranked
units, the i-th grade covers ranks ≤ ceil((s_1 + … + s_i) × N) computed exactly; the rest get the
rest grade; 差 overrides everything for a veto (一票否决) or a total below ``fail_below``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from djctl.domain.points import round2

__all__ = [
    "DEFAULT_GRADES",
    "GradeResult",
    "assign_grades",
    "competition_ranks",
    "grade_for",
    "grade_rule_text",
    "grade_thresholds",
    "normalize_grades",
]

DEFAULT_GRADES: tuple[tuple[str, Decimal], ...] = (("好", Decimal("0.2")), ("较好", Decimal("0.4")))


def competition_ranks(scores: Mapping[str, Decimal]) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4) by descending score rounded to 2 decimals.

    The result is ordered by rank, then by code (code point order), so it is deterministic.
    """
    rounded = {code: round2(Decimal(v)) for code, v in scores.items()}
    ordered = sorted(rounded, key=lambda c: (-rounded[c], c))
    ranks: dict[str, int] = {}
    prev: Decimal | None = None
    rank = 0
    for i, code in enumerate(ordered, start=1):
        if prev is None or rounded[code] != prev:
            rank = i
            prev = rounded[code]
        ranks[code] = rank
    return ranks


def normalize_grades(grades: Iterable) -> list[tuple[str, Decimal]]:
    """Accept ``[("好", 0.2), ...]`` or the scheme's ``[{好 = 0.2}, {较好 = 0.4}]``."""
    out: list[tuple[str, Decimal]] = []
    for item in grades:
        if isinstance(item, Mapping):
            if len(item) != 1:
                raise ValueError("每个等次应写成「{名称 = 比例}」")
            ((name, share),) = item.items()
        else:
            name, share = item
        share_dec = Decimal(str(share)) if isinstance(share, float) else Decimal(share)
        if share_dec < 0:
            raise ValueError(f"等次「{name}」的比例不能为负数")
        out.append((str(name), share_dec))
    return out


def _ceil_share(share: Decimal, n: int) -> int:
    with localcontext() as ctx:
        ctx.prec = 100
        return int((share * n).to_integral_value(rounding=ROUND_CEILING))


def grade_thresholds(n: int, grades: Iterable = DEFAULT_GRADES) -> list[tuple[str, Decimal, int]]:
    """For each grade: (name, cumulative share, last rank it covers = ceil(cumulative share × N))."""
    cumulative = Decimal(0)
    out: list[tuple[str, Decimal, int]] = []
    for name, share in normalize_grades(grades):
        cumulative += share
        out.append((name, cumulative, _ceil_share(cumulative, n)))
    return out


def _is_fail(total: Decimal | None, fail_below: Decimal | None) -> bool:
    return total is not None and fail_below is not None and round2(Decimal(total)) < Decimal(fail_below)


def grade_for(
    rank: int,
    n: int,
    grades: Iterable = DEFAULT_GRADES,
    rest: str = "一般",
    fail: str = "差",
    *,
    total: Decimal | None,
    fail_below: Decimal | None = Decimal(60),
    veto: bool = False,
) -> str:
    """The grade of the unit at ``rank`` among ``n`` ranked units.

    ``total`` is compared with ``fail_below`` after rounding to 2 decimals; None skips that test.
    """
    if n < 1 or not 1 <= rank <= n:
        raise ValueError(f"名次 {rank} 不在 1 到 {n} 之间")
    if veto or _is_fail(total, fail_below):
        return fail
    for name, _cum, last in grade_thresholds(n, grades):
        if rank <= last:
            return name
    return rest


def _share_sum_text(shares: list[Decimal]) -> str:
    if len(shares) == 1:
        return str(shares[0])
    return "(" + " + ".join(str(s) for s in shares) + ")"


def grade_rule_text(
    rank: int,
    n: int,
    grades: Iterable = DEFAULT_GRADES,
    rest: str = "一般",
    fail: str = "差",
    *,
    total: Decimal | None,
    fail_below: Decimal | None = Decimal(60),
    veto: bool = False,
) -> str:
    """Why the unit gets its grade, in Chinese, with the figures."""
    grade = grade_for(rank, n, grades, rest, fail, total=total, fail_below=fail_below, veto=veto)
    if veto:
        return f"有一票否决事项，评为「{fail}」"
    if _is_fail(total, fail_below):
        return f"年度总分 {round2(Decimal(total))} 低于 {fail_below}，评为「{fail}」"
    parts: list[str] = []
    shares: list[Decimal] = []
    for name, share in normalize_grades(grades):
        shares.append(share)
        last = _ceil_share(sum(shares, Decimal(0)), n)
        parts.append(f"「{name}」为前 ceil({_share_sum_text(shares)} × {n}) = {last} 名")
    head = f"共 {n} 个单位参加排名，" + "，".join(parts)
    if grade == rest:
        return f"{head}；第 {rank} 名不在以上范围，评为「{rest}」"
    return f"{head}；第 {rank} 名评为「{grade}」"


@dataclass(frozen=True)
class GradeResult:
    rank: int
    grade: str
    reason: str


def assign_grades(
    totals: Mapping[str, Decimal],
    grades: Iterable = DEFAULT_GRADES,
    rest: str = "一般",
    fail: str = "差",
    *,
    fail_below: Decimal | None = Decimal(60),
    vetoes: Iterable[str] = (),
) -> dict[str, GradeResult]:
    """Rank a whole table and grade it; N = the number of ranked units. Ordered by rank, then code."""
    grade_list: Sequence = normalize_grades(grades)
    veto_set = set(vetoes)
    ranks = competition_ranks(totals)
    n = len(ranks)
    out: dict[str, GradeResult] = {}
    for code, rank in ranks.items():
        kwargs = dict(total=totals[code], fail_below=fail_below, veto=code in veto_set)
        out[code] = GradeResult(
            rank=rank,
            grade=grade_for(rank, n, grade_list, rest, fail, **kwargs),
            reason=grade_rule_text(rank, n, grade_list, rest, fail, **kwargs),
        )
    return out
