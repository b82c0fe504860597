"""What every jaxlab magic shares: splitting the line, evaluating calls in the user's namespace,
and turning failures into one short ``UsageError``."""

from __future__ import annotations

import ast
from argparse import Namespace
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from IPython.core.magic_arguments import argument

from jaxlab.base import scan
from jaxlab.base.format import function_name
from jaxlab.base.renamed import warn_renamed_option
from jaxlab.core.errors import Explanation, describe_value, explain

TRACEBACK_HINT = "  (add --traceback for the full traceback)"

# the options every magic shares (decorators of `@magic_arguments`)
traceback_option = argument(
    "--traceback", action="store_true", help="show the full traceback on error"
)


def static_options(fn: Callable) -> Callable:
    """``--static-argnums`` and ``--static-argnames``, as ``jax.jit`` takes them."""
    fn = argument(
        "--static-argnames",
        default=None,
        metavar="NAME[,…]",
        help="keyword arguments to treat as static",
    )(fn)
    return argument(
        "--static-argnums",
        default=None,
        metavar="N[,…]",
        help="positional arguments to treat as static",
    )(fn)


def static_values(args: Namespace, magic_name: str) -> dict[str, Any]:
    """The static-argument options of a parsed line, for jaxlab's public API."""
    return {
        "static_argnums": int_list(args.static_argnums, "--static-argnums", magic_name),
        "static_argnames": name_list(args.static_argnames),
    }


# ``--platforms`` of the magics that can lower for a platform this machine lacks
platform_option = argument(
    "--platforms",
    "--platform",
    dest="platform",
    default=None,
    metavar="NAME[,…]",
    help="lower for these platforms instead (cpu, tpu, cuda, rocm; no such device needed)",
)


def platform_values(args: Namespace, magic_name: str) -> tuple[str, ...]:
    """The platforms of ``--platforms``; a bad name is one UsageError listing the valid ones."""
    if args.platform is None:
        return ()
    from jaxlab.core.platforms import check_platforms

    try:
        return check_platforms(args.platform)
    except ValueError as exc:
        raise UsageError(f"%{magic_name}: {exc}") from None


def split_words(line: str) -> list[str]:
    """Split at whitespace outside brackets and strings: ``f(x, 'a b') --order 3`` gives
    ``["f(x, 'a b')", "--order", "3"]``. Unbalanced input still splits, best-effort."""
    return scan.words(line, scan.PYTHON)


# old spellings of options that still parse (argparse aliases); each warns once with the new one
OLD_OPTIONS = {
    "--time": "--time-budget",
    "--platform": "--platforms",
    "--bytes": "--bytes-accessed",
    "--no-roofline": "--no-peak",
}


def _warn_old_options(parser: Any, words: list[str]) -> None:
    known = parser._option_string_actions  # the option strings this magic's parser takes
    for word in words:
        old = word.split("=", 1)[0]
        if old in OLD_OPTIONS and old in known:
            warn_renamed_option(parser.prog.lstrip("%"), old, OLD_OPTIONS[old])


def parse_line(magic: Callable, line: str) -> Namespace:
    """Parse a magic's line with the parser built by its ``@magic_arguments``.

    Options may come before or after the expression; the positional words are joined back
    into ``args.expr`` (a string, possibly empty)."""
    parser = magic.parser  # type: ignore[attr-defined]
    words = split_words(line)
    _warn_old_options(parser, words)
    try:
        args = parser.parse_intermixed_args(words)
    except UsageError as exc:
        name = parser.prog.lstrip("%")
        raise UsageError(f"%{name}: {exc}. See `%{name}?` for the options.") from None
    expr = getattr(args, "expr", None)
    if isinstance(expr, list):
        args.expr = " ".join(expr).strip()
    return args


@dataclass
class Call:
    """A call expression evaluated in the user's namespace: ``fn(*args, **kwargs)``."""

    fn: Any
    args: tuple
    kwargs: dict
    fn_text: str
    text: str

    @property
    def name(self) -> str:
        return function_name(self.fn, self.fn_text)


