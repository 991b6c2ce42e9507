"""Closed-form expected error curves; see :func:`expected`.

Closed forms live in one private module per model family and register themselves with
:func:`register` under ``(model class, pool, mixing)``; :func:`available` lists them.
"""

from . import _gaussian  # noqa: F401  (registers the Gaussian-family closed forms)
from ._gaussian import gaussian_moments, split_real_fraction
from ._registry import Entry, available, expected, register

__all__ = [
    "Entry",
    "available",
    "expected",
    "gaussian_moments",
    "register",
    "split_real_fraction",
]
