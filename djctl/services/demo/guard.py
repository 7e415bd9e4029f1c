"""The demo never destroys a store it did not make.

The demo writes a mark beside its store when it ends: the audit head it left. A later `demo --dir` on the
same folder rebuilds the store only when the store's head is still that mark (nothing written since).
Any other store there (a real one copied in, or the demo's store written to afterwards) is refused unless
`--force`, which first makes a verified backup (the `backup` service) and says where.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from djctl.errors import DjctlError

MARK = ".djctl-demo.json"


def _head(db: Path) -> tuple[int, str] | None:
    """The audit head of the SQLite file `db`, read-only; None if it has no audit chain (or is not a store)."""
    from djctl.store.engine import readonly_uri

    try:
        conn = sqlite3.connect(readonly_uri(db), uri=True, timeout=5)
        try:
            row = conn.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return (int(row[0]), str(row[1])) if row else None


def made_by_demo(directory: Path) -> bool:
    db = directory / "djctl.db"
    mark = directory / MARK
    if not mark.is_file():
        return False
    try:
        doc = json.loads(mark.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    head = _head(db)
    return head is not None and [head[0], head[1]] == [doc.get("head_seq"), doc.get("head")]


def has_store(directory: Path) -> bool:
    return any(Path(str(directory / "djctl.db") + s).exists() for s in ("", "-wal"))


def guard(directory: Path, force: bool) -> str | None:
    """Refuse (exit 2) a folder holding a store the demo did not make; with `force`, back it up first.

    Returns a line saying where the backup is, or None when nothing had to be kept."""
    if not has_store(directory) or made_by_demo(directory):
        return None
    db = directory / "djctl.db"
    if not force:
        raise DjctlError(f"目录 {directory} 中已有一个数据库（{db}），不是示范程序生成的，或示范之后又写入过数据；"
                         "示范年度会重建这个数据库，因此没有做任何改动",
                         hint=f"请换一个目录（如 djctl demo --dir djctl-demo），或加 --force：先把 {db} 备份并核对，再重建")
    from djctl.services.backup import backup
    from djctl.store.engine import open_store

    folder = directory / "备份"
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(db, migrate=False)
    try:
        info = backup(store, folder)
    finally:
        store.dispose()
    return (f"原数据库已备份到 {info.path}（{info.rows} 行数据，审计链头 #{info.head_seq}，已核对完整性、行数与审计链）；"
            f"恢复：djctl --db {db} restore {info.path}")


def mark(directory: Path) -> None:
    """Record the head the demo left, so that the next demo run on this folder knows the store is its own."""
    head = _head(directory / "djctl.db")
    if head is None:
        return
    (directory / MARK).write_text(json.dumps({"head_seq": head[0], "head": head[1]}, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
