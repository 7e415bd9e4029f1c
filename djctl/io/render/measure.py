"""Table column widths for Word: what a cell's text needs, in twips (numbers, dates and short names whole)."""

from __future__ import annotations

import re

_UNIT_TWIPS = 125   # one half-width character of 小四 (12 pt) text, with a little slack
_CELL_PAD_TWIPS = 150   # the cell margins (2 × 57) and a little slack


def _column_widths(natural: list[int], minimum: list[int], total: int) -> list[int]:
    """Every column gets what its longest unbreakable piece needs (numbers never wrap), then the rest
    of the line is shared among the columns whose text can wrap, in proportion to what they lack."""
    mins = [m * _UNIT_TWIPS + _CELL_PAD_TWIPS for m in minimum]
    need = sum(mins)
    short = [m <= 8 for m in minimum]   # numbers, dates, short headers and names: never squeezed
    fixed = sum(w for w, s in zip(mins, short) if s)
    if need >= total and fixed < total and not all(short):
        # too wide: the short columns keep their width, the long texts share what is left and wrap more
        rest = total - fixed
        flexible = sum(w for w, s in zip(mins, short) if not s)
        widths = [w if s else rest * w // flexible for w, s in zip(mins, short)]
    elif need >= total:
        widths = [total * m // need for m in mins]
    else:
        wants = [max(0, min(n, 30) * _UNIT_TWIPS + _CELL_PAD_TWIPS - m) for n, m in zip(natural, mins)]
        spare = total - need
        if sum(wants) <= spare:
            # everything fits on one line: give the leftover to the widest text columns
            extra = [w + (spare - sum(wants)) * w // max(sum(wants), 1) for w in wants] if sum(wants) else wants
        else:
            extra = [spare * w // sum(wants) for w in wants]
        widths = [m + e for m, e in zip(mins, extra)]
    widths[-1] += total - sum(widths)
    return widths


_LATIN_TOKEN = re.compile(r"[0-9A-Za-z.,:%+\-−/]+")
_WIDE_CHAR = re.compile("[\u2e80-\U0010ffff]")   # counts twice in _display_width (ord > 0x2E7F)


_NUMERIC = re.compile(r"[0-9０-９.,:%+\-−/—年月日号个项分（）()第次]+")


def _unbreakable_width(text: str) -> int:
    """Width of the longest piece that must not wrap: a number, date or Latin word stays whole; a name
    or header of up to eight characters stays on one line; longer CJK text wraps, but never narrower
    than six characters a line (so a name never breaks one character a line)."""
    if not text:
        return 0
    width = _display_width(text)
    # digits of a substitute font (DejaVu Serif where Times New Roman is missing) are about a quarter wider
    if _NUMERIC.fullmatch(text.replace("\n", "")):
        return width + (width + 3) // 4
    latin = max(map(len, _LATIN_TOKEN.findall(text)), default=0)
    latin += (latin + 3) // 4
    cjk = width if width <= 16 else 12
    return max(latin, cjk)


def _display_width(text: str) -> int:
    if "\n" in text:
        text = max(text.split("\n"), key=len)
    return len(text) + len(_WIDE_CHAR.findall(text))
