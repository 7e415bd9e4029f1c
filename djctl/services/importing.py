"""What every importer shares: file expansion, SHA-256, the per-file result, the idempotence check."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import select

from djctl.errors import DjctlError, InputError, Problem
from djctl.store.tables import ImportFile

IMPORTED, UNCHANGED, REFUSED, VALID = "imported", "unchanged", "refused", "valid"
STATUS_CN = {IMPORTED: "已导入", UNCHANGED: "已导入过（内容相同，未改动）", REFUSED: "拒绝", VALID: "校验通过（未写入）"}


@dataclass
class FileResult:
    path: str
    sha256: str = ""
    status: str = REFUSED
    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    message: str = ""
    subject: str = ""
    period: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    retired: list[Any] = field(default_factory=list, repr=False)  # rows a replacing import made history

    def to_json(self) -> dict[str, Any]:
        doc = {"path": self.path, "sha256": self.sha256, "status": self.status, "rows": self.rows,
               "errors": [e.to_json() for e in self.errors]}
        if self.message:
            doc["message"] = self.message
        if self.subject:
            doc["subject"] = self.subject
        if self.period:
            doc["period"] = self.period
        doc.update(self.extra)
        return doc

    def refuse(self, exc: DjctlError) -> FileResult:
        self.status = REFUSED
        self.message = exc.message + (f"（{exc.hint}）" if exc.hint else "")
        if isinstance(exc, InputError) and exc.problems:
            self.errors = list(exc.problems)
        else:
            self.errors = [Problem(self.message)]
        return self


WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".ods")  # Excel, WPS, LibreOffice; all read behind the same guards


def expand_paths(paths: list[Path], suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES) -> list[Path]:
    """Files as given; directories expanded to their workbooks (sorted; Office lock files skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in suffixes
                              and not f.name.startswith(("~$", "."))))
        else:
            out.append(p)
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_import(session, kind: str, sha256: str) -> ImportFile | None:
    return session.exec(select(ImportFile).where(ImportFile.kind == kind, ImportFile.sha256 == sha256)).first()


def imported_active(conn, kind: str, sha256: str) -> bool | None:
    """`find_import` as one Core query for hot loops: None if never imported, else whether it is current."""
    f = ImportFile.__table__
    row = conn.execute(sa_select(f.c.active).where(f.c.kind == kind, f.c.sha256 == sha256).limit(1)).first()
    return None if row is None else bool(row.active)


def totals(results: list[FileResult]) -> dict[str, int]:
    t = {"files": len(results), IMPORTED: 0, UNCHANGED: 0, REFUSED: 0, VALID: 0,
         "rows_read": 0, "rows_imported": 0, "rows_present": 0, "rows_refused": 0}
    for r in results:
        t[r.status] += 1
        t["rows_read"] += r.rows
        key = {IMPORTED: "rows_imported", UNCHANGED: "rows_present", REFUSED: "rows_refused", VALID: "rows_imported"}[r.status]
        t[key] += r.rows
    return t


def name_committed(exc: DjctlError, results: list[FileResult]) -> DjctlError:
    """A batch import that failed after some batches were committed: the error lists the files already in the
    store (they stay imported; the rest were not), instead of claiming everything was rolled back."""
    done = [r for r in results if r.status == IMPORTED]
    if done:
        shown = "、".join(Path(r.path).name for r in done[:20]) + (f" 等 {len(done)} 个" if len(done) > 20 else "")
        exc.message += f"。此前的批次已经提交，以下 {len(done)} 个文件已导入（重新导入时会显示为已导入过）：{shown}；其余文件未导入"
    return exc


# ------------------------------------------------------------------ one workbook, one transaction


@dataclass(frozen=True)
class WorkbookImport:
    """One kind of single-workbook import (adjustments, accountability measures, …): how its rows are read,
    checked against the store and written. `import_workbook` does the rest the same way for every kind."""

    kind: str  # import_file.kind
    read: Callable[[Path], tuple[str, list[Any]]]  # (sheet, rows); raises InputError listing the cell problems
    check: Callable[[Any, str, list[Any]], list[Problem]]  # (unit of work, sheet, rows) -> problems with the store
    write: Callable[[Any, ImportFile, list[Any], FileResult], None]  # the rows and their audit event
    refused: str  # the headline of a refusal, e.g. 加减分项表有错误，未导入任何数据
    period: Callable[[list[Any]], str] = lambda rows: ""
    sheet: PeriodSheet | None = None  # one file stands for the period (replaced only with --replace)
    #: a dry run writes too and then rolls back, so that it reports what the import would change
    rehearse: bool = False
    #: (unit of work, rows) -> whether the store already holds exactly these rows (another file of the same
    #: content, re-saved or converted by another program): then the file is unchanged and nothing is written
    same: Callable[[Any, list[Any]], bool] | None = None
    what: str = "数据"  # the kind's name in messages: 民主测评表, 述职评议表 …


