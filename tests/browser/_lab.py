"""A real JupyterLab on a free localhost port and Debian's chromium driven by Playwright:
helpers shared by the browser tests and the benchmarks."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook(cells: list[str], kernel: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for i, c in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def copy_notebook(root: Path, name: str, kernel: str = "jaxlab-test") -> str:
    """Copy a notebook of notebooks/ into `root`, asking for `kernel`; its name."""
    nb = json.loads((NOTEBOOKS / name).read_text())
    nb["metadata"]["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    (root / name).write_text(json.dumps(nb))
    return name


def output_of(page: Any, needle: str) -> Any:
    """The output area of the code cell whose source contains `needle`."""
    index = page.evaluate(
        """(needle) => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            for (let i = 0; i < cells.length; i++) {
                const cell = cells.get(i);
                if (cell.type === 'code' && cell.sharedModel.getSource().includes(needle)) return i;
            }
            return -1;
        }""",
        needle,
    )
    assert index >= 0, f"no cell with {needle!r}"
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    output = cell.locator(".jp-OutputArea")
    output.wait_for(timeout=30_000)
    return output


def wrapped_numbers(page: Any) -> list[str]:
    """The text of every numeric table cell of jaxlab's outputs that runs over one line."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.jaxlab td.num')].filter(td => {
            const style = getComputedStyle(td);
            const line = parseFloat(style.lineHeight) || 1.4 * parseFloat(style.fontSize);
            const range = document.createRange();
            range.selectNodeContents(td);
            const rects = [...range.getClientRects()].filter(r => r.width > 0);
            const tops = new Set(rects.map(r => Math.round(r.top)));
            return td.offsetParent !== null && (tops.size > 1 || style.whiteSpace !== 'nowrap');
        }).map(td => td.textContent)"""
    )


class Lab:
    """A running JupyterLab or Notebook 7 server (started by `running_lab`)."""

    def __init__(
        self, root: Path, port: int, token: str, process: subprocess.Popen, app: str = "lab"
    ):
        self.root = root
        self.port = port
        self.token = token
        self.process = process
        self.app = app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_notebook(self, name: str, cells: list[str], kernel: str = "jaxlab-test") -> str:
        (self.root / name).write_text(json.dumps(notebook(cells, kernel)))
        return name

    def open(self, page: Any, name: str, timeout_ms: float = 120_000) -> None:
        """Open a notebook and wait until its kernel is idle."""
        if self.app == "notebook":
            url = f"{self.url}/notebooks/{name}?token={self.token}"
        else:
            workspace = secrets.token_hex(4)  # a fresh workspace: no tabs restored from others
            url = f"{self.url}/lab/workspaces/w{workspace}/tree/{name}?reset&token={self.token}"
        page.goto(url, timeout=timeout_ms)
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".connectionStatus === 'connected'",
            timeout=timeout_ms,
        )

    def run_all(self, page: Any) -> None:
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def run_to_widgets(
        self, page: Any, name: str, cells: list[str], count: int = 1, timeout_ms: float = 180_000
    ) -> Any:
        """Write a notebook of `cells`, open it and run it all; the locator of its ready
        inspector widgets, once `count` of them are ready."""
        self.open(page, self.write_notebook(name, cells))
        self.run_all(page)
        widgets = page.locator(".jl-inspector-host[data-ready='1']")
        widgets.nth(count - 1).wait_for(timeout=timeout_ms)
        return widgets

    def wait_until_executed(self, page: Any, timeout_ms: float = 300_000) -> None:
        """Wait until every code cell of the open notebook has run and the kernel is idle."""
        page.wait_for_function(
            """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const kernel = panel.sessionContext.session.kernel;
                const cells = panel.content.model.cells;
                for (let i = 0; i < cells.length; i++) {
                    const cell = cells.get(i);
                    if (cell.type === 'code' && !cell.executionCount) return false;
                }
                return kernel.status === 'idle';
            }""",
            timeout=timeout_ms,
            polling=500,
        )

    def outputs(self, page: Any) -> list[dict]:
        """The open notebook's outputs, as nbformat JSON."""
        return page.evaluate(
            """() => {
                const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
                const out = [];
                for (let i = 0; i < cells.length; i++) {
                    const cell = cells.get(i);
                    if (cell.type === 'code') out.push(...cell.outputs.toJSON());
                }
                return out;
            }"""
        )

    def shutdown_kernels(self) -> None:
        try:
            req = urllib.request.Request(f"{self.url}/api/kernels?token={self.token}", method="GET")
            kernels = json.loads(urllib.request.urlopen(req, timeout=5).read())
            for k in kernels:
                urllib.request.urlopen(
                    urllib.request.Request(
                        f"{self.url}/api/kernels/{k['id']}?token={self.token}", method="DELETE"
                    ),
                    timeout=10,
                )
        except Exception:
            pass


APP_ARGS = {
    "lab": [
        "jupyterlab",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ],
    "notebook": ["notebook", "--JupyterNotebookApp.expose_app_in_browser=True"],
}


def quiet_settings(root: Path) -> Path:
    """User settings that keep JupyterLab from asking about its news feed over the notebook."""
    settings = root / ".lab-settings"
    plugin = settings / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True, exist_ok=True)
    (plugin / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    return settings


@contextmanager
def running_lab(root: Path, startup_timeout: float = 120, app: str = "lab") -> Iterator[Lab]:
    """Start JupyterLab (or Notebook 7 with `app="notebook"`) in `root` (kernelspecs come from
    JUPYTER_PATH) and stop it after."""
    port = free_port()
    token = secrets.token_hex(16)
    log = open(root / f"jupyter-{app}.log", "w")  # noqa: SIM115 - closed in finally
    module, *app_args = APP_ARGS[app]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            *app_args,
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
            "JUPYTERLAB_SETTINGS_DIR": str(quiet_settings(root)),
        },
    )
    lab = Lab(root, port, token, process, app)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Jupyter exited: {(root / f'jupyter-{app}.log').read_text()}")
            try:
                urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Jupyter did not start in time") from None
                time.sleep(0.3)
        yield lab
    finally:
        lab.shutdown_kernels()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(target: Any, name: str) -> Path:
    """Save a screenshot of a page (all of it) or of one element, under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path


def has_dot() -> bool:
    return shutil.which("dot") is not None
