"""`djctl negative-list add|revoke`: entries put on the list by decision (经研究列入), their history, their
refusals, next year's draws and the list's documents."""

from __future__ import annotations

import sqlite3

import pytest
from openpyxl import load_workbook

from tests.helpers import json_out, small_roster


@pytest.fixture
def roster(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "r.xlsx", units=6)).exit_code == 0
    return tmp_path


def _add(cli, code, *extra, year="2024", reason="组织生活不严肃", basis="示机工〔2024〕27号", date="2024-12-20"):
    return cli("negative-list", "add", code, "--year", year, "--reason", reason, "--basis", basis, "--date", date,
               *extra)


def _rows(db=None) -> list[tuple]:
    """The manual entries as stored, read through the test's store (SQLite file or the test server); dates as text."""
    from tests.monthly_helpers import query

    return [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in r)
            for r in query("SELECT id, org_code, revoked_on, revoke_reason, adjustment_id FROM negative_manual ORDER BY id")]


def _events(cli) -> int:
    return json_out(cli("audit", "verify", "--json"))["events"]


def test_add_and_revoke_keep_history(cli, roster, store):
    unit = json_out(_add(cli, "U002", "--json"))
    assert unit["kind"] == "unit" and unit["consequences"] == ["下年度必抽"]  # the scheme's default for a unit
    assert unit["name"] == "测试单位2机关党委" and unit["adjustment_id"] is None
    branch = json_out(_add(cli, "U003-B01", "--consequence", "专项督查", "--consequence", "扣分", "--deduct", "2",
                           "--reason", "党费收缴不及时", "--json"))
    assert branch["kind"] == "branch" and branch["consequences"] == ["扣分", "专项督查"]  # in the scheme's order
    # 扣分: a deduction of the list's year on the branch's unit, written in the same transaction
    adj = json_out(cli("adjust", "list", "--year", "2024", "--json"))["items"]
    assert [(a["unit"], a["kind"], a["points"], a["id"]) for a in adj] == [("U003", "deduction", 2.0,
                                                                           branch["adjustment_id"])]
    assert "经研究列入2024年度负面清单：党费收缴不及时" in adj[0]["reason"] and adj[0]["basis"] == "示机工〔2024〕27号"

    doc = json_out(cli("negative-list", "--year", "2024", "--json"))  # never built: the decided entries alone
    assert [(e["kind"], e["org"], e["source"]) for e in doc["entries"]] == [("unit", "U002", "manual"),
                                                                           ("branch", "U003-B01", "manual")]
    assert doc["entries"][1]["reasons"] == ["经研究列入：党费收缴不及时（依据：示机工〔2024〕27号；处理：扣2分、专项督查）"]

    r = cli("negative-list", "revoke", str(branch["manual_id"]), "--reason", "经复核已整改到位", "--date", "2025-03-10")
    assert r.exit_code == 0, r.output
    assert "减分项" in r.output and "一并撤销" in r.output
    rows = _rows(roster / "djctl.db")
    assert [(x[1], x[2], x[3]) for x in rows] == [("U002", None, ""), ("U003-B01", "2025-03-10", "经复核已整改到位")]
    all_adj = json_out(cli("adjust", "list", "--year", "2024", "--all", "--json"))["items"]
    assert [a["revoked"] for a in all_adj] == [True]
    # as of a day before the revocation the branch still stands; on and after it, it is gone
    before = json_out(cli("negative-list", "--year", "2024", "--as-of", "2025-03-09", "--json"))
    assert [e["org"] for e in before["entries"]] == ["U002", "U003-B01"]
    after = json_out(cli("negative-list", "--year", "2024", "--as-of", "2025-03-10", "--json"))
    assert [e["org"] for e in after["entries"]] == ["U002"]
    # as of a day before the unit's entry was decided, nothing stood
    assert cli("negative-list", "--year", "2024", "--as-of", "2024-12-19").exit_code == 1
    # revoked: the branch may be put on the list again; the old row stays
    assert _add(cli, "U003-B01", "--date", "2025-04-01").exit_code == 0
    assert len(_rows(roster / "djctl.db")) == 3
    v = json_out(cli("audit", "verify", "--json"))
    assert v["ok"] is True, v


@pytest.mark.parametrize("args, message", [
    (("U999",), "不在名册中"),
    (("U001", "--consequence", "通报"), "后果「通报」不在考核方案的列表中"),
    (("U001", "--reason", "  "), "列入原因（--reason）不能为空"),
    (("U001", "--basis", ""), "依据（--basis）不能为空"),
    (("U001", "--year", "2030"), "2030"),
    (("U001", "--consequence", "下年度必查"), "只适用于党支部"),
    (("U001-B01", "--consequence", "下年度必抽"), "只适用于考核单位"),
    (("U001", "--consequence", "扣分"), "须用 --deduct 给出扣减分值"),
    (("U001", "--date", "2023-12-31"), "早于 2024 年度"),
])
def test_refusals_write_nothing(cli, roster, args, message):
    events = _events(cli)
    code, *rest = args
    extra = dict(zip(rest[::2], rest[1::2]))
    kwargs = {k.lstrip("-"): v for k, v in extra.items() if k in ("--year", "--reason", "--basis", "--date")}
    others = [x for k, v in extra.items() if k not in ("--year", "--reason", "--basis", "--date") for x in (k, v)]
    r = _add(cli, code, *others, **kwargs)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert _rows(roster / "djctl.db") == [] and _events(cli) == events


