"""The demo's negative list: built and written as documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from djctl.services.negative import negative_list
from djctl.store.engine import Store


def demo_step(store: Store, ctx: Any) -> list[str]:
    """Build the demo year's list and write it as .docx and .xlsx into ctx.dir / "文书"."""
    doc = negative_list(store, ctx.year, build_list=True, formats=["docx", "xlsx"], out_dir=ctx.dir / "文书",
                        templates=getattr(ctx, "templates", None))
    ctx.files.extend(Path(p) for p in doc["files"])
    c = doc["counts"]
    return [f"{ctx.year} 年度负面清单：{c['unit']} 个考核单位、{c['branch']} 个党支部（{Path(doc['files'][0]).name}）"]
