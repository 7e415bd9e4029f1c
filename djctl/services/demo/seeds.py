"""The demo year's published seeds: a fictional lottery result of a day or a month, the kind of public
number fixed in advance that DESIGN §3 recommends as a draw's seed. One rule for every demo draw."""

from __future__ import annotations

import hashlib


def lottery_seed(when: str) -> str:
    """'2024-03' or '2024-03-15' -> '2024-03 示范市福利彩票开奖号码 04 09 13 21 28 30 + 07' (fixed per `when`)."""
    h = hashlib.sha256(f"示范市福利彩票 {when}".encode("utf-8")).digest()
    reds: list[int] = []
    for b in h:
        n = b % 33 + 1
        if n not in reds:
            reds.append(n)
        if len(reds) == 6:
            break
    return f"{when} 示范市福利彩票开奖号码 " + " ".join(f"{n:02d}" for n in sorted(reds)) + f" + {h[-1] % 16 + 1:02d}"
