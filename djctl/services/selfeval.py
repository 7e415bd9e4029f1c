"""Monthly self-assessment (月自评): forms out, returned forms in (each file all or nothing), status."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from djctl.domain.periods import month_active, parse_month
from djctl.domain.points import from_x100
from djctl.errors import DjctlError, InputError
from djctl.io.selfeval_form import FormTask, form_filename, read_form, write_form
from djctl.io.outfile import inside, staged_dir
from djctl.io.read_workers import ReadPool, workers_for
from djctl.services.importing import UNCHANGED, FileResult, expand_paths, file_sha256, name_committed
from djctl.services.selfeval_store import NOT_CURRENT, FormBatch
from djctl.services.tasks import list_tasks, require_list
from djctl.store.engine import Store
from djctl.store.tables import ImportFile, SelfReport, SelfScore, Unit

SELF_SCORE = SelfScore.__table__


def active_units(session, month: str) -> list[Unit]:
    return [u for u in session.exec(select(Unit).order_by(Unit.code)) if month_active(month, u.active_from, u.active_to)]


def write_forms(store: Store, month: str, out_dir: Path, units: list[str] | None = None) -> list[Path]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        tl = require_list(s, str(p))
        tasks = [FormTask(t.code, t.name, t.dimension, from_x100(t.points_x100)) for t in list_tasks(s, tl.id)]
        pool = active_units(s, str(p))
        if units:
            known = {u.code for u in pool}
            unknown = [c for c in units if c not in known]
            if unknown:
                raise InputError(f"以下单位不存在或 {p} 不在册：{'、'.join(unknown)}")
            pool = [u for u in pool if u.code in set(units)]
    written = []
    with staged_dir(out_dir) as stage:  # every form or none (a full disk leaves no half set)
        for u in pool:
            name = form_filename(str(p), u.code, u.name)
            write_form(inside(stage.dir, name), unit_code=u.code, unit_name=u.name, month=str(p),
                       month_label=p.label, task_hash=tl.sha256, tasks=tasks)
            written.append(inside(out_dir, name))
    return written


#: Forms written per transaction: each file is all or nothing through its own savepoint, and one commit (one
#: fsync with synchronous=FULL, ~5–15 ms on these disks) serves a batch instead of every file.
BATCH_FILES = 64
BATCH_SECONDS = 1.0


def import_forms(store: Store, paths: list[Path], *, replace: bool = False, dry_run: bool = False,
                 progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Import returned self-assessment workbooks; every file all or nothing.

    Files already imported (same SHA-256) are answered from one query for the whole run, without being
    parsed again: re-running the import over a folder that keeps filling up costs little. Forms are read
    outside any transaction, then written in batches: one write transaction per batch, one savepoint per
    file (a refused file rolls back its savepoint only). A crash loses at most the batch not yet committed,
    whose files were not yet reported: every file is wholly in the store or wholly absent.
    """
    files = expand_paths(paths)
    shas = {path: _sha_or_none(path) for path in files}
    known = seen_imports(store, {sha for sha in shas.values() if sha})
    task_lists: dict[int, dict[str, Any]] = {}
    results: list[FileResult] = []
    batch: list[tuple[FileResult, Any]] = []
    started = 0.0
    batch_files = _batch_files()

    def flush() -> None:
        write_batch(store, batch, replace=replace, dry_run=dry_run, task_lists=task_lists)
        for result, _ in batch:
            results.append(result)
            if progress:
                progress(result)
        batch.clear()

    try:
        for result, form in _read_all(files, shas, known):
            if not batch:
                started = time.perf_counter()
            batch.append((result, form))
            if len(batch) >= batch_files or time.perf_counter() - started >= BATCH_SECONDS:
                flush()
        flush()
    except DjctlError as exc:
        raise name_committed(exc, results) from exc.__cause__
    return results


