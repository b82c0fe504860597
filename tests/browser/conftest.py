"""Fixtures of the browser tests: JupyterLab in a temporary root with the test kernelspecs, and
Debian's chromium (the tests skip, saying why, where it is missing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser._lab import Lab, chromium, chromium_missing, running_lab


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = chromium_missing()
    if reason:
        print(f"browser tests skipped: {reason}")
        pytest.skip(reason)
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def lab_server(
    kernel_prefix: str, tmp_path_factory: pytest.TempPathFactory, browser
) -> Iterator[Lab]:
    """JupyterLab on a free localhost port, one for the session."""
    root = tmp_path_factory.mktemp("lab-root")
    with running_lab(root) as server:
        yield server


@pytest.fixture(scope="module")
def lab(lab_server: Lab) -> Iterator[Lab]:
    """The session's JupyterLab; notebooks use the "jaxlab-test" kernelspec. The kernels a
    test module's notebooks started are shut down after it."""
    yield lab_server
    lab_server.shutdown_kernels()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A fresh page that records any dialog (alert, confirm) it is asked to open."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    context.close()
