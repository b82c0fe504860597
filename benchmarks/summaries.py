"""How much the summaries shorten what a real model shows: the inspector title of the 48-layer
training step (benchmarks/transformer.py) against the list of its leaves' types, and the placement
of its 288 parameters sharded over 8 simulated CPU devices (groups and grids against arrays).

    .venv/bin/python benchmarks/summaries.py
"""

from __future__ import annotations

import jax

jax.config.update("jax_num_cpu_devices", 8)

import jax.numpy as jnp  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxlab  # noqa: E402
from jaxlab.views.placement import placement_html  # noqa: E402

try:
    import transformer
except ImportError:  # run from the repository root
    from benchmarks import transformer


def main() -> None:
    params, x = transformer.shapes(48)
    insp = jaxlab.inspect(transformer.step, params, x, run=False)
    leaves = f"{insp.fn_name}{insp.in_avals}"
    title = f"{insp.fn_name}({insp.arguments.text}) → {insp.results}"
    print("48-layer step, inspector title")
    print(f"  every leaf's type: {len(leaves):,} characters")
    print(f"  summarised:        {len(title):,} characters: {title}")

    mesh = jax.make_mesh((8,), ("x",), axis_types=(AxisType.Auto,))
    specs = {"w2": P("x", None)}
    placed = [
        {k: jax.device_put(jnp.zeros(v.shape), NamedSharding(mesh, specs.get(k, P(None, "x"))))
         for k, v in layer.items()}
        for layer in params
    ]  # fmt: skip
    p = jaxlab.placement(placed, name="params")
    html = placement_html(p)
    print("48-layer parameters sharded over 8 devices, placement")
    print(f"  arrays: {len(p)}, shards: {len(p.rows()):,}")
    print(f"  groups: {len(p.groups())} (summary() rows: {len(p.summary())})")
    grids = html.count('class="jl-sharding-grid"')
    print(f"  grids drawn: {grids}")
    print(f"  static HTML: {len(html) / 1024:,.0f} KiB")


if __name__ == "__main__":
    main()
