"""The parts of a Word document GB/T 9704-2012 fixes: 版头, title lines, 署名 and 成文日期, 版记.

Each function returns WordprocessingML paragraphs (or a table) as text, using the template's style ids;
`djctl.io.render.docx` places them through the template's `{{p head_body }}`, `{{p signature_body }}` and
`{{p record_body }}` tags.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TWIPS_PER_MM = 1440 / 25.4
CHAR_TWIPS = 320                # one 3号 (16 pt) character
LINE_TWIPS = 579                # one line of the 22-line grid
MARK_TOP_MM = 35                # top of the 发文机关标志 below the top of the 版心
TITLE_PT = 22                   # 2号

# Words a title must not be broken inside (the titles djctl writes, and common words of official titles).
TITLE_WORDS = sorted("""关于 市直机关 直属机关 党建工作 考核情况 考核结果 考核工作 情况的通报 结果的通报 的通报 的通知
    党支部 分类定级 回头看 负面清单 第一季度 第二季度 第三季度 第四季度 季度 年度 通报 通知 公布 调度会议 会议材料
    工作委员会 机关工委 问题整改 整改情况 反馈单 专项督查 考核方案 党组织""".split(), key=len, reverse=True)
_TOKEN = re.compile(r"[0-9A-Za-z]+(?:年度|年|月|日|号)?|“[^”]{0,12}”|《[^》]{0,16}》")


def _tokens(text: str) -> list[str]:
    """The title cut into pieces that must stay whole: known words, numbers with their unit, quoted text."""
    out: list[str] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m:
            out.append(m.group(0))
            i = m.end()
            continue
        for w in TITLE_WORDS:
            if text.startswith(w, i):
                out.append(w)
                i += len(w)
                break
        else:
            out.append(text[i])
            i += 1
    return out


def _width(text: str) -> float:
    """Width in full-width characters (Latin letters and digits count a half)."""
    return sum(0.5 if ord(c) < 0x2E80 else 1.0 for c in text)


def title_lines(title: str, per_line: int = 20) -> list[str]:
    """Break a title into lines between words, never inside one, the lines as even as possible
    (梯形/菱形 rather than one full line and a short tail). `per_line` = 2号 characters of the 版心."""
    title = " ".join(title.split())
    if _width(title) <= per_line:
        return [title]
    tokens = _tokens(title)
    single = [len(t) == 1 and not t.isascii() for t in tokens]
    best: tuple[float, list[str]] | None = None
    n = len(tokens)
    for nlines in range(2, 5):
        # try every way of cutting into nlines pieces at token boundaries (titles are short)
        def cuts(start: int, left: int) -> Any:
            if left == 1:
                yield [tokens[start:]]
                return
            for k in range(start + 1, n - left + 2):
                for rest in cuts(k, left - 1):
                    yield [tokens[start:k], *rest]

        for parts in cuts(0, nlines):
            lines = ["".join(p) for p in parts]
            widths = [_width(x) for x in lines]
            if max(widths) > per_line:
                continue
            cost = max(widths) - min(widths)
            # a cut between two lone characters may split an unknown word: allowed, but last
            pos = 0
            for p in parts[:-1]:
                pos += len(p)
                if single[pos - 1] and single[pos]:
                    cost += 6
            if best is None or cost < best[0]:
                best = (cost, lines)
        if best is not None:
            return best[1]
    return [title]


def _p(style: str | None, text: str, ppr_extra: str = "", rpr: str = "", breaks: list[str] | None = None) -> str:
    style_xml = f'<w:pStyle w:val="{escape(style)}"/>' if style else ""
    ppr = f"<w:pPr>{style_xml}{ppr_extra}</w:pPr>" if style_xml or ppr_extra else ""
    lines = breaks if breaks is not None else [text]
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(x, quote=False)}</w:t>' for x in lines if x is not None)
    body = f"<w:r>{rpr}{runs}</w:r>" if any(lines) else ""
    return f'<w:p xmlns:w="{W_NS}">{ppr}{body}</w:p>'


def head_xml(doc: dict[str, Any], styles: dict[str, str | None], text_width_twips: int) -> str:
    """版头 (when the document has a 发文字号), the title in lines, and 主送."""
    out = []
    if doc.get("doc_number"):
        mark = doc.get("mark") or doc.get("issuer") or ""
        width_pt = text_width_twips / 20
        size = max(16, min(36, int(width_pt / max(_width(mark), 1))))   # the mark fits the 版心 on one line
        before = round(MARK_TOP_MM * TWIPS_PER_MM)
        out.append(_p(styles.get("issuer_mark"), mark,
                      f'<w:keepNext/><w:spacing w:before="{before}" w:after="0" w:line="{size * 20}" '
                      'w:lineRule="exact"/><w:jc w:val="center"/>',
                      f'<w:rPr><w:color w:val="FF0000"/><w:sz w:val="{size * 2}"/><w:szCs w:val="{size * 2}"/></w:rPr>'))
        out.append(_p(styles.get("doc_number"), doc["doc_number"],
                      f'<w:keepNext/><w:pBdr><w:bottom w:val="single" w:sz="12" w:space="8" w:color="FF0000"/></w:pBdr>'
                      f'<w:spacing w:before="{2 * LINE_TWIPS}" w:after="{2 * LINE_TWIPS}" w:line="{LINE_TWIPS}" '
                      'w:lineRule="exact"/><w:jc w:val="center"/>'))
    per_line = max(10, int(text_width_twips / (TITLE_PT * 20)))
    out.append(_p(styles.get("title"), "", breaks=title_lines(doc["title"], per_line)))
    if doc.get("recipients"):
        out.append(_p(styles.get("recipients"), doc["recipients"]))
    return "".join(out)


def signature_xml(doc: dict[str, Any], styles: dict[str, str | None]) -> str:
    """署名 centred over 成文日期; the date ends four characters from the right (GB/T 9704 7.3.5.1)."""
    issuer, day = doc.get("issuer") or "", doc.get("date") or ""
    if not issuer and not day:
        return ""
    right_date = 4 * CHAR_TWIPS
    offset = (_width(day) - _width(issuer)) / 2 * CHAR_TWIPS
    right_sig = max(0, round(right_date + offset))
    out = []
    if issuer:
        out.append(_p(styles.get("signature"), issuer,
                      f'<w:keepNext/><w:keepLines/><w:ind w:right="{right_sig}" w:rightChars="0" w:firstLine="0" '
                      'w:firstLineChars="0"/><w:jc w:val="right"/>'))
    # with no attachment between them, the date keeps with the 版记 that stands at the foot of its page
    keep = "<w:keepNext/>" if has_record(doc) and not doc.get("attachments") else ""
    if day:
        out.append(_p(styles.get("date"), day,
                      f'{keep}<w:keepLines/><w:ind w:right="{right_date}" w:rightChars="0" w:firstLine="0" '
                      'w:firstLineChars="0"/><w:jc w:val="right"/>'))
    return "".join(out)


RECORD_LINE_TWIPS = 440         # one line of the 版记 (4号, 14 pt characters)
RECORD_CHAR_TWIPS = 280
_NO_LINE_START = set("，、。；：！？）》”’")


def _record_lines(text: str, first: float, rest: float) -> list[str]:
    """`text` cut into lines of at most `first` (then `rest`) full-width characters, never starting a
    line with a closing mark: the 版记 breaks its own lines, so every renderer breaks them alike."""
    lines: list[str] = []
    cur, width, cap = "", 0.0, first
    for ch in text:
        w = _width(ch)
        if width + w > cap and cur:
            if ch in _NO_LINE_START and len(cur) > 1:   # take the last character along
                lines.append(cur[:-1])
                cur, width = cur[-1], _width(cur[-1])
            else:
                lines.append(cur)
                cur, width = "", 0.0
            cap = rest
        cur += ch
        width += w
    if cur:
        lines.append(cur)
    return lines


def has_record(doc: dict[str, Any]) -> bool:
    """Whether the document prints a 版记 (an 抄送 or a 印发机关)."""
    return bool(doc.get("cc") or doc.get("printer"))


def record_xml(doc: dict[str, Any], text_width_twips: int, text_height_twips: int = 12756) -> str:
    """版记: 抄送 and 印发机关/印发日期 between rules (首末条粗线、中间细线), its last rule on the last line
    of the 版心 of the last page (GB/T 9704 7.5).

    Each line group is a framed paragraph (w:framePr) positioned against the 版心 (the margins): the last
    at its bottom (yAlign), the one above it at a computed distance; the rules are the paragraphs' own
    borders (each frame one paragraph, so no border is shared between paragraphs; LibreOffice makes no
    frame of framed paragraphs whose borders differ or have a `between` rule). The frames hang from the
    empty paragraph that follows them, which ends the document: where it fits on the page of the 署名
    (or of the attachment's last lines, which keep with it) the 版记 stands at that page's foot,
    otherwise those last lines, the 署名 and the 版记 move to the next page together. Text keeps out of
    the frames' way (wrap around). The 抄送 line is broken here, its later lines aligned after the
    colon by a tab, so that Word, WPS and LibreOffice break it alike; text indents are made by the
    first-line indent and tabs, never by the paragraph indents the rules run between."""
    cc, printer, printed = doc.get("cc"), doc.get("printer"), doc.get("print_date")
    if not has_record(doc):
        return ""
    rpr = ('<w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="仿宋_GB2312"/>'
           '<w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr>')
    line, char = RECORD_LINE_TWIPS, RECORD_CHAR_TWIPS
    groups: list[tuple[int, str, str]] = []      # (lines, tabs, runs)
    if cc:
        after_colon = 4 * char                      # 左空一字, then 抄送：
        lines = _record_lines(f"抄送：{cc.rstrip('。')}。", (text_width_twips - 2 * char) / char,
                              (text_width_twips - after_colon - char) / char)
        runs = "<w:br/><w:tab/>".join(f'<w:t xml:space="preserve">{escape(x, quote=False)}</w:t>' for x in lines)
        groups.append((len(lines), f'<w:tab w:val="left" w:pos="{after_colon}"/>', runs))
    if printer:
        groups.append((1, f'<w:tab w:val="right" w:pos="{text_width_twips - char}"/>',
                       f'<w:t xml:space="preserve">{escape(printer, quote=False)}</w:t><w:tab/>'
                       f'<w:t xml:space="preserve">{escape(printed or "", quote=False)}印发</w:t>'))
    thick, thin = 8, 4                              # 首条、末条分隔线粗（0.35 mm），中间细（0.25 mm）
    heights = []
    for i, (n, _, _) in enumerate(groups):
        top = thick if i == 0 else 0
        bottom = thick if i == len(groups) - 1 else thin
        heights.append((top, bottom, n * line + (top + bottom) * 20 // 8))
    out = []
    for i, ((n, tabs, runs), (top, bottom, h)) in enumerate(zip(groups, heights)):
        if i == len(groups) - 1:
            where = 'w:yAlign="bottom"'
        else:
            where = f'w:y="{text_height_twips - sum(x[2] for x in heights[i:])}"'
        border = (f'<w:top w:val="single" w:sz="{top}" w:space="0" w:color="000000"/>' if top else "") + \
            f'<w:bottom w:val="single" w:sz="{bottom}" w:space="0" w:color="000000"/>'
        out.append(f'<w:p xmlns:w="{W_NS}"><w:pPr><w:framePr w:w="{text_width_twips}" w:wrap="around" '
                   f'w:vAnchor="margin" w:hAnchor="margin" w:xAlign="center" {where}/><w:pBdr>{border}</w:pBdr>'
                   f'<w:tabs>{tabs}</w:tabs><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" '
                   f'w:line="{line}" w:lineRule="exact"/><w:ind w:left="0" w:right="0" w:firstLine="{char}"/>'
                   f'<w:jc w:val="left"/></w:pPr><w:r>{rpr}{runs}</w:r></w:p>')
    out.append(f'<w:p xmlns:w="{W_NS}"><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" '
               'w:line="20" w:lineRule="exact"/></w:pPr></w:p>')
    return "".join(out)
