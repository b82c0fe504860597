"""IPython magics: thin adapters that parse a line, evaluate it in the user's namespace and call
jaxlab's public API. Importing this module requires IPython."""

from __future__ import annotations

import warnings
from typing import Any


def magic_classes() -> list[type]:
    from jaxlab.magics._bench import BenchMagics
    from jaxlab.magics._devices import DeviceMagics
    from jaxlab.magics._guards import GuardMagics
    from jaxlab.magics._inspect import InspectMagics
    from jaxlab.magics._ir import IRMagics
    from jaxlab.magics._kernels import KernelMagics
    from jaxlab.magics._transforms import TransformMagics

    return [
        TransformMagics,
        IRMagics,
        InspectMagics,
        BenchMagics,
        DeviceMagics,
        GuardMagics,
        KernelMagics,
    ]


def load(ipython: Any) -> None:
    """``%load_ext jaxlab``: CPU devices from the environment, the magics, the guards."""
    from jaxlab.core.cpu_devices import apply_environment
    from jaxlab.magics._guards import install

    problem = apply_environment()
    if problem:
        warnings.warn(problem, stacklevel=3)
    register(ipython)
    install(ipython)


def unload(ipython: Any) -> None:
    from jaxlab.magics._guards import uninstall

    unregister(ipython)
    uninstall(ipython)


def register(ipython: Any) -> None:
    for cls in magic_classes():
        ipython.register_magics(cls)


def unregister(ipython: Any) -> None:
    manager = ipython.magics_manager
    for cls in magic_classes():
        for kind, names in cls.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
