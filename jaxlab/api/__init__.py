"""The public API's modules: each builds a result object from JAX and the IR models."""
