"""`djctl sample`: the monthly spot-check draw, stored, shown, listed and verified (DESIGN §3, §4)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from djctl.domain.sampling import run_draw
from tests.helpers import BRANCH_HEADER, UNIT_HEADER, json_out, small_roster, workbook

SEED = "2024-03-01 福彩开奖号码 01 05 12 19 23 31 + 07"
DESIGN_KEYS = {"id", "algorithm", "label", "seed", "rate", "k", "population", "population_hash", "mandatory",
               "excluded", "strata", "keys", "selected"}


def _init_city(cli, db: str | None, roster: Path) -> None:
    pre = ["--db", db] if db else []
    assert cli(*pre, "init").exit_code == 0
    r = cli(*pre, "org", "import", roster)
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def city_template(tmp_path_factory):
    """One store built through the CLI per module; each test gets a copy (init costs about a second)."""
    if os.environ.get("DJCTL_TEST_DB"):
        return None
    from typer.testing import CliRunner

    from djctl.cli import app

    base = tmp_path_factory.mktemp("city")
    db = base / "djctl.db"
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    _init_city(run, str(db), small_roster(base / "名册.xlsx", units=10))
    return db


@pytest.fixture
def city(cli, tmp_path, city_template):
    """A store with the default 2024 scheme and ten units in two groups (第1组 odd, 第2组 even)."""
    if city_template is None:
        _init_city(cli, None, small_roster(tmp_path / "名册.xlsx", units=10))
    else:
        from djctl.store.engine import backup_sqlite

        backup_sqlite(city_template, db_path(tmp_path))
    return [f"U{i:03d}" for i in range(1, 11)]


def draw(cli, month="2024-03", *extra, seed=SEED):
    args = ["sample", "--month", month, *extra, "--json"]
    if seed is not None:
        args += ["--seed", seed]
    return json_out(cli(*args))


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "djctl.db"


def sql(tmp_path: Path, statement: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db_path(tmp_path))
    try:
        with con:
            return con.execute(statement, params).fetchall()
    finally:
        con.close()


def hand_key(seed: str, label: str, code: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{label}\x1f{code}".encode("utf-8")).hexdigest()


def add_negative(store, year: int, code: str, kind: str = "unit", active: bool = True) -> None:
    from djctl.store.engine import now
    from djctl.store.tables import NegativeEntry

    with store.write() as uow:
        uow.session.add(NegativeEntry(year=year, org_code=code, org_kind=kind, reasons=json.dumps(["整改逾期"]),
                                      active=active, created_at=now()))
        uow.audit("test.negative", {"year": year, "code": code, "kind": kind, "active": active})


# --------------------------------------------------------------------------- the draw itself


def test_draw_matches_independent_computation(cli, city):
    doc = draw(cli)
    label = "sample:2024-03"
    # DESIGN §3 by hand: sorted codes, hash of "\n"-joined, k = ceil(0.2 × 10) = 2, keys, ascending key order
    population = sorted(city)
    assert doc["population"] == population
    assert doc["population_hash"] == hashlib.sha256("\n".join(population).encode("utf-8")).hexdigest()
    assert doc["k"] == math.ceil(Decimal("0.2") * 10) == 2
    keys = {c: hand_key(SEED, label, c) for c in population}
    assert doc["keys"] == keys
    assert doc["selected"] == sorted(population, key=lambda c: keys[c])[:2]
    assert doc["label"] == label and doc["seed"] == SEED and doc["rate"] == "0.2"
    # and the domain function gives the same for the same inputs
    assert doc["selected"] == run_draw(seed=SEED, label=label, population=city, rate=Decimal("0.2")).selected
    assert doc["seed_generated"] is False and doc["active"] is True and doc["seq"] == 1


def test_count_and_rate_options(cli, city):
    doc = draw(cli, "2024-03", "--count", "4")
    assert doc["k"] == 4 and doc["count"] == 4 and doc["rate"] is None and len(doc["selected"]) == 4
    doc = draw(cli, "2024-05", "--rate", "0.35")
    assert doc["k"] == 4 and doc["rate"] == "0.35"  # ceil(3.5)


def test_show_json_has_the_design_keys_and_names(cli, city):
    made = draw(cli)
    shown = json_out(cli("sample", "show", str(made["id"]), "--json"))
    assert DESIGN_KEYS <= set(shown)
    assert shown["algorithm"] == "djctl-draw-v1"
    assert shown == json_out(cli("sample", "show", "--month", "2024-03", "--json"))
    assert {c: shown[c] for c in DESIGN_KEYS} == {c: made[c] for c in DESIGN_KEYS}
    assert shown["names"][shown["selected"][0]].startswith("测试单位")
    human = cli("sample", "show", str(made["id"]))
    assert human.exit_code == 0, human.output
    assert "2024年3月党建工作抽查抽签结果公示" in human.stdout and SEED in human.stdout
    assert shown["population_hash"] in human.stdout and "k = 2" in human.stdout


def test_human_output_is_the_published_text(cli, city):
    r = cli("sample", "--month", "2024-03", "--seed", SEED)
    assert r.exit_code == 0, r.output
    doc = json_out(cli("sample", "show", "--json"))
    for code in doc["selected"]:
        assert f"{code} {doc['names'][code]}" in r.stdout
    assert "种子：「" + SEED + "」" in r.stdout and "排除：无" in r.stdout and "必抽：无" in r.stdout


def test_generated_seed_is_warned_and_recorded(cli, city):
    r = cli("sample", "--month", "2024-03", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["seed_generated"] is True and len(doc["seed"]) == 32 and int(doc["seed"], 16) >= 0
    err = r.stderr.replace("\n", "")
    assert "未指定 --seed" in err and doc["seed"] in err and "事先公布" in err
    assert "抽签前未公布" in cli("sample", "show").stdout


def test_population_is_the_units_active_in_the_month(cli, tmp_path):
    header = UNIT_HEADER + ["启用日期", "撤销日期"]
    rows = [header,
            ["A01", "甲单位", "机关党委", "一组", "张", 10, None, None],
            ["A02", "乙单位", "机关党委", "一组", "李", 10, date(2024, 3, 20), None],  # joins mid-March
            ["A03", "丙单位", "机关党委", "一组", "王", 10, None, date(2024, 2, 29)],  # dissolved in February
            ["A04", "丁单位", "机关党委", "一组", "赵", 10, date(2024, 4, 1), None]]  # joins in April
    path = workbook(tmp_path / "名册.xlsx", {"单位": rows, "支部": [BRANCH_HEADER]})
    assert cli("init").exit_code == 0
    assert cli("org", "import", path).exit_code == 0
    assert draw(cli, "2024-03")["population"] == ["A01", "A02"]
    assert draw(cli, "2024-02")["population"] == ["A01", "A03"]


def test_no_active_units_and_no_scheme(cli, city, tmp_path):
    r = cli("sample", "--month", "2025-01", "--seed", "x")
    assert r.exit_code == 2 and "2025 年度的考核方案" in r.output and "djctl scheme new --year 2025" in r.output
    fresh = tmp_path / "other"
    fresh.mkdir()
    r = cli("--db", str(fresh / "djctl.db"), "init")
    assert r.exit_code == 0
    r = cli("--db", str(fresh / "djctl.db"), "sample", "--month", "2024-03", "--seed", "x")
    assert r.exit_code == 1 and "没有在册的考核单位" in r.output and "djctl org import" in r.output


# --------------------------------------------------------------------------- exclusion, mandatory, strata


def test_previous_month_selection_is_excluded(cli, city):
    march = draw(cli, "2024-03", "--count", "3")
    april = draw(cli, "2024-04", "--count", "3")
    assert april["excluded"] == {c: "2024-03 已抽中" for c in march["selected"]}
    assert not set(april["selected"]) & set(march["selected"])
    assert april["excluded_waived"] is False
    # the same draw by hand: P − E in key order
    free = [c for c in city if c not in march["selected"]]
    assert april["selected"] == sorted(free, key=lambda c: hand_key(SEED, "sample:2024-04", c))[:3]
    text = cli("sample", "show", str(april["id"])).stdout
    published = "、".join(f"{c} {april['names'][c]}" for c in sorted(march["selected"]))
    assert f"排除（不参加本次抽取）：（2024-03 已抽中）{published}" in text


def test_exclusion_emptied_when_too_few_remain(cli, city):
    march = draw(cli, "2024-03", "--count", "6")
    april = draw(cli, "2024-04", "--count", "6")  # 10 − 6 = 4 < 6: E waived
    assert april["excluded"] == {} and april["excluded_waived"] is True
    assert april["excluded_requested"] == {c: "2024-03 已抽中" for c in march["selected"]}
    assert april["selected"] == sorted(city, key=lambda c: hand_key(SEED, "sample:2024-04", c))[:6]
    text = cli("sample", "show", str(april["id"])).stdout
    assert "少于应抽数 6，排除名单不予适用" in text


def test_last_years_negative_list_is_drawn_first(cli, city, store):
    add_negative(store, 2023, "U007")
    add_negative(store, 2023, "U009", active=False)  # withdrawn entry: not mandatory
    add_negative(store, 2023, "U003", kind="branch")  # a branch entry: not a unit
    add_negative(store, 2022, "U005")  # two years ago: not mandatory
    add_negative(store, 2023, "U099")  # not on the roster: noted, not drawn
    r = cli("sample", "--month", "2024-01", "--seed", SEED, "--json")
    doc = json_out(r)
    assert doc["mandatory"] == {"U007": "2023 年度负面清单"}
    assert doc["selected"][0] == "U007" and len(doc["selected"]) == 2
    rest = sorted((c for c in city if c != "U007"), key=lambda c: hand_key(SEED, "sample:2024-01", c))
    assert doc["selected"][1:] == rest[:1]
    assert "U099" in r.stderr
    text = cli("sample", "show", str(doc["id"])).stdout
    assert "必抽：（2023 年度负面清单）U007 测试单位7机关党委" in text and "（必抽）" in text
    # a negative-list unit is mandatory even when it was drawn last month
    feb = draw(cli, "2024-02")
    assert feb["mandatory"] == {"U007": "2023 年度负面清单"} and "U007" not in feb["excluded"]
    assert feb["selected"][0] == "U007"


def test_negative_list_off_in_the_scheme(cli, tmp_path, store):
    from djctl.resources import DEFAULT_SCHEME, data_path

    text = data_path(DEFAULT_SCHEME).read_text(encoding="utf-8")
    assert "include_negative_list = true" in text
    scheme = tmp_path / "方案.toml"
    scheme.write_text(text.replace("include_negative_list = true", "include_negative_list = false"), encoding="utf-8")
    assert cli("init", "--scheme", scheme).exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=10)).exit_code == 0
    add_negative(store, 2023, "U007")
    assert draw(cli, "2024-01")["mandatory"] == {}


def test_stratified_draw(cli, city):
    doc = draw(cli, "2024-03", "--stratify", "--count", "4")
    strata = {c: f"第{(int(c[1:]) - 1) % 2 + 1}组" for c in city}
    assert doc["strata"] == strata
    assert doc["quotas"] == {"第1组": 2, "第2组": 2}
    by_key = lambda codes: sorted(codes, key=lambda c: hand_key(SEED, "sample:2024-03", c))  # noqa: E731
    expected = by_key([c for c in city if strata[c] == "第1组"])[:2] + by_key([c for c in city if strata[c] == "第2组"])[:2]
    assert doc["selected"] == expected
    assert doc["selected"] == run_draw(seed=SEED, label="sample:2024-03", population=city, count=4, strata=strata).selected
    assert "分层：按分组分层抽取" in cli("sample", "show", str(doc["id"])).stdout
    assert draw(cli, "2024-04")["strata"] is None  # the scheme's default is not stratified


# --------------------------------------------------------------------------- redraws


def test_redraw_rules_and_both_draws_kept(cli, city):
    first = draw(cli, "2024-03")
    r = cli("sample", "--month", "2024-03", "--seed", "another")
    assert r.exit_code == 2, r.output
    assert "已经抽签" in r.output and "--redraw --reason" in r.output
    second = draw(cli, "2024-03", "--redraw", "--reason", "种子公布有误", seed="another")
    assert second["label"] == "sample:2024-03#2" and second["seq"] == 2 and second["reason"] == "种子公布有误"
    assert second["keys"]["U001"] == hand_key("another", "sample:2024-03#2", "U001")
    third = draw(cli, "2024-03", "--redraw", "--reason", "再次更正", seed="third")
    assert third["label"] == "sample:2024-03#3"
    listed = json_out(cli("sample", "list", "--json"))["draws"]
    assert [(d["id"], d["label"], d["active"], d["reason"]) for d in listed] == [
        (first["id"], "sample:2024-03", False, ""),
        (second["id"], "sample:2024-03#2", False, "种子公布有误"),
        (third["id"], "sample:2024-03#3", True, "再次更正"),
    ]
    assert json_out(cli("sample", "show", "--month", "2024-03", "--json"))["id"] == third["id"]
    old = json_out(cli("sample", "show", str(first["id"]), "--json"))
    assert old["active"] is False and old["selected"] == first["selected"]
    for d in (first, second, third):
        assert cli("sample", "verify", str(d["id"])).exit_code == 0
    human = cli("sample", "list").stdout
    assert "已被重抽取代" in human and "种子公布有误" in human
    assert json_out(cli("sample", "list", "--year", "2023", "--json")) == {"draws": []}


def test_redraw_of_a_month_never_drawn_is_refused(cli, city):
    r = cli("sample", "--month", "2024-03", "--redraw", "--reason", "x", "--seed", "s")
    assert r.exit_code == 2 and "无从重抽" in r.output
    assert json_out(cli("sample", "list", "--json")) == {"draws": []}


def test_next_month_uses_the_active_redraw_and_a_late_redraw_is_noted(cli, city):
    draw(cli, "2024-03", "--count", "3")
    redone = draw(cli, "2024-03", "--count", "3", "--redraw", "--reason", "更正", seed="s2")
    april = draw(cli, "2024-04", "--count", "3")
    assert set(april["excluded"]) == set(redone["selected"])
    r = cli("sample", "--month", "2024-03", "--count", "3", "--redraw", "--reason", "又更正", "--seed", "s3")
    assert r.exit_code == 0 and "请对 2024-04 重抽" in r.output


@pytest.mark.parametrize("args", [
    ["sample"],
    ["sample", "--seed", "x"],
    ["sample", "--month", "2024-13", "--seed", "x"],
    ["sample", "--month", "2024Q1", "--seed", "x"],
    ["sample", "--month", "2024-03", "--redraw", "--seed", "x"],
    ["sample", "--month", "2024-03", "--redraw", "--reason", "  ", "--seed", "x"],
    ["sample", "--month", "2024-03", "--reason", "x", "--seed", "x"],
    ["sample", "--month", "2024-03", "--rate", "1.5"],
    ["sample", "--month", "2024-03", "--rate", "0"],
    ["sample", "--month", "2024-03", "--rate", "abc"],
    ["sample", "--month", "2024-03", "--rate", "0.2", "--count", "2"],
    ["sample", "--month", "2024-03", "--count", "0"],
    ["sample", "--month", "2024-03", "--seed", ""],
    ["sample", "verify"],
    ["sample", "verify", "1", "--record", "f.json"],
    ["sample", "show", "1", "--month", "2024-03"],
])
def test_usage_errors_exit_2_before_opening_the_store(cli, tmp_path, monkeypatch, args):
    missing = tmp_path / "nowhere" / "djctl.db"
    monkeypatch.setenv("DJCTL_DB", str(missing))
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert "数据库" not in r.output
    assert not missing.parent.exists()


def test_redraw_without_reason_says_so(cli):
    r = cli("sample", "--month", "2024-03", "--redraw")
    assert r.exit_code == 2 and "--reason" in r.output


# --------------------------------------------------------------------------- verification


def test_verify_ok(cli, city):
    doc = draw(cli)
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 0, r.output
    assert "核验一致" in r.stdout
    v = json_out(cli("sample", "verify", str(doc["id"]), "--json"))
    assert v["ok"] is True and v["differences"] == [] and v["selected"] == doc["selected"]
    assert v["record_sha256"] == doc["record_sha256"]


def test_unknown_draw_id(cli, city):
    r = cli("sample", "verify", "99")
    assert r.exit_code == 2 and "没有编号为 99 的抽签" in r.output
    assert cli("sample", "show", "99").exit_code == 2
    assert cli("sample", "show", "--month", "2024-03").exit_code == 2


@pytest.mark.sqlite_only
def test_tampered_record_fails_verify_naming_the_difference(cli, city, tmp_path):
    doc = draw(cli)
    record = json.loads(sql(tmp_path, "SELECT record FROM draw WHERE id = ?", (doc["id"],))[0][0])
    other = next(c for c in city if c not in record["selected"])
    record["selected"] = [record["selected"][0], other]
    from djctl.store.audit import canonical

    sql(tmp_path, "UPDATE draw SET record = ? WHERE id = ?", (canonical(record), doc["id"]))
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 1, r.output
    assert "抽中名单不一致" in r.stdout and other in r.stdout
    assert "审计日志" in r.stdout  # the digest written at draw time no longer matches
    assert "抽签明细缺少编码「" + other + "」（抽中）" in r.stdout  # selected now: a row is due, and there is none
    v = json.loads(cli("sample", "verify", str(doc["id"]), "--json").stdout)
    assert v["ok"] is False and len(v["differences"]) >= 3


@pytest.mark.sqlite_only
def test_coherently_forged_record_is_caught_by_the_audit_digest(cli, city, tmp_path):
    """A record recomputed with another seed verifies on its own; the digest in the audit chain does not."""
    doc = draw(cli)
    forged = run_draw(seed="forged", label="sample:2024-03", population=city, rate="0.2")
    from djctl.store.audit import canonical

    sql(tmp_path, "UPDATE draw SET record = ?, seed = ? WHERE id = ?", (canonical(forged.to_json()), "forged", doc["id"]))
    sql(tmp_path, "DELETE FROM draw_entry WHERE draw_id = ?", (doc["id"],))
    for code in forged.selected:  # the forger rewrites the rows of the members that matter too
        sql(tmp_path, "INSERT INTO draw_entry (draw_id, code, key, selected, order_no, mandatory_reason, "
                      "excluded_reason) VALUES (?, ?, ?, 1, ?, '', '')",
            (doc["id"], code, forged.keys[code], forged.selected.index(code) + 1))
    r = cli("sample", "verify", str(doc["id"]), "--json")
    assert r.exit_code == 1
    v = json.loads(r.stdout)
    assert len(v["differences"]) == 1 and "审计日志" in v["differences"][0]


@pytest.mark.sqlite_only
def test_tampered_draw_entry_fails_verify(cli, city, tmp_path):
    doc = draw(cli)
    # draw_entry keeps a row for each selected member only (nothing mandatory or excluded here)
    rows = sql(tmp_path, "SELECT code, key FROM draw_entry WHERE draw_id = ? ORDER BY id", (doc["id"],))
    assert sorted(c for c, _ in rows) == sorted(doc["selected"])
    first = doc["selected"][0]
    sql(tmp_path, "UPDATE draw_entry SET selected = 0, order_no = NULL WHERE draw_id = ? AND code = ?", (doc["id"], first))
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 1, r.output
    assert f"抽签明细中编码「{first}」未标为抽中，记录中抽中" in r.stdout
    sql(tmp_path, "UPDATE draw_entry SET selected = 1, order_no = 1 WHERE draw_id = ? AND code = ?", (doc["id"], first))
    assert cli("sample", "verify", str(doc["id"])).exit_code == 0
    other = next(c for c in city if c not in doc["selected"])
    sql(tmp_path, "INSERT INTO draw_entry (draw_id, code, key, selected, order_no, mandatory_reason, excluded_reason) "
                  "VALUES (?, ?, ?, 1, 3, '', '')", (doc["id"], other, doc["keys"][other]))
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 1 and f"抽签明细多出编码「{other}」" in r.stdout
    sql(tmp_path, "DELETE FROM draw_entry WHERE draw_id = ? AND code = ?", (doc["id"], other))
    sql(tmp_path, "DELETE FROM draw_entry WHERE draw_id = ? AND code = ?", (doc["id"], first))
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 1 and f"抽签明细缺少编码「{first}」（抽中）" in r.stdout


@pytest.mark.sqlite_only
def test_tampered_draw_column_fails_verify(cli, city, tmp_path):
    doc = draw(cli)
    sql(tmp_path, "UPDATE draw SET seed = 'other' WHERE id = ?", (doc["id"],))
    r = cli("sample", "verify", str(doc["id"]))
    assert r.exit_code == 1 and "种子" in r.stdout


def test_exported_record_verifies_without_a_store(cli, city, tmp_path, monkeypatch):
    doc = draw(cli)
    r = cli("sample", "show", str(doc["id"]), "--json")
    assert r.exit_code == 0
    exported = tmp_path / "抽签记录.json"
    exported.write_text(r.stdout, encoding="utf-8")
    missing = tmp_path / "nowhere" / "djctl.db"
    monkeypatch.setenv("DJCTL_DB", str(missing))
    r = cli("sample", "verify", "--record", exported)
    assert r.exit_code == 0, r.output
    assert "核验一致" in r.stdout and "、".join(doc["selected"]) in r.stdout
    assert not missing.parent.exists()

    # a minimal record with only the DESIGN §4 keys (another implementation's export) verifies too
    minimal = tmp_path / "minimal.json"
    minimal.write_text(json.dumps({k: doc[k] for k in DESIGN_KEYS}, ensure_ascii=False), encoding="utf-8")
    assert cli("sample", "verify", "--record", minimal).exit_code == 0

    # tampering: one unit swapped for another in the selection
    tampered_doc = json.loads(exported.read_text(encoding="utf-8"))
    other = next(c for c in city if c not in doc["selected"])
    tampered_doc["selected"][-1] = other
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(tampered_doc, ensure_ascii=False), encoding="utf-8")
    r = cli("sample", "verify", "--record", tampered)
    assert r.exit_code == 1, r.output
    assert "抽中名单不一致" in r.stdout and other in r.stdout
    v = json.loads(cli("sample", "verify", "--record", tampered, "--json").stdout)
    assert v["ok"] is False and any("记录摘要不一致" in d for d in v["differences"])

    # a changed key alone is named by code
    tampered_doc = json.loads(exported.read_text(encoding="utf-8"))
    tampered_doc["keys"]["U002"] = "0" * 64
    tampered.write_text(json.dumps(tampered_doc, ensure_ascii=False), encoding="utf-8")
    r = cli("sample", "verify", "--record", tampered)
    assert r.exit_code == 1 and "编码「U002」的键值不一致" in r.stdout
    assert not missing.parent.exists()


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"seed": "x"}', '{"algorithm": "djctl-draw-v1", "label": "l", '
                                     '"seed": "s", "population": "U1", "population_hash": "h", "k": 1, "selected": []}'])
def test_bad_record_file_exit_2(cli, tmp_path, monkeypatch, content):
    monkeypatch.setenv("DJCTL_DB", str(tmp_path / "nowhere" / "djctl.db"))
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    r = cli("sample", "verify", "--record", path)
    assert r.exit_code == 2, r.output
    assert "bad.json" in r.output
    assert cli("sample", "verify", "--record", tmp_path / "absent.json").exit_code == 2


@pytest.mark.sqlite_only
def test_one_audit_event_per_draw_with_record_digest(cli, city, store):
    doc = draw(cli)
    draw(cli, "2024-03", "--redraw", "--reason", "更正", seed="s2")
    from sqlalchemy import select

    from djctl.store.audit import AUDIT, canonical

    with store.read() as uow:
        events = [json.loads(p) for (p,) in uow.conn.execute(
            select(AUDIT.c.payload).where(AUDIT.c.action == "sample.draw").order_by(AUDIT.c.seq))]
        record_text = uow.conn.exec_driver_sql("SELECT record FROM draw WHERE id = ?", (doc["id"],)).scalar()
    assert len(events) == 2
    first, second = events
    fields = ("algorithm", "label", "seed", "rate", "k", "population", "population_hash", "mandatory", "excluded",
              "strata", "keys", "selected", "quotas", "min_count", "count", "excluded_requested", "excluded_waived",
              "excluded_waived_reason")
    expected = hashlib.sha256(canonical({k: doc[k] for k in fields}).encode("utf-8")).hexdigest()
    assert first["record_sha256"] == expected == hashlib.sha256(record_text.encode("utf-8")).hexdigest()
    assert first["selected"] == doc["selected"] and first["draw_id"] == doc["id"]
    assert first["entries"] == len(doc["selected"]) == 2 and first["entries_scope"] == "selected+mandatory+excluded"
    assert second["supersedes"] == [doc["id"]] and second["reason"] == "更正"
    r = cli("audit", "verify")
    assert r.exit_code == 0 and "审计链完好" in r.stdout


# --------------------------------------------------------------------------- services and demo


def test_selected_codes_service(cli, city, store):
    from djctl.services.draws import selected_codes

    doc = draw(cli)
    with store.read() as uow:
        assert selected_codes(uow, "sample", "2024-03") == doc["selected"]
        assert selected_codes(uow, "sample", "2024-04") == []


def test_demo_step_draws_every_month(store, tmp_path):
    from djctl.services.demo import DemoContext, step_setup
    from djctl.services.draw_verify import verify_draw, verify_record_file
    from djctl.services.draws import list_draws
    from djctl.services.demo.draws import DEMO_REDRAW_REASON, demo_seed, demo_step

    ctx = DemoContext(dir=tmp_path / "demo")
    step_setup(store, ctx)
    lines = demo_step(store, ctx)
    every = list_draws(store, "sample", 2024)
    assert [(d["label"], d["active"]) for d in every if d["period"] == "2024-06"] == [
        ("sample:2024-06", False), ("sample:2024-06#2", True)]
    assert [d["reason"] for d in every if d["seq"] == 2] == [DEMO_REDRAW_REASON]
    draws = [d for d in every if d["active"]]
    assert [d["period"] for d in draws] == [f"2024-{m:02d}" for m in range(1, 13)]
    assert all(d["seed"] == demo_seed(2024, int(d["period"][5:])) and not d["seed_generated"] for d in draws)
    # U040 joins in April and U039 is dissolved at the end of September; 0.2 × 40 = 8 exactly, not 9
    assert [d["population"] for d in draws] == [39] * 3 + [40] * 6 + [39] * 3
    assert all(d["k"] == 8 for d in draws)
    for before, after in zip(draws, draws[1:]):
        assert not set(before["selected"]) & set(after["selected"])
    assert all(verify_draw(store, d["id"]).ok for d in every)
    records = [p for p in ctx.files if p.suffix == ".json"]
    assert len(records) == 12 and all(verify_record_file(p).ok for p in records)
    assert lines[1].startswith("2024-02：") and "已排除上月抽中的 8 个" in lines[1] and "重抽" in lines[2]
    assert demo_seed(2024, 3) == demo_seed(2024, 3) != demo_seed(2024, 4)
