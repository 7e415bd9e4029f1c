"""`djctl demo`: run the demo year of a fictional city."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings

app = make_app()


@app.command("demo")
def demo(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="示范数据与文书的输出目录（其中由示范生成的 djctl.db 会被重建）", metavar="目录")] = Path("djctl-demo"),
    force: Annotated[bool, typer.Option("--force", help="目录中已有别的数据库时，先备份并核对，再重建")] = False,
    json_: JsonOpt = False,
) -> None:
    """运行示范年度：建库、载入方案与名册，并依次执行已有的全部考核环节，生成真实文书。

    目录中已有不是示范生成的数据库（或示范之后又写入过）时拒绝运行；加 --force 先备份并核对，再重建。

    示例：djctl demo --dir djctl-demo
    """
    from djctl.services.demo import run_demo

    st = settings(ctx)
    out = Output(json_, st.quiet)
    result = run_demo(directory, progress=out.info if not json_ else (lambda _: None), templates=st.templates, force=force)
    if json_:
        out.doc(result)
        return
    if result["backup_before"]:
        out.line(result["backup_before"])
    out.line(f"示范年度完成。数据库：{result['db']}")
    out.note(f"查看：djctl --db {result['db']} org list")
