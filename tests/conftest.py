"""Shared test set-up: several simulated CPU devices and strict JAX checks (as in a notebook on the
jaxlab kernel), and the fixtures that start real kernels."""

from __future__ import annotations

import os
from collections.abc import Iterator

import jax
import pytest

from jaxlab.views.inspector.widget import BUNDLE
from tests.kernel._client import Kernel, install_kernelspec, install_plain_kernelspec

# tests of the live widget need its front end, which `make setup` builds when npm is there
needs_widget_bundle = pytest.mark.skipif(
    not BUNDLE.exists(),
    reason="the widgets' front end is not built (needs Node.js and npm; run `make setup`)",
)

jax.config.update("jax_num_cpu_devices", 8)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(scope="session")
def kernel_prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Jupyter data dir holding kernelspecs installed by `jaxlab kernel install`, and
    a plain `python3` one for this Python (what Colab, VS Code or a bare Jupyter give: no
    jaxlab preloaded)."""
    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    install_kernelspec(prefix, "jaxlab-test")
    install_kernelspec(prefix, "jaxlab-test-4cpu", "--cpu-devices", "4")
    install_plain_kernelspec(prefix, "python3")
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(prefix / "share" / "jupyter"), old) if p
    )
    yield str(prefix)
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.fixture(scope="module")
def kernel(kernel_prefix: str) -> Iterator[Kernel]:
    """A real ipykernel from jaxlab's kernelspec (jaxlab preloaded), shared by a test module."""
    k = Kernel("jaxlab-test")
    k.ok("import jax, jax.numpy as jnp, numpy as np")
    yield k
    k.shutdown()