@dataclass(frozen=True)
class PeriodSheet:
    """A kind whose rows stand for one period as a whole (the votes of a year, the 述职评议 of a year, the
    staff scores of a month): rows of `model` whose `column` equals `value`, flagged `active`. A different file
    for a period already imported is refused unless `replace`; with it, the period's active rows and files
    become history (inactive, the files `replaced_by` the new one) in the same transaction. The same file
    again is unchanged only while it is the period's current one."""

    period: str
    label: str  # the refusal's wording: f"{label}已导入过另一份{what}"
    model: Any
    column: str
    value: Any
    replace: bool = False

    def active_rows(self, uow: Any) -> list[Any]:
        m = self.model
        return list(uow.session.exec(select(m).where(getattr(m, self.column) == self.value,
                                                     m.active == True)))  # noqa: E712

    def retire(self, uow: Any) -> None:
        m = self.model
        uow.conn.execute(update(m).where(getattr(m, self.column) == self.value, m.active == True)  # noqa: E712
                         .values(active=False))


RESAVED = "内容与已导入的{what}相同（文件由其他程序另存或转换），未改动"


class _Rollback(Exception):
    """Leave the write transaction without committing (a refusal or a dry run); the result is filled in."""


def import_workbook(store: Any, path: Path, spec: WorkbookImport, *, dry_run: bool = False) -> FileResult:
    """Read outside the transaction; then in ONE write transaction: a file whose SHA-256 is stored is
    unchanged, a row the store refuses refuses the whole file (nothing written), a dry run stops before
    writing; otherwise the import_file row, the rows and their audit event are written together."""
    from djctl.store.audit import actor
    from djctl.store.engine import now

    result = FileResult(str(path))
    try:
        result.sha256 = file_sha256(path) if path.is_file() else ""
        sheet, rows = spec.read(path)
    except DjctlError as exc:
        return result.refuse(exc)
    except OSError as exc:
        return result.refuse(InputError(f"无法读取文件：{exc.strerror or exc}", path=str(path)))
    result.rows = len(rows)
    try:
        with store.write() as uow:
            ps = spec.sheet
            same = (find_import(uow.session, spec.kind, result.sha256) if ps is None else uow.session.exec(
                select(ImportFile).where(ImportFile.kind == spec.kind, ImportFile.sha256 == result.sha256,
                                         ImportFile.period == ps.period, ImportFile.active == True)).first())  # noqa: E712
            if same is not None:
                result.status = UNCHANGED
                result.extra["import_id"] = same.id
                return result
            if spec.same is not None and spec.same(uow, rows):
                result.status = UNCHANGED
                result.message = RESAVED.format(what=spec.what)
                return result
            problems = spec.check(uow, sheet, rows)
            if problems:
                result.refuse(InputError(spec.refused, path=str(path), problems=problems))
                raise _Rollback
            old_ids: list[int] = []
            if ps is not None:
                result.retired = ps.active_rows(uow)
                old_ids = sorted({r.import_id for r in result.retired})
                old = [f for f in (uow.session.get(ImportFile, i) for i in old_ids) if f is not None]
                if old and not ps.replace:
                    result.refuse(InputError(f"{ps.label}已导入过另一份{spec.what}（{'、'.join(Path(o.path).name for o in old)}），"
                                             "本文件内容不同", path=str(path),
                                             hint="确需以本文件替换，请加 --replace（旧数据保留为历史）"))
                    raise _Rollback
                result.extra["replaced"] = [{"import_id": o.id, "path": o.path, "sha256": o.sha256, "rows": o.rows}
                                            for o in old]
            if dry_run and not spec.rehearse:
                result.status = VALID
                raise _Rollback
            result.period = spec.period(rows)
            imp = ImportFile(kind=spec.kind, path=str(path), sha256=result.sha256, period=result.period,
                             rows=len(rows), actor=actor(), created_at=now())
            uow.session.add(imp)
            uow.session.flush()
            if old_ids:
                ps.retire(uow)
                uow.conn.execute(update(ImportFile).where(ImportFile.id.in_(old_ids))
                                 .values(active=False, replaced_by=imp.id))
            result.extra["import_id"] = imp.id
            spec.write(uow, imp, rows, result)
            if result.status == UNCHANGED:  # the writer found nothing to change: no file row, no event
                result.extra.pop("import_id", None)
                result.message = result.message or RESAVED.format(what=spec.what)
                raise _Rollback
            if dry_run:  # a rehearsal: everything written is rolled back
                result.extra.pop("import_id", None)
                result.status = VALID
                raise _Rollback
            result.status = IMPORTED
    except _Rollback:
        pass
    return result
