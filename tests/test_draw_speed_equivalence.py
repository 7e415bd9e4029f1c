"""The faster draw (issue 9, bench step sample) writes and returns exactly what the draw did before.

Checked three ways: literal values recorded from the implementation before the change (record digest, entries
digest, audit payload digest, selection), a straightforward reference implementation of DESIGN §3 and of the
stored rows written here from the store's own rows, and the shortcuts each against what they replace
(`rows_digest`, `json.loads`, `find_draw`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from djctl.domain.periods import month_active, parse_month
from djctl.domain.sampling import DrawRecord, _by_key, _check_codes, compute_k, draw_key, draw_keys, run_draw, \
    stratified_quotas
from djctl.services import draw_text, draw_verify, draws
from djctl.store import compiled
from djctl.services.spotcheck_draw import draw_sample
from djctl.store.audit import canonical, rows_digest
from djctl.store.content import draw_entry_full_rows
from djctl.store.tables import AuditEvent, Draw, DrawEntry, NegativeEntry, Unit
from tests.store_builder import Builder

SEED = "2024-03-01 福彩开奖号码 01 05 12 19 23 31 + 07"
# codes that JSON must escape (quote, backslash), non-ASCII codes, and units active only part of the year
UNITS = [("U001", "第1组"), ("U002", "第2组"), ("U003", "第1组"), ("U004", "第2组"), ("U005", "第1组"),
         ("U006", "第2组"), ('U"07', "第1组"), ("U\\08", "第2组"), ("Ünit-9", ""), ("市委办公室", "第2组"),
         ("U011", "第1组"), ("U012", "第2组"), ("U013", "第1组"), ("U014", "第2组"), ("U015", "第1组"),
         ("U016", "第2组"), ("U017", "第1组"), ("U018", "第2组"), ("U019", "第1组"), ("U020", "第2组")]
ACTIVE_FROM = {"U013": date(2024, 4, 1), "U016": date(2024, 3, 31)}  # U013 joins after March; U016 on its last day
ACTIVE_TO = {"U014": date(2024, 1, 31), "U015": date(2024, 3, 1)}  # U014 gone before March; U015 on its first day


def _scheme(tmp_path: Path, months: int) -> Path:
    text = (Path(draws.__file__).parents[1] / "data" / "scheme-2024.toml").read_text(encoding="utf-8")
    assert "exclude_recent_months = 1" in text
    path = tmp_path / "scheme.toml"
    path.write_text(text.replace("exclude_recent_months = 1", f"exclude_recent_months = {months}"), encoding="utf-8")
    return path


@pytest.fixture
def province(store, tmp_path):
    """The 2024 scheme (the last two months excluded), twenty units, a negative list, January's and February's draws."""
    from djctl.services.setup import init_store
    from djctl.store.engine import now

    init_store(store, _scheme(tmp_path, 2))
    Builder(store).units(UNITS, active_from=ACTIVE_FROM, active_to=ACTIVE_TO)
    with store.write() as uow:
        for code in ("U002", "U014", 'U"07'):  # U014 is not active in March: left out, with a note
            uow.session.add(NegativeEntry(year=2023, org_code=code, org_kind="unit", reasons='["整改逾期"]',
                                          active=True, created_at=now()))
        uow.audit("test.negative", {"year": 2023})
    draw_sample(store, "2024-01", seed="一月种子")
    draw_sample(store, "2024-02", seed="二月种子")
    return store


# --------------------------------------------------------------------------- literal values from before the change

# Recorded with the implementation before issue 9's changes (git HEAD 58a8f31) on the `province` fixture
# (payload_sha256: recorded after issue 21, whose payload covers fewer draw_entry rows).
LITERAL = {
    "plain": {
        "record_sha256": "a45d38554c3cd3380c9b12e6e2b40a9ce3671449dcef66969199e48daa308f9e",
        "entries_digest": "bbeafdaf456164de9ca0160319b1a6f8c877fbf23a0eb6b312d56cccd2555361",
        "payload_sha256": "16402ae39c86c93b0a1fa397bc5cb8a0d2b28f0bb4b6de216c9c3b9e520029e6",
        "selected": ["U\"07", "U002", "U012", "U020"],
    },
    "stratified": {
        "record_sha256": "257c44b76696b88111e32787259ba6f9ad5072593a4d45534bf50bac6edb9969",
        "entries_digest": "ee9696dcd2185fa343e159fd2c4bfed54ba9ebc066056d784072d7968bed2cf6",
        "payload_sha256": "aa96713459375a3cb999e668b8b2ef0aba490db82cc9de6da02cd9057c7ee463",
        "selected": ["U\"07", "U001", "U002", "U012"],
    },
    "redraw": {
        "record_sha256": "e4a6723533f884af1e006d0ff8925d1ff3a1d0f6f2b7422467f052a48eb62acd",
        "entries_digest": "db07b32c6be2057a4ea206b0fc06ef621bebf6afcde02e657f90b0c14db3ceef",
        "payload_sha256": "f1a58541e6a26e917ed8563000e6b7d388c30a663ab1b0f18559c1f85e26e65a",
        "selected": ["U\"07", "U002", "U005", "U003"],
    },
}


def _march(store, case: str):
    if case == "plain":
        return draw_sample(store, "2024-03", seed=SEED)
    if case == "stratified":
        return draw_sample(store, "2024-03", seed=SEED, stratify=True)
    draw_sample(store, "2024-03", seed="首次种子")
    return draw_sample(store, "2024-03", seed=SEED, redraw=True, reason="种子抄错")


def _stored(store, draw_id: int) -> tuple[str, list[tuple], dict, str]:
    """(record text, draw_entry rows, audit payload, payload text) as stored, read with the ORM."""
    from sqlmodel import select

    with store.read() as uow:
        s = uow.session
        text = s.get(Draw, draw_id).record
        entries = [(e.code, e.key, e.selected, e.order_no, e.mandatory_reason, e.excluded_reason)
                   for e in s.exec(select(DrawEntry).where(DrawEntry.draw_id == draw_id).order_by(DrawEntry.id))]
        events = [e.payload for e in s.exec(select(AuditEvent).where(AuditEvent.action == "sample.draw"))]
    payload_text = next(p for p in events if json.loads(p)["draw_id"] == draw_id)
    return text, entries, json.loads(payload_text), payload_text


@pytest.mark.parametrize("case", ["plain", "stratified", "redraw"])
def test_literal_values_from_before(province, case):
    result = _march(province, case)
    text, entries, payload, payload_text = _stored(province, result.draw.id)
    expected = LITERAL[case]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == expected["record_sha256"]
    # draw_entry keeps the members that matter (issue 21); the rows the draw wrote before, one per member, are
    # those rows with the others rebuilt from the record: their digest is the one recorded before the change
    record = json.loads(text)
    assert {e[0] for e in entries} == draws.matter_codes(record) and len(entries) < len(record["population"])
    assert rows_digest(draw_entry_full_rows(record, entries)) == expected["entries_digest"]
    assert payload["entries_digest"] == rows_digest(entries) and payload["entries"] == len(entries)
    assert payload["entries_scope"] == "selected+mandatory+excluded"
    assert hashlib.sha256(payload_text.encode("utf-8")).hexdigest() == expected["payload_sha256"]
    assert result.draw.selected == expected["selected"]
    assert result.notes == ["U014 在2023 年度负面清单上，但 2024-03 不在册，未纳入抽签"]


# --------------------------------------------------------------------------- a reference implementation


def reference_record(units: list[Unit], negative: list[str], previous: dict[str, list[str]], *, month: str,
                     seed: str, label: str, rate: str, stratify: bool) -> dict:
    """DESIGN §3 for a month's spot check, written out plainly from the store's rows."""
    pop = sorted(u.code for u in units if month_active(month, u.active_from, u.active_to))
    n = len(pop)
    k = compute_k(rate, n)
    keys = {c: hashlib.sha256(f"{seed}\x1f{label}\x1f{c}".encode("utf-8")).hexdigest() for c in pop}
    mandatory = {c: "2023 年度负面清单" for c in pop if c in negative}
    reasons: dict[str, list[str]] = {}
    for m, codes in previous.items():  # months nearest first, as the exclusion reasons list them
        for c in codes:
            reasons.setdefault(c, []).append(m)
    requested = {c: "、".join(reasons[c]) + " 已抽中" for c in pop if c in reasons and c not in mandatory}
    waived = n - len(requested) < k
    excluded = {} if waived else dict(requested)
    free = [c for c in pop if c not in mandatory and c not in excluded]

    def by_key(codes):
        return sorted(codes, key=lambda c: (keys[c], c))

    strata = quotas = None
    if not stratify:
        selected = list(mandatory) + by_key(free)[:max(0, k - len(mandatory))]
    else:
        strata = {u.code: u.group_name or "未分组" for u in units if u.code in keys}
        strata = {c: strata[c] for c in pop}
        sizes: dict[str, int] = {}
        for c in pop:
            sizes[strata[c]] = sizes.get(strata[c], 0) + 1
        quotas = stratified_quotas(k, sizes)
        selected = []
        for g in sorted(sizes):
            taken = [c for c in mandatory if strata[c] == g]
            for c in by_key(c for c in free if strata[c] == g):
                if len(taken) >= quotas[g]:
                    break
                taken.append(c)
            selected += taken
        selected += by_key(c for c in free if c not in selected)[:max(0, k - len(selected))]
    return {"algorithm": "djctl-draw-v1", "label": label, "seed": seed, "rate": rate, "k": k, "population": pop,
            "population_hash": hashlib.sha256("\n".join(pop).encode("utf-8")).hexdigest(),
            "mandatory": mandatory, "excluded": excluded, "strata": strata, "keys": keys, "selected": selected,
            "quotas": quotas, "min_count": 1, "count": None, "excluded_requested": requested,
            "excluded_waived": waived,
            "excluded_waived_reason": (f"排除 {len(requested)} 个后可抽 {n - len(requested)} 个，少于应抽数 {k}，排除名单不予适用"
                                       if waived else None)}


def _reference_inputs(store, month: str) -> tuple[list[Unit], list[str], dict[str, list[str]]]:
    """Units (ORM objects), the 2023 negative list, and the selections of the two months before (nearest first)
    taken from the draws' stored records (not from draw_entry)."""
    from sqlmodel import select

    with store.read() as uow:
        s = uow.session
        units = list(s.exec(select(Unit)))
        negative = [e.org_code for e in s.exec(select(NegativeEntry).where(NegativeEntry.year == 2023))]
        previous = {}
        p = parse_month(month)
        for _ in range(2):
            p = p.previous()
            rows = list(s.exec(select(Draw).where(Draw.kind == "sample", Draw.period == str(p), Draw.active == True)  # noqa: E712
                               .order_by(Draw.seq)))
            if rows:
                previous[str(p)] = json.loads(rows[-1].record)["selected"]
    return units, negative, previous


