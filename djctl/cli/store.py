"""`djctl migrate-store`: move the whole store to another database (e.g. a shared PostgreSQL server)."""

from __future__ import annotations

from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()


@app.command("migrate-store")
def migrate_store(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="目标数据库：新建的空库的 SQLAlchemy URL（如 postgresql+psycopg://用户@主机/djctl）或 SQLite 文件路径")],
    json_: JsonOpt = False,
) -> None:
    """把当前数据库（--db）的全部数据连同审计链原样复制到一个新建的空数据库，并核对每张表的行数与审计链头。

    复制在目标库的一个事务中完成：任何一步出错或核对不符，目标库都不会写入。目标库必须是空的。
    复制后请把 DJCTL_DB（或 --db）改为新地址，不要再向旧库写入。

    示例：djctl --db djctl.db migrate-store --to postgresql+psycopg://djctl@db.example/djctl
    """
    from djctl.services.migrate_store import migrate_store as run

    if not to.strip():
        raise typer.BadParameter("目标数据库不能为空", param_hint="--to")
    st = settings(ctx)
    out = Output(json_, st.quiet)
    source = st.open_store(must_exist=True)
    try:
        res = run(source, to)
    finally:
        source.dispose()
    if json_:
        out.doc(res.to_json())
        return
    out.info(f"源数据库：{res.source}")
    out.table(f"已复制到 {res.target}", ["表", "行数"], sorted(res.tables.items()), justify=["left", "right"])
    out.line(f"核对通过：各表行数一致；审计链 {res.events} 条事件完好，链头 #{res.head_seq} {res.head}")
    out.line(f"下一步：把 DJCTL_DB 设为 {res.target}（或每次加 --db），不要再向旧库写入")
