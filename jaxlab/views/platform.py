"""Static HTML and text of a :class:`jaxlab.api.platforms.PlatformInspection`: per platform the
StableHLO JAX lowered for it and the Pallas kernel modules, colour-linked to the source like the
CPU inspector's panes, what differs from the CPU lowering, and the kernels' grids."""

from __future__ import annotations

from typing import Any

from jaxlab.api.platforms import PlatformInspection
from jaxlab.base.display import renders
from jaxlab.views._html import esc, fragment, page, table
from jaxlab.views.inspector.html import _hover_css, _panes
from jaxlab.views.inspector.model import SourceGroups, _add
from jaxlab.views.inspector.style import stylesheet
from jaxlab.views.pallas import kernels_html, kernels_text

MAX_DIFF_ROWS = 60


@renders(PlatformInspection, "text")
def platform_text(pi: Any) -> str:
    lines = [f"Lowered {pi.fn_name}({pi.arguments.text}) for {', '.join(pi.platforms)}"]
    for lw in pi.lowerings:
        if lw.ok:
            kernels = pi.kernel_modules(lw.platform)
            extra = f", {len(kernels)} kernel module(s)" if kernels else ""
            lines.append(
                f"  {lw.platform}: {len(lw.stablehlo.splitlines()):,} lines of StableHLO{extra}"
            )
            if lw.note:
                lines.append(f"    {lw.note}")
        else:
            lines.append(f"  {lw.platform}: lowering failed: {lw.error}")
    lines.extend(kernels_text(pi.pallas_kernels, pi.platforms))
    if pi.cpu is None and pi.cpu_error:
        lines.append(f"  cpu: {pi.cpu_error}")
    lines.append("  optimized HLO, costs and timings need that backend; .stablehlo(platform)")
    return "\n".join(lines)


@renders(PlatformInspection, "view model")
def view_model(pi: Any) -> dict[str, Any]:
    """Panes (source, StableHLO per platform, kernel modules) linked by source line."""
    groups = SourceGroups(pi.sources)
    panes: list[dict[str, Any]] = []
    used: set[int] = set()

    def pane(pid: str, title: str, dialect: str, module: Any) -> None:
        lines = module.text.split("\n")
        links: list[Any] = [-1] * len(lines)
        for op in module.ops:
            found = groups.of(op.location.frames[:1])
            if found:
                used.update(found)
                _add(links, op.line - 1, found)
        panes.append(
            {"id": pid, "title": title, "dialect": dialect, "lines": lines, "links": links}
        )

    for lw in pi.lowerings:
        module = pi.stablehlo_module(lw.platform)
        if module is not None:
            pane(
                f"stablehlo-{lw.platform}",
                f"StableHLO for {lw.platform.upper()}",
                "stablehlo",
                module,
            )
    for i, kernel in enumerate(pi.pallas_kernels):
        lines, frames = kernel_jaxpr_listing(kernel.kernel_jaxpr)
        links: list[Any] = [-1] * len(lines)
        for k, fr in enumerate(frames):
            found = groups.of(fr[:1])
            if found:
                used.update(found)
                _add(links, k, found)
        panes.append(
            {
                "id": f"kernel-jaxpr-{i}",
                "title": f"kernel jaxpr of {kernel.name} (one equation a line)",
                "dialect": "jaxpr",
                "lines": lines,
                "links": links,
            }
        )
    for i, kernel in enumerate(pi.kernel_modules()):
        if kernel.module is not None:
            pane(
                f"kernel-{i}",
                f"{kernel.title} module of {kernel.name} ({kernel.platform})",
                "stablehlo",
                kernel.module,
            )
    source_links = [g if g in used else -1 for g in range(len(groups.lines))]
    source = {
        "id": "source", "title": "source", "dialect": "python", "lines": groups.lines,
        "numbers": groups.numbers, "headers": groups.headers, "links": source_links,
    }  # fmt: skip
    return {
        "version": 1,
        "title": f"{pi.fn_name}({pi.arguments.text})",
        "sections": [{"kind": "panes", "groups": len(groups.lines), "panes": [source, *panes]}],
    }


