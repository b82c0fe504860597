"""``%grad``, ``%jacfwd``, ``%jacrev``, ``%hessian``, ``%vmap`` and ``%jit``."""

from __future__ import annotations

import ast
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import (
    line_cell_magic,
    line_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.api import transforms as _transforms
from jaxlab.core.errors import describe_value
from jaxlab.magics._base import (
    JaxlabMagics,
    defined_functions,
    evaluate_call,
    int_list,
    literal,
    parse_expression,
    parse_line,
    static_options,
    static_values,
    traceback_option,
)


def say_nonfinite(value: Any, numerics: str) -> None:
    """One line when a magic's result holds NaN or Inf, with the ``%numerics`` call that finds
    where the first one is made (the check is a reduction on the device: only counts come
    back)."""
    from jaxlab.core.nonfinite import nonfinite

    found = nonfinite(value)
    if found is not None:
        print(
            f"[jaxlab] the result holds {found.counts_text()}{found.where_text()}; "
            f"find where the first one is made: {numerics}"
        )


def numerics_line(kind: str, expr: str, options: dict[str, Any]) -> str:
    """The ``%numerics`` line that instruments what a magic ran: ``%numerics --grad f(x)``
    for a gradient, ``%numerics jax.jacrev(f)(x)`` for the other transforms."""
    flags = []
    for name in ("static_argnums", "static_argnames"):
        value = options.get(name)
        if value:
            flags.append(f"--{name.replace('_', '-')} {','.join(map(str, value))}")
    if kind == "jit":
        return " ".join(["%numerics", *flags, expr])
    argnums = options.get("argnums")
    if kind == "grad" and options.get("order", 1) == 1 and not options.get("has_aux"):
        if argnums not in (None, 0):
            nums = argnums if isinstance(argnums, tuple) else (argnums,)
            flags.append(f"--argnums {','.join(map(str, nums))}")
        return " ".join(["%numerics", "--grad", *flags, expr])
    node = ast.parse(expr.strip(), mode="eval").body
    assert isinstance(node, ast.Call)
    keywords = []
    if kind == "vmap":
        for name in ("in_axes", "out_axes"):
            if options.get(name, 0) != 0:
                keywords.append(f"{name}={options[name]!r}")
    else:
        if argnums not in (None, 0):
            keywords.append(f"argnums={argnums!r}")
        if options.get("has_aux"):
            keywords.append("has_aux=True")
    fn = ast.unparse(node.func)
    for _ in range(options.get("order", 1)):
        fn = f"jax.{kind}({', '.join([fn, *keywords])})"
    node.func = ast.parse(fn, mode="eval").body
    return f"%numerics {ast.unparse(node)}"


EXPR_HELP = "the call to transform, e.g. f(x, y); evaluated in the notebook's namespace"


def _derivative_arguments(fn):
    fn = traceback_option(fn)
    fn = argument(
        "--has-aux",
        action="store_true",
        help="the function returns (value, aux); aux is passed through",
    )(fn)
    fn = argument(
        "--argnums",
        default=None,
        metavar="N[,M…]",
        help="argument(s) to differentiate with respect to (default 0)",
    )(fn)
    return fn


@magics_class
class TransformMagics(JaxlabMagics):
    """Differentiate, vectorize and compile calls with JAX's own transforms."""

    def _transform(self, kind: str, magic: Any, line: str, local_ns: dict | None) -> Any:
        args = parse_line(magic, line)
        options: dict[str, Any] = {}
        if kind == "vmap":
            options["in_axes"] = literal(args.in_axes, "--in-axes", kind)
            options["out_axes"] = literal(args.out_axes, "--out-axes", kind)
        else:
            argnums = int_list(args.argnums, "--argnums", kind)
            if argnums is not None:
                options["argnums"] = argnums[0] if len(argnums) == 1 else argnums
            options["has_aux"] = args.has_aux
            if kind != "hessian":
                options["order"] = args.order
        call = evaluate_call(args.expr, self.namespace(local_ns), kind, args.traceback)
        try:
            fn = _transforms.transformed(call.fn, kind, **options)
        except (ValueError, TypeError) as exc:
            raise UsageError(
                f"%{kind}: {str(exc).rstrip('.')}.\n  fix: see `%{kind}?` for the options."
            ) from None
        with self.friendly_errors(kind, call.name, args.traceback):
            out = fn(*call.args, **call.kwargs)
        say_nonfinite(out, numerics_line(kind, args.expr, options))
        return out

    @magic_arguments()
    @_derivative_arguments
    @argument("--order", type=int, default=1, help="apply grad this many times (default 1)")
    @argument("expr", nargs="*", help=EXPR_HELP)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def grad(self, line: str = "", local_ns: dict | None = None) -> Any:
        """The gradient of a scalar-valued function at the given arguments: ``%grad f(x)``.

        ``--order 3`` gives the third derivative (grad applied three times). The value is
        returned, so ``g = %grad f(x)`` works.
        """
        return self._transform("grad", self.grad, line, local_ns)

    @magic_arguments()
    @_derivative_arguments
    @argument("--order", type=int, default=1, help="apply jacfwd this many times (default 1)")
    @argument("expr", nargs="*", help=EXPR_HELP)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def jacfwd(self, line: str = "", local_ns: dict | None = None) -> Any:
        """The Jacobian by forward-mode differentiation: ``%jacfwd f(v)``."""
        return self._transform("jacfwd", self.jacfwd, line, local_ns)

    @magic_arguments()
    @_derivative_arguments
    @argument("--order", type=int, default=1, help="apply jacrev this many times (default 1)")
    @argument("expr", nargs="*", help=EXPR_HELP)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def jacrev(self, line: str = "", local_ns: dict | None = None) -> Any:
        """The Jacobian by reverse-mode differentiation: ``%jacrev f(v)``."""
        return self._transform("jacrev", self.jacrev, line, local_ns)

    @magic_arguments()
    @_derivative_arguments
    @argument("expr", nargs="*", help=EXPR_HELP)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def hessian(self, line: str = "", local_ns: dict | None = None) -> Any:
        """The Hessian (jacfwd of jacrev): ``%hessian f(x)``."""
        return self._transform("hessian", self.hessian, line, local_ns)

    @magic_arguments()
    @traceback_option
    @argument(
        "--out-axes", default="0", metavar="AXES", help="output axis of the batch (default 0)"
    )
    @argument(
        "--in-axes",
        default="0",
        metavar="AXES",
        help="axis to map per argument: 0, None or a tuple like (0, None) (default 0)",
    )
    @argument("expr", nargs="*", help=EXPR_HELP)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def vmap(self, line: str = "", local_ns: dict | None = None) -> Any:
        """Map a function over a batch axis: ``%vmap f(xs, y) --in-axes (0,None)``."""
        return self._transform("vmap", self.vmap, line, local_ns)

    @magic_arguments()
    @traceback_option
    @argument("--quiet", action="store_true", help="do not report compilations")
    @argument(
        "-o",
        action="store_true",
        help="return the run (.output, the value; .timings, the stage timings) rather than the "
        "value alone, as %%timeit -o does",
    )
    @argument(
        "--donate-argnums",
        default=None,
        metavar="N[,…]",
        help="arguments whose buffers XLA may reuse",
    )
    @static_options
    @argument(
        "expr",
        nargs="*",
        help="a function name (rebinds it to its jitted version) or a call f(x) to compile and run",
    )
    @no_var_expand
    @needs_local_scope
    @line_cell_magic
    def jit(self, line: str = "", cell: str | None = None, local_ns: dict | None = None) -> Any:
        """Compile with ``jax.jit``.

        ``%jit f`` rebinds ``f`` to its jitted version (the original stays in
        ``f.__wrapped__``) and reports each compilation as it happens.
        ``%jit f(x)`` compiles, runs and reports stage timings; the result is returned
        (``r = %jit -o f(x)`` returns the run: ``r.output`` and ``r.timings``)
        (with ``--donate-argnums`` the call gets a copy of the donated arrays, so ``x`` stays
        usable).
        ``%%jit`` runs the cell, then jits every function the cell defines.
        """
        args = parse_line(self.jit, line)
        options = {
            **static_values(args, "jit"),
            "donate_argnums": int_list(args.donate_argnums, "--donate-argnums", "jit"),
        }
        report = None if args.quiet else print
        if cell is not None:
            return self._jit_cell(cell, args, options, report)
        node = parse_expression(args.expr, "jit")
        if isinstance(node, ast.Name):
            return self._jit_rebind(node.id, args, options, report, local_ns)
        call = evaluate_call(args.expr, self.namespace(local_ns), "jit", args.traceback)
        with self.friendly_errors("jit", call.name, args.traceback):
            run = _transforms.jit_run(call.fn, *call.args, **options, kwargs=call.kwargs)
        if report is not None:
            report(f"[jaxlab] {run.summary()}")
        say_nonfinite(run.output, numerics_line("jit", args.expr, static_values(args, "jit")))
        return run if args.o else run.output

    def _jit_rebind(
        self, name: str, args: Any, options: dict, report: Any, local_ns: dict | None
    ) -> None:
        ns = self.shell.user_ns
        if local_ns is not None and local_ns is not ns and name in local_ns:
            # a magic cannot rebind a function's local variable; the global of that name
            # would change instead
            raise UsageError(
                f"%jit: `{name}` is a local variable here; `%jit {name}` rebinds names of the "
                "notebook's namespace only.\n"
                f"  fix: write `{name} = jax.jit({name})` inside the function."
            )
        if name not in ns:
            raise UsageError(
                f"%jit: `{name}` is not defined in the notebook's namespace.\n"
                "  fix: define the function first (def f(x): …), then run `%jit f`."
            )
        fn = ns[name]
        if not callable(fn):
            raise UsageError(
                f"%jit: `{name}` is {describe_value(fn)}, not a function.\n"
                f"  fix: name a function defined with def, e.g. `%jit f`."
            )
        try:
            jitted = _transforms.reporting_jit(fn, report, **options)
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"%jit: cannot jit `{name}`: {str(exc).rstrip('.')}.\n"
                "  fix: see `%jit?` for the options."
            ) from None
        ns[name] = jitted
        if report is not None:
            report(
                f"[jaxlab] {name} is now jax.jit({name}); compilations are reported as they "
                f"happen ({name}.__wrapped__ is the original)."
            )

    def _jit_cell(self, cell: str, args: Any, options: dict, report: Any) -> None:
        if args.expr:
            raise UsageError(
                "%%jit takes options only; the functions come from the cell body.\n"
                f"  fix: move `{args.expr}` into the cell, or drop it from the %%jit line."
            )
        result = self.shell.run_cell(cell)
        if not result.success:
            return
        names = [n for n in defined_functions(cell) if callable(self.shell.user_ns.get(n))]
        for name in names:
            self.shell.user_ns[name] = _transforms.reporting_jit(
                self.shell.user_ns[name], report, **options
            )
        if report is not None and names:
            report(f"[jaxlab] jitted {', '.join(names)}")
        if not names and report is not None:
            report("[jaxlab] %%jit: the cell defines no functions (def …) to jit")
