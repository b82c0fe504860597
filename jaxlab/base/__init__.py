"""Lowest layer: the one reader of `jax._src`, quantity formatting, and how results display."""
