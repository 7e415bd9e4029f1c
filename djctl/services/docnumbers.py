"""发文字号: numbers given to the documents the committee issues, counted in the store per year of issue.

A document is named by its kind and subject (bulletin 2024Q2, ranking 2024, …). It gets its number the
first time a run issues it and keeps it when issued again; a number is never given to another document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import select

from djctl.domain.scheme import Scheme
from djctl.store.content import ROW_DIGESTS, row_digests
from djctl.store.tables import DocNumber


@dataclass(frozen=True)
class DocRef:
    kind: str
    subject: str
    title: str


def assign_numbers(uow, scheme: Scheme, docs: list[DocRef], on_date: date) -> dict[tuple[str, str], str]:
    """Give every document of `docs` without a number the next numbers of `on_date`'s year (inside the
    caller's write transaction; one audit event for the new ones). Returns (kind, subject) -> number for
    all of `docs`; empty when the scheme has no `documents.number_pattern`."""
    pattern = scheme.documents.number_pattern
    if not pattern or not docs:
        return {}
    session = uow.session
    have = {(r.kind, r.subject): r for r in session.exec(
        select(DocNumber).where(DocNumber.kind.in_({d.kind for d in docs})))}
    year = on_date.year
    last = session.exec(select(func.max(DocNumber.seq)).where(DocNumber.year == year)).one() or 0
    new: list[DocNumber] = []
    for d in docs:
        if (d.kind, d.subject) in have:
            continue
        last += 1
        row = DocNumber(year=year, seq=last, number=pattern.format(year=year, n=last), kind=d.kind,
                        subject=d.subject, title=d.title, issued_on=on_date)
        session.add(row)
        have[(d.kind, d.subject)] = row
        new.append(row)
    if new:
        session.flush()
        uow.audit("docs.number", {"year": year, "numbers": [[r.number, r.kind, r.subject] for r in new],
                                  ROW_DIGESTS: row_digests(uow, doc_number=[r.id for r in new])})
    return {(d.kind, d.subject): have[(d.kind, d.subject)].number for d in docs}


def stored_number(session, kind: str, subject: str) -> str | None:
    row = session.exec(select(DocNumber).where(DocNumber.kind == kind, DocNumber.subject == subject)).first()
    return row.number if row else None


def list_numbers(session) -> list[DocNumber]:
    return list(session.exec(select(DocNumber).order_by(DocNumber.year, DocNumber.seq)))
