"""Benchmarking JAX against NumPy and PyTorch, timed the way JAX needs.

One concept per module: ``timer`` (the timing loop), ``stats`` (robust statistics and tests),
``convert`` (inputs for each framework), ``twins`` (NumPy/PyTorch twins of a JAX function),
``agree`` (do the outputs agree), ``variants`` (what is timed), ``point`` (one size, all
variants interleaved), ``memory`` (page faults and bytes per call), ``modes`` (separated
clusters of samples), ``processes`` and ``worker`` (fresh worker processes), ``sweep``
(sizes), ``roofline`` (peak bandwidth and achieved rates), ``machine`` (devices, threads,
versions, fingerprint), ``result`` (``BenchResult``), ``compare``, ``judge``, ``progress``
and ``runner`` (``bench``, the public entry point). Nothing here imports IPython.
"""
