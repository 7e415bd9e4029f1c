"""The scheme sections of issue 19: [debrief] (述职评议), [combined] (综合考核), [eligibility] (评先评优),
[staff] (工委干部月度考评). Parsed by `djctl.domain.scheme` through `parse_people`; pure, no I/O.

Weights that are thirds (党建占三分之一) are kept exact: a weight is a `Fraction`, written in the TOML file
as a number (0.25) or as text ("1/3").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

DEBRIEF_LEVELS = ("好", "较好", "一般", "差")
#: Rules the eligibility check knows (domain/people.py implements each). `accountability`: a measure of one
#: of `accountability_kinds` (问责措施, `djctl action`) taken against the unit or its secretary in the year and
#: not revoked by its end.
ELIGIBILITY_RULES = ("grade", "veto", "negative_list", "debrief", "unranked", "accountability")
STAFF_DIMENSIONS = ("工作实绩", "作风表现", "综合测评")


@dataclass(frozen=True)
class Debrief:
    """述职评议: votes per level → score (Σ votes × value ÷ votes) → rating by thresholds; a share of 差
    votes above `poor_share` makes the rating 差 whatever the score."""

    levels: dict[str, Decimal] = field(default_factory=lambda: {
        "好": Decimal(100), "较好": Decimal(80), "一般": Decimal(60), "差": Decimal(0)})
    thresholds: tuple[tuple[str, Decimal], ...] = (("好", Decimal(90)), ("较好", Decimal(75)), ("一般", Decimal(60)))
    rest_rating: str = "差"
    poor_share: Fraction = Fraction(1, 3)
    checklist_item: str = "G02"  # the tier checklist item that needs the branch secretary's rating
    checklist_rating: str = "好"


@dataclass(frozen=True)
class Combined:
    """综合考核: party-building counts `weight` of the combined scale; business work the rest."""

    weight: Fraction = Fraction(1, 3)
    scale: Decimal = Decimal(100)
    basis: str = "total"  # "total": the annual total; "grade": the grade's points in grade_points
    grade_points: dict[str, Decimal] = field(default_factory=lambda: {
        "好": Decimal(100), "较好": Decimal(90), "一般": Decimal(80), "差": Decimal(60)})
    grade_map: dict[str, str] = field(default_factory=lambda: {
        "好": "优秀", "较好": "良好", "一般": "合格", "差": "不合格"})
    business_scale: Decimal = Decimal(100)


@dataclass(frozen=True)
class Eligibility:
    rules: tuple[str, ...] = ("grade", "veto", "negative_list", "debrief", "unranked", "accountability")
    fail_grades: tuple[str, ...] = ("差",)
    debrief_fail: tuple[str, ...] = ("差",)
    honour: str = "先进基层党组织"
    accountability_kinds: tuple[str, ...] = ("诫勉谈话", "问责")


@dataclass(frozen=True)
class Staff:
    weights: dict[str, Fraction] = field(default_factory=lambda: {
        "工作实绩": Fraction(1, 2), "作风表现": Fraction(3, 10), "综合测评": Fraction(1, 5)})
    max_points: Decimal = Decimal(100)
    issuer_department: str = "机关工委办公室"


def fraction(r: Any, data: dict, path: str, key: str, default: Fraction) -> Fraction:
    """A weight in [0, 1]: a number (Decimal from TOML) or text "a/b"."""
    if key not in data:
        return default
    v = data[key]
    try:
        if isinstance(v, bool):
            raise ValueError
        if isinstance(v, str):
            f = Fraction(v.strip())
        elif isinstance(v, (int, Decimal)):
            f = Fraction(v)
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        r.err(f"{path}.{key}", f"应为 0 到 1 之间的数或分数（如 0.25 或 \"1/3\"），实际为「{v}」")
        return default
    if not 0 <= f <= 1:
        r.err(f"{path}.{key}", f"应在 0 到 1 之间，实际为 {v}")
        return default
    return f


def fraction_text(f: Fraction) -> str:
    """1/3 -> "1/3"; 1/2 -> "0.5" (a finite decimal is shown as one)."""
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        text = format(Decimal(f.numerator) / Decimal(f.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{f.numerator}/{f.denominator}"


_CN = "零一二三四五六七八九十"


def fraction_cn(f: Fraction) -> str:
    """A weight in official text: 1/3 -> 三分之一, 1/2 -> 二分之一; other values as fraction_text."""
    if 0 < f < 1 and f.denominator <= 10:
        return f"{_CN[f.denominator]}分之{_CN[f.numerator]}"
    return fraction_text(f)


def _levels(r: Any, data: dict, path: str, default: dict[str, Decimal]) -> dict[str, Decimal]:
    if path.rsplit(".", 1)[-1] not in data:
        return dict(default)
    key = path.rsplit(".", 1)[-1]
    raw = data[key]
    if not isinstance(raw, dict) or not raw:
        r.err(path, "应为「名称 = 分值」的表")
        return dict(default)
    return {k: r.decimal(raw, path, k, Decimal(0), Decimal(0), Decimal(1000)) for k in raw}


def _debrief(r: Any, raw: Any) -> Debrief:
    d = r.table(raw, "debrief", {"levels", "thresholds", "rest_rating", "poor_share", "checklist_item",
                                 "checklist_rating"})
    levels = _levels(r, d, "debrief.levels", Debrief().levels)
    missing = [lv for lv in DEBRIEF_LEVELS if lv not in levels]
    extra = [lv for lv in levels if lv not in DEBRIEF_LEVELS]
    if missing or extra:
        r.err("debrief.levels", f"应恰为 {'/'.join(DEBRIEF_LEVELS)} 四档的分值")
    thresholds = Debrief.thresholds
    if "thresholds" in d:
        t = d["thresholds"]
        parsed: list[tuple[str, Decimal]] = []
        if not isinstance(t, list) or not t:
            r.err("debrief.thresholds", "应为列表，如 [{好 = 90}, {较好 = 75}, {一般 = 60}]")
        else:
            for i, item in enumerate(t):
                if not isinstance(item, dict) or len(item) != 1:
                    r.err(f"debrief.thresholds[{i}]", "每项应为一个「评议结果 = 最低得分」")
                    continue
                (name, _), = item.items()
                parsed.append((name, r.decimal(item, f"debrief.thresholds[{i}]", name, Decimal(0), Decimal(0),
                                               Decimal(1000))))
            if any(parsed[i][1] <= parsed[i + 1][1] for i in range(len(parsed) - 1)):
                r.err("debrief.thresholds", "最低得分应从高到低排列")
            thresholds = tuple(parsed)
    return Debrief(levels=levels, thresholds=thresholds, rest_rating=r.string(d, "debrief", "rest_rating", "差"),
                   poor_share=fraction(r, d, "debrief", "poor_share", Debrief.poor_share),
                   checklist_item=r.string(d, "debrief", "checklist_item", Debrief.checklist_item),
                   checklist_rating=r.string(d, "debrief", "checklist_rating", Debrief.checklist_rating))


def _combined(r: Any, raw: Any) -> Combined:
    c = r.table(raw, "combined", {"weight", "scale", "basis", "grade_points", "grade_map", "business_scale"})
    base = Combined()
    gmap = dict(base.grade_map)
    if "grade_map" in c:
        g = c["grade_map"]
        if not isinstance(g, dict) or not all(isinstance(v, str) for v in g.values()):
            r.err("combined.grade_map", "应为「党建等次 = 综合考核等次」的表，如 {好 = \"优秀\"}")
        else:
            gmap = dict(g)
    weight = fraction(r, c, "combined", "weight", base.weight)
    if weight == 0:
        r.err("combined.weight", "党建工作在综合考核中的权重不能为 0")
    return Combined(
        weight=weight,
        scale=r.decimal(c, "combined", "scale", base.scale, Decimal(0), Decimal(10000), lo_open=True),
        basis=r.string(c, "combined", "basis", "total", ("total", "grade")),
        grade_points=_levels(r, c, "combined.grade_points", base.grade_points),
        grade_map=gmap,
        business_scale=r.decimal(c, "combined", "business_scale", base.business_scale, Decimal(0), Decimal(10000),
                                 lo_open=True),
    )


def _strings(r: Any, data: dict, path: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in data:
        return default
    v = data[key]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        r.err(f"{path}.{key}", "应为文本列表，如 [\"差\"]")
        return default
    return tuple(v)


def _eligibility(r: Any, raw: Any) -> Eligibility:
    e = r.table(raw, "eligibility", {"rules", "fail_grades", "debrief_fail", "honour", "accountability_kinds"})
    rules = _strings(r, e, "eligibility", "rules", Eligibility.rules)
    for i, name in enumerate(rules):
        if name not in ELIGIBILITY_RULES:
            r.err(f"eligibility.rules[{i}]", f"未知的规则「{name}」（可用：{'、'.join(ELIGIBILITY_RULES)}）")
    if len(set(rules)) != len(rules):
        r.err("eligibility.rules", "规则重复")
    return Eligibility(rules=rules, fail_grades=_strings(r, e, "eligibility", "fail_grades", Eligibility.fail_grades),
                       debrief_fail=_strings(r, e, "eligibility", "debrief_fail", Eligibility.debrief_fail),
                       honour=r.string(e, "eligibility", "honour", Eligibility.honour),
                       accountability_kinds=_strings(r, e, "eligibility", "accountability_kinds",
                                                     Eligibility.accountability_kinds))


def _staff(r: Any, raw: Any) -> Staff:
    s = r.table(raw, "staff", {"weights", "max_points", "issuer_department"})
    weights = dict(Staff().weights)
    if "weights" in s:
        w = r.table(s["weights"], "staff.weights", set(STAFF_DIMENSIONS))
        weights = {dim: fraction(r, w, "staff.weights", dim, Fraction(0)) for dim in STAFF_DIMENSIONS}
        if sum(weights.values()) != 1:
            r.err("staff.weights", f"工作实绩、作风表现、综合测评的权重之和应为 1，实际为 {fraction_text(sum(weights.values()))}")
    return Staff(weights=weights,
                 max_points=r.decimal(s, "staff", "max_points", Staff.max_points, Decimal(0), Decimal(1000), lo_open=True),
                 issuer_department=r.string(s, "staff", "issuer_department", Staff.issuer_department))


def parse_people(r: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """The four sections as Scheme keyword arguments (problems go to the scheme reader `r`)."""
    return {"debrief": _debrief(r, raw.get("debrief", {})), "combined": _combined(r, raw.get("combined", {})),
            "eligibility": _eligibility(r, raw.get("eligibility", {})), "staff": _staff(r, raw.get("staff", {}))}


def people_summary(s: Any) -> list[tuple[str, str]]:
    d, c, e, st = s.debrief, s.combined, s.eligibility, s.staff
    return [
        ("debrief.levels", ", ".join(f"{k} = {v}" for k, v in d.levels.items())),
        ("debrief.thresholds", ", ".join(f"{k} ≥ {v}" for k, v in d.thresholds) + f"，其余 {d.rest_rating}"
         + f"；差票超过 {fraction_text(d.poor_share)} 为「{d.rest_rating}」"),
        ("debrief.checklist_item", f"{d.checklist_item}（须述职评议为「{d.checklist_rating}」）"),
        ("combined.weight", fraction_text(c.weight)), ("combined.scale", str(c.scale)),
        ("combined.basis", c.basis), ("combined.grade_map", ", ".join(f"{k} → {v}" for k, v in c.grade_map.items())),
        ("eligibility.rules", ", ".join(e.rules)),
        ("staff.weights", ", ".join(f"{k} = {fraction_text(v)}" for k, v in st.weights.items())),
    ]
