"""Copy a whole store into a new, empty one (e.g. the single SQLite file onto a shared PostgreSQL server).

One target transaction: create the schema (migrations to head), copy every table in foreign-key order
with bulk Core inserts (ids kept, the audit chain verbatim: the append-only triggers block only UPDATE
and DELETE), reset PostgreSQL sequences past the copied ids, then verify before committing: the row
count of every table equals the source's and the target's audit chain verifies to the source's head.
Any difference rolls the whole copy back, so the target is either a complete copy or left empty.

The copy appends no audit event of its own: the target's head must equal the source's, which is what
lets anyone check afterwards (`djctl audit verify --against`) that nothing was lost on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from djctl.errors import ActionNeeded, DjctlError, StoreError
from djctl.store import audit
from djctl.store.engine import MIGRATIONS_DIR, Store, current_revision, known_revisions, make_server_engine, resolve_url

CHUNK = 5000


@dataclass
class MigrateResult:
    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)
    events: int = 0
    head_seq: int = 0
    head: str = audit.GENESIS

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "tables": self.tables,
                "rows": sum(self.tables.values()),
                "audit": {"events": self.events, "head": {"seq": self.head_seq, "hash": self.head}},
                "verified": True}


def data_tables() -> list[Any]:
    """Every djctl table, parents before children (alembic's own table is left to the migrations)."""
    from sqlmodel import SQLModel

    import djctl.store.tables  # noqa: F401  (registers the tables)

    return list(SQLModel.metadata.sorted_tables)


def migrate_store(source: Store, to: str, *, chunk: int | None = None) -> MigrateResult:
    """Copy `source` (already open, at the current schema) into the empty store named by `to`."""
    url = resolve_url(to)
    if url == source.url:
        raise DjctlError("目标与当前数据库相同", hint="--to 请指定一个新建的空数据库")
    target = _open_target(url)
    try:
        return _copy(source, target, chunk or CHUNK)
    finally:
        target.dispose()


def _open_target(url: str) -> Store:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.parent.exists():
            raise StoreError(f"目标数据库所在目录不存在：{path.parent}")
        if path.exists() and not path.is_file():
            raise DjctlError(f"目标 {path} 不是普通文件（是目录或设备）", hint="--to 请指定一个新建的空数据库")
        if path.exists() and path.stat().st_size > 0:
            with open(path, "rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise DjctlError(f"目标 {path} 不是 SQLite 数据库文件", hint="--to 请指定一个新建的空数据库")
    return Store(url, make_server_engine(url))


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else exc.__class__.__name__


def _copy(source: Store, target: Store, chunk: int) -> MigrateResult:
    tables = data_tables()
    result = MigrateResult(source=source.describe(), target=target.describe())
    try:
        revision = current_revision(target)
    except OperationalError as exc:
        raise StoreError(f"无法连接或打开目标数据库：{_short(exc.orig or exc)}",
                         hint="请检查地址、用户和权限，并确认数据库已创建") from None
    head_rev = known_revisions()[-1]
    if revision not in (None, head_rev):
        raise DjctlError(f"目标数据库已有 djctl 数据（版本 {revision}）", hint="--to 请指定一个新建的空数据库")

    from alembic import command
    from alembic.config import Config

    with source.read() as src, target.write() as dst:
        if revision is None:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = dst.conn
            command.upgrade(cfg, head_rev)
        busy = [t.name for t in tables if dst.conn.execute(select(func.count()).select_from(t)).scalar_one()]
        if busy:
            raise DjctlError(f"目标数据库不是空的（已有数据的表：{'、'.join(busy)}）",
                             hint="--to 请指定一个新建的空数据库；不要先对它运行 djctl 的其他命令")
        expected: dict[str, int] = {}
        for t in tables:
            expected[t.name] = src.conn.execute(select(func.count()).select_from(t)).scalar_one()
            rows = src.conn.execute(select(t).order_by(*t.primary_key.columns).execution_options(yield_per=chunk))
            for batch in rows.partitions(chunk):  # a server-side cursor on PostgreSQL: never the whole table in memory
                dst.conn.execute(t.insert(), [dict(r._mapping) for r in batch])
        if not target.is_sqlite:
            _reset_sequences(dst.conn, tables)
        src_head = audit.head(src.conn)
        for t in tables:
            got = dst.conn.execute(select(func.count()).select_from(t)).scalar_one()
            if got != expected[t.name]:
                raise ActionNeeded(f"复制后表 {t.name} 的行数不符：源 {expected[t.name]}，目标 {got}（已回滚，目标未写入）")
            result.tables[t.name] = got
        check = audit.verify(dst.conn, src_head if src_head[0] else None)
        if not check.ok or (check.head_seq, check.head) != src_head:
            raise ActionNeeded(f"复制后的审计链校验失败：{check.problem or '链头与源库不同'}（已回滚，目标未写入）")
        result.events, result.head_seq, result.head = check.events, check.head_seq, check.head
    return result


def _reset_sequences(conn, tables) -> None:
    """After explicit-id inserts, move each serial sequence past the largest copied id."""
    quote = conn.dialect.identifier_preparer.quote
    for t in tables:
        pk = list(t.primary_key.columns)
        if len(pk) != 1 or pk[0].autoincrement is False:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": quote(t.name), "c": pk[0].name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval(:s, COALESCE(MAX({quote(pk[0].name)}), 1), MAX({quote(pk[0].name)}) IS NOT NULL) "
                              f"FROM {quote(t.name)}"), {"s": seq})
