"""What a benchmark ran on: devices, thread counts, library versions."""

from __future__ import annotations

import os
import platform
import sys
from functools import cache
from typing import Any

from jaxlab.benchmarking.memory import malloc_setting

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "XLA_FLAGS",
)


@cache
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def environment() -> dict[str, Any]:
    """Devices, thread counts and versions, as plain data."""
    import jax
    import numpy as np

    devices = jax.devices()
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "default_device": str(devices[0]) if devices else None,
        "device_count": len(devices),
        "device_kind": getattr(devices[0], "device_kind", None) if devices else None,
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "threads": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
    }
    try:
        import jaxlib

        env["jaxlib"] = jaxlib.__version__
    except Exception:
        env["jaxlib"] = None
    env["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    env["malloc"] = malloc_setting()
    env["fingerprint"] = fingerprint(env)
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch"] = torch.__version__
        env["threads"]["torch"] = torch.get_num_threads()
        env["threads"]["torch_interop"] = torch.get_num_interop_threads()
    return env


def _numpy_blas() -> str | None:
    try:
        import numpy as np

        info = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{info.get('name')} {info.get('version')}".strip()
    except Exception:
        return None


def describe(env: dict[str, Any]) -> str:
    """One line: CPU, cores, device and the thread settings that matter."""
    parts = [
        f"{env.get('cpu')}",
        f"{env.get('usable_cpus')} of {env.get('cpu_count')} CPUs usable",
        f"JAX {env.get('jax')} on {env.get('default_device')}"
        + (f" ({env.get('device_count')} devices)" if (env.get("device_count") or 0) > 1 else ""),
        f"NumPy {env.get('numpy')}" + (f" ({env['numpy_blas']})" if env.get("numpy_blas") else ""),
    ]
    if env.get("torch"):
        parts.append(f"PyTorch {env['torch']} ({env['threads'].get('torch')} threads)")
    if env.get("malloc") and not env["malloc"].endswith("per-thread arenas"):
        parts.append(f"malloc: {env['malloc']}")  # not glibc's default: say so
    other = {k: v for k, v in env.get("threads", {}).items() if not k.startswith("torch")}
    if other:
        parts.append(", ".join(f"{k}={v}" for k, v in other.items()))
    return "; ".join(parts)


# what must match for two timings to be comparable (see jaxlab.judge)
FINGERPRINT = {
    "jax": "JAX",
    "jaxlib": "jaxlib",
    "xla_flags": "XLA_FLAGS",
    "cpu": "CPU",
    "backend": "backend",
    "device_kind": "device kind",
    "device_count": "device count",
    "malloc": "malloc",
}


def fingerprint(env: dict[str, Any]) -> dict[str, Any]:
    """The parts of an environment that change timings: JAX and jaxlib versions, XLA flags,
    CPU model, backend, device kind and count, and how malloc is set (glibc's per-thread
    arenas or one). Older saved results lack some keys (None)."""
    saved = env.get("fingerprint")
    if isinstance(saved, dict):
        return {k: saved.get(k) for k in FINGERPRINT}
    out = {k: env.get(k) for k in FINGERPRINT}
    if out["xla_flags"] is None:
        out["xla_flags"] = env.get("threads", {}).get("XLA_FLAGS", "")
    return out


def fingerprint_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """'JAX 0.10.1 → 0.10.2' for each fingerprint entry known on both sides that differs."""
    a, b = fingerprint(old), fingerprint(new)
    out = []
    for key, label in FINGERPRINT.items():
        if a[key] is None or b[key] is None or a[key] == b[key]:
            continue
        out.append(f"{label} {a[key] or '(none)'!s} → {b[key] or '(none)'!s}")
    return out
