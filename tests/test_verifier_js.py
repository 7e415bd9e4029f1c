"""The page's JavaScript verifier (djctl/templates/publish/verify.js) against the Python implementation.

Two independent implementations of DESIGN §3 must agree: on the fixed vectors, and on 1,200 random
records (units, strata, mandatory and excluded codes, exclusions waived, counts, odd rate spellings,
inspectors with conflicts, risk strata with a rate each), a third of them altered by one random edit. One node process verifies them all.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from decimal import Decimal

import pytest

from djctl.domain.inspection import assign_inspectors
from djctl.domain.sampling import run_draw, verify_record
from djctl.resources import template_path

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
VERIFY_JS = template_path("publish") / "verify.js"

# Feeds records (one JSON array on stdin) to the verifier; prints, per record, the verifier's differences and
# what it recomputes (or the error that stopped the recomputation).
# Node 19+ has globalThis.crypto; Node 18 (Debian 12's nodejs) has Web Crypto as require("node:crypto").webcrypto.
WEBCRYPTO = 'globalThis.crypto ??= require("node:crypto").webcrypto;\n'
HARNESS = WEBCRYPTO + r"""
const v = require(process.argv[1]);
let input = "";
process.stdin.setEncoding("utf8");  // chunks may split a UTF-8 sequence
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", async () => {
  const out = [];
  for (const rec of JSON.parse(input)) {
    const diffs = await v.verifyDraw(rec);
    let fresh = null, error = null;
    try { fresh = await v.recompute(rec); } catch (e) { error = e.message; }
    if (fresh) fresh = { k: fresh.k, population_hash: fresh.population_hash, selected: fresh.selected,
                         quotas: fresh.quotas, excluded: fresh.excluded, excluded_waived: fresh.excluded_waived,
                         keys: fresh.keys };
    out.push({ diffs, fresh, error, digest: await v.recordDigest(rec) });
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def run_js(records: list[dict]) -> list[dict]:
    p = subprocess.run([NODE, "-e", HARNESS, str(VERIFY_JS)], input=json.dumps(records, ensure_ascii=False),
                       capture_output=True, text=True, timeout=300, encoding="utf-8")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


SEED = "2024-03-01 双色球 01 05 12 19 23 31 + 07"
LABEL = "sample:2024-03"
POPULATION = ["U010", "U002", "U001", "市委办公室", "市发改委", "财政局", "教育局", "Zeta", "alpha", "Ünit-7", "U100"]
STRATA = {
    "U001": "一组", "U002": "一组", "U010": "一组", "alpha": "一组",
    "U100": "二组", "市委办公室": "二组", "市发改委": "二组", "财政局": "二组",
    "Zeta": "三组", "Ünit-7": "三组", "教育局": "三组",
}  # fmt: skip


def fixed_vectors() -> list[dict]:
    """The records of tests/domain/test_sampling.py's fixed vectors."""
    return [r.to_json() for r in (
        run_draw(seed=SEED, label=LABEL, population=POPULATION, rate=Decimal("0.2")),
        run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.2",
                 mandatory={"教育局": "上年负面清单", "不存在": "不在总体中，忽略"},
                 excluded={"U001": "上月已抽", "U100": "上月已抽", "教育局": "必抽不排除"}),
        run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA),
        run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA,
                 excluded={"Zeta": "上月已抽", "Ünit-7": "上月已抽", "教育局": "上月已抽"}),
        run_draw(seed=SEED, label=LABEL, population=POPULATION, rate="0.3", strata=STRATA,
                 mandatory={"U010": "负面清单", "U002": "负面清单", "alpha": "负面清单"}),
        run_draw(seed=SEED, label=LABEL, population=POPULATION, count=8,
                 excluded={c: "上月已抽" for c in ["U001", "U002", "U010", "U100"]}),
    )]


def test_fixed_vectors_agree():
    records = fixed_vectors()
    js = run_js(records)
    assert [r["selected"] for r in records[:6]] == [
        ["U001", "alpha", "市委办公室"], ["教育局", "alpha", "市委办公室"], ["U001", "alpha", "Zeta", "市委办公室"],
        ["U001", "alpha", "市委办公室", "市发改委"], ["U002", "U010", "alpha", "Zeta", "市委办公室"],
        sorted(POPULATION, key=lambda c: records[5]["keys"][c])[:8]]
    for rec, out in zip(records, js, strict=True):
        assert out["diffs"] == [] and out["error"] is None
        assert out["fresh"]["selected"] == rec["selected"]
        assert out["fresh"]["keys"] == rec["keys"]
        assert out["fresh"]["population_hash"] == rec["population_hash"]
        assert out["fresh"]["k"] == rec["k"] and out["fresh"]["quotas"] == rec["quotas"]
    assert js[0]["fresh"]["population_hash"] == "ff0e1a157bb8137acc7f3d0b98e5b8832df58550a744737baca458860d6c3b97"


