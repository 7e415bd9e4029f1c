"""Bar charts for documents, in pure Python: PNG (zlib + struct) and SVG.

The PNG carries no text that needs a CJK font: bars, grid lines, the y-axis ticks and the bar numbers
1..n are drawn with a small built-in bitmap digit font; it serves the Markdown output only, whose
template writes the legend "1 单位A（95.5）；2 …" under it. Word documents carry a native chart instead
(djctl/io/render/chart_docx.py: the office program draws the Chinese labels with its own fonts). The
SVG, for HTML only, carries the Chinese labels as escaped <text> elements, since browsers have CJK fonts.

No matplotlib or PIL: documents are rendered on offline office machines with a plain Python.
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape
from typing import Any

MAX_BARS = 1_000
MIN_SIZE, MAX_SIZE = 100, 8_000

BG = (255, 255, 255)
BAR = (192, 0, 0)          # 党建 red
GRID = (221, 221, 221)
AXIS = (64, 64, 64)
TEXT = (32, 32, 32)

# 5x7 (and narrower) bitmap glyphs for the only text the PNG carries: numbers.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    ".": ("00", "00", "00", "00", "00", "11", "11"),
    "-": ("0000", "0000", "0000", "1111", "0000", "0000", "0000"),
    "%": ("11001", "11010", "00010", "00100", "01000", "01011", "10011"),
    " ": ("000", "000", "000", "000", "000", "000", "000"),
}
_GLYPH_H = 7

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(value: Any) -> str:
    """Text that is legal in XML 1.0 (Word, SVG, xlsx): control characters dropped, CRLF -> LF."""
    text = "" if value is None else str(value)
    return _XML_BAD.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def format_number(value: Any) -> str:
    """At most two decimals, half-up, trailing zeros dropped: 95.50 -> '95.5', 100 -> '100'."""
    d = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("图表数值不能是布尔值")
    try:
        d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"图表数值不是数字：{value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"图表数值不是有限数：{value!r}")
    return d


def _check(labels: Sequence[Any], values: Sequence[Any], width: int, height: int) -> list[float]:
    if len(labels) != len(values):
        raise ValueError(f"图表标签 {len(labels)} 个，数值 {len(values)} 个，数量不一致")
    if len(values) > MAX_BARS:
        raise ValueError(f"图表柱子过多（{len(values)}，上限 {MAX_BARS}）")
    for name, size in (("width", width), ("height", height)):
        if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"图表 {name} 须为 {MIN_SIZE}–{MAX_SIZE} 的整数：{size!r}")
    return [float(_decimal(v)) for v in values]


def nice_scale(data_max: float, max_value: Any = None, ticks: int = 5, *, integer: bool = False) -> tuple[float, float]:
    """(top, step) of the y axis: top >= every value, step a 1/2/2.5/5 x 10^k; for counts (`integer`)
    a whole number 1/2/5 x 10^k, so no tick reads 2.5 or 7.5."""
    if max_value is not None:
        top = float(_decimal(max_value))
        if top <= 0:
            raise ValueError(f"max_value 须为正数：{max_value!r}")
        top = max(top, data_max)
    else:
        top = data_max if data_max > 0 else 1.0
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in steps if m * mag >= raw - 1e-12)
    if integer:
        step = max(1.0, float(math.ceil(step - 1e-9)))
    if max_value is None:
        top = math.ceil(top / step - 1e-9) * step
    return top, step


class _Layout:
    """Positions shared by the PNG and the SVG, in pixels."""

    def __init__(self, n: int, width: int, height: int, left: int, right: int, top: int, bottom: int) -> None:
        self.n = n
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = top, height - bottom   # y1 is the baseline
        self.slot = (self.x1 - self.x0) / max(n, 1)
        self.bar_w = max(1, int(self.slot * 0.6))

    def bar_x(self, i: int) -> tuple[int, int]:
        cx = self.x0 + self.slot * (i + 0.5)
        return int(round(cx - self.bar_w / 2)), int(round(cx - self.bar_w / 2)) + self.bar_w

    def center(self, i: int) -> int:
        return int(round(self.x0 + self.slot * (i + 0.5)))

    def y(self, value: float, top: float) -> int:
        frac = 0.0 if top <= 0 else max(0.0, min(1.0, value / top))
        return int(round(self.y1 - frac * (self.y1 - self.y0)))


# ------------------------------------------------------------------ PNG


class _Canvas:
    def __init__(self, width: int, height: int, bg: tuple[int, int, int]) -> None:
        self.w, self.h = width, height
        self.buf = bytearray(bytes(bg) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]) -> None:
        """Fill [x0, x1) x [y0, y1), clipped."""
        x0, x1 = max(0, min(x0, x1)), min(self.w, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.h, max(y0, y1))
        if x0 >= x1 or y0 >= y1:
            return
        line = bytes(color) * (x1 - x0)
        stride = self.w * 3
        for y in range(y0, y1):
            off = y * stride + x0 * 3
            self.buf[off:off + len(line)] = line

    def text_width(self, text: str, scale: int) -> int:
        return sum((len(_GLYPHS[c][0]) + 1) * scale for c in text) - scale if text else 0

    def text(self, x: int, y: int, text: str, scale: int, color: tuple[int, int, int], anchor: str = "center") -> None:
        """Draw digits with the top at y; anchor 'center', 'right' or 'left' at x."""
        w = self.text_width(text, scale)
        cx = x - w // 2 if anchor == "center" else x - w if anchor == "right" else x
        for ch in text:
            glyph = _GLYPHS[ch]
            for gy, row in enumerate(glyph):
                for gx, bit in enumerate(row):
                    if bit == "1":
                        self.rect(cx + gx * scale, y + gy * scale, cx + (gx + 1) * scale, y + (gy + 1) * scale, color)
            cx += (len(glyph[0]) + 1) * scale

    def png(self, dpi: int = 150) -> bytes:
        stride = self.w * 3
        raw = b"".join(b"\x00" + bytes(self.buf[y * stride:(y + 1) * stride]) for y in range(self.h))
        ppm = int(round(dpi / 0.0254))
        return b"".join([
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
            _chunk(b"IDAT", zlib.compress(raw, 3)),
            _chunk(b"IEND", b""),
        ])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _ticks(top: float, step: float) -> list[float]:
    count = int(round(top / step))
    return [step * k for k in range(count + 1) if step * k <= top + 1e-9]


def bar_chart_png(labels: Sequence[Any], values: Sequence[Any], *, width: int = 1200, height: int = 600,
                  max_value: Any = None, integer: bool = False) -> bytes:
    """A bar chart as PNG bytes (RGB, 8 bit). Labels only count the bars: bar i is numbered i+1 under the
    axis and its value is written above it when there is room; the document lists what each number is."""
    vals = _check(labels, values, width, height)
    scale = max(1, min(width, height) // 200)
    glyph_h = _GLYPH_H * scale
    top, step = nice_scale(max(vals, default=0.0), max_value, integer=integer)
    tick_labels = [format_number(t) for t in _ticks(top, step)]
    probe = _Canvas(1, 1, BG)
    left = max(probe.text_width(t, scale) for t in tick_labels) + 4 * scale + 16
    lay = _Layout(len(vals), width, height, left, 20, glyph_h * 2 + 8, glyph_h + 6 * scale + 8)
    cv = _Canvas(width, height, BG)
    for t, label in zip(_ticks(top, step), tick_labels, strict=True):
        y = lay.y(t, top)
        cv.rect(lay.x0, y, lay.x1, y + 1, GRID)
        cv.rect(lay.x0 - 3 * scale, y, lay.x0, y + max(1, scale // 2), AXIS)
        cv.text(lay.x0 - 4 * scale - 4, y - glyph_h // 2, label, scale, TEXT, anchor="right")
    for i, v in enumerate(vals):
        bx0, bx1 = lay.bar_x(i)
        cv.rect(bx0, lay.y(v, top), bx1, lay.y1, BAR)
    cv.rect(lay.x0, lay.y0, lay.x0 + max(1, scale // 2), lay.y1 + 1, AXIS)
    cv.rect(lay.x0, lay.y1, lay.x1, lay.y1 + max(1, scale // 2), AXIS)
    # bar numbers 1..n, thinned out when the slots are too narrow
    widest = cv.text_width(str(len(vals)), scale) + 2 * scale
    every = max(1, math.ceil(widest / lay.slot)) if vals else 1
    for i in range(len(vals)):
        if i % every == 0:
            cv.text(lay.center(i), lay.y1 + 3 * scale + 2, str(i + 1), scale, TEXT)
    # values above the bars, only when every one fits its slot
    texts = [format_number(v) for v in values]
    if vals and max(cv.text_width(t, scale) for t in texts) + 2 * scale <= lay.slot:
        for i, (v, t) in enumerate(zip(vals, texts, strict=True)):
            cv.text(lay.center(i), lay.y(v, top) - glyph_h - 2 * scale, t, scale, TEXT)
    return cv.png()


# ------------------------------------------------------------------ SVG


def bar_chart_svg(labels: Sequence[Any], values: Sequence[Any], *, width: int = 960, height: int = 480,
                  max_value: Any = None, title: str | None = None, integer: bool = False,
                  x_title: str | None = None, y_title: str | None = None) -> str:
    """The same chart as an inline SVG string with the (escaped) labels under the bars."""
    vals = _check(labels, values, width, height)
    names = [clean_text(label) for label in labels]
    top, step = nice_scale(max(vals, default=0.0), max_value, integer=integer)
    font = 14
    longest = max((_display_width(s) for s in names), default=0)
    rotate = bool(vals) and (longest * font * 0.55 > (width - 80) / max(len(vals), 1))
    shown = [_shorten(s, 24) for s in names] if rotate else names
    extent = int(min(longest, 25) * font * 0.55 * 0.72)   # a rotated label's reach, down and left
    bottom = 30 + (extent + 10 if rotate else font + 6)
    left = 56
    if rotate:
        slot = (width - 56 - 16) / len(vals)
        left = max(56, int(extent - slot / 2) + 8)
    lay = _Layout(len(vals), width, height + bottom, left, 16, 28, bottom)
    total_h = height + bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="djctl-chart" role="img" width="{width}" '
        f'height="{total_h}" viewBox="0 0 {width} {total_h}" font-family="\'Microsoft YaHei\', \'PingFang SC\', '
        f'\'Noto Sans CJK SC\', sans-serif" font-size="{font}">',
    ]
    if title:
        out.append(f"<title>{_x(clean_text(title))}</title>")
    out.append(f'<rect x="0" y="0" width="{width}" height="{total_h}" fill="#ffffff"/>')
    for t in _ticks(top, step):
        y = lay.y(t, top)
        out.append(f'<line x1="{lay.x0}" y1="{y}" x2="{lay.x1}" y2="{y}" stroke="#dddddd"/>')
        out.append(f'<text x="{lay.x0 - 6}" y="{y + 5}" text-anchor="end" fill="#202020">{format_number(t)}</text>')
    out.append(f'<line x1="{lay.x0}" y1="{lay.y0}" x2="{lay.x0}" y2="{lay.y1}" stroke="#404040"/>')
    out.append(f'<line x1="{lay.x0}" y1="{lay.y1}" x2="{lay.x1}" y2="{lay.y1}" stroke="#404040"/>')
    show_values = vals and max(len(format_number(v)) for v in values) * font * 0.6 <= lay.slot
    for i, (v, name, label) in enumerate(zip(vals, names, shown, strict=True)):
        bx0, bx1 = lay.bar_x(i)
        y = lay.y(v, top)
        out.append(f'<rect x="{bx0}" y="{y}" width="{bx1 - bx0}" height="{lay.y1 - y}" fill="#c00000">'
                   f"<title>{_x(name)}：{format_number(values[i])}</title></rect>")
        if show_values:
            out.append(f'<text x="{lay.center(i)}" y="{y - 4}" text-anchor="middle" fill="#202020">'
                       f"{format_number(values[i])}</text>")
        cx, ly = lay.center(i), lay.y1 + font + 4
        if rotate:
            out.append(f'<text x="{cx}" y="{ly}" text-anchor="end" transform="rotate(-45 {cx} {ly})" '
                       f'fill="#202020">{_x(label)}</text>')
        else:
            out.append(f'<text x="{cx}" y="{ly}" text-anchor="middle" fill="#202020">{_x(label)}</text>')
    if y_title:   # axis titles in Chinese, at the label size (14 px)
        out.append(f'<text x="{lay.x0}" y="{lay.y0 - 10}" text-anchor="start" fill="#202020">{_x(clean_text(y_title))}</text>')
    if x_title:
        out.append(f'<text x="{(lay.x0 + lay.x1) // 2}" y="{total_h - 6}" text-anchor="middle" fill="#202020">'
                   f"{_x(clean_text(x_title))}</text>")
    out.append("</svg>")
    return "".join(out)


def _x(text: str) -> str:
    return escape(text, quote=True)


def _shorten(text: str, limit: int) -> str:
    if _display_width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _display_width(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _display_width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)
