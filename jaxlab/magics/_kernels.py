"""``%check_kernel``: a Pallas kernel run in interpret mode on CPU against a reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.magics._base import (
    JaxlabMagics,
    evaluate,
    evaluate_call,
    literal,
    parse_line,
    static_options,
    static_values,
    traceback_option,
)

if TYPE_CHECKING:  # imported when the magic runs, not when the extension loads
    from jaxlab.api.kernels import KernelCheck


@magics_class
class KernelMagics(JaxlabMagics):
    """Check Pallas kernels against plain-JAX references."""

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("--ref", required=True, metavar="FN", help="the reference function, e.g. jnp.dot")
    @argument("--rtol", default=None, help="relative tolerance (default: from the dtypes)")
    @argument("--atol", default=None, help="absolute tolerance (default: from the dtypes)")
    @argument("expr", nargs="*", help="the kernel call, e.g. matmul(x, y)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def check_kernel(self, line: str = "", local_ns: dict | None = None) -> KernelCheck:
        """Run a function that calls ``pallas_call`` with its kernels in interpret mode on CPU
        and compare it with a reference: ``%check_kernel --ref jnp.dot matmul(x, y)``. The
        tolerance follows the dtypes (integers exactly); a mismatch names the first wrong
        output block by grid index. ``--static-argnums``/``--static-argnames`` hold arguments
        of the kernel call static, as ``jax.jit`` does. Returns a :class:`jaxlab.KernelCheck`."""
        args = parse_line(self.check_kernel, line)
        statics = static_values(args, "check_kernel")
        namespace = self.namespace(local_ns)
        call = evaluate_call(args.expr, namespace, "check_kernel", args.traceback)
        ref = evaluate(args.ref, namespace, "check_kernel", args.traceback)
        tols = {
            name: literal(value, f"--{name}", "check_kernel")
            for name, value in (("rtol", args.rtol), ("atol", args.atol))
            if value is not None
        }
        for name, value in tols.items():
            if not isinstance(value, (int, float)) or value < 0:
                raise UsageError(
                    f"%check_kernel: --{name} must be a number ≥ 0, got {value!r}.\n"
                    f"  fix: e.g. `--{name} 1e-3`."
                )
        from jaxlab.api.kernels import check_kernel

        with self.friendly_errors("check_kernel", call.name, args.traceback, plain=(TypeError,)):
            return check_kernel(call.fn, ref, *call.args, **tols, **statics, kwargs=call.kwargs)
