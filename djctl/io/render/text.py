"""Markdown and HTML from Jinja templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from djctl.errors import InputError
from djctl.io.chart import bar_chart_svg
from djctl.io.render.context import RenderLimits, TemplateRef
from djctl.io.render.sandbox import make_sandbox, md_escape


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


# The official HTML lays the body out 156 mm (590 px) wide: an SVG of this width is drawn at its own size,
# so its 14 px labels stay 14 px (a 960 px SVG shrunk to fit would print them at 8.6 px).
HTML_FIGURE_PX = 580


def _render_text(doc: dict[str, Any], tpl: TemplateRef, fmt: str, limits: RenderLimits) -> str:
    from markupsafe import Markup

    source = _read_text_template(tpl, limits)
    env = make_sandbox(fmt, limits)
    context = _md_context(doc) if fmt == "md" else dict(doc)
    if fmt == "html":
        context = _with_figures(doc, lambda f: {"svg": Markup(bar_chart_svg(
            f["chart"]["labels"], f["chart"]["values"], width=HTML_FIGURE_PX, height=320,
            max_value=f["chart"]["max_value"], title=f["caption"],
            integer=bool(f["chart"].get("integer")), x_title=f["chart"].get("x_title") or None,
            y_title=f["chart"].get("y_title") or None))})
    template = env.from_string(source)
    return template.render(context)


def _with_figures(doc: dict[str, Any], extra: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """A shallow copy of the document whose figures carry format-specific extras."""

    def sec(s: dict[str, Any]) -> dict[str, Any]:
        return {**s, "figures": [{**f, **extra(f)} for f in s["figures"]],
                "subsections": [sec(x) for x in s["subsections"]]}

    return {**doc, "sections": [sec(s) for s in doc["sections"]],
            "attachments": [sec(s) for s in doc["attachments"]]}


