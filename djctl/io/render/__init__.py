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
``legend_text``; Markdown figures also have ``image`` (the PNG written next to the .md, whose bars are
numbered: the legend names them), HTML figures ``svg`` (inline, labels escaped, drawn 580 px wide). In
Word a figure is a native, editable chart (`chart_docx`: a chart part with its embedded workbook) that
carries the category names and axis titles itself, so the Word layout prints no legend. In Markdown every string of the context arrives already
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

import re
from collections.abc import Sequence
from html import escape as _xml_escape  # noqa: F401 - re-exported for tests
from pathlib import Path

from djctl.errors import InputError
from djctl.io.render.context import (  # noqa: F401 - the public names and helpers tests reach
    BUILTIN_DIR,
    DEFAULT_LIMITS,
    FALLBACK_KIND,
    FORMATS,
    TEMPLATE_EXT,
    RenderLimits,
    TemplateRef,
    _check_templates_dir,
    _figures,
    _png,
    _tables,
    cell_text,
    find_template,
    normalize_context,
)
from djctl.io.render.docx import (  # noqa: F401
    DOCX_STYLES,
    _column_widths,
    _display_width,
    _DocxBuilder,
    _docxtpl_text,
    _render_docx,
    _unbreakable_width,
    _w,
)
from djctl.io.render.sandbox import _guarded, make_sandbox, md_escape
from djctl.io.render.text import _md_context, _render_text  # noqa: F401
from djctl.io.render.xlsx import _render_xlsx

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



def _write_all(out_dir: Path, outputs: list[tuple[str, bytes]]) -> list[Path]:
    """Every rendered file through the one writer: all or none of them appear (io/outfile.py)."""
    from djctl.io.outfile import write_many

    return write_many(Path(out_dir), outputs)


__all__ = [
    "DEFAULT_LIMITS", "DOCX_STYLES", "FORMATS", "RenderLimits", "TemplateRef", "cell_text", "find_template",
    "make_sandbox", "md_escape", "normalize_context", "render_document",
]
