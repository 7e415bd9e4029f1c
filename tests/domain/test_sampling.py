"""The verifiable draw (DESIGN §3): fixed vectors and properties."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from fractions import Fraction
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from djctl.domain.sampling import (
    ALGORITHM,
    DrawRecord,
    compute_k,
    draw_key,
    draw_label,
    population_hash,
    run_draw,
    stratified_quotas,
    verify_record,
)

SEED = "2024-03-01 双色球 01 05 12 19 23 31 + 07"
LABEL = "sample:2024-03"
POPULATION = ["U010", "U002", "U001", "市委办公室", "市发改委", "财政局", "教育局", "Zeta", "alpha", "Ünit-7", "U100"]
STRATA = {
    "U001": "一组", "U002": "一组", "U010": "一组", "alpha": "一组",
    "U100": "二组", "市委办公室": "二组", "市发改委": "二组", "财政局": "二组",
    "Zeta": "三组", "Ünit-7": "三组", "教育局": "三组",
}  # fmt: skip


def _hand_key(code: str) -> str:
    return hashlib.sha256((SEED + "\x1f" + LABEL + "\x1f" + code).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- fixed vectors


def test_fixed_vector_by_hand_and_literal():
    record = run_draw(seed=SEED, label=LABEL, population=POPULATION, rate=Decimal("0.2"))

    # step 1, by hand and literally (code point order: ASCII, then Ü, then CJK by code point)
    by_hand_sorted = sorted(POPULATION, key=lambda c: [ord(ch) for ch in c])
    literal_sorted = ["U001", "U002", "U010", "U100", "Zeta", "alpha", "Ünit-7", "市发改委", "市委办公室", "教育局", "财政局"]
    assert by_hand_sorted == literal_sorted == record.population
    hand_hash = hashlib.sha256("\n".join(literal_sorted).encode("utf-8")).hexdigest()
    assert hand_hash == "ff0e1a157bb8137acc7f3d0b98e5b8832df58550a744737baca458860d6c3b97"
    assert record.population_hash == hand_hash

    # step 2: ceil(0.2 × 11) = ceil(2.2) = 3
    assert record.k == 3

    # step 3: keys by hand
    assert record.keys == {c: _hand_key(c) for c in literal_sorted}
    assert record.keys["U001"] == "05542e80324cbb1814f769886b2dd553cb61a2daa1d83197d840a4ad549eeff5"
    assert record.keys["市委办公室"] == "32990821d21117dd9b4b444ee76c4335151e4c8f4662a0837d6084ecd1e67b30"

    # step 5: the three smallest keys, by hand and literally
    by_hand = sorted(literal_sorted, key=_hand_key)[:3]
    assert by_hand == ["U001", "alpha", "市委办公室"]
    assert record.selected == ["U001", "alpha", "市委办公室"]
    assert verify_record(record.to_json()) == []


def test_fixed_vector_mandatory_and_excluded():
    record = run_draw(
        seed=SEED,
        label=LABEL,
        population=POPULATION,
        rate="0.2",
        mandatory={"教育局": "上年负面清单", "不存在": "不在总体中，忽略"},
        excluded={"U001": "上月已抽", "U100": "上月已抽", "教育局": "必抽不排除"},
    )
    assert record.mandatory == {"教育局": "上年负面清单"}
    assert record.excluded == {"U001": "上月已抽", "U100": "上月已抽"}
    assert not record.excluded_waived
    # M first, then P − E − M by key: U001 (excluded) is skipped, then alpha, 市委办公室
    assert record.selected == ["教育局", "alpha", "市委办公室"]


def test_fixed_vector_stratified():
    # k = ceil(0.3 × 11) = 4; q = 4×4/11 = 1 r5, 4×4/11 = 1 r5, 4×3/11 = 1 r1: the seat left goes to
    # the larger remainder (一组, 二组 tie), then larger group (tie), then name: 一组 (U+4E00) < 二组 (U+4E8C)
    record = run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA)
    assert record.k == 4
    assert record.quotas == {"一组": 2, "三组": 1, "二组": 1}
    # groups visited by code point of their name: 一组, 三组 (U+4E09), 二组
    by_hand: list[str] = []
    for g in sorted(record.quotas):
        members = sorted((c for c in POPULATION if STRATA[c] == g), key=_hand_key)
        by_hand += members[: record.quotas[g]]
    assert by_hand == ["U001", "alpha", "Zeta", "市委办公室"]
    assert record.selected == ["U001", "alpha", "Zeta", "市委办公室"]
    assert verify_record(json.loads(json.dumps(record.to_json(), ensure_ascii=False))) == []


def test_fixed_vector_stratified_shortfall_and_mandatory_overflow():
    # 三组 is wholly excluded: its seat is filled from all remaining codes in key order (市发改委).
    record = run_draw(
        seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA,
        excluded={"Zeta": "上月已抽", "Ünit-7": "上月已抽", "教育局": "上月已抽"},
    )  # fmt: skip
    assert record.selected == ["U001", "alpha", "市委办公室", "市发改委"]
    # M_g beyond q_g: 一组 takes its three mandatory codes, the other groups still take their quotas,
    # so the selection (5) exceeds k (4) although |M| = 3 ≤ k.
    record = run_draw(
        seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA,
        mandatory={"U010": "负面清单", "U002": "负面清单", "alpha": "负面清单"},
    )  # fmt: skip
    assert record.selected == ["U002", "U010", "alpha", "Zeta", "市委办公室"]


def test_exclusions_waived_when_too_few_left():
    record = run_draw(
        seed=SEED, label=LABEL, population=POPULATION, count=8,
        excluded={c: "上月已抽" for c in ["U001", "U002", "U010", "U100"]},
    )  # fmt: skip
    assert record.k == 8 and record.excluded_waived and record.excluded == {}
    assert set(record.excluded_requested) == {"U001", "U002", "U010", "U100"}
    assert "少于应抽数 8" in record.excluded_waived_reason
    assert record.selected == sorted(POPULATION, key=_hand_key)[:8]
    assert verify_record(json.loads(json.dumps(record.to_json()))) == []


# --------------------------------------------------------------------------- small functions


def test_compute_k():
    assert compute_k(Decimal("0.2"), 40) == 8  # exact, not 9
    assert compute_k(Decimal("0.2"), 41) == 9
    assert compute_k(Decimal("0.2"), 3) == 1
    assert compute_k(Decimal("0.01"), 3, min_count=2) == 2
    assert compute_k(Decimal("0"), 5) == 1
    assert compute_k(Decimal("0"), 5, min_count=0) == 0
    assert compute_k(Decimal("1.5"), 5) == 5
    assert compute_k(Decimal("0.2"), 0) == 0
    assert compute_k(Decimal("0.3"), 10) == 3
    assert compute_k(0.1, 30) == 3  # a float is read as its decimal text
    assert compute_k(None, 10, count=4) == 4
    assert compute_k(Decimal("0.9"), 10, count=4, min_count=6) == 4  # count overrides
    assert compute_k(None, 3, count=7) == 3
    with pytest.raises(ValueError):
        compute_k(None, 3)
    with pytest.raises(ValueError):
        compute_k(Decimal("-0.1"), 3)


def test_labels():
    assert draw_label("sample", "2024-03") == "sample:2024-03"
    assert draw_label("lookback", "2024") == "lookback:2024"
    assert draw_label("sample", "2024-03", 1) == "sample:2024-03"
    assert draw_label("sample", "2024-03", 2) == "sample:2024-03#2"
    assert draw_label("sample", "2024-03", 3) == "sample:2024-03#3"


def test_draw_key_and_hash():
    assert draw_key("s", "l", "c") == hashlib.sha256(b"s\x1fl\x1fc").hexdigest()
    assert population_hash(["b", "a"]) == hashlib.sha256(b"a\nb").hexdigest()
    assert population_hash([]) == hashlib.sha256(b"").hexdigest()


def test_stratified_quotas_examples():
    assert stratified_quotas(4, {"二组": 4, "一组": 4, "三组": 3}) == {"一组": 2, "三组": 1, "二组": 1}
    assert stratified_quotas(3, {"a": 5, "b": 5, "c": 5}) == {"a": 1, "b": 1, "c": 1}
    assert stratified_quotas(0, {"a": 2}) == {"a": 0}
    # N = 6, k = 2: k×|P_g| = 4, 2, 6 → whole parts 0, 0, 1, remainders 4, 2, 0 → the seat left goes to a
    assert stratified_quotas(2, {"a": 2, "b": 1, "c": 3}) == {"a": 1, "b": 0, "c": 1}
    # N = 4, k = 1: remainders 1 and 3 → b
    assert stratified_quotas(1, {"a": 1, "b": 3}) == {"a": 0, "b": 1}


def test_quota_tiebreaks():
    # equal remainders, different sizes: N = 6, k = 3: a 3 = 0 r3, b 15 = 2 r3 → one seat left → larger b
    assert stratified_quotas(3, {"a": 1, "b": 5}) == {"a": 0, "b": 3}
    # equal remainders and sizes: the name by code point decides (a before b; 一 U+4E00 before 二 U+4E8C)
    assert stratified_quotas(2, {"b": 5, "a": 5, "c": 5}) == {"a": 1, "b": 1, "c": 0}
    assert stratified_quotas(1, {"二组": 2, "一组": 2}) == {"一组": 1, "二组": 0}


def test_verify_reports_differences():
    good = run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.2").to_json()

    bad = copy.deepcopy(good)
    bad["selected"] = ["U001", "alpha", "U010"]
    diffs = verify_record(bad)
    assert len(diffs) == 1 and "抽中名单不一致" in diffs[0] and "市委办公室" in diffs[0]

    bad = copy.deepcopy(good)
    bad["keys"]["财政局"] = "0" * 64
    diffs = verify_record(bad)
    assert diffs == [f"编码「财政局」的键值不一致：应为 {_hand_key('财政局')}，记录为 {'0' * 64}"]

    bad = copy.deepcopy(good)
    bad["k"] = 4
    assert any("k 不一致" in d for d in verify_record(bad))

    bad = copy.deepcopy(good)
    bad["population_hash"] = "00"
    assert any("总体哈希不一致" in d for d in verify_record(bad))

    bad = copy.deepcopy(good)
    bad["seed"] = SEED + " "
    diffs = verify_record(bad)
    assert sum("键值不一致" in d for d in diffs) == len(POPULATION)

    bad = copy.deepcopy(good)
    bad["selected"] = list(reversed(good["selected"]))
    assert any("顺序" in d for d in verify_record(bad))

    bad = copy.deepcopy(good)
    bad["algorithm"] = "other"
    assert verify_record(bad) and "无法核验" in verify_record(bad)[0]


def test_record_json_round_trip():
    rec = run_draw(
        seed=SEED, label=LABEL, population=POPULATION, rate="0.30", strata=STRATA,
        mandatory={"教育局": "负面清单"}, excluded={"U001": "上月已抽"},
    )  # fmt: skip
    doc = json.loads(json.dumps(rec.to_json(), ensure_ascii=False))
    assert {"algorithm", "label", "seed", "rate", "k", "population", "population_hash", "mandatory",
            "excluded", "strata", "keys", "selected"} <= set(doc)  # fmt: skip
    assert doc["algorithm"] == ALGORITHM and doc["rate"] == "0.30"
    assert DrawRecord.from_json(doc) == rec
    assert DrawRecord.from_json(doc).to_json() == doc
    assert verify_record(doc) == []
    assert rec.steps()[-1].startswith("抽中：")


def test_bad_populations():
    with pytest.raises(ValueError, match="重复"):
        run_draw(seed="s", label="l", population=["a", "a"], rate="0.5")
    with pytest.raises(ValueError):
        run_draw(seed="s", label="l", population=["a\nb"], rate="0.5")
    with pytest.raises(ValueError, match="没有分组"):
        run_draw(seed="s", label="l", population=["a", "b"], rate="0.5", strata={"a": "x"})


# --------------------------------------------------------------------------- properties

codes_st = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\x1f"),
    min_size=1,
    max_size=6,
)
population_st = st.lists(codes_st, min_size=0, max_size=25, unique=True)
rate_st = st.decimals(min_value=0, max_value=1, places=2)
seed_st = st.text(max_size=20).filter(lambda s: "\x1f" not in s)


@st.composite
def draw_inputs(draw, stratified=None):
    pop = draw(population_st)
    rate = draw(rate_st)
    count = draw(st.one_of(st.none(), st.integers(0, 30)))
    min_count = draw(st.integers(0, 3))
    mandatory = {c: "负面清单" for c in pop if draw(st.booleans()) and draw(st.booleans())}
    if draw(st.booleans()):
        mandatory["outsider"] = "不在总体"
    excluded = {c: "上月已抽" for c in pop if draw(st.booleans())}
    strat = draw(st.booleans()) if stratified is None else stratified
    strata = {c: draw(st.sampled_from(["甲", "乙", "丙", "a"])) for c in pop} if strat else None
    return dict(
        seed=draw(seed_st), label=draw(st.sampled_from(["sample:2024-03", "lookback:2024", "sample:2024-03#2"])),
        population=pop, rate=rate, count=count, min_count=min_count,
        mandatory=mandatory, excluded=excluded, strata=strata,
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(draw_inputs())
def test_draw_is_pure_function_of_record(kw):
    rec = run_draw(**kw)
    assert verify_record(rec.to_json()) == []
    doc = json.loads(json.dumps(rec.to_json(), ensure_ascii=False))
    assert verify_record(doc) == []
    assert run_draw(**kw) == rec


@settings(max_examples=200, deadline=None)
@given(draw_inputs())
def test_draw_invariants(kw):
    rec = run_draw(**kw)
    pop = kw["population"]
    n = len(pop)
    # k
    if kw["count"] is not None:
        assert rec.k == min(kw["count"], n)
    else:
        assert rec.k == min(n, max(kw["min_count"], math.ceil(Fraction(str(kw["rate"])) * n)))
    sel = rec.selected
    assert len(sel) == len(set(sel)) and set(sel) <= set(pop)
    # mandatory always in (only codes in P)
    m = {c for c in kw["mandatory"] if c in pop}
    assert set(rec.mandatory) == m and m <= set(sel)
    # exclusions never leave fewer than k available, and are honoured
    assert n - len(rec.excluded) >= rec.k
    assert not set(rec.excluded) & set(sel)
    assert not set(rec.excluded) & m
    if rec.excluded_waived:
        assert rec.excluded == {} and n - len(rec.excluded_requested) < rec.k
    else:
        assert rec.excluded == rec.excluded_requested
    if kw["strata"] is None:
        assert len(sel) == (len(m) if len(m) > rec.k else rec.k)
        # the codes beyond M are the smallest keys of P − E − M
        free = sorted((c for c in pop if c not in m and c not in rec.excluded), key=lambda c: rec.keys[c])
        assert sel[len(m):] == free[: max(0, rec.k - len(m))]
    else:
        assert sum(rec.quotas.values()) == rec.k
        overflow = sum(max(0, sum(1 for c in m if kw["strata"][c] == g) - q) for g, q in rec.quotas.items())
        assert rec.k <= len(sel) <= rec.k + overflow
        if overflow == 0:
            assert len(sel) == rec.k


@settings(max_examples=200, deadline=None)
@given(population_st.filter(bool), seed_st, seed_st, st.data())
def test_inputs_change_keys(pop, seed, other_seed, data):
    label = "sample:2024-03"
    base = run_draw(seed=seed, label=label, population=pop, rate="0.5")
    if other_seed != seed:
        changed = run_draw(seed=other_seed, label=label, population=pop, rate="0.5")
        assert all(changed.keys[c] != base.keys[c] for c in pop)
    relabel = run_draw(seed=seed, label=label + "#2", population=pop, rate="0.5")
    assert all(relabel.keys[c] != base.keys[c] for c in pop)
    # replace one member: the population hash and that member's key change
    i = data.draw(st.integers(0, len(pop) - 1))
    new_code = data.draw(codes_st.filter(lambda c: c not in pop))
    pop2 = pop[:i] + [new_code] + pop[i + 1 :]
    other = run_draw(seed=seed, label=label, population=pop2, rate="0.5")
    assert other.population_hash != base.population_hash
    assert other.keys[new_code] != base.keys[pop[i]]
    assert set(other.keys.values()) != set(base.keys.values())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(1, 30), min_size=1, max_size=6), st.data())
def test_quota_rule(sizes, data):
    total = sum(sizes.values())
    k = data.draw(st.integers(0, total))
    q = stratified_quotas(k, sizes)
    assert sum(q.values()) == k and set(q) == set(sizes)
    floors = {g: k * s // total for g, s in sizes.items()}
    extra = sorted(g for g in sizes if q[g] == floors[g] + 1)
    assert all(q[g] in (floors[g], floors[g] + 1) for g in sizes)
    order = sorted(sizes, key=lambda g: (-((k * sizes[g]) % total), -sizes[g], g))
    assert extra == sorted(order[: k - sum(floors.values())])
    assert all(abs(Fraction(q[g]) - Fraction(k * s, total)) < 1 for g, s in sizes.items())
