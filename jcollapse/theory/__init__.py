"""Closed-form expected error curves; see :func:`expected`."""
