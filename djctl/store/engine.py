"""Opening the store: URL or path, SQLite pragmas, BEGIN IMMEDIATE writes, migrations on open.

Writes go through `Store.write()`: one transaction (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL so that audit appends are serialised), a SQLModel session and the raw connection for bulk
Core statements, and the audit helper bound to the same transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, DataError, OperationalError
from sqlmodel import Session

from djctl.errors import DjctlError, StoreError
from djctl.store import audit

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 30
PG_LOCK_KEY = 0x646A6374  # 'djct'


def known_revisions() -> list[str]:
    """Revision ids shipped with this djctl, oldest first (file names NNNN_*.py)."""
    return sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def resolve_url(db: str | os.PathLike | None) -> str:
    raw = str(db) if db else os.environ.get("DJCTL_DB") or "djctl.db"
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


@dataclass
class UnitOfWork:
    """What a service writes through: the session for small rows, `conn` for bulk Core statements."""

    conn: Connection
    session: Session

    def audit(self, action: str, payload: dict) -> tuple[int, str]:
        self.session.flush()
        return audit.append(self.conn, action, payload)


class Store:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._pinned: tuple[int, UnitOfWork] | None = None  # (thread id, the run's snapshot): see snapshot()

    @property
    def path(self) -> Path | None:
        if self.is_sqlite and self.engine.url.database and self.engine.url.database != ":memory:":
            return Path(self.engine.url.database)
        return None

    def describe(self) -> str:
        return str(self.path) if self.path else self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """One write transaction; committed when the block ends, rolled back on any exception."""
        with _translate_errors(self.path), self.engine.connect() as conn:
            conn.execution_options(djctl_write=True)
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
                # the session only joins the connection's transaction: it never makes savepoints of its own, so a
                # service may wrap part of a write in conn.begin_nested() and use the session inside it
                with Session(bind=conn, autoflush=False, expire_on_commit=False,
                             join_transaction_mode="rollback_only") as session:
                    uow = UnitOfWork(conn, session)
                    try:
                        yield uow
                    except BaseException as exc:  # the error handler may say so: this write was rolled back
                        exc.djctl_rolled_back = True  # type: ignore[attr-defined]
                        raise
                    session.flush()

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read transaction (deferred BEGIN): a consistent snapshot, no write lock.

        Inside `snapshot()` (same thread) every read is the run's one snapshot."""
        pinned = self._pinned
        if pinned is not None and pinned[0] == threading.get_ident():
            yield pinned[1]
            return
        with _translate_errors(self.path), self.engine.connect() as conn:
            with conn.begin():
                with Session(bind=conn, autoflush=False, expire_on_commit=False) as session:
                    yield UnitOfWork(conn, session)

    @contextmanager
    def snapshot(self) -> Iterator[UnitOfWork]:
        """One read transaction held for a whole run (DESIGN §6): every `read()` inside it, in this thread,
        sees the same state. SQLite: one deferred transaction whose snapshot starts with its first read
        (taken here, the audit head); PostgreSQL: one REPEATABLE READ transaction. A write that lands during
        the run is in none of the run's documents."""
        if self._pinned is not None:
            yield self._pinned[1]
            return
        with _translate_errors(self.path), self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                with Session(bind=conn, autoflush=False, expire_on_commit=False) as session:
                    uow = UnitOfWork(conn, session)
                    audit.head(conn)  # the first read fixes the snapshot
                    self._pinned = (threading.get_ident(), uow)
                    try:
                        yield uow
                    finally:
                        self._pinned = None

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _translate_errors(path: Path | None = None) -> Iterator[None]:
    try:
        yield
    except (DataError, OverflowError) as exc:  # a value the column cannot hold (past 2^31 on a server, 2^63 in SQLite)
        msg = (str(exc.orig) if getattr(exc, "orig", None) else str(exc)).splitlines()[0]
        raise DjctlError(f"数据库不接受超出范围或格式不符的值（{msg}），没有写入任何数据",
                         hint="请检查输入中过大的数字或异常的内容") from exc
    except DatabaseError as exc:  # OperationalError ("locked", "busy", "disk is full", "readonly") and damage
        named = sqlite_failure(exc, path)
        if named is not None:
            raise named from exc
        raise


