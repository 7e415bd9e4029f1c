"""Scoring rules: double deduction, monthly rates, quarter/daily means, democratic score, annual total.

Points go in and out as integer hundredths (``*_x100``); rates and scores are ``Decimal``.

Rounding rule for the whole project: each shown figure is rounded half-up to 2 decimals where it is
produced, and the next step uses the rounded figure, so every step of an explanation can be redone
by hand from the printed numbers (monthly rate → quarter / daily mean → annual total).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from djctl.domain.points import fmt, from_x100, round2

__all__ = [
    "AnnualTotal",
    "TaskOutcome",
    "annual_total",
    "democratic_score",
    "MonthResult",
    "mean_rate",
    "mean_rate_x100",
    "month_result",
    "monthly_rate",
    "rate_of_x100",
    "rate_x100",
    "task_outcome",
]


def _round_x100(value: Decimal) -> int:
    """A Decimal number of hundredths rounded half-up to a whole hundredth."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _num(value: Decimal) -> str:
    """A Decimal figure as people read it: no trailing zeros, a real minus sign."""
    return _dec_text(value).replace("-", "−")


def _dec_text(value: Decimal) -> str:
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --------------------------------------------------------------------------- one task


@dataclass(frozen=True)
class TaskOutcome:
    """The points of one task of one unit in one month, after the check (if any).

    - ``overclaim_x100`` = max(0, self − verified); 0 when unchecked.
    - ``false`` is None when unchecked, else whether the self score was found false (虚假).
    - ``deduction_x100`` = max(0, self − final): the points the check took off the self score
      (the correction plus, for a false score, the penalty). 0 when the check found more than claimed.
    - ``penalty_x100`` = the extra points taken for a false score beyond the correction
      (verified − final, at least 0); 0 when not false.
    - ``formula`` is the rule applied, in Chinese with the figures.
    """

    task: str
    full_x100: int
    self_x100: int
    verified_x100: int | None
    false: bool | None
    overclaim_x100: int
    deduction_x100: int
    final_x100: int
    formula: str
    penalty_x100: int = 0

    @property
    def checked(self) -> bool:
        return self.verified_x100 is not None


def _check_points(name: str, value: int, full_x100: int) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name}应为整数百分之一分")
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} {fmt(value)} 不能为负数")
    if value > full_x100:
        raise ValueError(f"{name} {fmt(value)} 超过分值 {fmt(full_x100)}")
    return value


def task_outcome(
    *,
    task: str,
    full_x100: int,
    self_x100: int,
    verified_x100: int | None = None,
    false: bool | None = None,
    tolerance_x100: int = 0,
    multiplier: Decimal = Decimal(2),
) -> TaskOutcome:
    """DESIGN §3 double deduction for one task.

    overclaim = max(0, self − verified). When ``false`` is None it is decided by the tolerance rule
    (false iff overclaim > tolerance). False: final = max(0, self − round(multiplier × overclaim)),
    the penalty product rounded half-up to 0.01 first; not false: final = verified. Unchecked
    (verified None): final = self.
    """
    if isinstance(full_x100, bool) or int(full_x100) != full_x100 or full_x100 < 0:
        raise ValueError(f"任务「{task}」的分值应为非负数")
    full_x100 = int(full_x100)
    self_x100 = _check_points(f"任务「{task}」的自评得分", self_x100, full_x100)
    multiplier = Decimal(multiplier)
    if multiplier < 0:
        raise ValueError("虚假扣分倍数不能为负数")
    if tolerance_x100 < 0:
        raise ValueError("核查容差不能为负数")

    if verified_x100 is None:
        if false:
            raise ValueError(f"任务「{task}」未核查，不能认定虚假")
        return TaskOutcome(
            task=task,
            full_x100=full_x100,
            self_x100=self_x100,
            verified_x100=None,
            false=None,
            overclaim_x100=0,
            deduction_x100=0,
            final_x100=self_x100,
            formula=f"自评得分 {fmt(self_x100)}（未抽查）",
        )

    verified_x100 = _check_points(f"任务「{task}」的核查得分", verified_x100, full_x100)
    overclaim = max(0, self_x100 - verified_x100)
    is_false = (overclaim > tolerance_x100) if false is None else bool(false)

    if is_false:
        penalty_total = _round_x100(multiplier * overclaim)  # multiplier × overclaim, in hundredths
        raw = self_x100 - penalty_total
        final = max(0, raw)
        mult_text = _dec_text(multiplier)
        formula = f"{fmt(self_x100)} − {mult_text} × ({fmt(self_x100)} − {fmt(verified_x100)})"
        if multiplier * overclaim != penalty_total:
            # the product had more than 2 decimals: show the rounded penalty as well
            formula += f" = {fmt(self_x100)} − {fmt(penalty_total)}"
        if raw < 0:
            formula += f" = {_num(from_x100(raw))}，不低于 0，计 0"
        else:
            formula += f" = {fmt(final)}"
    else:
        final = verified_x100
        formula = f"核查得分 {fmt(verified_x100)}"
        if overclaim > 0 and false is None:
            formula += f"（多报 {fmt(overclaim)}，未超过容差 {fmt(int(tolerance_x100))}，不认定虚假）"
    return TaskOutcome(
        task=task,
        full_x100=full_x100,
        self_x100=self_x100,
        verified_x100=verified_x100,
        false=is_false,
        overclaim_x100=overclaim,
        deduction_x100=max(0, self_x100 - final),
        final_x100=final,
        formula=formula,
        penalty_x100=max(0, verified_x100 - final) if is_false else 0,
    )


