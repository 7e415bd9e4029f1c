"""Fuzzing: random argv over the real command tree, and damaged workbooks fed to the importers.

Whatever comes in, djctl ends with a documented exit code (0 done, 1 action needed, 2 bad input or usage,
3 store problem), never prints a traceback or 「内部错误」 (djctl's word for an unexpected exception: a
bug), and leaves the store as it was whenever it refuses (exit code other than 0).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from tests.helpers import small_roster, workbook

# DJCTL_FUZZ_SCALE=20 runs twenty times the examples, with fresh randomness (a longer hunt by hand);
# the default is a fixed, modest set so that the suite stays quick and repeatable.
SCALE = int(os.environ.get("DJCTL_FUZZ_SCALE") or 0)
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                database=None, derandomize=not SCALE, print_blob=True)
SKIP = {"demo"}          # runs a whole demo year: covered by its own tests
MONTH = "2024-03"


def _commands() -> list[tuple[list[str], list]]:
    """(words, params) for every command and every group that takes options of its own (e.g. `sample`)."""
    from djctl.cli import app
    from djctl.cli._docs import walk

    found = []
    for path, cmd in walk(app):
        if not path or path.split()[0] in SKIP:
            continue
        params = [p for p in cmd.params if p.name != "help"]
        if hasattr(cmd, "commands") and not params:
            continue
        found.append((path.split(), params))
    return found


COMMANDS = _commands()


def examples(n: int) -> int:
    return n * max(SCALE, 1)


_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
garbage = st.text(_chars, max_size=14).map(lambda s: "x" + s if s.startswith(("/", "~")) else s)
numbers = st.one_of(st.integers(-10**15, 10**15).map(str), st.sampled_from(
    ["0", "-1", "1e9", "nan", "inf", "-0", "0.5", "1.999", "2147483648", "9223372036854775808", "０", "1_000"]))
periods = st.sampled_from(["2024-13", "2024-00", "2024-03", "2024-3", "2024Q5", "2024Q1", "2024-Q0", "2024q2", "2024",
                           "0", "0000-01", "9999-12", "99999", "２０２４-０３", "2024/03", "-2024", "1900-01", "2024-02-30",
                           "2024-06-28", "2024-1-1", "2024-12-31", "2024Q1 ", " 2024-03", "2023", "3000"])
paths = st.sampled_from(["nowhere/x.xlsx", "missing.xlsx", ".", "..", "名册.xlsx", "bad.xlsx", "notes.txt", "empty.xlsx",
                         "out", "outfile", "sub/dir", "/nonexistent-djctl/x.xlsx", "/dev/null", "scheme.toml",
                         "head.json", "表/", "Ｕ001.xlsx"])
codes = st.sampled_from(["U001", "U001-B01", "U999", "u001", "Ｕ００１", "U001 ", "过硬", "示范", "达标", "未达标", "验收",
                         "回头看", "inspection", "unit", "branch", "docx,md", "xlsx", "docx,md,html,xlsx", "pdf", ",", "1", "2"])
VALUES = st.one_of(garbage, numbers, periods, paths, codes)

# plausible values by what a parameter takes (its type, then its name), so that many examples get past
# argument parsing into the services, where the bugs live
ids = st.sampled_from(["1", "2", "1", "3", "0", "-1", "99999999999", "99999999999999999999999"])
# valid values come more often than broken ones: with many commands taking a year or a date, a mix weighted
# the other way stops most examples at argument parsing (each broken value still comes up in every run)
years = st.sampled_from(["2024", "2024", "2024", "2024", "2023", "2025", "0", "1999", "2101", "-2024", "99999999999"])
dates = st.sampled_from(["2024-06-28", "2024-03-31", "2024-12-31", "2024-06-28", "2024-03-31", "2024-12-31", "2024-09-30",
                         "2024-02-30", "2024-13-01", "2024/06/28", "20240628", "昨天", ""])
rates = st.sampled_from(["0.2", "0.5", "1", "0", "-0.1", "1.5", "nan", "1e-9", "20%"])
formats = st.sampled_from(["docx", "md", "html", "xlsx", "docx,md,html,xlsx", "pdf", ",", "md,md", "DOCX"])
months = st.sampled_from(["2024-03", "2024-03", "2024-04", "2024-01", "2024-12", "2023-12", "2024-13", "2024Q1", "0000-01",
                          "2024-03 "])
quarters = st.sampled_from(["2024Q1", "2024-Q1", "2024Q4", "2024Q5", "2024-03", "2023Q4"])
BY_NAME = [
    (("year",), years), (("month",), months), (("quarter",), quarters), (("rate",), rates),
    (("date", "due", "as_of"), dates), (("format",), formats),
    (("unit", "code", "branch", "org", "tier", "basis", "source", "kind", "status", "group"), codes),
    (("file", "out", "dir", "record", "scheme", "remarks", "against", "templates", "xlsx", "to"), paths),
    (("id", "limit", "count", "draw"), ids),
]


def values_for(p, careful: bool) -> st.SearchStrategy[str]:
    """A plausible value for this parameter (its type, then its name), or anything at all; a careful
    example takes the plausible one nineteen times in twenty, a careless one half the time."""
    kind = p.bare_type() if callable(getattr(p, "bare_type", None)) else ""
    plausible = [strategy for words, strategy in BY_NAME if any(w in p.name for w in words)]
    if "int" in kind and not plausible:
        plausible = [ids]
    if "Path" in kind and paths not in plausible:
        plausible.append(paths)
    if not plausible:
        return VALUES
    return st.integers(0, 19 if careful else 1).flatmap(lambda n: st.one_of(*plausible) if n else VALUES)


@st.composite
def argv(draw) -> list[str]:
    words, params = draw(st.sampled_from(COMMANDS))
    careful = draw(st.integers(0, 2)) > 0
    args = list(words)
    for p in draw(st.permutations(params)):
        if p.param_type_name == "argument":
            if draw(st.integers(0, 19)) == 0:       # now and then leave a required argument out
                continue
            args += [draw(values_for(p, careful)) for _ in range(1 if p.nargs == 1 else draw(st.integers(1, 3)))]
        elif getattr(p, "is_flag", False):
            if draw(st.booleans()):
                args.append(p.opts[0])
        elif p.required or draw(st.integers(0, 2)) == 0:
            args += [draw(st.sampled_from(p.opts)), draw(values_for(p, careful))]
    if not careful and draw(st.integers(0, 9)) == 0:   # and now and then an option nobody has
        args.insert(draw(st.integers(0, len(args))), draw(st.sampled_from(["--nope", "-z", "--json=1", "--", "-"])))
    return args


class Snapshots:
    """The audit head and the row count of every table of the test's store, through one engine kept open."""

    def __init__(self) -> None:
        from sqlalchemy import func, literal, select, union_all

        from djctl.services.migrate_store import data_tables
        from djctl.store.audit import AUDIT
        from djctl.store.engine import make_engine, resolve_url

        self.engine = make_engine(resolve_url(None))
        head = select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1).subquery()
        self.query = union_all(
            select(literal("audit head").label("name"), func.count().label("n"), func.max(head.c.hash).label("h")).select_from(head),
            *[select(literal(t.name), func.count(), literal("")).select_from(t) for t in data_tables()])

    def take(self) -> dict:
        with self.engine.connect() as conn:
            return {name: (n, h) for name, n, h in conn.execute(self.query)}

    def events_since(self, state: dict) -> list[tuple]:
        """The audit events appended since `state` (to say what wrote when nothing should have)."""
        from sqlalchemy import select

        from djctl.store.audit import AUDIT

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(AUDIT.c.seq, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.payload)
                                                   .where(AUDIT.c.seq > state["audit_event"][0]).order_by(AUDIT.c.seq))]

    def close(self) -> None:
        self.engine.dispose()


