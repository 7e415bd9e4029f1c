"""发文字号: year-end numbers every document it issues from the store's counter, audited, never reused."""

from __future__ import annotations

import json

from docx import Document
from sqlalchemy import text

from tests.helpers import json_out
from tests.test_yearend import year  # noqa: F401 - the fixture: a complete small year


def _paragraphs(path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def test_year_end_numbers_each_document_once(cli, year, store, tmp_path):  # noqa: F811
    r = cli("year-end", "--year", "2024", "--out", "y1", "--date", "2025-01-10", "--json")
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "y1" / "manifest.json").read_text(encoding="utf-8"))
    numbers = manifest["doc_numbers"]
    assert numbers == {"bulletin:2024Q1": "示工委〔2025〕1号", "bulletin:2024Q2": "示工委〔2025〕2号",
                       "bulletin:2024Q3": "示工委〔2025〕3号", "bulletin:2024Q4": "示工委〔2025〕4号",
                       "ranking:2024": "示工委〔2025〕5号", "negative_list:2024": "示工委〔2025〕6号",
                       "eligibility:2024": "示工委〔2025〕7号"}
    elig = _paragraphs(tmp_path / "y1" / "2024_评先评优资格.docx")
    assert elig[:2] == ["中共示范市直属机关工作委员会文件", "示工委〔2025〕7号"]  # the eligibility notice is numbered too
    q2 = _paragraphs(tmp_path / "y1" / "季度通报" / "2024Q2_季度考核通报.docx")
    assert q2[:2] == ["中共示范市直属机关工作委员会文件", "示工委〔2025〕2号"]      # 版头: mark, then 字号
    record = [p for p in q2 if "抄送" in p or "印发" in p]
    assert record == ["抄送：市委组织部，市纪委监委派驻纪检监察组。",
                      "中共示范市直属机关工作委员会办公室\t2025年1月10日印发"]  # 版记, at the end
    assert q2[-3:-1] == record
    assert "六、下季度工作要求" in q2   # the scheme's text, no --remarks needed
    events = [e for e in json_out(cli("audit", "log", "--json"))["events"] if e["action"] == "docs.number"]
    assert len(events) == 1
    head = json_out(cli("audit", "head", "--json"))

    # issued again (another day, another folder): the same numbers, nothing written to the store
    cli("year-end", "--year", "2024", "--out", "y2", "--date", "2025-01-10")
    again = json.loads((tmp_path / "y2" / "manifest.json").read_text(encoding="utf-8"))
    assert again["doc_numbers"] == numbers
    assert json_out(cli("audit", "head", "--json")) == head
    assert json_out(cli("audit", "verify", "--json"))["ok"]

    # a number is a fact: changing it behind djctl's back is found
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE doc_number SET number = '示工委〔2025〕9号' WHERE seq = 2"))
    r = cli("audit", "verify")
    assert r.exit_code == 1 and "发文字号" in r.output


def test_doc_number_option_overrides_one_document(cli, year, tmp_path):  # noqa: F811
    r = cli("bulletin", "--quarter", "2024Q1", "--format", "docx", "--out", "b", "--doc-number", "示工委〔2024〕12号",
            "--date", "2024-04-10")
    assert r.exit_code == 0, r.output
    paras = _paragraphs(tmp_path / "b" / "2024Q1_季度考核通报.docx")
    assert paras[1] == "示工委〔2024〕12号"
    assert paras[2].startswith("关于2024年第一季度")  # the title, in lines broken between words
    assert "\n" in paras[2] and "情\n况" not in paras[2]
