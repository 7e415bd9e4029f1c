"""The scripted year-end run (年终): check for gaps, then write every document of the year and a manifest.

It only reads the store (the audit head in the manifest is the state the documents were made from), so
running it twice with the same --date gives the same files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

from djctl import clock as _clock
from djctl import __version__
from djctl.domain.periods import Period, month_active, parse_year
from djctl.errors import ActionNeeded
from djctl.io.outfile import staged_dir, write_text
from djctl.services.docs_common import draws_for
from djctl.services.setup import load_scheme
from djctl.store import audit
from djctl.store.engine import Store
from djctl.store.tables import CheckReport, SelfReport, TaskList

FORMATS = ["docx", "md", "html", "xlsx"]


@dataclass
class Gap:
    kind: str
    message: str
    period: str = ""
    org: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "period": self.period, "org": self.org, "message": self.message}


@dataclass
class YearEndResult:
    year: int
    gaps: list[Gap]
    missing_reports: list[dict[str, str]]
    files: list[dict[str, Any]] = field(default_factory=list)
    manifest: Path | None = None
    written: bool = False


def find_gaps(session, y: Period) -> tuple[list[Gap], list[dict[str, str]]]:
    gaps: list[Gap] = []
    from djctl.services.scores import unit_rows

    units = unit_rows(session)  # light rows: code, name, active period
    lists = set(session.exec(select(TaskList.month).where(TaskList.active == True)))  # noqa: E712
    reports = {(u, m) for u, m in session.exec(select(SelfReport.unit_code, SelfReport.month)
                                               .where(SelfReport.active == True))}  # noqa: E712
    checks = {(u, m) for u, m in session.exec(select(CheckReport.unit_code, CheckReport.month)
                                              .where(CheckReport.active == True))}  # noqa: E712
    draws = {d.period: d for d in draws_for(session, "sample", y.months) if d.active}
    missing: list[dict[str, str]] = []
    for m in y.months:
        if m not in lists:
            gaps.append(Gap("tasks", f"{m} 没有任务清单", m))
            continue
        active = [u for u in units if month_active(m, u.active_from, u.active_to)]
        for u in active:
            if (u.code, m) not in reports:
                missing.append({"period": m, "unit": u.code, "name": u.name})
        d = draws.get(m)
        if d is None:
            gaps.append(Gap("draw", f"{m} 没有进行抽查抽签（djctl sample --month {m}）", m))
            continue
        for code in d.selected:
            if (code, m) in reports and (code, m) not in checks:
                gaps.append(Gap("check", f"{m} 抽中的 {code} 还没有导入核查表", m, code))
    from djctl.services.negative import is_built

    if not is_built(session, y.year):
        gaps.append(Gap("negative_list", f"{y.year} 年度负面清单尚未生成（djctl negative-list --year {y.year} --build）",
                        str(y.year)))
    from djctl.services.votes import votes_for_year

    votes = votes_for_year(session, y.year)
    for u in units:
        if any(month_active(m, u.active_from, u.active_to) for m in y.months) and u.code not in votes:
            gaps.append(Gap("votes", f"{u.code} {u.name} 没有 {y.year} 年度民主测评票", str(y.year), u.code))
    return gaps, missing


def run_year_end(store: Store, year: int, out_dir: Path, *, allow_gaps: bool = False, on_date: date | None = None,
                 templates: Path | None = None, doc_number_prefix: str | None = None) -> YearEndResult:
    """Check the year, give its documents their 发文字号 (one write transaction), then write the documents and
    the manifest from ONE snapshot of the store taken after that write.

    Every read of the documents (the gaps, the audit head, each document) happens inside `store.snapshot()`, so a
    write landing during the run is in none of the files and the manifest's head is the state they show.
    The files are written into a temporary folder beside `out_dir` and moved into place at the end: the
    output is whole or absent.
    """
    y = parse_year(str(year))
    with store.read() as uow:
        load_scheme(uow.session, y.year)
        gaps, missing = find_gaps(uow.session, y)
    if gaps and not allow_gaps:
        return YearEndResult(y.year, gaps, missing)
    day = on_date or _clock.today()
    numbers = number_documents(store, y.year, day)  # a write of its own; the snapshot below starts after it
    with store.snapshot() as uow:
        gaps, missing = find_gaps(uow.session, y)
        head_seq, head_hash = audit.head(uow.conn)
        result = YearEndResult(y.year, gaps, missing)
        with staged_dir(out_dir, last=MANIFEST) as stage:
            written = _write_documents(store, y.year, stage.dir, templates, day)
            manifest = {"year": y.year, "doc_numbers": numbers, "djctl": __version__, "date": day.isoformat(),
                        "store": store.describe(), "audit_head": {"seq": head_seq, "hash": head_hash},
                        "files": _file_entries(stage.dir, written),
                        "gaps": [g.to_json() for g in gaps], "missing_reports": missing}
            path = write_text(stage.dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    result.files, result.manifest, result.written = manifest["files"], out_dir / path.name, True
    return result


MANIFEST = "manifest.json"


def _write_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    from djctl.services.bulletin import write_bulletin
    from djctl.services.ranking_docs import write_ranking

    written: list[Path] = []
    for qi in range(1, 5):
        written += write_bulletin(store, f"{year}Q{qi}", formats=FORMATS, out_dir=out_dir / "季度通报",
                                  templates=templates, doc_number=None, on_date=day, remarks_path=None)
    written += write_ranking(store, year, formats=FORMATS, out_dir=out_dir, templates=templates,
                             doc_number=None, on_date=day)
    written += _tier_and_lookback_documents(store, year, out_dir, templates, day)
    written += _negative_list_documents(store, year, out_dir, templates, day)
    from djctl.services.people_docs import yearend_documents as people_documents

    written += people_documents(store, year, out_dir, templates, day)
    from djctl.io.zipnorm import normalize_zip

    for p in written:
        if p.suffix in (".docx", ".xlsx"):
            normalize_zip(p, day)
    return written


def _file_entries(root: Path, written: list[Path]) -> list[dict[str, Any]]:
    return [{"name": str(p.relative_to(root)), "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
             "bytes": p.stat().st_size} for p in sorted(written)]


def number_documents(store: Store, year: int, day: date) -> dict[str, str]:
    """Give every document this run issues its 发文字号 (scheme `documents.number_pattern`), in one write
    transaction with its audit event; a document numbered by an earlier run keeps its number."""
    from djctl.services.docnumbers import DocRef, assign_numbers
    from djctl.services.lookback import REPORT_KIND
    from djctl.services.lookback_report import has_draw

    docs = [DocRef("bulletin", f"{year}Q{i}", f"关于{year}年第{'一二三四'[i - 1]}季度市直机关党建工作考核情况的通报")
            for i in range(1, 5)]
    docs.append(DocRef("ranking", str(year), f"关于{year}年度市直机关党建工作考核结果的通报"))
    if has_draw(store, year):
        docs.append(DocRef(REPORT_KIND, str(year), f"关于{year}年度党支部分类定级“回头看”情况的通报"))
    docs.append(DocRef("negative_list", str(year), f"关于公布{year}年度负面清单的通知"))
    from djctl.services.debrief import has_debriefs

    with store.read() as uow:
        debriefs = has_debriefs(uow.session, year)
    if debriefs:
        docs.append(DocRef("debrief", str(year), f"关于{year}年度书记抓党建工作述职评议结果的通报"))
    docs.append(DocRef("eligibility", str(year), f"{year}年度评先评优资格审核情况"))
    with store.write() as uow:
        got = assign_numbers(uow, load_scheme(uow.session, year), docs, day)
    return {f"{kind}:{subject}": number for (kind, subject), number in got.items()}


def _tier_and_lookback_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    from djctl.services.lookback_report import yearend_documents as lookback_documents
    from djctl.services.tiers import tier_stats, write_stats_xlsx

    paths = [write_stats_xlsx(tier_stats(store, year, by="unit"), out_dir / f"{year}_支部分类定级统计.xlsx")]
    return paths + lookback_documents(store, year, out_dir, templates, day)


def _negative_list_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    from djctl.services.negative import stored, write_documents

    # entries put on the list by decision: those that stand on the documents' date
    return write_documents(store, stored(store, year, standing_on=day), FORMATS, out_dir, templates, on_date=day)


def require_no_gaps(result: YearEndResult) -> None:
    if result.gaps and not result.written:
        raise ActionNeeded(f"{result.year} 年度数据还有 {len(result.gaps)} 处缺口，未生成文书",
                           hint="补齐后重新运行；确需先出文书请加 --allow-gaps")