def parse_expression(text: str, magic_name: str) -> ast.expr:
    if not text:
        raise UsageError(
            f"%{magic_name} needs an expression.\n  fix: write it after the magic, e.g. "
            f"`%{magic_name} f(x)`."
        )
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise UsageError(
            f"%{magic_name}: `{text}` is not a valid Python expression ({exc.msg}).\n"
            f"  fix: write a call such as `%{magic_name} f(x, y)`."
        ) from None


def _eval(node: ast.expr, namespace: tuple[dict, dict | None]) -> Any:
    expr = ast.Expression(body=node)
    ast.fix_missing_locations(expr)
    code = compile(expr, "<jaxlab-magic>", "eval")
    return eval(code, namespace[0], namespace[1])


def evaluate_call(
    text: str,
    namespace: tuple[dict, dict | None],
    magic_name: str,
    show_traceback: bool = False,
) -> Call:
    """Evaluate the callee and each argument of ``f(a, *b, k=c, **d)`` separately."""
    node = parse_expression(text, magic_name)
    if not isinstance(node, ast.Call):
        raise UsageError(
            f"%{magic_name} needs a call like `f(x)`, got `{text}`.\n"
            f"  fix: write the function and its arguments, e.g. `%{magic_name} f(x)`."
        )
    fn_text = ast.unparse(node.func)
    with evaluation_errors(magic_name, show_traceback):
        fn = _eval(node.func, namespace)
        if not callable(fn):
            raise UsageError(
                f"%{magic_name}: `{fn_text}` is {describe_value(fn)}, not a function.\n"
                f"  fix: call a function, e.g. `%{magic_name} f(x)` where f is defined with def."
            )
        args, kwargs = _evaluate_arguments(node, namespace)
    return Call(fn, args, kwargs, fn_text, text)


def evaluate_arguments(
    text: str,
    namespace: tuple[dict, dict | None],
    magic_name: str,
    show_traceback: bool = False,
) -> tuple[tuple, dict]:
    """An argument list such as ``x, *ys, k=2, **opts`` evaluated in the namespace."""
    if not text:
        return (), {}
    try:
        node = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError as exc:
        raise UsageError(
            f"%{magic_name}: `{text}` is not an argument list ({exc.msg}).\n"
            f"  fix: write arguments as in a call, e.g. `x, y, k=2`."
        ) from None
    assert isinstance(node, ast.Call)
    with evaluation_errors(magic_name, show_traceback):
        return _evaluate_arguments(node, namespace)


def _evaluate_arguments(node: ast.Call, namespace: tuple[dict, dict | None]) -> tuple[tuple, dict]:
    args: list[Any] = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            args.extend(_eval(arg.value, namespace))
        else:
            args.append(_eval(arg, namespace))
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            kwargs.update(_eval(kw.value, namespace))
        else:
            kwargs[kw.arg] = _eval(kw.value, namespace)
    return tuple(args), kwargs


def evaluate(
    text: str,
    namespace: tuple[dict, dict | None],
    magic_name: str,
    show_traceback: bool = False,
) -> Any:
    node = parse_expression(text, magic_name)
    with evaluation_errors(magic_name, show_traceback):
        return _eval(node, namespace)


@contextmanager
def evaluation_errors(magic_name: str, show_traceback: bool = False) -> Iterator[None]:
    """Errors while evaluating the user's expression (NameError, …) as a short UsageError
    (or the original with `show_traceback`)."""
    try:
        yield
    except UsageError:
        raise
    except Exception as exc:
        if show_traceback:
            raise
        explanation = explain(exc)
        explanation.summary = f"while evaluating the expression: {explanation.summary}"
        raise UsageError(explanation.message(prefix=f"%{magic_name}: ")) from None