# --------------------------------------------------------------------------- rates and means


@lru_cache(maxsize=65536)
def monthly_rate(final_x100: int, full_x100: int) -> Decimal:
    """Monthly rate = final / full × 100, rounded half-up to 2 decimals.

    Cached (a pure function of two integers, asked for every unit and month of a year's scores)."""
    if full_x100 == 0:
        raise ValueError("本月任务满分为 0，无法计算得分率")
    if full_x100 < 0 or final_x100 < 0:
        raise ValueError("得分和满分不能为负数")
    return round2(Decimal(int(final_x100)) * 100 / Decimal(int(full_x100)))


def rate_x100(rate: Decimal) -> int:
    """A rounded rate (2 decimals) as the integer hundredths a store keeps (85.17 -> 8517)."""
    return int(Decimal(rate).scaleb(2))


def rate_of_x100(value: int) -> Decimal:
    """The rate of stored hundredths (8517 -> Decimal('85.17')), as `monthly_rate` gives it."""
    return Decimal(int(value)).scaleb(-2)


@dataclass(frozen=True)
class MonthResult:
    """A reported unit-month after its check (if any): what a store keeps with the report (self_report)."""

    final_x100: int
    rate_x100: int | None  # None when the month's full points are 0 (no rate)
    deduction_x100: int = 0
    checked: bool = False
    false_tasks: tuple[str, ...] = ()


def month_result(self_total_x100: int, full_x100: int, outcomes: Iterable[TaskOutcome] = ()) -> MonthResult:
    """The month of a unit that reported: final points = the self total with every checked task's final
    points in place of its self score (`task_outcome`), rate = `monthly_rate` (rounded half-up to 2 decimals)."""
    checked = list(outcomes)
    final = int(self_total_x100) - sum(o.self_x100 - o.final_x100 for o in checked)
    rate = rate_x100(monthly_rate(final, full_x100)) if full_x100 else None
    return MonthResult(final, rate, sum(o.deduction_x100 for o in checked), bool(checked),
                       tuple(o.task for o in checked if o.false))


def mean_rate_x100(rates_x100: Iterable[int]) -> int | None:
    """`mean_rate` of stored rates in integer hundredths: the mean rounded half-up to a hundredth (rates are
    never negative, so half-up is floor(mean + 1/2)); None when there are none."""
    values = [int(v) for v in rates_x100]
    if not values:
        return None
    total, n = sum(values), len(values)
    if total < 0:
        return rate_x100(mean_rate(rate_of_x100(v) for v in values))
    return (2 * total + n) // (2 * n)


def mean_rate(rates: Iterable[Decimal]) -> Decimal | None:
    """Mean of (already rounded) rates, rounded half-up to 2 decimals; None when there are none."""
    values = [Decimal(r) for r in rates]
    if not values:
        return None
    return round2(sum(values, Decimal(0)) / len(values))


def mean_rate_text(rates: Iterable[Decimal], result: Decimal | None = None) -> str:
    """The mean as a sum people can redo: ``(90 + 85.5 + 80) ÷ 3 = 85.17``."""
    values = [Decimal(r) for r in rates]
    if not values:
        return "无有效月份"
    result = mean_rate(values) if result is None else result
    return f"({' + '.join(_num(round2(v)) for v in values)}) ÷ {len(values)} = {_num(round2(result))}"


DEFAULT_LEVELS: dict[str, Decimal] = {"好": Decimal(100), "较好": Decimal(80), "一般": Decimal(60), "差": Decimal(0)}


def democratic_score(votes: Mapping[str, int], levels: Mapping[str, Decimal] | None = None) -> Decimal | None:
    """Σ votes × level value / Σ votes, rounded half-up to 2 decimals; None when nobody voted."""
    levels = DEFAULT_LEVELS if levels is None else levels
    total_votes = 0
    weighted = Decimal(0)
    for level, n in votes.items():
        if level not in levels:
            raise ValueError(f"测评档次「{level}」不在方案中（{'、'.join(levels)}）")
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"「{level}」票数应为非负整数")
        total_votes += int(n)
        weighted += Decimal(int(n)) * Decimal(levels[level])
    if total_votes == 0:
        return None
    return round2(weighted / total_votes)