def _orig_message(exc: BaseException) -> str:
    """The driver's own message, never the SQL statement or its parameters."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc)
    return text_.splitlines()[0] if text_ else exc.__class__.__name__


def sqlite_failure(exc: BaseException, path: Path | None, *, output: Path | None = None) -> DjctlError | None:
    """A database failure named for what it is (Chinese, no SQL, no parameters), or None when unknown.

    `output`: the failure happened while copying into this file (a backup): a full disk or a read-only
    place there is an output problem (exit 2), not the store's. Restoring from a backup is suggested only
    when the store really fails `PRAGMA quick_check`.
    """
    msg = _orig_message(exc)
    low = msg.lower()
    if "locked" in low or "busy" in low:
        return StoreError(f"数据库被其他进程锁定，等待 {BUSY_TIMEOUT_S} 秒后仍未释放", hint="请稍后重试")
    if "disk is full" in low or "database or disk is full" in low or "no space" in low:
        if output is not None:
            from djctl.io.outfile import OutputError

            return OutputError("无法写入文件：磁盘已满", path=str(output),
                               hint="请清理磁盘空间后重试；没有留下写了一半的文件")
        return StoreError("磁盘已满：数据库无法写入，本次写入已回滚，数据库未受影响",
                          hint="请清理磁盘空间后重试")
    if "readonly" in low or "read-only" in low:
        if output is not None:
            from djctl.io.outfile import OutputError

            return OutputError("无法写入文件：位置是只读的", path=str(output), hint="请换一个可写的位置")
        return StoreError("数据库是只读的（文件或所在文件夹没有写权限，或在只读文件系统上），无法写入",
                          hint="请检查数据库文件及其所在文件夹的权限；查看数据时也需要文件夹可写（SQLite 要在旁边建 -shm 文件）")
    if "unable to open" in low or "permission denied" in low or "access permission" in low:
        return StoreError("无法打开数据库文件：没有权限，或所在文件夹不可读写",
                          hint="请检查数据库文件及其所在文件夹的权限")
    if "disk i/o error" in low:
        return StoreError("读写数据库时发生磁盘输入输出错误", hint="请检查磁盘；确认磁盘正常后再运行 djctl audit verify")
    if "malformed" in low or "not a database" in low or "disk image" in low:
        if path is not None and not damaged(path):
            return StoreError(f"数据库读写失败：{msg}", hint="数据库通过了完整性检查；请重试")
        return StoreError(f"数据库文件已损坏：{msg}", hint="请用 djctl restore 从备份恢复")
    return None


def damaged(path: Path) -> bool:
    """True when the SQLite file at `path` fails `PRAGMA quick_check` (or cannot be read as a database)."""
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True
    return rows != [("ok",)]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("djctl_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs", "ncpfs", "fuse.gvfsd-fuse")


def filesystem_type(path: Path, mounts_text: str | None = None) -> str | None:
    """The type of the file system holding `path`, from /proc/mounts (None where unknown)."""
    try:
        mounts = (Path("/proc/mounts").read_text() if mounts_text is None else mounts_text).splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, fstype = "", None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, fstype = mnt, parts[2]
    return fstype


def refuse_network_fs(path: Path, allow: bool = False) -> None:
    """A SQLite store on a network share (NFS, SMB/CIFS, sshfs...) is refused unless explicitly allowed."""
    fstype = filesystem_type(path.parent)
    if fstype in NETWORK_FS and not allow:
        raise StoreError(
            f"数据库位于网络共享目录（{fstype}）：SQLite 在共享文件夹上加锁不可靠，多人同时使用会损坏数据",
            hint="多人共用请改用 PostgreSQL 服务器（--db postgresql+psycopg://…，见 README）；确需如此请加 --allow-network-fs")


def open_store(db: str | os.PathLike | None = None, *, migrate: bool = True, must_exist: bool = False,
               allow_network_fs: bool = False) -> Store:
    """Open (and create or upgrade) the store named by `db`, `DJCTL_DB` or ./djctl.db."""
    url = resolve_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        from djctl.io.outfile import protect

        protect(path)
        if path.exists() and not path.is_file():
            raise StoreError(f"{path} 不是普通文件（是目录或设备），不是 djctl 数据库", hint="请用 --db 指定 djctl 数据库文件")
        if must_exist and not path.exists():
            raise StoreError(f"数据库不存在：{path}", hint="先运行 djctl init 建库，或用 --db 指定数据库")
        if must_exist and _empty_file(path):
            raise StoreError(f"数据库文件是空的（0 字节）：{path}",
                             hint="这不是一个可用的 djctl 数据库；只有 djctl init 会建新库。如果原来有数据，请用 djctl restore 从备份恢复")
        if not path.parent.exists():
            raise StoreError(f"数据库所在目录不存在：{path.parent}")
        refuse_network_fs(path, allow_network_fs)
        _refuse_foreign_file(path)
    engine = make_server_engine(url)
    store = Store(url, engine)
    try:
        current = current_revision(store)
    except DatabaseError as exc:  # OperationalError and the damage SQLite reports as DatabaseError ("malformed")
        engine.dispose()
        named = sqlite_failure(exc, store.path) if store.is_sqlite else None
        if named is not None:
            raise named from exc
        raise StoreError(f"无法打开数据库：{exc.orig}", hint="文件可能已损坏或不是 djctl 数据库" if store.is_sqlite else
                         "请检查数据库地址、用户、密码和网络，并确认数据库已经建好") from exc
    known = known_revisions()
    if current is not None and current not in known:
        engine.dispose()
        raise StoreError(
            f"数据库版本（{current}）比本程序新（本程序支持到 {known[-1]}）",
            hint="请升级 djctl 后再打开这个数据库",
        )
    if current != known[-1]:
        if not migrate:
            raise StoreError(f"数据库需要升级（{current or '空'} → {known[-1]}）")
        _upgrade(store, current, known[-1])
    return store


def _empty_file(path: Path) -> bool:
    """A zero-byte store file (and no write-ahead log holding its content)."""
    try:
        if path.stat().st_size > 0:
            return False
        wal = Path(str(path) + "-wal")
        return not (wal.exists() and wal.stat().st_size > 0)
    except OSError:
        return False


def make_server_engine(url: str) -> Engine:
    """`make_engine`, with a URL SQLAlchemy cannot use (unknown dialect, driver not installed) as a StoreError."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        return make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        # the parser's messages repeat the URL (and so a password): only a missing driver is named
        why = str(exc) if isinstance(exc, (NoSuchModuleError, ImportError)) else "地址格式无效"
        raise StoreError(f"无法使用数据库地址（{url.split('://', 1)[0]}://…）：{why}",
                         hint='PostgreSQL 地址形如 postgresql+psycopg://用户@主机/库名，并需先 pip install "djctl[postgres]"') from None


