"""Documents out: one plain context, rendered to Word (.docx), Markdown, HTML and xlsx.

Services build ONE plain context (a dict) and call `render_document`; templates only lay it out.

Context model (every report: 季通报, 季调度, 年度考核结果通报, 回头看报告, 负面清单)::

    {
      "kind": "bulletin",                        # template name looked up (letters, digits, _ and -)
      "title": "关于2024年第一季度党建工作考核情况的通报",
      "issuer": "中共××市直属机关工作委员会",     # 发文机关 (署名; with doc_number also the 版头)
      "doc_number": "市直工委〔2024〕5号" or None, # 发文字号; when given, the Word 版头 is printed
      "recipients": "各直属单位党组织：" or None,  # 主送机关
      "date": "2024年4月10日",                    # 成文日期, already formatted
      "sections": [{
          "heading": "一、基本情况", "level": 1,
          "paragraphs": ["……"],
          "tables": [{"caption": "表1 ……", "columns": ["排名", "单位", "得分"], "rows": [[1, "A", "95.5"]],
                      "note": "……"}],
          "figures": [{"caption": "图1 ……", "chart": {"type": "bar", "labels": [...], "values": [...],
                                                      "series_name": "得分", "max_value": 100}}],
          "subsections": [ same shape, level 2 ],
      }],
      "attachments": [ same shape as sections; "heading" is the attachment's title ],
      ...                                        # other keys pass through (plain data) for user templates
    }

Inside a section the order is always: paragraphs, then tables, then figures, then subsections.
Table captions go above tables, figure captions below figures. Cells may be str, int, Decimal, float,
None (shown empty) or bool (是/否); text formats show `str(value)`, the xlsx keeps numbers as numbers.

Templates (ext ``docx``, ``md.j2``, ``html.j2``) are found in this order: ``templates_dir/{kind}.{ext}``,
built-in ``djctl/templates/{kind}.{ext}``, ``templates_dir/official.{ext}``, built-in ``official.{ext}``.
A template file in ``templates_dir`` must resolve (symlinks followed) inside that directory.

Every template, built-in or the user's, renders in an `ImmutableSandboxedEnvironment` with
`StrictUndefined`, no loader (no include/extends/import), and budgets: `range()` of at most 100 000
items, at most 500 000 loop iterations in all, strings of at most 10 M characters (``*``, ``+``, ``~``,
``%``, ``**``, str methods and filters are checked before they allocate), 50 M characters of output and
30 s. A user template that breaks the sandbox or a budget raises `djctl.errors.SecurityError`; any other
failure raises `InputError`; both name the template file. User templates render in a daemon thread, so a
runaway C-level operation cannot hold the command past the time limit.

Variables a template sees: the context above, normalised (every key present; strings cleaned of
characters XML forbids), and per figure ``number``, ``legend`` (``[{number, label, value}]``) and
``legend_text``; Markdown figures also have ``image`` (the PNG written next to the .md), HTML figures
``svg`` (inline, labels escaped). In Markdown every string of the context arrives already
Markdown-escaped (``\\|``, ``\\<``, ``\\*``, a leading ``1.`` or ``-`` …) and marked safe, so ``{{ }}``
prints it as is; autoescape is on, so a string made in the template itself is HTML-escaped. Use
``|md_cell`` in table cells (newlines become ``<br>``) and ``|md_br`` in paragraphs (hard breaks). HTML
is autoescaped; ``|nl2br`` keeps line breaks. In Word, ``{{p body }}`` is the laid-out sections plus the
附件说明, ``{{p attachments_body }}`` the attachments, each on a new page; the Word styles used are
named in `DOCX_STYLES` (built into official.docx by scripts/make_docx_templates.py). Tables stand in
``body`` as one placeholder paragraph each and are written into the saved document after rendering
(a template places ``body``; it cannot edit the tables' XML), so a table of thousands of rows costs
time and memory in proportion to its size; a user template's output budget covers the tables it places.
"""

from __future__ import annotations

import io
import os
import re
import string
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from html import escape as _xml_escape
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError, InputError, SecurityError
from djctl.io.chart import bar_chart_png, bar_chart_svg, clean_text, format_number

FORMATS = ("docx", "md", "html", "xlsx")
TEMPLATE_EXT = {"docx": "docx", "md": "md.j2", "html": "html.j2"}
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "templates"
FALLBACK_KIND = "official"

# Word paragraph/table styles the body is laid out with, by role -> style name (as shown in Word).
DOCX_STYLES: dict[str, str] = {
    "normal": "Normal",
    "issuer_mark": "发文机关标志",
    "doc_number": "发文字号",
    "red_line": "版头分隔线",
    "title": "公文标题",
    "recipients": "主送机关",
    "body": "公文正文",
    "heading1": "一级标题",
    "heading2": "二级标题",
    "heading3": "三级标题",
    "table_caption": "表格标题",
    "table_header": "表格表头",
    "table_text": "表格文字",
    "table_note": "表格注释",
    "figure": "图片",
    "figure_caption": "图题",
    "figure_note": "图注",
    "attachment_note": "附件说明",
    "signature": "发文机关署名",
    "date": "成文日期",
    "attachment_label": "附件标识",
    "page_number": "页码",
    "table": "djctl表格",
}
# Used when a user's Word template lacks one of the styles above.
_STYLE_FALLBACK = {
    "heading1": "Heading 1", "heading2": "Heading 2", "heading3": "Heading 3", "title": "Title",
    "table": "Table Grid", "figure_caption": "Caption", "table_caption": "Caption",
}

_KIND = re.compile(r"^[\w-]{1,64}$")
_FIGURE_WIDTH_MM = 150


@dataclass(frozen=True)
class RenderLimits:
    """Budgets for one template rendering (see the module docstring)."""

    time_limit: float = 30.0
    max_output_chars: int = 50_000_000
    max_string_chars: int = 10_000_000
    max_range: int = 100_000
    max_loop_items: int = 500_000
    max_seq_items: int = 1_000_000
    max_int_bits: int = 100_000
    max_alloc_chars: int = 100_000_000
    max_slow_filter_chars: int = 1_000_000
    max_text_template_bytes: int = 2 * 1024 * 1024
    max_docx_template_bytes: int = 50 * 1024 * 1024
    max_docx_uncompressed: int = 200 * 1024 * 1024


DEFAULT_LIMITS = RenderLimits()


# ====================================================================== public API


def render_document(ctx: dict, formats: list[str], out_dir: Path, basename: str,
                    templates_dir: Path | None = None, *, limits: RenderLimits | None = None) -> list[Path]:
    """Render `ctx` to each of `formats` ("docx", "md", "html", "xlsx") as `out_dir/basename.{ext}`.

    Everything is rendered in memory first; files are written only when every format succeeded (each
    atomically). Returns the written paths in format order (a Markdown file is followed by its PNG
    figures, `basename-fig1.png` …).
    """
    limits = limits or DEFAULT_LIMITS
    fmts = _check_formats(formats)
    _check_basename(basename)
    doc = normalize_context(ctx)
    tdir = _check_templates_dir(templates_dir)
    outputs: list[tuple[str, bytes]] = []
    for fmt in fmts:
        if fmt == "xlsx":
            outputs.append((f"{basename}.xlsx", _render_xlsx(doc)))
            continue
        tpl = find_template(doc["kind"], fmt, tdir)
        if fmt == "docx":
            outputs.append((f"{basename}.docx", _guarded(tpl, limits, lambda t=tpl: _render_docx(doc, t, limits))))
        elif fmt == "md":
            figs = _figures(doc)
            for fig in figs:
                fig["image"] = f"<{basename}-fig{fig['number']}.png>"
            text = _guarded(tpl, limits, lambda t=tpl: _render_text(doc, t, "md", limits))
            outputs.append((f"{basename}.md", text.encode("utf-8")))
            outputs.extend((f"{basename}-fig{fig['number']}.png", _png(fig)) for fig in figs)
        else:
            text = _guarded(tpl, limits, lambda t=tpl: _render_text(doc, t, "html", limits))
            outputs.append((f"{basename}.html", text.encode("utf-8")))
    return _write_all(Path(out_dir), outputs)


