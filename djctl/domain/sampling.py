"""The verifiable draw (DESIGN §3, after RFC 3797), the same for spot checks and look-backs.

Steps, in this order (implemented exactly so that an independent implementation gives the same
selection):

1. P = the population codes sorted by Unicode code point. Population hash = SHA-256 (hex) of the
   UTF-8 of the codes joined with "\\n".
2. k = ceil(rate × |P|) computed exactly with Decimal, at least ``min_count``, at most |P|;
   or a given ``count`` (at most |P|) instead of the rate.
3. key(c) = SHA-256 hex of the UTF-8 of seed + "\\x1f" + label + "\\x1f" + c.
4. M = mandatory codes that are in P. E = excluded codes (in P, not in M); if |P − E| < k,
   E is emptied (the record keeps the requested E and says why it was waived).
5. Not stratified: the selection is M (in code point order), then the codes of P − E − M in
   ascending key order until k codes are chosen; if |M| > k, all of M and nothing else.
6. Stratified: quotas q_g = k × |P_g| / |P| by largest remainder (larger remainder first, then
   larger |P_g|, then group name by code point), summing to k. Groups are visited in code point
   order of their names; each group takes its M_g, then its codes of P_g − E − M in key order
   while the group holds fewer than q_g codes (M_g counts towards q_g). Any shortfall below k is
   filled from all remaining codes of P − E − M in key order.

Keys are lowercase hex of equal length, so "ascending key order" is plain string order; equal
keys (never seen in practice) fall back to code point order of the codes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext

ALGORITHM = "djctl-draw-v1"
SEP = "\x1f"

__all__ = [
    "ALGORITHM",
    "DrawRecord",
    "compute_k",
    "draw_key",
    "draw_keys",
    "draw_label",
    "population_hash",
    "run_draw",
    "stratified_quotas",
    "verify_record",
]


# --------------------------------------------------------------------------- helpers


def _sorted_codes(codes: Iterable[str]) -> list[str]:
    # Python compares str by code point, which is exactly the rule.
    return sorted(codes)


def population_hash(codes: Iterable[str]) -> str:
    """SHA-256 hex of the UTF-8 of the codes sorted by code point and joined with "\\n"."""
    joined = "\n".join(_sorted_codes(codes))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _to_decimal_rate(rate: object) -> Decimal:
    if isinstance(rate, bool):
        raise ValueError("抽取比例不是数字")
    if isinstance(rate, float):
        rate = str(rate)  # the decimal a person wrote, not the binary float
    try:
        value = Decimal(rate)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"抽取比例「{rate}」不是有效数字") from exc
    if not value.is_finite():
        raise ValueError(f"抽取比例「{rate}」不是有效数字")
    if value < 0:
        raise ValueError(f"抽取比例「{rate}」不能为负数")
    return value


def compute_k(rate: Decimal | None, n: int, *, min_count: int = 1, count: int | None = None) -> int:
    """The number of codes to draw.

    ``count`` (``--count N``) replaces the rate: k = min(count, n). Otherwise
    k = min(n, max(min_count, ceil(rate × n))) with the product computed exactly
    (0.2 × 40 = 8, not 9).
    """
    if n < 0:
        raise ValueError("总体数量不能为负数")
    if count is not None:
        if isinstance(count, bool) or int(count) != count or count < 0:
            raise ValueError(f"抽取数量「{count}」应为非负整数")
        return min(int(count), n)
    if rate is None:
        raise ValueError("请给出抽取比例或抽取数量")
    if min_count < 0:
        raise ValueError(f"最少抽取数量「{min_count}」不能为负数")
    r = _to_decimal_rate(rate)
    with localcontext() as ctx:
        ctx.prec = 100  # exact for any rate a scheme can hold
        product = r * Decimal(n)
        k = int(product.to_integral_value(rounding=ROUND_CEILING))
    return min(n, max(int(min_count), k))


def draw_key(seed: str, label: str, code: str) -> str:
    """key(c) = SHA-256 hex of the UTF-8 of seed + "\\x1f" + label + "\\x1f" + code."""
    return hashlib.sha256(f"{seed}{SEP}{label}{SEP}{code}".encode("utf-8")).hexdigest()


def draw_keys(seed: str, label: str, codes: Iterable[str]) -> dict[str, str]:
    """`draw_key` for every code, in the order given.

    The common prefix seed + "\\x1f" + label + "\\x1f" is hashed once and each key continues a copy of
    that state with the code's UTF-8: the same bytes as `draw_key`, so the same keys, at a fraction of the cost.
    """
    prefix = hashlib.sha256(f"{seed}{SEP}{label}{SEP}".encode("utf-8"))
    keys: dict[str, str] = {}
    for c in codes:
        h = prefix.copy()
        h.update(c.encode("utf-8"))
        keys[c] = h.hexdigest()
    return keys


def draw_label(kind: str, period: str, redraw: int = 0) -> str:
    """The label of a draw: ``sample:2024-03``, ``lookback:2024``.

    The n-th draw for the same period appends ``#n``: the first draw has no suffix (redraw 0 or 1),
    the first redraw is the second draw and is labelled ``#2`` (``sample:2024-03#2``), the next ``#3``.
    """
    kind = str(kind).strip()
    period = str(period).strip()
    if not kind or not period:
        raise ValueError("抽签标签的类别和期间不能为空")
    if SEP in kind or SEP in period or "#" in kind or "#" in period:
        raise ValueError("抽签标签含有不允许的字符")
    if isinstance(redraw, bool) or int(redraw) != redraw or redraw < 0:
        raise ValueError(f"重抽序号「{redraw}」应为非负整数")
    base = f"{kind}:{period}"
    return base if redraw <= 1 else f"{base}#{int(redraw)}"


def stratified_quotas(k: int, group_sizes: Mapping[str, int]) -> dict[str, int]:
    """Quotas q_g = k × |P_g| / |P| rounded by largest remainder, summing to k.

    The whole parts are floor(k × |P_g| / |P|); the leftover seats go one each to the groups with
    the larger remainder first, then the larger |P_g|, then the group name by code point.
    Groups of size 0 get 0. The result keeps the groups in code point order of their names.
    """
    sizes = {str(g): int(s) for g, s in group_sizes.items()}
    if any(s < 0 for s in sizes.values()):
        raise ValueError("分组人数不能为负数")
    total = sum(sizes.values())
    if k < 0:
        raise ValueError("抽取数量不能为负数")
    if total == 0:
        if k:
            raise ValueError("总体为空，无法分配名额")
        return {g: 0 for g in sorted(sizes)}
    if k > total:
        raise ValueError(f"抽取数量 {k} 超过总体数量 {total}")
    quotas: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for g, s in sizes.items():
        # exact rational k*s/total: whole part and remainder over the common denominator
        quotas[g], remainders[g] = divmod(k * s, total)
    left = k - sum(quotas.values())
    order = sorted(sizes, key=lambda g: (-remainders[g], -sizes[g], g))
    for g in order[:left]:
        quotas[g] += 1
    return {g: quotas[g] for g in sorted(quotas)}


def _rate_ratio(rate: object) -> tuple[int, int]:
    """A rate as an exact integer ratio (numerator, denominator)."""
    num, den = _to_decimal_rate(rate).as_integer_ratio()
    return num, den


def risk_weights(strata_rates: Mapping[str, object], group_sizes: Mapping[str, int]) -> tuple[dict[str, int], int]:
    """Risk strata (a rate per stratum): a_g = r_g × |P_g| × D as integers over one common denominator D.

    Returns ({g: a_g}, D): the expected count of stratum g is a_g / D, exactly."""
    import math

    ratios = {}
    for g in group_sizes:
        if g not in strata_rates or strata_rates[g] is None:
            raise ValueError(f"分层「{g}」没有抽取比例")
        ratios[g] = _rate_ratio(strata_rates[g])
    den = 1
    for _, d in ratios.values():
        den = den * d // math.gcd(den, d)
    return {g: n * (den // d) * int(group_sizes[g]) for g, (n, d) in ratios.items()}, den


def weighted_quotas(k: int, weights: Mapping[str, int], group_sizes: Mapping[str, int]) -> dict[str, int]:
    """Quotas q_g = k × a_g / Σa by largest remainder (larger remainder first, then larger |P_g|, then the
    group name by code point), summing to k; all 0 when Σa = 0 (the shortfall rule fills the draw)."""
    total = sum(weights.values())
    if total == 0:
        return {g: 0 for g in sorted(weights)}
    quotas, remainders = {}, {}
    for g, a in weights.items():
        quotas[g], remainders[g] = divmod(k * a, total)
    left = k - sum(quotas.values())
    for g in sorted(weights, key=lambda g: (-remainders[g], -int(group_sizes[g]), g))[:left]:
        quotas[g] += 1
    return {g: quotas[g] for g in sorted(quotas)}


def _reasons(value: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(c): ("" if r is None else str(r)) for c, r in value.items()}
    if isinstance(value, str):
        return {value: ""}
    return {str(c): "" for c in value}


def _check_codes(codes: list[str]) -> None:
    # the common case at once: every code a non-empty string without newline or separator, none repeated;
    # otherwise the loop below names the first offending code
    try:
        joined = "".join(codes)
    except TypeError:
        joined = None
    if joined is not None and "\n" not in joined and SEP not in joined:
        distinct = set(codes)
        if len(distinct) == len(codes) and "" not in distinct:
            return
    seen: set[str] = set()
    for c in codes:
        if not isinstance(c, str) or c == "":
            raise ValueError("总体中有空编码")
        if "\n" in c or SEP in c:
            raise ValueError(f"编码「{c!r}」含有换行或分隔符，不能参加抽签")
        if c in seen:
            raise ValueError(f"总体中编码「{c}」重复")
        seen.add(c)


def _by_key(codes: Iterable[str], keys: Mapping[str, str]) -> list[str]:
    """Codes by (key, code): sorted by code, then (stable) by key, so that equal keys keep code point order.
    The first sort is linear on codes already in code point order (as every caller passes them)."""
    return sorted(sorted(codes), key=keys.__getitem__)


# --------------------------------------------------------------------------- the record


@dataclass
class DrawRecord:
    """One draw, with everything needed to recompute it.

    ``excluded`` is E as used (emptied when |P − E| < k); ``excluded_requested`` is E before that
    rule (codes in P, not in M); ``excluded_waived`` says E was emptied and
    ``excluded_waived_reason`` says why, in Chinese.
    """

    algorithm: str
    label: str
    seed: str
    rate: str | None
    k: int
    population: list[str]
    population_hash: str
    mandatory: dict[str, str]
    excluded: dict[str, str]
    strata: dict[str, str] | None
    quotas: dict[str, int] | None
    keys: dict[str, str]
    selected: list[str]
    min_count: int = 1
    count: int | None = None
    excluded_requested: dict[str, str] = field(default_factory=dict)
    excluded_waived: bool = False
    excluded_waived_reason: str | None = None
    inspection: dict | None = None  # the inspectors drawn for the selection (djctl.domain.inspection)
    strata_rates: dict[str, str] | None = None  # risk strata: a rate per stratum instead of one rate
    strata_reasons: dict[str, str] | None = None  # why each unit is in its risk stratum (not an input)

    def to_json(self) -> dict:
        """A JSON-able dict with the DESIGN §4 keys plus the extra inputs needed to recompute
        (``inspection`` only when inspectors were drawn, so records without them keep their bytes)."""
        doc = {
            "algorithm": self.algorithm,
            "label": self.label,
            "seed": self.seed,
            "rate": self.rate,
            "k": self.k,
            "population": list(self.population),
            "population_hash": self.population_hash,
            "mandatory": dict(self.mandatory),
            "excluded": dict(self.excluded),
            "strata": None if self.strata is None else dict(self.strata),
            "keys": dict(self.keys),
            "selected": list(self.selected),
            "quotas": None if self.quotas is None else dict(self.quotas),
            "min_count": self.min_count,
            "count": self.count,
            "excluded_requested": dict(self.excluded_requested),
            "excluded_waived": self.excluded_waived,
            "excluded_waived_reason": self.excluded_waived_reason,
        }
        if self.inspection is not None:
            doc["inspection"] = self.inspection
        if self.strata_rates is not None:
            doc["strata_rates"] = dict(self.strata_rates)
            doc["strata_reasons"] = dict(self.strata_reasons or {})
        return doc

    @classmethod
    def from_json(cls, d: Mapping) -> DrawRecord:
        rate = d.get("rate")
        requested = d.get("excluded_requested")
        excluded = dict(d.get("excluded") or {})
        strata = d.get("strata")
        quotas = d.get("quotas")
        count = d.get("count")
        return cls(
            algorithm=str(d.get("algorithm", ALGORITHM)),
            label=str(d["label"]),
            seed=str(d["seed"]),
            rate=None if rate is None else str(rate),
            k=int(d["k"]),
            population=[str(c) for c in d["population"]],
            population_hash=str(d["population_hash"]),
            mandatory={str(c): str(r) for c, r in (d.get("mandatory") or {}).items()},
            excluded={str(c): str(r) for c, r in excluded.items()},
            strata=None if strata is None else {str(c): str(g) for c, g in strata.items()},
            quotas=None if quotas is None else {str(g): int(q) for g, q in quotas.items()},
            keys={str(c): str(v) for c, v in (d.get("keys") or {}).items()},
            selected=[str(c) for c in d.get("selected") or []],
            min_count=int(d.get("min_count", 1)),
            count=None if count is None else int(count),
            excluded_requested={str(c): str(r) for c, r in (excluded if requested is None else requested).items()},
            excluded_waived=bool(d.get("excluded_waived", False)),
            excluded_waived_reason=d.get("excluded_waived_reason"),
            inspection=d.get("inspection"),
            strata_rates=None if d.get("strata_rates") is None else {str(g): str(r) for g, r in d["strata_rates"].items()},
            strata_reasons=None if d.get("strata_reasons") is None else dict(d["strata_reasons"]),
        )

    def steps(self) -> list[str]:
        """A Chinese account of the draw, step by step, that a reader can redo by hand."""
        n = len(self.population)
        lines = [f"抽签算法 {self.algorithm}，标签「{self.label}」，种子「{self.seed}」"]
        lines.append(f"总体 {n} 个编码，按 Unicode 码位排序，总体哈希 {self.population_hash}")
        if self.count is not None:
            lines.append(f"指定抽取 {self.count} 个（不超过总体数），k = {self.k}")
        else:
            lines.append(
                f"k = ceil({self.rate} × {n})，不少于 {self.min_count}、不超过 {n}，k = {self.k}"
            )
        if self.mandatory:
            lines.append("必抽：" + "、".join(f"{c}（{r}）" if r else c for c, r in self.mandatory.items()))
        if self.excluded_waived:
            lines.append(self.excluded_waived_reason or "排除名单作废")
        elif self.excluded:
            lines.append("排除：" + "、".join(f"{c}（{r}）" if r else c for c, r in self.excluded.items()))
        if self.quotas is not None:
            lines.append("分层名额（最大余数法）：" + "，".join(f"{g} {q}" for g, q in self.quotas.items()))
        lines.append("每个编码的键 = SHA-256(种子 + \\x1f + 标签 + \\x1f + 编码)，按键升序抽取")
        lines.append("抽中：" + "、".join(self.selected) if self.selected else "抽中：无")
        return lines


# --------------------------------------------------------------------------- the draw


def run_draw(
    *,
    seed: str,
    label: str,
    population: Iterable[str],
    rate: Decimal | str | None = None,
    count: int | None = None,
    min_count: int = 1,
    mandatory: Mapping[str, str] | Iterable[str] | None = None,
    excluded: Mapping[str, str] | Iterable[str] | None = None,
    strata: Mapping[str, str] | None = None,
    strata_rates: Mapping[str, object] | None = None,
) -> DrawRecord:
    """Run steps 1–6 of DESIGN §3 and return the full record.

    ``mandatory`` and ``excluded`` map codes to Chinese reasons (a plain list means no reason).
    Mandatory codes not in P are ignored; excluded codes not in P or in M are ignored.
    ``strata`` maps every code of P to its group (stratified draw) or is None.
    ``strata_rates`` (with ``strata``: risk strata) gives each stratum its own rate instead of ``rate``:
    k = ceil(Σ r_g × |P_g|) exactly (at least ``min_count``, at most |P|), and the quotas apportion k in
    proportion to r_g × |P_g| by the same largest-remainder rule; the draw is then step 6 as written.
    """
    seed = str(seed)
    label = str(label)
    if SEP in seed or SEP in label:
        raise ValueError("种子或标签含有分隔符 \\x1f")
    codes = [c for c in population]
    _check_codes(codes)
    pop = _sorted_codes(codes)
    pop_set = set(pop)
    n = len(pop)

    # step 2
    rate_text: str | None = None
    weights: dict[str, int] | None = None
    if strata_rates is not None:
        if strata is None:
            raise ValueError("按风险分层的抽取比例需要分层")
        sizes_r: dict[str, int] = {}
        for c in pop:
            g = strata.get(c)
            if g is None:
                raise ValueError(f"分层抽签时编码「{c}」没有分组")
            sizes_r[str(g)] = sizes_r.get(str(g), 0) + 1
        weights, den = risk_weights({str(g): r for g, r in strata_rates.items()}, sizes_r)
    if weights is not None and count is None:
        if min_count < 0:
            raise ValueError(f"最少抽取数量「{min_count}」不能为负数")
        k = min(n, max(int(min_count), -(-sum(weights.values()) // den)))  # ceil(Σ r_g × |P_g|)
    elif rate is not None and weights is None:
        rate_dec = _to_decimal_rate(rate)
        rate_text = rate.strip() if isinstance(rate, str) else str(rate_dec)
        k = compute_k(rate_dec, n, min_count=min_count, count=count)
    else:
        k = compute_k(None, n, min_count=min_count, count=count)

    # step 3
    keys = draw_keys(seed, label, pop)

    # step 4 (M and E in code point order, as P: the reasons' codes sorted, those in P kept)
    m_all = _reasons(mandatory)
    m = {c: m_all[c] for c in _sorted_codes(m_all) if c in pop_set}
    e_all = _reasons(excluded)
    e_requested = {c: e_all[c] for c in _sorted_codes(e_all) if c in pop_set and c not in m}
    waived = n - len(e_requested) < k
    e = {} if waived else dict(e_requested)
    waived_reason = (
        f"排除 {len(e_requested)} 个后可抽 {n - len(e_requested)} 个，少于应抽数 {k}，排除名单不予适用"
        if waived
        else None
    )

    free = [c for c in pop if c not in m and c not in e]  # P − E − M, code point order

    strata_map: dict[str, str] | None = None
    quotas: dict[str, int] | None = None
    selected: list[str]
    if strata is None:
        # step 5
        selected = list(m)
        need = max(0, k - len(selected))
        selected += _by_key(free, keys)[:need]
    else:
        # step 6
        strata_map = {}
        for c in pop:
            if c not in strata or strata[c] is None:
                raise ValueError(f"分层抽签时编码「{c}」没有分组")
            strata_map[c] = str(strata[c])
        sizes: dict[str, int] = {}
        for c in pop:
            sizes[strata_map[c]] = sizes.get(strata_map[c], 0) + 1
        quotas = stratified_quotas(k, sizes) if weights is None else weighted_quotas(k, weights, sizes)
        selected = []
        chosen: set[str] = set()
        for g in sorted(sizes):
            m_g = [c for c in m if strata_map[c] == g]
            taken = list(m_g)
            for c in _by_key((c for c in free if strata_map[c] == g), keys):
                if len(taken) >= quotas[g]:
                    break
                taken.append(c)
            selected += taken
            chosen.update(taken)
        if len(selected) < k:
            rest = _by_key((c for c in free if c not in chosen), keys)
            selected += rest[: k - len(selected)]

    return DrawRecord(
        algorithm=ALGORITHM,
        label=label,
        seed=seed,
        rate=rate_text,
        k=k,
        population=pop,
        population_hash=population_hash(pop),
        mandatory=m,
        excluded=e,
        strata=strata_map,
        quotas=quotas,
        keys=keys,
        selected=selected,
        min_count=int(min_count),
        count=None if count is None else int(count),
        excluded_requested=e_requested,
        excluded_waived=waived,
        excluded_waived_reason=waived_reason,
        strata_rates=None if strata_rates is None else {str(g): str(r).strip() for g, r in strata_rates.items()},
    )


def _short(codes: list[str], limit: int = 20) -> str:
    if not codes:
        return "（空）"
    text = "、".join(codes[:limit])
    return text + (f" 等 {len(codes)} 个" if len(codes) > limit else "")


def verify_record(record: Mapping) -> list[str]:
    """Recompute a stored draw from its inputs and list the differences in Chinese.

    An empty list means the record is exactly what the algorithm gives (the units and, when the record
    has them, the inspectors). Works on a record that went through ``json.dumps``/``json.loads`` (or a
    ``DrawRecord``).
    """
    from djctl.domain.inspection import verify_inspection

    if isinstance(record, DrawRecord):
        record = record.to_json()
    return _verify_units(record) + verify_inspection(record)


def _verify_units(record: Mapping) -> list[str]:
    diffs: list[str] = []
    algorithm = record.get("algorithm")
    if algorithm != ALGORITHM:
        return [f"抽签算法「{algorithm}」无法核验（本程序使用 {ALGORITHM}）"]
    try:
        population = [str(c) for c in record["population"]]
        seed = str(record["seed"])
        label = str(record["label"])
    except (KeyError, TypeError):
        return ["抽签记录缺少种子、标签或总体，无法核验"]

    if population != sorted(population):
        diffs.append("记录中的总体未按编码码位排序")
    expected_hash = population_hash(population)
    if record.get("population_hash") != expected_hash:
        diffs.append(f"总体哈希不一致：应为 {expected_hash}，记录为 {record.get('population_hash')}")

    requested = record.get("excluded_requested")
    if requested is None:  # a record without the extra key: E as recorded
        requested = record.get("excluded") or {}
    count = record.get("count")
    try:
        fresh = run_draw(
            seed=seed,
            label=label,
            population=population,
            rate=record.get("rate"),
            count=None if count is None else int(count),
            min_count=int(record.get("min_count", 1)),
            mandatory=record.get("mandatory") or {},
            excluded=requested,
            strata=record.get("strata"),
            strata_rates=record.get("strata_rates"),
        )
    except ValueError as exc:
        diffs.append(f"无法按记录重新抽签：{exc}")
        return diffs

    if record.get("k") != fresh.k:
        diffs.append(f"抽取数量 k 不一致：应为 {fresh.k}，记录为 {record.get('k')}")

    rec_keys = record.get("keys") or {}
    for c in fresh.population:
        if c not in rec_keys:
            diffs.append(f"编码「{c}」缺少键值")
        elif rec_keys[c] != fresh.keys[c]:
            diffs.append(f"编码「{c}」的键值不一致：应为 {fresh.keys[c]}，记录为 {rec_keys[c]}")
    for c in rec_keys:
        if c not in fresh.keys:
            diffs.append(f"编码「{c}」不在总体中却有键值")

    if _reasons(record.get("mandatory")) != fresh.mandatory:
        diffs.append(f"必抽名单不一致：应为 {_short(list(fresh.mandatory))}")
    if _reasons(record.get("excluded")) != fresh.excluded:
        diffs.append(
            f"排除名单不一致：应为 {_short(list(fresh.excluded))}，记录为 {_short(list(record.get('excluded') or {}))}"
        )
    if "quotas" in record and record.get("quotas") is not None and record.get("quotas") != fresh.quotas:
        diffs.append(f"分层名额不一致：应为 {fresh.quotas}，记录为 {record.get('quotas')}")

    rec_sel = [str(c) for c in record.get("selected") or []]
    if set(rec_sel) != set(fresh.selected) or len(rec_sel) != len(fresh.selected):
        diffs.append(f"抽中名单不一致：应为 {_short(fresh.selected)}，记录为 {_short(rec_sel)}")
    elif rec_sel != fresh.selected:
        diffs.append(f"抽中名单相同但顺序不一致：应为 {_short(fresh.selected)}，记录为 {_short(rec_sel)}")
    return diffs
