// The timeline of one profiled call: kernels on a time axis, one track per device and thread,
// coloured by their source line's link colour. Drawn on a canvas; kernels narrower than a
// pixel are merged into one grey box per pixel, so thousands of kernels draw as fast as a few
// dozen. Hovering a kernel names it (as text) and highlights its source lines in every pane.

import type { TimelineKernel, TimelineModel } from "./model";

export type { TimelineKernel, TimelineModel };

export interface Box {
  x0: number;
  x1: number;
  kernel: number; // -1: several kernels merged
  count: number;
  busy: number; // µs of kernel time inside
}

/** Boxes of each track at `pxPerUs`: one per kernel at least a pixel wide, and one per run of
 * narrower kernels that start within the same pixel. Sorted by x0. */
export function layout(model: TimelineModel, pxPerUs: number): Box[][] {
  const tracks: [number, number, number][][] = model.tracks.map(() => []);
  for (const [t, s, d, k] of model.events) tracks[t]?.push([s, d, k]);
  return tracks.map((events) => {
    events.sort((a, b) => a[0] - b[0]);
    const boxes: Box[] = [];
    let merged: Box | null = null;
    for (const [s, d, k] of events) {
      const x0 = s * pxPerUs;
      const x1 = (s + d) * pxPerUs;
      if (x1 - x0 >= 1) {
        merged = null;
        boxes.push({ x0, x1, kernel: k, count: 1, busy: d });
        continue;
      }
      if (merged && Math.floor(x0) <= Math.floor(merged.x0) + 1) {
        merged.x1 = Math.max(merged.x1, x1, merged.x0 + 1);
        merged.count += 1;
        merged.busy += d;
        if (merged.kernel !== k) merged.kernel = -1;
        continue;
      }
      merged = { x0, x1: Math.max(x1, x0 + 1), kernel: k, count: 1, busy: d };
      boxes.push(merged);
    }
    return boxes;
  });
}

/** The box under x (binary search over boxes sorted by x0), or null. */
export function boxAt(boxes: Box[], x: number): Box | null {
  let lo = 0;
  let hi = boxes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (boxes[mid].x1 < x - 0.5) lo = mid + 1;
    else if (boxes[mid].x0 > x + 0.5) hi = mid - 1;
    else return boxes[mid];
  }
  return null;
}

export function formatUs(us: number): string {
  if (us === 0) return "0";
  if (us >= 1e6) return `${(us / 1e6).toPrecision(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toPrecision(3)} ms`;
  if (us >= 1) return `${us.toPrecision(3)} µs`;
  return `${(us * 1e3).toPrecision(3)} ns`;
}

const TRACK = 18;
const LABEL = 190;
const AXIS = 18;

export class Timeline {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private boxes: Box[][] = [];
  private active: ReadonlySet<number> = new Set();
  private width = 0;
  private unlinked = "gray";

