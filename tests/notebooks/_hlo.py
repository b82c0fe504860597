"""What every ``%hlo`` output of a notebook must look like: the program from its first lines."""

from __future__ import annotations

import re

HIDDEN = ("FileNames", "FunctionNames", "FileLocations", "StackFrames", "ipykernel", "tornado")


def assert_hlo_shows_the_program_first(run) -> int:
    """Every ``%hlo`` cell's output opens on the module header and the first instruction
    within a few lines, in its text and its HTML, with no stack-frame table and no frame of
    the kernel's, IPython's or jaxlab's; returns how many outputs were checked."""
    checked = 0
    for cell in run.nb.cells:
        if cell.cell_type != "code" or "%hlo" not in cell.source:
            continue
        for out in cell.outputs:
            data = out.get("data", {})
            text, html = data.get("text/plain", ""), data.get("text/html", "")
            if "HloModule" not in text:
                continue
            lines = text.strip("'\n").split("\n")
            first = next(k for k, line in enumerate(lines) if re.search(r"%[\w.\-]+ = ", line))
            assert first < 10, (cell.source, lines[: first + 1])
            for hidden in HIDDEN:
                assert hidden not in text and hidden not in html, (cell.source, hidden)
            assert not re.search(r"jaxlab/(core|api|magics)/", text + html), cell.source
            checked += 1
    assert checked, "no %hlo output"
    return checked
