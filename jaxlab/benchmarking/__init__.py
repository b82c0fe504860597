"""Benchmarking JAX against NumPy and PyTorch, timed the way JAX needs.

One concept per module: ``timer`` (the timing loop), ``stats`` (robust statistics and tests),
``convert`` (inputs for each framework), ``twins`` (NumPy/PyTorch twins of a JAX function),
``agree`` (do the outputs agree), ``variants`` (what is timed), ``point`` (one size, all
variants interleaved), ``sweep`` (sizes), ``roofline`` (peak bandwidth and achieved rates),
``machine`` (devices, threads, versions), ``result`` (``BenchResult``), ``compare``,
``progress`` and ``runner`` (``bench``, the public entry point). Nothing here imports IPython.
"""
