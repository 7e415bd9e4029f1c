"""What every draw command is asked (rate or count, seed, redraw and its reason), checked once for all kinds.

The monthly spot check, the look-back and the re-check of closed rectification items take the same options
and refuse the same mistakes with the same words: a redraw without a reason, a reason without a redraw, both
a rate and a count, a rate outside (0, 1], a count below 1, an empty seed or one holding the separator. A
missing seed is generated here (`seed_generated`), which the caller must say out loud.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from djctl.domain.sampling import SEP
from djctl.errors import DjctlError


@dataclass(frozen=True)
class DrawRequest:
    rate: Decimal | None  # None: the scheme's rate (or `count`)
    count: int | None
    seed: str
    seed_generated: bool
    redraw: bool
    reason: str


def parse_rate(value: Decimal | str) -> Decimal:
    """A sampling rate as a decimal in (0, 1]; a DjctlError otherwise."""
    try:
        r = Decimal(str(value).strip())
    except InvalidOperation:
        raise DjctlError(f"抽取比例「{value}」不是有效数字（示例：0.2）") from None
    if not r.is_finite() or not Decimal(0) < r <= Decimal(1):
        raise DjctlError(f"抽取比例「{value}」应大于 0 且不超过 1（示例：0.2）")
    return r


def draw_request(*, rate: Decimal | str | None = None, count: int | None = None, seed: str | None = None,
                 redraw: bool = False, reason: str | None = "") -> DrawRequest:
    """The request checked (DjctlError naming the fault), the seed generated when none is given."""
    reason = (reason or "").strip()
    if redraw and not reason:
        raise DjctlError("重抽必须说明原因", hint="加 --reason 原因")
    if reason and not redraw:
        raise DjctlError("--reason 只用于重抽", hint="重抽请同时加 --redraw")
    if rate is not None and count is not None:
        raise DjctlError("抽取比例与抽取数量只能给出一个")
    rate_value = None if rate is None else parse_rate(rate)
    if count is not None and (isinstance(count, bool) or int(count) != count or count < 1):
        raise DjctlError(f"抽取数量「{count}」应为正整数")
    generated = seed is None
    seed = secrets.token_hex(16) if seed is None else seed
    if not seed.strip() or SEP in seed:
        raise DjctlError("种子不能为空，也不能含有分隔符 \\x1f")
    return DrawRequest(rate_value, None if count is None else int(count), seed, generated, bool(redraw), reason)