def kernel_jaxpr_listing(jaxpr: Any) -> tuple[list[str], list[Any]]:
    """One line per equation of a kernel jaxpr (nested ones indented), with its frames."""
    from jaxlab.ir.jaxpr import JaxprModel

    try:
        model = JaxprModel.build(jaxpr, "")
    except Exception:
        return [], []
    lines, frames = [], []
    for eq in sorted(model.equations, key=_tree_order(model)):
        outs = ", ".join(eq.out_types) or "()"
        lines.append(f"{'  ' * eq.depth}{outs} = {eq.title}")
        frames.append(eq.frames)
    return lines, frames


def _tree_order(model: Any):
    """Sort key putting each equation's nested equations right after it."""
    keys: dict[int, tuple[int, ...]] = {}
    for eq in model.equations:  # parents come before their children
        keys[eq.index] = (*keys.get(eq.parent, ()), eq.index)
    return lambda eq: keys[eq.index]


def platform_body(pi: Any) -> str:
    model = view_model(pi)
    parts = [f"<style>{stylesheet()}{_hover_css(model)}</style>", _header(pi)]
    parts.append(_differences(pi))
    parts.append(_panes(model["sections"][0]))
    parts.append(_kernel_errors(pi))
    parts.append(kernels_html(pi.pallas_kernels, pi.platforms))
    return "".join(parts)


@renders(PlatformInspection, "page")
def platform_page(pi: Any) -> str:
    return page(f"jaxlab: {pi.fn_name}", platform_body(pi), extra_class="jl-insp jl-platform")


@renders(PlatformInspection, "html")
def platform_html(pi: Any) -> str:
    return fragment(platform_body(pi), extra_class="jl-insp jl-platform")


def _header(pi: Any) -> str:
    out = [
        f'<div class="jl-title">Lowered for {esc(", ".join(p.upper() for p in pi.platforms))}: '
        f"<code>{esc(pi.fn_name)}({esc(pi.arguments.text)})</code></div>"
    ]
    for lw in pi.lowerings:
        if lw.ok:
            note = f" {esc(lw.note)}." if lw.note else ""
            out.append(f'<div class="jl-muted">{esc(lw.needs_backend)}{note}</div>')
        else:
            out.append(
                f'<div class="jl-error"><b>{esc(lw.platform)}</b>: lowering failed: '
                f"<code>{esc(lw.error)}</code></div>"
            )
    if pi.cpu is None and pi.cpu_error:
        out.append(f'<div class="jl-note">CPU: {esc(pi.cpu_error)}</div>')
    return "".join(out)


def _differences(pi: Any) -> str:
    parts = []
    for lw in pi.lowerings:
        if not lw.ok or lw.platform == "cpu":
            continue
        diffs = pi.differences(lw.platform)
        if not pi.cpu_stablehlo:
            parts.append(
                f'<div class="jl-note">{esc(lw.platform)}: no CPU lowering to compare with</div>'
            )
            continue
        if not diffs:
            parts.append(
                f'<div class="jl-muted">{esc(lw.platform.upper())}: same StableHLO ops, custom '
                "calls, layouts and shardings as the CPU lowering</div>"
            )
            continue
        rows = [(d.what, d.item, d.base, d.other) for d in diffs[:MAX_DIFF_ROWS]]
        more = (
            f'<div class="jl-note">{len(diffs) - MAX_DIFF_ROWS} more</div>'
            if len(diffs) > MAX_DIFF_ROWS
            else ""
        )
        parts.append(
            f"<details open><summary>{esc(lw.platform.upper())} vs CPU lowering: "
            f"{len(diffs)} difference{'s' * (len(diffs) != 1)}</summary>"
            + table(["what", "item", "CPU", lw.platform.upper()], rows)
            + more
            + "</details>"
        )
    return "".join(parts)


def _kernel_errors(pi: Any) -> str:
    out = []
    for k in pi.kernel_modules():
        if k.error:
            out.append(
                f'<div class="jl-warn">{esc(k.title)} module of {esc(k.name)} '
                f"({esc(k.platform)}) could not be read: {esc(k.error)}</div>"
            )
    return "".join(out)
