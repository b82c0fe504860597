// The graph pane: views laid out on demand, one expansion at a time. The kernel lays out with
// Graphviz `dot` where it exists; otherwise it sends DOT and the browser lays it out with
// Graphviz compiled to WebAssembly, loaded only then.
import type { GraphSection, LayoutFailure, LayoutReply, VizReply } from "./model";

export type Request = (msg: Record<string, unknown>) => Promise<Record<string, unknown>>;

let vizModule: Promise<{ instance: () => Promise<{ renderSVGElement(dot: string): SVGSVGElement }> }> | null = null;

async function loadViz(request: Request) {
  if (!vizModule) {
    vizModule = request({ type: "viz" }).then(async (reply) => {
      const url = URL.createObjectURL(new Blob([(reply as unknown as VizReply).source], { type: "text/javascript" }));
      try {
        return await import(/* @vite-ignore */ url);
      } finally {
        URL.revokeObjectURL(url);
      }
    });
  }
  return vizModule;
}

/** Parse SVG text from the kernel (already cleaned there) into an element, without scripts. */
function parseSvg(text: string): SVGSVGElement | null {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") return null;
  return sanitize(document.importNode(svg, true) as unknown as SVGSVGElement);
}

function sanitize(svg: SVGSVGElement): SVGSVGElement {
  for (const el of [svg, ...svg.querySelectorAll("*")]) {
    if (el.nodeName === "script" || el.nodeName === "foreignObject") {
      el.remove();
      continue;
    }
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      if (name === "id" || name.startsWith("on") || name.endsWith("href")) el.removeAttribute(attr.name);
    }
  }
  svg.querySelectorAll("title").forEach((t) => t.remove());
  return svg;
}

export class GraphPane {
  readonly el: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly status: HTMLElement;
  private which: string;
  private expanded: Map<string, number[] | null> = new Map();
  private active: ReadonlySet<number> = new Set();
  private started = false;

  constructor(section: GraphSection, private readonly request: Request) {
    this.which = section.graphs[0]?.id ?? "jaxpr";
    this.el = document.createElement("details");
    this.el.className = "jl-graph-pane";
    const summary = document.createElement("summary");
    summary.textContent = "graph";
    const bar = document.createElement("div");
    bar.className = "jl-bar";
    for (const g of section.graphs) {
      const b = document.createElement("button");
      b.className = "jl-button";
      b.textContent = `${g.title} (${g.size.toLocaleString()})`;
      b.dataset.graph = g.id;
      b.addEventListener("click", () => {
        this.which = g.id;
        void this.draw();
      });
      bar.append(b);
    }
    this.status = document.createElement("span");
    this.status.className = "jl-muted";
    bar.append(this.status);
    this.canvas = document.createElement("div");
    this.canvas.className = "jl-graph";
    this.canvas.addEventListener("click", (e) => this.onClick(e));
    this.el.append(summary, bar, this.canvas);
    this.el.addEventListener("toggle", () => {
      if ((this.el as HTMLDetailsElement).open && !this.started) {
        this.started = true;
        void this.draw();
      }
    });
  }

  private onClick(e: Event): void {
    const target = (e.target as Element).closest(".jl-box, .jl-cluster");
    if (!target) return;
    const m = /\bjl-g(\d+)\b/.exec(target.getAttribute("class") ?? "");
    if (!m) return;
    const gid = Number(m[1]);
    const open = this.expanded.get(this.which) ?? [];
    const next = target.classList.contains("jl-box") ? [...open, gid] : open.filter((g) => g !== gid);
    this.expanded.set(this.which, next);
    void this.draw();
  }

  async draw(): Promise<void> {
    this.status.textContent = " laying out…";
    const t0 = performance.now();
    try {
      const reply = (await this.request({ type: "layout", graph: this.which, expanded: this.expanded.get(this.which) ?? null })) as unknown as LayoutReply | LayoutFailure;
      if ("error" in reply) throw new Error(reply.error);
      this.expanded.set(this.which, reply.expanded);
      let svg: SVGSVGElement | null = null;
      if (reply.svg) {
        svg = parseSvg(reply.svg);
      } else {
        const viz = await (await loadViz(this.request)).instance();
        svg = sanitize(viz.renderSVGElement(reply.dot));
      }
      if (!svg) throw new Error("the layout gave no SVG");
      this.canvas.replaceChildren(svg);
      const how = reply.svg ? "dot in the kernel" : "Graphviz (WebAssembly) in the browser";
      this.status.textContent = ` ${reply.visible.toLocaleString()} boxes of ${reply.total.toLocaleString()} nodes · click a blue box to expand it, a frame to collapse it · laid out by ${how} in ${Math.round(performance.now() - t0)} ms`;
      this.setActive(this.active);
    } catch (err) {
      this.status.textContent = ` graph unavailable: ${(err as Error).message}`;
    }
  }

  setActive(active: ReadonlySet<number>): void {
    this.active = active;
    this.canvas.querySelectorAll(".jl-hl").forEach((el) => el.classList.remove("jl-hl"));
    for (const g of active) this.canvas.querySelectorAll(`.jl-s${g}`).forEach((el) => el.classList.add("jl-hl"));
  }
}
