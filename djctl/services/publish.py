"""`djctl publish`: the 公示 site, plain files that open from a folder or an intranet share.

One read transaction gathers everything (the audit head, every draw of the year with the digest its audit
event carries, the quarter and year scores, the negative list); the pages are then rendered with the
sandboxed, autoescaping Jinja environment of `djctl.io.render` from the templates in
`djctl/templates/publish/`. Each draw page embeds its canonical record (the `draw.record` text, not the
pruned `draw_entry` rows) and the independent JavaScript verifier `verify.js`, which recomputes the draw in
the reader's browser. No page refers to anything outside the folder: styles and scripts are inline, charts
are inline SVG. Any draw kind found in the store gets its pages (a new kind only needs a Chinese name).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from djctl import __version__
from djctl.services.draws import COMMAND

KIND_CN = {"sample": "月度抽查", "lookback": "回头看", "recheck": "整改回头看"}
POPULATION_CN = {"sample": "在册考核单位", "lookback": "达标及以上党支部", "recheck": "本年度已销号整改事项"}
STRATA_CN = {"sample": "分组", "lookback": "支部等次", "recheck": "问题类别"}
PUBLISH_DIR = "publish"
TEMPLATES = ("base.html.j2", "index.html.j2", "draw.html.j2", "quarter.html.j2", "ranking.html.j2",
             "negative.html.j2")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class PublishResult:
    year: int
    out_dir: Path
    audit_head: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)
    draws: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "out": str(self.out_dir), "audit_head": self.audit_head, "draws": self.draws,
                "files": self.files}


# ---------------------------------------------------------------------- file names and writing


def safe_name(*parts: Any, suffix: str = ".html") -> str:
    """A file name from parts: letters, digits and `-_.` only, never empty, never a dot name."""
    text = "-".join(_UNSAFE.sub("_", str(p)).strip("._") or "x" for p in parts)
    return text[:120] + suffix


# ---------------------------------------------------------------------- reading (one transaction)


def _draw_rows(uow, year: int) -> list[Any]:
    from sqlmodel import select

    from djctl.store.tables import Draw

    q = select(Draw).where(Draw.period.like(f"{int(year):04d}%")).order_by(Draw.kind, Draw.period, Draw.seq)
    return list(uow.session.exec(q))


def _names(uow) -> dict[str, str]:
    from sqlalchemy import select as sa_select

    from djctl.store.tables import Branch, Unit

    conn = uow.conn
    u, b = Unit.__table__, Branch.__table__
    names = dict(conn.execute(sa_select(b.c.code, b.c.name)).all())
    names.update(dict(conn.execute(sa_select(u.c.code, u.c.name)).all()))
    return names


def _inspector_names(uow) -> dict[str, dict[str, str]]:
    try:
        from djctl.services.inspectors import inspector_directory
    except ImportError:  # pragma: no cover - the inspector pool is optional
        return {}
    return inspector_directory(uow)


def collect(store, year: int) -> dict[str, Any]:
    """Everything the site shows, read in ONE read transaction (a consistent snapshot of the store)."""
    from djctl.domain.periods import parse_quarter, parse_year
    from djctl.services.annual import year_rows
    from djctl.services.draws import audit_payload, label_base
    from djctl.services.negative import _active_entries, _built, _doc
    from djctl.services.quarterly import quarter_rows
    from djctl.services.setup import load_scheme
    from djctl.store import audit

    y = parse_year(str(year))
    with store.read() as uow:
        scheme = load_scheme(uow.session, y.year)
        head_seq, head_hash = audit.head(uow.conn)
        names = _names(uow)
        inspectors = _inspector_names(uow)
        draws = []
        for row in _draw_rows(uow, y.year):
            payload = audit_payload(uow, row.kind, row.id) or {}
            draws.append({"id": row.id, "kind": row.kind, "period": row.period, "seq": row.seq, "label": row.label,
                          "series": label_base(row.label), "seed_generated": bool(row.seed_generated),
                          "reason": row.reason or "", "active": bool(row.active),
                          "unannounced": bool(row.unannounced), "record_text": row.record,
                          "audit_digest": payload.get("record_sha256"), "audit_seq": None})
        quarters = []
        for qi in range(1, 5):
            q = parse_quarter(f"{y.year}Q{qi}")
            rows = quarter_rows(uow.session, q, scheme)
            if any(r.score is not None for r in rows):
                quarters.append({"period": str(q), "months": q.months, "rows": rows})
        years = [r for r in year_rows(uow.session, y, scheme, explain=False) if r.active]
        entries = _active_entries(uow.session, y.year)
        negative = _doc(uow.session, y.year, entries, "stored") if entries or _built(uow.session, y.year) else None
    return {"year": y.year, "audit_head": {"seq": head_seq, "hash": head_hash}, "names": names,
            "inspectors": inspectors, "draws": draws, "quarters": quarters, "year_rows": years,
            "negative": negative}


# ---------------------------------------------------------------------- page contexts


def _org(names: dict[str, str], code: str) -> dict[str, str]:
    return {"code": code, "name": names.get(code, "")}


def _title(d: dict[str, Any]) -> str:
    kind, period = d["kind"], d["period"]
    if kind == "sample":
        from djctl.domain.periods import parse_month

        try:
            return f"{parse_month(period).label}党建工作抽查抽签结果公示"
        except ValueError:
            pass
    series = d["series"]
    plain = f"{kind}:{period}"
    name = series[len(plain) + 1:] if series.startswith(plain + "-") else ""
    what = KIND_CN.get(kind, kind)
    return f"{period}{'年度' if len(period) == 4 else ''}“{what}”{f'（{name}）' if name else ''}抽签结果公示"


def draw_page(d: dict[str, Any], data: dict[str, Any], siblings: list[dict[str, Any]]) -> dict[str, Any]:
    """The context of one 公示 page (structured; the template lays it out)."""
    doc = json.loads(d["record_text"])
    names = data["names"]
    pop = [str(c) for c in doc.get("population") or []]
    selected = [str(c) for c in doc.get("selected") or []]
    order = {c: i for i, c in enumerate(selected, 1)}
    mandatory = {str(c): str(r) for c, r in (doc.get("mandatory") or {}).items()}
    excluded = {str(c): str(r) for c, r in (doc.get("excluded") or {}).items()}
    requested = {str(c): str(r) for c, r in (doc.get("excluded_requested") or excluded).items()}
    strata = doc.get("strata") or {}
    strata_reasons = doc.get("strata_reasons") or {}
    keys = doc.get("keys") or {}
    sizes: dict[str, int] = {}
    for c in pop:
        sizes[strata.get(c, "")] = sizes.get(strata.get(c, ""), 0) + 1
    n_in_series = 1 + sum(1 for s in siblings if s["series"] == d["series"] and s["seq"] < d["seq"])
    population = []
    for c in pop:
        if c in order:
            status = f"抽中（第 {order[c]} 位）"
        elif c in excluded:
            status = "排除"
        else:
            status = ""
        population.append({**_org(names, c), "group": strata.get(c, ""), "key": keys.get(c, ""), "status": status,
                           "selected": c in order})
    inspection = doc.get("inspection")
    inspectors = data.get("inspectors") or {}
    insp_rows = []
    if inspection:
        for unit in selected:
            people = [{"code": p, **inspectors.get(p, {})} for p in (inspection.get("assignments") or {}).get(unit, [])]
            avoided = [{"code": p, "reason": r, **inspectors.get(p, {})}
                       for p, r in sorted(((inspection.get("conflicts") or {}).get(unit) or {}).items())]
            insp_rows.append({**_org(names, unit), "people": people, "avoided": avoided})
    series = [s for s in siblings if s["series"] == d["series"]]
    return {
        "title": _title(d), "kind": d["kind"], "kind_cn": KIND_CN.get(d["kind"], d["kind"]), "period": d["period"],
        "command": COMMAND.get(d["kind"], d["kind"]),
        "id": d["id"], "seq": d["seq"], "label": doc.get("label", d["label"]), "series": d["series"],
        "n_in_series": n_in_series, "active": d["active"], "reason": d["reason"], "unannounced": d["unannounced"],
        "algorithm": doc.get("algorithm"), "seed": doc.get("seed"), "seed_generated": d["seed_generated"],
        "rate": doc.get("rate"), "count": doc.get("count"), "min_count": doc.get("min_count", 1), "k": doc.get("k"),
        "n": len(pop), "population_cn": POPULATION_CN.get(d["kind"], "总体"), "population_hash": doc.get("population_hash"),
        "population": population, "stratified": doc.get("strata") is not None,
        "strata_cn": "风险分层" if doc.get("strata_rates") else STRATA_CN.get(d["kind"], "分组"),
        "quotas": doc.get("quotas") or {}, "strata_reasons": strata_reasons,
        "strata_rates": [{"group": g, "rate": r, "size": sizes.get(g, 0)} for g, r in (doc.get("strata_rates") or {}).items()],
        "mandatory": [{**_org(names, c), "reason": r} for c, r in mandatory.items()],
        "excluded": [{**_org(names, c), "reason": r} for c, r in requested.items()],
        "excluded_waived": bool(doc.get("excluded_waived")), "waived_reason": doc.get("excluded_waived_reason") or "",
        "selected": [{**_org(names, c), "order": i, "how": "必抽" if c in mandatory else "随机",
                      "group": strata.get(c, ""), "key": keys.get(c, "")} for i, c in enumerate(selected, 1)],
        "over_k": len(selected) > max(int(doc.get("k") or 0), len(mandatory)),
        "inspection": inspection, "inspection_rows": insp_rows,
        "series_draws": [{"file": s["file"], "label": s["label"], "seq": s["seq"], "reason": s["reason"],
                          "active": s["active"], "current": s["id"] == d["id"]} for s in series],
        "record_pretty": json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True),
        "audit_digest": d["audit_digest"] or "",
        "stored_digest": hashlib.sha256(d["record_text"].encode("utf-8")).hexdigest(),
    }


def _fmt(v: Any) -> str:
    from djctl.io.chart import format_number

    return "" if v is None else format_number(v)


def quarter_page(q: dict[str, Any]) -> dict[str, Any]:
    from djctl.io.chart import bar_chart_svg

    rows = [r for r in q["rows"] if r.score is not None]
    svg = bar_chart_svg([r.name for r in rows], [r.score for r in rows], max_value=100,
                        title=f"{q['period']} 各单位季度得分") if rows else ""
    return {"period": q["period"], "months": q["months"], "chart": svg,
            "rows": [{"rank": r.rank, "group_rank": r.group_rank, "unit": r.unit, "name": r.name, "group": r.group,
                      "rates": [_fmt(r.rates.get(m)) for m in q["months"]], "score": _fmt(r.score),
                      "checked": "、".join(r.checked), "false": "、".join(r.false), "missing": "、".join(r.missing)}
                     for r in q["rows"]]}


def ranking_page(rows: list[Any], year: int) -> dict[str, Any]:
    from djctl.io.chart import bar_chart_svg

    svg = bar_chart_svg([r.name for r in rows], [r.total.total for r in rows], title=f"{year} 年度各单位总分") if rows else ""
    return {"chart": svg, "rows": [{"rank": r.rank, "group_rank": r.group_rank, "unit": r.unit, "name": r.name,
                                    "group": r.group, "daily": _fmt(r.total.daily),
                                    "democratic": _fmt(r.total.democratic), "bonus": _fmt(r.total.bonus_capped),
                                    "deduction": _fmt(r.total.deduction_capped), "total": _fmt(r.total.total),
                                    "grade": r.grade} for r in rows]}


# ---------------------------------------------------------------------- rendering


def _templates() -> dict[str, str]:
    from djctl.resources import template_path

    base = template_path(PUBLISH_DIR)
    return {name: (base / name).read_text(encoding="utf-8") for name in TEMPLATES}


def verifier_source() -> str:
    from djctl.resources import template_path

    text = (template_path(PUBLISH_DIR) / "verify.js").read_text(encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError("verify.js must not contain </script or <!--")
    return text


def _render(sources: dict[str, str], name: str, ctx: dict[str, Any]) -> bytes:
    from jinja2 import DictLoader

    from djctl.io.render import make_sandbox

    env = make_sandbox("html")  # sandboxed, autoescaped, with its own budget
    env.loader = DictLoader(sources)
    return env.get_template(name).render(**ctx).encode("utf-8")


def build_site(data: dict[str, Any], on_date: date) -> list[tuple[str, bytes]]:
    """Every page of the site as (file name, bytes); the same data and date give the same bytes."""
    from markupsafe import Markup

    from djctl.services.docs_common import cn_date

    sources = _templates()
    year = data["year"]
    common = {"year": year, "audit_head": data["audit_head"], "date": cn_date(on_date), "version": __version__}
    draws = data["draws"]
    for d in draws:
        d["file"] = safe_name("draw", d["kind"], d["period"], d["seq"])
    pages: list[tuple[str, bytes]] = []
    verifier = Markup(verifier_source())
    for d in draws:
        siblings = [s for s in draws if s["kind"] == d["kind"] and s["period"] == d["period"]]
        ctx = draw_page(d, data, siblings)
        pages.append((d["file"], _render(sources, "draw.html.j2", {**common, "d": ctx, "verifier": verifier})))
    quarters = [quarter_page(q) for q in data["quarters"]]
    for q in quarters:
        q["file"] = safe_name("quarter", q["period"])
        q["chart"] = Markup(q["chart"])  # built by djctl.io.chart, every label escaped there
        pages.append((q["file"], _render(sources, "quarter.html.j2", {**common, "q": q})))
    ranking = ranking_page(data["year_rows"], year) if data["year_rows"] else None
    if ranking:
        ranking["chart"] = Markup(ranking["chart"])
        pages.append(("ranking.html", _render(sources, "ranking.html.j2", {**common, "r": ranking})))
    pages.append(("negative-list.html", _render(sources, "negative.html.j2", {**common, "neg": data["negative"]})))
    kinds: dict[str, list[dict[str, Any]]] = {}
    for d in draws:
        doc = json.loads(d["record_text"])
        kinds.setdefault(d["kind"], []).append({
            "file": d["file"], "label": d["label"], "period": d["period"], "seq": d["seq"], "active": d["active"],
            "reason": d["reason"], "k": doc.get("k"), "n": len(doc.get("population") or []),
            "selected": len(doc.get("selected") or []), "inspected": bool(doc.get("inspection"))})
    order = {k: i for i, k in enumerate(KIND_CN)}  # spot checks first; a kind not known yet comes last
    index = {"kinds": [{"kind": k, "kind_cn": KIND_CN.get(k, k), "draws": v}
                       for k, v in sorted(kinds.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))],
             "quarters": [{"file": q["file"], "period": q["period"], "units": sum(1 for r in q["rows"] if r["score"])}
                          for q in quarters],
             "ranking": bool(ranking), "negative": data["negative"] is not None}
    pages.insert(0, ("index.html", _render(sources, "index.html.j2", {**common, "i": index})))
    return pages


def publish(store, year: int, out_dir: Path, on_date: date | None = None) -> PublishResult:
    """Read the store once, render the site and write it into `out_dir` (with a manifest of the files)."""
    from djctl import clock
    from djctl.io.outfile import inside, staged_dir, write_bytes

    day = on_date or clock.today()
    data = collect(store, year)
    pages = build_site(data, day)
    out_dir = Path(out_dir)
    files = []
    with staged_dir(out_dir, last="manifest.json") as stage:  # the whole site or nothing
        for name, body in pages:
            write_bytes(inside(stage.dir, name), body)
            files.append({"name": name, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)})
        manifest = {"year": data["year"], "djctl": __version__, "date": day.isoformat(),
                    "audit_head": data["audit_head"], "files": files}
        write_bytes(stage.dir / "manifest.json",
                    (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return PublishResult(data["year"], out_dir, data["audit_head"], files, len(data["draws"]))
