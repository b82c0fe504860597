"""What a newcomer reads first: the README opens on the set-up commands and a quick start (what to
install, five magics, the tour) before any reference, and every source quoted in the README, the
notebooks and the benchmark scripts is named by what it is."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
FIRST_SCREEN = 40  # lines


def test_the_readme_opens_on_the_set_up_commands_then_the_quick_start():
    lines = README.splitlines()
    assert lines[0] == "# jaxlab"
    assert lines[2:6] == [
        "```bash",
        "make lab    # set up .venv and open JupyterLab on notebooks/tour.ipynb, jaxlab ready",
        "make test   # set up .venv and run the whole test suite",
        "```",
    ]
    headings = [(n, line) for n, line in enumerate(lines) if line.startswith("## ")]
    assert headings[0][1] == "## Quick start" and headings[0][0] < 10
    start = headings[0][0]
    end = headings[1][0]
    assert end <= FIRST_SCREEN, "the quick start must fit on the first screen"
    quick = "\n".join(lines[start:end])
    assert "pip install ." in quick and "jupyter lab notebooks/tour.ipynb" in quick
    assert "%load_ext jaxlab" in quick
    magics = [m for m in re.findall(r"^%(\w+) ", quick, re.M) if m != "load_ext"]
    assert len(magics) == 5 and len(set(magics)) == 5, magics
    # the quick start's magics are ones the reference documents
    for magic in magics:
        assert README.count(f"`%{magic}") >= 1, magic
    code_lines = [line for line in quick.splitlines() if line and not line.startswith(("#", "`"))]
    assert len(code_lines) <= 16, code_lines


def _reader_facing() -> list[tuple[str, str]]:
    """(where, text) of every text a reader of the project meets."""
    out = [("README.md", README)]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        out.append((path.name, "\n".join(cell.source for cell in nb.cells)))
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        out.append((f"benchmarks/{path.name}", path.read_text()))
    return out


@pytest.mark.parametrize("where_text", _reader_facing(), ids=lambda wt: wt[0])
def test_sources_are_named_by_what_they_are(where_text):
    where, text = where_text
    # "the seed article", "the seed function", "bench_seed_…": a word with no meaning to a reader
    assert not re.search(r"seed", re.sub(r"random\.seed|seed=|PRNG seed", "", text), re.I), where
    # "the article" without saying which
    assert not re.search(r"\bthe (other )?articles?\b", text, re.I), where
