"""Stands in for the ``cython`` module when Cython is not installed: the interpreted path."""

compiled = False
