"""Backups of the SQLite store: a verified copy with a sidecar, and a verified restore.

`backup` copies the live store with SQLite's backup API (a consistent snapshot even while others write),
then checks the copy before keeping it: `PRAGMA integrity_check`, the row count of every table equal to
the snapshot it came from, the audit chain and the content check passing in the copy. It writes a
sidecar `FILE.json` (counts, audit head, SHA-256 of the file) and appends a `store.backup` event to the
store, so the audit log says which backups exist.

`restore` checks a backup the same way (and against its sidecar when there is one), keeps the store it
replaces as `djctl.db.before-restore-<stamp>`, copies the backup in, and appends a `store.restore` event
to the restored store. A damaged store can be restored: it is never opened through djctl first.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError, InputError, StoreError
from djctl.io.outfile import check_target, ensure_dir, os_failure, write_text
from djctl.services.importing import file_sha256
from djctl.store import audit
from djctl.store.engine import (Store, backup_sqlite, known_revisions, open_store, readonly_uri, refuse_network_fs,
                                resolve_url, restore_sqlite, table_counts)

FORMAT = "djctl-backup-v1"
SQLITE_MAGIC = b"SQLite format 3\x00"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


@dataclass
class BackupInfo:
    """What a backup file holds, and what is wrong with it (empty `problems`: usable)."""

    path: Path
    revision: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    head_seq: int = 0
    head: str = audit.GENESIS
    sha256: str = ""
    bytes: int = 0
    sidecar: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "alembic_version")

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "revision": self.revision, "bytes": self.bytes,
                "sha256": self.sha256, "counts": self.counts, "rows": self.rows,
                "head": {"seq": self.head_seq, "hash": self.head}, "events": self.events,
                "sidecar": str(sidecar_path(self.path)) if self.sidecar is not None else None,
                "created_at": (self.sidecar or {}).get("created_at"), "source": (self.sidecar or {}).get("source"),
                "problems": self.problems, "notes": self.notes}

    def sidecar_doc(self, source: str) -> dict[str, Any]:
        from djctl import __version__

        return {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "source": source, "djctl": __version__, "revision": self.revision, "file": self.path.name,
                "bytes": self.bytes, "sha256": self.sha256, "counts": self.counts,
                "head": {"seq": self.head_seq, "hash": self.head}}


def _sqlite_path(store_or_db: Store | str | None) -> Path:
    if isinstance(store_or_db, Store):
        path = store_or_db.path
    else:
        url = resolve_url(store_or_db)
        path = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
    if path is None:
        raise DjctlError("djctl backup / restore 只用于 SQLite 数据库文件",
                         hint="PostgreSQL 请用服务器自己的备份工具（pg_dump / pg_restore），由数据库管理员定期执行")
    return path


# --------------------------------------------------------------------------- inspecting a backup file


def inspect_backup(path: Path, *, content: bool = True) -> BackupInfo:
    """Check a backup file: a SQLite file, intact, a djctl store this djctl can open, chain and content
    verified, and equal to its sidecar (when there is one). Problems are collected, not raised."""
    info = BackupInfo(path)
    if not path.is_file():
        raise InputError("备份文件不存在", path=str(path))
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise InputError("不是 SQLite 数据库文件，不是 djctl 的备份", path=str(path))
    info.bytes = path.stat().st_size
    info.sha256 = file_sha256(path)
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                info.problems.append("完整性检查未通过：" + "；".join(integrity[:5]))
                return info
            info.counts = table_counts(conn)
            if "alembic_version" not in info.counts or "audit_event" not in info.counts:
                info.problems.append("不是 djctl 数据库（没有版本表或审计表）")
                return info
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            info.revision = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        info.problems.append(f"无法读取：{exc}")
        return info
    known = known_revisions()
    if info.revision not in known:
        info.problems.append(f"数据库版本（{info.revision}）不是本程序所知的版本（本程序支持到 {known[-1]}），"
                             "可能来自更新的 djctl")
        return info
    _verify_audit(info, content)
    _compare_sidecar(info)
    return info


def _verify_audit(info: BackupInfo, content: bool) -> None:
    from sqlalchemy import create_engine

    from djctl.store.content import check

    uri = readonly_uri(info.path)
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with engine.connect() as conn:
            chain = audit.verify(conn)
            info.events, info.head_seq, info.head = chain.events, chain.head_seq, chain.head
            if not chain.ok:
                info.problems.append(f"审计链校验失败：{chain.problem}")
            if content:
                result = check(conn)
                info.problems += [f"数据与审计事件不一致：{p.text()}" for p in result.problems[:20]]
                if len(result.problems) > 20 or result.more:
                    info.problems.append(f"另有 {len(result.problems) - 20 + result.more} 处数据与审计事件不一致")
    finally:
        engine.dispose()


def _compare_sidecar(info: BackupInfo) -> None:
    side = sidecar_path(info.path)
    if not side.exists():
        info.notes.append(f"没有说明文件 {side.name}：无法与备份时记录的链头和行数比对")
        return
    try:
        doc = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("不是 djctl 备份说明文件")
    except (OSError, ValueError) as exc:
        info.problems.append(f"说明文件 {side.name} 无法读取：{exc}")
        return
    info.sidecar = doc
    if doc.get("sha256") != info.sha256:
        info.problems.append(f"备份文件的 SHA-256 与说明文件 {side.name} 中记录的不同（备份文件被改动或替换）")
    head = doc.get("head") or {}
    if head.get("seq") != info.head_seq or head.get("hash") != info.head:
        info.problems.append(f"审计链头（#{info.head_seq}）与说明文件中记录的（#{head.get('seq')}）不同")
    if doc.get("counts") != info.counts:
        diff = [f"{t} {(doc.get('counts') or {}).get(t)}→{info.counts.get(t)}"
                for t in sorted(set(info.counts) | set(doc.get("counts") or {}))
                if (doc.get("counts") or {}).get(t) != info.counts.get(t)]
        info.problems.append("各表行数与说明文件中记录的不同：" + "、".join(diff[:10]))


# --------------------------------------------------------------------------- backup


def default_name(store_path: Path) -> str:
    return f"{store_path.stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.db"


def backup(store: Store, out: Path) -> BackupInfo:
    """Copy the store to `out` (a file, or a directory to put `djctl-<stamp>.db` in), verified, with a sidecar."""
    src = _sqlite_path(store)
    target = out / default_name(src) if out.is_dir() else out
    side = sidecar_path(target)
    if target.exists() or side.exists():
        raise InputError("备份文件已存在，不会覆盖", path=str(target if target.exists() else side),
                         hint="请换一个文件名，或指定一个目录（自动按时间命名）")
    if target.resolve() == src.resolve():
        raise InputError("备份文件不能是数据库本身", path=str(target))
    check_target(target)
    check_target(side)
    ensure_dir(target.parent)
    tmp = target.with_name(target.name + ".partial")
    check_target(tmp)
    try:
        try:
            counts = backup_sqlite(src, tmp)
        except sqlite3.DatabaseError as exc:
            raise copy_failure(exc, src, target) from exc
        info = inspect_backup(tmp)
        if info.ok and info.counts != counts:
            info.problems.append("副本各表行数与数据库不同：" + "、".join(
                f"{t} {counts.get(t)}→{info.counts.get(t)}" for t in sorted(set(counts) | set(info.counts))
                if counts.get(t) != info.counts.get(t)))
        if not info.ok:
            raise StoreError("备份副本校验失败，未保留：" + "；".join(info.problems[:3]),
                             hint="数据库本身可能已损坏或被改动：先运行 djctl audit verify 查看")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    info.path = target
    info.notes = []
    try:
        write_text(side, json.dumps(info.sidecar_doc(str(src)), ensure_ascii=False, indent=2) + "\n")
        head_file = write_text(head_path(target), json.dumps(audit_head_doc(info), ensure_ascii=False, indent=2) + "\n")
    except BaseException:
        for p in (target, side):  # a backup without its side file is not one: nothing is kept
            p.unlink(missing_ok=True)
        raise
    info.sidecar = json.loads(side.read_text(encoding="utf-8"))
    info.head_file = head_file
    with store.write() as uow:
        uow.audit("store.backup", {"file": str(target), "sha256": info.sha256, "bytes": info.bytes,
                                   "revision": info.revision, "head": {"seq": info.head_seq, "hash": info.head},
                                   "counts": info.counts})
    return info


def head_path(backup_file: Path) -> Path:
    """The audit head file written beside a backup (`djctl audit verify --against` reads it)."""
    return backup_file.with_name(backup_file.name + ".head.json")


def audit_head_doc(info: BackupInfo) -> dict[str, Any]:
    from djctl.store.audit import head_file_doc

    return head_file_doc(info.head_seq, info.head)


def copy_failure(exc: sqlite3.DatabaseError, src: Path, target: Path) -> DjctlError:
    """A failed copy named for what it is; restoring from a backup is advised only for a damaged store."""
    from djctl.store.engine import sqlite_failure

    named = sqlite_failure(exc, src, output=target)
    if named is not None:
        return named
    return StoreError(f"无法复制数据库：{exc}")


# --------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    store: str
    backup: BackupInfo
    kept: Path | None
    replaced_head: dict[str, Any] | None
    event_seq: int

    def to_json(self) -> dict[str, Any]:
        return {"store": self.store, "backup": self.backup.to_json(), "kept": str(self.kept) if self.kept else None,
                "replaced_head": self.replaced_head, "restore_event": self.event_seq}


def target_path(db: str | None) -> Path:
    """The SQLite file a restore replaces (it may be missing or damaged)."""
    return _sqlite_path(db)


def restore(db: str | None, info: BackupInfo, *, allow_network_fs: bool = False) -> RestoreResult:
    """Replace the store named by `db` with the (already inspected, usable) backup `info`."""
    if not info.ok:
        raise InputError("备份文件校验未通过，不能用于恢复：" + "；".join(info.problems[:3]), path=str(info.path))
    dest = target_path(db)
    if not dest.parent.is_dir():
        raise StoreError(f"数据库所在目录不存在：{dest.parent}")
    refuse_network_fs(dest, allow_network_fs)
    if dest.exists() and dest.resolve() == info.path.resolve():
        raise InputError("备份文件就是当前数据库，无需恢复", path=str(info.path))
    kept, replaced_head = None, None
    if dest.exists():
        kept = dest.with_name(f"{dest.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        try:
            replaced_head = _keep(dest, kept)
        except BaseException as exc:  # a full disk: no half copy is left, and the store is not touched
            for p in (kept, Path(str(kept) + "-wal"), Path(str(kept) + "-shm"), Path(str(kept) + "-journal")):
                p.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise os_failure(exc, kept, what="保留原数据库") from exc
            if isinstance(exc, sqlite3.DatabaseError):
                raise copy_failure(exc, dest, kept) from exc
            raise
    restore_sqlite(info.path, dest)
    store = open_store(str(dest), allow_network_fs=allow_network_fs)
    try:
        with store.write() as uow:
            seq, _ = uow.audit("store.restore", {
                "backup": str(info.path), "sha256": info.sha256, "revision": info.revision,
                "backup_head": {"seq": info.head_seq, "hash": info.head},
                "backup_created_at": (info.sidecar or {}).get("created_at"),
                "kept": str(kept) if kept else None, "replaced_head": replaced_head})
    finally:
        store.dispose()
    return RestoreResult(str(dest), info, kept, replaced_head, seq)


def _keep(dest: Path, kept: Path) -> dict[str, Any] | None:
    """Keep the store about to be replaced; its audit head when it can still be read."""
    try:
        backup_sqlite(dest, kept)
    except sqlite3.DatabaseError:
        from djctl.store.engine import damaged

        if not damaged(dest):  # a full disk or a read-only folder, not a damaged store: say so
            raise
        # a damaged store: keep its files as they are
        shutil.copyfile(dest, kept)
        for suffix in ("-wal", "-shm"):
            if Path(str(dest) + suffix).exists():
                shutil.copyfile(str(dest) + suffix, str(kept) + suffix)
        return None
    try:
        conn = sqlite3.connect(readonly_uri(kept), uri=True)
        try:
            row = conn.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": audit.GENESIS}
