"""`djctl audit log|verify|head`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import ActionNeeded

app = make_app(help="审计日志：每次写入都追加一条带哈希链的事件。")


@app.command("log")
def audit_log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="显示最近多少条")] = 50,
    action: Annotated[Optional[str], typer.Option("--action", help="只看某类操作（前缀，如 selfeval）")] = None,
    json_: JsonOpt = False,
) -> None:
    """列出最近的审计事件。

    示例：djctl audit log -n 20
    """
    from djctl.services.audit_log import log

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    events = log(store, limit=limit, action=action)
    if json_:
        out.doc({"store": store.describe(), "events": events})
        return
    out.info(f"数据库：{store.describe()}")
    out.table("审计事件", ["序号", "时间(UTC)", "操作人", "操作", "内容摘要", "哈希"],
              [(e["seq"], e["at"][:19], e["actor"], e["action"], e["summary"], e["hash"][:12]) for e in events])


@app.command("verify")
def audit_verify(
    ctx: typer.Context,
    against: Annotated[Optional[Path], typer.Option("--against", help="此前用 djctl audit head --json 导出的链头文件")] = None,
    json_: JsonOpt = False,
) -> None:
    """重新计算整条审计链，指出第一条有问题的事件。

    示例：djctl audit verify --against 链头-2024-03.json
    """
    from djctl.services.audit_log import verify

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    r = verify(store, against)
    if json_:
        out.doc({"store": store.describe(), "ok": r.ok, "events": r.events, "head": {"seq": r.head_seq, "hash": r.head},
                 "problem": r.problem, "bad_seq": r.bad_seq})
    elif r.ok:
        out.line(f"审计链完好：{r.events} 条事件，链头 #{r.head_seq} {r.head}")
    if not r.ok:
        raise ActionNeeded(f"审计链校验失败：{r.problem}", hint="数据可能被绕过 djctl 修改；请从备份恢复并调查")


@app.command("head")
def audit_head(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """显示当前链头（序号与哈希），可另行保存，日后用 verify --against 比对。

    示例：djctl audit head --json > 链头-2024-03.json
    """
    from djctl.services.audit_log import head_doc

    st = settings(ctx)
    doc = head_doc(st.open_store(must_exist=True))
    if json_:
        Output(True).doc(doc)
    else:
        typer.echo(f"#{doc['seq']} {doc['hash']}")
