"""A code as a user types it (a01, Ａ０１, " A01 ") found as the store holds it (A01).

Codes match after NFKC and case folding; the exact code wins, and a folded match is taken only when it is
the only one (two codes differing in case stay apart)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func
from sqlmodel import select


def typed(code: str) -> str:
    return unicodedata.normalize("NFKC", code).strip()


def resolve(session, column, code: str) -> str:
    """The stored code `code` stands for in `column` (a code column of a table), or `code` as typed (NFKC)."""
    value = typed(code)
    if session.exec(select(column).where(column == value).limit(1)).first() is not None:
        return value
    found = session.exec(select(column).where(func.lower(column) == value.casefold()).limit(2)).all()
    return found[0] if len(found) == 1 else value
