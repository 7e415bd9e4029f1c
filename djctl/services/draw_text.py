"""The published text of a draw (公示): seed and source, the rule, mandatory and excluded members with their reasons, the selection, and how to check it."""

from __future__ import annotations

from djctl.services.draws import COMMAND, POPULATION_CN, STRATA_CN, StoredDraw


def _org(d: StoredDraw, code: str) -> str:
    name = d.names.get(code, "")
    return f"{code} {name}" if name else code


def _by_reason(d: StoredDraw, reasons: dict[str, str]) -> str:
    """Codes grouped by their reason: 「2024-02 已抽中」U003 某单位、U016 某单位；… (codes in code order)."""
    groups: dict[str, list[str]] = {}
    for code in sorted(reasons):
        groups.setdefault(reasons[code], []).append(_org(d, code))
    return "；".join((f"（{why}）" if why else "") + "、".join(orgs) for why, orgs in groups.items())


def publication_lines(d: StoredDraw) -> list[str]:
    """The 公示文本 a committee publishes: seed, population, rule, exclusions, mandatory, selection."""
    r = d.record
    n = len(r.population)
    if d.kind == "sample":
        from djctl.domain.periods import parse_month

        title = f"{parse_month(d.period).label}党建工作抽查抽签结果公示"
    elif d.kind == "recheck":
        title = f"{d.period}年度整改“回头看”复查抽签结果公示"
    else:
        name = d.series[len(f"{d.kind}:{d.period}-"):] if d.series != f"{d.kind}:{d.period}" else ""
        title = f"{d.period}年度“回头看”{f'（{name}）' if name else ''}抽签结果公示"
    lines = [title, f"抽签编号：#{d.id}　标签：{r.label}　算法：{r.algorithm}"]
    if d.unannounced:
        lines.append("方式：暗访（不提前通知被抽中的支部）")
    if d.seed_generated:
        lines.append(f"种子：「{r.seed}」（系统随机生成，抽签前未公布）")
    else:
        lines.append(f"种子：「{r.seed}」")
    lines.append(f"总体：{POPULATION_CN.get(d.kind, '')} {n} 个，总体哈希（SHA-256）：{r.population_hash}")
    if r.count is not None:
        lines.append(f"规则：指定抽取 {r.count} 个（不超过总体数），应抽 k = {r.k} 个")
    else:
        lines.append(f"规则：抽取比例 {r.rate}，应抽 ceil({r.rate} × {n}) 个（不少于 {r.min_count} 个、不超过总体数），"
                     f"即 k = {r.k} 个")
    if r.excluded_waived:
        lines.append(f"排除：{_by_reason(d, r.excluded_requested)}。{r.excluded_waived_reason}")
    elif r.excluded:
        lines.append(f"排除（不参加本次抽取）：{_by_reason(d, r.excluded)}")
    else:
        lines.append("排除：无")
    lines.append(f"必抽：{_by_reason(d, r.mandatory)}" if r.mandatory else "必抽：无")
    if r.strata_rates:
        counts: dict[str, int] = {}
        for c in r.population:
            counts[(r.strata or {}).get(c, "")] = counts.get((r.strata or {}).get(c, ""), 0) + 1
        lines.append("风险分层：" + "，".join(f"{g} 比例 {rate}（{counts.get(g, 0)} 个）" for g, rate in r.strata_rates.items())
                     + f"；k = ceil(Σ 比例 × 层内单位数) = {r.k}")
        lines += [f"  {_org(d, c)}：{(r.strata or {}).get(c, '')}（{why}）"
                  for c, why in sorted((r.strata_reasons or {}).items()) if why != "无风险因素"]
    if r.quotas is not None:
        lines.append(f"分层：按{'风险' if r.strata_rates else STRATA_CN.get(d.kind, '分组')}分层抽取，名额（最大余数法）："
                     + "，".join(f"{g} {q} 个" for g, q in r.quotas.items()))
    lines.append(f"抽中（按抽取顺序，共 {len(r.selected)} 个）：")
    for i, c in enumerate(r.selected, start=1):
        group = f"，{d.group(c)}" if r.strata is not None else ""
        lines.append(f"  {i}. {_org(d, c)}（{d.how(c)}{group}）")
    ins = r.inspection
    if ins:
        lines.append(f"检查人员：人员库 {len(ins['pool'])} 人（哈希 {ins['pool_hash']}），标签「{ins['label']}」，"
                     f"每单位 {ins['per_unit']} 人，回避后按已分配单位数、键升序选取：")
        for c in r.selected:
            avoided = (ins.get("conflicts") or {}).get(c) or {}
            lines.append(f"  {_org(d, c)}：" + "、".join(ins["assignments"].get(c, []))
                         + (f"（回避 {len(avoided)} 人：" + "；".join(f"{p} {why}" for p, why in avoided.items()) + "）"
                            if avoided else ""))
    if d.seq > 1:
        lines.append(f"重抽：本次为该期第 {d.seq} 次抽签，原因：{d.reason or '（未记录）'}；此前的抽签记录保留可查。")
    lines.append("核验：每个编码的键 = SHA-256(种子 + \\x1f + 标签 + \\x1f + 编码)，必抽之外按键升序抽取；"
                 f"任何人可据此复算，或运行 djctl {COMMAND.get(d.kind, d.kind)} verify {d.id}。")
    return lines
