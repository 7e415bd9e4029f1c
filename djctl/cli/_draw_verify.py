"""The body of every `… verify` command of a draw kind (sample, lookback, rectify recheck): one wording."""

from __future__ import annotations

from pathlib import Path

import typer

from djctl.cli._output import Output
from djctl.cli._settings import settings


def run_verify(ctx: typer.Context, draw_id: int | None, record: Path | None, json_: bool, kind: str) -> None:
    """Redo a stored draw (`draw_id`) or an exported record (`record`, no store opened) and report; exit 1 with
    every difference when it does not match."""
    if (draw_id is None) == (record is None):
        raise typer.BadParameter("请给出抽签编号或 --record 文件（二者之一）", param_hint="DRAW_ID / --record")
    from djctl.errors import ActionNeeded
    from djctl.services.draw_verify import verify_draw, verify_record_file

    st = settings(ctx)
    out = Output(json_, st.quiet)
    v = verify_record_file(record) if record is not None else verify_draw(st.open_store(must_exist=True), draw_id, kind)
    where = f"抽签 #{v.draw_id}（{v.label}）" if v.draw_id is not None else f"抽签记录（{v.label}）"
    if json_:
        out.doc(v.to_json())
    elif v.ok:
        out.line(f"{where}核验一致：按记录重新抽签，结果完全相同。抽中：" + "、".join(v.selected))
        out.line(f"记录摘要（SHA-256）：{v.record_sha256}")
    if not v.ok:
        out.line(f"{where}核验不一致：")
        for d in v.differences:
            out.line(f"  - {d}")
        raise ActionNeeded(f"{where}核验不一致：{len(v.differences)} 处", hint="记录或明细可能被改动；请查审计日志（djctl audit verify）")
