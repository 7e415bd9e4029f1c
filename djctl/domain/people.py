"""Pure rules of issue 19: the 述职评议 rating, the combined (综合考核) share, 评先评优 eligibility and the
committee staff's monthly score. Exact: Decimal and Fraction, rounded half-up to 2 decimals where a
figure is produced; the next step uses the rounded figure (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from djctl.domain.people_scheme import Combined, Debrief, Eligibility, Staff, fraction_text

TWO = Decimal("0.01")


def round_fraction(value: Fraction | Decimal | int) -> Decimal:
    """An exact value rounded half-up to 2 decimals (a Fraction such as 88.37 × 1/3 included)."""
    f = Fraction(value)
    scaled = f * 100
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:  # half-up (values here are never negative)
        whole += 1
    return (Decimal(whole) / 100).quantize(TWO, rounding=ROUND_HALF_UP)


def num(v: Decimal | None) -> str:
    """A figure as printed in explanations: two decimals (88.37, 30.00)."""
    return "—" if v is None else f"{Decimal(v).quantize(TWO, rounding=ROUND_HALF_UP):.2f}"


# --------------------------------------------------------------------------- 述职评议


@dataclass(frozen=True)
class DebriefRating:
    score: Decimal | None
    rating: str
    steps: list[str] = field(default_factory=list)


def debrief_rating(votes: Mapping[str, int], rule: Debrief) -> DebriefRating:
    """Score = Σ votes × level value ÷ Σ votes (2 decimals, half-up); the first threshold the score reaches
    gives the rating, else `rest_rating`; 差 votes above `poor_share` of all votes give `rest_rating`."""
    total = 0
    weighted = Decimal(0)
    for level, n in votes.items():
        if level not in rule.levels:
            raise ValueError(f"评议档次「{level}」不在方案中")
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"「{level}」票数应为非负整数")
        total += int(n)
        weighted += int(n) * rule.levels[level]
    if total == 0:
        return DebriefRating(None, "", ["无评议票"])
    score = round_fraction(Fraction(weighted) / total)
    parts = " + ".join(f"{int(n)} × {rule.levels[lv]:f}" for lv, n in votes.items())
    steps = [f"评议得分 = ({parts}) ÷ {total} = {num(score)}"]
    poor = int(votes.get("差", 0))
    if Fraction(poor, total) > rule.poor_share:
        steps.append(f"「差」票 {poor} 张，占 {poor}/{total}，超过 {fraction_text(rule.poor_share)}，评为「{rule.rest_rating}」")
        return DebriefRating(score, rule.rest_rating, steps)
    for rating, low in rule.thresholds:
        if score >= low:
            steps.append(f"得分 {num(score)} ≥ {low:f}，评为「{rating}」")
            return DebriefRating(score, rating, steps)
    low = rule.thresholds[-1][1] if rule.thresholds else Decimal(0)
    steps.append(f"得分 {num(score)} 低于 {low:f}，评为「{rule.rest_rating}」")
    return DebriefRating(score, rule.rest_rating, steps)


def checklist_verdict(rating: str | None, rule: Debrief) -> tuple[bool | None, str]:
    """What the 述职评议 says about the checklist item that names it: (passed or None when unknown, text)."""
    if not rating:
        return None, f"本年度没有书记述职评议结果（{rule.checklist_item} 须为「{rule.checklist_rating}」）"
    ok = rating == rule.checklist_rating
    return ok, f"书记述职评议结果为「{rating}」" + ("" if ok else f"，未达到「{rule.checklist_rating}」")


# --------------------------------------------------------------------------- 综合考核


@dataclass(frozen=True)
class CombinedFigure:
    party_score: Decimal | None  # the party-building figure the share is taken of
    party: Decimal | None  # its contribution on the combined scale
    business: Decimal | None
    business_part: Decimal | None
    total: Decimal | None
    grade: str
    combined_grade: str
    steps: list[str] = field(default_factory=list)


def combined_figure(*, annual_total: Decimal | None, grade: str, business: Decimal | None,
                    rule: Combined) -> CombinedFigure:
    """Party part = round2(party score ÷ 100 × weight × scale); business part = round2(business ÷
    business_scale × (1 − weight) × scale); total = party part + business part (both already rounded)."""
    w = rule.weight
    scale = Fraction(rule.scale)
    steps: list[str] = []
    if rule.basis == "grade":
        party_score = rule.grade_points.get(grade) if grade else None
        if party_score is not None:
            steps.append(f"党建考核等次「{grade}」对应 {num(party_score)} 分")
    else:
        party_score = None if annual_total is None else Decimal(annual_total)
        if party_score is not None:
            steps.append(f"党建考核年度总分 {num(party_score)}")
    party = None
    base = party_score
    if base is not None and base > 100:  # bonus points cannot push the share past its weight
        steps.append(f"{num(base)} 超过 100 分，按 100 分折算（党建部分不超过其权重）")
        base = Decimal(100)
    if base is not None:
        party = round_fraction(Fraction(base) / 100 * w * scale)
        steps.append(f"党建部分 = {num(base)} ÷ 100 × {fraction_text(w)} × {rule.scale:f} = {num(party)}"
                     + ("（四舍五入保留两位小数）" if Fraction(party) != Fraction(base) / 100 * w * scale else ""))
    else:
        steps.append("没有党建考核结果，党建部分空缺")
    business_part = total = None
    if business is not None:
        exact = Fraction(business) / Fraction(rule.business_scale) * (1 - w) * scale
        business_part = round_fraction(exact)
        steps.append(f"业务部分 = {num(business)} ÷ {rule.business_scale:f} × {fraction_text(1 - w)} × {rule.scale:f} = "
                     f"{num(business_part)}" + ("（四舍五入保留两位小数）" if Fraction(business_part) != exact else ""))
        if party is not None:
            total = party + business_part
            steps.append(f"综合考核得分 = {num(party)} + {num(business_part)} = {num(total)}")
    return CombinedFigure(party_score, party, business, business_part, total, grade,
                          rule.grade_map.get(grade, "") if grade else "", steps)


# --------------------------------------------------------------------------- 评先评优


@dataclass(frozen=True)
class UnitFacts:
    """What the eligibility rules look at for one unit in one year."""

    code: str
    ranked: bool
    grade: str
    veto_reasons: Sequence[str] = ()
    negative: Sequence[str] = ()  # sentences: "本单位列入…" / "所属支部…列入…"
    debrief_rating: str = ""
    accountability: Sequence[str] = ()  # sentences: one per measure of the scheme's kinds in the year


@dataclass(frozen=True)
class EligibilityResult:
    code: str
    eligible: bool
    reasons: list[tuple[str, str]]  # (rule, sentence)


def eligibility(f: UnitFacts, rule: Eligibility) -> EligibilityResult:
    """Each rule of the scheme, in its order; a unit is eligible when none fires."""
    reasons: list[tuple[str, str]] = []
    for name in rule.rules:
        if name == "unranked" and not f.ranked:
            reasons.append((name, "本年度未参加考核排名"))
        elif name == "grade" and f.grade in rule.fail_grades:
            reasons.append((name, f"年度考核等次为“{f.grade}”"))
        elif name == "veto" and f.veto_reasons:
            reasons.append((name, "有一票否决事项：" + "；".join(f.veto_reasons)))
        elif name == "negative_list" and f.negative:
            reasons.append((name, "列入本年度负面清单：" + "、".join(f.negative)))
        elif name == "debrief" and f.debrief_rating in rule.debrief_fail:
            reasons.append((name, f"书记抓党建述职评议结果为“{f.debrief_rating}”"))
        elif name == "accountability" and f.accountability:
            reasons.append((name, "本年度受到问责措施：" + "；".join(f.accountability)))
    return EligibilityResult(f.code, not reasons, reasons)


# --------------------------------------------------------------------------- 工委干部月度考评


@dataclass(frozen=True)
class StaffMonth:
    scores: dict[str, Decimal]
    total: Decimal
    steps: list[str]


def staff_month(scores: Mapping[str, Decimal], rule: Staff) -> StaffMonth:
    """Monthly total = Σ weight × dimension score, rounded half-up to 2 decimals once."""
    missing = [d for d in rule.weights if d not in scores]
    if missing:
        raise ValueError(f"缺少考评维度：{'、'.join(missing)}")
    exact = sum((Fraction(scores[d]) * w for d, w in rule.weights.items()), Fraction(0))
    total = round_fraction(exact)
    expr = " + ".join(f"{fraction_text(w)} × {num(scores[d])}" for d, w in rule.weights.items())
    line = f"月度得分 = {expr} = {num(total)}"
    if Fraction(total) != exact:
        line += "（四舍五入保留两位小数）"
    return StaffMonth({d: Decimal(scores[d]) for d in rule.weights}, total, [line])


def staff_year(monthly: Mapping[str, Decimal | None], months: Sequence[str]) -> tuple[Decimal, list[str], str]:
    """Annual = Σ monthly totals of the months scored; returns (sum, missing months, the sum as text)."""
    have = [(m, monthly[m]) for m in months if monthly.get(m) is not None]
    missing = [m for m in months if monthly.get(m) is None]
    total = sum((Decimal(v) for _, v in have), Decimal(0)).quantize(TWO)
    text = (" + ".join(num(v) for _, v in have) or "0") + f" = {num(total)}"
    if missing:
        text += "（未考评的月份：" + "、".join(f"{int(m[5:])}月" for m in missing) + "，不计分）"
    return total, missing, text