def _batch_files() -> int:
    """BATCH_FILES, or DJCTL_IMPORT_BATCH (1 = a transaction per file, as the crash tests also exercise)."""
    raw = os.environ.get("DJCTL_IMPORT_BATCH", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else BATCH_FILES


def _read_all(files: list[Path], shas: dict[Path, str | None],
              known: dict[str, SeenImport]) -> Iterator[tuple[FileResult, Any]]:
    """`read_one` of every file, in order. Files not yet imported are read by worker processes when there are
    many (io/read_workers.py); what they read is taken exactly as if read here."""
    todo = [p for p in files if shas[p] is not None and shas[p] not in known]
    workers = workers_for(len(todo))
    if workers < 2:
        for path in files:
            yield read_one(path, sha256=shas[path], known=known)
        return
    with ReadPool("djctl.io.selfeval_form:read_form", workers) as pool:
        answers = pool.read([str(p) for p in todo])
        for path in files:
            if shas[path] is None or shas[path] in known:
                yield read_one(path, sha256=shas[path], known=known)
                continue
            form, refusal = next(answers)
            result = FileResult(str(path), sha256=shas[path])
            if refusal is not None:
                result.refuse(refusal.error())
                yield result, None
                continue
            yield _read_result(result, form), form


def read_one(path: Path, *, sha256: str | None = None,
             known: dict[str, SeenImport] | None = None) -> tuple[FileResult, Any]:
    """Hash and parse one returned form (no transaction). The form is None when the result is final:
    refused, or answered "unchanged" from `known`."""
    result = FileResult(str(path))
    try:
        if not path.is_file():
            raise InputError("文件不存在", path=str(path))
        try:
            result.sha256 = sha256 or file_sha256(path)
        except OSError as exc:
            raise InputError(f"文件无法读取（{exc.strerror or exc.__class__.__name__}）", path=str(path)) from None
        prior = (known or {}).get(result.sha256)
        if prior is not None:
            result.status = UNCHANGED
            result.rows, result.subject, result.period = prior.rows, prior.subject, prior.period
            result.message = "" if prior.active else NOT_CURRENT
            return result, None
        form = read_form(path)
    except DjctlError as exc:
        result.refuse(exc)
        return result, None
    return _read_result(result, form), form


def _read_result(result: FileResult, form: Any) -> FileResult:
    result.rows = len(form.rows)
    result.subject, result.period = form.meta.unit, form.meta.month
    if form.problems.notes:  # formulas taken at their cached values: the report says so
        result.extra["notes"] = list(form.problems.notes)
    return result


def write_batch(store: Store, batch: list[tuple[FileResult, Any]], *, replace: bool = False, dry_run: bool = False,
                task_lists: dict[int, dict[str, Any]] | None = None) -> None:
    """Write the parsed forms of a batch in one transaction (services/selfeval_store.FormBatch)."""
    todo = [(result, form) for result, form in batch if form is not None]
    if not todo:
        return
    try:
        with store.write() as uow:
            forms = FormBatch(uow, todo, replace=replace, dry_run=dry_run, task_lists=task_lists)
            for result, form in todo:
                try:
                    forms.add(result, form)
                except DjctlError as exc:
                    result.refuse(exc)
            forms.flush()
            if dry_run:
                raise _DryRun  # nothing of a dry run is kept
    except _DryRun:
        pass


@dataclass(frozen=True)
class SeenImport:
    """What the store remembers of an imported file (enough to answer "unchanged")."""

    rows: int
    subject: str
    period: str
    active: bool


def seen_imports(store: Store, shas: set[str]) -> dict[str, SeenImport]:
    """sha256 -> the stored self-assessment import with that content (the active one if several)."""
    out: dict[str, SeenImport] = {}
    if not shas:
        return out
    f = ImportFile.__table__
    ordered = sorted(shas)
    with store.read() as uow:
        for i in range(0, len(ordered), 500):
            q = (sa_select(f.c.sha256, f.c.rows, f.c.subject, f.c.period, f.c.active)
                 .where(f.c.kind == "selfeval", f.c.sha256.in_(ordered[i:i + 500])))
            for r in uow.conn.execute(q):
                if r.sha256 not in out or r.active:
                    out[r.sha256] = SeenImport(r.rows, r.subject, r.period, bool(r.active))
    return out


def _sha_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path) if path.is_file() else None
    except OSError:
        return None


class _DryRun(Exception):
    pass




def import_one(store: Store, path: Path, *, replace: bool = False, dry_run: bool = False,
               sha256: str | None = None, known: dict[str, SeenImport] | None = None,
               task_lists: dict[int, dict[str, Any]] | None = None) -> FileResult:
    """Import one returned form in its own transaction."""
    result, form = read_one(path, sha256=sha256, known=known)
    write_batch(store, [(result, form)], replace=replace, dry_run=dry_run, task_lists=task_lists)
    return result


@dataclass
class StatusRow:
    unit: str
    name: str
    group: str
    status: str  # reported / missing / inactive
    file: str = ""
    imported_at: str = ""


def status(store: Store, month: str) -> list[StatusRow]:
    p = parse_month(month)
    with store.read() as uow:
        s = uow.session
        units = list(s.exec(select(Unit).order_by(Unit.code)))
        reports = {r.unit_code: r for r in s.exec(select(SelfReport).where(SelfReport.month == str(p),
                                                                             SelfReport.active == True))}  # noqa: E712
        files = {f.id: f for f in s.exec(select(ImportFile).where(ImportFile.kind == "selfeval", ImportFile.period == str(p)))}
    rows = []
    for u in units:
        if not month_active(str(p), u.active_from, u.active_to):
            rows.append(StatusRow(u.code, u.name, u.group_name, "inactive"))
        elif u.code in reports:
            f = files.get(reports[u.code].import_id)
            rows.append(StatusRow(u.code, u.name, u.group_name, "reported", Path(f.path).name if f else "",
                                  f.created_at.isoformat(timespec="seconds") if f else ""))
        else:
            rows.append(StatusRow(u.code, u.name, u.group_name, "missing"))
    return rows


def status_doc(month: str, rows: list[StatusRow]) -> dict[str, Any]:
    counts = {k: sum(1 for r in rows if r.status == k) for k in ("reported", "missing", "inactive")}
    return {"period": month, "counts": counts, "missing": [r.unit for r in rows if r.status == "missing"],
            "rows": [{"unit": r.unit, "name": r.name, "group": r.group, "status": r.status, "file": r.file,
                      "imported_at": r.imported_at} for r in rows]}
