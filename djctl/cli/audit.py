"""`djctl audit log|verify|head`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from djctl.cli._app import make_app
from djctl.cli._options import JsonOpt
from djctl.cli._output import Output
from djctl.cli._settings import settings
from djctl.errors import ActionNeeded

app = make_app(help="审计日志：每次写入都追加一条带哈希链的事件。")
MAX_SHOWN = 20


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
    chain_only: Annotated[bool, typer.Option("--chain-only", help="只校验审计链，不核对各表数据与审计事件是否一致")] = False,
    json_: JsonOpt = False,
) -> None:
    """重新计算整条审计链，再逐条核对自评、核查、抽签、测评票、任务清单、加减分项等数据与写入时的审计事件是否一致。

    指出第一条有问题的事件，以及被改动、删除或绕过 djctl 写入的表和行。

    示例：djctl audit verify --against 链头-2024-03.json
    """
    from djctl.services.audit_log import verify

    st = settings(ctx)
    out = Output(json_, st.quiet)
    store = st.open_store(must_exist=True)
    r = verify(store, against, content=not chain_only)
    c = r.chain
    if json_:
        out.doc({"store": store.describe(), **r.to_json()})
    else:
        out.info(f"数据库：{store.describe()}")
        if c.ok:
            out.line(f"审计链完好：{c.events} 条事件，链头 #{c.head_seq} {c.head}")
        if r.content is not None and r.content.ok:
            out.line(f"数据与审计事件一致：核对 {r.content.events} 条事件、{r.content.rows} 行数据")
        if r.content is not None and r.content.unverified:
            out.warn(f"{len(r.content.unverified)} 行数据没有对应的审计事件，但库中有非 djctl 写入的事件"
                     f"（{'、'.join(r.content.unknown_actions[:5])}），无法判断，未计为问题")
        if r.content is not None and r.content.not_covered:
            tables = "、".join(dict.fromkeys(p.table for p in r.content.not_covered))
            n = sum(len(p.rows) for p in r.content.not_covered)
            out.warn(f"{n} 行数据（{tables}）由旧版 djctl 写入，审计事件中没有其内容摘要，未逐行核对（用 --json 查看）")
        for line in r.problems[:MAX_SHOWN]:
            out.line(line)
        if r.count > MAX_SHOWN:
            out.line(f"……另有 {r.count - MAX_SHOWN} 处（用 --json 查看）")
    if not r.ok:
        what = "审计链校验失败" if not c.ok else "审计表的追加保护被去掉或改动" if r.guard else "数据与审计事件不一致"
        raise ActionNeeded(f"{what}：{r.problems[0]}" + (f"（共 {r.count} 处）" if r.count > 1 else ""),
                           hint=("追加保护被去掉后，删除最近的审计事件只能与另行保存的链头比对发现（djctl audit verify --against 链头文件）；"
                                 "请调查谁改动了数据库" if r.guard and c.ok and (r.content is None or r.content.ok) else
                                 "数据可能被绕过 djctl 修改；请从备份恢复（djctl restore）并调查"))


@app.command("head")
def audit_head(
    ctx: typer.Context,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="把链头写入这个文件（请保存在数据库以外的地方）")] = None,
    json_: JsonOpt = False,
) -> None:
    """显示当前链头（序号与哈希），可另行保存，日后用 verify --against 比对。

    用 --out 写成链头文件，保存在数据库以外的地方（另一台电脑、U 盘、邮件）；
    追加保护被去掉后，删除最近的审计事件只能靠它发现。每次 djctl backup 也会在备份旁写一份。

    示例：djctl audit head --out 链头-2024-03.json
    """
    from djctl.services.audit_log import head_doc, write_head_file

    st = settings(ctx)
    store = st.open_store(must_exist=True)
    doc = write_head_file(store, out_file) if out_file is not None else head_doc(store)
    if out_file is not None and not json_:
        Output(False, st.quiet).result(f"已写入链头 #{doc['seq']}：{out_file}")
        return
    if json_:
        Output(True).doc(doc)
    else:
        typer.echo(f"#{doc['seq']} {doc['hash']}")
