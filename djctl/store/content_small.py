"""The content check of the small tables (unit, branch, tier changes, rectifications and the rest of
`ROW_MODELS`), the negative list and the schemes: a mixin of `content._Checker`, replaying their events."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from djctl.store.content_model import (ROSTER_BASIS, ROW_WRITERS, ContentProblem, Event, Expect, active_msg, codes_of,
                                       item_at)
from djctl.store.digests import ROW_COLUMNS, ROW_DIGESTS, ROW_LABEL, ROW_MODELS, ROW_WHAT, plain, row_digest
from djctl.store.tables import NegativeEntry, Scheme


class SmallTableChecks:
    """Methods of `_Checker` (it provides `events`, `table`, `bad`, `uncovered`, `result`)."""

    # ---- unit, branch, tier_change, rectification

    def small_tables(self) -> None:
        """Replay the events that wrote unit, branch, tier_change and rectification rows, then compare."""
        exp: dict[str, dict[int, Expect]] = {name: {} for name in ROW_MODELS}
        ids_by_code: dict[str, dict[Any, int]] = {"unit": {}, "branch": {}}
        legacy_codes: set[str] = set()  # unit / branch codes an older djctl wrote (no row digests)
        legacy_roster_tiers: set[str] = set()  # branch codes whose 名册导入 tier changes an older djctl wrote

        def put(name: str, rid: Any, e: Expect) -> None:
            if isinstance(rid, int):
                exp[name][rid] = e
                if name in ids_by_code:
                    ids_by_code[name][e.label] = rid

        def legacy_touch(ev: Event, codes: Iterable[Any], names: tuple[str, ...] = ("unit", "branch")) -> None:
            for code in codes:
                for name in names:
                    rid = ids_by_code[name].get(code)
                    if rid is not None:
                        exp[name][rid] = Expect(ev, code)  # rewritten without its content: not covered now

        for ev in self.events(*ROW_WRITERS):
            d = ev.doc
            digests = d.get(ROW_DIGESTS)
            if isinstance(digests, dict):
                for name, entries in digests.items():
                    if name not in exp or not isinstance(entries, list):
                        continue
                    for entry in entries:
                        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], str):
                            put(name, entry[0], Expect(ev, entry[1], digest=entry[2]))
                continue
            # an event written before row digests: what its payload says, field by field
            a = ev.action
            if a == "org.import":
                units, branches = d.get("units") or {}, d.get("branches") or {}
                legacy_codes.update(r[0] for r in d.get("rows") or [] if isinstance(r, list) and r)
                for part in (units, branches):
                    legacy_codes.update(codes_of(part.get("deactivated")))
                    legacy_touch(ev, codes_of(part.get("added")) + codes_of(part.get("changed"))
                                 + codes_of(part.get("deactivated")))
                changed = branches.get("changed") if isinstance(branches.get("changed"), dict) else {}
                legacy_roster_tiers.update(codes_of(branches.get("added")))
                legacy_roster_tiers.update(c for c, diff in changed.items() if isinstance(diff, dict) and "tier" in diff)
            elif a == "tier.set":
                put("tier_change", d.get("tier_change_id"), Expect(ev, d.get("branch"), fields={
                    "branch_code": d.get("branch"), "from_tier": d.get("from"), "to_tier": d.get("to"),
                    "on_date": d.get("date"), "basis": d.get("basis"), "note": d.get("note"),
                    "source_ref": d.get("source_ref")}))
                legacy_touch(ev, [d.get("branch")], ("branch",))
            elif a == "tier.import":
                for c in d.get("changes") or []:
                    if isinstance(c, list) and len(c) >= 7:
                        put("tier_change", c[6], Expect(ev, c[0], fields={
                            "branch_code": c[0], "from_tier": c[1], "to_tier": c[2], "on_date": c[3], "note": c[4]}))
                        legacy_touch(ev, [c[0]], ("branch",))
            elif a in ("lookback.import", "check.import"):
                org, kind = (d.get("branch"), "branch") if a == "lookback.import" else (d.get("unit"), "unit")
                rebound = d.get("rebound")
                if isinstance(rebound, dict):
                    put("tier_change", rebound.get("tier_change_id"), Expect(ev, org, fields={
                        "branch_code": org, "from_tier": rebound.get("from"), "to_tier": rebound.get("to"),
                        "on_date": rebound.get("date")}))
                    legacy_touch(ev, [org], ("branch",))
                for rid in d.get("rectifications") or []:
                    put("rectification", rid, Expect(ev, org, fields={
                        "org_code": org, "org_kind": kind, "source": "lookback" if kind == "branch" else "spotcheck",
                        "due": d.get("rectification_due")}))
            elif a == "rectify.add":
                put("rectification", d.get("id"), Expect(ev, d.get("org"), fields={
                    "org_code": d.get("org"), "org_kind": d.get("kind"), "problem": d.get("problem"),
                    "source": d.get("source"), "source_ref": d.get("source_ref"), "due": d.get("due"),
                    "status": "open", "feedback": "", "closed_on": None}))
            elif a in ("rectify.update", "rectify.close") and isinstance(d.get("id"), int):
                new = d.get("new") if isinstance(d.get("new"), dict) else {}
                before = exp["rectification"].get(d["id"])
                fields = dict(before.fields or {}) if before is not None else {}
                fields.update({k: new[k] for k in ("status", "feedback", "closed_on") if k in new})
                put("rectification", d["id"], Expect(ev, d.get("org"), fields=fields))

        for name, model in ROW_MODELS.items():
            columns = ROW_COLUMNS[name]
            label_col = ROW_LABEL[name]
            what = ROW_WHAT[name]
            present: set[int] = set()
            not_covered: list[int] = []
            for r in self.table(model, columns):
                present.add(r.id)
                e = exp[name].get(r.id)
                label = getattr(r, label_col)
                if e is None:
                    if (name in ("unit", "branch") and label in legacy_codes) or (
                            name == "tier_change" and r.basis == ROSTER_BASIS and label in legacy_roster_tiers):
                        not_covered.append(r.id)
                    else:
                        self.uncovered(name, r.id, f"{what}（{label}）")
                elif e.digest is not None:
                    if row_digest(getattr(r, c) for c in columns) != e.digest:
                        self.bad(e.ev, name, [r.id], f"{what}「{label}」的内容与写入时的摘要不符（被改动）")
                elif e.fields:
                    diffs = [f"{c} 为「{plain(getattr(r, c))}」，写入时为「{v}」" for c, v in e.fields.items()
                             if plain(getattr(r, c)) != v]
                    if diffs:
                        self.bad(e.ev, name, [r.id], f"{what}「{label}」的" + "；".join(diffs))
                else:
                    not_covered.append(r.id)
            for rid in sorted(set(exp[name]) - present):
                e = exp[name][rid]
                self.bad(e.ev, name, [rid], f"{what}「{e.label}」已被删除")
            if not_covered:
                self.result.not_covered.append(ContentProblem(
                    name, not_covered, f"这 {len(not_covered)} 行由旧版 djctl 写入，审计事件中没有其内容摘要，未核对"))

    # ---- negative list, scheme

    def negative_entries(self) -> None:
        entries: dict[int, tuple[Event, list]] = {}
        replaced: dict[int, Event] = {}
        for ev in self.events("negative.build"):
            ids, rows = ev.doc.get("ids"), ev.doc.get("entries")
            if isinstance(ids, list) and isinstance(rows, list) and len(ids) == len(rows):
                for rid, row in zip(ids, rows):
                    if isinstance(rid, int) and isinstance(row, list):
                        entries[rid] = (ev, row)
            for old in ev.doc.get("replaced") or []:
                if isinstance(old, int):
                    replaced[old] = ev
        present: set[int] = set()
        for r in self.table(NegativeEntry, ("year", "org_code", "org_kind", "reasons", "active")):
            present.add(r.id)
            got = entries.get(r.id)
            if got is None:
                self.uncovered("negative_entry", r.id, f"负面清单条目（{r.org_code}）")
                continue
            ev, want = got
            try:
                reasons = json.loads(r.reasons)
            except (TypeError, ValueError):
                reasons = r.reasons
            diffs = []
            if [r.org_kind, r.org_code] != want[:2]:
                diffs.append(f"组织为「{r.org_code}」（{r.org_kind}），生成时为「{item_at(want, 1)}」（{item_at(want, 0)}）")
            if r.year != ev.doc.get("year"):
                diffs.append(f"年度为 {r.year}，生成时为 {ev.doc.get('year')}")
            if reasons != item_at(want, 2):
                n_have = len(reasons) if isinstance(reasons, list) else "?"
                n_want = len(want[2]) if isinstance(item_at(want, 2), list) else "?"
                diffs.append(f"列入原因与生成时不符（现 {n_have} 条，生成时 {n_want} 条）")
            if diffs:
                self.bad(ev, "negative_entry", [r.id], f"负面清单条目「{r.org_code}」的" + "；".join(diffs))
            later = replaced.get(r.id)
            want_active = later is None or later.seq < ev.seq
            if bool(r.active) != want_active:
                self.bad(later or ev, "negative_entry", [r.id], active_msg(r.active, want_active, later))
        for rid in sorted(set(entries) - present):
            ev, want = entries[rid]
            self.bad(ev, "negative_entry", [rid], f"{ev.doc.get('year')} 年负面清单中「{item_at(want, 1)}」的条目已被删除")

    def schemes(self) -> None:
        latest: dict[int, Event] = {}
        for ev in self.events("scheme.set"):
            if isinstance(ev.doc.get("year"), int):
                latest[ev.doc["year"]] = ev
        years: set[int] = set()
        for r in self.table(Scheme, ("year", "toml", "sha256")):
            years.add(r.year)
            ev = latest.get(r.year)
            if ev is None:
                self.uncovered("scheme", r.id, f"{r.year} 年度考核方案")
            elif r.toml != ev.doc.get("toml") or r.sha256 != ev.doc.get("sha256"):
                self.bad(ev, "scheme", [r.id], f"{r.year} 年度考核方案的文本或摘要与写入时不符（方案被改动）")
        for year in sorted(set(latest) - years):
            self.bad(latest[year], "scheme", [], f"{year} 年度考核方案已被删除")
