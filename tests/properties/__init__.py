"""Property tests: chex variants of every family's pure functions, the algebra of
statistics, the laws of loops, and the validation of their configuration (issue 23, part 6).

Shapes are kept in a small fixed set (see :mod:`.strategies`) so that the examples
hypothesis draws change values, not shapes, and share their compilations.
"""
