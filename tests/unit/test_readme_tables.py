"""The README's magic tables list every magic jaxlab registers, each with its Python form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def registered() -> set[str]:
    pytest.importorskip("IPython")
    from jaxlab.magics import magic_classes

    names = set()
    for cls in magic_classes():
        for kind in ("line", "cell"):
            names |= set(cls.magics.get(kind, {}))
    return names


def table_magics(title: str) -> set[str]:
    """The magics named in the first column of the README table whose header is `title`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[1])
    return {m for row in rows for m in re.findall(r"%%?(\w+)", row)}


def test_the_magic_table_lists_every_magic():
    assert {"bench", "jit", "inspect", "recompiles"} <= registered()
    missing = registered() - table_magics("| magic | what it does |")
    assert not missing, f"README's magic table lacks {sorted(missing)}"


def test_every_magic_has_its_python_form_in_the_readme():
    missing = registered() - table_magics("| magic | Python |")
    assert not missing, f"README's magic/Python table lacks {sorted(missing)}"
