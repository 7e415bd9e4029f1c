"""djctl benchmark: a province-sized year, every step measured against a raw baseline in the same run.

    python bench/run.py --units 5000 --tasks 20            # the full table (5,000 units, 1.2 M task scores)
    python bench/run.py --scale                            # 500, 1,000, 2,000 and 5,000 units, and the growth
    python bench/run.py --quick                            # tiny sizes: the smoke test of the test suite
    python bench/run.py --units 1000 --profile import      # the djctl side of one step under a profiler

It generates a fictional province (units, four branches each, a task list of --tasks tasks for each of
--months months), drives djctl through the year with its own services and commands, and prints one row
per step: djctl's time and peak memory, the raw baseline's time and peak memory measured in the same run,
their ratio and the target. The machines are noisy: only the ratios are meant to be compared, never the
seconds across runs.

Every measured side runs in a child process of its own, so its peak memory is the child's own peak
resident set size (`os.wait4`) and nothing one step leaves behind weighs on the next. Children are forked
from a parent that has imported djctl, openpyxl and Jinja once (`--spawn`: a fresh interpreter each
instead); a child times only the work (perf_counter), not its start-up or its imports. Against a noisy
machine the two sides are interleaved: the long steps (forms, import) alternate djctl and baseline over
--slices slices of the units and add the times up; the short steps (sample, score) alternate --repeats
rounds, each after one untimed warm-up run, and take the medians. The `--help` step times whole
processes (median of --help-runs, djctl and baseline alternating, started from a minimal interpreter so
that their peak RSS is their own).

Steps (djctl side / raw baseline side):
  help      `djctl --help` / `python -c "import typer"`
  forms     djctl.services.selfeval.write_forms for one month / openpyxl write-only of the same cells
  import    djctl.services.selfeval.import_forms of the filled forms / openpyxl read-only pass over them
  store     every task score of the year through the Core executemany path `selfeval import` uses
            (import_file and self_report rows, self_score rows, an audit event with the rows' digest)
            / sqlite3 executemany of the same self_score rows in one transaction
  score     djctl.services.annual.year_scores / one hand-written SQL aggregate with rank over the store
  sample    djctl.services.spotcheck_draw.draw_sample for a month / hashing the population with hashlib
  bulletin  the quarterly bulletin, all formats / Jinja render of the same table to Markdown
  year-end  djctl.services.yearend.run_year_end (every document of the year) / Jinja render of its tables
  total     the sum of the steps above / the sum of their baselines
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

YEAR = 2024
FORMATS = ["docx", "md", "html", "xlsx"]
NOTES = ("已按要求完成", "按计划推进，资料已归档", "完成，个别环节待完善", "基本完成")
KINDS = ("机关党委", "党总支", "党支部")
TIERS = ("未达标", "达标", "达标", "过硬", "示范")
DIMENSIONS = ("政治统领", "班子履职", "队伍建设", "内部管理", "制度落实", "基础保障", "功能发挥")
MEMORY_LIMIT_MB = 300
GROWTH_LIMIT = 11.0
SCALE_SIZES = (500, 1000, 2000, 5000)
QUICK_SCALE_SIZES = (10, 20)

# step name -> (what djctl does, raw baseline, ratio target or None = report only)
STEPS: dict[str, tuple[str, str, float | None]] = {
    "help": ("djctl --help start-up", 'python -c "import typer"', 1.5),
    "forms": ("write self-assessment forms", "openpyxl write-only, same cells", 0.3),
    "import": ("import filled forms", "openpyxl read-only pass, same files", 0.3),
    # the same djctl time against a second baseline, measured in the same slices (not added to the total)
    "import:calamine": ("import filled forms (as above)", "python-calamine pass, same files", 3.0),
    "store": ("store the year's task scores", "sqlite3 executemany, one transaction", 3.0),
    "score": ("score --year", "hand-written SQL aggregate + rank", 2.0),
    "sample": ("sample for a month", "hashlib over the population", 5.0),
    "bulletin": ("quarterly bulletin, all formats", "Jinja render of the table to Markdown", None),
    "year-end": ("year-end documents, all formats", "Jinja render of its tables to Markdown", None),
}
TOTAL = "total"
#: Rows that compare a step's djctl time with another baseline: left out of the total and the growth table.
EXTRA_ROWS = ("import:calamine",)
MEASURED = [s for s in STEPS if s not in EXTRA_ROWS]


@dataclass
class Config:
    units: int
    tasks: int
    months: int
    branches: int = 4  # per unit
    help_runs: int = 10
    repeats: int = 3  # rounds of the short steps (sample, score): median
    slices: int = 5  # the long steps (forms, import) alternate djctl and baseline over this many slices
    quick: bool = False

    @property
    def month_list(self) -> list[str]:
        return [f"{YEAR}-{m:02d}" for m in range(1, self.months + 1)]

    @property
    def sample_month(self) -> str:
        return self.month_list[1] if self.months > 1 else self.month_list[0]

    @property
    def scores(self) -> int:
        return self.units * self.tasks * self.months


@dataclass
class Side:
    seconds: float
    rss_mb: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    step: str
    djctl: Side
    base: Side

    @property
    def ratio(self) -> float:
        return self.djctl.seconds / self.base.seconds if self.base.seconds > 0 else float("inf")


# =========================================================================== generated province


def unit_code(i: int) -> str:
    return f"U{i:05d}"


Part = tuple[int, int]  # (k, K): the k-th of K slices of the units
WHOLE: Part = (0, 1)


def part_range(cfg: Config, part: Part) -> range:
    """Unit numbers (1-based) of slice k of K."""
    k, n = part
    return range(1 + k * cfg.units // n, 1 + (k + 1) * cfg.units // n)


def task_points_x10(n: int) -> list[int]:
    """n tasks whose points (tenths, so at most one decimal) add up to 100."""
    base, rest = divmod(1000, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


def score_x10(u: int, m: int, t: int, full_x10: int) -> int:
    """A deterministic self score in tenths: 60 %–100 % of the task's points, one decimal at most."""
    h = (u * 7919 + m * 104729 + t * 31337) % 9973
    return full_x10 * (60 + h % 41) // 100


