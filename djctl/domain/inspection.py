"""Random inspectors with conflicts of interest excluded (双随机, 回避), drawn with the same key rule as units.

The algorithm (DESIGN §3, "Inspectors"), implemented exactly so that the page's JavaScript gives the same:

1. The pool I = the inspector codes, sorted by Unicode code point; pool hash = SHA-256 hex of the UTF-8 of
   I joined with "\\n".
2. The label is the draw's label with its kind replaced by ``inspect`` (``sample:2024-03`` →
   ``inspect:2024-03``, ``sample:2024-03#2`` → ``inspect:2024-03#2``); the seed is the draw's seed. Each
   inspector c gets key(c) = SHA-256 hex of the UTF-8 of seed + "\\x1f" + label + "\\x1f" + c; the pool in
   ascending (key, code) order gives every inspector a rank.
3. The drawn units are visited in selection order. For unit u, C_u = the inspectors in conflict with u
   (回避), each with its reason (own unit, same group, served the unit in the last N years, inspected u in
   the last M months). The eligible inspectors I − C_u are ordered by (units already assigned to them in
   this draw, rank) and the first ``per_unit`` are u's inspectors. Fewer than ``per_unit`` eligible: the
   draw is refused, naming u and the rules that excluded the others.

Ordering by load first spreads the work evenly (no inspector gets a second unit while an eligible one has
none); within equal loads the order is the random key order. Conflicts are inputs, recorded with their
reasons like the exclusions of a draw; the verifier recomputes keys and assignments from the record alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["InspectorShortage", "assign_inspectors", "inspection_label", "verify_inspection"]

SEP = "\x1f"


class InspectorShortage(ValueError):
    """Too few eligible inspectors for a unit."""

    def __init__(self, unit: str, eligible: int, per_unit: int, reasons: dict[str, int]) -> None:
        self.unit, self.eligible, self.per_unit, self.reasons = unit, eligible, per_unit, reasons
        why = "，".join(f"{r} {n} 人" for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0])))
        super().__init__(f"单位「{unit}」回避后只剩 {eligible} 名检查人员，少于每单位 {per_unit} 名（回避：{why or '无'}）")


def inspection_label(draw_label: str) -> str:
    """``sample:2024-03#2`` → ``inspect:2024-03#2``."""
    _, _, rest = str(draw_label).partition(":")
    return f"inspect:{rest}"


def _codes(pool: Iterable[str]) -> list[str]:
    codes = [str(c) for c in pool]
    if len(set(codes)) != len(codes):
        raise ValueError("检查人员编码重复")
    for c in codes:
        if not c or "\n" in c or SEP in c:
            raise ValueError(f"检查人员编码「{c!r}」为空或含有换行、分隔符")
    return sorted(codes)


def _order(seed: str, label: str, pool: list[str]) -> tuple[dict[str, str], list[str]]:
    from djctl.domain.sampling import draw_keys

    keys = draw_keys(seed, label, pool)
    return keys, sorted(pool, key=lambda c: (keys[c], c))


def _assign(order: list[str], per_unit: int, units: list[str],
            conflicts: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, list[str]], list[tuple[str, int, dict[str, int]]]]:
    rank = {c: i for i, c in enumerate(order)}
    load = dict.fromkeys(order, 0)
    assignments: dict[str, list[str]] = {}
    short: list[tuple[str, int, dict[str, int]]] = []
    for u in units:
        avoid = conflicts.get(u) or {}
        eligible = sorted((c for c in order if c not in avoid), key=lambda c: (load[c], rank[c]))
        if len(eligible) < per_unit:
            why: dict[str, int] = {}
            for reason in avoid.values():
                for part in str(reason).split("；"):
                    why[part.split("（")[0]] = why.get(part.split("（")[0], 0) + 1
            short.append((u, len(eligible), why))
            continue
        chosen = eligible[:per_unit]
        for c in chosen:
            load[c] += 1
        assignments[u] = chosen
    return assignments, short