def test_duplicate_and_revoke_refusals(cli, roster):
    entry = json_out(_add(cli, "U001", "--json"))
    events = _events(cli)
    r = _add(cli, "U001", "--reason", "另一原因")
    assert r.exit_code == 2 and "不能重复列入" in r.output
    r = cli("negative-list", "revoke", "99", "--reason", "误录", "--date", "2025-01-05")
    assert r.exit_code == 2 and "没有编号为 99" in r.output
    r = cli("negative-list", "revoke", str(entry["manual_id"]), "--reason", "误录", "--date", "2024-12-01")
    assert r.exit_code == 2 and "早于列入日期" in r.output
    assert _events(cli) == events
    assert cli("negative-list", "revoke", str(entry["manual_id"]), "--reason", "误录", "--date", "2025-01-05").exit_code == 0
    r = cli("negative-list", "revoke", str(entry["manual_id"]), "--reason", "再撤", "--date", "2025-01-06")
    assert r.exit_code == 2 and "不能重复撤销" in r.output
    assert len(_rows(roster / "djctl.db")) == 1


@pytest.fixture
def next_year(cli, roster):
    """A 2025 scheme; on the 2024 list by decision: U004 (12-20), U001 (12-01, revoked 2025-01-15), U005 (added
    2025-02-10), U006 (only 专项督查, not drawn), branch U002-B01 (下年度必查)."""
    assert cli("scheme", "new", "--year", "2025", "--from", "2024", "--out", "方案2025.toml").exit_code == 0
    assert cli("init", "--scheme", "方案2025.toml").exit_code == 0
    assert _add(cli, "U004").exit_code == 0
    first = json_out(_add(cli, "U001", "--date", "2024-12-01", "--json"))
    assert cli("negative-list", "revoke", str(first["manual_id"]), "--reason", "复核撤销", "--date", "2025-01-15").exit_code == 0
    assert _add(cli, "U005", "--date", "2025-02-10").exit_code == 0
    assert _add(cli, "U006", "--consequence", "专项督查").exit_code == 0
    assert _add(cli, "U002-B01").exit_code == 0
    return roster


def test_next_years_draws_take_the_entries_standing_on_the_draws_date(cli, next_year):
    r = cli("sample", "--month", "2025-01", "--count", "1", "--seed", "一月")
    assert r.exit_code == 0, r.output
    jan = json_out(cli("sample", "show", "--month", "2025-01", "--json"))
    # U004 stands on 31 January; U001 was revoked on 15 January, U005 added in February, U006 carries no 必抽
    assert jan["mandatory"] == {"U004": "2024 年度负面清单（经研究列入）"}
    assert "U004" in jan["selected"]
    assert json_out(cli("sample", "verify", str(jan["id"]), "--json"))["ok"]
    assert cli("sample", "--month", "2025-03", "--count", "1", "--seed", "三月").exit_code == 0
    mar = json_out(cli("sample", "show", "--month", "2025-03", "--json"))
    assert sorted(mar["mandatory"]) == ["U004", "U005"] and {"U004", "U005"} <= set(mar["selected"])
    # the look-back of 2025 must check the branch put on the list with 下年度必查
    r = cli("lookback", "--year", "2025", "--date", "2025-06-30", "--count", "1", "--seed", "回头看")
    assert r.exit_code == 0, r.output
    lb = json_out(cli("lookback", "show", "--year", "2025", "--json"))
    assert list(lb["mandatory"]) == ["U002-B01"] and "U002-B01" in lb["selected"]
    # the list as it stands now (eligibility and the rest read it): every entry not revoked, whatever consequence
    from djctl.services.negative import negative_codes
    from djctl.store.engine import open_store

    s = open_store()
    try:
        with s.read() as uow:
            assert sorted(negative_codes(uow.session, 2024, "unit")) == ["U004", "U005", "U006"]
            assert sorted(negative_codes(uow.session, 2024, "unit", None, "下年度必抽")) == ["U004", "U005"]
    finally:
        s.dispose()


