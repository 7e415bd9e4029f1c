"""The render context: constants, budgets, template lookup and `normalize_context` (see the package
docstring for the context model)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError, InputError, SecurityError
from djctl.io.chart import bar_chart_png, clean_text, format_number

FORMATS = ("docx", "md", "html", "xlsx")
TEMPLATE_EXT = {"docx": "docx", "md": "md.j2", "html": "html.j2"}
BUILTIN_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
FALLBACK_KIND = "official"

# Word paragraph/table styles the body is laid out with, by role -> style name (as shown in Word).
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
        "mark": clean_text(ctx.get("mark")) or None,            # 发文机关标志 (版头)
        "cc": clean_text(ctx.get("cc")) or None,                # 抄送 (版记)
        "printer": clean_text(ctx.get("printer")) or None,      # 印发机关 (版记)
        "print_date": clean_text(ctx.get("print_date")) or None,   # 印发日期 (版记)
    })
    from djctl.io.render.official import title_lines

    doc["title_lines"] = title_lines(doc["title"])   # broken between words (2号, 20 characters a line)
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
                  "max_value": None if chart.get("max_value") is None else format_number(chart["max_value"]),
                  "x_title": clean_text(chart.get("x_title")), "y_title": clean_text(chart.get("y_title")),
                  "integer": bool(chart.get("integer"))},
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
    return bar_chart_png(chart["labels"], chart["values"], max_value=chart["max_value"],
                         integer=bool(chart.get("integer")))



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


