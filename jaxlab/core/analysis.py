"""XLA's own estimates of a compiled program, read defensively.

``cost_analysis()`` and ``memory_analysis()`` may return None, raise, or change keys between JAX
versions and backends; callers get a plain dict or None ("unavailable on this backend").
"""

from __future__ import annotations

from typing import Any

UNAVAILABLE = "unavailable on this backend"

# Keys of XLA's cost analysis worth showing, in order, with labels.
COST_KEYS = {
    "flops": "FLOPs",
    "transcendentals": "transcendentals",
    "bytes accessed": "bytes accessed",
    "optimal_seconds": "optimal seconds",
}


def cost_analysis(compiled: Any) -> dict[str, float] | None:
    """XLA's cost estimate as {name: value}, or None when the backend gives none."""
    try:
        raw = compiled.cost_analysis()
    except Exception:
        return None
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else None
    if not isinstance(raw, dict) or not raw:
        return None
    out: dict[str, float] = {}
    for key, value in raw.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out or None


def memory_analysis(compiled: Any) -> dict[str, int] | None:
    """XLA's memory statistics as {field: bytes}, or None when the backend gives none."""
    try:
        stats = compiled.memory_analysis()
    except Exception:
        return None
    if stats is None:
        return None
    out: dict[str, int] = {}
    for name in dir(stats):
        if name.startswith("_") or not name.endswith("_in_bytes"):
            continue
        try:
            value = getattr(stats, name)
        except Exception:
            continue
        if isinstance(value, (int, float)):
            out[name[: -len("_in_bytes")]] = int(value)
    return out or None


def devices_of(compiled: Any) -> list[Any]:
    """Devices the compiled program runs on, from its shardings (best-effort)."""
    import jax

    seen: dict[int, Any] = {}
    try:
        shardings = jax.tree_util.tree_leaves((compiled.input_shardings, compiled.output_shardings))
    except Exception:
        shardings = []
    for sharding in shardings:
        try:
            for device in sharding.device_set:
                seen.setdefault(device.id, device)
        except Exception:
            continue
    if not seen:
        try:
            device = jax.devices()[0]
            seen[device.id] = device
        except Exception:
            pass
    return [seen[k] for k in sorted(seen)]
