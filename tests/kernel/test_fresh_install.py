"""`pip install .` into a fresh virtual environment holding only JAX, then `%load_ext jaxlab` in
a plain IPython kernel of that environment: what a user with a JAX environment of their own does.
The package's declared dependencies must be enough; nothing from the test environment leaks in
(no PYTHONPATH, no site-packages of ours)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-compile",
            *args,
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=600,
    )


def _clean_env() -> dict[str, str]:
    """This process's environment without what points at the test environment's packages."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "JAXLAB_TEST"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_clean_env())
    python = venv / "bin" / "python"
    # the test environment's JAX version, so that pip's cache serves it
    got = _pip(python, f"jax=={jax.__version__}")
    if got.returncode:
        pytest.skip(f"JAX could not be installed into a fresh venv: {got.stderr.strip()[-300:]}")
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "ipython" not in names and "jaxlab" not in names, names
    installed = _pip(python, str(ROOT))
    assert installed.returncode == 0, installed.stderr[-2000:]
    return python


def test_load_ext_in_a_plain_ipython_kernel_of_a_fresh_venv(fresh_python, tmp_path, monkeypatch):
    spec = tmp_path / "share" / "jupyter" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    argv = [str(fresh_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "fresh", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    manager, client = start_new_kernel(
        kernel_name="fresh", startup_timeout=120, env=_clean_env(), cwd=str(tmp_path)
    )
    try:
        outputs: list[dict] = []
        reply = client.execute_interactive(
            "%load_ext jaxlab\n"
            "import jax.numpy as jnp\n"
            "import jaxlab, sys\n"
            "def f(x):\n"
            "    return jnp.sin(x) * x\n"
            "print(jaxlab.__file__)\n"
            "print(sorted(m for m in ('pandas', 'flax', 'torch') if m in sys.modules))\n"
            "%jaxpr f(jnp.ones(3))",
            output_hook=outputs.append,
            timeout=300,
        )
        streams = {
            m["content"]["name"]: m["content"]["text"] for m in outputs if m["msg_type"] == "stream"
        }
        errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
        assert reply["content"]["status"] == "ok", (errors, streams)
        assert not errors and "stderr" not in streams, (errors, streams)
        printed = streams["stdout"].splitlines()
        # the installed package, not this checkout
        assert printed[0].startswith(str(fresh_python.parents[1])), printed
        assert "site-packages" in printed[0]
        assert printed[1] == "[]"
        shown = "".join(
            m["content"]["data"].get("text/plain", "")
            for m in outputs
            if m["msg_type"] in ("execute_result", "display_data")
        )
        assert "sin" in shown and "mul" in shown, shown
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
