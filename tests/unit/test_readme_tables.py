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


def magic_options() -> set[str]:
    """Every ``--option`` some registered magic parses."""
    from jaxlab.magics import magic_classes

    found = set()
    for cls in magic_classes():
        for kind in ("line", "cell"):
            for name in cls.magics.get(kind, {}):
                parser = getattr(getattr(cls, name, None), "parser", None)
                for action in getattr(parser, "_actions", []):
                    found |= {s for s in action.option_strings if s.startswith("--")}
    return found


# options of other programs the README shows (pip, jupyter kernelspec, the benchmarks)
NOT_MAGIC = {"--user", "--sys-prefix", "--prefix", "--name", "--quick", "--xla", "--with-control"}


def test_every_option_the_readme_names_is_one_a_magic_takes_and_old_ones_say_so():
    from jaxlab.magics._base import OLD_OPTIONS

    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"(--[a-z][a-z0-9-]*)", text))
    unknown = named - magic_options() - NOT_MAGIC
    assert not unknown, f"README names options no magic takes: {sorted(unknown)}"
    for old in OLD_OPTIONS:
        for line in text.splitlines():
            if re.search(rf"`{old}`", line):
                assert "warns once" in line, f"README shows the old {old} as current: {line}"


def test_the_name_table_keywords_are_parameters_of_the_functions():
    """Every keyword in the Python column of the one-name table is a parameter of a public
    function, and every magic option in it is one a magic takes."""
    import inspect

    import jaxlab

    text = README.read_text(encoding="utf-8")
    start = text.index("| concept | Python | magic |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[2:4])
    params = set()
    for name in jaxlab.__all__:
        fn = getattr(jaxlab, name)
        if callable(fn) and not isinstance(fn, type):
            params |= set(inspect.signature(fn).parameters)
    for python, magic in rows:
        current = re.sub(r"\(was [^)]*\)", "", python)  # old spellings, kept with a warning
        for keyword in re.findall(r"`(\w+)=", current):
            assert keyword in params, f"`{keyword}=` is no parameter of a jaxlab function"
        for option in re.findall(r"`(--[a-z][a-z0-9-]*)", magic):
            assert option in magic_options(), option
