"""Presenting import results the same way for every importer."""

from __future__ import annotations

from typing import Any

from djctl.cli._output import Output


def present_import(out: Output, results: list[Any]) -> None:
    """Per file: imported / unchanged / refused with reasons, then totals. Exit 2 if any was refused."""
    import typer

    from djctl.services.importing import IMPORTED, REFUSED, STATUS_CN, totals

    t = totals(results)
    if out.json:
        out.doc({"files": [r.to_json() for r in results], "totals": t})
    else:
        for r in results:
            out.line(f"{r.path}：{STATUS_CN[r.status]}（{r.rows} 行）")
            for e in r.errors:
                out.line(f"    - {e}")
            for n in r.extra.get("notes", []):
                out.line(f"    注：{n}")
        if t["valid"]:  # a dry run: nothing was written, say what would be
            out.line(f"合计 {t['files']} 个文件（只校验，未写入）：将导入 {t['valid']}，已导入过 {t['unchanged']}，拒绝 {t['refused']}")
            out.line(f"读取 {t['rows_read']} 行 = 将导入 {t['rows_imported']} + 已存在 {t['rows_present']} + 拒绝 {t['rows_refused']}")
        else:
            out.line(f"合计 {t['files']} 个文件：导入 {t['imported']}，已导入过 {t['unchanged']}，拒绝 {t['refused']}")
            out.line(f"读取 {t['rows_read']} 行 = 导入 {t['rows_imported']} + 已存在 {t['rows_present']} + 拒绝 {t['rows_refused']}")
        refused = [r.path for r in results if r.status == REFUSED]
        if refused:  # exit 2 for the batch, but what went in stays in: say both, by name
            done = [r.path for r in results if r.status == IMPORTED]
            out.line("已导入：" + ("、".join(map(str, done)) if done else "无"))
            out.line("被拒绝（未写入，改正后重新导入即可）：" + "、".join(map(str, refused)))
    if not results:
        out.warn("没有找到任何表格文件（.xlsx、.xls、.ods）")
        raise typer.Exit(2)
    if any(r.status == REFUSED for r in results):
        raise typer.Exit(2)