def democratic_text(votes: Mapping[str, int], levels: Mapping[str, Decimal] | None = None) -> str:
    """``(30 × 100 + 10 × 80) ÷ 40 = 95``."""
    levels = DEFAULT_LEVELS if levels is None else levels
    score = democratic_score(votes, levels)
    if score is None:
        return "无测评票"
    parts = " + ".join(f"{int(n)} × {_num(Decimal(levels[lv]))}" for lv, n in votes.items())
    return f"({parts}) ÷ {sum(int(n) for n in votes.values())} = {_num(score)}"


# --------------------------------------------------------------------------- annual total


@dataclass
class AnnualTotal:
    """The annual total of one unit and its explanation (``steps``, in Chinese)."""

    daily: Decimal | None
    democratic: Decimal | None
    bonus_raw: Decimal
    bonus_capped: Decimal
    deduction_raw: Decimal
    deduction_capped: Decimal
    total: Decimal
    steps: list[str] = field(default_factory=list)


def _sum_items(items: Iterable[int], what: str) -> Decimal:
    total = 0
    for v in items:
        if isinstance(v, bool) or int(v) != v:
            raise ValueError(f"{what}分值应为整数百分之一分")
        if v < 0:
            raise ValueError(f"{what}分值 {fmt(int(v))} 不能为负数")
        total += int(v)
    return from_x100(total)


def annual_total(
    *,
    daily: Decimal | None,
    democratic: Decimal | None,
    bonus_x100_items: Iterable[int],
    deduction_x100_items: Iterable[int],
    weight_daily: Decimal = Decimal("0.7"),
    weight_democratic: Decimal = Decimal("0.3"),
    bonus_cap: Decimal = Decimal(5),
    deduction_cap: Decimal = Decimal(10),
    explain: bool = True,
) -> AnnualTotal:
    """Annual total = w_d × daily + w_m × democratic + min(Σ bonus, cap) − min(Σ deduction, cap).

    ``daily`` and ``democratic`` are the rounded figures; a missing one (None) counts as 0 and the
    steps say so. The total is rounded half-up to 2 decimals once, at the end. ``explain=False`` leaves
    ``steps`` empty (a year's scores for thousands of units need the figures, not the sentences).
    """
    bonus_items = [int(v) for v in bonus_x100_items]
    deduction_items = [int(v) for v in deduction_x100_items]
    bonus_raw = _sum_items(bonus_items, "加分项")
    deduction_raw = _sum_items(deduction_items, "减分项")
    wd, wm = Decimal(weight_daily), Decimal(weight_democratic)
    bcap, dcap = Decimal(bonus_cap), Decimal(deduction_cap)
    bonus_capped = min(bonus_raw, bcap)
    deduction_capped = min(deduction_raw, dcap)
    d = Decimal(0) if daily is None else round2(Decimal(daily))
    m = Decimal(0) if democratic is None else round2(Decimal(democratic))
    part_d = wd * d
    part_m = wm * m
    exact = part_d + part_m + bonus_capped - deduction_capped
    total = round2(exact)

    steps: list[str] = []
    if explain:
        if daily is None:
            steps.append("日常考核得分：无有效月份，按 0 计")
        else:
            steps.append(f"日常考核得分 {_num(d)}（全年各月得分率的平均）")
        if democratic is None:
            steps.append("民主测评得分：无测评票，按 0 计")
        else:
            steps.append(f"民主测评得分 {_num(m)}")
        if bonus_items:
            steps.append(
                f"加分项 {' + '.join(fmt(v) for v in bonus_items)} = {_num(bonus_raw)}，"
                f"封顶 {_num(bcap)}，计 {_num(bonus_capped)}"
            )
        else:
            steps.append("加分项：无")
        if deduction_items:
            steps.append(
                f"减分项 {' + '.join(fmt(v) for v in deduction_items)} = {_num(deduction_raw)}，"
                f"封顶 {_num(dcap)}，计 {_num(deduction_capped)}"
            )
        else:
            steps.append("减分项：无")
        expr = (
            f"{_num(wd)} × {_num(d)} + {_num(wm)} × {_num(m)}"
            f" + min({_num(bonus_raw)}, {_num(bcap)}) − min({_num(deduction_raw)}, {_num(dcap)})"
        )
        middle = f"{_num(part_d)} + {_num(part_m)} + {_num(bonus_capped)} − {_num(deduction_capped)}"
        line = f"年度总分 = {expr} = {middle} = {_num(exact)}"
        if exact != total:
            line += f" ≈ {_num(total)}（四舍五入保留两位小数）"
        steps.append(line)
    return AnnualTotal(
        daily=None if daily is None else d,
        democratic=None if democratic is None else m,
        bonus_raw=bonus_raw,
        bonus_capped=bonus_capped,
        deduction_raw=deduction_raw,
        deduction_capped=deduction_capped,
        total=total,
        steps=steps,
    )
