"""A real ipykernel started through jupyter_client, with helpers to run cells and read values."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

HIDDEN = ("In", "Out", "exit", "quit", "get_ipython", "open")


@dataclass
class CellResult:
    """What one execute request produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)  # execute_result / display_data
    error: dict[str, Any] | None = None
    execution_count: int | None = None  # the cell's number, In[N]

    @property
    def html(self) -> str:
        return "".join(d.get("text/html", "") for d in self.data)

    @property
    def text(self) -> str:
        return "".join(d.get("text/plain", "") for d in self.data)


def install_kernelspec(prefix: Path, name: str, *extra: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxlab",
            "kernel",
            "install",
            "--prefix",
            str(prefix),
            "--name",
            name,
            *extra,
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def install_plain_kernelspec(prefix: Path, name: str) -> None:
    """ipykernel's own kernelspec for this Python (no jaxlab preloaded)."""
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", name],
        check=True,
        capture_output=True,
        text=True,
    )


class Kernel:
    """One running kernel; `run` executes a cell and collects every output message."""

    def __init__(self, kernel_name: str, env: dict[str, str] | None = None):
        self.manager, self.client = start_new_kernel(
            kernel_name=kernel_name, startup_timeout=120, env={**os.environ, **(env or {})}
        )

    def run(self, code: str, timeout: float = 300) -> CellResult:
        result = CellResult(status="")

        def hook(msg: dict[str, Any]) -> None:
            kind = msg["msg_type"]
            content = msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    result.stdout += content["text"]
                else:
                    result.stderr += content["text"]
            elif kind in ("execute_result", "display_data"):
                result.data.append(content["data"])
            elif kind == "error":
                result.error = content

        reply = self.client.execute_interactive(code, output_hook=hook, timeout=timeout)
        result.status = reply["content"]["status"]
        result.execution_count = reply["content"].get("execution_count")
        if result.status == "error" and result.error is None:
            result.error = {k: reply["content"].get(k) for k in ("ename", "evalue")}
        return result

    def run_interrupted(
        self, code: str, when: Callable[[], bool], within: float = 240
    ) -> CellResult:
        """Run a cell and press Ctrl-C (interrupt the kernel) once `when()` holds, or after
        `within` seconds."""

        def interrupt() -> None:
            deadline = time.monotonic() + within
            while not when() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.manager.interrupt_kernel()

        thread = threading.Thread(target=interrupt, daemon=True)
        thread.start()
        result = self.run(code)
        thread.join(timeout=10)
        return result

    def ok(self, code: str, timeout: float = 300) -> CellResult:
        """Run a cell that must succeed."""
        result = self.run(code, timeout)
        assert result.status == "ok", f"cell failed: {code!r}\n{result.error}\n{result.stderr}"
        return result

    def value(self, expression: str) -> Any:
        """Evaluate an expression in the kernel and return it through JSON."""
        reply = self.client.execute(
            "",
            silent=True,
            user_expressions={"v": f"__import__('json').dumps({expression})"},
            reply=True,
            timeout=120,
        )
        content = reply["content"]["user_expressions"]["v"]
        assert content["status"] == "ok", (
            f"{expression}: {content.get('ename')}: {content.get('evalue')}"
        )
        return json.loads(eval(content["data"]["text/plain"]))  # the repr of a str

    def namespace(self) -> dict[str, int]:
        """User variables and the identity of what they are bound to."""
        return dict(
            self.value(
                "sorted((k, id(v)) for k, v in globals().items() "
                f"if not k.startswith('_') and k not in {HIDDEN!r})"
            )
        )

    def fails_cleanly(self, line: str, expected: str, max_lines: int = 5) -> CellResult:
        """Run a bad magic line: one short UsageError naming `expected`, no traceback, the
        kernel alive and the user's variables untouched."""
        before = self.namespace()
        result = self.run(line)
        assert result.status == "error"
        assert result.error["ename"] == "UsageError"
        message = result.stderr
        assert expected in message, message
        assert "Traceback" not in message
        assert len(message.strip().splitlines()) <= max_lines, message
        assert self.alive()
        assert self.namespace() == before
        return result

    def alive(self) -> bool:
        if not self.manager.is_alive():
            return False
        try:
            return self.value("1 + 1") == 2
        except (queue.Empty, TimeoutError, AssertionError):
            return False

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