@dataclass(frozen=True)
class TemplateRef:
    """A located template: its file, whether it is the user's, and a label for messages."""

    path: Path
    user: bool

    @property
    def label(self) -> str:
        return str(self.path) if self.user else f"内置模板 {self.path.name}"


def find_template(kind: str, fmt: str, templates_dir: Path | None = None) -> TemplateRef:
    """Locate the template for `kind` and format (see the module docstring for the order)."""
    ext = TEMPLATE_EXT[fmt]
    if not isinstance(kind, str) or not _KIND.match(kind) or kind.startswith("-"):
        raise SecurityError(f"模板名「{kind}」不合法：只能使用字母、数字、下划线和连字符，不能含路径",
                            path=str(templates_dir) if templates_dir else None)
    for name in dict.fromkeys((kind, FALLBACK_KIND)):
        if templates_dir is not None:
            user = _user_template(templates_dir, f"{name}.{ext}")
            if user is not None:
                return TemplateRef(user, True)
        builtin = BUILTIN_DIR / f"{name}.{ext}"
        if builtin.is_file():
            return TemplateRef(builtin, False)
    raise DjctlError(f"找不到内置模板 {FALLBACK_KIND}.{ext}（安装不完整）", hint="请重新安装 djctl")


# ====================================================================== context


def normalize_context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The context with every documented key present, plain types only and XML-safe strings."""
    if not isinstance(ctx, Mapping):
        raise TypeError("render context must be a mapping")
    if not ctx.get("title"):
        raise ValueError("render context needs a title")
    doc: dict[str, Any] = {str(k): _plain(v) for k, v in ctx.items()
                           if k not in ("sections", "attachments")}
    doc.update({
        "kind": str(ctx.get("kind") or FALLBACK_KIND),
        "title": clean_text(ctx["title"]),
        "issuer": clean_text(ctx.get("issuer")),
        "doc_number": clean_text(ctx["doc_number"]) if ctx.get("doc_number") else None,
        "recipients": clean_text(ctx["recipients"]) if ctx.get("recipients") else None,
        "date": clean_text(ctx.get("date")),
    })
    counter = {"table": 0, "figure": 0}
    doc["sections"] = [_section(s, 1, counter, 0) for s in ctx.get("sections") or []]
    doc["attachments"] = [_section(s, 1, counter, 0) for s in ctx.get("attachments") or []]
    for i, att in enumerate(doc["attachments"], 1):
        att["number"] = i
    return doc


def _section(s: Mapping[str, Any], level: int, counter: dict[str, int], depth: int) -> dict[str, Any]:
    if not isinstance(s, Mapping):
        raise TypeError(f"section must be a mapping, got {type(s).__name__}")
    if depth > 8:
        raise ValueError("sections nested deeper than 8 levels")
    lvl = int(s.get("level") or level)
    out = {str(k): _plain(v) for k, v in s.items()
           if k not in ("paragraphs", "tables", "figures", "subsections")}
    out.update({
        "heading": clean_text(s.get("heading")),
        "level": lvl,
        "paragraphs": [clean_text(p) for p in s.get("paragraphs") or []],
        "tables": [_table(t, counter) for t in s.get("tables") or []],
        "figures": [_figure(f, counter) for f in s.get("figures") or []],
    })
    out["subsections"] = [_section(x, lvl + 1, counter, depth + 1) for x in s.get("subsections") or []]
    return out


def _table(t: Mapping[str, Any], counter: dict[str, int]) -> dict[str, Any]:
    counter["table"] += 1
    columns = [cell_text(c) for c in t.get("columns") or []]
    raw_rows = [list(r) for r in t.get("rows") or []]
    for i, r in enumerate(raw_rows, 1):
        if columns and len(r) > len(columns):
            raise ValueError(f"table {counter['table']} row {i} has {len(r)} cells for {len(columns)} columns")
    width = len(columns) or max((len(r) for r in raw_rows), default=0)
    raw_rows = [r + [None] * (width - len(r)) for r in raw_rows]
    out = {str(k): _plain(v) for k, v in t.items() if k not in ("columns", "rows")}
    # A string cell reads the same in text and in the xlsx; equal strings (scores, groups) are cleaned once.
    texts: dict[str, str] = {}

    def text(v: Any) -> str:
        if type(v) is str:
            s = texts.get(v)
            if s is None:
                s = texts[v] = clean_text(v)
            return s
        return cell_text(v)

    def value(v: Any) -> Any:
        return text(v) if type(v) is str else _xlsx_value(v)

    out.update({
        "number": counter["table"],
        "caption": clean_text(t.get("caption")),
        "columns": columns,
        "rows": [[text(v) for v in r] for r in raw_rows],
        "note": clean_text(t.get("note")),
        "values": [[value(v) for v in r] for r in raw_rows],
    })
    return out


def _figure(f: Mapping[str, Any], counter: dict[str, int]) -> dict[str, Any]:
    counter["figure"] += 1
    chart = f.get("chart") or {}
    if chart.get("type", "bar") != "bar":
        raise ValueError(f"unsupported chart type {chart.get('type')!r} (only 'bar')")
    labels = [clean_text(x) for x in chart.get("labels") or []]
    values = list(chart.get("values") or [])
    if len(labels) != len(values):
        raise ValueError(f"figure {counter['figure']}: {len(labels)} labels for {len(values)} values")
    texts = [format_number(v) for v in values]
    legend = [{"number": i, "label": lab, "value": val}
              for i, (lab, val) in enumerate(zip(labels, texts, strict=True), 1)]
    out = {str(k): _plain(v) for k, v in f.items() if k != "chart"}
    out.update({
        "number": counter["figure"],
        "caption": clean_text(f.get("caption")),
        "chart": {"type": "bar", "labels": labels, "values": texts,
                  "series_name": clean_text(chart.get("series_name")),
                  "max_value": None if chart.get("max_value") is None else format_number(chart["max_value"])},
        "legend": legend,
        "legend_text": "；".join(f"{x['number']} {x['label']}（{x['value']}）" for x in legend),
    })
    return out


def cell_text(value: Any) -> str:
    """How a cell reads in Word, Markdown and HTML."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return clean_text(value)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return value
    return clean_text(value)


def _plain(value: Any, depth: int = 0) -> Any:
    """Plain data only (dict, list, str, numbers, None), so templates never reach a live object."""
    if depth > 20:
        raise ValueError("render context nested too deeply")
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    return clean_text(value)


