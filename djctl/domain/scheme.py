"""The year's rules (考核方案) as a validated model. Every number of DESIGN §3 is a key here.

A scheme is a TOML file; unknown keys and out-of-range values are refused with the key's path and the
reason (Chinese). Numbers are read as Decimal so that 0.2 stays 0.2.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from djctl.domain.limits import MAX_TASKS
from djctl.domain.negative import NegativeRules, parse_negative
from djctl.domain.problems import Accountability, RectifyRules, parse_accountability, parse_rectify
from djctl.domain.people_scheme import Combined, Debrief, Eligibility, Staff, parse_people, people_summary
from djctl.domain.textclean import code_problem, printable
from djctl.domain.tiers import DIMENSIONS, TIERS

ORG_KINDS = ("机关党委", "党总支", "党支部")


class SchemeError(ValueError):
    """A scheme problem: a list of (key path, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems


@dataclass(frozen=True)
class TaskDef:
    code: str
    name: str
    points: Decimal
    dimension: str = ""
    note: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    item: str
    standard: str = ""
    dimension: str = ""


@dataclass(frozen=True)
class Sampling:
    rate: Decimal = Decimal("0.2")
    min_count: int = 1
    exclude_recent_months: int = 1
    include_negative_list: bool = True
    stratify: bool = False


@dataclass(frozen=True)
class SpotCheck:
    tolerance: Decimal = Decimal("0")
    false_multiplier: Decimal = Decimal("2")


@dataclass(frozen=True)
class Annual:
    weight_daily: Decimal = Decimal("0.7")
    weight_democratic: Decimal = Decimal("0.3")
    democratic_levels: dict[str, Decimal] = field(default_factory=lambda: {
        "好": Decimal(100), "较好": Decimal(80), "一般": Decimal(60), "差": Decimal(0)})
    bonus_cap: Decimal = Decimal("5")
    deduction_cap: Decimal = Decimal("10")
    grades: tuple[tuple[str, Decimal], ...] = (("好", Decimal("0.2")), ("较好", Decimal("0.4")))
    rest_grade: str = "一般"
    fail_grade: str = "差"
    fail_below: Decimal = Decimal("60")
    group_ranking: bool = True


@dataclass(frozen=True)
class Tiers:
    target_standard: Decimal = Decimal("0.95")
    target_strong: Decimal = Decimal("0.30")
    # 达标率 over "branches" (党支部) or "organisations" (基层党组织: branches, 机关党委 and 党总支; see tier_stats)
    rate_scope: str = "branches"


@dataclass(frozen=True)
class Lookback:
    rate: Decimal = Decimal("0.3")
    min_count: int = 1
    rebound: str = "down_one"
    rectify_days: int = 30
    include_negative_list: bool = True


@dataclass(frozen=True)
class Inspection:
    """Inspectors drawn for each drawn unit (双随机) when the store holds an inspector pool; 回避 rules."""

    per_unit: int = 2
    avoid_own_unit: bool = True
    avoid_same_group: bool = False
    served_years: int = 3  # an inspector who served in the unit in the last N years is excluded
    repeat_months: int = 12  # the same inspector and unit not again within M months


@dataclass(frozen=True)
class Risk:
    """Risk-weighted spot checks: strata (highest risk first) with a rate each, and the facts that put a
    unit in a stratum; a unit meeting several takes the highest. Used when enabled and no --rate/--count."""

    enabled: bool = False
    rates: tuple[tuple[str, Decimal], ...] = (("高风险", Decimal("0.5")), ("中风险", Decimal("0.3")),
                                              ("低风险", Decimal("0.15")))
    negative_list: str = "高风险"  # on last year's negative list
    false_months: int = 12  # a self-score found false in the last N months ...
    false_stratum: str = "高风险"  # ... puts the unit here
    grades: tuple[tuple[str, str], ...] = (("差", "高风险"), ("一般", "中风险"))  # last year's grade -> stratum
    rest: str = "低风险"


@dataclass(frozen=True)
class Documents:
    """The `[documents]` section: what the 版头 and 版记 print (GB/T 9704-2012) and the default texts.

    `number_pattern` names the 发文字号 with `{year}` (the year of issue) and `{n}` (the store's counter
    for that year, never reused), e.g. "示工委〔{year}〕{n}号"; empty means documents carry no 字号 unless
    one is given with --doc-number."""

    issuer: str = ""             # 发文机关全称 (empty: scheme.issuer)
    short_name: str = ""         # 规范化简称
    mark: str = ""               # 发文机关标志 (empty: 全称 + "文件")
    number_pattern: str = ""
    recipients: str = "各直属单位党组织"
    cc: str = ""                 # 抄送机关 (comma separated as printed)
    printer: str = ""            # 印发机关 (empty: the issuer's office is not guessed: 发文机关全称)
    next_quarter: dict[str, str] = field(default_factory=dict)   # "Q1".."Q4" or "default" -> 下季度工作要求


@dataclass(frozen=True)
class Scheme:
    year: int
    name: str = ""
    issuer: str = "中共示范市直属机关工作委员会"
    sampling: Sampling = Sampling()
    spot_check: SpotCheck = SpotCheck()
    annual: Annual = Annual()
    tiers: Tiers = Tiers()
    lookback: Lookback = Lookback()
    tasks: tuple[TaskDef, ...] = ()
    checklists: dict[str, tuple[ChecklistItem, ...]] = field(default_factory=dict)
    rectify: RectifyRules = RectifyRules()
    accountability: Accountability = Accountability()
    negative: NegativeRules = NegativeRules()
    inspection: Inspection = Inspection()
    risk: Risk = Risk()
    debrief: Debrief = Debrief()
    combined: Combined = Combined()
    eligibility: Eligibility = Eligibility()
    staff: Staff = Staff()
    documents: Documents = Documents()

    def checklist(self, tier: str) -> tuple[ChecklistItem, ...]:
        """The items a branch of `tier` must meet: its own tier's and every lower tier's (达标 and up)."""
        from djctl.domain.tiers import tier_level

        level = tier_level(tier)
        items: list[ChecklistItem] = []
        for t in TIERS[1: level + 1]:
            items.extend(self.checklists.get(t, ()))
        return tuple(items)


# ------------------------------------------------------------------ parsing

_SECTIONS = {"scheme", "sampling", "spot_check", "annual", "tiers", "lookback", "tasks", "checklists", "rectify",
             "accountability", "negative", "inspection", "risk", "debrief", "combined", "eligibility", "staff",
             "documents"}


class _Reader:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def err(self, path: str, msg: str) -> None:
        self.problems.append((path, msg))

    def table(self, data: dict, path: str, allowed: set[str]) -> dict:
        if not isinstance(data, dict):
            self.err(path, "应为表（[...] 段）")
            return {}
        for key in data:
            if key not in allowed:
                self.err(f"{path}.{key}" if path else key, f"未知的键（可用：{'、'.join(sorted(allowed))}）")
        return data

    def decimal(self, data: dict, path: str, key: str, default: Decimal, lo: Decimal | None = None,
                hi: Decimal | None = None, lo_open: bool = False) -> Decimal:
        if key not in data:
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            self.err(f"{path}.{key}", f"应为数字，实际为「{v}」")
            return default
        v = Decimal(v)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.err(f"{path}.{key}", f"应{'大于' if lo_open else '不小于'} {lo}，实际为 {v}")
        if hi is not None and v > hi:
            self.err(f"{path}.{key}", f"应不大于 {hi}，实际为 {v}")
        return v

    def integer(self, data: dict, path: str, key: str, default: int, lo: int = 0, hi: int | None = None) -> int:
        if key not in data:
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int):
            self.err(f"{path}.{key}", f"应为整数，实际为「{v}」")
            return default
        if v < lo or (hi is not None and v > hi):
            self.err(f"{path}.{key}", f"应在 {lo} 到 {hi if hi is not None else '∞'} 之间，实际为 {v}")
        return v

    def boolean(self, data: dict, path: str, key: str, default: bool) -> bool:
        if key not in data:
            return default
        v = data[key]
        if not isinstance(v, bool):
            self.err(f"{path}.{key}", f"应为 true 或 false，实际为「{v}」")
            return default
        return v

    def string(self, data: dict, path: str, key: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        if key not in data:
            return default
        v = data[key]
        if not isinstance(v, str):
            self.err(f"{path}.{key}", f"应为文本，实际为「{v}」")
            return default
        if choices and v not in choices:
            self.err(f"{path}.{key}", f"应为 {' / '.join(choices)} 之一，实际为「{v}」")
        return v


# Limits on a scheme file (refused by `scheme check` and `init`, exit 2, with the key path)
MAX_SCHEME_CHARS = 2_000_000
MAX_DEPTH = 8            # tables and arrays nested in each other ([checklists.达标] items are at depth 3)
MAX_STRING = 2000        # characters in any one string (a task's note is the longest)
MAX_KEY = 100            # characters in a key


def _limits(raw: Any) -> list[tuple[str, str]]:
    """Depth, string and key lengths of parsed TOML, walked without recursion; the first problems found."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, Any, int]] = [("", raw, 0)]
    while stack and len(problems) < 20:
        path, value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                problems.append((path or "(文件)", f"嵌套层数超过上限 {MAX_DEPTH}"))
                continue
            items = value.items() if isinstance(value, dict) else ((f"[{i}]", v) for i, v in enumerate(value))
            for k, v in items:
                k = str(k)
                if isinstance(value, dict) and len(k) > MAX_KEY:
                    problems.append((f"{path}.{k[:20]}…" if path else k[:20] + "…", f"键名过长（{len(k)} 字，上限 {MAX_KEY}）"))
                    continue
                sub = (f"{path}{k}" if k.startswith("[") else f"{path}.{k}" if path else k)
                stack.append((sub, v, depth + 1))
        elif isinstance(value, str) and len(value) > MAX_STRING:
            problems.append((path, f"文本过长（{len(value)} 字，上限 {MAX_STRING}）"))
    return problems


def parse_scheme(text: str, *, year: int | None = None) -> Scheme:
    """Parse and validate a scheme TOML text; raise SchemeError listing every problem."""
    if len(text) > MAX_SCHEME_CHARS:
        raise SchemeError([("(文件)", f"方案文件过大（{len(text)} 字，上限 {MAX_SCHEME_CHARS}）")])
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError([("(文件)", f"不是有效的 TOML：{exc}")]) from exc
    except RecursionError:
        raise SchemeError([("(文件)", f"嵌套层数过深（上限 {MAX_DEPTH} 层）")]) from None
    problems = _limits(raw)
    if problems:
        raise SchemeError(problems)
    return scheme_from_dict(raw, year=year)


def scheme_from_dict(raw: dict[str, Any], *, year: int | None = None) -> Scheme:
    r = _Reader()
    r.table(raw, "", _SECTIONS)
    head = r.table(raw.get("scheme", {}), "scheme", {"name", "year", "issuer"})
    y = head.get("year", year)
    if y is None:
        r.err("scheme.year", "缺少考核年度")
        y = 0
    elif isinstance(y, bool) or not isinstance(y, int) or not 2000 <= y <= 2100:
        r.err("scheme.year", f"应为 2000 到 2100 之间的年份，实际为「{y}」")
        y = 0
    elif year is not None and y != year:
        r.err("scheme.year", f"方案年度 {y} 与指定年度 {year} 不一致")

    s = r.table(raw.get("sampling", {}), "sampling", {"rate", "min_count", "exclude_recent_months", "include_negative_list", "stratify"})
    sampling = Sampling(
        rate=r.decimal(s, "sampling", "rate", Sampling.rate, Decimal(0), Decimal(1), lo_open=True),
        min_count=r.integer(s, "sampling", "min_count", Sampling.min_count, 0, 100000),
        exclude_recent_months=r.integer(s, "sampling", "exclude_recent_months", Sampling.exclude_recent_months, 0, 11),
        include_negative_list=r.boolean(s, "sampling", "include_negative_list", True),
        stratify=r.boolean(s, "sampling", "stratify", False),
    )
    c = r.table(raw.get("spot_check", {}), "spot_check", {"tolerance", "false_multiplier"})
    spot = SpotCheck(
        tolerance=r.decimal(c, "spot_check", "tolerance", SpotCheck.tolerance, Decimal(0), Decimal(100)),
        false_multiplier=r.decimal(c, "spot_check", "false_multiplier", SpotCheck.false_multiplier, Decimal(1), Decimal(10)),
    )
    annual = _annual(r, raw.get("annual", {}))
    t = r.table(raw.get("tiers", {}), "tiers", {"targets", "rate_scope"})
    targets = r.table(t.get("targets", {}), "tiers.targets", {"达标率", "过硬率"})
    tiers = Tiers(
        target_standard=r.decimal(targets, "tiers.targets", "达标率", Tiers.target_standard, Decimal(0), Decimal(1)),
        target_strong=r.decimal(targets, "tiers.targets", "过硬率", Tiers.target_strong, Decimal(0), Decimal(1)),
        rate_scope=r.string(t, "tiers", "rate_scope", "branches", ("branches", "organisations")),
    )
    lb = r.table(raw.get("lookback", {}), "lookback", {"rate", "min_count", "rebound", "rectify_days", "include_negative_list"})
    lookback = Lookback(
        rate=r.decimal(lb, "lookback", "rate", Lookback.rate, Decimal(0), Decimal(1), lo_open=True),
        min_count=r.integer(lb, "lookback", "min_count", Lookback.min_count, 0, 100000),
        rebound=r.string(lb, "lookback", "rebound", "down_one", ("down_one", "to_lowest")),
        rectify_days=r.integer(lb, "lookback", "rectify_days", 30, 1, 366),
        include_negative_list=r.boolean(lb, "lookback", "include_negative_list", True),
    )
    tasks = parse_tasks(r, raw.get("tasks", []), "tasks")
    checklists = _checklists(r, raw.get("checklists", {}))
    rectify = parse_rectify(r, raw.get("rectify", {}))
    accountability = parse_accountability(r, raw.get("accountability", {}))
    negative = parse_negative(r, raw.get("negative", {}))
    ins = r.table(raw.get("inspection", {}), "inspection",
                  {"per_unit", "avoid_own_unit", "avoid_same_group", "served_years", "repeat_months"})
    inspection = Inspection(
        per_unit=r.integer(ins, "inspection", "per_unit", Inspection.per_unit, 1, 20),
        avoid_own_unit=r.boolean(ins, "inspection", "avoid_own_unit", Inspection.avoid_own_unit),
        avoid_same_group=r.boolean(ins, "inspection", "avoid_same_group", Inspection.avoid_same_group),
        served_years=r.integer(ins, "inspection", "served_years", Inspection.served_years, 0, 50),
        repeat_months=r.integer(ins, "inspection", "repeat_months", Inspection.repeat_months, 0, 120),
    )
    risk = _risk(r, raw.get("risk", {}))
    people = parse_people(r, raw)
    documents = _documents(r, raw.get("documents", {}))
    if r.problems:
        raise SchemeError(r.problems)
    return Scheme(year=y, name=head.get("name", f"{y}年度考核方案"), issuer=head.get("issuer", Scheme.issuer),
                  sampling=sampling, spot_check=spot, annual=annual, tiers=tiers, lookback=lookback,
                  tasks=tuple(tasks), checklists=checklists, rectify=rectify, accountability=accountability,
                  negative=negative, inspection=inspection, risk=risk, documents=documents, **people)


def _risk(r: _Reader, raw: Any) -> Risk:
    k = r.table(raw, "risk", {"enabled", "rates", "negative_list", "false_months", "false_stratum", "grades", "rest"})
    rates = Risk.rates
    if "rates" in k:
        table = r.table(k["rates"], "risk.rates", set(k["rates"]) if isinstance(k["rates"], dict) else set())
        rates = tuple((str(g), r.decimal(table, "risk.rates", g, Decimal(0), Decimal(0), Decimal(1))) for g in table)
        if not rates:
            r.err("risk.rates", "至少要有一个风险分层")
    names = {g for g, _ in rates}
    grades = Risk.grades
    if "grades" in k:
        table = r.table(k["grades"], "risk.grades", set(k["grades"]) if isinstance(k["grades"], dict) else set())
        grades = tuple((str(g), r.string(table, "risk.grades", g, "", tuple(sorted(names)))) for g in table)
    risk = Risk(enabled=r.boolean(k, "risk", "enabled", False), rates=rates,
                negative_list=r.string(k, "risk", "negative_list", Risk.negative_list, tuple(sorted(names))),
                false_months=r.integer(k, "risk", "false_months", Risk.false_months, 0, 60),
                false_stratum=r.string(k, "risk", "false_stratum", Risk.false_stratum, tuple(sorted(names))),
                grades=grades, rest=r.string(k, "risk", "rest", Risk.rest, tuple(sorted(names))))
    for key, value in (("negative_list", risk.negative_list), ("false_stratum", risk.false_stratum), ("rest", risk.rest),
                       *(("grades", g) for _, g in risk.grades)):
        if key not in k and value not in names:
            r.err(f"risk.{key}", f"风险分层「{value}」不在 risk.rates 中")
    return risk


_QUARTER_KEYS = ("Q1", "Q2", "Q3", "Q4", "default")


def _documents(r: _Reader, d: Any) -> Documents:
    d = r.table(d, "documents", {"issuer", "short_name", "mark", "number_pattern", "recipients", "cc", "printer",
                                 "next_quarter"})
    texts = {k: r.string(d, "documents", k, "") for k in ("issuer", "short_name", "mark", "number_pattern", "cc",
                                                          "printer")}
    pattern = texts["number_pattern"]
    if pattern:
        import string as _string

        try:
            fields = {f for _, f, _, _ in _string.Formatter().parse(pattern) if f is not None}
        except ValueError:
            fields = {"?"}
        if "n" not in fields or not fields <= {"n", "year"}:
            r.err("documents.number_pattern", f"应含 {{n}}（序号），可含 {{year}}（年份），实际为「{pattern}」")
            texts["number_pattern"] = ""
    nq = r.table(d.get("next_quarter", {}), "documents.next_quarter", set(_QUARTER_KEYS))
    next_quarter = {k: r.string(nq, "documents.next_quarter", k, "").strip() for k in nq}
    return Documents(recipients=r.string(d, "documents", "recipients", Documents.recipients).rstrip("：:"),
                     next_quarter={k: v for k, v in next_quarter.items() if v}, **texts)


def _annual(r: _Reader, a: Any) -> Annual:
    a = r.table(a, "annual", {"weights", "democratic_levels", "bonus_cap", "deduction_cap", "grades",
                              "rest_grade", "fail_grade", "fail_below", "group_ranking"})
    w = r.table(a.get("weights", {}), "annual.weights", {"daily", "democratic"})
    wd = r.decimal(w, "annual.weights", "daily", Annual.weight_daily, Decimal(0), Decimal(1))
    wm = r.decimal(w, "annual.weights", "democratic", Annual.weight_democratic, Decimal(0), Decimal(1))
    if wd + wm != 1:
        r.err("annual.weights", f"日常考核与民主测评的权重之和应为 1，实际为 {wd + wm}")
    levels = dict(Annual().democratic_levels)
    if "democratic_levels" in a:
        lv = a["democratic_levels"]
        if not isinstance(lv, dict) or not lv:
            r.err("annual.democratic_levels", "应为「等次 = 分值」的表")
        else:
            levels = {}
            for k, v in lv.items():
                levels[k] = r.decimal(lv, "annual.democratic_levels", k, Decimal(0), Decimal(0), Decimal(100))
    grades = Annual.grades
    if "grades" in a:
        g = a["grades"]
        parsed: list[tuple[str, Decimal]] = []
        if not isinstance(g, list):
            r.err("annual.grades", "应为列表，如 [{好 = 0.2}, {较好 = 0.4}]")
        else:
            for i, item in enumerate(g):
                if not isinstance(item, dict) or len(item) != 1:
                    r.err(f"annual.grades[{i}]", "每项应为一个「等次 = 比例」")
                    continue
                (name, share), = item.items()
                parsed.append((name, r.decimal(item, f"annual.grades[{i}]", name, Decimal(0), Decimal(0), Decimal(1))))
            if sum((s for _, s in parsed), Decimal(0)) > 1:
                r.err("annual.grades", "各等次比例之和不能超过 1")
            grades = tuple(parsed)
    return Annual(
        weight_daily=wd, weight_democratic=wm, democratic_levels=levels,
        bonus_cap=r.decimal(a, "annual", "bonus_cap", Annual.bonus_cap, Decimal(0), Decimal(100)),
        deduction_cap=r.decimal(a, "annual", "deduction_cap", Annual.deduction_cap, Decimal(0), Decimal(100)),
        grades=grades,
        rest_grade=r.string(a, "annual", "rest_grade", "一般"),
        fail_grade=r.string(a, "annual", "fail_grade", "差"),
        fail_below=r.decimal(a, "annual", "fail_below", Annual.fail_below, Decimal(0), Decimal(100)),
        group_ranking=r.boolean(a, "annual", "group_ranking", True),
    )


def parse_tasks(r: _Reader | None, items: Any, path: str) -> list[TaskDef]:
    """Tasks as TOML: [[tasks]] code, name, points (≤ 1 decimal, > 0), dimension (one of the seven), note."""
    own = r is None
    r = r or _Reader()
    out: list[TaskDef] = []
    if not isinstance(items, list):
        r.err(path, "应为 [[tasks]] 列表")
        items = []
    if len(items) > MAX_TASKS:
        r.err(path, f"任务过多（{len(items)} 项，上限 {MAX_TASKS}：自评表最多能读回这么多行）")
        items = []
    seen: set[str] = set()
    for i, t in enumerate(items):
        p = f"{path}[{i}]"
        t = r.table(t, p, {"code", "name", "points", "dimension", "note"})
        code = unicodedata.normalize("NFKC", str(t.get("code", ""))).strip()
        why = code_problem(code) if code else None
        if not code:
            r.err(f"{p}.code", "缺少任务编码")
        elif why:
            r.err(f"{p}.code", f"任务编码「{printable(code)}」无效：{why}")
        elif code in seen:
            r.err(f"{p}.code", f"任务编码「{code}」重复")
        seen.add(code)
        name = str(t.get("name", "")).strip()
        if not name:
            r.err(f"{p}.name", "缺少任务名称")
        pts = r.decimal(t, p, "points", Decimal(0), Decimal(0), Decimal(1000), lo_open=True)
        if "points" not in t:
            r.err(f"{p}.points", "缺少分值")
        elif pts != pts.quantize(Decimal("0.1")):
            r.err(f"{p}.points", f"分值最多 1 位小数，实际为 {pts}")
        dim = r.string(t, p, "dimension", "")
        if dim and dim not in DIMENSIONS:
            r.err(f"{p}.dimension", f"过硬维度应为 {'、'.join(DIMENSIONS)} 之一，实际为「{dim}」")
        out.append(TaskDef(code, name, pts, dim, r.string(t, p, "note", "")))
    if own and r.problems:
        raise SchemeError(r.problems)
    return out


def _checklists(r: _Reader, raw: Any) -> dict[str, tuple[ChecklistItem, ...]]:
    raw = r.table(raw, "checklists", set(TIERS[1:]))
    out: dict[str, tuple[ChecklistItem, ...]] = {}
    for tier, items in raw.items():
        if tier not in TIERS[1:]:
            continue
        path = f"checklists.{tier}"
        if not isinstance(items, list):
            r.err(path, "应为列表")
            continue
        parsed = []
        seen: set[str] = set()
        for i, it in enumerate(items):
            p = f"{path}[{i}]"
            it = r.table(it, p, {"code", "item", "standard", "dimension"})
            code = unicodedata.normalize("NFKC", str(it.get("code", ""))).strip()
            why = code_problem(code) if code else None
            if not code:
                r.err(f"{p}.code", "缺少项目编码")
            elif why:
                r.err(f"{p}.code", f"项目编码「{printable(code)}」无效：{why}")
            elif code in seen:
                r.err(f"{p}.code", f"项目编码「{code}」重复")
            seen.add(code)
            if not str(it.get("item", "")).strip():
                r.err(f"{p}.item", "缺少项目名称")
            dim = r.string(it, p, "dimension", "")
            if dim and dim not in DIMENSIONS:
                r.err(f"{p}.dimension", f"过硬维度应为 {'、'.join(DIMENSIONS)} 之一，实际为「{dim}」")
            if tier == "过硬" and not dim:
                r.err(f"{p}.dimension", "过硬支部的检查项目须注明过硬维度")
            parsed.append(ChecklistItem(code, str(it.get("item", "")).strip(), r.string(it, p, "standard", ""), dim))
        out[tier] = tuple(parsed)
    return out


def scheme_summary(s: Scheme) -> list[tuple[str, str]]:
    """(key, value) lines for `scheme show`."""
    a = s.annual
    return [
        ("scheme.year", str(s.year)), ("scheme.name", s.name), ("scheme.issuer", s.issuer),
        ("sampling.rate", str(s.sampling.rate)), ("sampling.min_count", str(s.sampling.min_count)),
        ("sampling.exclude_recent_months", str(s.sampling.exclude_recent_months)),
        ("sampling.include_negative_list", str(s.sampling.include_negative_list).lower()),
        ("sampling.stratify", str(s.sampling.stratify).lower()),
        ("spot_check.tolerance", str(s.spot_check.tolerance)),
        ("spot_check.false_multiplier", str(s.spot_check.false_multiplier)),
        ("annual.weights", f"daily = {a.weight_daily}, democratic = {a.weight_democratic}"),
        ("annual.democratic_levels", ", ".join(f"{k} = {v}" for k, v in a.democratic_levels.items())),
        ("annual.bonus_cap", str(a.bonus_cap)), ("annual.deduction_cap", str(a.deduction_cap)),
        ("annual.grades", ", ".join(f"{k} = {v}" for k, v in a.grades) + f"，其余 {a.rest_grade}"),
        ("annual.fail_below", f"{a.fail_below}（低于此分或有一票否决项为「{a.fail_grade}」）"),
        ("tiers.targets", f"达标率 = {s.tiers.target_standard}, 过硬率 = {s.tiers.target_strong}"),
        ("tiers.rate_scope", s.tiers.rate_scope),
        ("lookback.rate", str(s.lookback.rate)), ("lookback.rebound", s.lookback.rebound),
        ("lookback.rectify_days", str(s.lookback.rectify_days)),
        ("risk", ("启用" if s.risk.enabled else "未启用") + "：" + "，".join(f"{g} {r}" for g, r in s.risk.rates)
                 + f"；上年负面清单 → {s.risk.negative_list}，近 {s.risk.false_months} 个月自评虚假 → {s.risk.false_stratum}，"
                 + "".join(f"上年等次{g} → {t}，" for g, t in s.risk.grades) + f"其余 → {s.risk.rest}"),
        ("inspection", f"每单位 {s.inspection.per_unit} 名检查人员；回避："
                       + "、".join([*(["本单位"] if s.inspection.avoid_own_unit else []),
                                   *(["同组单位"] if s.inspection.avoid_same_group else []),
                                   f"近 {s.inspection.served_years} 年任职单位",
                                   f"{s.inspection.repeat_months} 个月内检查过的单位"])),
        ("tasks", f"{len(s.tasks)} 项常设任务，共 {sum((t.points for t in s.tasks), Decimal(0))} 分"),
        ("checklists", "，".join(f"{t} {len(v)} 项" for t, v in s.checklists.items()) or "无"),
        ("rectify.categories", "、".join(s.rectify.categories)),
        ("rectify.severities", "、".join(s.rectify.severities)),
        ("rectify.recheck", f"整改回头看抽取比例 {s.rectify.recheck_rate}"
                            + ("（按问题类别分层）" if s.rectify.recheck_by_category else "")
                            + f"，复查不到位的重新整改期限 {s.rectify.recheck_days} 天"),
        ("accountability.kinds", "、".join(s.accountability.kinds)),
        ("negative.consequences", "、".join(s.negative.consequences) + f"（默认：考核单位 {'、'.join(s.negative.unit_default)}，"
                                  f"党支部 {'、'.join(s.negative.branch_default)}）"),
        *people_summary(s),
        ("documents.number_pattern", s.documents.number_pattern or "（无：文书不编发文字号）"),
    ]
