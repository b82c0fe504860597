"""binder/ alone is enough: a fresh virtual environment built from its files runs the tour."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def copy_repository(dest: Path) -> None:
    """The repository's files as a fresh clone would have them (git's, not build output)."""
    try:
        files = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=REPO,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git"))
        return
    for name in filter(None, files):
        if not (REPO / name).is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    tail = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{tail}"


def test_binder_environment_runs_the_tour(tmp_path):
    repo = tmp_path / "repo"
    copy_repository(repo)
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    dropped = ("JUPYTER_PATH", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "data")  # no user-level kernelspecs
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    run([*pip, "-r", "binder/requirements.txt"], env, repo)
    run(["bash", "binder/postBuild"], env, repo)

    specs = venv / "share" / "jupyter" / "kernels" / "jaxlab" / "kernel.json"
    assert specs.exists()
    # the widget's front end was bundled into the installed package
    assert list(venv.glob("lib/python*/site-packages/jaxlab/static/inspector.js"))
    # the examples' libraries, for the training notebook
    run([str(venv / "bin" / "python"), "-c", "import flax.nnx, optax"], env, repo)
    config = (tmp_path / "config" / "jupyter_server_config.py").read_text()
    assert "/lab/tree/notebooks/tour.ipynb" in config

    out = tmp_path / "tour-executed.ipynb"
    run(
        [
            str(venv / "bin" / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "notebooks/tour.ipynb",
            "--output",
            str(out),
        ],
        env,
        repo,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("0.4199743" in o.get("text", "") for o in outputs)
