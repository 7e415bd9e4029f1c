"""Exact points: stored as integer hundredths, computed with Decimal, rounded half-up for display."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")

_NUMBER = re.compile(r"^[+]?\d+(\.\d+)?$")


def round2(value: Decimal) -> Decimal:
    """Round half-up to 2 decimals (the figure people see, rank and export)."""
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def share(num: int, den: int) -> Decimal | None:
    """A share num ÷ den rounded half-up to 4 decimals (0.9550 is 95.50 %); None when den is 0."""
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent_text(d: Decimal | None) -> str:
    """A share as percent text with two decimals (0.955 -> 95.50%); — when there is none."""
    return "—" if d is None else f"{round2(d * HUNDRED)}%"


def from_x100(value: int) -> Decimal:
    """Integer hundredths -> Decimal points."""
    return (Decimal(int(value)) / HUNDRED).quantize(TWO_PLACES)


def to_x100(value: Decimal) -> int:
    """Decimal points -> integer hundredths; refuses values finer than 0.01."""
    try:
        return _to_x100_cached(value)
    except TypeError:  # unhashable (a signalling NaN): refused below, uncached
        return _to_x100(value)


@lru_cache(maxsize=4096)
def _to_x100_cached(value: Decimal) -> int:
    # equal Decimals (4.6, 4.60) have equal hundredths; an import converts the same few scores thousands of times
    return _to_x100(value)


def _to_x100(value: Decimal) -> int:
    scaled = Decimal(value) * HUNDRED
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} 的精度超过 0.01")
    return int(scaled)


def fmt(value: Decimal | int | None, places: int = 2) -> str:
    """Format a Decimal (or hundredths int) for people: half-up, trailing zeros trimmed to `places`."""
    if value is None:
        return ""
    if isinstance(value, int):
        value = from_x100(value)
    q = Decimal(1).scaleb(-places)
    text = format(Decimal(value).quantize(q, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def to_float(value: Decimal) -> float:
    """A Decimal as a JSON number, rounded half-up to 2 decimals."""
    try:
        return _to_float_cached(value)
    except TypeError:  # unhashable (a signalling NaN): not cached
        return float(round2(value))


@lru_cache(maxsize=65536)
def _to_float_cached(value: Decimal) -> float:
    # cached: a year's scores turn the same few thousand rates into JSON numbers tens of thousands of times
    return float(round2(value))


def parse_points(raw: object, *, max_decimals: int = 1) -> Decimal:
    """Parse a points cell as a person typed it.

    Accepts int/float/Decimal and strings of ASCII or full-width digits with at most `max_decimals`
    decimals. Refuses text, comma decimals, signs other than '+', and formulas, with a Chinese reason.
    """
    if raw is None:
        raise ValueError("为空")
    if isinstance(raw, bool):
        raise ValueError("不是数字")
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueError("不是数字")
        value = Decimal(repr(raw))
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if text == "":
            raise ValueError("为空")
        if text.startswith("="):
            raise ValueError("是公式，请填写数值")
        if "," in text:
            raise ValueError(f"「{raw}」不是有效数字（小数点请用「.」，不要用逗号）")
        if text.startswith("-") and _NUMBER.match(text[1:]):
            value = Decimal(text)
        elif not _NUMBER.match(text):
            raise ValueError(f"「{raw}」不是有效数字")
        else:
            try:
                value = Decimal(text)
            except InvalidOperation as exc:  # pragma: no cover - regex guards this
                raise ValueError(f"「{raw}」不是有效数字") from exc
    else:
        raise ValueError("不是数字")
    if not value.is_finite():
        raise ValueError("不是数字")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_decimals:
        raise ValueError(f"「{raw}」最多保留 {max_decimals} 位小数")
    return value


def parse_count(raw: object) -> int:
    """Parse a non-negative whole number (member or vote counts); full-width digits are accepted."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        raise ValueError("为空")
    try:
        value = parse_points(raw, max_decimals=0)
    except ValueError as exc:
        if "位小数" in str(exc):
            raise ValueError(f"「{raw}」应为整数") from None
        raise
    if value < 0:
        raise ValueError(f"「{raw}」不能为负数")
    return int(value)
