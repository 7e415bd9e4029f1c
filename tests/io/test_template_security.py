"""User templates are sandboxed and bounded: escapes and resource bombs are refused quickly, naming the
template, and nothing they try is executed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import docx
import pytest

from djctl.errors import DjctlError, InputError, SecurityError
from djctl.io.render import RenderLimits, render_document

CTX: dict[str, Any] = {
    "kind": "bulletin",
    "title": "关于2024年第一季度党建工作考核情况的通报",
    "issuer": "中共××市直属机关工作委员会",
    "date": "2024年4月10日",
    "sections": [{"heading": "一、基本情况", "paragraphs": ["正文"],
                  "tables": [{"caption": "表1", "columns": ["单位", "得分"], "rows": [["A&B<c>", "95.5"]]}],
                  "subsections": [{"heading": "（一）", "paragraphs": ["x"]}]}],
}

SENTINEL = "djctl-pwned"

# Each must be refused with SecurityError (sandbox or budget).
ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('touch " + SENTINEL + "').read() }}",
    "{{ joiner.__init__.__globals__['os'].system('touch " + SENTINEL + "') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ title|attr('__class__') }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ '{x.__class__.__mro__}'.format_map({'x': title}) }}",
    "{{ lipsum.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ sections.append(1) }}",
    "{{ sections[0].tables[0].rows.pop() }}",
]
BOMBS = [
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ 'a' * 10**9 }}",
    "{{ (99999**99999) }}",
    "{{ 2**100000 * 2**100000 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%*d'|format(10**9, 1) }}",
    "{{ ('a' * 1000000).replace('a', 'a' * 1000) }}",
    "{{ 'a\tb'.expandtabs(10**5) }}",
    "{% set s = 'a' * 10000000 %}{{ [s, s, s, s, s, s, s, s, s, s, s, s] }}",
    "{% set s = 'a' * 10000000 %}{{ ([s] * 1000)|join }}",
    "{% set s = 'a' * 10000000 %}{{ ','.join([s] * 1000) }}",
    "{% set s = 'a' * 10000000 %}{{ ([s] * 1000)|tojson }}",
    "{% set s = 'a' * 1000000 %}{{ ([s] * 1000)|map('upper')|list|length }}",
    "{{ (range(100000)|list) * 100000 }}",
    "{{ ([[1]] * 100000)|sum(start=[]) }}",
    "{% for i in range(100000) %}{{ 'x' * 10000 }}{% endfor %}",
    "{{ lipsum(10**6) }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
]


def _render(tmp_path: Path, filename: str, source: str | None = None, fmt: str | None = None,
            limits: RenderLimits | None = None) -> list[Path]:
    tdir = tmp_path / "tpl"
    tdir.mkdir(exist_ok=True)
    if source is not None:
        (tdir / filename).write_text(source, encoding="utf-8")
    fmt = fmt or filename.split(".")[1]
    return render_document(CTX, [fmt], tmp_path / "out", "x", templates_dir=tdir, limits=limits)


def _refused(tmp_path: Path, filename: str, source: str | None, exc: type[DjctlError] = SecurityError,
             **kw: Any) -> DjctlError:
    start = time.monotonic()
    with pytest.raises(exc) as err:
        _render(tmp_path, filename, source, **kw)
    assert time.monotonic() - start < 5, "refusal must be quick"
    assert filename in str(err.value)            # names the template
    assert not (tmp_path / "out").exists()        # nothing written
    assert not (tmp_path / SENTINEL).exists()     # nothing executed (cwd is tmp_path)
    return err.value


@pytest.mark.parametrize("payload", ESCAPES + BOMBS)
def test_md_template_payload_refused(tmp_path: Path, payload: str) -> None:
    _refused(tmp_path, "bulletin.md.j2", payload)


@pytest.mark.parametrize("payload", ESCAPES + BOMBS[:4])
def test_html_template_payload_refused(tmp_path: Path, payload: str) -> None:
    _refused(tmp_path, "bulletin.html.j2", payload)


def _docx_template(path: Path, *paragraphs: str) -> None:
    document = docx.Document()
    document.add_paragraph("抬头")
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch " + SENTINEL + "').read() }}",
    "{{ title|attr('__class__') }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ lipsum.__globals__ }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ 'a' * 10**9 }}",
    "{{ (99999**99999) }}",
    "{{ '<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>'|safe }}",
])
def test_docx_template_payload_refused(tmp_path: Path, payload: str) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    _docx_template(tdir / "bulletin.docx", "{{ title }}", payload)
    _refused(tmp_path, "bulletin.docx", None, fmt="docx")


def test_docx_template_cannot_reach_live_objects(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    _docx_template(tdir / "bulletin.docx", "{{ body.tpl.save('" + SENTINEL + ".docx') }}")
    err = _refused(tmp_path, "bulletin.docx", None, InputError, fmt="docx")
    assert "tpl" in str(err)
    assert not (tmp_path / f"{SENTINEL}.docx").exists()


def test_docx_template_that_is_not_a_docx(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "bulletin.docx").write_bytes(b"not a zip")
    _refused(tmp_path, "bulletin.docx", None, InputError, fmt="docx")


def test_docx_template_with_dtd_is_refused(tmp_path: Path) -> None:
    import zipfile

    tdir = tmp_path / "tpl"
    tdir.mkdir()
    good = tdir / "good.docx"
    _docx_template(good, "{{ title }}")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tdir / "bulletin.docx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY x "boom">]>', 1)
            dst.writestr(info, data)
    _refused(tmp_path, "bulletin.docx", None, fmt="docx")


@pytest.mark.parametrize(("source", "words"), [
    ("{% for %}", "语法错误"),
    ("{{ no_such }}", "no_such"),
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ("{% include 'official.md.j2' %}", "渲染失败"),
])
def test_broken_template_is_input_error_naming_it(tmp_path: Path, source: str, words: str) -> None:
    err = _refused(tmp_path, "bulletin.md.j2", source, InputError)
    assert not isinstance(err, SecurityError)
    assert words in str(err)


def test_time_limit_stops_a_long_render(tmp_path: Path) -> None:
    slow = "{% for i in range(100000) %}{% for j in range(9) %}{{ i }}{% endfor %}{% endfor %}"
    err = _refused(tmp_path, "bulletin.md.j2", slow, limits=RenderLimits(time_limit=0.05))
    assert "秒" in str(err)


def test_output_limit(tmp_path: Path) -> None:
    err = _refused(tmp_path, "bulletin.html.j2", "{% for i in range(1000) %}{{ title }}{% endfor %}",
                   limits=RenderLimits(max_output_chars=10_000))
    assert "输出" in str(err)


def test_oversized_template_file_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, "bulletin.md.j2", "x" * 2000, InputError, limits=RenderLimits(max_text_template_bytes=1000))


def test_non_utf8_template_is_refused(tmp_path: Path) -> None:
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "bulletin.md.j2").write_bytes("{{ title }}，通报".encode("gbk"))
    _refused(tmp_path, "bulletin.md.j2", None, InputError)


def test_ordinary_template_features_still_work(tmp_path: Path) -> None:
    source = (
        "{% for s in sections recursive %}{{ s.heading }};{{ loop(s.subsections) }}{% endfor %}|"
        "{{ sections|map(attribute='heading')|join('/') }}|{{ '%.2f'|format(3.14159) }}|"
        "{{ '{:,}'.format(12345678) }}|{{ title|length }}|{{ range(5)|sum }}|{{ 'ab' * 3 }}|"
        "{{ sections[0].tables[0].rows[0][0] }}|{{ [1, 2] + [3] }}|{{ 2 ** 10 }}|{{ 'x' ~ 1 }}|"
        "{{ title[:2]|upper }}|{{ sections[0].tables[0].rows|length }}|{{ cycler('a', 'b').next() }}"
    )
    [path] = _render(tmp_path, "bulletin.md.j2", source)
    assert path.read_text(encoding="utf-8") == (
        "一、基本情况;（一）;|一、基本情况|3.14|12,345,678|22|10|ababab|A&B\\<c\\>|[1, 2, 3]|1024|x1|关于|1|a"
    )
    [html] = _render(tmp_path, "bulletin.html.j2", "{{ sections[0].tables[0].rows[0][0] }}{{ '<b>'|safe }}")
    assert html.read_text(encoding="utf-8") == "A&amp;B&lt;c&gt;<b>"
