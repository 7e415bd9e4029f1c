"""Random inspectors with 回避 (双随机): the pool, the draw, its verification, the worksheets and the page."""

from __future__ import annotations

import json

import pytest

from djctl.domain.inspection import (
    assign_inspectors,
    inspection_label,
    verify_inspection,
)
from djctl.domain.sampling import verify_record
from tests.helpers import json_out, small_roster, workbook
from tests.store_builder import Builder

HEADER = ["人员编码", "姓名", "所在单位编码", "分组", "角色", "曾任职单位"]
SEED = "2024-01-02 福彩开奖号码 01 05 12 19 23 31 + 07"


def pool_rows(n: int = 10) -> list[list]:
    rows = [HEADER]
    for i in range(1, n + 1):
        served = "U005:2023" if i == 1 else ("U007:2019" if i == 2 else "")
        rows.append([f"J{i:02d}", f"检查员{i}", f"U{i:03d}", f"第{(i - 1) % 2 + 1}组", "组长" if i <= 3 else "组员", served])
    return rows


@pytest.fixture
def city(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=12)).exit_code == 0
    r = cli("inspector", "import", workbook(tmp_path / "检查人员.xlsx", {"检查人员": pool_rows()}))
    assert r.exit_code == 0, r.output
    return tmp_path


# ---------------------------------------------------------------------- the algorithm on its own


def test_domain_assignment_spreads_load_and_respects_conflicts():
    units = ["A", "B", "C", "D"]
    pool = ["p1", "p2", "p3", "p4", "p5"]
    conflicts = {"A": {"p1": "本单位人员"}, "C": {"p2": "同组单位人员（一组）", "p3": "近 12 个月检查过（2024-01）"}}
    ins = assign_inspectors(seed="s", draw_label="sample:2024-03#2", pool=pool, per_unit=2, units=units,
                            conflicts=conflicts)
    assert ins["label"] == "inspect:2024-03#2" == inspection_label("sample:2024-03#2")
    a = ins["assignments"]
    assert "p1" not in a["A"] and not {"p2", "p3"} & set(a["C"])
    loads = {p: sum(p in v for v in a.values()) for p in pool}
    assert max(loads.values()) - min(loads.values()) <= 1  # 8 seats over 5 people: nobody gets 3 while one has 1
    # by hand: ranks by key, then each unit takes the least-loaded eligible people in rank order
    order = sorted(pool, key=lambda c: (ins["keys"][c], c))
    load = dict.fromkeys(pool, 0)
    for u in units:
        want = sorted((c for c in order if c not in conflicts.get(u, {})), key=lambda c: (load[c], order.index(c)))[:2]
        assert a[u] == want
        for c in want:
            load[c] += 1
    rec = {"label": "sample:2024-03#2", "seed": "s", "selected": units, "inspection": ins}
    assert verify_inspection(rec) == []
    bad = json.loads(json.dumps(rec))
    bad["inspection"]["conflicts"]["A"] = {}  # a conflict dropped from the record: the assignment no longer follows
    bad["inspection"]["assignments"]["A"] = ["p1", *a["A"][:1]]
    assert any("单位「A」的检查人员不一致" in d for d in verify_inspection(bad))


def test_domain_shortage_names_unit_and_rules():
    from djctl.domain.inspection import InspectorShortage

    with pytest.raises(InspectorShortage) as e:
        assign_inspectors(seed="s", draw_label="sample:2024-03", pool=["p1", "p2"], per_unit=2, units=["A"],
                          conflicts={"A": {"p2": "本单位人员"}})
    assert "单位「A」" in str(e.value) and "本单位人员 1 人" in str(e.value)


# ---------------------------------------------------------------------- through the CLI


def test_sample_draws_inspectors_with_conflicts_and_verifies_from_record_alone(cli, city, tmp_path):
    doc = json_out(cli("sample", "--month", "2024-01", "--seed", SEED, "--json"))
    record = json_out(cli("sample", "show", str(doc["id"]), "--json"))
    ins = record["inspection"]
    assert ins["label"] == "inspect:2024-01" and ins["per_unit"] == 2 and len(ins["pool"]) == 10
    assert set(ins["assignments"]) == set(record["selected"])
    for unit, people in ins["assignments"].items():
        assert len(people) == 2
        own = f"J{int(unit[1:]):02d}"
        if int(unit[1:]) <= 10:
            assert own not in people and ins["conflicts"][unit][own] == "本单位人员"
    if "U005" in record["selected"]:
        assert "近 3 年曾在该单位任职（2023 年）" in ins["conflicts"]["U005"]["J01"]
    if "U007" in record["selected"]:
        assert "J02" not in ins["conflicts"].get("U007", {})  # served in 2019: more than 3 years ago
    # verified from the record alone (no store), and a changed assignment is named
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert verify_record(record) == []
    r = cli("--db", str(tmp_path / "none.db"), "sample", "verify", "--record", str(path))
    assert r.exit_code == 0, r.output
    unit = record["selected"][0]
    record["inspection"]["assignments"][unit] = list(reversed(record["inspection"]["assignments"][unit]))
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    r = cli("sample", "verify", "--record", str(path))
    assert r.exit_code != 0 and f"单位「{unit}」的检查人员不一致" in r.output
    assert cli("sample", "verify", str(doc["id"])).exit_code == 0
    show = cli("sample", "show", str(doc["id"]))
    assert "检查人员：人员库 10 人" in show.output


