"""Lowest layer: the one reader of `jax._src`, the formatting of quantities and names, the
bracket-aware scanner, and the registry through which results find their views."""
