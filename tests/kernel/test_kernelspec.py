"""The kernelspec installed by `jaxlab kernel install` starts a kernel with jaxlab ready."""

from __future__ import annotations

import pytest

from tests.kernel._client import Kernel

pytestmark = pytest.mark.kernel


def test_cpu_devices_option_gives_that_many_devices(kernel_prefix):
    k = Kernel("jaxlab-test-4cpu")
    try:
        k.ok("import jax")
        assert k.value("jax.device_count()") == 4
        assert k.value("'jaxlab.preload' in get_ipython().extension_manager.loaded")
        # a notebook's `%load_ext jaxlab` is silent here and changes nothing
        result = k.ok("%load_ext jaxlab")
        assert result.stdout == "" and result.stderr == ""
        assert k.value("jax.device_count()") == 4
    finally:
        k.shutdown()