def test_pairs_not_repeated_within_months(cli, city):
    json_out(cli("sample", "--month", "2024-01", "--seed", SEED, "--json"))
    jan = json_out(cli("sample", "show", "--month", "2024-01", "--json"))
    json_out(cli("sample", "--month", "2024-03", "--seed", "三月", "--count", "12", "--json"))
    mar = json_out(cli("sample", "show", "--month", "2024-03", "--json"))
    for unit, people in jan["inspection"]["assignments"].items():
        for p in people:
            assert "近 12 个月检查过（2024-01）" in mar["inspection"]["conflicts"][unit][p]
            assert p not in mar["inspection"]["assignments"][unit]
    assert verify_record(mar) == []


def test_too_few_inspectors_refused_naming_unit_and_rule(cli, city, tmp_path, store):
    rows = [HEADER, ["K1", "甲", "U001", "", "组长", "；".join(f"U{i:03d}:2023" for i in range(2, 13))],
            ["K2", "乙", "U002", "", "组员", ""]]
    assert cli("inspector", "import", workbook(tmp_path / "小.xlsx", {"检查人员": rows})).exit_code == 0
    from djctl.store import audit

    with store.read() as uow:
        before = audit.head(uow.conn)
    r = cli("sample", "--month", "2024-01", "--seed", SEED)
    assert r.exit_code == 2, r.output
    assert "无法确定检查人员" in r.output and "回避后只剩" in r.output
    assert "近 3 年曾在该单位任职" in r.output or "本单位人员" in r.output
    with store.read() as uow:
        assert audit.head(uow.conn) == before  # nothing written


def test_pool_import_unchanged_replaced_and_refused(cli, city, tmp_path):
    again = workbook(tmp_path / "再次.xlsx", {"检查人员": pool_rows()})
    assert "未改动" in cli("inspector", "import", again).output
    doc = json_out(cli("inspector", "import", workbook(tmp_path / "新.xlsx", {"检查人员": pool_rows(6)}), "--json"))
    assert doc["status"] == "imported" and doc["replaced"] == 10 and doc["rows"] == 6
    assert len(json_out(cli("inspector", "list", "--json"))["inspectors"]) == 6
    bad = pool_rows(3) + [["J99", "丙", "U404", "", "", "U001-2023"]]
    r = cli("inspector", "import", workbook(tmp_path / "错.xlsx", {"检查人员": bad}))
    assert r.exit_code == 2
    assert "第 5 行" in r.output and "曾任职单位" in r.output
    r = cli("inspector", "import", workbook(tmp_path / "错2.xlsx", {"检查人员": pool_rows(3) + [["J98", "丁", "U404", "", "", ""]]}))
    assert r.exit_code == 2 and "U404" in r.output and "所在单位编码" in r.output
    assert len(json_out(cli("inspector", "list", "--json"))["inspectors"]) == 6
    # each pool that went in is an import_file row of the pipeline, covered by the content check
    from tests.monthly_helpers import query

    assert [r[0] for r in query("SELECT rows FROM import_file WHERE kind = 'inspectors' ORDER BY id")] == [10, 6]
    assert json_out(cli("audit", "verify", "--json"))["ok"]


def test_check_worksheets_prefill_inspectors(cli, city, store, tmp_path):
    b = Builder(store)
    b.tasks("2024-01", {"A": 60, "B": 40})
    for i in range(1, 13):
        b.report(f"U{i:03d}", "2024-01", {"A": 5000, "B": 4000})
    json_out(cli("sample", "--month", "2024-01", "--seed", SEED, "--json"))
    record = json_out(cli("sample", "show", "--month", "2024-01", "--json"))
    doc = json_out(cli("check", "forms", "--month", "2024-01", "--out", "forms", "--json"))
    from openpyxl import load_workbook

    names = {r["code"]: r["name"] for r in json_out(cli("inspector", "list", "--json"))["inspectors"]}
    assert len(doc["files"]) == len(record["selected"]) > 0
    for f in doc["files"]:
        ws = load_workbook(f).active
        unit = ws["C2"].value  # the unit code, right of its label in B2
        header = [c.value for c in ws[6]]
        col = header.index("核查人")
        want = "、".join(names[p] for p in record["inspection"]["assignments"][unit])
        values = {row[col].value for row in ws.iter_rows(min_row=7) if row[0].value is not None}
        assert values == {want}, (unit, values)


def test_published_page_shows_and_verifies_inspectors(cli, city, tmp_path):
    from tests.test_publish import CHROMIUM, check_page, chromium_dom, verdict

    json_out(cli("sample", "--month", "2024-01", "--seed", SEED, "--json"))
    record = json_out(cli("sample", "show", "--month", "2024-01", "--json"))
    json_out(cli("publish", "--year", "2024", "--out", "site", "--date", "2025-01-10", "--json"))
    page = tmp_path / "site" / "draw-sample-2024-01-1.html"
    check_page(page)
    text = page.read_text(encoding="utf-8")
    assert "检查人员（双随机）" in text and "inspect:2024-01" in text
    unit = record["selected"][0]
    first = record["inspection"]["assignments"][unit][0]
    assert f"{first} 检查员{int(first[1:])}" in text and "本单位人员" in text
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs it)")
    assert verdict(chromium_dom(page, tmp_path)) == ("一致", [])
    # the two inspectors of one unit swapped in the embedded record
    import html
    import re

    m = re.search(r'(<textarea id="record"[^>]*>)(.*?)(</textarea>)', text, re.S)
    doc = json.loads(html.unescape(m.group(2)))
    doc["inspection"]["assignments"][unit].reverse()
    tampered = page.with_name("tampered.html")
    tampered.write_text(text[:m.start(2)] + html.escape(json.dumps(doc, ensure_ascii=False, indent=1))
                        + text[m.end(2):], encoding="utf-8")
    shown, diffs = verdict(chromium_dom(tampered, tmp_path))
    assert shown.startswith("不一致") and any(f"单位「{unit}」的检查人员不一致" in d for d in diffs), diffs
