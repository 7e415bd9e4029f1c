"""The year's negative list (负面清单): who goes on it, why, and the documents.

An organization goes on year Y's list, with one Chinese reason per finding, when in Y:

- a unit's self score was found false (虚假) in a spot check of a month of Y (active check reports; the
  check's `false_flag`, or, where it is empty, an overclaim beyond the scheme's `spot_check.tolerance`,
  decided by `domain.scoring.task_outcome`); one reason per checked month, naming the tasks;
- a branch rebounded: a `tier_change` with basis 回头看 dated in Y that moved it down;
- a problem repeated: an item reopened after its close, or the same category (`[rectify]` categories, as
  classified by then) found for the organization in two different months of Y;
- a rectification item of the unit or branch was overdue at the list's as-of date (31 December, or the day
  it is decided when earlier): open then, with its deadline as it stood then before that day (the item's
  dated history, `djctl.domain.rectify.state_at`).

The list carries the business date it was decided (`decided_on`: `--date`, default 31 December of Y); its
documents are dated by it (or by the date of the run that writes them, e.g. `year-end --date`). Asked
`--as-of D`, the list is the one that stood on D: the latest build decided on or before D.

Building stores the list in `negative_entry`; rebuilding marks the year's older entries inactive and
inserts the new ones (history kept), and a rebuild that finds the same list changes nothing. Next year's
draws read the active entries of Y (`negative_codes`).

The committee may also put a unit or branch on the list by decision (经研究列入, `services.negative_manual`):
those entries are not rebuilt; the list shows, next to the computed reasons, every such entry that stands on
its date (`--as-of`, the decision date of a build, or now), marked 经研究列入 with its basis and consequences,
and next year's draws take those that stand on the draw's date and carry 下年度必抽 / 下年度必查.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from djctl.domain.points import fmt
from djctl.domain.tiers import steps_up
from djctl.errors import ActionNeeded, DjctlError
from djctl.store.engine import Store, now
from djctl.store.tables import (
    Branch,
    NegativeEntry,
    Rectification,
    Task,
    TierChange,
    Unit,
)

FORMATS: tuple[str, ...] = ("docx", "xlsx", "md", "html")
KIND_CN = {"unit": "考核单位", "branch": "党支部"}
KIND_ORDER = {"unit": 0, "branch": 1}
SOURCE_CN = {"computed": "规则认定", "manual": "经研究列入", "both": "规则认定、经研究列入"}
BUILD_ACTION = "negative.build"


@dataclass
class Finding:
    """Reasons gathered for one organization, each with a sort key (date first)."""

    kind: str
    code: str
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (sort key, sentence)


def _cn_month(month: str) -> str:
    y, m = month.split("-")
    return f"{int(y)}年{int(m)}月"


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _clause(text: str) -> str:
    """The first clause of a problem text (up to the first ；or 。), whole: a quote is never cut off."""
    import re

    text = " ".join(text.split())
    return re.split(r"[；。]", text, maxsplit=1)[0].strip() or text


def _short(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ------------------------------------------------------------------ findings


def _false_checks(session, year: int, add, as_of: date) -> None:
    """Units with a false self-score: the same outcomes the scores use (services.scores.check_outcomes)."""
    from djctl.domain.scheme import Scheme
    from djctl.services.scores import check_outcomes
    from djctl.services.setup import load_scheme

    try:
        scheme = load_scheme(session, year)
    except DjctlError:
        scheme = Scheme(year=year)
    months = [f"{year}-{m:02d}" for m in range(1, 13) if date(year, m, 1) <= as_of]
    by_code = {t.code: t.name for t in session.exec(select(Task).order_by(Task.id))}  # a code's latest name, for the reason text
    outcomes = check_outcomes(session, months, scheme)
    for (unit, month), items in sorted(outcomes.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        tasks = [f"任务“{by_code.get(o.task, o.task)}”自评{fmt(o.self_x100)}分、核查{fmt(o.verified_x100)}分，"
                 f"扣{fmt(o.deduction_x100)}分" for o in items if o.false]
        if tasks:
            add("unit", unit, f"{month}-00", f"{_cn_month(month)}抽查核查中自评得分虚假（双倍扣分）：" + "；".join(tasks))


def _rebounds(session, year: int, add, as_of: date) -> None:
    rows = session.exec(select(TierChange).where(TierChange.basis == "回头看",
                                                 TierChange.on_date >= date(year, 1, 1),
                                                 TierChange.on_date <= min(as_of, date(year, 12, 31)))
                        .order_by(TierChange.on_date, TierChange.id)).all()
    for c in rows:
        if c.from_tier is None or steps_up(c.from_tier, c.to_tier) >= 0:
            continue
        add("branch", c.branch_code, c.on_date.isoformat(),
            f"{_cn_month(c.on_date.isoformat()[:7])}“回头看”中不再符合{c.from_tier}支部标准，"
            f"由{c.from_tier}支部降为{c.to_tier}支部（反弹）")


def _overdue(session, year: int, add, as_of: date) -> None:
    from djctl.services.rectify import SOURCE_CN, open_at

    end = min(as_of, date(year, 12, 31))
    for r, st in sorted(open_at(session, end), key=lambda rs: rs[0].id):
        if not st.overdue:
            continue
        add(r.org_kind, r.org_code, st.due.isoformat(),
            f"{SOURCE_CN.get(r.source, r.source)}发现的问题“{_clause(r.problem)}”（整改期限{_cn_date(st.due)}）"
            f"截至{_cn_date(end)}未整改销号（逾期）")


def _repeated(session, year: int, add, as_of: date) -> None:
    """Repeated problems (重复问题): an item reopened after it was closed (found again on re-check), or problems
    of the same category found for the same organization in two different months of the year."""
    from djctl.services.rectify import changes_of
    from djctl.services.rectify_stats import UNCLASSIFIED, tags_at
    from djctl.store.tables import RectificationEvent

    start, end = date(year, 1, 1), min(as_of, date(year, 12, 31))
    # reopened in the year, whenever found (a re-check in January reopens an item of last year)
    reopened = {int(i) for i in session.exec(select(RectificationEvent.item_id).where(
        RectificationEvent.action == "reopen", RectificationEvent.on_date >= start, RectificationEvent.on_date <= end))}
    items = list(session.exec(select(Rectification).where(
        ((Rectification.found_on >= start) & (Rectification.found_on <= end)) | Rectification.id.in_(sorted(reopened) or [-1]))
        .order_by(Rectification.id)))
    changes = changes_of(session, [int(r.id) for r in items])
    tags = tags_at(session, end)
    by_category: dict[tuple[str, str, str], list[Rectification]] = {}
    for r in items:
        cs = changes.get(int(r.id), [])
        days = sorted(c.on_date for c in cs if c.action == "reopen" and start <= c.on_date <= end)
        if days:
            add(r.org_kind, r.org_code, days[0].isoformat(),
                f"整改事项第 {r.id} 号「{_short(r.problem)}」销号后经复查于{'、'.join(_cn_date(d) for d in days)}"
                "重新打开（重复问题）")
        if r.found_on is None or not start <= r.found_on <= end:
            continue
        category = tags.get(int(r.id), (UNCLASSIFIED, ""))[0]
        if category != UNCLASSIFIED:
            by_category.setdefault((r.org_kind, r.org_code, category), []).append(r)
    for (kind, code, category), rs in sorted(by_category.items()):
        months = sorted({r.found_on.strftime("%Y-%m") for r in rs if r.found_on})
        if len(months) < 2:
            continue
        add(kind, code, f"{months[1]}-99",
            f"“{category}”方面的问题在" + "、".join(_cn_month(m) for m in months) + "先后被发现"
            f"（整改事项第 {'、'.join(str(r.id) for r in rs)} 号，重复问题）")


def compute(session, year: int, as_of: date | None = None) -> list[Finding]:
    """The year's findings as of `as_of` (default 31 December), one per organization: units first, then
    branches, each by code."""
    as_of = as_of or date(year, 12, 31)
    found: dict[tuple[str, str], Finding] = {}

    def add(kind: str, code: str, key: str, sentence: str) -> None:
        found.setdefault((kind, code), Finding(kind, code)).reasons.append((key, sentence))

    _false_checks(session, year, add, as_of)
    _rebounds(session, year, add, as_of)
    _overdue(session, year, add, as_of)
    _repeated(session, year, add, as_of)
    out = sorted(found.values(), key=lambda f: (KIND_ORDER.get(f.kind, 9), f.code))
    for f in out:
        f.reasons.sort(key=lambda kr: kr[0])
    return out


# ------------------------------------------------------------------ store


def _names(session) -> dict[tuple[str, str], str]:
    out = {("unit", c): n for c, n in session.exec(select(Unit.code, Unit.name))}
    out.update({("branch", c): n for c, n in session.exec(select(Branch.code, Branch.name))})
    return out


def _active_entries(session, year: int) -> list[NegativeEntry]:
    return list(session.exec(select(NegativeEntry).where(NegativeEntry.year == year,
                                                         NegativeEntry.active == True)  # noqa: E712
                             .order_by(NegativeEntry.id)))


def _built(session, year: int) -> bool:
    from djctl.store.audit import AUDIT

    row = session.connection().execute(
        sa_select(AUDIT.c.seq).where(AUDIT.c.action == BUILD_ACTION,
                                     AUDIT.c.payload.like(f'%"year":{int(year)}%')).limit(1)).first()
    return row is not None


def _doc(session, year: int, entries: list[NegativeEntry], status: str, as_of: date | None = None) -> dict[str, Any]:
    """The list as JSON: one row per organization, its computed reasons, then the entries put on the list by
    decision that stand on `as_of` (None: every one not revoked), each as a reason marked 经研究列入."""
    from djctl.services.negative_manual import manual_entries

    names = _names(session)
    rows = [{"org": e.org_code, "kind": e.org_kind, "kind_cn": KIND_CN.get(e.org_kind, e.org_kind),
             "name": names.get((e.org_kind, e.org_code), ""), "reasons": json.loads(e.reasons), "id": e.id,
             "source": "computed", "manual": []}
            for e in entries]
    by_org = {(r["kind"], r["org"]): r for r in rows}
    manual = manual_entries(session, year, as_of)
    for m in manual:
        r = by_org.get((m["kind"], m["org"]))
        if r is None:
            r = by_org[(m["kind"], m["org"])] = {"org": m["org"], "kind": m["kind"], "kind_cn": m["kind_cn"],
                                                 "name": m["name"], "reasons": [], "id": None, "source": "manual",
                                                 "manual": []}
            rows.append(r)
        elif r["source"] == "computed":
            r["source"] = "both"
        r["reasons"].append(m["sentence"])
        r["manual"].append(m)
    rows.sort(key=lambda r: (KIND_ORDER.get(r["kind"], 9), r["org"]))
    built_at = max((e.created_at for e in entries), default=None)
    decided = max((e.decided_on for e in entries if e.decided_on), default=None)
    return {"year": year, "status": status, "built_at": built_at.isoformat() if built_at else None,
            "decided_on": decided.isoformat() if decided else None,
            "entries": rows, "manual": manual,
            "counts": {"unit": sum(1 for r in rows if r["kind"] == "unit"),
                       "branch": sum(1 for r in rows if r["kind"] == "branch"), "total": len(rows)},
            "files": []}


def build(store: Store, year: int, on_date: date | None = None) -> dict[str, Any]:
    """Build (or rebuild) year's list, decided on `on_date` (default 31 December of `year`), from the facts as
    they stood then; the same findings as the stored list change nothing."""
    decided = on_date or date(year, 12, 31)
    with store.write() as uow:
        s = uow.session
        findings = compute(s, year, decided)
        new = [(f.kind, f.code, [r for _, r in f.reasons]) for f in findings]
        old = _active_entries(s, year)
        old_set = sorted((e.org_kind, e.org_code, json.loads(e.reasons)) for e in old)
        if sorted(new) == old_set and (old or _built(s, year)):
            return _doc(s, year, old, "unchanged", decided)
        t = now()
        for e in old:
            e.active = False
            s.add(e)
        entries = [NegativeEntry(year=year, org_code=code, org_kind=kind,
                                 reasons=json.dumps(reasons, ensure_ascii=False), active=True, created_at=t,
                                 decided_on=decided)
                   for kind, code, reasons in new]
        s.add_all(entries)
        s.flush()
        uow.audit(BUILD_ACTION, {"year": year, "date": decided.isoformat(), "entries": [[k, c, r] for k, c, r in new],
                                 "replaced": [e.id for e in old], "ids": [e.id for e in entries]})
        return _doc(s, year, entries, "built", decided)


def _built_by(session, year: int, as_of: date) -> bool:
    """Whether a build of `year` was decided on or before `as_of` (builds before 0003 count as 31 December)."""
    from djctl.store.audit import AUDIT

    for (payload,) in session.connection().execute(
            sa_select(AUDIT.c.payload).where(AUDIT.c.action == BUILD_ACTION,
                                             AUDIT.c.payload.like(f'%"year":{int(year)}%'))):
        doc = json.loads(payload)
        if doc.get("year") == year and date.fromisoformat(doc.get("date") or f"{year}-12-31") <= as_of:
            return True
    return False


def is_built(session, year: int) -> bool:
    """Whether the year's list was ever built (an empty list that was built counts)."""
    return bool(_active_entries(session, year)) or _built(session, year)


