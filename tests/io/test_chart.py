"""Bar charts: a real PNG (signature, IHDR, zlib-decodable pixel rows) and an escaped SVG."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from djctl.io.chart import bar_chart_png, bar_chart_svg, clean_text, format_number, nice_scale


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        out.append((kind, data))
        pos += 12 + length
    return out


def _pixels(png: bytes) -> tuple[int, int, bytes]:
    chunks = _chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color, interlace) == (8, 2, 0)
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + 3 * width)
    assert all(raw[y * (1 + 3 * width)] == 0 for y in range(height))  # filter type 0 on every row
    return width, height, raw


def _pixel(raw: bytes, width: int, x: int, y: int) -> tuple[int, int, int]:
    off = y * (1 + 3 * width) + 1 + 3 * x
    return tuple(raw[off:off + 3])  # type: ignore[return-value]


def test_png_header_size_and_decoded_bytes() -> None:
    png = bar_chart_png(["甲", "乙", "丙"], [95.5, Decimal("80"), "60.25"], width=640, height=320)
    width, height, raw = _pixels(png)
    assert (width, height) == (640, 320)
    assert len(raw) == 320 * (1 + 640 * 3)


def test_png_default_size_and_bars_drawn() -> None:
    png = bar_chart_png(["a", "b"], [100, 50])
    width, height, raw = _pixels(png)
    assert (width, height) == (1200, 600)
    red = (192, 0, 0)
    reds = sum(1 for y in range(0, height, 4) for x in range(0, width, 4) if _pixel(raw, width, x, y) == red)
    assert reds > 500  # two bars cover a good part of the plot


def test_png_taller_bar_for_larger_value() -> None:
    png = bar_chart_png(["a", "b"], [100, 25], width=400, height=300, max_value=100)
    width, height, raw = _pixels(png)

    def bar_height(col: int) -> int:
        return sum(1 for y in range(height) if _pixel(raw, width, col, y) == (192, 0, 0))

    left = next(x for x in range(width) if bar_height(x) > 0)
    right = next(x for x in range(width - 1, -1, -1) if bar_height(x) > 0)
    assert bar_height(left) > 3 * bar_height(right) > 0


def test_png_empty_and_many_bars() -> None:
    assert _pixels(bar_chart_png([], []))[:2] == (1200, 600)
    labels = [f"单位{i}" for i in range(300)]
    assert _pixels(bar_chart_png(labels, list(range(300))))[:2] == (1200, 600)


@pytest.mark.parametrize(("labels", "values"), [(["a"], [1, 2]), (["a"], ["x"]), (["a"], [float("nan")]),
                                                (["a"], [True])])
def test_png_refuses_bad_input(labels: list, values: list) -> None:
    with pytest.raises(ValueError):
        bar_chart_png(labels, values)


def test_png_refuses_bad_size() -> None:
    with pytest.raises(ValueError):
        bar_chart_png(["a"], [1], width=10)
    with pytest.raises(ValueError):
        bar_chart_png(["a"], [1], height=100_000)


def test_svg_escapes_labels_and_title() -> None:
    svg = bar_chart_svg(["A&B<c>", 'q"uote\'s', "中共某某局机关委员会"], [1, 2, 3], title="图1 <x>&y")
    assert "A&amp;B&lt;c&gt;" in svg
    assert "<c>" not in svg and "<x>" not in svg
    assert "&quot;" in svg or "&#x27;" in svg
    root = ElementTree.fromstring(svg)  # well-formed XML
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "A&B<c>" in texts and "中共某某局机关委员会" in texts
    assert root.find("{http://www.w3.org/2000/svg}title").text == "图1 <x>&y"


def test_svg_drops_control_characters() -> None:
    svg = bar_chart_svg(["a\x00b\x1f"], [1])
    ElementTree.fromstring(svg)
    assert "ab" in svg


def test_svg_rotates_long_labels_and_stays_well_formed() -> None:
    svg = bar_chart_svg([f"中共某某市某某局机关委员会{i}" for i in range(40)], list(range(40)))
    assert "rotate(-45" in svg
    ElementTree.fromstring(svg)


def test_helpers() -> None:
    assert format_number(Decimal("95.50")) == "95.5"
    assert format_number(100) == "100"
    assert format_number("0.005") == "0.01"  # half-up
    assert nice_scale(95.5) == (100, 20)
    assert nice_scale(0) == (1, 0.2)
    assert nice_scale(3, max_value=100) == (100, 20)
    assert clean_text("a\r\nb\x07") == "a\nb"