def _walk(sections: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for s in sections:
        yield s
        yield from _walk(s["subsections"])


def _figures(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for s in _walk(doc["sections"] + doc["attachments"]) for f in s["figures"]]


def _tables(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for s in _walk(doc["sections"] + doc["attachments"]) for t in s["tables"]]


def _png(fig: dict[str, Any]) -> bytes:
    chart = fig["chart"]
    return bar_chart_png(chart["labels"], chart["values"], max_value=chart["max_value"])


# ====================================================================== checks and files


def _check_formats(formats: Sequence[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [f for f in formats.split(",")]
    out = []
    for f in formats:
        f = str(f).strip().lower().lstrip(".")
        if f not in FORMATS:
            raise InputError(f"不支持的文档格式「{f}」", hint=f"可选：{'、'.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise InputError("没有指定文档格式", hint=f"可选：{'、'.join(FORMATS)}")
    return out


def _check_basename(basename: str) -> None:
    bad = (not isinstance(basename, str) or not basename or basename.startswith(".") or len(basename) > 150
           or basename != basename.strip() or re.search(r'[<>:"/\\|?*\x00-\x1f]', basename))
    if bad:
        raise InputError(f"输出文件名「{basename}」不合法",
                         hint='不能为空、以点开头，不能含 < > : " / \\ | ? * 或控制字符')


def _check_templates_dir(templates_dir: Path | None) -> Path | None:
    if templates_dir is None:
        return None
    p = Path(templates_dir)
    if not p.is_dir():
        raise InputError("模板目录不存在或不是目录", path=str(p), hint="--templates 应指向存放模板文件的目录")
    return p


def _user_template(templates_dir: Path, filename: str) -> Path | None:
    candidate = templates_dir / filename
    if not os.path.lexists(candidate):
        return None
    base = templates_dir.resolve()
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise InputError("模板文件无法打开（链接失效或循环）", path=str(candidate)) from exc
    if not real.is_relative_to(base):
        raise SecurityError("模板文件指向模板目录之外，拒绝使用", path=str(candidate),
                            hint="请把模板文件本身放进 --templates 目录，不要使用指向目录外的链接")
    if not real.is_file():
        raise InputError("模板路径不是普通文件", path=str(candidate))
    return real


def _write_all(out_dir: Path, outputs: list[tuple[str, bytes]]) -> list[Path]:
    """Every rendered file through the one writer: all or none of them appear (io/outfile.py)."""
    from djctl.io.outfile import write_many

    return write_many(Path(out_dir), outputs)


# ====================================================================== sandbox


def _sandbox_classes() -> tuple[type, type]:
    """Built on first use so that importing this module stays cheap."""
    global _SANDBOX
    if _SANDBOX is not None:
        return _SANDBOX
    import jinja2
    from jinja2 import nodes
    from jinja2.exceptions import SecurityError as JinjaSecurityError
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import _PassArg, generate_lorem_ipsum
    from jinja2.visitor import NodeTransformer

    class LimitExceeded(JinjaSecurityError):
        """A budget of the sandbox was exceeded."""

    class Budget:
        def __init__(self, limits: RenderLimits) -> None:
            self.limits = limits
            self.deadline = time.monotonic() + limits.time_limit
            self.items = 0
            self.output = 0
            self.alloc = 0
            self.ticks = 0

        def check_time(self) -> None:
            if time.monotonic() > self.deadline:
                raise LimitExceeded(f"渲染超过 {self.limits.time_limit:g} 秒")

        def tick(self) -> None:
            self.ticks += 1
            if not self.ticks & 0x3FF:
                self.check_time()

        def add_items(self, n: int) -> None:
            self.items += n
            if self.items > self.limits.max_loop_items:
                raise LimitExceeded(f"循环次数超过上限 {self.limits.max_loop_items}")
            self.tick()

        def add_output(self, n: int) -> None:
            self.output += n
            if self.output > self.limits.max_output_chars:
                raise LimitExceeded(f"输出超过上限 {self.limits.max_output_chars} 个字符")
            self.tick()

    class Guard(NodeTransformer):
        """Wrap every for-loop iterable and every ``~`` in calls that charge the budget."""

        def visit_For(self, node: nodes.For) -> nodes.For:
            self.generic_visit(node)
            node.iter = nodes.Call(nodes.EnvironmentAttribute("djctl_iter"), [node.iter], [], None, None,
                                   lineno=node.lineno)
            return node

        def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
            self.generic_visit(node)
            node.nodes = [nodes.Call(nodes.EnvironmentAttribute("djctl_sized"), [n], [], None, None,
                                     lineno=node.lineno) for n in node.nodes]
            return nodes.Call(nodes.EnvironmentAttribute("djctl_concat"), [node], [], None, None,
                              lineno=node.lineno)

    class BoundedTemplate(jinja2.Template):
        def render(self, *args: Any, **kwargs: Any) -> str:
            budget = self.environment.budget  # type: ignore[attr-defined]
            out = []
            for chunk in self.generate(*args, **kwargs):
                budget.add_output(len(chunk))
                out.append(chunk)
            return "".join(out)

    str_ok = frozenset("""capitalize casefold center count endswith find format format_map index isalnum
        isalpha isascii isdecimal isdigit isidentifier islower isnumeric isprintable isspace istitle isupper
        join ljust lower lstrip partition removeprefix removesuffix replace rfind rindex rjust rpartition
        rsplit rstrip split splitlines startswith strip swapcase title upper zfill encode decode hex
        escape unescape striptags""".split())

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "**", "%"})
        template_class = BoundedTemplate

        def __init__(self, limits: RenderLimits, **kwargs: Any) -> None:
            super().__init__(undefined=jinja2.StrictUndefined, optimized=False, finalize=self.djctl_sized, **kwargs)
            self.limits = limits
            self.budget = Budget(limits)
            self.globals["range"] = self.djctl_range
            self.globals["lipsum"] = self.djctl_lipsum
            self.filters = {name: self._guard_filter(name, f) for name, f in self.filters.items()}

        # --- the AST pass and its hooks
        def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
            tree = Guard().visit(super()._parse(source, name, filename))
            tree.set_environment(self)
            return tree

        def djctl_iter(self, iterable: Any) -> Any:
            if isinstance(iterable, jinja2.Undefined):
                return iterable
            return self._iter(iterable)

        def _iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
            budget = self.budget
            for item in iterable:
                budget.add_items(1)
                yield item

        def djctl_sized(self, value: Any) -> Any:
            """Refuse a value whose text form would be too large, before str() builds it."""
            if not isinstance(value, (str, int, float, Decimal, type(None), jinja2.Undefined)):
                if self._estimate(value) > self.limits.max_string_chars:
                    raise LimitExceeded(f"数据转为文本后将超过 {self.limits.max_string_chars} 个字符")
            return value

        def _estimate(self, value: Any, depth: int = 0) -> int:
            """About len(str(value)), stopping as soon as it passes the string limit."""
            cap = self.limits.max_string_chars
            if isinstance(value, (str, bytes)):
                return len(value) + 2
            if _is_int(value):
                return value.bit_length() // 3 + 2
            if isinstance(value, (list, tuple, set, frozenset, dict)):
                if depth > 50:
                    raise LimitExceeded("数据嵌套过深")
                total = 2
                items = value.items() if isinstance(value, dict) else ((v, None) for v in value)
                for k, v in items:
                    total += self._estimate(k, depth + 1) + (self._estimate(v, depth + 1) if v is not None else 0) + 2
                    if total > cap:
                        return total
                return total
            return 64

        def djctl_concat(self, value: Any) -> Any:
            self._check_len(value)
            return value

        def djctl_range(self, *args: int) -> range:
            rng = range(*args)
            if len(rng) > self.limits.max_range:
                raise LimitExceeded(f"range() 最多 {self.limits.max_range} 项，模板请求了 {len(rng)} 项")
            return rng

        def djctl_lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
            if not (0 <= n <= 100 and 0 < min <= max <= 1000):
                raise LimitExceeded("lipsum() 参数超出范围")
            return generate_lorem_ipsum(n, html, min, max)

        # --- budgets on every call, attribute, item and operator
        def getattr(self, obj: Any, attribute: str) -> Any:
            self.budget.tick()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            self.budget.tick()
            return super().getitem(obj, argument)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            __self.budget.tick()
            if isinstance(__obj, LoopContext) and args:
                args = (__self._iter(args[0]), *args[1:])
            args = __self._check_call(__obj, args, kwargs)
            result = super().call(__context, __obj, *args, **kwargs)
            __self._check_len(result)
            return result

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.budget.tick()
            lim = self.limits
            if operator == "*":
                seq, n = (left, right) if _is_int(right) else (right, left) if _is_int(left) else (None, None)
                if isinstance(seq, (str, bytes)) and n * len(seq) > lim.max_string_chars:
                    raise LimitExceeded(f"字符串重复后超过 {lim.max_string_chars} 个字符")
                if isinstance(seq, (list, tuple)) and n * len(seq) > lim.max_seq_items:
                    raise LimitExceeded(f"列表重复后超过 {lim.max_seq_items} 项")
                if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > lim.max_int_bits:
                    raise LimitExceeded("整数乘法结果过大")
            elif operator == "**":
                if _is_int(left) and _is_int(right) and abs(left) > 1 and right > 0:
                    if right > lim.max_int_bits or right * left.bit_length() > lim.max_int_bits:
                        raise LimitExceeded("乘方结果过大")
            elif operator == "+":
                if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
                    if len(left) + len(right) > lim.max_string_chars:
                        raise LimitExceeded(f"字符串拼接后超过 {lim.max_string_chars} 个字符")
                elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
                    if len(left) + len(right) > lim.max_seq_items:
                        raise LimitExceeded(f"列表拼接后超过 {lim.max_seq_items} 项")
            elif operator == "%" and isinstance(left, str):
                self._check_percent(left, right)
            result = super().call_binop(context, operator, left, right)
            self._check_len(result)
            return result

        # --- checks
        def _check_len(self, value: Any) -> None:
            if isinstance(value, (str, bytes)):
                if len(value) > self.limits.max_string_chars:
                    raise LimitExceeded(f"字符串超过 {self.limits.max_string_chars} 个字符")
                self.budget.alloc += len(value)
                if self.budget.alloc > self.limits.max_alloc_chars:
                    raise LimitExceeded(f"模板生成的字符串总量超过 {self.limits.max_alloc_chars} 个字符")

        def _check_call(self, obj: Any, args: tuple, kwargs: dict) -> tuple:
            target = getattr(obj, "__wrapped__", obj)   # the sandbox wraps str.format in a function
            owner = getattr(target, "__self__", None)
            if not isinstance(owner, (str, bytes)):
                return args
            name = getattr(target, "__name__", "")
            if name not in str_ok:
                raise LimitExceeded(f"模板中不允许调用字符串方法 {name}()")
            lim = self.limits
            ints = [a for a in (*args, *kwargs.values()) if _is_int(a)]
            if name in ("format", "format_map"):
                self._check_brace(owner, args, kwargs)
            elif any(abs(i) > lim.max_string_chars for i in ints):
                raise LimitExceeded("字符串方法的数值参数过大")
            if name == "replace" and args:
                old, new = (*args, "")[:2]
                hits = (len(owner) + 1) if not old else owner.count(old)
                if len(owner) + hits * len(new) > lim.max_string_chars:
                    raise LimitExceeded(f"replace() 结果将超过 {lim.max_string_chars} 个字符")
            if name == "join" and args:
                items = list(self._iter(args[0]))
                total = sum(self._estimate(x) for x in items) + len(owner) * len(items)
                if total > lim.max_string_chars:
                    raise LimitExceeded(f"join() 结果将超过 {lim.max_string_chars} 个字符")
                args = (items, *args[1:])
            return args

        def _check_brace(self, fmt: str, args: tuple, kwargs: dict) -> None:
            lim = self.limits
            try:
                fields = list(string.Formatter().parse(fmt))
            except ValueError:
                return  # format() itself will refuse it
            values = list(args) + list(kwargs.values())
            if values and len(values) == 1 and isinstance(values[0], Mapping):
                values = list(values[0].values())
            for v in values:
                self.djctl_sized(v)
            widths, nested = 0, 0
            for _, field, spec, _ in fields:
                if field is None or not spec:
                    continue
                if "{" in spec:
                    nested += 1
                widths += sum(int(d) for d in re.findall(r"\d+", spec))
            ints = [abs(v) for v in values if _is_int(v)]
            if widths > lim.max_string_chars or (nested and ints and nested * max(ints) > lim.max_string_chars):
                raise LimitExceeded("format() 的宽度或精度过大")

        def _check_percent(self, fmt: str, args: Any) -> None:
            lim = self.limits
            self.djctl_sized(args)
            args = args if isinstance(args, tuple) else (args,)
            specs = re.findall(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?", fmt)
            widths = sum(int(x) for s in specs for x in s if x.isdigit())
            star = any("*" in s for s in specs)
            if widths > lim.max_string_chars:
                raise LimitExceeded("% 格式化的宽度或精度过大")
            if star and any(_is_int(a) and abs(a) > lim.max_range for a in args):
                raise LimitExceeded("% 格式化的宽度或精度过大")

        def _guard_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
            skip = 1 if _PassArg.from_obj(func) is not None else 0
            sized = {"center", "indent", "wordwrap", "truncate", "batch", "slice", "round", "urlize"}
            textual = {"string", "e", "escape", "forceescape", "pprint", "tojson", "safe", "urlencode", "xmlattr",
                       "format", "center", "indent", "wordwrap", "truncate", "title", "upper", "lower",
                       "capitalize", "trim", "striptags", "replace", "urlize", "wordcount"}
            slow = {"wordwrap", "urlize", "title", "wordcount", "truncate"}

            @wraps(func)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                env = self
                env.budget.tick()
                value, rest = (args[skip] if len(args) > skip else None), args[skip + 1:]
                lim = env.limits
                if name in sized:
                    for a in (*rest, *kwargs.values()):
                        if _is_int(a) and abs(a) > lim.max_range:
                            raise LimitExceeded(f"过滤器 {name} 的参数过大")
                if name in textual:
                    for a in (value, *rest, *kwargs.values()):
                        env.djctl_sized(a)
                if name in slow and isinstance(value, str) and len(value) > lim.max_slow_filter_chars:
                    raise LimitExceeded(f"过滤器 {name} 的输入过长")
                starts = (*rest[1:], *[v for k, v in kwargs.items() if k == "start"])
                if name == "sum" and not all(isinstance(a, (int, float, Decimal)) for a in starts):
                    raise LimitExceeded("sum 的 start 只能是数字")
                if name == "indent" and isinstance(value, str):
                    width = rest[0] if rest else kwargs.get("width", 4)
                    pad = len(width) if isinstance(width, str) else int(width) if _is_int(width) else 4
                    if len(value) + (value.count("\n") + 1) * pad > lim.max_string_chars:
                        raise LimitExceeded("indent 结果过大")
                elif name == "replace" and len(rest) >= 2:
                    text, old, new = str(value), str(rest[0]), str(rest[1])
                    hits = (len(text) + 1) if not old else text.count(old)
                    if len(text) + hits * len(new) > lim.max_string_chars:
                        raise LimitExceeded("replace 结果过大")
                elif name == "format" and isinstance(value, str):
                    env._check_percent(value, tuple(rest) + tuple(kwargs.values()))
                elif name == "join" and value is not None and not isinstance(value, jinja2.Undefined):
                    items = list(env._iter(value))
                    sep = rest[0] if rest else kwargs.get("d", "")
                    total = sum(env._estimate(x) for x in items) + env._estimate(sep) * len(items)
                    if total > lim.max_string_chars:
                        raise LimitExceeded("join 结果过大")
                    args = (*args[:skip], items, *rest)
                result = func(*args, **kwargs)
                env._check_len(result)
                return result

            return guarded

    _SANDBOX = (Sandbox, LimitExceeded)
    return _SANDBOX


_SANDBOX: tuple[type, type] | None = None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def make_sandbox(fmt: str, limits: RenderLimits | None = None) -> Any:
    """A fresh sandboxed Jinja environment (with its own budget) for one rendering in `fmt`."""
    from markupsafe import Markup

    sandbox, _ = _sandbox_classes()
    limits = limits or DEFAULT_LIMITS
    if fmt == "md":
        # Autoescape on, but the data arrive Markdown-escaped as Markup (see `_md_context`), so only
        # template literals would be HTML-escaped; macro and loop output stays Markup and passes.
        env = sandbox(limits, autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        env.filters["md_cell"] = _md_filter(Markup, "<br>")
        env.filters["md_br"] = _md_filter(Markup, "  \n")
    elif fmt == "html":
        env = sandbox(limits, autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        env.filters["nl2br"] = _nl2br_filter(Markup)
    else:  # docx: docxtpl turns autoescape on
        env = sandbox(limits, autoescape=True)
    return env


def _md_filter(markup: type, newline: str) -> Callable[[Any], Any]:
    """``|md_cell`` / ``|md_br``: the value Markdown-escaped (unless it is Markup already, as every
    string of the context is), line breaks written as `newline`. Called once per table cell."""

    def md_filter(value: Any) -> Any:
        if type(value) is markup:
            if "\n" not in value:
                return value
            text = str(value)
        else:
            text = str(value) if isinstance(value, markup) else md_escape(cell_text(value))
        return markup(text.replace("\n", newline) if "\n" in text else text)

    return md_filter


def _nl2br_filter(markup: type) -> Callable[[Any], Any]:
    """``|nl2br``: HTML-escaped text with ``<br>`` at line breaks. Called once per table cell."""

    def nl2br(value: Any) -> Any:
        text = cell_text(value)
        if "\n" not in text:
            return markup(_xml_escape(text, quote=True))
        return markup("<br>\n".join(_xml_escape(line, quote=True) for line in text.split("\n")))

    return nl2br


def _md_context(value: Any, raw_keys: frozenset[str] = frozenset({"image"})) -> Any:
    """Every string Markdown-escaped and marked safe; values under `raw_keys` marked safe as they are.
    Equal strings (scores, groups, grades recur in every table) are escaped once."""
    from markupsafe import Markup

    memo: dict[str, Any] = {}

    def convert(v: Any) -> Any:
        if isinstance(v, str):
            out = memo.get(v)
            if out is None:
                out = memo[v] = Markup(md_escape(v))
            return out
        if isinstance(v, dict):
            return {k: (Markup(x) if k in raw_keys and isinstance(x, str) else convert(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v

    return convert(value)


_MD_CHARS = re.compile(r"([\\`*_\[\]<>|#~])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START = re.compile(r"(?m)^[ \t]*([-+=]|\d{1,9}(?=[.)](?:\s|$)))")
# Matches wherever one of the three patterns above would: text it misses is returned as it is.
_MD_ANY = re.compile(r"(?m)[\\`*_\[\]<>|#~&]|^[ \t]*(?:[-+=]|\d{1,9}[.)](?:\s|$))")


def md_escape(text: str) -> str:
    """Escape text for Markdown so it reads literally: inline markup characters get a backslash, as
    do a list marker, heading underline or entity at a line start; leading blanks are dropped."""
    if type(text) is str and _MD_ANY.search(text) is None:
        return text
    s = _MD_CHARS.sub(r"\\\1", text)
    s = _MD_ENTITY.sub(r"\\&", s)
    s = _MD_LINE_START.sub(lambda m: ("\\" + m.group(1)) if not m.group(1)[0].isdigit() else m.group(1) + "\\", s)
    return s


# ====================================================================== running templates


def _guarded(tpl: TemplateRef, limits: RenderLimits, fn: Callable[[], Any]) -> Any:
    """Run fn; for a user template in a daemon thread with a time limit, with errors mapped."""
    if not tpl.user:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=target, name="djctl-render", daemon=True)
    worker.start()
    worker.join(limits.time_limit + 5)
    if worker.is_alive():
        raise SecurityError(f"模板「{tpl.path.name}」渲染超过 {limits.time_limit:g} 秒，已中止", path=str(tpl.path),
                            hint="模板中可能有过大的循环或计算；请简化模板或改用内置模板")
    if "error" in box:
        raise _template_error(box["error"], tpl) from box["error"]
    return box["value"]


def _template_error(exc: BaseException, tpl: TemplateRef) -> DjctlError:
    from jinja2 import exceptions as jx

    if isinstance(exc, DjctlError):
        return exc
    name = tpl.path.name
    where = str(tpl.path)
    detail = str(exc)[:300]
    if isinstance(exc, jx.SecurityError):
        return SecurityError(f"模板「{name}」试图执行不允许的操作或超出资源限制，已拒绝：{detail}", path=where,
                             hint="模板只能排版 djctl 提供的数据；请检查模板或改用内置模板")
    if isinstance(exc, (OverflowError, MemoryError, RecursionError)):
        return SecurityError(f"模板「{name}」超出资源限制（{type(exc).__name__}），已拒绝", path=where)
    if isinstance(exc, jx.TemplateSyntaxError):
        return InputError(f"模板「{name}」第 {exc.lineno} 行语法错误：{exc.message}", path=where)
    if isinstance(exc, jx.UndefinedError):
        return InputError(f"模板「{name}」引用了不存在的变量或属性：{exc.message}", path=where,
                          hint="可用变量见 djctl/io/render.py 的说明，或参照内置模板")
    if isinstance(exc, jx.TemplateError):
        return InputError(f"模板「{name}」渲染失败：{detail}", path=where)
    return InputError(f"模板「{name}」渲染失败（{type(exc).__name__}：{detail}）", path=where)


def _read_text_template(tpl: TemplateRef, limits: RenderLimits) -> str:
    try:
        size = tpl.path.stat().st_size
        if size > limits.max_text_template_bytes:
            raise InputError(f"模板文件过大（{size} 字节，上限 {limits.max_text_template_bytes}）", path=str(tpl.path))
        return tpl.path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("模板文件不是 UTF-8 编码的文本", path=str(tpl.path), hint="请用 UTF-8 保存模板") from exc
    except OSError as exc:
        raise InputError(f"模板文件无法读取（{exc.strerror or exc}）", path=str(tpl.path)) from exc


def _render_text(doc: dict[str, Any], tpl: TemplateRef, fmt: str, limits: RenderLimits) -> str:
    from markupsafe import Markup

    source = _read_text_template(tpl, limits)
    env = make_sandbox(fmt, limits)
    context = _md_context(doc) if fmt == "md" else dict(doc)
    if fmt == "html":
        context = _with_figures(doc, lambda f: {"svg": Markup(bar_chart_svg(
            f["chart"]["labels"], f["chart"]["values"], max_value=f["chart"]["max_value"], title=f["caption"]))})
    template = env.from_string(source)
    return template.render(context)


def _with_figures(doc: dict[str, Any], extra: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """A shallow copy of the document whose figures carry format-specific extras."""

    def sec(s: dict[str, Any]) -> dict[str, Any]:
        return {**s, "figures": [{**f, **extra(f)} for f in s["figures"]],
                "subsections": [sec(x) for x in s["subsections"]]}

    return {**doc, "sections": [sec(s) for s in doc["sections"]],
            "attachments": [sec(s) for s in doc["attachments"]]}


# ====================================================================== xlsx


def _render_xlsx(doc: dict[str, Any]) -> bytes:
    from djctl.io.xlsx import write_table_workbook

    sheets = []
    used: set[str] = set()
    for t in _tables(doc):
        title = _unique_sheet_title(t["caption"] or f"表{t['number']}", used)
        sheets.append((title, t["columns"], t["values"]))
    if not sheets:
        sheets.append(("文档", ["标题", "发文机关", "成文日期"], [[doc["title"], doc["issuer"], doc["date"]]]))
    with tempfile.TemporaryDirectory(prefix="djctl-xlsx-") as tmp:
        path = Path(tmp) / "out.xlsx"
        write_table_workbook(path, sheets)
        return path.read_bytes()


def _unique_sheet_title(caption: str, used: set[str]) -> str:
    """A legal, unique Excel sheet name (31 characters, no []:*?/\\, no leading/trailing apostrophe)."""
    base = re.sub(r"[\[\]:*?/\\\n\t]", "_", caption).strip().strip("'") or "表"
    if base.lower() == "history":
        base = "History_"
    base = base[:31]
    title, n = base, 1
    while title.lower() in used:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


# ====================================================================== Word


_DOCX_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _check_docx_file(tpl: TemplateRef, limits: RenderLimits) -> None:
    path, where = tpl.path, str(tpl.path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"模板文件无法读取（{exc.strerror or exc}）", path=where) from exc
    if size > limits.max_docx_template_bytes:
        raise InputError(f"Word 模板过大（{size // 1048576} MB）", path=where)
    if not zipfile.is_zipfile(path):
        raise InputError("Word 模板不是有效的 .docx 文件", path=where, hint="请在 Word 中另存为 .docx（不是 .doc）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 2000:
                raise SecurityError("Word 模板内部文件过多，拒绝读取", path=where)
            total = 0
            for info in infos:
                total += info.file_size
                if total > limits.max_docx_uncompressed or (
                        info.file_size > 1048576 and info.file_size > 150 * max(info.compress_size, 1)):
                    raise SecurityError("Word 模板解压后体积过大（疑似压缩炸弹），拒绝读取", path=where)
                if info.flag_bits & 0x1:
                    raise InputError("Word 模板已加密，无法读取", path=where)
            if "word/document.xml" not in {i.filename for i in infos}:
                raise InputError("文件是 zip 但不是 Word 文档（缺少 word/document.xml）", path=where)
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as fh:
                        head = fh.read(4096)
                    root = re.search(rb"<(?![?!])", head)
                    prolog = head if root is None else head[: root.start()]
                    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
                        raise SecurityError(f"Word 模板内部文件「{info.filename}」含有 DTD/实体声明，拒绝读取",
                                            path=where)
    except zipfile.BadZipFile as exc:
        raise InputError(f"Word 模板已损坏（{exc}）", path=where) from exc


def _render_docx(doc: dict[str, Any], tpl: TemplateRef, limits: RenderLimits, *, splice_tables: bool = True) -> bytes:
    """The Word document. Tables are not laid out through docxtpl: the body carries one placeholder
    paragraph per table, docxtpl renders the template around it, and the table XML is streamed into
    the saved package in its place (`_splice_tables`). docxtpl would otherwise re-parse, re-map and
    re-serialise every table cell (most of the time and memory for a table of thousands of rows).
    ``splice_tables=False`` keeps the tables inline through docxtpl (the equivalence tests' reference:
    both ways give the same word/document.xml byte for byte)."""
    from docxtpl import DocxTemplate
    from jinja2.exceptions import SecurityError as JinjaSecurityError
    from markupsafe import Markup

    class SafeDocxTemplate(DocxTemplate):
        def render_xml_part(self, src_xml: str, part: Any, context: Any, jinja_env: Any = None) -> str:
            out = super().render_xml_part(src_xml, part, context, jinja_env)
            if _DOCX_DTD.search(out):
                raise JinjaSecurityError("rendered XML declares a DTD or entity")
            return out

    if tpl.user:
        _check_docx_file(tpl, limits)
    try:
        docx_tpl = SafeDocxTemplate(str(tpl.path))
        document = docx_tpl.get_docx()
    except DjctlError:
        raise
    except Exception as exc:
        raise InputError(f"Word 模板无法打开（{type(exc).__name__}）", path=str(tpl.path),
                         hint="请在 Word 中打开并重新保存为 .docx") from exc
    builder = _DocxBuilder(document, splice_tables=splice_tables)
    context = {k: v for k, v in doc.items()}
    context["body"] = Markup(builder.body(doc))
    context["attachments_body"] = Markup(builder.attachments(doc))
    env = make_sandbox("docx", limits)
    docx_tpl.render(context, jinja_env=env, autoescape=True)
    document = docx_tpl.docx
    document.core_properties.title = doc["title"][:255]
    if doc["issuer"]:
        document.core_properties.author = doc["issuer"][:255]
    buf = io.BytesIO()
    docx_tpl.save(buf)
    if not builder.tables:
        return buf.getvalue()
    # A user template's output budget covers the tables it places, as when they were part of its output.
    allowance = limits.max_output_chars - env.budget.output if tpl.user else None
    return _splice_tables(buf, builder, allowance)


def _splice_tables(package: io.BytesIO, builder: _DocxBuilder, allowance: int | None) -> bytes:
    """Copy the saved package, writing each table's XML where its placeholder paragraph ended up.

    Every part keeps its name, order, date and compression; a part that holds placeholders is written
    as a stream (the text around the placeholders, then each table row by row), so a table of any size
    is never held whole in memory. A placeholder that the template copied twice gets the table twice,
    as the inline body would have; one the template dropped leaves no table, as before. `allowance`
    (characters, None for no limit) bounds the table XML written in all.
    """
    token = builder.token.encode("ascii")
    pattern = re.compile(rb"<((?:[\w.-]+:)?)p(?: [^>]*)?><\1r><\1t>" + re.escape(token)
                         + rb"-(\d+)</\1t></\1r></\1p>")
    budget = [allowance]
    out = io.BytesIO()
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if token not in data:
                zout.writestr(info, data)
                continue
            target = zipfile.ZipInfo(info.filename, info.date_time)
            target.compress_type = info.compress_type
            target.external_attr = info.external_attr
            with zout.open(target, "w") as fh:
                pos = 0
                for m in pattern.finditer(data):
                    number = int(m.group(2))
                    if not 1 <= number <= len(builder.tables):
                        continue
                    fh.write(data[pos:m.start()])
                    # `w` is bound to the WordprocessingML namespace where the placeholder was written
                    # without a declaration; anywhere else the table declares it itself.
                    plain = m.group(0).startswith(b"<w:p><w:r><w:t>")
                    builder.write_table(fh, number - 1, declare_ns=not plain, budget=budget)
                    pos = m.end()
                fh.write(data[pos:])
    return out.getvalue()


class _DocxBuilder:
    """Lays out sections, tables and figures as WordprocessingML with the template's own styles.

    Paragraphs and tables are written as XML that names the styles by id (looked up once), which is
    far quicker than python-docx's per-paragraph style lookup; figures use python-docx's add_picture.
    With ``splice_tables`` a table becomes a placeholder paragraph in the body (see `_render_docx`)
    and its XML is written later by `write_table`.
    """

    def __init__(self, document: Any, *, splice_tables: bool = True) -> None:
        import secrets

        from docx.shared import Mm

        self.document = document
        self.splice_tables = splice_tables
        self.token = f"djctl-table-{secrets.token_hex(16)}"
        self.tables: list[tuple[list[str], list[list[str]], int]] = []
        by_name: dict[tuple[str, str], str] = {}
        for el in document.styles.element.findall(_w("style")):
            name_el = el.find(_w("name"))
            if name_el is not None and el.get(_w("styleId")):
                by_name.setdefault((el.get(_w("type")) or "paragraph", name_el.get(_w("val"), "").lower()),
                                   el.get(_w("styleId")))
        self.style_ids: dict[str, str | None] = {}
        for key, name in DOCX_STYLES.items():
            kind = "table" if key == "table" else "paragraph"
            sid = by_name.get((kind, name.lower()))
            if sid is None and key in _STYLE_FALLBACK:
                sid = by_name.get((kind, _STYLE_FALLBACK[key].lower()))
            self.style_ids[key] = sid
        try:
            sec = document.sections[-1]
            width = sec.page_width - sec.left_margin - sec.right_margin
        except (IndexError, TypeError):
            width = None
        self.text_width = int(width) if width and width > Mm(40) else int(Mm(156))

    # --- containers
    @staticmethod
    def _container() -> Any:
        from docx.oxml import OxmlElement

        return OxmlElement("w:body")

    @staticmethod
    def _xml(element: Any) -> str:
        from lxml import etree

        return "".join(etree.tostring(child, encoding="unicode") for child in element)

    def body(self, doc: dict[str, Any]) -> str:
        element = self._container()
        for s in doc["sections"]:
            self._section(element, s)
        atts = doc["attachments"]
        if len(atts) == 1:
            self._para(element, f"附件：{atts[0]['heading']}", "attachment_note")
        elif atts:
            for i, a in enumerate(atts, 1):
                prefix = "附件：" if i == 1 else "\u3000\u3000\u3000"
                self._para(element, f"{prefix}{i}. {a['heading']}", "attachment_note")
        return self._xml(element)

    def attachments(self, doc: dict[str, Any]) -> str:
        element = self._container()
        atts = doc["attachments"]
        for i, a in enumerate(atts, 1):
            extra = "" if self.style_ids["attachment_label"] else "<w:pageBreakBefore/>"
            self._para(element, "附件" if len(atts) == 1 else f"附件{i}", "attachment_label", extra)
            if a["heading"]:
                self._para(element, a["heading"], "title")
            self._content(element, a)
        if len(element) and (element[-1].tag == _w("tbl") or self._is_placeholder(element[-1])):
            self._para(element, "", "normal")
        return self._xml(element)

    def _is_placeholder(self, p: Any) -> bool:
        return p.tag == _w("p") and (p.xpath("string(.)") or "").startswith(self.token)

    # --- pieces
    def _para(self, element: Any, text: str, key: str, ppr_extra: str = "") -> Any:
        from docx.oxml import parse_xml

        sid = self.style_ids.get(key)
        style = f'<w:pStyle w:val="{_xml_attr(sid)}"/>' if sid else ""
        ppr = f"<w:pPr>{style}{ppr_extra}</w:pPr>" if style or ppr_extra else ""
        p = parse_xml(f'<w:p xmlns:w="{_W_NS}">{ppr}{_runs_xml(text, "")}</w:p>')
        element.append(p)
        return p

    def _section(self, element: Any, s: dict[str, Any]) -> None:
        if s["heading"]:
            level = min(max(int(s["level"]), 1), 3)
            self._para(element, s["heading"], f"heading{level}")
        self._content(element, s)

    def _content(self, element: Any, s: dict[str, Any]) -> None:
        for text in s["paragraphs"]:
            self._para(element, text, "body")
        for t in s["tables"]:
            self._table(element, t)
        for f in s["figures"]:
            self._figure(element, f)
        for sub in s["subsections"]:
            self._section(element, sub)

    def _table(self, element: Any, t: dict[str, Any]) -> None:
        from docx.oxml import parse_xml

        if t["caption"]:
            self._para(element, t["caption"], "table_caption")
        columns, rows = t["columns"], t["rows"]
        ncols = len(columns) or max((len(r) for r in rows), default=0)
        if ncols:
            if self.splice_tables:
                self.tables.append((columns, rows, ncols))
                element.append(parse_xml(f'<w:p xmlns:w="{_W_NS}"><w:r><w:t>{self.token}-{len(self.tables)}'
                                         "</w:t></w:r></w:p>"))
            else:
                element.append(parse_xml("".join(self._table_xml(columns, rows, ncols, declare_ns=True,
                                                                 docxtpl_text=False))))
        if t["note"]:
            self._para(element, t["note"], "table_note")

    def write_table(self, fh: Any, index: int, *, declare_ns: bool, budget: list[int | None]) -> None:
        """Write spliced table `index` (0-based) to the binary stream `fh`, in pieces of about 256 KB,
        charging `budget[0]` (characters left, None for no limit)."""
        columns, rows, ncols = self.tables[index]
        pending: list[str] = []
        size = 0
        for piece in self._table_xml(columns, rows, ncols, declare_ns=declare_ns, docxtpl_text=True):
            pending.append(piece)
            size += len(piece)
            if size >= 1 << 18:
                self._charge(budget, size)
                fh.write("".join(pending).encode("utf-8"))
                pending, size = [], 0
        self._charge(budget, size)
        fh.write("".join(pending).encode("utf-8"))

    @staticmethod
    def _charge(budget: list[int | None], size: int) -> None:
        if budget[0] is None:
            return
        budget[0] -= size
        if budget[0] < 0:
            _, limit_exceeded = _sandbox_classes()
            raise limit_exceeded("输出超过上限（模板放入的表格过多或过大）")

    def _table_xml(self, columns: list[str], rows: list[list[str]], ncols: int, *, declare_ns: bool,
                   docxtpl_text: bool) -> Iterator[str]:
        """The table as pieces of XML text: the properties and grid, then one piece per row.

        ``docxtpl_text`` applies what docxtpl's rendering does to all text it renders (``{_{`` becomes
        ``{{`` and so on), so that a spliced table reads exactly as one rendered through docxtpl."""
        widths_chars = []
        minimums = []
        measures: dict[str, tuple[int, int]] = {}
        for c in range(ncols):
            natural = minimum = None
            for x in ([columns[c]] if columns else []) + [r[c] for r in rows]:
                m = measures.get(x)
                if m is None:
                    m = measures[x] = (_display_width(x), _unbreakable_width(x))
                if natural is None:
                    natural, minimum = m
                else:
                    natural = max(natural, m[0])
                    minimum = max(minimum, m[1])
            widths_chars.append(2 if natural is None else natural)
            minimums.append(2 if minimum is None else minimum)
        del measures
        total_twips = self.text_width * 1440 // 914400
        widths = _column_widths(widths_chars, minimums, total_twips)
        long_text = [w > 24 for w in widths_chars]
        table_style = self.style_ids["table"]
        parts = [f'<w:tbl xmlns:w="{_W_NS}"><w:tblPr>' if declare_ns else "<w:tbl><w:tblPr>"]
        if table_style:
            parts.append(f'<w:tblStyle w:val="{_xml_attr(table_style)}"/>')
        parts.append(f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>')
        if not table_style:
            parts.append("<w:tblBorders>" + "".join(
                f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                for side in ("top", "left", "bottom", "right", "insideH", "insideV")) + "</w:tblBorders>")
        parts.append('<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
                     'w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>')
        parts.extend(f'<w:gridCol w:w="{w}"/>' for w in widths)
        parts.append("</w:tblGrid>")
        head = "".join(parts)
        yield _docxtpl_text(head) if docxtpl_text else head
        if columns:
            row = self._row_xml(columns, widths, "table_header", header=True, left=[False] * ncols, cache={})
            yield _docxtpl_text(row) if docxtpl_text else row
        cache: dict[tuple[int, str], str] = {}
        for r in rows:
            row = self._row_xml(r, widths, "table_text", header=False, left=long_text, cache=cache)
            yield _docxtpl_text(row) if docxtpl_text else row
        yield "</w:tbl>"

    def _row_xml(self, cells: list[str], widths: list[int], key: str, *, header: bool, left: list[bool],
                 cache: dict[tuple[int, str], str]) -> str:
        """One table row; `cache` keeps each column's cell XML by text (scores and names repeat)."""
        style_id = self.style_ids.get(key)
        ppr_style = f'<w:pStyle w:val="{_xml_attr(style_id)}"/>' if style_id else ""
        rpr = "" if style_id or not header else "<w:rPr><w:b/></w:rPr>"
        out = ["<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header
               else "<w:tr><w:trPr><w:cantSplit/></w:trPr>"]
        ncells = len(cells)
        for i, w in enumerate(widths):
            text = cells[i] if i < ncells else ""
            xml = cache.get((i, text))
            if xml is None:
                jc = '<w:jc w:val="left"/>' if left[i] else ""
                ppr = f"<w:pPr>{ppr_style}{jc}</w:pPr>" if ppr_style or jc else "<w:pPr/>"   # as lxml writes it
                xml = cache[(i, text)] = (
                    f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                    f"<w:p>{ppr}{_runs_xml(text, rpr)}</w:p></w:tc>")
                if len(cache) > 50_000:
                    cache.clear()
            out.append(xml)
        out.append("</w:tr>")
        return "".join(out)

    def _figure(self, element: Any, f: dict[str, Any]) -> None:
        from docx.shared import Emu, Mm
        from docx.text.paragraph import Paragraph

        p = Paragraph(self._para(element, "", "figure"), self.document)
        width = Emu(min(int(Mm(_FIGURE_WIDTH_MM)), self.text_width))
        p.add_run().add_picture(io.BytesIO(_png(f)), width=width)
        if f["caption"]:
            self._para(element, f["caption"], "figure_caption")
        if f["legend"]:
            self._para(element, f"注：横轴序号对应——{f['legend_text']}。", "figure_note")


def _w(tag: str) -> str:
    return f"{{{_W_NS}}}{tag}"


def _runs_xml(text: str, rpr: str) -> str:
    if not text:
        return ""
    if "\n" not in text and "\t" not in text:
        return f'<w:r>{rpr}<w:t xml:space="preserve">{_xml_escape(text, quote=False)}</w:t></w:r>'
    pieces = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append("<w:br/>")
        for j, chunk in enumerate(line.split("\t")):
            if j:
                pieces.append("<w:tab/>")
            if chunk:
                pieces.append(f'<w:t xml:space="preserve">{_xml_escape(chunk, quote=False)}</w:t>')
    return f"<w:r>{rpr}{''.join(pieces)}</w:r>"


def _xml_attr(value: str) -> str:
    """An attribute value escaped as lxml writes it (so spliced XML matches what docxtpl would save)."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _docxtpl_text(xml: str) -> str:
    """What docxtpl's `render_xml_part` does to all the XML it renders, besides running Jinja."""
    if "_" not in xml:
        return xml
    return xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")


_UNIT_TWIPS = 125   # one half-width character of 小四 (12 pt) text, with a little slack
_CELL_PAD_TWIPS = 230


def _column_widths(natural: list[int], minimum: list[int], total: int) -> list[int]:
    """Every column gets what its longest unbreakable piece needs (numbers never wrap), then the rest
    of the line is shared among the columns whose text can wrap, in proportion to what they lack."""
    mins = [min(m, n) * _UNIT_TWIPS + _CELL_PAD_TWIPS for m, n in zip(minimum, natural)]
    need = sum(mins)
    if need >= total:
        widths = [total * m // need for m in mins]
    else:
        wants = [max(0, min(n, 30) * _UNIT_TWIPS + _CELL_PAD_TWIPS - m) for n, m in zip(natural, mins)]
        spare = total - need
        if sum(wants) <= spare:
            # everything fits on one line: give the leftover to the widest text columns
            extra = [w + (spare - sum(wants)) * w // max(sum(wants), 1) for w in wants] if sum(wants) else wants
        else:
            extra = [spare * w // sum(wants) for w in wants]
        widths = [m + e for m, e in zip(mins, extra)]
    widths[-1] += total - sum(widths)
    return widths


_LATIN_TOKEN = re.compile(r"[0-9A-Za-z.,:%+\-−/]+")
_WIDE_CHAR = re.compile("[\u2e80-\U0010ffff]")   # counts twice in _display_width (ord > 0x2E7F)


def _unbreakable_width(text: str) -> int:
    """Width of the longest piece that must not wrap: a number or Latin word; CJK text may wrap after
    any character, but headers of up to four characters (名次、得分) stay on one line."""
    if not text:
        return 0
    latin = max(map(len, _LATIN_TOKEN.findall(text)), default=0)
    width = _display_width(text)
    cjk = width if width <= 8 else 4
    return max(latin, cjk)


def _display_width(text: str) -> int:
    if "\n" in text:
        text = max(text.split("\n"), key=len)
    return len(text) + len(_WIDE_CHAR.findall(text))


__all__ = [
    "DEFAULT_LIMITS", "DOCX_STYLES", "FORMATS", "RenderLimits", "TemplateRef", "cell_text", "find_template",
    "make_sandbox", "md_escape", "normalize_context", "render_document",
]
