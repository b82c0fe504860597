"""The one bracket- and quote-aware scanner: where a separator sits outside brackets and
strings, and which bracket closes an open one. The magics split their lines with it, and the
HLO and StableHLO parsers their attribute lists and tuple shapes.

A `Syntax` names the brackets and quotes of a language; strings may hold backslash escapes
and, unterminated, run to the end (scanning is best-effort on malformed text). The scan
visits only brackets, quotes and separators, through one regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Syntax:
    opening: str  # bracket characters, paired by position with `closing`
    closing: str
    quotes: str  # string delimiters
    triple_quotes: bool = False  # Python's ''' and """
    lenient: bool = False  # a closing bracket with none open is ignored (typed input)

    @cached_property
    def _strings(self) -> str:
        alternatives = []
        for q in self.quotes:
            body = rf"(?:[^{re.escape(q)}\\]|\\.)*"
            if self.triple_quotes:
                t = re.escape(q * 3)
                alternatives.append(rf"{t}(?:[^\\]|\\.)*?(?:{t}|\Z)")
            alternatives.append(rf"{re.escape(q)}{body}(?:{re.escape(q)}|\Z)")
        return "|".join(alternatives)

    def pattern(self, separator: str | None) -> re.Pattern[str]:
        """Strings, brackets and (at any depth) `separator`, a regular expression."""
        return _compiled(self, separator)


_CACHE: dict[tuple[Syntax, str | None], re.Pattern[str]] = {}


def _compiled(syntax: Syntax, separator: str | None) -> re.Pattern[str]:
    key = (syntax, separator)
    pattern = _CACHE.get(key)
    if pattern is None:
        parts = [
            f"(?P<s>{syntax._strings})",
            f"(?P<o>[{re.escape(syntax.opening)}])",
            f"(?P<c>[{re.escape(syntax.closing)}])",
        ]
        if separator is not None:
            parts.append(f"(?P<sep>{separator})")
        pattern = _CACHE[key] = re.compile("|".join(parts), re.DOTALL)
    return pattern


PYTHON = Syntax("([{", ")]}", "'\"", triple_quotes=True, lenient=True)
HLO = Syntax("([{", ")]}", '"')
MLIR = Syntax("([<", ")]>", '"')  # StableHLO attributes and types: <...> nest, {...} do not


def separators(text: str, separator: str, syntax: Syntax) -> Iterator[re.Match[str]]:
    """Each match of `separator` (a regular expression) outside strings and brackets."""
    depth = 0
    for m in syntax.pattern(separator).finditer(text):
        kind = m.lastgroup
        if kind == "o":
            depth += 1
        elif kind == "c":
            depth = max(depth - 1, 0) if syntax.lenient else depth - 1
        elif kind == "sep" and depth == 0:
            yield m


def split(text: str, separator: str, syntax: Syntax) -> list[str]:
    """`text` cut at each top-level `separator` (a regular expression); empty parts kept."""
    parts = []
    start = 0
    for m in separators(text, separator, syntax):
        parts.append(text[start : m.start()])
        start = m.end()
    parts.append(text[start:])
    return parts


def find(text: str, separator: str, syntax: Syntax) -> int:
    """Index of the first top-level match of `separator`, or -1."""
    for m in separators(text, separator, syntax):
        return m.start()
    return -1


def string_end(text: str, start: int, syntax: Syntax) -> int:
    """Index of the quote closing the string that opens at `start` (the last index when
    none does)."""
    m = syntax.pattern(None).match(text, start)
    return m.end() - 1 if m is not None and m.lastgroup == "s" else len(text) - 1


def closing(text: str, start: int, syntax: Syntax) -> int:
    """Index of the bracket closing the one at `start` (the last index when none does)."""
    depth = 0
    for m in syntax.pattern(None).finditer(text, start):
        kind = m.lastgroup
        if kind == "o":
            depth += 1
        elif kind == "c":
            depth -= 1
            if depth == 0:
                return m.start()
    return len(text) - 1


def words(line: str, syntax: Syntax = PYTHON) -> list[str]:
    """`line` split at whitespace outside brackets and strings: ``f(x, 'a b') --order 3``
    gives ``["f(x, 'a b')", "--order", "3"]``."""
    return [word for word in split(line, r"\s+", syntax) if word]