def literal(text: str, option: str, magic_name: str | None = None) -> Any:
    """A Python literal option value (``0``, ``(0, None)``, ``{'a': 0}``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(
            f"{_prefix(magic_name)}{option} expects a Python literal such as 0, None or "
            f"(0, None); got `{text}`."
        ) from None


def int_list(
    text: str | None, option: str, magic_name: str | None = None
) -> tuple[int, ...] | None:
    """``"0,2"`` -> (0, 2)."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.replace(" ", "").strip("()").split(",") if part)
    except ValueError:
        raise UsageError(
            f"{_prefix(magic_name)}{option} expects integers like 0 or 0,2; got `{text}`."
        ) from None


def runs_value(text: str, magic_name: str) -> int:
    try:
        runs = int(text)
    except ValueError:
        raise UsageError(
            f"%{magic_name}: --runs expects a whole number such as 10; got `{text}`."
        ) from None
    if runs < 1:
        raise UsageError(
            f"%{magic_name}: --runs must be at least 1 (got {runs}); e.g. `--runs 10`."
        )
    return runs


def _prefix(magic_name: str | None) -> str:
    return f"%{magic_name}: " if magic_name else ""


def name_list(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def cell_label(shell: Any, filename: str) -> str | None:
    """ "In [5]" for the file name IPython gave a cell's code (IPython maps the names of the
    cells it compiled to their execution counts), else None."""
    try:
        number = shell.compile._filename_map.get(filename)
    except Exception:
        number = None
    if number is not None:
        return f"In [{number}]"
    try:
        label = shell.compile.format_code_name(filename)
    except Exception:
        return None
    if not label:
        return None
    text = label[1]
    return f"In [{text[3:-1]}]" if text.startswith("In[") and text.endswith("]") else text


class JaxlabMagics(Magics):
    """Base of jaxlab's magics classes."""

    def namespace(self, local_ns: dict | None) -> tuple[dict, dict | None]:
        return self.shell.user_ns, local_ns

    def cell_label(self, filename: str) -> str | None:
        return cell_label(self.shell, filename)

    def file_labels(self, profile: Any) -> dict[str, str]:
        """The label ("In [3]") of each notebook cell a profile's source lines are in."""
        files = {line[0] for k in profile.kernels for line, _ in k.lines if line[0]}
        files |= {user[0] for k in profile.kernels for user, _, _ in k.folded if user[0]}
        return {f: label for f in files if (label := self.cell_label(f))}

    def parse_call(
        self, magic: Callable, magic_name: str, line: str, local_ns: dict | None
    ) -> tuple[Namespace, Call, dict[str, Any]]:
        """The options of a line with a call and static-argument options, the call evaluated
        in the user's namespace, and the static options for jaxlab's API."""
        args = parse_line(magic, line)
        statics = static_values(args, magic_name)
        call = evaluate_call(args.expr, self.namespace(local_ns), magic_name, args.traceback)
        return args, call, statics

    @contextmanager
    def friendly_errors(
        self,
        magic_name: str,
        fn_name: str | None,
        show_traceback: bool,
        *,
        plain: tuple[type[BaseException], ...] = (),
        on_failure: Callable[[BaseException, Explanation], None] | None = None,
    ) -> Iterator[None]:
        """Run JAX work; on failure, raise one short UsageError (or the original with
        `show_traceback`). Errors of the `plain` types already say what to change: their
        message is shown as it is. `on_failure` may show more (an error card) first."""
        try:
            yield
        except (UsageError, KeyboardInterrupt):
            raise
        except Exception as exc:
            if show_traceback:
                raise
            if isinstance(exc, plain):
                raise UsageError(f"%{magic_name}: {exc}") from None
            explanation = explain(exc, fn_name=fn_name, cell_label=self.cell_label)
            if on_failure is not None:
                on_failure(exc, explanation)
            raise UsageError(
                explanation.message(prefix=f"%{magic_name}: ") + "\n" + TRACEBACK_HINT
            ) from None


def defined_functions(cell: str) -> list[str]:
    """Names of the functions a cell defines at top level (``def`` statements)."""
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return []
    return [
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
