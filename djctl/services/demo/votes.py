"""The demo's democratic evaluation: the form written, filled by the tellers, imported."""

from __future__ import annotations

from typing import Any

from djctl.errors import DjctlError
from djctl.io.outfile import save_workbook
from djctl.io.votes_xlsx import VOTE_SHEET
from djctl.services.importing import REFUSED
from djctl.services.votes import import_votes, votes_for_year, write_template
from djctl.store.engine import Store


def demo_step(store: Store, ctx: Any) -> list[str]:
    """The committee's evaluation meeting: write the form, fill it as the tellers would, import it."""
    import random

    from openpyxl import load_workbook

    from djctl.io.xlsx import put

    inputs = ctx.dir / "inputs"
    form, n = write_template(store, ctx.year, inputs / f"民主测评表{ctx.year}（空白）.xlsx")
    wb = load_workbook(form)
    ws = wb[VOTE_SHEET]
    rng = random.Random(f"djctl-demo-votes-{ctx.year}")
    for r in range(2, n + 2):
        voters = rng.randint(28, 60)
        quality = rng.random()  # how well the unit is seen
        p_good = 0.45 + 0.45 * quality
        p_fair = (1 - p_good) * 0.7
        p_avg = (1 - p_good - p_fair) * 0.8
        counts = [0, 0, 0, 0]
        for _ in range(voters):
            x = rng.random()
            counts[0 if x < p_good else 1 if x < p_good + p_fair else 2 if x < p_good + p_fair + p_avg else 3] += 1
        for c, value in enumerate(counts + [voters], 3):
            put(ws, r, c, value)
    filled = inputs / f"民主测评表{ctx.year}.xlsx"
    save_workbook(wb, filled)
    res = import_votes(store, filled, year=ctx.year)
    if res.status == REFUSED:
        raise DjctlError(f"示范民主测评表导入失败：{res.message}")
    with store.read() as uow:
        listing = votes_for_year(uow.session, ctx.year)
    return [f"民主测评：{n} 个单位的测评票导入（{filled}），共 {sum(sum(v.values()) for v in listing.values())} 票"]
