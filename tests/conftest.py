"""Test-wide JAX settings: strict rank promotion, as DESIGN.md asks.

Also lets doctests sit in Markdown fences: docstrings write examples as
```` ```python >>> ... ``` ````, and without help doctest reads the closing fence as part
of the expected output. This conftest is loaded whenever ``tests`` is on the command line
(``make test`` runs ``pytest tests jcollapse --doctest-modules``); the engine's own
docstrings also end each example with a blank line, so they pass without it.
"""

import doctest
import re

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")

_FENCE = re.compile(r"^[ \t]*```[ \t]*\n?\Z", re.MULTILINE)
_parse = doctest.DocTestParser.parse


def _parse_without_fences(self, string, name="<string>"):
    pieces = _parse(self, string, name)
    for piece in pieces:
        if isinstance(piece, doctest.Example):
            piece.want = _FENCE.sub("", piece.want)
    return pieces


doctest.DocTestParser.parse = _parse_without_fences