def test_documents_show_the_decided_entries(cli, roster, tmp_path):
    from docx import Document

    assert _add(cli, "U002", "--consequence", "下年度必抽", "--consequence", "专项督查").exit_code == 0
    r = cli("negative-list", "--year", "2024", "--build", "--format", "docx,xlsx,md", "--out", "文书")
    assert r.exit_code == 0, r.output
    out = tmp_path / "文书"
    d = Document(str(out / "2024年度负面清单.docx"))
    paras = [p.text for p in d.paragraphs]
    assert any("1 个考核单位、0 个党支部列入负面清单（其中经研究列入 1 个）" in p for p in paras)
    assert "三、2025年度专项督查" in paras
    assert any(p.startswith("（一）测试单位2机关党委：组织生活不严肃") for p in paras)
    rows = [[c.text for c in row.cells] for row in d.tables[0].rows]
    assert rows[1][1] == "测试单位2机关党委"
    assert rows[1][2] == "1. 经研究列入：组织生活不严肃（依据：示机工〔2024〕27号；处理：下年度必抽、专项督查）"
    ws = load_workbook(out / "2024年度负面清单.xlsx").active
    x = list(ws.iter_rows(values_only=True))
    assert x[1][2:] == ("U002", "测试单位2机关党委", 1, "1. 经研究列入：组织生活不严肃（依据：示机工〔2024〕27号；处理：下年度必抽、专项督查）",
                        "经研究列入", "示机工〔2024〕27号", "下年度必抽、专项督查")
    md = (out / "2024年度负面清单.md").read_text(encoding="utf-8")
    assert "经研究列入：组织生活不严肃" in md
    # an entry decided after the list's date is not in a list decided before it
    assert _add(cli, "U003", "--date", "2025-01-20").exit_code == 0
    built = json_out(cli("negative-list", "--year", "2024", "--build", "--date", "2025-01-10", "--json"))
    assert [e["org"] for e in built["entries"]] == ["U002"]
    assert [e["org"] for e in json_out(cli("negative-list", "--year", "2024", "--json"))["entries"]] == ["U002", "U003"]


def test_scheme_vocabulary_is_validated(tmp_path):
    from djctl.domain.scheme import SchemeError, parse_scheme
    from djctl.resources import data_path

    text = data_path("scheme-2024.toml").read_text(encoding="utf-8")
    assert parse_scheme(text).negative.consequences == ("下年度必抽", "下年度必查", "扣分", "专项督查")
    extra = text.replace('consequences = ["下年度必抽", "下年度必查", "扣分", "专项督查"]',
                         'consequences = ["下年度必抽", "下年度必查", "扣分", "专项督查", "约谈书记"]')
    assert parse_scheme(extra).negative.consequences[-1] == "约谈书记"
    with pytest.raises(SchemeError) as exc:
        parse_scheme(text.replace('unit_default = ["下年度必抽"]', 'unit_default = ["下年度必查"]'))
    assert ("negative.unit_default", "「下年度必查」只适用于党支部") in exc.value.problems
    with pytest.raises(SchemeError) as exc:
        parse_scheme(text.replace('consequences = ["下年度必抽", "下年度必查", "扣分", "专项督查"]',
                                  'consequences = ["下年度必抽", "下年度必查", "专项督查"]'))
    assert any(k == "negative.consequences" and "扣分" in m for k, m in exc.value.problems)


@pytest.mark.sqlite_only
def test_upgrade_from_0010_keeps_the_data(cli, roster):
    """A store at revision 0010 with data (a built list, a draw, a deduction) gets the table on open."""
    assert cli("negative-list", "--year", "2024", "--build").exit_code == 0
    assert cli("sample", "--month", "2024-03", "--seed", "三月").exit_code == 0
    db = roster / "djctl.db"
    c = sqlite3.connect(db)
    c.execute('DROP TABLE "negative_manual"')
    c.execute("UPDATE alembic_version SET version_num = '0010'")
    c.commit()
    before = c.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    c.close()
    doc = json_out(cli("negative-list", "--year", "2024", "--json"))  # opening migrates
    assert doc["status"] == "stored" and doc["entries"] == []
    c = sqlite3.connect(db)
    assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0011"
    assert c.execute("SELECT count(*) FROM audit_event").fetchone()[0] >= before
    c.close()
    assert list(roster.glob("djctl.db.bak-0010-*"))
    assert _add(cli, "U001").exit_code == 0
    assert [e["org"] for e in json_out(cli("negative-list", "--year", "2024", "--json"))["entries"]] == ["U001"]
    v = json_out(cli("audit", "verify", "--json"))
    assert v["ok"] is True, v


@pytest.mark.sqlite_only
def test_a_changed_entry_is_named_by_the_content_check(cli, roster):
    assert _add(cli, "U001").exit_code == 0
    c = sqlite3.connect(roster / "djctl.db")
    c.execute("UPDATE negative_manual SET revoked_on = '2025-01-01', revoke_reason = '私自撤销'")
    c.commit()
    c.close()
    r = cli("audit", "verify", "--json")
    assert r.exit_code == 1
    import json

    problems = json.loads(r.stdout)["content"]["problems"]
    assert [(p["table"], p["action"]) for p in problems] == [("negative_manual", "negative.add")]
