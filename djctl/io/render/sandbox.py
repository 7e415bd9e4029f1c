"""The Jinja sandbox every template renders in, with its budgets, and the guard that runs a user template."""

from __future__ import annotations

import re
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from functools import wraps
from html import escape as _xml_escape
from typing import Any

from djctl.errors import DjctlError, InputError, SecurityError
from djctl.io.render.context import DEFAULT_LIMITS, RenderLimits, TemplateRef, cell_text


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
                          hint="可用变量见 djctl/io/render/__init__.py 的说明，或参照内置模板")
    if isinstance(exc, jx.TemplateError):
        return InputError(f"模板「{name}」渲染失败：{detail}", path=where)
    return InputError(f"模板「{name}」渲染失败（{type(exc).__name__}：{detail}）", path=where)