@pytest.mark.parametrize("case", ["plain", "stratified", "redraw"])
def test_stored_draw_equals_reference(province, case):
    units, negative, previous = _reference_inputs(province, "2024-03")
    result = _march(province, case)
    label = "sample:2024-03" + ("#2" if case == "redraw" else "")
    ref = reference_record(units, negative, previous, month="2024-03", seed=SEED, label=label, rate="0.2",
                           stratify=case == "stratified")
    assert ref["mandatory"] and ref["excluded"] and len(set(ref["excluded"].values())) > 1  # the fixture covers them
    text, entries, payload, _ = _stored(province, result.draw.id)

    ref_text = json.dumps(ref, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert text == ref_text
    digest = hashlib.sha256(ref_text.encode("utf-8")).hexdigest()
    assert payload["record_sha256"] == result.draw.record_sha256 == digest

    order = {c: i for i, c in enumerate(ref["selected"], start=1)}
    matter = set(ref["selected"]) | set(ref["mandatory"]) | set(ref["excluded"])
    ref_entries = [(c, ref["keys"][c], c in order, order.get(c), ref["mandatory"].get(c, ""), ref["excluded"].get(c, ""))
                   for c in ref["population"] if c in matter]
    assert entries == ref_entries
    h = hashlib.sha256()
    for row in ref_entries:
        h.update((json.dumps(list(row), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8"))
    assert payload["entries"] == len(ref_entries) and payload["entries_digest"] == h.hexdigest()
    assert payload["selected"] == ref["selected"] and payload["mandatory"] == ref["mandatory"]
    assert payload["excluded"] == ref["excluded"] and payload["population"] == len(ref["population"])
    assert draw_verify.verify_draw(province, result.draw.id).ok


@pytest.mark.parametrize("case", ["plain", "stratified", "redraw"])
def test_returned_draw_equals_the_one_read_back(province, case):
    """draw_sample returns what find_draw reads back (it used to read it back): every field, created_at
    included, the --json document key by key and the published text."""
    result = _march(province, case)
    back = draws.load_draw(province, result.draw.id)
    assert result.draw.created_at.tzinfo is not None
    assert result.draw == back
    assert json.dumps(result.draw.to_json(), ensure_ascii=False) == json.dumps(back.to_json(), ensure_ascii=False)
    assert draw_text.publication_lines(result.draw) == draw_text.publication_lines(back)
    assert list(result.draw.record_json) == list(back.record_json)
    for key, value in back.record_json.items():
        if isinstance(value, dict):
            assert list(result.draw.record_json[key]) == list(value), key
    assert result.draw.names == back.names and set(back.names) == set(back.record.population)


def test_store_draw_equals_find_draw_in_the_same_transaction(province):
    """The look-back path (save_draw, then find_draw in the same transaction) reads back what store_draw
    returns, created_at included."""
    from djctl.services.spotcheck_draw import month_units

    with province.write() as uow:
        codes, _, _ = month_units(uow, "2024-04")
        record = run_draw(seed=SEED, label="sample:2024-04", population=sorted(codes), rate="0.3",
                          mandatory={"U001": "负面清单"}, excluded={"U003": "上月"})
        stored = draws.store_draw(uow, record, kind="sample", period="2024-04", seq=1)
        again = draws.find_draw(uow, stored.id)
    assert again == stored
    assert stored.created_at.tzinfo is not None and stored.record == record


# --------------------------------------------------------------------------- the shortcuts against what they replace

TRICKY = ["", "U001", 'say "hi"', "back\\slash", "tab\there", "nl\nx", "\x00\x1f\x7f", "\u2028\u2029", "Ünit",
          "市委办公室", "😀", "</script>", "\ud7ff"]


@given(st.lists(st.tuples(st.sampled_from(TRICKY) | st.text(max_size=6), st.text(max_size=70), st.booleans(),
                          st.none() | st.integers(min_value=0, max_value=10**12),
                          st.sampled_from(TRICKY) | st.text(max_size=8), st.sampled_from(TRICKY)), max_size=30))
@settings(max_examples=150, deadline=None)
def test_entries_digest_is_rows_digest(rows):
    with_id = [(7, *row) for row in rows]
    assert draws._entries_digest(with_id) == rows_digest(rows)


def test_entries_digest_literal():
    rows = [(1, "U001", "ab", True, 1, "2023 年度负面清单", ""), (1, 'U"2', "cd", False, None, "", "2024-01 已抽中"),
            (1, "U\\3", "ef", False, None, "", "tab\t")]
    assert draws._entries_digest(rows) == hashlib.sha256(
        '["U001","ab",true,1,"2023 年度负面清单",""]\n["U\\"2","cd",false,null,"","2024-01 已抽中"]\n'
        '["U\\\\3","ef",false,null,"","tab\\t"]\n'.encode("utf-8")).hexdigest()


def _order(value):
    """Every dict's key order, nested (what json.dumps without sort_keys shows)."""
    if isinstance(value, dict):
        return [(k, _order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_order(v) for v in value]
    return value


@pytest.mark.parametrize("kw", [
    {},
    {"mandatory": {"U9": "负面清单"}, "excluded": {"U3": "上月", "U1": "上月"}},
    {"strata": {c: f"组{int(c[1:]) % 3}" for c in [f"U{i}" for i in range(1, 12)]}},
    {"excluded": {f"U{i}": "上月" for i in range(1, 11)}},  # waived
    {"count": 4},
])
def test_as_loaded_is_json_round_trip(kw):
    record = run_draw(seed="种子", label="sample:2024-05", population=[f"U{i}" for i in range(11, 0, -1)],
                      rate=None if "count" in kw else "0.3", **kw)
    doc = record.to_json()
    text = canonical(doc)
    loaded = draws._as_loaded(record.to_json())
    assert loaded == json.loads(text) and _order(loaded) == _order(json.loads(text))
    # the record built from it is the one find_draw builds
    assert DrawRecord.from_json(loaded) == DrawRecord.from_json(json.loads(text)) == record


def test_as_loaded_sorts_and_refuses_what_json_changes():
    doc = {"b": {"z": "1", "a": "2"}, "a": [1, None, True, "x", {"d": 1, "c": [2]}]}
    assert _order(draws._as_loaded(doc)) == _order(json.loads(canonical(doc)))
    for bad in ({"a": (1, 2)}, {"a": 1.5}, {1: "x"}, {"a": [object()]}, {"a": {"b": Path("x")}}):
        with pytest.raises(draws._NotPlain):
            draws._as_loaded(bad)


@given(st.lists(st.text(min_size=1, max_size=5), max_size=40, unique=True), st.text(max_size=10))
@settings(max_examples=100, deadline=None)
def test_draw_keys_and_key_order(codes, seed):
    codes = [c for c in codes if "\n" not in c and "\x1f" not in c]
    seed = seed.replace("\x1f", "")
    keys = draw_keys(seed, "sample:2024-01", codes)
    assert list(keys) == codes
    assert keys == {c: draw_key(seed, "sample:2024-01", c) for c in codes}
    assert _by_key(codes, keys) == sorted(codes, key=lambda c: (keys[c], c))
    equal = {c: "same" for c in codes}  # equal keys fall back to code point order, whatever the input order
    assert _by_key(reversed(codes), equal) == sorted(codes)


def _reference_check(codes):
    """The code checks as they were: the first bad code, in order, with its message."""
    seen = set()
    for c in codes:
        if not isinstance(c, str) or c == "":
            raise ValueError("总体中有空编码")
        if "\n" in c or "\x1f" in c:
            raise ValueError(f"编码「{c!r}」含有换行或分隔符，不能参加抽签")
        if c in seen:
            raise ValueError(f"总体中编码「{c}」重复")
        seen.add(c)


@pytest.mark.parametrize("codes", [
    ["A", "B"], ["A", "", "B"], ["A", None], ["A", 3, "A"], ["A", "B\nC", "A"], ["A", "A", "x\x1fy"],
    ["B", "A", "B", ""], ["\x1f"], ["A", "B\nC"], [], ["A", "B", "A"],
])
def test_check_codes_same_errors(codes):
    try:
        _reference_check(codes)
        expected = None
    except ValueError as exc:
        expected = str(exc)
    if expected is None:
        _check_codes(codes)
    else:
        with pytest.raises(ValueError) as got:
            _check_codes(codes)
        assert str(got.value) == expected


def test_exec_cached_compiles_once_and_gives_the_core_result(province):
    from sqlalchemy import select

    compiled._COMPILED.pop(("draws.series", "pysqlite", "qmark"), None)
    calls = []

    def build():
        calls.append(1)
        return draws._series_query()

    for _ in range(2):
        with province.read() as uow:
            got = draws.exec_cached(uow.conn, "draws.series", build, kind="sample", period="2024-02").all()
            core = uow.conn.execute(select(Draw.id, Draw.seq, Draw.label, Draw.active)
                                    .where(Draw.kind == "sample", Draw.period == "2024-02").order_by(Draw.seq)).all()
    assert [(i, s, lab, bool(a)) for i, s, lab, a in got] == [tuple(r) for r in core] and len(core) == 1
    assert len(calls) == (1 if province.is_sqlite else 2)


@pytest.mark.parametrize("json_arrays", [True, False])
def test_population_is_month_active(province, monkeypatch, json_arrays):
    from djctl.services.spotcheck_draw import month_units

    import djctl.services.spotcheck_draw as sd

    units, _, _ = _reference_inputs(province, "2024-03")
    if not json_arrays:  # the row-by-row query (other databases, SQLite before 3.38)
        monkeypatch.setattr(province.engine.dialect, "server_version_info", (3, 37, 2))
    used = []
    monkeypatch.setattr(sd, "exec_cached", lambda conn, name, *a, **kw: used.append(name) or draws.exec_cached(
        conn, name, *a, **kw))
    for month in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-12"):
        with province.read() as uow:
            codes, names, groups = month_units(uow, month)
        assert sorted(zip(codes, names, groups)) == sorted(
            (u.code, u.name, u.group_name) for u in units if month_active(month, u.active_from, u.active_to)), month
    json_used = province.is_sqlite and json_arrays
    assert set(used) == {"sample.population.json" if json_used else "sample.population"}