def _entries_as_of(session, year: int, as_of: date) -> list[NegativeEntry]:
    """The entries of the latest build of `year` decided on or before `as_of` (history kept by rebuilds)."""
    rows = list(session.exec(select(NegativeEntry).where(NegativeEntry.year == year, NegativeEntry.decided_on <= as_of)
                             .order_by(NegativeEntry.id)))
    if not rows:
        return []
    last = max(rows, key=lambda e: (e.decided_on, e.id))
    return [e for e in rows if e.decided_on == last.decided_on and e.created_at == last.created_at]


def stored(store: Store, year: int, as_of: date | None = None, *, standing_on: date | None = None) -> dict[str, Any]:
    """The stored list of `year` (the active one, or the one that stood on `as_of`) with the entries put on it by
    decision that stand then (or on `standing_on`: the date of a document that quotes the active list);
    ActionNeeded when it was never built and has no such entry."""
    from djctl.services.negative_manual import standing

    standing_on = as_of or standing_on
    with store.read() as uow:
        s = uow.session
        entries = _active_entries(s, year) if as_of is None else _entries_as_of(s, year, as_of)
        manual = bool(standing(s, year, standing_on))
        if as_of is not None and not entries and not manual and not _built_by(s, year, as_of):
            raise ActionNeeded(f"截至 {as_of.isoformat()}，{year} 年度负面清单尚未生成",
                               hint=f"用 djctl negative-list --year {year} --build --date 决定日期 生成")
        if not entries and not manual and not _built(s, year):
            raise ActionNeeded(f"{year} 年度负面清单尚未生成", hint=f"用 djctl negative-list --year {year} --build 生成")
        return _doc(s, year, entries, "stored", standing_on)


