"""The real-GPU checks of ``benchmarks/gpu_check.py`` as tests: each check passes on a CUDA
machine; elsewhere they skip, saying why."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        jax.default_backend() != "gpu",
        reason=f"needs a CUDA GPU; JAX's backend here is {jax.default_backend()}",
    ),
]


def load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS = load().CHECKS


@pytest.mark.parametrize("index", range(len(CHECKS)), ids=[name for name, _ in CHECKS])
def test_gpu_check(index):
    gpu_check = load()
    _, check = gpu_check.CHECKS[index]
    try:
        detail = check()
    except gpu_check.Skip as exc:
        pytest.skip(str(exc))
    assert detail
