"""`jaxlab kernel install` writes a kernelspec that preloads jaxlab."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jaxlab", *args], capture_output=True, text=True, check=False
    )


def test_install_into_prefix(tmp_path):
    done = run_cli("kernel", "install", "--prefix", str(tmp_path), "--name", "jl")
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/jl/kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (jaxlab)"
    assert "--ext=jaxlab.preload" in spec["argv"]
    assert spec["argv"][0] == sys.executable
    assert "env" not in spec


def test_cpu_devices_sets_environment(tmp_path):
    done = run_cli("kernel", "install", "--prefix", str(tmp_path), "--cpu-devices", "8")
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/jaxlab/kernel.json").read_text())
    assert spec["env"] == {"JAXLAB_CPU_DEVICES": "8"}
    assert "8 CPU devices" in spec["display_name"]


def test_bad_device_count_is_a_short_error(tmp_path):
    done = run_cli("kernel", "install", "--prefix", str(tmp_path), "--cpu-devices", "0")
    assert done.returncode == 2
    assert "at least 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_console_script_help():
    done = subprocess.run(
        [sys.executable, "-c", "from jaxlab.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "kernel" in done.stdout
