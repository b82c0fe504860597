"""Simulated CPU devices: several XLA CPU devices in one process, for sharding without hardware."""

from __future__ import annotations

import os

from jaxlab.base import compat as _compat
from jaxlab.core.kernelspec import CPU_DEVICES_ENV


class DeviceCountError(RuntimeError):
    """The CPU device count can no longer change in this process."""

    def __init__(self, message: str, current: int = 0, requested: int = 0):
        super().__init__(message)
        self.current = current
        self.requested = requested


def set_cpu_devices(n: int) -> None:
    """Ask JAX for `n` CPU devices. Must run before JAX creates its backends."""
    import jax

    if n < 1:
        raise ValueError(f"the number of CPU devices must be at least 1, got {n}")
    if _compat.backends_initialized():
        current = jax.local_device_count("cpu")
        if current == n:
            return
        raise DeviceCountError(
            f"JAX has already started with {current} CPU device(s), so it cannot switch to {n} "
            "in this process. Restart the kernel and set the count before the first JAX "
            f"computation: `jax.config.update('jax_num_cpu_devices', {n})`, or use the kernel "
            f"installed by `jaxlab kernel install --cpu-devices {n}`.",
            current,
            n,
        )
    jax.config.update("jax_num_cpu_devices", n)


def apply_environment() -> str | None:
    """Apply ``JAXLAB_CPU_DEVICES`` (set by the kernelspec). Returns a warning or None."""
    value = os.environ.get(CPU_DEVICES_ENV)
    if not value:
        return None
    try:
        n = int(value)
        set_cpu_devices(n)
    except ValueError:
        return f"jaxlab: ignoring {CPU_DEVICES_ENV}={value!r}: expected a positive integer"
    except DeviceCountError as exc:
        return f"jaxlab: {exc}"
    return None
