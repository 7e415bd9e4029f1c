"""Text cleaned at the door (DESIGN §7): codes checked, names and free text stripped of hidden characters.

The choice per field (also in DESIGN §7):
- codes (unit, branch, task, item, inspector): NFKC, then letters of any script (with their combining
  marks), digits and `-_.` only; no leading dot, no `..`. Anything else is REFUSED with row and column:
  a code names files and is matched across files, so it is never silently changed.
- names and short text (unit/branch/task names, groups, secretaries, checkers, notes up to 200 characters):
  C0/C1 controls, DEL, tab and newline, bidi controls and zero-width characters are STRIPPED (a tab or a
  newline becomes a space): they come from copy and paste, and a name is one line.
- long free text (problem descriptions, reasons, bases, remarks over 200 characters): the same, but tab and
  newline are kept (a carriage return becomes a newline).
"""

from __future__ import annotations

import re
import unicodedata

# bidi embeddings/overrides/isolates and marks, zero-width characters, the BOM, the soft hyphen, the
# word joiner and invisible operators, Mongolian vowel separator, interlinear annotation, the tag block
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\ufff9\ufffa\ufffb"
_INVISIBLE = re.compile("[" + re.escape(BIDI + ZERO_WIDTH) + "\U000e0000-\U000e007f]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_KEEP_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029\x85]+")
CODE_PUNCT = "-_."
CODE_MAX = 64


def strip_invisible(text: str) -> str:
    """Remove bidi controls, zero-width characters and every C0/C1 control (a line break becomes a space)."""
    text = _LINE_BREAKS.sub(" ", text)
    return _CONTROLS.sub("", _INVISIBLE.sub("", text))


def clean_name(text: str) -> str:
    """A one-line name or short text: hidden characters stripped, spaces trimmed."""
    return strip_invisible(text).strip()


def clean_long_text(text: str) -> str:
    """Free text: hidden characters stripped, but tab and newline kept (CR/CRLF become newlines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = text.replace("\x85", "\n")
    return _CONTROLS_KEEP_LINES.sub("", _INVISIBLE.sub("", text)).strip()


def code_problem(code: str) -> str | None:
    """Why `code` (already NFKC-normalised) is not a valid code, or None when it is."""
    if not code:
        return "不能为空"
    if len(code) > CODE_MAX:
        return f"过长（{len(code)} 字，上限 {CODE_MAX}）"
    bad = [ch for ch in code if not _code_char(ch)]
    if bad:
        shown = "、".join(_show(ch) for ch in dict.fromkeys(bad))
        return f"编码中含有不允许的字符（{shown}）：编码只能由文字、数字和 - _ . 组成"
    if unicodedata.category(code[0]).startswith("M"):
        return "编码不能以组合符号开头"
    if code.startswith("."):
        return "编码不能以点开头"
    if ".." in code:
        return "编码中不能有连续的两个点"
    return None


def check_code(code: str) -> str:
    """NFKC-normalise `code` and raise ValueError (Chinese) unless it is a valid code."""
    value = unicodedata.normalize("NFKC", str(code)).strip()
    why = code_problem(value)
    if why:
        raise ValueError(f"编码「{printable(value)}」无效：{why}")
    return value


def _code_char(ch: str) -> bool:
    if ch in CODE_PUNCT:
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "LM" or cat == "Nd"


def _show(ch: str) -> str:
    if ch.isprintable() and not _INVISIBLE.match(ch) and not ch.isspace():
        return f"「{ch}」"
    return f"U+{ord(ch):04X}"


def printable(text: str) -> str:
    """`text` for a message or the terminal: hidden characters shown as <U+XXXX>, never passed through."""
    return "".join(ch if ch.isprintable() and not _INVISIBLE.match(ch) else f"<U+{ord(ch):04X}>" for ch in text)


def display_width(text: str) -> int:
    """How many half-width columns `text` takes on a screen or in a spreadsheet column: a wide (CJK)
    character two, a combining mark none, anything else one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)