# ---------------------------------------------------------------------- random records

ALPHABETS = ["ABCDEFGHU0123456789", "abcxyz-_.", "市委办公室发改财政教育局党支部", "ÜéßØ", "𝒳𝒴😀", "\ue000\uffef"]


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(rng.choice(ALPHABETS)) for _ in range(rng.randint(1, 6)))


def _rate(rng: random.Random) -> str:
    num = rng.randint(0, 1000)
    return rng.choice([f"0.{num:03d}", f"{num}e-3", f"{Decimal(num) / 1000}", f" 0.{num:03d} ", f".{num:03d}",
                       "1", "0.2", "0.3", "0.25", "1E-1", "0.333333333333333333333333333333"])


def random_record(rng: random.Random) -> dict:
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40, 60])
    pop: list[str] = []
    while len(pop) < n:
        c = _code(rng)
        if c not in pop:
            pop.append(c)
    kw: dict = {"seed": rng.choice([SEED, str(rng.randint(0, 10**9)), "种子", "seed with spaces 01 02"]),
                "label": rng.choice([LABEL, "lookback:2024", "sample:2024-06#2", "lookback:2024-专项#3"]),
                "population": pop, "min_count": rng.randint(0, 3)}
    if rng.random() < 0.2:
        kw["count"] = rng.randint(0, n + 3)
    else:
        kw["rate"] = _rate(rng)
    if pop and rng.random() < 0.5:
        kw["mandatory"] = {c: rng.choice(["上年负面清单", "", "整改未销号"]) for c in rng.sample(pop, rng.randint(0, min(4, n)))}
        if rng.random() < 0.3:
            kw["mandatory"]["不在总体"] = "忽略"
    if pop and rng.random() < 0.6:
        kw["excluded"] = {c: "上月已抽" for c in rng.sample(pop, rng.randint(0, n))}
    if pop and rng.random() < 0.4:
        groups = rng.sample(["一组", "二组", "三组", "A", "B", "𝒳组"], rng.randint(1, 4))
        kw["strata"] = {c: rng.choice(groups) for c in pop}
        if rng.random() < 0.5:  # risk strata: a rate per stratum
            kw["strata_rates"] = {g: _rate(rng) for g in groups}
            kw.pop("rate", None)
    rec = run_draw(**kw).to_json()
    if rec["selected"] and rng.random() < 0.35:
        pool = [f"J{i:02d}" for i in rng.sample(range(40), rng.randint(2, 12))]
        per_unit = rng.randint(1, 2)
        conflicts = {u: {p: rng.choice(["本单位", "同组", "2024-02 已检查过该单位"])
                         for p in rng.sample(pool, rng.randint(0, len(pool) - per_unit))} for u in rec["selected"]}
        rec["inspection"] = assign_inspectors(seed=rec["seed"], draw_label=rec["label"], pool=pool,
                                              per_unit=per_unit, units=rec["selected"], conflicts=conflicts,
                                              rules=["本单位回避"])
    return rec


def _edit_string(rng: random.Random, s: str) -> str:
    if not s:
        return "x"
    i = rng.randrange(len(s))
    return s[:i] + rng.choice("0123456789abcdefU市") + s[i + 1:]


def mutate(rng: random.Random, rec: dict) -> dict:
    """One edit of the kind a careless or dishonest hand makes."""
    r = copy.deepcopy(rec)
    pop = r["population"]
    choice = rng.randrange(12)
    if choice == 0:
        r["seed"] = _edit_string(rng, r["seed"])
    elif choice == 1:
        r["population_hash"] = _edit_string(rng, r["population_hash"])
    elif choice == 2 and pop:
        c = rng.choice(pop)
        r["keys"][c] = _edit_string(rng, r["keys"][c])
    elif choice == 3:
        r["k"] = r["k"] + rng.choice([-1, 1])
    elif choice == 4 and len(r["selected"]) > 1:
        i, j = rng.sample(range(len(r["selected"])), 2)
        r["selected"][i], r["selected"][j] = r["selected"][j], r["selected"][i]
    elif choice == 5 and pop:
        r["selected"] = r["selected"][:-1] if r["selected"] and rng.random() < 0.5 else r["selected"] + [rng.choice(pop)]
    elif choice == 6 and pop:
        r["population"] = [c for c in pop if c != rng.choice(pop)]
    elif choice == 7 and pop:
        r["mandatory"] = {**r["mandatory"], rng.choice(pop): "后加"}
    elif choice == 8 and r.get("rate") is not None:
        r["rate"] = rng.choice(["0.1", "0.5", "1", "0.21", "abc", "-0.2"])
    elif choice == 9 and r.get("inspection"):
        ins = r["inspection"]
        u = rng.choice(list(ins["assignments"]))
        ins["assignments"][u] = list(reversed(ins["pool"]))[: ins["per_unit"]]
    elif choice == 10 and r.get("inspection"):
        r["inspection"]["conflicts"] = {}
    elif choice == 11 and r.get("strata_rates"):
        g = rng.choice(list(r["strata_rates"]))
        r["strata_rates"][g] = rng.choice(["0.9", "0", "0.05"])
    elif choice == 11 and r.get("quotas"):
        g = rng.choice(list(r["quotas"]))
        r["quotas"][g] += 1
    else:
        r["label"] = r["label"] + "#9"
    return r


