"""`djctl backup` and `djctl restore`: a verified copy of the SQLite store, and putting one back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()


def _present(out: Output, info, title: str) -> None:
    out.table(title, ["表", "行数"], [(t, n) for t, n in sorted(info.counts.items()) if t != "alembic_version"],
              justify=["left", "right"])
    out.line(f"数据库版本 {info.revision}；审计链 {info.events} 条事件完好，链头 #{info.head_seq} {info.head}")
    out.line(f"文件 {info.path}（{info.bytes} 字节，SHA-256 {info.sha256}）")


@app.command("backup")
def backup(
    ctx: typer.Context,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="备份文件路径；给出目录时在其中按时间命名")],
    json_: JsonOpt = False,
) -> None:
    """备份数据库：用 SQLite 备份接口复制一份一致的副本，核对完整性、各表行数与审计链后才保留。

    同时写出说明文件（备份文件名 + .json），记下各表行数、审计链头和文件的 SHA-256，
    恢复时据此核对；备份本身也记入审计日志。PostgreSQL 请用 pg_dump。

    示例：djctl backup --out 备份/djctl-2024-03.db
    """
    from djctl.services.backup import backup as run
    from djctl.services.backup import sidecar_path

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    try:
        info = run(store, out_path)
    finally:
        store.dispose()
    if json_:
        out.doc({"store": store.describe(), **info.to_json(),
                 "head_file": str(info.head_file) if info.head_file else None})
        return
    out.info(f"数据库：{store.describe()}")
    _present(out, info, "备份核对通过")
    out.line(f"说明文件 {sidecar_path(info.path)}")
    if info.head_file is not None:
        out.line(f"链头文件 {info.head_file}（请另存到数据库以外的地方，日后用 djctl audit verify --against 比对）")
    out.result(str(info.path))


@app.command("restore")
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="djctl backup 生成的备份文件", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", help="不询问，直接恢复")] = False,
    json_: JsonOpt = False,
) -> None:
    """从备份恢复数据库：先核对备份（完整性、审计链、与说明文件一致），确认后替换当前数据库。

    被替换的数据库保留为 djctl.db.before-restore-时间；恢复后在审计日志中追加一条恢复记录。
    数据库损坏、无法打开时也可以恢复。恢复前请确认没有其他人正在使用这个数据库。

    示例：djctl restore 备份/djctl-2024-03.db --yes
    """
    from djctl.services.backup import inspect_backup, restore as run, target_path

    st = settings(ctx)
    out = Output(json_, st.quiet)
    dest = target_path(st.db)
    info = inspect_backup(file)
    if not info.ok:
        from djctl.errors import InputError

        raise InputError("备份文件校验未通过，不能用于恢复：" + "；".join(info.problems[:3]), path=str(file),
                         hint="请换一份备份；用 djctl audit verify 可查看备份中哪些数据有问题（--db 指向备份的副本）")
    for note in info.notes:
        out.warn(note)
    if not (yes or st.yes):
        if not st.interactive:
            raise typer.BadParameter("恢复会替换当前数据库：请加 --yes 确认，或在终端中运行以便询问", param_hint="--yes")
        out.info(f"备份：{file}（{info.rows} 行数据，审计链头 #{info.head_seq}）")
        if not typer.confirm(f"用这份备份替换数据库 {dest}？", default=False, err=True):
            raise typer.Exit(1)
    result = run(st.db, info, allow_network_fs=st.allow_network_fs)
    if json_:
        out.doc(result.to_json())
        return
    _present(out, info, "已恢复的备份")
    out.line(f"已恢复到 {result.store}" + (f"；原数据库保留为 {result.kept}" if result.kept else ""))
    out.line(f"审计日志已记录本次恢复（第 {result.event_seq} 号事件）")