def run_safely(cli, args: list[str]):
    note(f"argv: {args!r}")
    try:
        r = cli(*args)
    except Exception as exc:  # the runner lets exceptions through (catch_exceptions=False): a bug
        raise AssertionError(f"djctl {' '.join(args)!r} raised {exc!r}") from exc
    out = r.output
    assert r.exit_code in (0, 1, 2, 3), (args, r.exit_code, out)
    assert "Traceback" not in out and "内部错误" not in out, (args, out)
    return r


@pytest.fixture
def snapshots(small_store):
    snaps = Snapshots()
    yield snaps
    snaps.close()


@pytest.fixture
def small_store(cli, tmp_path):
    """An initialised store: the 2024 scheme, five units with a branch each, March's tasks; plus files to point at."""
    for args in (["init"], ["org", "import", small_roster(tmp_path / "名册.xlsx", units=5)], ["tasks", "set", "--month", MONTH]):
        r = cli(*args)
        assert r.exit_code == 0, r.output
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (tmp_path / "notes.txt").write_text("笔记\n", encoding="utf-8")
    (tmp_path / "scheme.toml").write_text("[annual\nbroken = ", encoding="utf-8")
    (tmp_path / "head.json").write_text('{"seq": "x"}', encoding="utf-8")
    workbook(tmp_path / "empty.xlsx", {"Sheet": []})
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    return tmp_path


