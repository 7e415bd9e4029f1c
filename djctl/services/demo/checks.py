"""The demo's monthly spot checks: worksheets out, filled as the committee would, back in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from djctl.domain.points import fmt
from djctl.io.outfile import save_workbook
from djctl.services.draws import find_active
from djctl.services.setup import load_scheme
from djctl.services.spotcheck import DRAW_KIND, import_forms, write_forms
from djctl.store.engine import Store

OVERCLAIM_MONTHS = (2, 4, 7, 9, 11)   # a unit found false (是): verified lower than claimed
TOLERANCE_MONTH = 3                   # verified a little lower, 是否虚假 decided by the scheme's tolerance
HIGHER_MONTH = 6                      # the check finds more than the unit claimed
CHECKERS = ("王明", "李华", "赵敏", "陈静")


def fill_check_form(src: Path, dest: Path, rng, *, case: str = "", tolerance: Decimal = Decimal(0),
                    check_day: date | None = None) -> Path:
    """Fill a check worksheet as the committee would: verified = self unless `case` says otherwise.

    case "overclaim": one task verified 2–5 points lower, 是否虚假 = 是; "tolerance": one task a little lower
    (within the tolerance, left empty; with tolerance 0, judged 否 by the checker); "higher": one task
    verified above the self score.
    """
    import openpyxl

    from djctl.io.check_form import COLUMNS
    from djctl.io.check_form import SHEET as CHECK_SHEET
    from djctl.io.selfeval_form import HEADER_ROW

    col = {c.name: i + 1 for i, c in enumerate(COLUMNS)}
    wb = openpyxl.load_workbook(src)
    ws = wb[CHECK_SHEET]
    rows = []
    row = HEADER_ROW + 1
    while ws.cell(row, col["任务编码"]).value:
        rows.append((row, Decimal(str(ws.cell(row, col["分值"]).value)), Decimal(str(ws.cell(row, col["自评得分"]).value))))
        row += 1
    checker = "、".join(rng.sample(CHECKERS, 2))
    target = None
    if case == "overclaim":
        target = rng.choice([r for r in rows if r[2] >= 3] or rows)
    elif case == "tolerance":
        target = rng.choice([r for r in rows if r[2] >= 1] or rows)
    elif case == "higher":
        target = rng.choice([r for r in rows if r[2] < r[1]] or rows)
    for r, full, own in rows:
        verified, flag, note = own, None, rng.choice(["经查阅台账，与自评一致", "资料齐全，与自评一致", "现场核实，与自评一致"])
        if target is not None and r == target[0]:
            if case == "overclaim":
                verified = max(Decimal(0), own - Decimal(rng.randint(20, 50)) / 10)
                flag, note = "是", "台账缺少会议记录和签到表，实际完成情况与自评不符，属虚报"
                if "问题类别" in col:
                    ws.cell(r, col["问题类别"]).value = "制度执行"
            elif case == "tolerance":
                step = tolerance if tolerance > 0 else Decimal("0.5")
                verified = max(Decimal(0), own - min(step, Decimal("0.5")))
                if tolerance > 0:
                    note = "个别资料不完整，差额在容差之内"
                else:
                    flag, note = "否", "个别资料归档不及时，按实际核定；属理解偏差，经核实不属虚报"
            elif case == "higher":
                verified = min(full, own + Decimal(rng.randint(5, 20)) / 10)
                note = "查阅台账发现另有完成事项未计入自评，按实际核定"
        ws.cell(r, col["核查得分"]).value = int(verified) if verified == verified.to_integral_value() else float(verified)
        ws.cell(r, col["是否虚假"]).value = flag
        ws.cell(r, col["核查说明"]).value = note
        ws.cell(r, col["核查人"]).value = checker
    if check_day is not None:  # 核查日期: the cell right of its label in the header block
        from djctl.io.check_form import DATE_LABEL

        for hr in range(1, HEADER_ROW):
            for c in range(1, 12):
                if ws.cell(hr, c).value == DATE_LABEL:
                    ws.cell(hr, c + 1).value = check_day.isoformat()
    save_workbook(wb, dest)
    return dest


def demo_step(store: Store, ctx) -> list[str]:
    """Every month of the demo year with an active sample draw: worksheets out, filled, back in.

    Five units over the year overclaimed (是 → double deduction and a rectification item), one was a little
    lower (decided by the tolerance), one was found above its claim (final = verified).
    """
    import random

    from djctl.services.scores import month_rows

    with store.read() as uow:
        tolerance = load_scheme(uow.session, ctx.year).spot_check.tolerance
    lines: list[str] = []
    checked = 0
    findings: list[str] = []
    rect_count = 0
    for mi in range(1, 13):
        m = f"{ctx.year}-{mi:02d}"
        with store.read() as uow:
            if find_active(uow, DRAW_KIND, m) is None:
                continue
        out = write_forms(store, m, Path(ctx.dir) / "下发" / "核查表" / m)
        rng = random.Random(f"check:{m}")
        case = ("overclaim" if mi in OVERCLAIM_MONTHS else "tolerance" if mi == TOLERANCE_MONTH
                else "higher" if mi == HIGHER_MONTH else "")
        special = rng.randrange(len(out.files)) if out.files and case else -1
        returned = []
        for i, f in enumerate(out.files):
            dest = Path(ctx.dir) / "收回" / "核查表" / m / f.name
            # checked in the first days after the month (核查日期 on the worksheet)
            day = date(ctx.year + (mi == 12), mi % 12 + 1, 6 + i % 4)
            returned.append(fill_check_form(f, dest, rng, case=case if i == special else "", tolerance=tolerance,
                                            check_day=day))
        results = import_forms(store, returned)
        refused = [r for r in results if r.status == "refused"]
        if refused:
            raise RuntimeError(f"demo check import refused: {refused[0].path}: {refused[0].message}")
        checked += len(results)
        rect_count += sum(len(r.extra.get("rectifications", [])) for r in results)
        with store.read() as uow:
            rows = month_rows(uow.session, [m], load_scheme(uow.session, ctx.year))[m]
        for r in rows:
            if not r.checked:
                continue
            if r.false:
                findings.append(f"{m} {r.unit} 虚假 {'、'.join(r.false_tasks)}，双倍扣 {fmt(r.deduction_x100)} 分")
            elif r.deduction_x100:
                findings.append(f"{m} {r.unit} 略低于自评、不认定虚假，按核查得分计（少 {fmt(r.deduction_x100)} 分）")
            elif r.final_x100 > r.self_x100:
                findings.append(f"{m} {r.unit} 核查高于自评，按核查得分计（多 {fmt(r.final_x100 - r.self_x100)} 分）")
        if out.not_reported:
            lines.append(f"{m}：抽中但未报送 " + "、".join(c for c, _ in out.not_reported) + "（按 0 分计，无需核查）")
    lines.append(f"全年导入核查表 {checked} 份：" + "；".join(findings) + "；其余与自评一致" if findings
                 else f"全年导入核查表 {checked} 份，核查得分均与自评一致")
    lines.append(f"认定虚假的任务自动生成整改事项 {rect_count} 项（djctl rectify list --source spotcheck）")
    return lines