def write_roster(path: Path, cfg: Config) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("单位")
    ws.append(["单位编码", "单位名称", "组织类型", "分组", "书记", "党员人数"])
    for i in range(1, cfg.units + 1):
        ws.append([unit_code(i), f"第{i}测试厅机关党委", KINDS[i % 3], f"第{i % 12 + 1}协作组", "张三", 20 + i % 200])
    ws = wb.create_sheet("支部")
    ws.append(["支部编码", "支部名称", "所属单位编码", "党员人数", "当前等次", "评定日期"])
    for i in range(1, cfg.units + 1):
        for j in range(1, cfg.branches + 1):
            ws.append([f"{unit_code(i)}B{j}", f"第{i}测试厅第{j}党支部", unit_code(i), 5 + (i + j) % 40,
                       TIERS[(i + j) % len(TIERS)], "2023-12-01"])
    wb.save(str(path))
    return path


def write_task_file(path: Path, cfg: Config) -> Path:
    lines = []
    for t, p10 in enumerate(task_points_x10(cfg.tasks), 1):
        lines += ["[[tasks]]", f'code = "T{t:02d}"', f'name = "月度重点任务第{t}项（测试）"',
                  f"points = {p10 // 10}.{p10 % 10}", f'dimension = "{DIMENSIONS[t % len(DIMENSIONS)]}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# =========================================================================== child side: djctl


def _open(path: Path):
    from djctl.store.engine import open_store

    return open_store(path)


def _copy(src: Path, dest: Path) -> Path:
    from djctl.store.engine import backup_sqlite

    for p in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm")):
        if p.exists():
            p.unlink()
    backup_sqlite(src, dest)
    return dest


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _median_of(n: int, before: Callable[[], Any] | None, fn: Callable[[Any], Any]) -> tuple[float, list[float]]:
    """Median seconds of n runs of fn(state), each after an untimed before() that makes its state."""
    times = []
    for _ in range(n):
        state = before() if before else None
        t = time.perf_counter()
        fn(state)
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def child_setup(cfg: Config, work: Path, part: Part = WHOLE) -> dict[str, Any]:
    """The province's store before any month: scheme, roster (units and branches), every month's tasks."""
    from djctl.services.roster import import_roster
    from djctl.services.setup import init_store
    from djctl.services.tasks import set_tasks

    roster = write_roster(work / "名册.xlsx", cfg)
    tasks = write_task_file(work / "tasks.toml", cfg)
    store = _open(work / "s0.db")
    try:
        init_store(store)
        t = time.perf_counter()
        rep = import_roster(store, roster, on_date=date(YEAR, 1, 1))
        roster_s = time.perf_counter() - t
        if rep.file.status != "imported":
            raise SystemExit(f"roster refused: {rep.file.to_json()}")
        for m in cfg.month_list:
            set_tasks(store, m, tasks, standing=False)
    finally:
        store.dispose()
    return {"roster_seconds": roster_s, "units": cfg.units, "branches": cfg.units * cfg.branches}


def _form_tasks(store, month: str):
    from djctl.domain.points import from_x100
    from djctl.io.selfeval_form import FormTask
    from djctl.services.tasks import list_tasks, require_list

    with store.read() as uow:
        tl = require_list(uow.session, month)
        tasks = [FormTask(t.code, t.name, t.dimension, from_x100(t.points_x100)) for t in list_tasks(uow.session, tl.id)]
    return tl.sha256, tasks


def child_forms(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    from djctl.services.selfeval import write_forms

    store = _open(work / "s0.db")
    out = work / "forms"
    if part[0] == 0:
        shutil.rmtree(out, ignore_errors=True)
    codes = None if part == WHOLE else [unit_code(i) for i in part_range(cfg, part)]
    try:
        secs, written = _timed(lambda: write_forms(store, cfg.month_list[0], out, units=codes))
    finally:
        store.dispose()
    assert len(written) == len(part_range(cfg, part)), (len(written), part)
    return Side(secs, 0, {"files": len(written), "bytes": sum(p.stat().st_size for p in written)})


def child_fill(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """Returned forms as units fill them (write_form with scores: the same layout and meta), untimed prep."""
    from djctl.domain.periods import parse_month
    from djctl.io.selfeval_form import form_filename, write_form

    month = cfg.month_list[0]
    store = _open(work / "s0.db")
    try:
        sha, tasks = _form_tasks(store, month)
    finally:
        store.dispose()
    out = work / "filled"
    shutil.rmtree(out, ignore_errors=True)
    label = parse_month(month).label
    t = time.perf_counter()
    for i in range(1, cfg.units + 1):
        scores = {}
        for ti, task in enumerate(tasks, 1):
            s10 = score_x10(i, 1, ti, int(task.points * 10))
            scores[task.code] = (Decimal(s10) / 10, NOTES[(i + ti) % len(NOTES)])
        code, name = unit_code(i), f"第{i}测试厅机关党委"
        write_form(out / form_filename(month, code, name), unit_code=code, unit_name=name, month=month,
                   month_label=label, task_hash=sha, tasks=tasks, scores=scores)
    return Side(time.perf_counter() - t, 0, {"files": cfg.units})


def _filled(cfg: Config, work: Path, part: Part) -> list[Path]:
    files = sorted((work / "filled").glob("*.xlsx"))  # by unit code (zero-padded): slice k is units of slice k
    r = part_range(cfg, part)
    files = files[r.start - 1:r.stop - 1]
    for f in files:  # the same warm page cache for djctl and the baseline
        f.read_bytes()
    return files


def child_import(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    from djctl.services.selfeval import import_forms

    files = _filled(cfg, work, part)
    db = _copy(work / "s0.db", work / "s_import.db") if part[0] == 0 else work / "s_import.db"
    store = _open(db)
    try:
        secs, results = _timed(lambda: import_forms(store, [work / "filled"] if part == WHOLE else files))
    finally:
        store.dispose()
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    if statuses != {"imported": len(files)}:
        bad = next((r for r in results if r.status != "imported"), None)
        raise SystemExit(f"import: {statuses}: {bad.path if bad else ''}: {bad.message if bad else ''}")
    return Side(secs, 0, {"files": len(results), "rows": sum(r.rows for r in results)})


def store_year_djctl(store, cfg: Config) -> int:
    """Every task score of the year, written the way `selfeval import` writes one form (`_store_form`):
    an import_file row and a self_report row with its total and month result (Core), the self_score rows through `djctl.store.bulk.insert_rows`
    (one executemany), and an audit event whose payload carries the digest of the rows (`rows_digest`), in
    one transaction per month rather than per file (the per-file cost is the import step's)."""
    from sqlalchemy import select

    from djctl.domain.scoring import month_result
    from djctl.services.scores import result_values
    from djctl.services.selfeval import SELF_SCORE
    from djctl.services.tasks import list_tasks, require_list
    from djctl.store.audit import actor, rows_digest
    from djctl.store.bulk import insert_rows
    from djctl.store.engine import now
    from djctl.store.tables import ImportFile, SelfReport

    imp_t, rep_t = ImportFile.__table__, SelfReport.__table__
    total = 0
    for mi, month in enumerate(cfg.month_list, 1):
        with store.write() as uow:
            tl = require_list(uow.session, month)
            tasks = [(t.code, t.points_x100 // 10) for t in list_tasks(uow.session, tl.id)]
            t, who = now(), actor()
            codes = [unit_code(i) for i in range(1, cfg.units + 1)]
            uow.conn.execute(imp_t.insert(), [
                {"kind": "selfeval", "path": f"{month}_{c}.xlsx", "subject": c, "period": month, "rows": len(tasks),
                 "sha256": hashlib.sha256(f"bench {month} {c}".encode()).hexdigest(), "active": True,
                 "actor": who, "created_at": t} for c in codes])
            imports = {s: i for s, i in uow.conn.execute(select(imp_t.c.subject, imp_t.c.id).where(
                imp_t.c.kind == "selfeval", imp_t.c.period == month, imp_t.c.active == True))}  # noqa: E712
            scores = [[score_x10(i, mi, ti, full10) * 10 for ti, (_, full10) in enumerate(tasks, 1)]
                      for i in range(1, cfg.units + 1)]
            totals = [sum(unit_scores) for unit_scores in scores]
            full_x100 = sum(full10 * 10 for _, full10 in tasks)
            uow.conn.execute(rep_t.insert(), [
                {"unit_code": c, "month": month, "task_list_id": tl.id, "import_id": imports[c], "active": True,
                 "created_at": t, "total_x100": totals[n], **result_values(month_result(totals[n], full_x100))}
                for n, c in enumerate(codes)])
            reports = {u: i for u, i in uow.conn.execute(select(rep_t.c.unit_code, rep_t.c.id).where(
                rep_t.c.month == month, rep_t.c.active == True))}  # noqa: E712
            report_ids = [reports[c] for c in codes]
            rows = [(report_ids[i - 1], code, scores[i - 1][ti - 1], NOTES[(i + ti) % len(NOTES)])
                    for i in range(1, cfg.units + 1) for ti, (code, _) in enumerate(tasks, 1)]
            insert_rows(uow.conn, SELF_SCORE, ("report_id", "task_code", "points_x100", "note"), rows)
            uow.audit("bench.selfeval", {"month": month, "reports": len(codes), "rows": len(rows),
                                         "rows_sha256": rows_digest(rows), "self_total_x100": sum(r[2] for r in rows)})
            total += len(rows)
    return total


def child_store(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    store = _open(_copy(work / "s0.db", work / "s_year.db"))
    try:
        secs, n = _timed(lambda: store_year_djctl(store, cfg))
    finally:
        store.dispose()
    assert n == cfg.scores, (n, cfg.scores)
    return Side(secs, 0, {"rows": n})


def draw_seed(month: str) -> str:
    return f"{month} 测试省福利彩票开奖号码 " + hashlib.sha256(month.encode()).hexdigest()[:12]


def child_draws(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """Untimed prep: the first month's draw, a copy for the sample step, then the other months' draws."""
    from djctl.services.spotcheck_draw import draw_sample

    store = _open(work / "s_year.db")
    try:
        draw_sample(store, cfg.month_list[0], seed=draw_seed(cfg.month_list[0]))
    finally:
        store.dispose()
    _copy(work / "s_year.db", work / "s_draw.db")
    store = _open(work / "s_year.db")
    try:
        for m in cfg.month_list[1:]:
            draw_sample(store, m, seed=draw_seed(m))
        if cfg.months == 12:  # the year-end needs the year's negative list (empty here: no checks, no look-backs)
            from djctl.services.negative import build

            build(store, YEAR)
    finally:
        store.dispose()
    return Side(0, 0)


def child_sample(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """The draw of one month on a fresh copy of the store. A first, untimed draw on another copy warms
    the process: SQLAlchemy configures its mappers and compiles its statements once per process."""
    from djctl.services.spotcheck_draw import draw_sample

    month = cfg.sample_month

    def fresh():
        return _open(_copy(work / "s_draw.db", work / "s_sample.db"))

    def run(store):
        try:
            return draw_sample(store, month, seed=draw_seed(month))
        finally:
            store.dispose()

    cold, _ = _median_of(1, fresh, run)
    secs, _ = _median_of(1, fresh, run)
    return Side(secs, 0, {"cold": cold})


def child_score(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """year_scores, the service of `djctl score --year --json`, warm (one untimed run first)."""
    from djctl.services.annual import year_scores

    store = _open(work / "s_year.db")
    try:
        cold, _ = _timed(lambda: year_scores(store, YEAR))
        secs, doc = _timed(lambda: year_scores(store, YEAR))
    finally:
        store.dispose()
    return Side(secs, 0, {"rows": len(doc["rows"]), "cold": cold})


def child_bulletin(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    from djctl.services.bulletin import write_bulletin

    out = work / "bulletin"
    shutil.rmtree(out, ignore_errors=True)
    store = _open(work / "s_year.db")
    try:
        secs, files = _timed(lambda: write_bulletin(store, f"{YEAR}Q1", formats=FORMATS, out_dir=out, templates=None,
                                                    doc_number=None, on_date=date(YEAR, 4, 10), remarks_path=None))
    finally:
        store.dispose()
    return Side(secs, 0, {"files": [p.name for p in files], "bytes": sum(p.stat().st_size for p in files)})


def child_yearend(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    from djctl.services.yearend import run_year_end

    out = work / "year-end"
    shutil.rmtree(out, ignore_errors=True)
    store = _open(work / "s_year.db")
    try:
        secs, result = _timed(lambda: run_year_end(store, YEAR, out, allow_gaps=True, on_date=date(YEAR + 1, 1, 15)))
    finally:
        store.dispose()
    return Side(secs, 0, {"files": len(result.files), "bytes": sum(f["bytes"] for f in result.files),
                          "gaps": len(result.gaps)})


# =========================================================================== child side: raw baselines


def base_forms(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """The same cells as djctl's forms (title, header block, instructions, task table, meta sheet),
    written by openpyxl write-only with no styles, validation or protection."""
    from openpyxl import Workbook

    from djctl.domain.periods import parse_month
    from djctl.io.selfeval_form import COLUMNS, INSTRUCTIONS

    month = cfg.month_list[0]
    store = _open(work / "s0.db")
    try:
        sha, tasks = _form_tasks(store, month)
    finally:
        store.dispose()
    label = parse_month(month).label
    out = work / "forms-raw"
    if part[0] == 0:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(exist_ok=True)
    headers = [c.name for c in COLUMNS]
    units = part_range(cfg, part)

    def write_all() -> None:
        for i in units:
            code, name = unit_code(i), f"第{i}测试厅机关党委"
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("自评表")
            ws.append([f"{label}党建工作月度自评表"])
            ws.append(["单位编码", code, "单位名称", name])
            ws.append(["月份", month])
            ws.append([INSTRUCTIONS])
            ws.append([])
            ws.append(headers)
            for n, t in enumerate(tasks, 1):
                ws.append([n, t.code, t.name, t.dimension, float(t.points), None, None])
            meta = wb.create_sheet("_djctl")
            for k, v in (("kind", "selfeval"), ("unit", code), ("month", month), ("task_hash", sha)):
                meta.append([k, v])
            wb.save(str(out / f"{month}_{code}.xlsx"))

    secs, _ = _timed(write_all)
    return Side(secs, 0, {"files": len(units)})


def base_import(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    import openpyxl

    files = _filled(cfg, work, part)

    def read_all() -> int:
        cells = 0
        for f in files:
            wb = openpyxl.load_workbook(f, read_only=True)
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True):
                    cells += len(row)
            wb.close()
        return cells

    secs, cells = _timed(read_all)
    return Side(secs, 0, {"files": len(files), "cells": cells})


def base_import_calamine(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """Every sheet of the same files read by python-calamine (Rust), values only."""
    from python_calamine import CalamineWorkbook

    files = _filled(cfg, work, part)

    def read_all() -> int:
        cells = 0
        for f in files:
            wb = CalamineWorkbook.from_path(str(f))
            for name in wb.sheet_names:
                for row in wb.get_sheet_by_name(name).to_python():
                    cells += len(row)
        return cells

    secs, cells = _timed(read_all)
    return Side(secs, 0, {"files": len(files), "cells": cells})


def has_calamine() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def base_store(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    """sqlite3 executemany of the same self_score rows, one transaction, the store's DDL and pragmas."""
    import sqlite3

    src = sqlite3.connect(str(work / "s0.db"))
    ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'self_score' AND sql IS NOT NULL "
                                     "ORDER BY type DESC")]
    tasks = [(c, p // 10) for c, p in src.execute(
        "SELECT t.code, t.points_x100 FROM task t JOIN task_list l ON l.id = t.task_list_id "
        "WHERE l.month = ? AND l.active = 1 ORDER BY t.seq", (cfg.month_list[0],))]
    src.close()
    path = work / "raw_store.db"
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            p.unlink()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for stmt in ddl:
        conn.execute(stmt)

    def insert() -> int:
        n = 0
        conn.execute("BEGIN")
        for mi, _month in enumerate(cfg.month_list, 1):
            first = (mi - 1) * cfg.units
            rows = [(first + i, code, score_x10(i, mi, ti, full10) * 10, NOTES[(i + ti) % len(NOTES)])
                    for i in range(1, cfg.units + 1) for ti, (code, full10) in enumerate(tasks, 1)]
            conn.executemany("INSERT INTO self_score (report_id, task_code, points_x100, note) VALUES (?, ?, ?, ?)", rows)
            n += len(rows)
        conn.execute("COMMIT")
        return n

    secs, n = _timed(insert)
    conn.close()
    assert n == cfg.scores
    return Side(secs, 0, {"rows": n})


def base_sample(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    import sqlite3

    conn = sqlite3.connect(str(work / "s_draw.db"))
    codes = [c for (c,) in conn.execute("SELECT code FROM unit")]
    conn.close()
    month = cfg.sample_month
    seed, label = draw_seed(month), f"sample:{month}"
    k = max(1, -(-len(codes) * 2 // 10))

    def draw(_: Any) -> list[str]:
        population = sorted(codes)
        hashlib.sha256("\n".join(population).encode("utf-8")).hexdigest()
        keys = {c: hashlib.sha256(f"{seed}\x1f{label}\x1f{c}".encode("utf-8")).hexdigest() for c in population}
        return sorted(population, key=lambda c: (keys[c], c))[:k]

    cold, _ = _median_of(1, None, draw)
    secs, _ = _median_of(1, None, draw)
    return Side(secs, 0, {"cold": cold})


SCORE_SQL = """
WITH full AS (SELECT task_list_id AS id, SUM(points_x100) AS pts FROM task GROUP BY task_list_id),
     monthly AS (
       SELECT r.unit_code AS unit, SUM(s.points_x100) * 100.0 / f.pts AS rate
       FROM self_report r JOIN self_score s ON s.report_id = r.id JOIN full f ON f.id = r.task_list_id
       WHERE r.active = 1 AND r.month BETWEEN ? AND ?
       GROUP BY r.id)
SELECT unit, AVG(rate) AS daily, RANK() OVER (ORDER BY ROUND(AVG(rate), 2) DESC) AS rank
FROM monthly GROUP BY unit ORDER BY rank, unit
"""


def base_score(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    import sqlite3

    conn = sqlite3.connect(str(work / "s_year.db"))
    args = (f"{YEAR}-01", f"{YEAR}-12")
    try:
        cold, _ = _timed(lambda: conn.execute(SCORE_SQL, args).fetchall())  # warm the page cache
        secs, rows = _timed(lambda: conn.execute(SCORE_SQL, args).fetchall())
    finally:
        conn.close()
    return Side(secs, 0, {"rows": len(rows), "cold": cold})


MD_TEMPLATE = """# {{ title }}

{% for t in tables %}## {{ t.caption }}

| {{ t.columns|join(' | ') }} |
|{% for c in t.columns %}---|{% endfor %}
{% for r in t.rows %}| {{ r|join(' | ') }} |
{% endfor %}
{% endfor %}"""


def _raw_tables(conn, months_per_table: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """Ranking tables (unit, group, monthly rates, mean) computed with plain SQL, untimed."""
    names = {c: (n, g) for c, n, g in conn.execute("SELECT code, name, group_name FROM unit")}
    rates: dict[tuple[str, str], float] = {}
    for unit, month, rate in conn.execute(
            "WITH full AS (SELECT task_list_id AS id, SUM(points_x100) AS pts FROM task GROUP BY task_list_id) "
            "SELECT r.unit_code, r.month, SUM(s.points_x100) * 100.0 / f.pts FROM self_report r "
            "JOIN self_score s ON s.report_id = r.id JOIN full f ON f.id = r.task_list_id WHERE r.active = 1 "
            "GROUP BY r.id"):
        rates[(unit, month)] = rate
    tables = []
    for caption, months in months_per_table:
        rows = []
        for code, (name, group) in names.items():
            vals = [rates.get((code, m), 0.0) for m in months]
            rows.append([name, group, *[f"{v:.2f}" for v in vals], round(sum(vals) / len(vals), 2)])
        rows.sort(key=lambda r: -r[-1])
        tables.append({"caption": caption, "columns": ["名次", "单位", "分组", *[m[5:] + "月" for m in months], "得分"],
                       "rows": [[i, *r[:-1], f"{r[-1]:.2f}"] for i, r in enumerate(rows, 1)]})
    return tables


def _jinja_md(tables: list[dict[str, Any]], title: str, path: Path) -> float:
    import jinja2

    env = jinja2.Environment(autoescape=False)

    def render() -> None:
        path.write_text(env.from_string(MD_TEMPLATE).render(title=title, tables=tables), encoding="utf-8")

    secs, _ = _timed(render)
    return secs


def _quarters(cfg: Config) -> list[list[str]]:
    ms = cfg.month_list
    return [ms[i:i + 3] for i in range(0, len(ms), 3)]


def base_bulletin(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    import sqlite3

    conn = sqlite3.connect(str(work / "s_year.db"))
    tables = _raw_tables(conn, [("第一季度得分与排名", _quarters(cfg)[0])])
    conn.close()
    return Side(_jinja_md(tables, "第一季度考核情况通报", work / "bulletin-raw.md"), 0,
                {"rows": len(tables[0]["rows"])})


def base_yearend(cfg: Config, work: Path, part: Part = WHOLE) -> Side:
    import sqlite3

    conn = sqlite3.connect(str(work / "s_year.db"))
    spec = [(f"第{i + 1}季度得分与排名", q) for i, q in enumerate(_quarters(cfg))] + [("年度得分与排名", cfg.month_list)]
    tables = _raw_tables(conn, spec)
    conn.close()
    secs = 0.0
    for i, t in enumerate(tables):
        secs += _jinja_md([t], t["caption"], work / f"year-end-raw-{i}.md")
    return Side(secs, 0, {"tables": len(tables)})


CHILDREN: dict[str, Callable[[Config, Path], Any]] = {
    "setup": child_setup, "fill": child_fill, "draws": child_draws,
    "forms": child_forms, "import": child_import, "store": child_store, "sample": child_sample,
    "score": child_score, "bulletin": child_bulletin, "year-end": child_yearend,
    "base:forms": base_forms, "base:import": base_import, "base:import:calamine": base_import_calamine,
    "base:store": base_store, "base:sample": base_sample,
    "base:score": base_score, "base:bulletin": base_bulletin, "base:year-end": base_yearend,
}


def child_main(name: str, work: Path, profile: bool, part: Part = WHOLE) -> int:
    os.environ.setdefault("DJCTL_USER", "bench")
    cfg = Config(**json.loads((work / "config.json").read_text(encoding="utf-8")))
    fn = CHILDREN[name]
    if profile:
        out = _profiled(lambda: fn(cfg, work, part))
    else:
        out = fn(cfg, work, part)
    doc = asdict(out) if isinstance(out, Side) else {"seconds": 0.0, "rss_mb": 0.0, "detail": out}
    print("@@" + json.dumps(doc, ensure_ascii=False))
    return 0


def _profiled(fn: Callable[[], Any]) -> Any:
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        prof = Profiler()
        prof.start()
        out = fn()
        prof.stop()
        print(prof.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
        return out
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    out = fn()
    prof.disable()
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(25)
        print(f"\n--- cProfile by {key} ---\n" + buf.getvalue().split("\n", 4)[-1].rstrip(), file=sys.stderr)
    return out


# =========================================================================== parent side


class ChildFailed(RuntimeError):
    pass


SLICED = ("forms", "import")
ROUNDS = ("sample", "score")


def _combine(sides: list[Side], how: Callable[[list[float]], float]) -> Side:
    """One side of a step from its slices (how=sum) or rounds (how=median); the peak is the largest."""
    detail: dict[str, Any] = {"runs": [x.seconds for x in sides]}
    for key in ("files", "rows", "bytes", "cells"):
        if all(key in x.detail for x in sides):
            detail[key] = sum(x.detail[key] for x in sides) if how is sum else sides[0].detail[key]
    if all("cold" in x.detail for x in sides):
        detail["cold"] = statistics.median([x.detail["cold"] for x in sides])
    return Side(how([x.seconds for x in sides]), max(x.rss_mb for x in sides), detail)


def run_process(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str, str]:
    """(wall seconds, peak RSS MB, exit code, stdout, stderr) of one child process, via os.wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=str(ROOT))
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (wall, usage.ru_maxrss / 1024, p.returncode, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"))


def run_child(name: str, work: Path, *, profile: bool = False, spawn: bool = False, part: Part = WHOLE,
              log: Callable[[str], None]) -> Side:
    """Run one side of a step in a child process of its own; its peak RSS comes from os.wait4."""
    if spawn or not hasattr(os, "fork"):
        return _spawned(name, work, profile, part, log)
    return _forked(name, work, profile, part)


PRELOAD = ("sqlalchemy", "sqlmodel", "openpyxl", "openpyxl.styles", "openpyxl.worksheet.datavalidation", "jinja2",
           "djctl.store.engine", "djctl.services.selfeval", "djctl.services.annual", "djctl.services.spotcheck_draw",
           "djctl.services.bulletin", "djctl.services.yearend", "djctl.services.roster", "djctl.services.setup",
           "djctl.services.tasks", "djctl.io.render")


def preload() -> None:
    """Import once in the parent what every forked child needs (children then start in milliseconds)."""
    import importlib

    for mod in PRELOAD:
        importlib.import_module(mod)


def _forked(name: str, work: Path, profile: bool, part: Part) -> Side:
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, write the result, never return into the parent's code
        os.close(r)
        code = 0
        try:
            os.environ["DJCTL_USER"] = "bench"
            os.environ.pop("DJCTL_DB", None)
            cfg = Config(**json.loads((work / "config.json").read_text(encoding="utf-8")))
            fn = CHILDREN[name]
            out = _profiled(lambda: fn(cfg, work, part)) if profile else fn(cfg, work, part)
            doc = asdict(out) if isinstance(out, Side) else {"seconds": 0.0, "rss_mb": 0.0, "detail": out}
        except BaseException:  # noqa: BLE001 - reported to the parent
            import traceback

            doc, code = {"error": traceback.format_exc()}, 1
        try:
            with os.fdopen(w, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(doc, ensure_ascii=False))
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, encoding="utf-8") as fh:
        data = fh.read()
    _, status, usage = os.wait4(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    doc = json.loads(data) if data else {"error": f"no result (exit {rc})"}
    if rc != 0 or "error" in doc:
        raise ChildFailed(f"step {name} failed (exit {rc}):\n{doc.get('error', '')[-4000:]}")
    return Side(doc["seconds"], usage.ru_maxrss / 1024, doc.get("detail", {}))


def _spawned(name: str, work: Path, profile: bool, part: Part, log: Callable[[str], None]) -> Side:
    args = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--work", str(work),
            "--part", f"{part[0]}/{part[1]}"]
    if profile:
        args.append("--child-profile")
    env = dict(os.environ, DJCTL_USER="bench", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("DJCTL_DB", None)
    wall, rss, rc, out, err = run_process(args, env)
    if profile and err.strip():
        log(err.rstrip())
    if rc != 0:
        raise ChildFailed(f"step {name} failed (exit {rc}):\n{err[-4000:]}")
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith("@@")), None)
    if line is None:
        raise ChildFailed(f"step {name} printed no result:\n{out[-2000:]}\n{err[-2000:]}")
    doc = json.loads(line[2:])
    return Side(doc["seconds"], rss, {**doc.get("detail", {}), "wall": wall})


def djctl_command() -> list[str]:
    script = Path(sys.executable).parent / "djctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "djctl"]


def measure_help(cfg: Config, work: Path) -> StepResult:
    """Whole processes, djctl and baseline alternating; the median of each, the peak RSS of each.

    The runs are started by a small intermediate interpreter (`--time-commands`): Linux carries a parent's
    peak RSS into a child it forks, so children of this (large) process would all report its size.
    Byte-code caching is on (in a cache under the work directory), as it is for an installed djctl, even
    where PYTHONDONTWRITEBYTECODE is set; one untimed run of each warms the cache.
    """
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(work / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("DJCTL_DB", None)
    cmd_d = djctl_command() + ["--help"]
    cmd_b = [sys.executable, "-c", "import typer"]
    payload = json.dumps({"commands": [cmd_d, cmd_b], "runs": cfg.help_runs})
    _wall, _rss, rc, out, err = run_process([sys.executable, "-S", "-c", TIME_COMMANDS, payload], env)
    if rc != 0:
        raise ChildFailed(f"djctl --help / import typer failed (exit {rc}): {err[-2000:]}")
    (d_times, d_cpu, d_rss), (b_times, b_cpu, b_rss) = json.loads(out.strip().splitlines()[-1])
    return StepResult("help", Side(statistics.median(d_times), d_rss,
                                   {"runs": d_times, "cpu": statistics.median(d_cpu), "command": " ".join(cmd_d)}),
                      Side(statistics.median(b_times), b_rss, {"runs": b_times, "cpu": statistics.median(b_cpu)}))


# The intermediate interpreter of the --help step: as small as Python gets (-S, four modules), so that the
# peak RSS its children inherit from it is below their own. Runs each command once untimed, then `runs`
# times alternating; prints [[wall seconds...], [cpu seconds...], peak MB] per command.
TIME_COMMANDS = """
import json, os, subprocess, sys, time
doc = json.loads(sys.argv[1])
out = [[[], [], 0.0] for _ in doc["commands"]]
for rnd in range(doc["runs"] + 1):
    for i, cmd in enumerate(doc["commands"]):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.stderr.write(" ".join(cmd) + " failed: " + err.decode("utf-8", "replace")[-2000:])
            sys.exit(1)
        if rnd:
            out[i][0].append(wall)
            out[i][1].append(ru.ru_utime + ru.ru_stime)
            out[i][2] = max(out[i][2], ru.ru_maxrss / 1024)
print(json.dumps(out))
"""


def _log(msg: str, _t0: list[float] = []) -> None:  # noqa: B006 - the start time, set on first use
    if not _t0:
        _t0.append(time.perf_counter())
    print(f"[{time.perf_counter() - _t0[0]:7.1f} s] {msg}", file=sys.stderr, flush=True)


def run_year(cfg: Config, work: Path, *, profile: str | None = None, spawn: bool = False,
             only: list[str] | None = None, log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Build the province and measure every step; returns the results document."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.json").write_text(json.dumps(asdict(cfg)), encoding="utf-8")
    results: list[StepResult] = []
    extras: list[StepResult] = []
    prep: dict[str, float] = {}

    def step(name: str) -> None:
        if name in SLICED:  # long steps: djctl and baseline alternate over slices of the units, times add up
            n = max(1, min(cfg.slices, cfg.units))
            pairs = []
            extra = [e for e in EXTRA_ROWS if e.split(":")[0] == name and (e != "import:calamine" or has_calamine())]
            for k in range(n):
                log(f"  {name}: slice {k + 1}/{n}: raw baseline{''.join(', ' + e for e in extra)}, djctl …")
                pairs.append((run_child(f"base:{name}", work, spawn=spawn, part=(k, n), log=log),
                              run_child(name, work, profile=profile == name, spawn=spawn, part=(k, n), log=log),
                              *[run_child(f"base:{e}", work, spawn=spawn, part=(k, n), log=log) for e in extra]))
            base, d = (_combine([p[i] for p in pairs], sum) for i in (0, 1))
            for i, e in enumerate(extra, start=2):
                extras.append(StepResult(e, d, _combine([p[i] for p in pairs], sum)))
        elif name in ROUNDS:  # short steps: alternate rounds, the median of each side
            pairs = []
            for k in range(max(1, cfg.repeats)):
                log(f"  {name}: round {k + 1}/{max(1, cfg.repeats)}: raw baseline, djctl …")
                pairs.append((run_child(f"base:{name}", work, spawn=spawn, log=log),
                              run_child(name, work, profile=profile == name and k == 0, spawn=spawn, log=log)))
            base, d = (_combine([p[i] for p in pairs], statistics.median) for i in (0, 1))
        else:
            log(f"  {name}: raw baseline, djctl …")
            base = run_child(f"base:{name}", work, spawn=spawn, log=log)
            d = run_child(name, work, profile=profile == name, spawn=spawn, log=log)
        r = StepResult(name, d, base)
        results.append(r)
        results.extend(extras)
        extras.clear()
        log(f"  {name}: djctl {d.seconds:.3f} s, baseline {base.seconds:.3f} s, ratio {r.ratio:.2f}, "
            f"peak {d.rss_mb:.0f} MB")

    def prepare(name: str) -> None:
        log(f"  prepare: {name} …")
        t = time.perf_counter()
        run_child(name, work, spawn=spawn, log=log)
        prep[name] = time.perf_counter() - t

    t0 = time.perf_counter()
    log(f"province: {cfg.units} units, {cfg.units * cfg.branches} branches, {cfg.tasks} tasks × {cfg.months} months "
        f"= {cfg.scores} task scores ({work})")
    want = set(only or MEASURED)
    if "help" in want:
        log("  help: djctl --help and python -c 'import typer' …")
        results.append(measure_help(cfg, work))
    prepare("setup")
    if "forms" in want:
        step("forms")
    if "import" in want:
        prepare("fill")
        step("import")
    if want & {"store", "sample", "score", "bulletin", "year-end"}:
        step("store") if "store" in want else prepare("store")
        prepare("draws")
    for name in ("sample", "score", "bulletin", "year-end"):
        if name not in want:
            continue
        if name == "year-end" and cfg.months != 12:
            log("  year-end: skipped (it needs all 12 months; --months is less)")
            continue
        step(name)
    return {"config": asdict(cfg), "steps": results, "prep_seconds": prep, "elapsed": time.perf_counter() - t0}


# =========================================================================== presenting


def _fmt_s(s: float) -> str:
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def table_rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    steps: list[StepResult] = doc["steps"]
    quick = doc["config"].get("quick", False)
    for r in steps:
        label, base_label, target = STEPS[r.step]
        ok = ""
        if quick:
            ok = "n/a"
        elif target is not None:
            ok = "ok" if r.ratio <= target else "MISS"
        mem_ok = r.djctl.rss_mb <= MEMORY_LIMIT_MB
        rows.append([r.step, label, _fmt_s(r.djctl.seconds), f"{r.djctl.rss_mb:.0f}", base_label,
                     _fmt_s(r.base.seconds), f"{r.base.rss_mb:.0f}", f"{r.ratio:.2f}",
                     f"≤ {target:g}" if target is not None else "report",
                     (ok + ("" if mem_ok else " MEM")).strip() or "-"])
    counted = [r for r in steps if r.step not in EXTRA_ROWS]
    d_total = sum(r.djctl.seconds for r in counted)
    b_total = sum(r.base.seconds for r in counted)
    peak = max(r.djctl.rss_mb for r in steps)
    rows.append([TOTAL, "whole year-end: sum of the steps", _fmt_s(d_total), f"{peak:.0f}",
                 "sum of the baselines", _fmt_s(b_total), f"{max(r.base.rss_mb for r in steps):.0f}",
                 f"{d_total / b_total:.2f}", "report", "ok" if peak <= MEMORY_LIMIT_MB else "MEM"])
    return rows


HEADERS = ["step", "djctl does", "djctl s", "peak MB", "raw baseline", "base s", "base MB", "ratio", "target", "ok"]


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    from unicodedata import east_asian_width

    def w(s: str) -> int:
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in s)

    widths = [max(w(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    right = {i for i, h in enumerate(headers) if h.endswith((" s", "MB", "ratio")) or h in ("growth",)
             or h.isdigit()}

    def line(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            pad = " " * (widths[i] - w(str(c)))
            out.append(pad + str(c) if i in right else str(c) + pad)
        return "| " + " | ".join(out) + " |"

    sep = "|" + "|".join("-" * (x + 2) for x in widths) + "|"
    return "\n".join([line(headers), sep, *[line(r) for r in rows]])


def print_year(doc: dict[str, Any]) -> None:
    cfg = doc["config"]
    print(f"\n## {cfg['units']} units · {cfg['units'] * cfg['branches']} branches · {cfg['tasks']} tasks × "
          f"{cfg['months']} months = {cfg['units'] * cfg['tasks'] * cfg['months']:,} task scores\n")
    print(render_table(HEADERS, table_rows(doc)))
    prep = ", ".join(f"{k} {v:.1f} s" for k, v in doc["prep_seconds"].items())
    print(f"\nuntimed preparation (wall, child processes): {prep}; whole run {doc['elapsed']:.0f} s")
    if cfg.get("quick"):
        print("quick mode: a smoke test at tiny sizes, where fixed costs dominate; the targets are not judged")
    else:
        print(f"targets (set for 5,000 units; at smaller sizes fixed costs weigh more): ratio as shown, peak memory "
              f"of any step ≤ {MEMORY_LIMIT_MB} MB; MISS / MEM mark a missed target")


def print_scale(docs: list[dict[str, Any]]) -> None:
    sizes = [d["config"]["units"] for d in docs]
    headers = ["step", *[str(s) for s in sizes], f"growth {sizes[0]}→{sizes[-1]}", "target", "ok"]
    rows = []
    names = [r.step for r in docs[0]["steps"] if r.step not in EXTRA_ROWS] + [TOTAL]
    limit = GROWTH_LIMIT * (sizes[-1] / sizes[0]) / 10  # 11× for 10× the units
    for name in names:
        times = []
        for d in docs:
            if name == TOTAL:
                times.append(sum(r.djctl.seconds for r in d["steps"] if r.step not in EXTRA_ROWS))
            else:
                times.append(next(r.djctl.seconds for r in d["steps"] if r.step == name))
        growth = times[-1] / times[0] if times[0] > 0 else float("inf")
        rows.append([name, *[_fmt_s(t) for t in times], f"{growth:.2f}×", f"≤ {limit:g}×",
                     "ok" if growth <= limit else "MISS"])
    ratio_rows = []
    for name in [r.step for r in docs[0]["steps"]]:
        ratios = [next(r.ratio for r in d["steps"] if r.step == name) for d in docs]
        ratio_rows.append([name, *[f"{x:.2f}" for x in ratios]])
    mem_rows = []
    for name in [r.step for r in docs[0]["steps"]]:
        mems = [next(r.djctl.rss_mb for r in d["steps"] if r.step == name) for d in docs]
        mem_rows.append([name, *[f"{x:.0f}" for x in mems]])
    print(f"\n## growth of djctl's time with the number of units ({', '.join(str(s) for s in sizes)})\n")
    print(render_table(headers, rows))
    print("\nratio to the raw baseline at each size\n")
    print(render_table(["step", *[str(s) for s in sizes]], ratio_rows))
    print("\npeak memory (MB) at each size\n")
    print(render_table(["step", *[str(s) for s in sizes]], mem_rows))


def to_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {"config": doc["config"], "elapsed": doc["elapsed"], "prep_seconds": doc["prep_seconds"],
            "steps": [{"step": r.step, "djctl": asdict(r.djctl), "baseline": asdict(r.base), "ratio": r.ratio,
                       "target": STEPS[r.step][2]} for r in doc["steps"]]}


# =========================================================================== entry point


def installed_bytecode(root: Path) -> None:
    """Byte-code caching on for this run and every process it starts (djctl's read workers too), in a cache
    under the work directory, as it is for an installed djctl (pip compiles it), even where
    PYTHONDONTWRITEBYTECODE is set: otherwise each worker compiles djctl's sources at its start."""
    os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix = str(root / "pycache")
    sys.dont_write_bytecode = False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=5000, help="units in the province (default 5000)")
    ap.add_argument("--tasks", type=int, default=20, help="tasks a month (default 20)")
    ap.add_argument("--months", type=int, default=12, help="months of the year with tasks and scores (default 12)")
    ap.add_argument("--branches", type=int, default=4, help="branches per unit (default 4)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (10 units, 3 tasks, 12 months): a smoke test")
    ap.add_argument("--scale", action="store_true", help="run at 500, 1000, 2000 and 5000 units and show the growth")
    ap.add_argument("--sizes", type=str, default=None, help="with --scale: comma-separated unit counts")
    ap.add_argument("--help-runs", type=int, default=None, help="runs of djctl --help and of the baseline (default 10)")
    ap.add_argument("--repeats", type=int, default=None, help="rounds of the short steps, median taken (default 3)")
    ap.add_argument("--slices", type=int, default=None, help="slices of the long steps, interleaved (default 5)")
    ap.add_argument("--profile", metavar="STEP", choices=[s for s in STEPS if s != "help" and s not in EXTRA_ROWS], default=None,
                    help="run the djctl side of STEP under pyinstrument (or cProfile) and print the profile")
    ap.add_argument("--steps", default=None,
                    help=f"comma-separated steps to measure (default all: {','.join(MEASURED)}); preparation as needed")
    ap.add_argument("--spawn", action="store_true",
                    help="run each side in a fresh interpreter instead of a forked child (slower start, same figures)")
    ap.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it")
    ap.add_argument("--json", type=Path, default=None, dest="json_out", help="also write the results as JSON here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--part", default="0/1", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        k, n = (int(x) for x in args.part.split("/"))
        return child_main(args.child, args.work, args.child_profile, (k, n))

    if args.quick:
        base = Config(units=10, tasks=3, months=12, branches=2, help_runs=1, repeats=1, slices=2, quick=True)
        if any(a.startswith("--units") for a in (argv or sys.argv[1:])):
            base.units = args.units
    else:
        base = Config(units=args.units, tasks=args.tasks, months=args.months, branches=args.branches)
    if args.help_runs:
        base.help_runs = args.help_runs
    if args.repeats:
        base.repeats = args.repeats
    if args.slices:
        base.slices = args.slices
    only = None
    if args.steps:
        only = [x.strip() for x in args.steps.split(",") if x.strip()]
        unknown = [x for x in only if x not in MEASURED]
        if unknown:
            ap.error(f"unknown step(s): {', '.join(unknown)} (known: {', '.join(MEASURED)})")
    if args.scale:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(
            QUICK_SCALE_SIZES if args.quick else SCALE_SIZES)
    else:
        sizes = [base.units]

    root = args.keep or Path(tempfile.mkdtemp(prefix="djctl-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    installed_bytecode(root)
    if not args.spawn and hasattr(os, "fork"):
        preload()
    print(f"# djctl benchmark · python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
          f"load {os.getloadavg()[0]:.1f} · {date.today().isoformat()}")
    print(f"# command: python bench/run.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    docs = []
    try:
        for n in sizes:
            cfg = Config(**{**asdict(base), "units": n})
            doc = run_year(cfg, root / f"u{n}", profile=args.profile, spawn=args.spawn, only=only)
            docs.append(doc)
            print_year(doc)
            sys.stdout.flush()
        if len(docs) > 1:
            print_scale(docs)
        if args.json_out:
            args.json_out.write_text(json.dumps([to_json(d) for d in docs], ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    except ChildFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
