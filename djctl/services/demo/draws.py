"""The demo's monthly draws: published-style seeds, one redraw with its reason."""

from __future__ import annotations

from pathlib import Path

from djctl.io.outfile import write_text
from djctl.services.draw_text import publication_lines
from djctl.services.spotcheck_draw import draw_sample
from djctl.store.engine import Store


def demo_seed(year: int, month: int) -> str:
    """A published-style seed for the demo: a fictional lottery result fixed per month."""
    from djctl.services.demo.seeds import lottery_seed

    return lottery_seed(f"{year}-{month:02d}")


DEMO_REDRAW_MONTH = 6
DEMO_REDRAW_REASON = "公示前发现种子抄录有误（误用上一期开奖号码），按本期号码重抽"


def demo_step(store: Store, ctx) -> list[str]:
    """Draw every month of the demo year with a published-style seed; write each record and its 公示.

    June shows a redraw: first drawn with a mistyped seed, then redrawn with a reason (both kept).
    """
    from djctl.services.draw_verify import write_record_file

    out_dir = Path(ctx.dir) / "抽签"
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for mi in range(1, 13):
        m = f"{ctx.year}-{mi:02d}"
        if mi == DEMO_REDRAW_MONTH:
            first = draw_sample(store, m, seed=demo_seed(ctx.year, mi - 1)).draw
            result = draw_sample(store, m, seed=demo_seed(ctx.year, mi), redraw=True, reason=DEMO_REDRAW_REASON)
            lines.append(f"{m}：抽签 #{first.id} 种子有误，重抽为 #{result.draw.id}（{result.draw.label}），两次记录均保留")
        else:
            result = draw_sample(store, m, seed=demo_seed(ctx.year, mi))
        d = result.draw
        record_path = write_record_file(d, out_dir / f"抽签记录-{m}.json")
        text_path = out_dir / f"抽签公示-{m}.txt"
        write_text(text_path, "\n".join(publication_lines(d)) + "\n")
        ctx.files.extend([text_path, record_path])
        if mi <= 2:
            excluded = f"，已排除上月抽中的 {len(d.record.excluded)} 个" if d.record.excluded else ""
            lines.append(f"{m}：种子「{d.seed}」，总体 {len(d.record.population)} 个{excluded}，"
                         f"抽中 {len(d.selected)} 个：" + "、".join(d.selected))
    lines.append(f"全年 12 个月各抽签一次（6 月重抽一次），抽签记录与公示文本在 {out_dir}；"
                 "任何人可用 djctl sample verify --record 文件 独立复算")
    return lines
