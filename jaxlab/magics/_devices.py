"""``%devices`` and ``%where``: the devices JAX sees, and where arrays live on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.core.cpu_devices import DeviceCountError, set_cpu_devices
from jaxlab.magics._base import JaxlabMagics, evaluate, parse_line, traceback_option

if TYPE_CHECKING:  # imported when a magic runs, not when the extension loads
    from jaxlab.api.devices import DeviceReport
    from jaxlab.api.placement import Placement


@magics_class
class DeviceMagics(JaxlabMagics):
    """Devices, processes, memory, and the placement of arrays on devices."""

    @magic_arguments()
    @traceback_option
    @argument(
        "--backend",
        default=None,
        metavar="NAME",
        help="the backend to list (cpu, gpu, tpu); default: JAX's default backend",
    )
    @argument(
        "--cpu-devices",
        type=int,
        default=None,
        metavar="N",
        help="simulate N CPU devices; only possible before JAX's first computation",
    )
    @line_magic
    def devices(self, line: str = "") -> DeviceReport:
        """Every device JAX sees: platform, kind, id, process, coordinates, whether this
        process can address it, and memory in use / limit / peak where the backend reports
        it. With several processes (``jax.distributed``) it lists every process's devices.

        ``%devices --cpu-devices 8`` asks XLA for 8 CPU devices; run it before any JAX
        computation (first cell of the notebook). Returns a ``DeviceReport``
        (``.devices``, ``.addressable``, ``.processes``, ``.to_pandas()``).
        """
        from jaxlab.api.devices import BackendError, devices

        args = parse_line(self.devices, line)
        if args.cpu_devices is not None:
            self._set_cpu_devices(args.cpu_devices)
        with self.friendly_errors("devices", None, args.traceback, plain=(BackendError,)):
            return devices(args.backend)

    @staticmethod
    def _set_cpu_devices(n: int) -> None:
        if n < 1:
            raise UsageError(
                f"%devices: --cpu-devices needs a positive count, got {n}.\n"
                "  fix: ask for one device or more, e.g. `%devices --cpu-devices 8`."
            )
        try:
            set_cpu_devices(n)
        except DeviceCountError as exc:
            raise UsageError(
                f"%devices: JAX is already running with {exc.current} CPU device(s) and cannot "
                f"switch to {n}: XLA fixes the count when JAX first starts its backends.\n"
                f"  fix: restart the kernel and run `%devices --cpu-devices {n}` in its first "
                f"cell, or use the kernel from `jaxlab kernel install --cpu-devices {n}`."
            ) from None
        except Exception as exc:
            raise UsageError(f"%devices: cannot set the CPU device count: {exc}") from None

    @magic_arguments()
    @traceback_option
    @argument("expr", nargs="*", help="an array or a pytree of arrays, e.g. x or params")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def where(self, line: str = "", local_ns: dict | None = None) -> Placement:
        """Where the arrays of an expression live: ``%where x``, ``%where params``.

        For each array: shape, dtype, bytes, committed or not, the sharding and its spec,
        the devices, and a sharding grid (one colour per device; a piece held by several
        devices is striped). Returns a ``Placement``: ``.to_pandas()`` has one row per
        shard (array, device, index such as ``[0:2, 4:8]``, replica id). Arrays laid out
        otherwise than at the last ``%where`` of the same expression are pointed out.
        """
        from jaxlab.api.placement import PlacementError, placement

        args = parse_line(self.where, line)
        if not args.expr:
            raise UsageError(
                "%where needs an array or a pytree of arrays.\n"
                "  fix: name one after the magic, e.g. `%where x` or `%where params`."
            )
        value = evaluate(args.expr, self.namespace(local_ns), "where", args.traceback)
        with self.friendly_errors("where", None, args.traceback, plain=(PlacementError,)):
            placed = placement(value, name=args.expr)
        seen = self.__dict__.setdefault("_last_placements", {})
        before = seen.get(args.expr)
        if before is not None:
            placed.changes = placed.changes_since(before)
        seen[args.expr] = placed
        return placed