def test_random_argv_never_crashes_and_refusals_write_nothing(cli, small_store, snapshots):
    last = {"state": snapshots.take(), "args": None}
    outcomes = Counter()

    @settings(FUZZ, max_examples=examples(250))
    @given(args=argv())
    @example(args=["negative-list", "--build", "--year", "0"])        # found by this fuzz: ValueError
    @example(args=["scheme", "check", ""])                            # found by this fuzz: IsADirectoryError
    @example(args=["sample", "show", "99999999999999999999999"])      # found: OverflowError (SQLite), DataError (PG)
    @example(args=["tier", "stats", "--xlsx", ".", "--year", "2024"])  # found: IsADirectoryError
    @example(args=["check", "forms", "--month", "0000-01"])            # found: "0-01" that never parses again
    def one(args):
        r = run_safely(cli, args)
        now = snapshots.take()
        if r.exit_code != 0:
            assert now == last["state"], (args, r.output, snapshots.events_since(last["state"]), last["args"])
        last["state"], last["args"] = now, args
        outcomes["usage" if "查看帮助：djctl" in r.output else r.exit_code] += 1

    one()
    # the fuzz is worth something only if many examples get past argument parsing into djctl's own code
    ran = sum(n for k, n in outcomes.items() if k != "usage")
    assert ran >= 0.4 * sum(outcomes.values()) and outcomes[0] >= 20, outcomes


def test_the_argv_fuzz_reaches_every_command():
    """The generator can produce each command (a command added later is fuzzed without changes here)."""
    names = {" ".join(w) for w, _ in COMMANDS}
    assert {"org import", "selfeval import", "sample", "score", "migrate-store", "audit verify"} <= names
    assert not any(n.startswith("demo") for n in names)


# ---------------------------------------------------------------- damaged workbooks into the importers

def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, mask in flips:
        if b:
            b[pos % len(b)] ^= (mask or 1)
    return bytes(b)


def _rezip(data: bytes, member: int, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    """Damage one member's XML inside a valid zip (so the zip itself still opens and its CRCs hold)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    target = names[member % len(names)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            body = src.read(name)
            if name == target:
                body = _flip(body, flips)
                if cut is not None:
                    body = body[: cut % (len(body) + 1)]
            z.writestr(name, body)
    return out.getvalue()


flips = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), min_size=1, max_size=6)
damage = st.one_of(
    st.binary(max_size=3000).map(lambda b: ("random bytes", lambda _: b)),
    flips.map(lambda f: ("flipped bytes", lambda data: _flip(data, f))),
    st.tuples(st.integers(0, 50), flips, st.one_of(st.none(), st.integers(0, 1 << 20))).map(
        lambda t: ("damaged xml", lambda data: _rezip(data, *t))),
    st.integers(0, 1 << 20).map(lambda n: ("truncated", lambda data: data[: n % (len(data) + 1)])),
)


def _patched_flag(data: bytes) -> bytes:
    """Every zip header marked 'compressed patched data' (flag bit 5): zipfile raises NotImplementedError."""
    b = bytearray(data)
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = b.find(magic)
        while at >= 0:
            b[at + offset] |= 0x20
            at = b.find(magic, at + 4)
    return bytes(b)


PATCHED = ("patched-data flag", _patched_flag)     # found by this fuzz: NotImplementedError


def _check_import(cli, snapshots: Snapshots, command: list[str], original: bytes, case, path: Path) -> None:
    kind, make = case
    data = make(original)
    assume(data != original)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    note(f"{kind}: {len(data)} bytes")
    before = snapshots.take()
    r = run_safely(cli, [*command, str(path)])
    assert r.exit_code in (0, 2), (kind, r.exit_code, r.output)
    if r.exit_code == 2:
        assert r.output.strip() and ("拒绝" in r.output or "错误" in r.output), r.output
        assert snapshots.take() == before


def test_damaged_selfeval_forms_are_refused_cleanly(cli, small_store, snapshots):
    doc = json.loads(cli("selfeval", "forms", "--month", MONTH, "--out", "表", "--json").stdout)
    from tests.monthly_helpers import fill_form

    filled = fill_form(Path(doc["files"][0]), small_store / "filled.xlsx")
    original = filled.read_bytes()

    @settings(FUZZ, max_examples=examples(40))
    @given(case=damage)
    @example(case=PATCHED)
    def one(case):
        _check_import(cli, snapshots, ["selfeval", "import"], original, case, small_store / "收回" / "自评表.xlsx")

    one()


def test_damaged_rosters_are_refused_cleanly(cli, small_store, snapshots):
    original = small_roster(small_store / "roster-src.xlsx", units=6).read_bytes()

    @settings(FUZZ, max_examples=examples(40))
    @given(case=damage)
    @example(case=PATCHED)
    def one(case):
        _check_import(cli, snapshots, ["org", "import"], original, case, small_store / "名册-收回.xlsx")

    one()
