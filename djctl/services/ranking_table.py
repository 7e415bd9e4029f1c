"""Ranks of a table of units, overall and within groups (the rule itself is domain.ranking)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from djctl.domain.ranking import competition_ranks


def ranks_with_groups(scores: dict[str, Decimal], groups: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    overall = competition_ranks(scores)
    by_group: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for code, value in scores.items():
        by_group[groups.get(code, "")][code] = value
    in_group: dict[str, int] = {}
    for members in by_group.values():
        in_group.update(competition_ranks(members))
    return overall, in_group
