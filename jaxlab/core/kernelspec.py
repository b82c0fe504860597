"""The "Python 3 (jaxlab)" kernelspec: ipykernel with jaxlab preloaded, optionally simulating
several CPU devices."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from typing import Any

DEFAULT_NAME = "jaxlab"
CPU_DEVICES_ENV = "JAXLAB_CPU_DEVICES"


def kernel_json(
    display_name: str, cpu_devices: int | None, python: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "argv": [
            python or sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--ext=jaxlab.preload",
        ],
        "display_name": display_name,
        "language": "python",
        "metadata": {"debugger": True, "jaxlab": {"cpu_devices": cpu_devices}},
    }
    if cpu_devices:
        spec["env"] = {CPU_DEVICES_ENV: str(cpu_devices)}
    return spec


def install(
    *,
    name: str = DEFAULT_NAME,
    display_name: str | None = None,
    cpu_devices: int | None = None,
    user: bool = False,
    prefix: str | None = None,
) -> str:
    """Install the kernelspec and return the directory it went to.

    Without `user` or `prefix` it goes to this Python's prefix (the virtual environment).
    """
    from jupyter_client.kernelspec import KernelSpecManager

    if cpu_devices is not None and cpu_devices < 1:
        raise ValueError(f"--cpu-devices must be at least 1, got {cpu_devices}")
    if display_name is None:
        display_name = "Python 3 (jaxlab)"
        if cpu_devices:
            display_name = f"Python 3 (jaxlab, {cpu_devices} CPU devices)"
    if not user and prefix is None:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, name)
        os.makedirs(src)
        with open(os.path.join(src, "kernel.json"), "w") as f:
            json.dump(kernel_json(display_name, cpu_devices), f, indent=1)
        _copy_logos(src)
        return KernelSpecManager().install_kernel_spec(
            src, kernel_name=name, user=user, prefix=None if user else prefix
        )


def _copy_logos(dest: str) -> None:
    """Reuse ipykernel's logos so the launcher shows a Python icon."""
    try:
        import ipykernel

        resources = os.path.join(os.path.dirname(ipykernel.__file__), "resources")
        for fname in os.listdir(resources):
            if fname.startswith("logo"):
                shutil.copy(os.path.join(resources, fname), dest)
    except Exception:
        pass
