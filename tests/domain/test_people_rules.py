"""Hand-computed figures of issue 19: 述职评议 rating, the combined share at 1/3, eligibility, staff scores."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from djctl.domain.people import (UnitFacts, checklist_verdict, combined_figure, debrief_rating, eligibility,
                                 round_fraction, staff_month, staff_year)
from djctl.domain.people_scheme import Combined, Debrief, Eligibility, Staff
from djctl.domain.scheme import SchemeError, parse_scheme

D = Decimal


def votes(good: int, fair: int, avg: int, poor: int) -> dict[str, int]:
    return {"好": good, "较好": fair, "一般": avg, "差": poor}


def test_debrief_rating_from_votes_by_hand():
    rule = Debrief()
    # (20 × 100 + 8 × 80 + 2 × 60 + 0 × 0) ÷ 30 = 2760 ÷ 30 = 92.00 ≥ 90 → 好
    r = debrief_rating(votes(20, 8, 2, 0), rule)
    assert (r.score, r.rating) == (D("92.00"), "好")
    assert r.steps[0] == "评议得分 = (20 × 100 + 8 × 80 + 2 × 60 + 0 × 0) ÷ 30 = 92.00"
    # (15 × 100 + 10 × 80 + 3 × 60 + 2 × 0) ÷ 30 = 2480 ÷ 30 = 82.666… → 82.67 (half-up): 75 ≤ 82.67 < 90 → 较好
    r = debrief_rating(votes(15, 10, 3, 2), rule)
    assert (r.score, r.rating) == (D("82.67"), "较好")
    # (10 × 100 + 5 × 80) ÷ 23 = 60.869… → 60.87 would be 一般, but 差 8/23 > 1/3 → 差
    r = debrief_rating(votes(10, 5, 0, 8), rule)
    assert (r.score, r.rating) == (D("60.87"), "差")
    assert "超过 1/3" in r.steps[1]
    # exactly 1/3 差 is not above it: (4 × 100) ÷ 6 = 66.666… → 66.67 → 一般
    r = debrief_rating(votes(4, 0, 0, 2), rule)
    assert (r.score, r.rating) == (D("66.67"), "一般")
    # below the last threshold: (1 × 80 + 3 × 60 + 1 × 0) ÷ 5 = 52.00 < 60 → 差 (差 1/5, not above 1/3)
    r = debrief_rating(votes(0, 1, 3, 1), rule)
    assert (r.score, r.rating) == (D("52.00"), "差")
    assert debrief_rating(votes(0, 0, 0, 0), rule).rating == ""


def test_debrief_checklist_verdict():
    rule = Debrief()
    assert checklist_verdict("好", rule) == (True, "书记述职评议结果为「好」")
    assert checklist_verdict("较好", rule) == (False, "书记述职评议结果为「较好」，未达到「好」")
    assert checklist_verdict(None, rule)[0] is None


def test_round_fraction_is_half_up_and_exact():
    assert round_fraction(Fraction(8837, 300)) == D("29.46")  # 29.4566…
    assert round_fraction(Fraction(1, 200)) == D("0.01")  # 0.005 → 0.01 (half-up, not half-even)
    assert round_fraction(Fraction(1, 3)) == D("0.33")


def test_combined_total_at_weight_one_third_by_hand():
    rule = Combined()  # weight 1/3, scale 100, business scale 100
    f = combined_figure(annual_total=D("88.37"), grade="较好", business=D("91.3"), rule=rule)
    # party: 88.37 ÷ 100 × 1/3 × 100 = 29.4566… → 29.46
    # business: 91.3 ÷ 100 × 2/3 × 100 = 60.8666… → 60.87
    # total: 29.46 + 60.87 = 90.33 (the rounded parts are added)
    assert (f.party, f.business_part, f.total) == (D("29.46"), D("60.87"), D("90.33"))
    assert f.combined_grade == "良好"
    assert f.steps[1] == "党建部分 = 88.37 ÷ 100 × 1/3 × 100 = 29.46（四舍五入保留两位小数）"
    assert f.steps[-1] == "综合考核得分 = 29.46 + 60.87 = 90.33"
    # 0.3333 instead of the exact third would give 29.45: the weight is kept as a fraction
    assert round_fraction(Fraction(D("88.37")) * Fraction(D("0.3333"))) == D("29.45")
    # without business scores: the party part only
    g = combined_figure(annual_total=D("90"), grade="好", business=None, rule=rule)
    assert (g.party, g.total) == (D("30.00"), None)
    # a total above 100 (bonus points) counts as 100: the share never exceeds its weight
    c = combined_figure(annual_total=D("103.5"), grade="好", business=None, rule=rule)
    assert (c.party_score, c.party) == (D("103.5"), D("33.33")) and "按 100 分折算" in c.steps[1]
    # by grade: 好 → 100 points → 33.33
    h = combined_figure(annual_total=D("70"), grade="好", business=None, rule=Combined(basis="grade"))
    assert h.party == D("33.33")


def test_eligibility_each_rule_fires_once():
    rule = Eligibility()
    facts = [
        UnitFacts("OK", ranked=True, grade="好"),
        UnitFacts("GRADE", ranked=True, grade="差"),
        UnitFacts("VETO", ranked=True, grade="一般", veto_reasons=["发生重大违纪问题"]),
        UnitFacts("NEG", ranked=True, grade="较好", negative=["本单位", "所属第一党支部"]),
        UnitFacts("DEB", ranked=True, grade="较好", debrief_rating="差"),
        UnitFacts("NONE", ranked=False, grade=""),
        UnitFacts("ACT", ranked=True, grade="好", accountability=["2024年8月12日对书记诫勉谈话（整改不力）"]),
    ]
    res = {f.code: eligibility(f, rule) for f in facts}
    assert res["OK"].eligible and res["OK"].reasons == []
    assert [k for k, _ in res["GRADE"].reasons] == ["grade"]
    assert [k for k, _ in res["VETO"].reasons] == ["veto"]
    assert res["VETO"].reasons[0][1] == "有一票否决事项：发生重大违纪问题"
    assert res["NEG"].reasons == [("negative_list", "列入本年度负面清单：本单位、所属第一党支部")]
    assert [k for k, _ in res["DEB"].reasons] == ["debrief"]
    assert [k for k, _ in res["NONE"].reasons] == ["unranked"]
    assert res["ACT"].reasons == [("accountability", "本年度受到问责措施：2024年8月12日对书记诫勉谈话（整改不力）")]
    assert not any(res[c].eligible for c in ("GRADE", "VETO", "NEG", "DEB", "NONE", "ACT"))
    # a rule left out of the scheme does not fire
    assert eligibility(facts[4], Eligibility(rules=("grade", "veto"))).eligible


def test_staff_month_and_annual_sum_with_a_missing_month_by_hand():
    rule = Staff()  # 0.5 / 0.3 / 0.2
    m = staff_month({"工作实绩": D("90"), "作风表现": D("85.5"), "综合测评": D("88")}, rule)
    # 0.5 × 90 + 0.3 × 85.5 + 0.2 × 88 = 45 + 25.65 + 17.6 = 88.25
    assert m.total == D("88.25")
    assert m.steps == ["月度得分 = 0.5 × 90.00 + 0.3 × 85.50 + 0.2 × 88.00 = 88.25"]
    # 0.5 × 87.3 + 0.3 × 91.1 + 0.2 × 80.1 = 43.65 + 27.33 + 16.02 = 87.00
    assert staff_month({"工作实绩": D("87.3"), "作风表现": D("91.1"), "综合测评": D("80.1")}, rule).total == D("87.00")
    months = [f"2024-{i:02d}" for i in range(1, 13)]
    monthly = {m_: D("88.25") for m_ in months}
    monthly["2024-07"] = None
    monthly["2024-02"] = D("87.00")
    total, missing, text = staff_year(monthly, months)
    # 10 × 88.25 + 87.00 = 969.50; July not scored, not counted
    assert total == D("969.50") and missing == ["2024-07"]
    assert text.endswith("= 969.50（未考评的月份：7月，不计分）")


def test_weights_in_official_text():
    from djctl.domain.people_scheme import fraction_cn, fraction_text

    assert (fraction_cn(Fraction(1, 3)), fraction_cn(Fraction(2, 3)), fraction_cn(Fraction(7, 20))) == ("三分之一", "三分之二", "0.35")
    assert (fraction_text(Fraction(1, 3)), fraction_text(Fraction(3, 10)), fraction_text(Fraction(1))) == ("1/3", "0.3", "1")


def test_scheme_sections_parse_and_refuse():
    base = "[scheme]\nyear = 2024\n"
    s = parse_scheme(base + '[combined]\nweight = "1/3"\n[tiers]\nrate_scope = "organisations"\n')
    assert s.combined.weight == Fraction(1, 3) and s.tiers.rate_scope == "organisations"
    assert parse_scheme(base + "[combined]\nweight = 0.25\n").combined.weight == Fraction(1, 4)
    assert parse_scheme(base).tiers.rate_scope == "branches"
    with pytest.raises(SchemeError) as e:
        parse_scheme(base + '[combined]\nweight = "4/3"\n[eligibility]\nrules = ["grade", "accountability", "x"]\n'
                     '[staff]\nweights = { "工作实绩" = 0.5, "作风表现" = 0.3, "综合测评" = 0.3 }\n'
                     '[tiers]\nrate_scope = "all"\n')
    keys = [k for k, _ in e.value.problems]
    assert keys == ["tiers.rate_scope", "combined.weight", "eligibility.rules[2]", "staff.weights"]