  constructor(
    private readonly model: TimelineModel,
    private readonly onHover: (groups: number[] | null, kernel: TimelineKernel | null) => void,
  ) {
    this.el = document.createElement("div");
    this.el.className = "jl-timeline-live";
    const title = document.createElement("div");
    title.className = "jl-pane-title";
    title.textContent = `timeline of call ${model.call + 1} (median): ${model.events.length.toLocaleString()} kernels, ${formatUs(model.duration_us)}`;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "jl-timeline-canvas";
    this.canvas.style.width = "100%";
    this.canvas.style.height = `${model.tracks.length * TRACK + AXIS}px`;
    this.tip = document.createElement("div");
    this.tip.className = "jl-muted jl-timeline-tip";
    this.tip.textContent = "hover a kernel to see it and its source lines";
    this.el.append(title, this.canvas, this.tip);
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => {
      this.onHover(null, null);
      this.tip.textContent = "hover a kernel to see it and its source lines";
    });
  }

  private scale(): number {
    return (this.width - LABEL - 10) / Math.max(this.model.duration_us, 1e-9);
  }

  draw(): void {
    const width = this.canvas.clientWidth || 900;
    const height = this.model.tracks.length * TRACK + AXIS;
    if (width !== this.width) {
      this.width = width;
      this.boxes = layout(this.model, this.scale());
    }
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const css = getComputedStyle(this.el);
    const colour = (name: string) => css.getPropertyValue(name).trim() || "gray";
    const text = colour("--jl-tl-text");
    const grid = colour("--jl-tl-grid");
    const merged = colour("--jl-tl-merged");
    this.unlinked = colour("--jl-tl-unlinked");
    const collective = colour("--jl-tl-collective");
    const lit = colour("--jl-tl-lit");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "10px ui-monospace, monospace";
    const dim = this.active.size > 0;
    this.model.tracks.forEach((label, t) => {
      const y = t * TRACK;
      ctx.fillStyle = text;
      ctx.fillText(label.length > 30 ? `${label.slice(0, 29)}…` : label, 4, y + 13);
      ctx.fillStyle = grid;
      ctx.fillRect(LABEL, y + TRACK - 1, width - LABEL - 10, 1);
      for (const box of this.boxes[t] ?? []) {
        const kernel = box.kernel >= 0 ? this.model.kernels[box.kernel] : null;
        const on = !!kernel && kernel.groups.some((g) => this.active.has(g));
        ctx.globalAlpha = dim && !on ? 0.3 : 1;
        ctx.fillStyle = kernel ? this.fill(kernel) : merged;
        ctx.fillRect(LABEL + box.x0, y + 2, Math.max(box.x1 - box.x0, 1), TRACK - 5);
        if (kernel?.collective || on) {
          ctx.strokeStyle = on ? lit : collective;
          ctx.lineWidth = 1.5;
          ctx.strokeRect(LABEL + box.x0, y + 2, Math.max(box.x1 - box.x0, 1), TRACK - 5);
        }
      }
    });
    ctx.globalAlpha = 1;
    ctx.fillStyle = text;
    const plot = width - LABEL - 10;
    for (let n = 0; n <= 5; n++) {
      const x = LABEL + (plot * n) / 5;
      const text = formatUs((this.model.duration_us * n) / 5);
      ctx.fillText(text, Math.min(x - ctx.measureText(text).width / 2, width - 60), height - 4);
    }
  }

  private fill(kernel: TimelineKernel): string {
    const fills = this.model.fills;
    return kernel.groups.length ? fills[kernel.groups[0] % fills.length] : this.unlinked;
  }

  private hover(e: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - LABEL;
    const t = Math.floor((e.clientY - rect.top) / TRACK);
    const box = t >= 0 && t < this.boxes.length ? boxAt(this.boxes[t], x) : null;
    if (!box) {
      const at = formatUs(Math.max(x, 0) / this.scale());
      const track = this.model.tracks[t] ?? "";
      this.tip.textContent = `${at}${track ? ` on ${track}` : ""}: no kernel running`;
      this.onHover(null, null);
      return;
    }
    const kernel = box.kernel >= 0 ? this.model.kernels[box.kernel] : null;
    if (kernel && box.count === 1) {
      const where = kernel.lines.length ? ` · ${kernel.lines.join(", ")}` : "";
      const scope = kernel.scope ? ` · scope ${kernel.scope}` : "";
      this.tip.textContent = `${kernel.name} (${kernel.kind}) ${formatUs(box.busy)}${where}${scope}`;
      this.onHover(kernel.groups, kernel);
    } else {
      this.tip.textContent = `${box.count.toLocaleString()} kernels narrower than a pixel, ${formatUs(box.busy)}`;
      this.onHover(kernel ? kernel.groups : null, kernel);
    }
  }

  setActive(active: ReadonlySet<number>): void {
    this.active = active;
    this.draw();
  }
}