def test_python_and_javascript_agree_on_random_records():
    rng = random.Random(20241)
    records = []
    for _ in range(1200):
        rec = random_record(rng)
        records.append(mutate(rng, rec) if rng.random() < 1 / 3 else rec)
    js = run_js(records)
    assert len(js) == len(records)
    agreed_ok = agreed_bad = 0
    for rec, out in zip(records, js, strict=True):
        py = verify_record(copy.deepcopy(rec))
        assert (py == []) == (out["diffs"] == []), (rec, py, out["diffs"])
        assert len(py) == len(out["diffs"]), (rec, py, out["diffs"])
        if py == []:
            agreed_ok += 1
            assert out["fresh"]["selected"] == rec["selected"]
            assert out["fresh"]["keys"] == rec["keys"]
        else:
            agreed_bad += 1
        # what each recomputes from the record's inputs, compared field by field
        try:
            fresh = run_draw(seed=rec["seed"], label=rec["label"], population=rec["population"], rate=rec.get("rate"),
                             count=rec.get("count"), min_count=rec.get("min_count", 1), mandatory=rec.get("mandatory"),
                             excluded=rec.get("excluded_requested"), strata=rec.get("strata"),
                             strata_rates=rec.get("strata_rates"))
        except ValueError:
            assert out["error"] is not None, rec
            continue
        assert out["error"] is None, (rec, out["error"])
        f = out["fresh"]
        assert (f["k"], f["population_hash"], f["selected"], f["quotas"], f["excluded"], f["excluded_waived"]) == (
            fresh.k, fresh.population_hash, fresh.selected, fresh.quotas, fresh.excluded, fresh.excluded_waived)
    assert agreed_ok > 700 and agreed_bad > 300  # both outcomes well represented
    assert sum(1 for r in records if r.get("strata_rates")) > 100 and sum(1 for r in records if r.get("inspection")) > 200


def test_record_digest_and_fields_match_python():
    from djctl.services.draws import RECORD_FIELDS, record_sha256

    rng = random.Random(7)
    records = [random_record(rng) for _ in range(60)]
    js = run_js(records)
    for rec, out in zip(records, js, strict=True):
        assert out["digest"] == record_sha256(rec)
    p = subprocess.run([NODE, "-e", WEBCRYPTO + "process.stdout.write(JSON.stringify(require(process.argv[1]).RECORD_FIELDS))",
                        str(VERIFY_JS)], capture_output=True, text=True, check=True)
    assert json.loads(p.stdout) == list(RECORD_FIELDS)


def test_fallback_sha256_equals_web_crypto():
    script = r"""
const v = require(process.argv[1]);
(async () => {
  if (!globalThis.crypto || !globalThis.crypto.subtle) throw new Error("no Web Crypto in this node");
  const bad = [];
  for (let n = 0; n < 300; n++) {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCodePoint([0x41 + (i * 7) % 26, 0x5e02 + i % 40, 0x1d4b3][(n + i) % 3]);
    const a = await v.sha256hex(s), b = v.sha256Plain(new TextEncoder().encode(s));
    if (a !== b) bad.push(n);
  }
  process.stdout.write(JSON.stringify(bad));
})();
"""
    p = subprocess.run([NODE, "-e", WEBCRYPTO + script, str(VERIFY_JS)], capture_output=True, text=True, check=True)
    assert json.loads(p.stdout) == []


def test_exact_k_without_floats():
    script = r"""
const v = require(process.argv[1]);
process.stdout.write(JSON.stringify([v.computeK("0.2", 40, 1, null), v.computeK("0.1", 30, 1, null),
  v.computeK("0.7", 10, 1, null), v.computeK("1e-1", 41, 0, null), v.computeK("0.000", 5, 0, null),
  v.computeK("0.2", 40, 1, 3), v.computeK("1_0e-1", 7, 1, null)]));
"""
    p = subprocess.run([NODE, "-e", WEBCRYPTO + script, str(VERIFY_JS)], capture_output=True, text=True, check=True)
    # 0.1 × 30 and 0.7 × 10 are 3.0000000000000004 and 7.000000000000001 in floating point
    assert json.loads(p.stdout) == [8, 3, 7, 5, 0, 3, 7]
