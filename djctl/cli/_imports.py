"""Presenting import results the same way for every importer."""

from __future__ import annotations

from typing import Any

from djctl.cli._output import Output


def present_import(out: Output, results: list[Any]) -> None:
    """Per file: imported / unchanged / refused with reasons, then totals. Exit 2 if any was refused."""
    import typer

    from djctl.services.importing import REFUSED, STATUS_CN, totals

    t = totals(results)
    if out.json:
        out.doc({"files": [r.to_json() for r in results], "totals": t})
    else:
        for r in results:
            out.line(f"{r.path}：{STATUS_CN[r.status]}（{r.rows} 行）")
            for e in r.errors:
                out.line(f"    - {e}")
        out.line(f"合计 {t['files']} 个文件：导入 {t['imported']}，已导入过 {t['unchanged']}，拒绝 {t['refused']}"
                  + (f"，校验通过 {t['valid']}" if t["valid"] else ""))
        out.line(f"读取 {t['rows_read']} 行 = 导入 {t['rows_imported']} + 已存在 {t['rows_present']} + 拒绝 {t['rows_refused']}")
    if not results:
        out.warn("没有找到任何 .xlsx 文件")
        raise typer.Exit(2)
    if any(r.status == REFUSED for r in results):
        raise typer.Exit(2)
