"""Risk-weighted spot checks (按风险分层抽查): strata, reasons, rates per stratum, quotas, page."""

from __future__ import annotations

import pytest

from djctl.domain.sampling import run_draw, verify_record, weighted_quotas
from djctl.resources import data_path
from tests.helpers import json_out, small_roster
from tests.store_builder import NOW, Builder


def test_weighted_quotas_by_hand():
    pop = [f"U{i:03d}" for i in range(1, 41)]
    strata = {c: ("高" if i < 5 else "中" if i < 15 else "低") for i, c in enumerate(pop)}
    r = run_draw(seed="s", label="sample:2024-03", population=pop, strata=strata,
                 strata_rates={"高": "0.5", "中": "0.3", "低": "0.1"})
    # k = ceil(0.5×5 + 0.3×10 + 0.1×25) = ceil(8) = 8; shares 2.5, 3, 2.5: whole 2, 3, 2; the seat left goes to
    # the larger remainder (高 and 低 tie at 0.5), then the larger stratum: 低 (25 units)
    assert r.k == 8 and r.quotas == {"中": 3, "低": 3, "高": 2} and r.rate is None
    assert weighted_quotas(8, {"高": 25, "中": 30, "低": 25}, {"高": 5, "中": 10, "低": 25}) == r.quotas
    assert verify_record(r.to_json()) == []
    # exact: 0.1 × 3 + 0.2 × 3 = 0.9 → k = 1, not 2 (floats give 0.30000000000000004 + 0.6000000000000001)
    r2 = run_draw(seed="s", label="sample:2024-03", population=["a", "b", "c", "d", "e", "f"], min_count=0,
                  strata={"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": "y"}, strata_rates={"x": "0.1", "y": "0.2"})
    assert r2.k == 1
    with pytest.raises(ValueError, match="没有抽取比例"):
        run_draw(seed="s", label="l:1", population=["a", "b"], strata={"a": "x", "b": "y"}, strata_rates={"x": "0.5"})


@pytest.fixture
def risky(cli, store, tmp_path):
    text = data_path("scheme-2024.toml").read_text(encoding="utf-8")
    head, tail = text.split("[risk]", 1)
    scheme = tmp_path / "方案.toml"
    scheme.write_text(head + "[risk]" + tail.replace("enabled = false", "enabled = true", 1), encoding="utf-8")
    assert cli("init", "--scheme", str(scheme)).exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=12)).exit_code == 0
    from djctl.store.tables import NegativeEntry

    with store.write() as uow:  # U001 on the 2023 negative list
        uow.session.add(NegativeEntry(year=2023, org_code="U001", org_kind="unit", reasons='["逾期未整改"]',
                                      active=True, created_at=NOW))
        uow.audit("test.negative", {"year": 2023})
    b = Builder(store)
    b.tasks("2024-01", {"A": 60, "B": 40})
    rep = b.report("U003", "2024-01", {"A": 6000, "B": 4000})
    r = cli("sample", "--month", "2024-01", "--seed", "一月")
    assert r.exit_code == 0, r.output
    b.check("U003", "2024-01", rep, {"A": (3000, True)})  # U003's January score found false
    return tmp_path


def test_sample_with_risk_strata(cli, risky):
    r = cli("sample", "--month", "2024-03", "--seed", "三月风险")
    assert r.exit_code == 0, r.output
    assert "没有 2023 年度考核方案" in r.output
    doc = json_out(cli("sample", "show", "--month", "2024-03", "--json"))
    assert doc["strata"]["U001"] == "高风险" and doc["strata_reasons"]["U001"] == "2023 年度负面清单"
    assert doc["strata"]["U003"] == "高风险" and doc["strata_reasons"]["U003"] == "2024-01 抽查发现自评虚假"
    assert doc["strata"]["U002"] == "低风险" and doc["strata_reasons"]["U002"] == "无风险因素"
    assert doc["strata_rates"] == {"高风险": "0.5", "中风险": "0.3", "低风险": "0.15"}
    # k = ceil(0.5 × 2 + 0.15 × 10) = ceil(2.5) = 3; quotas 1 and 1.5: 高风险 1, 低风险 2 (larger remainder)
    assert doc["k"] == 3 and doc["quotas"] == {"低风险": 2, "高风险": 1} and doc["rate"] is None
    assert "U001" in doc["selected"]  # mandatory (negative list)
    assert verify_record(doc) == []
    assert cli("sample", "verify", str(doc["id"])).exit_code == 0
    shown = cli("sample", "show", str(doc["id"])).output
    assert "风险分层：" in shown and "2024-01 抽查发现自评虚假" in shown
    # --rate given: one rate, no risk strata
    r = cli("sample", "--month", "2024-04", "--seed", "四月", "--rate", "0.2")
    assert r.exit_code == 0
    assert json_out(cli("sample", "show", "--month", "2024-04", "--json"))["strata"] is None

    json_out(cli("publish", "--year", "2024", "--out", "site", "--date", "2025-01-10", "--json"))
    page = (risky / "site" / "draw-sample-2024-03-1.html").read_text(encoding="utf-8")
    assert "风险分层依据" in page and "2024-01 抽查发现自评虚假" in page
    assert "k = ceil(0.3 × 0 + 0.15 × 10 + 0.5 × 2)" in page and "k = 3" in page
    from tests.test_publish import CHROMIUM, check_page, chromium_dom, verdict

    check_page(risky / "site" / "draw-sample-2024-03-1.html")
    if CHROMIUM is not None:
        assert verdict(chromium_dom(risky / "site" / "draw-sample-2024-03-1.html", risky)) == ("一致", [])
