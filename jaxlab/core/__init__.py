"""JAX machinery: stages, jit, compile events, analyses of compiled programs, CPU devices and
explanations of JAX errors."""
