"""The re-check of closed rectification items (整改回头看, issue 18 item 4): a verifiable draw of the year's closed
items, a worksheet per drawn item, results imported all or nothing; an item not really fixed is reopened and is a
repeated problem (重复问题) on the negative list."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import json_out, small_roster

SEED = "2024-12-20 示范市福利彩票开奖号码 03 08 11 20 27 30 + 05"


@pytest.fixture
def closed(cli, tmp_path):
    """Six items found in 2024 on four units; five closed in 2024 (one of them by a branch), one left open,
    and one closed only in 2025 (outside the 2024 population)."""
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=4)).exit_code == 0
    plan = [("U001", "党费收缴台账不完整", "2024-03-01", "2024-04-30", "2024-04-20"),
            ("U002", "三会一课记录不规范", "2024-04-01", "2024-05-31", "2024-05-20"),
            ("U003", "主题党日活动缺少方案", "2024-05-01", "2024-06-30", "2024-06-10"),
            ("U004", "发展党员程序不规范", "2024-06-01", "2024-07-31", "2024-07-15"),
            ("U001-B01", "支部委员分工不明确", "2024-07-01", "2024-08-31", "2024-08-10"),
            ("U002", "组织生活会走过场", "2024-09-01", "2024-10-31", None),
            ("U003", "党员教育台账缺失", "2024-10-01", "2024-11-30", "2025-01-10")]
    ids = []
    for org, problem, found, due, closed_on in plan:
        doc = json_out(cli("rectify", "add", org, "--problem", problem, "--found", found, "--due", due,
                           "--category", "组织生活" if "组织生活" in problem or "三会" in problem else "基础保障", "--json"))
        ids.append(doc["id"])
        if closed_on:
            json_out(cli("rectify", "close", str(doc["id"]), "--feedback", f"已整改：{problem}已纠正", "--date", closed_on,
                         "--json"))
    return {"ids": ids, "dir": tmp_path}


def _draw(cli, *args):
    return cli("rectify", "recheck", "--year", "2024", "--seed", SEED, *args)


def test_draw_population_and_record_verified_alone(cli, closed):
    out = closed["dir"] / "回头看"
    doc = json_out(_draw(cli, "--count", "3", "--date", "2024-12-20", "--out", out, "--json"))
    ids = closed["ids"]
    assert doc["label"] == "recheck:2024" and doc["kind"] == "recheck" and doc["as_of"] == "2024-12-20"
    # closed in 2024 as of 20 December: the first five; not the open one, not the one closed in 2025
    assert doc["population"] == sorted(f"R{i}" for i in ids[:5])
    assert len(doc["selected"]) == 3 and set(doc["selected"]) <= set(doc["population"])
    record = out / "整改回头看抽签记录-2024.json"
    forms = sorted(out.glob("*_整改回头看复查表.xlsx"))
    assert record.is_file() and len(forms) == 3
    assert (out / "整改回头看抽签公示-2024.txt").read_text(encoding="utf-8").startswith("2024年度整改“回头看”复查抽签结果公示")

    v = json_out(cli("rectify", "recheck", "verify", "--record", record, "--json"))
    assert v["ok"] and v["selected"] == doc["selected"]
    assert json_out(cli("rectify", "recheck", "verify", str(doc["id"]), "--json"))["ok"]
    # a tampered record is refused (exit 1), the differences named
    tampered = json.loads(record.read_text(encoding="utf-8"))
    tampered["selected"] = list(reversed(tampered["selected"]))
    bad = closed["dir"] / "篡改.json"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    r = cli("rectify", "recheck", "verify", "--record", bad)
    assert r.exit_code == 1 and "核验不一致" in r.output

    assert json_out(cli("rectify", "recheck", "list", "--json"))["draws"][0]["label"] == "recheck:2024"
    shown = json_out(cli("rectify", "recheck", "show", "--year", "2024", "--json"))
    assert shown["selected"] == doc["selected"] and {r["result"] for r in shown["results"]} == {"pending"}
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_same_seed_same_selection_and_redraw_needs_a_reason(cli, closed, store):
    from djctl.domain.sampling import run_draw

    doc = json_out(_draw(cli, "--rate", "0.5", "--json"))
    # the same algorithm recomputed by hand: same seed, label and population give the same selection
    again = run_draw(seed=SEED, label="recheck:2024", population=doc["population"], rate="0.5", min_count=1)
    assert again.selected == doc["selected"]
    assert len(doc["population"]) == 5 and doc["k"] == 3  # ceil(0.5 × 5); the item closed in 2025 is not in it
    r = _draw(cli, "--rate", "0.5")
    assert r.exit_code == 2 and "已经抽签" in r.output
    r = _draw(cli, "--rate", "0.5", "--redraw")
    assert r.exit_code == 2 and "重抽必须说明原因" in r.output
    r = _draw(cli, "--rate", "0.5", "--reason", "种子抄错")
    assert r.exit_code == 2 and "只用于重抽" in r.output
    r = _draw(cli, "--rate", "0.5", "--count", "2")
    assert r.exit_code == 2
    r = cli("rectify", "recheck", "--year", "2024", "--seed", SEED, "--date", "2023-12-31")
    assert r.exit_code == 2 and "早于 2024 年" in r.output
    second = json_out(_draw(cli, "--rate", "0.5", "--redraw", "--reason", "种子抄录有误", "--json"))
    assert second["label"] == "recheck:2024#2" and second["reason"] == "种子抄录有误"
    listed = json_out(cli("rectify", "recheck", "list", "--year", "2024", "--json"))["draws"]
    assert [(d["label"], d["active"]) for d in listed] == [("recheck:2024", False), ("recheck:2024#2", True)]
    assert json_out(cli("rectify", "recheck", "verify", str(second["id"]), "--json"))["ok"]


def _forms(cli, closed, count: str = "3") -> tuple[dict, dict[int, Path]]:
    out = closed["dir"] / "复查表"
    doc = json_out(_draw(cli, "--count", count, "--date", "2024-12-10", "--out", out, "--json"))
    by_item = {int(p.name.split("_")[1][1:]): p for p in out.glob("*_整改回头看复查表.xlsx")}
    return doc, by_item


def test_worksheets_imported_once_broken_and_undrawn_refused(cli, closed, store):
    from djctl.services.demo.recheck import fill_recheck_form

    doc, forms = _forms(cli, closed)
    d = closed["dir"]
    (first, bad_one), rest = list(forms.items())[:2], list(forms.items())[2:]
    ok = fill_recheck_form(first[1], d / "ok.xlsx", on_date=date(2024, 12, 15), checker="李四", fixed=True,
                           finding="台账已补齐，现场查看无问题")
    head = json_out(cli("audit", "head", "--json"))
    broken = fill_recheck_form(bad_one[1], d / "broken.xlsx", on_date=date(2024, 12, 15), checker="李四", fixed="基本到位")
    r = cli("rectify", "recheck", "import", broken)
    assert r.exit_code == 2 and "第 14 行「是否整改到位」列" in r.output and "基本到位" in r.output
    no_reason = fill_recheck_form(bad_one[1], d / "noreason.xlsx", on_date=date(2024, 12, 15), checker="李四", fixed=False)
    r = json_out_refused(cli("rectify", "recheck", "import", no_reason, "--json"))
    assert any(e["column"] == "复查情况" and e["row"] for e in r["errors"])
    early = fill_recheck_form(bad_one[1], d / "early.xlsx", on_date=date(2024, 12, 1), checker="李四", fixed=True)
    r = json_out_refused(cli("rectify", "recheck", "import", early, "--json"))
    assert any(e["column"] == "复查日期" and "早于抽签日期" in e["message"] for e in r["errors"])
    assert json_out(cli("audit", "head", "--json")) == head  # nothing written by the refusals

    # an item not drawn: a worksheet made for it (as if) is refused, naming the item's row and column
    undrawn = next(i for i in closed["ids"][:5] if f"R{i}" not in doc["selected"])
    from openpyxl import load_workbook

    wb = load_workbook(first[1])
    meta = wb["_djctl"] if "_djctl" in wb.sheetnames else wb[[n for n in wb.sheetnames if n != "整改回头看复查表"][0]]
    for row in meta.iter_rows():
        if row[0].value == "item":
            row[1].value = str(undrawn)
    wb["整改回头看复查表"]["B2"] = f"R{undrawn}"
    wb.save(d / "undrawn-src.xlsx")
    fill_recheck_form(d / "undrawn-src.xlsx", d / "undrawn.xlsx", on_date=date(2024, 12, 15), checker="李四", fixed=True)
    r = json_out_refused(cli("rectify", "recheck", "import", d / "undrawn.xlsx", "--json"))
    assert any("未在 recheck:2024" in e["message"] and e["column"] == "整改事项编号" and e["row"] == 2 for e in r["errors"])

    dry = json_out(cli("rectify", "recheck", "import", ok, "--dry-run", "--json"))
    assert dry["files"][0]["status"] == "valid" and json_out(cli("audit", "head", "--json")) == head
    got = json_out(cli("rectify", "recheck", "import", ok, "--json"))
    assert got["files"][0]["status"] == "imported"
    after = json_out(cli("audit", "head", "--json"))
    again = json_out(cli("rectify", "recheck", "import", ok, "--json"))
    assert again["files"][0]["status"] == "unchanged" and json_out(cli("audit", "head", "--json")) == after
    item = json_out(cli("rectify", "show", str(first[0]), "--json"))
    assert item["status"] == "closed" and item["closed_on"] != "2024-12-15"  # still closed on its own day
    assert item["changes"][-1]["action"] == "recheck" and item["changes"][-1]["date"] == "2024-12-15"
    # a second, different file for the same item and draw is refused: one result per item
    other = fill_recheck_form(first[1], d / "ok2.xlsx", on_date=date(2024, 12, 16), checker="王五", fixed=False,
                              finding="仍有缺漏")
    r = json_out_refused(cli("rectify", "recheck", "import", other, "--json"))
    assert any("导入过本次抽签的复查结果" in e["message"] for e in r["errors"])
    assert rest  # three were drawn
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def json_out_refused(result) -> dict:
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    f = doc["files"][0]
    assert f["status"] == "refused"
    return f


def test_reopened_item_is_a_repeated_problem_this_year_and_overdue_next_year(cli, closed, store):
    from djctl.services.demo.recheck import fill_recheck_form
    from djctl.services import negative

    doc, forms = _forms(cli, closed, count="2")
    d = closed["dir"]
    (a, pa), (b, pb) = sorted(forms.items())
    fill_recheck_form(pa, d / "in" / "a.xlsx", on_date=date(2024, 12, 18), checker="李四", fixed=False,
                      finding="台账仍缺 3 个月的收缴记录")
    fill_recheck_form(pb, d / "in" / "b.xlsx", on_date=date(2024, 12, 18), checker="李四", fixed=True)
    res = json_out(cli("rectify", "recheck", "import", d / "in", "--json"))
    assert [f["status"] for f in res["files"]] == ["imported", "imported"]
    item = json_out(cli("rectify", "show", str(a), "--json"))
    assert item["status"] == "open" and item["reopened"] and item["due"] == "2025-01-17"  # 18 Dec + 30 days
    assert item["changes"][-1]["action"] == "reopen" and "整改回头看" in item["changes"][-1]["note"]
    shown = json_out(cli("rectify", "recheck", "show", "--json"))
    assert {r["item"]: r["result"] for r in shown["results"]} == {a: "reopened", b: "fixed"}

    with store.read() as uow:
        found = {(f.kind, f.code): [s for _, s in f.reasons] for f in negative.compute(uow.session, 2024)}
        org = next(k for k in found if any(f"第 {a} 号" in s for s in found[k]))
        assert any("重复问题" in s and "重新打开" in s for s in found[org])
        # next year: still open past its new deadline → on 2025's list (overdue)
        nxt = {(f.kind, f.code): [s for _, s in f.reasons] for f in negative.compute(uow.session, 2025)}
    assert any("逾期" in s and "2025年1月17日" in s for s in nxt.get(org, [])), nxt
    doc24 = json_out(cli("negative-list", "--year", "2024", "--build", "--json"))
    assert any("重复问题" in reason for e in doc24["entries"] for reason in e["reasons"])


def test_the_quarter_states_the_recheck(cli, closed, store):
    from djctl.services.demo.recheck import fill_recheck_form
    from djctl.services.rectify_stats import quarter_closure_text

    doc, forms = _forms(cli, closed, count="2")
    d = closed["dir"]
    (a, pa), (b, pb) = sorted(forms.items())
    with store.read() as uow:
        assert quarter_closure_text(uow.session, date(2024, 10, 1), date(2024, 12, 31)) == [
            "本季度对2024年已销号的 5 项整改事项开展整改“回头看”，公开随机抽取 2 项复查，复查正在进行。"]
    fill_recheck_form(pa, d / "in" / "a.xlsx", on_date=date(2024, 12, 18), checker="李四", fixed=False, finding="仍未整改")
    fill_recheck_form(pb, d / "in" / "b.xlsx", on_date=date(2024, 12, 18), checker="李四", fixed=True)
    assert cli("rectify", "recheck", "import", d / "in").exit_code == 0
    with store.read() as uow:
        assert quarter_closure_text(uow.session, date(2024, 10, 1), date(2024, 12, 31)) == [
            "本季度对2024年已销号的 5 项整改事项开展整改“回头看”，公开随机抽取 2 项复查：整改到位 1 项，"
            "整改不到位重新打开 1 项（计为重复问题）。"]
        assert quarter_closure_text(uow.session, date(2024, 7, 1), date(2024, 9, 30)) == []
