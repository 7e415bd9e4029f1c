"""The year-end documents of issue 19: the 述职评议 result notice (when the year has one), the 评先评优
eligibility table and the party-building part of the combined assessment (综合考核党建部分)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from djctl.store.engine import Store

FORMATS = ["docx", "md", "html", "xlsx"]


def yearend_documents(store: Store, year: int, out_dir: Path, templates: Path | None, day: date) -> list[Path]:
    from djctl.services.combined import combined, write_combined_xlsx, write_eligibility
    from djctl.services.debrief import has_debriefs, write_report

    with store.read() as uow:
        debriefs = has_debriefs(uow.session, year)
    paths: list[Path] = []
    if debriefs:
        paths += write_report(store, year, formats=FORMATS, out_dir=out_dir, templates=templates, on_date=day)
    paths += write_eligibility(store, year, formats=FORMATS, out_dir=out_dir, templates=templates, on_date=day)
    paths.append(write_combined_xlsx(combined(store, year), out_dir / f"{year}_综合考核党建部分.xlsx"))
    return paths