def readonly_uri(path: Path) -> str:
    """A `file:` URI opening `path` read-only (for sqlite3.connect(..., uri=True)); any name is quoted."""
    from urllib.parse import quote

    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


def _refuse_foreign_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database.

    Asked through SQLite, never with open()/close(): closing ANY descriptor of a file drops every POSIX lock
    this process holds on it, including the shared lock of an open WAL connection; another process may then
    believe it is the last user, checkpoint and delete the WAL under this one, and both see a "malformed" store.
    """
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} 不是普通文件（是目录或设备）", hint="请用 --db 指定 djctl 数据库文件")
    if path.exists() and path.stat().st_size > 0:
        try:
            conn = sqlite3.connect(readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
            try:
                conn.execute("PRAGMA schema_version").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise StoreError(f"{path} 不是 SQLite 数据库文件", hint="请用 --db 指定 djctl 数据库") from None


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        insp = inspect(conn)
        if not insp.has_table("alembic_version"):
            tables = [t for t in insp.get_table_names() if not t.startswith("sqlite_")]
            if tables:
                raise StoreError("数据库中有其他程序的表，不是 djctl 数据库", hint="请用 --db 指定 djctl 数据库")
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        conn.rollback()
        return row[0] if row else None


def _upgrade(store: Store, current: str | None, target: str) -> None:
    backup_path = None
    if current is not None and store.path is not None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # and the pid: two commands may open an old store at once
        backup_path = store.path.with_name(f"{store.path.name}.bak-{current}-{stamp}-{os.getpid()}")
        backup_sqlite(store.path, backup_path)
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with store.write() as uow:
            if current is not None and uow.conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == target:
                return  # another command upgraded it while this one waited for the write lock
            cfg.attributes["connection"] = uow.conn
            command.upgrade(cfg, target)
            uow.audit("store.migrate", {"from": current, "to": target,
                                        "backup": backup_path.name if backup_path else None})
    except Exception as exc:
        if backup_path is not None:
            store.dispose()
            restore_sqlite(backup_path, store.path)
            raise StoreError(f"数据库升级失败，已从升级前的备份恢复：{_orig_message(exc)}",
                             hint=f"备份保留在 {backup_path}") from exc
        raise


def backup_sqlite(src: Path, dest: Path) -> dict[str, int]:
    """Copy a live SQLite store with the backup API (consistent even while others write).

    The copy is one self-contained file (rollback journal, no -wal beside it). Returns the row count of
    every table as read in the same read transaction the copy was taken from, so a caller can compare
    the copy with exactly the snapshot it came from.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    s = sqlite3.connect(str(src), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    d = sqlite3.connect(str(dest), isolation_level=None)
    try:
        s.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        s.execute("BEGIN")
        counts = table_counts(s)
        s.backup(d)
        s.execute("COMMIT")
        try:
            d.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:  # `dest` is a live store others have open: it stays in WAL mode
            pass
    finally:
        d.close()
        s.close()
    return counts


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of a SQLite database (sqlite3 connection), tables by name."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def restore_sqlite(src: Path, dest: Path) -> None:
    """Replace the content of `dest` with backup `src`.

    Through the backup API into the live file when it is a readable store: the copy takes the write lock,
    is one transaction, and keeps the WAL consistent for anyone who has the store open. When `dest` is
    missing or damaged, by replacing the file (and dropping its stale -wal/-shm).
    """
    if dest.exists() and dest.stat().st_size > 0:
        try:
            s = sqlite3.connect(str(src))
            d = sqlite3.connect(str(dest), timeout=BUSY_TIMEOUT_S)
            try:
                d.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
                s.backup(d)
                return
            finally:
                d.close()
                s.close()
        except sqlite3.DatabaseError:
            pass  # a damaged store: replace the file below
    tmp = dest.with_name(dest.name + f".restore-{os.getpid()}-{int(time.time())}")
    shutil.copyfile(src, tmp)
    for suffix in ("-wal", "-shm"):
        p = Path(str(dest) + suffix)
        if p.exists():
            p.unlink()
    os.replace(tmp, dest)


def now() -> datetime:
    return datetime.now(timezone.utc)
