"""Pygments lexers for JAX's IRs: jaxprs, StableHLO (MLIR) and XLA's HLO text.

Registered as ``pygments.lexers`` entry points, so ``pygmentize -l jaxpr`` and nbconvert find them.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

_DTYPE = r"(?:bool|pred|bf16|f8e\w+|f4e\w+|[fiuc]\d+|[su]\d+|token|key<\w+>)"
_NUMBER = r"-?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+|inf|nan)"


class JaxprLexer(RegexLexer):
    """Jaxprs as printed by ``jax.make_jaxpr``."""

    name = "Jaxpr"
    aliases = ["jaxpr"]
    filenames = ["*.jaxpr"]
    mimetypes = ["text/x-jaxpr"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (words(("lambda", "let", "in"), suffix=r"\b"), Keyword),
            # a typed variable or literal: a:f32[3,4]  or  1.0:f32[]
            (
                r"([\w']+)(:)(" + _DTYPE + r")(\[[^\]]*\])",
                bygroups(Name.Variable, Punctuation, Keyword.Type, Keyword.Type),
            ),
            # the primitive after '=': "= mul a b", "= reduce_sum[axes=(0,)] c"
            (r"(=)(\s*)([A-Za-z_][\w\-]*)", bygroups(Operator, Whitespace, Name.Function)),
            (r"(\w+)(=)", bygroups(Name.Attribute, Operator)),
            (r"'[^']*'|\"[^\"]*\"", String),
            (_NUMBER + r"\b", Number),
            (r"[{}()\[\],;.:]", Punctuation),
            (r"[\w']+", Name.Variable),
            (r".", Text),
        ]
    }


class StableHloLexer(RegexLexer):
    """StableHLO / MLIR text as printed by ``Lowered.as_text()``."""

    name = "StableHLO"
    aliases = ["stablehlo", "mlir"]
    filenames = ["*.mlir"]
    mimetypes = ["text/x-stablehlo"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*?$", Comment.Single),
            (r"#loc\d*", Comment.Preproc),
            (r"\bloc\(", Comment.Preproc, "loc"),
            (r'"(?:[^"\\]|\\.)*"', String),
            (r"%[\w.#$\-]+", Name.Variable),
            (r"@[\w.$\-]+", Name.Function),
            (
                r"\b(?:stablehlo|mhlo|chlo|func|sdy|shardy|tensor|arith|sharding)\.[\w.]+",
                Name.Builtin,
            ),
            (r"\b(?:module|func|return|attributes|public|private|dense|array)\b", Keyword),
            (r"\b(?:tensor|vector|memref|tuple|complex|index|none)\b", Keyword.Type),
            (r"\b(?:i\d+|ui\d+|si\d+|f\d+|bf16|f8E\w+)\b", Keyword.Type),
            (r"(\w+)(\s*)(=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (_NUMBER + r"\b", Number),
            (r"0x[0-9A-Fa-f]+", Number.Hex),
            (r"->|=|:|x(?=\w)", Operator),
            (r"[{}()\[\]<>,]", Punctuation),
            (r"[\w.]+", Name),
            (r".", Text),
        ],
        "loc": [
            (r"\(", Comment.Preproc, "#push"),
            (r"\)", Comment.Preproc, "#pop"),
            (r'"(?:[^"\\]|\\.)*"', String.Doc),
            (r"[^()\"]+", Comment.Preproc),
        ],
    }


class HloLexer(RegexLexer):
    """XLA HLO text as printed by ``Compiled.as_text()``."""

    name = "HLO"
    aliases = ["hlo", "xla-hlo"]
    filenames = ["*.hlo"]
    mimetypes = ["text/x-hlo"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*?$", Comment.Single),
            (r"/\*.*?\*/", Comment.Multiline),
            (r"\b(?:HloModule|ENTRY|ROOT)\b", Keyword),
            (r"\b(?:FileNames|FunctionNames|FileLocations|StackFrames)\b", Keyword.Namespace),
            (r"(metadata)(=)(\{)", bygroups(Name.Attribute, Operator, Comment.Preproc), "meta"),
            (r'"(?:[^"\\]|\\.)*"', String),
            (r"%[\w.\-]+", Name.Variable),
            (r"\b" + _DTYPE + r"(?=\[)", Keyword.Type),
            (r"\bk(?:Loop|Input|Output|Custom)\b", Name.Constant),
            # opcode: a word followed by '(' after a shape
            (r"([a-z][\w\-]*)(\()", bygroups(Name.Function, Punctuation)),
            (r"(\w+)(=)", bygroups(Name.Attribute, Operator)),
            (_NUMBER + r"\b", Number),
            (r"->|=", Operator),
            (r"[{}()\[\],:]", Punctuation),
            (r"[\w.\-]+", Name),
            (r".", Text),
        ],
        "meta": [
            (r"\}", Comment.Preproc, "#pop"),
            (r'"(?:[^"\\]|\\.)*"', String.Doc),
            (r"[^}\"]+", Comment.Preproc),
        ],
    }


LEXERS = {"jaxpr": JaxprLexer, "stablehlo": StableHloLexer, "hlo": HloLexer}