def assign_inspectors(*, seed: str, draw_label: str, pool: Iterable[str], per_unit: int, units: list[str],
                      conflicts: Mapping[str, Mapping[str, str]], rules: list[str] | None = None) -> dict[str, Any]:
    """The inspection part of a draw record (see the module docstring); InspectorShortage when a unit
    has fewer than per_unit eligible inspectors."""
    from djctl.domain.sampling import population_hash

    if isinstance(per_unit, bool) or int(per_unit) != per_unit or per_unit < 1:
        raise ValueError(f"每单位检查人员数「{per_unit}」应为正整数")
    codes = _codes(pool)
    label = inspection_label(draw_label)
    keys, order = _order(str(seed), label, codes)
    in_pool = set(codes)
    used = {u: {c: str(r) for c, r in sorted((conflicts.get(u) or {}).items()) if c in in_pool} for u in units}
    assignments, short = _assign(order, int(per_unit), list(units), used)
    if short:
        u, n, why = short[0]
        raise InspectorShortage(u, n, int(per_unit), why)
    return {"label": label, "per_unit": int(per_unit), "pool": codes, "pool_hash": population_hash(codes),
            "keys": keys, "conflicts": {u: c for u, c in used.items() if c}, "assignments": assignments,
            "rules": list(rules or [])}


def _short(codes: list[str], limit: int = 20) -> str:
    if not codes:
        return "（空）"
    return "、".join(codes[:limit]) + (f" 等 {len(codes)} 个" if len(codes) > limit else "")


def verify_inspection(record: Mapping[str, Any]) -> list[str]:
    """Recompute the inspectors of a draw record from the record alone; the differences in Chinese."""
    from djctl.domain.sampling import draw_keys, population_hash

    ins = record.get("inspection")
    if ins is None:
        return []
    if not isinstance(ins, Mapping) or not isinstance(ins.get("pool"), list) or not isinstance(ins.get("assignments"), Mapping):
        return ["检查人员抽取记录格式不对，无法核验"]
    diffs: list[str] = []
    pool = [str(c) for c in ins["pool"]]
    if any(a >= b for a, b in zip(pool, pool[1:])):
        diffs.append("检查人员库未按编码码位排序或有重复")
    expected_hash = population_hash(pool)
    if ins.get("pool_hash") != expected_hash:
        diffs.append(f"检查人员库哈希不一致：应为 {expected_hash}，记录为 {ins.get('pool_hash')}")
    label = str(ins.get("label"))
    want = inspection_label(str(record.get("label")))
    if label != want:
        diffs.append(f"检查人员抽取标签「{label}」应为「{want}」")
    if SEP in label or SEP in str(record.get("seed")):
        return diffs + ["检查人员抽取标签含有分隔符"]
    try:
        per_unit = int(ins.get("per_unit"))
    except (TypeError, ValueError):
        return diffs + [f"每单位检查人员数「{ins.get('per_unit')}」不是整数"]
    keys = draw_keys(str(record.get("seed")), label, sorted(pool))
    rec_keys = ins.get("keys") or {}
    for c in pool:
        if rec_keys.get(c) != keys[c]:
            diffs.append(f"检查人员「{c}」的键值不一致：应为 {keys[c]}，记录为 {rec_keys.get(c)}")
    order = sorted(sorted(pool), key=lambda c: (keys[c], c))
    selected = [str(c) for c in record.get("selected") or []]
    conflicts = ins.get("conflicts") or {}
    assigned = ins["assignments"]
    in_pool = set(pool)
    rank = {c: i for i, c in enumerate(order)}
    load = dict.fromkeys(order, 0)
    for u in selected:
        avoid = conflicts.get(u) or {}
        for c in avoid:
            if c not in in_pool:
                diffs.append(f"单位「{u}」的回避名单中有不在人员库中的「{c}」")
        expected = sorted((c for c in order if c not in avoid), key=lambda c: (load[c], rank[c]))[:per_unit]
        for c in expected:
            load[c] += 1
        got = [str(c) for c in assigned.get(u) or []]
        if len(expected) < per_unit:
            diffs.append(f"单位「{u}」回避后只剩 {len(expected)} 名检查人员，少于每单位 {per_unit} 名")
        elif got != expected:
            diffs.append(f"单位「{u}」的检查人员不一致：应为 {_short(expected)}，记录为 {_short(got)}")
    for u in assigned:
        if u not in selected:
            diffs.append(f"单位「{u}」未被抽中却分配了检查人员")
    return diffs