def negative_codes(session, year: int, org_kind: str, as_of: date | None = None,
                   consequence: str | None = None) -> dict[str, str]:
    """code -> reasons (joined with "；") of `year`'s list of one kind (unit / branch): the active computed entries
    and the entries put on it by decision that stand on `as_of` (None: not revoked), only those carrying
    `consequence` when it is given (e.g. 下年度必查 for next year's look-back)."""
    from djctl.services.negative_manual import manual_codes

    rows = session.exec(select(NegativeEntry).where(NegativeEntry.year == year, NegativeEntry.org_kind == org_kind,
                                                    NegativeEntry.active == True)  # noqa: E712
                        .order_by(NegativeEntry.org_code)).all()
    out = {r.org_code: "；".join(json.loads(r.reasons)) for r in rows}
    for code, why in manual_codes(session, year, org_kind, as_of, consequence).items():
        out[code] = f"{out[code]}；{why}" if code in out else why
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ documents


def parse_formats(text: str) -> list[str]:
    """"docx,xlsx" -> ["docx", "xlsx"]; ValueError (Chinese) for an unknown format."""
    out = []
    for part in text.replace("，", ",").split(","):
        f = part.strip().lower()
        if not f:
            continue
        if f not in FORMATS:
            raise ValueError(f"格式「{part.strip()}」无效，应为 {'、'.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise ValueError(f"至少指定一种格式（{'、'.join(FORMATS)}）")
    return out


def _context(store: Store, doc: dict[str, Any], on_date: date | None = None) -> dict[str, Any]:
    """The document context of `djctl.io.render.render_document` (kind "negative_list")."""
    from djctl.domain.scheme import Scheme
    from djctl.services.setup import load_scheme

    year = doc["year"]
    with store.read() as uow:
        try:
            scheme = load_scheme(uow.session, year)
        except DjctlError:
            scheme = Scheme(year=year)
    c = doc["counts"]
    manual = doc.get("manual") or []
    by_decision = len({(m["kind"], m["org"]) for m in manual})
    lead = (f"根据《{scheme.name or f'{year}年度考核方案'}》，经月度抽查核查、党支部“回头看”和问题整改跟踪"
            + ("，并经研究决定" if manual else "")
            + f"，{year}年度共有 {c['unit']} 个考核单位、{c['branch']} 个党支部列入负面清单"
            + (f"（其中经研究列入 {by_decision} 个）" if manual else "") + "。"
            + (f"按规则认定列入负面清单的考核单位在{year + 1}年度月度抽查中必抽，党支部在{year + 1}年度“回头看”中必查；"
               "经研究列入的，按所列处理措施执行。" if manual else
               f"列入负面清单的考核单位在{year + 1}年度月度抽查中必抽，党支部在{year + 1}年度“回头看”中必查。"))
    # dated by the run that writes it (year-end --date), else the day the list was decided, else year end
    built = on_date or (date.fromisoformat(doc["decided_on"]) if doc.get("decided_on") else date(year, 12, 31))
    sections: list[dict[str, Any]] = [{"heading": "", "paragraphs": [lead]}]
    for n, (kind, heading) in enumerate((("unit", "一、考核单位"), ("branch", "二、党支部")), 1):
        entries = [e for e in doc["entries"] if e["kind"] == kind]
        if not entries:
            sections.append({"heading": heading, "paragraphs": ["无。"]})
            continue
        rows = [[i, e["name"], "\n".join(f"{j}. {_official(r)}" for j, r in enumerate(e["reasons"], 1))]
                for i, e in enumerate(entries, 1)]
        sections.append({"heading": heading, "tables": [{
            "caption": f"表{n} 列入负面清单的{KIND_CN[kind]}", "columns": ["序号", "名称", "列入原因"],
            "rows": rows}]})
    topics = [m for m in manual if m.get("topic")]
    if topics:
        from djctl.services.docs_common import cn_ordinal

        sections.append({"heading": f"三、{year + 1}年度专项督查", "paragraphs": [
            f"经研究，将下列问题列为{year + 1}年度专项督查内容："] + [
            f"（{cn_ordinal(i)}）{m['name']}：{_official(m['reason']).rstrip('。')}。" for i, m in enumerate(topics, 1)]})
    from djctl.services.docs_common import official_header

    return {"kind": "negative_list", "title": f"关于公布{year}年度负面清单的通知",
            **official_header(None, scheme, "negative_list", str(year), built), "year": year,
            "doc_number": _stored_number("negative_list", str(year), store),
            "date": _cn_date(built), "date_iso": built.isoformat(), "counts": c, "entries": doc["entries"], "sections": sections}


def _stored_number(kind: str, subject: str, store: Store) -> str | None:
    from djctl.services.docnumbers import stored_number

    with store.read() as uow:
        return stored_number(uow.session, kind, subject)


def _official(reason: str) -> str:
    """A stored reason as official text: “” quotes, 2024年4月 dates, no codes in brackets."""
    import re

    text = reason.replace("「", "“").replace("」", "”")
    text = re.sub(r"(\d{4})-(\d{2})-(\d{2})", lambda m: f"{int(m[1])}年{int(m[2])}月{int(m[3])}日", text)
    text = re.sub(r"(\d{4})-(\d{2})(?!\d)", lambda m: f"{int(m[1])}年{int(m[2])}月", text)
    text = re.sub(r"[（(]#?\d+[)）]", "", text)
    return text


def write_documents(store: Store, doc: dict[str, Any], formats: list[str], out_dir: Path,
                    templates: Path | None = None, on_date: date | None = None) -> list[Path]:
    """Write the list into `out_dir`: .docx / .md / .html through the shared renderer, .xlsx as a table."""
    from djctl.io.render import render_document
    from djctl.io.xlsx import write_table_workbook

    ctx = _context(store, doc, on_date)
    base = f"{doc['year']}年度负面清单"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    rendered = [f for f in formats if f != "xlsx"]
    if rendered:
        paths.extend(render_document(ctx, rendered, out_dir, base, templates))
    if "xlsx" in formats:
        path = out_dir / f"{base}.xlsx"
        rows = [[i, e["kind_cn"], e["org"], e["name"], len(e["reasons"]),
                 "\n".join(f"{j}. {r}" for j, r in enumerate(e["reasons"], 1)), SOURCE_CN[e.get("source", "computed")],
                 "；".join(m["basis"] for m in e.get("manual") or []),
                 "；".join("、".join(m["consequences"]) for m in e.get("manual") or [])]
                for i, e in enumerate(doc["entries"], 1)]
        write_table_workbook(path, [(base, ["序号", "类别", "编码", "名称", "问题数", "列入原因", "列入方式", "依据",
                                            "处理措施"], rows)])
        paths.append(path)
    from djctl.services.docs_common import stamp

    stamp(paths, date.fromisoformat(ctx["date_iso"]))
    return paths


def negative_list(store: Store, year: int, *, build_list: bool = False, formats: list[str] | None = None,
                  out_dir: Path | None = None, templates: Path | None = None, on_date: date | None = None,
                  as_of: date | None = None) -> dict[str, Any]:
    """`djctl negative-list`: build (decided `on_date`) or read (as it stood `as_of`) the list, then write the
    documents asked for."""
    doc = build(store, year, on_date) if build_list else stored(store, year, as_of)
    if as_of is not None:
        doc["as_of"] = as_of.isoformat()
    if formats and out_dir is not None:
        doc["files"] = [str(p) for p in write_documents(store, doc, formats, out_dir, templates, on_date or as_of)]
    return doc
