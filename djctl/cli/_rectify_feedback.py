"""`djctl rectify letters|import`: one feedback letter per unit, and its returned 整改台账 read back.

Registered onto the `rectify` group by `djctl.cli.rectify` (`register(app)`); `feedback_lines` and
`submitted_table` show the submitted feedback in `rectify show` / `rectify list`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from djctl.cli._imports import present_import
from djctl.cli._options import DryRunOpt, FilesArg, JsonOpt, OutDirOpt, parse_date_opt, parse_period_opt
from djctl.cli._output import Output
from djctl.cli._settings import settings


def feedback_lines(out: Output, doc: dict[str, Any]) -> None:
    """Where the item's submitted feedback came from and what became of it (`rectify show`; its text is the
    item's 反馈 line above)."""
    sub = doc.get("submission")
    if not sub:
        return
    after = [c["action"] for c in doc["changes"] if c["date"] >= sub["date"]]
    later = after[after.index("feedback") + 1:] if "feedback" in after else []
    state = {"return": "已退回", "close": "已审核销号"}.get(later[-1] if later else "", "待审核销号")
    out.line(f"  整改台账：{sub['date']} 报送（{sub.get('file', '')} 第 {sub.get('row', '')} 行），{state}")


def submitted_table(out: Output, items: list[dict[str, Any]]) -> None:
    """The feedback of the items 已整改待核 in a `rectify list` (its text as kept in the item)."""
    sub = [i for i in items if i["status"] == "submitted"]
    if not sub:
        return
    out.table(f"已整改待核事项的整改反馈（{len(sub)} 项，待 rectify close 销号或 rectify reopen 退回）",
              ["编号", "组织", "整改反馈"], [(i["id"], i["name"] or i["org"], i["feedback"]) for i in sub])


def register(app: typer.Typer) -> None:
    @app.command("letters")
    def rectify_letters(
        ctx: typer.Context,
        period: Annotated[str, typer.Option("--period", help="期间：季度（如 2024Q3）、月份（如 2024-09）或年度")],
        out_dir: OutDirOpt,
        on_date: Annotated[Optional[str], typer.Option("--date", help="发函日期，也是列出未销号问题的截至日期（默认期间最后一天）")] = None,
        org: Annotated[Optional[str], typer.Option("--org", help="只给某个考核单位发函（其所属支部的问题一并列出）")] = None,
        reply_by: Annotated[Optional[str], typer.Option("--reply-by", help="报送整改情况的期限（默认发函后 30 天）")] = None,
        templates: Annotated[Optional[Path], typer.Option("--templates", help="自定义模板目录（rectify_letter.docx 或 official.docx）")] = None,
        json_: JsonOpt = False,
    ) -> None:
        """给每个有未销号问题的考核单位发问题整改反馈函，附问题整改台账。

        每份函（.docx，红头公文）主送该单位书记，列出该单位及所属支部截至当日的全部未销号问题（类别、来源、问题、
        整改要求、期限）；旁附该单位的问题整改台账（.xlsx），单位填写后用 djctl rectify import 导入。

        示例：djctl rectify letters --period 2024Q3 --out 整改反馈函
        """
        p = parse_period_opt(period, ("quarter", "month", "year"), "--period")
        day = parse_date_opt(on_date, "--date") if on_date else None
        reply = parse_date_opt(reply_by, "--reply-by") if reply_by else None
        from djctl.services.rectify_feedback import write_letters

        st = settings(ctx)
        out = Output(json_, st.quiet)
        doc = write_letters(st.open_store(must_exist=True), p, out_dir, on_date=day, org=org, reply_by=reply,
                            templates=templates)
        if json_:
            out.doc(doc)
            return
        for x in doc["letters"]:
            out.result(f"{x['letter']}（{x['name']}，{len(x['items'])} 个问题"
                       + (f"，逾期 {x['overdue']} 个" if x["overdue"] else "") + "）")
            out.line(f"  {x['ledger']}")
        out.info(f"共 {len(doc['letters'])} 份反馈函、{doc['items']} 个未销号问题（截至 {doc['as_of']}，报送期限 {doc['reply_by']}）")

    @app.command("import")
    def rectify_import(
        ctx: typer.Context,
        files: FilesArg,
        on_date: Annotated[Optional[str], typer.Option("--date", help="收到整改反馈的日期（业务日期，默认今天）；完成时间不能晚于它")] = None,
        dry_run: DryRunOpt = False,
        json_: JsonOpt = False,
    ) -> None:
        """导入单位报送的问题整改台账，填报的事项改为已整改待核。

        每份文件全部通过才写入，同一文件（或内容相同的文件）重复导入不改动；已整改待核的事项仍计为未销号，
        经 rectify close 审核销号，或 rectify reopen 退回重新整改。

        示例：djctl rectify import 回收的整改台账/ --date 2024-10-28 --dry-run
        """
        day = parse_date_opt(on_date, "--date") if on_date else None
        from djctl import clock
        from djctl.services.rectify_feedback import import_files

        st = settings(ctx)
        out = Output(json_, st.quiet)
        present_import(out, import_files(st.open_store(must_exist=True), files, on_date=day or clock.today(),
                                         dry_run=dry_run))
