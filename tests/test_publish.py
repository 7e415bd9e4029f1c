"""`djctl publish`: the 公示 site — files, structure, no external requests, and the verifier in a real browser."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import json_out, small_roster
from tests.store_builder import Builder

CHROMIUM = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium") or None
SEED = "2024-01-02 福彩开奖号码 01 05 12 19 23 31 + 07"


@pytest.fixture
def site(cli, store, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("org", "import", small_roster(tmp_path / "名册.xlsx", units=12)).exit_code == 0
    b = Builder(store)
    for m in ("2024-01", "2024-02", "2024-03"):
        b.tasks(m, {"A": 60, "B": 40})
        for i in range(1, 13):
            b.report(f"U{i:03d}", m, {"A": 6000 - 100 * i, "B": 4000 - 50 * (i % 3)})
    assert cli("sample", "--month", "2024-01", "--seed", SEED).exit_code == 0
    assert cli("sample", "--month", "2024-02", "--seed", "二月 <公开> & “号码”", "--stratify").exit_code == 0
    r = cli("sample", "--month", "2024-02", "--seed", "二月重抽", "--redraw", "--reason", "种子抄录有误 <script>alert(1)</script>")
    assert r.exit_code == 0, r.output
    assert cli("negative-list", "--year", "2024", "--build").exit_code == 0
    doc = json_out(cli("publish", "--year", "2024", "--out", "site", "--date", "2025-01-10", "--json"))
    return tmp_path / "site", doc


class Checker(HTMLParser):
    """A light HTML validity check: a doctype, one html/head/body, every non-void element closed in order,
    ids unique, and every src/href either a local file of the site or an in-page anchor."""

    VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area", "base", "track", "embed"}
    SVG_SELF_CLOSING = {"rect", "line", "path", "circle", "polyline", "polygon", "ellipse"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.counts: dict[str, int] = {}
        self.doctype = False
        self.charset = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)
        if tag not in self.VOID and tag not in self.SVG_SELF_CLOSING:
            self.errors.append(f"<{tag}/> is not a void element")

    def _attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if "svg" not in self.stack:  # an SVG chart has <title>s of its own
            self.counts[tag] = self.counts.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "meta" and a.get("charset", "").lower() == "utf-8":
            self.charset = True
        if "id" in a:
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"] or "")
        for name in ("src", "href", "action", "data", "poster"):
            if a.get(name) is not None:
                self.links.append(a[name] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            self.errors.append(f"</{tag}> closes a void element")
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else '—'}>")
            return
        self.stack.pop()


def check_page(path: Path) -> Checker:
    text = path.read_text(encoding="utf-8")
    c = Checker()
    c.feed(text)
    c.close()
    assert c.doctype and c.charset, path
    assert not c.errors and not c.stack, (path, c.errors[:5], c.stack)
    assert c.counts.get("html") == c.counts.get("head") == c.counts.get("body") == c.counts.get("title") == 1
    for link in c.links:
        assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", link, re.I), (path, link)  # no scheme, no //host
        if not link.startswith("#"):
            assert (path.parent / link).is_file(), (path, link)
    # nothing else that a browser would fetch: no @import, url(), link or iframe
    assert not re.search(r"@import|url\(|<link\b|<iframe\b|<object\b", text, re.I), path
    return c


def test_site_files_structure_and_head(site, store, cli):
    out, doc = site
    names = {f["name"] for f in doc["files"]}
    assert {"index.html", "negative-list.html", "quarter-2024Q1.html", "ranking.html", "draw-sample-2024-01-1.html",
            "draw-sample-2024-02-1.html", "draw-sample-2024-02-2.html"} <= names
    from djctl.store import audit

    with store.read() as uow:
        seq, hash_ = audit.head(uow.conn)
    assert doc["audit_head"] == {"seq": seq, "hash": hash_}
    for name in names:
        page = out / name
        check_page(page)
        text = page.read_text(encoding="utf-8")
        assert f"第 {seq} 条事件，哈希 <span class=\"hash\">{hash_}</span>" in text, name
        assert hashlib.sha256(page.read_bytes()).hexdigest() == next(f["sha256"] for f in doc["files"] if f["name"] == name)
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in ("draw-sample-2024-01-1.html", "draw-sample-2024-02-2.html", "quarter-2024Q1.html", "ranking.html"):
        assert f'href="{name}"' in index
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit_head"]["seq"] == seq and manifest["date"] == "2025-01-10"
    quarter = (out / "quarter-2024Q1.html").read_text(encoding="utf-8")
    assert "<svg" in quarter and "测试单位1机关党委" in quarter


def test_draw_page_carries_record_rule_and_redraws(site, store):
    out, _ = site
    from djctl.services.draws import draw_history

    first, second = draw_history(store, "sample", "2024-02")
    page = (out / "draw-sample-2024-02-2.html").read_text(encoding="utf-8")
    # the record in the page is the stored record, whole
    embedded = re.search(r'<textarea id="record"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    import html

    assert json.loads(html.unescape(embedded)) == second.record_json
    assert second.record.population_hash in page and "sample:2024-02#2" in page
    assert "种子抄录有误 &lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped, never markup
    assert "<script>alert(1)" not in page
    assert 'href="draw-sample-2024-02-1.html"' in page  # the earlier draw of the month, linked
    for code in second.record.population:
        assert f"<td>{code}</td>" in page
    first_page = (out / "draw-sample-2024-02-1.html").read_text(encoding="utf-8")
    assert "二月 &lt;公开&gt; &amp; “号码”" in first_page and "已被后来的重抽取代" in first_page
    assert f'data-digest="{first.record_sha256}"' in first_page
    assert "按分组分层" in first_page and "最大余数法" in first_page


def test_same_store_and_date_give_identical_files(site, cli):
    _, doc = site
    again = json_out(cli("publish", "--year", "2024", "--out", "site2", "--date", "2025-01-10", "--json"))
    assert again["files"] == doc["files"]


def test_publish_without_scheme_year_is_refused(cli):
    assert cli("init").exit_code == 0
    r = cli("publish", "--year", "2031", "--out", "x")
    assert r.exit_code == 2 and "2031" in r.output  # a missing scheme is refused (exit 2), naming scheme new


# ---------------------------------------------------------------------- in a real browser


def chromium_dom(page: Path, tmp_path: Path) -> str:
    profile = tmp_path / f"chromium-profile-{page.stem}"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
           "--dump-dom", page.resolve().as_uri()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180, encoding="utf-8")
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def verdict(dom: str) -> tuple[str, list[str]]:
    m = re.search(r'<p id="verdict" class="(\w+)">([^<]*)</p>', dom)
    assert m, dom[:2000]
    diffs = re.findall(r"<li>([^<]*)</li>", dom.split('id="differences"', 1)[1].split("</ul>", 1)[0])
    return m.group(2), diffs


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_pages_verify_in_headless_chromium_and_tampering_shows(site, tmp_path):
    out, _ = site
    page = out / "draw-sample-2024-02-2.html"
    dom = chromium_dom(page, tmp_path)
    shown, diffs = verdict(dom)
    assert shown == "一致" and diffs == []
    assert "SHA-256 由浏览器 Web Crypto 计算" in dom  # crypto.subtle exists on file:// (a secure context)

    import html

    text = page.read_text(encoding="utf-8")
    m = re.search(r'(<textarea id="record"[^>]*>)(.*?)(</textarea>)', text, re.S)
    record_text = html.unescape(m.group(2))

    def with_record(new_text: str) -> Path:
        tampered = out / "tampered.html"
        tampered.write_text(text[:m.start(2)] + html.escape(new_text) + text[m.end(2):], encoding="utf-8")
        return tampered

    # one character of the record altered: the last hex digit of the population hash
    old = json.loads(record_text)["population_hash"]
    new = old[:-1] + ("0" if old[-1] != "0" else "1")
    edited = record_text.replace(old, new, 1)
    assert sum(a != b for a, b in zip(edited, record_text, strict=True)) == 1
    shown, diffs = verdict(chromium_dom(with_record(edited), tmp_path))
    assert shown.startswith("不一致"), shown
    assert any("总体哈希不一致" in d for d in diffs) and any("审计" in d for d in diffs), diffs

    # one character of an exclusion's reason: the draw still recomputes, the audit digest does not match
    doc = json.loads(record_text)
    code, why = next(iter(doc["excluded"].items()))
    edited = record_text.replace(f'"{code}": "{why}"', f'"{code}": "{why[:-1]}X"', 1)
    assert edited != record_text
    shown, diffs = verdict(chromium_dom(with_record(edited), tmp_path))
    assert shown.startswith("不一致") and any("审计" in d for d in diffs), diffs


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_a_pasted_record_is_verified_in_the_page(site, cli, tmp_path):
    """A reader pastes another draw's record (`sample show --json`) into a page and presses 核验: the page says
    一致 and that it is not the record published on this page; a pasted record with one key changed: 不一致."""
    out, _ = site
    pasted = json_out(cli("sample", "show", "--month", "2024-01", "--json"))
    page = (out / "draw-sample-2024-02-2.html").read_text(encoding="utf-8")

    def paste(doc: dict, name: str) -> str:
        # stands in for the reader: once the page's own check is done, paste the text and press the button
        script = ("<script>const t = setInterval(() => { if (document.getElementById('verdict').className === 'pending')"
                  " return; clearInterval(t); document.getElementById('record').value = "
                  + json.dumps(json.dumps(doc, ensure_ascii=False)).replace("<", "\\u003c")
                  + "; document.getElementById('verdict').className = 'pending';"
                  " document.getElementById('run').click(); }, 10);</script>")
        path = out / name
        path.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
        return chromium_dom(path, tmp_path)

    dom = paste(pasted, "pasted.html")
    assert verdict(dom) == ("一致", []) and "与本页公示的记录不同" in dom
    code = pasted["population"][0]
    pasted["keys"][code] = pasted["keys"][code][:-1] + ("0" if pasted["keys"][code][-1] != "0" else "1")
    shown, diffs = verdict(paste(pasted, "pasted-bad.html"))
    assert shown.startswith("不一致") and any(f"编码「{code}」的键值不一致" in d for d in diffs), diffs
