// The live inspector (anywidget): linked, virtualised panes, search, fusion explorer, graph.
// Every string from the program reaches the page as text (textContent), never as markup; the
// only HTML inserted is the `html` of sections, which jaxlab's static renderer escaped.
import type { AnyModel, RenderProps } from "@anywidget/types";
import { FusionTable } from "./fusions";
import { GraphPane, type Request } from "./graph";
import type { FusionRow, FusionsSection, GraphSection, NumericsRow, NumericsSection, PanesSection, PrecisionSection, ProfileSection, ViewModel } from "./model";
import { NumericsTable } from "./numerics";
import { CodePane } from "./pane";
import { findLines, step } from "./search";
import { Timeline } from "./timeline";

interface Props {
  payload: DataView | ArrayBuffer | Uint8Array;
  static_id: string;
}

// The static rendering of the same inspection, shown until this widget runs.
function hideStatic(id: string): void {
  if (!id) return;
  for (const el of document.querySelectorAll<HTMLElement>(`[data-jaxlab-static="${CSS.escape(id)}"]`)) {
    const output = el.closest<HTMLElement>(".jp-OutputArea-child, .output_area") ?? el;
    output.style.display = "none";
  }
}

async function decode(payload: Props["payload"]): Promise<ViewModel> {
  const view =
    payload instanceof ArrayBuffer ? new Uint8Array(payload)
    : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  const bytes = new Uint8Array(view); // a copy that owns a plain ArrayBuffer
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text()) as ViewModel;
}

function requester(model: AnyModel<Props>, signal: AbortSignal): Request {
  let next = 0;
  const waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  model.on("msg:custom", (msg: Record<string, unknown>) => {
    const resolve = waiting.get(Number(msg.req));
    if (resolve) {
      waiting.delete(Number(msg.req));
      resolve(msg);
    }
  });
  return (msg) =>
    new Promise((resolve, reject) => {
      const req = ++next;
      waiting.set(req, resolve);
      model.send({ ...msg, req });
      const timer = setTimeout(() => {
        if (waiting.delete(req)) reject(new Error("the kernel did not answer (is it running?)"));
      }, 60000);
      signal.addEventListener("abort", () => clearTimeout(timer));
    });
}

class Inspector {
  readonly root: HTMLElement;
  private panes: CodePane[] = [];
  private fusions: FusionTable | null = null;
  private graph: GraphPane | null = null;
  private timeline: Timeline | null = null;
  private numerics: NumericsTable | null = null;
  private numericsSection: NumericsSection | null = null;
  private precisionSection: PrecisionSection | null = null;
  private active = new Set<number>();
  private pinned = false;
  private matches: [number, number][] = [];
  private current = -1;

  constructor(view: ViewModel, request: Request) {
    this.root = document.createElement("div");
    this.root.className = "jaxlab jl-live";
    for (const section of view.sections) {
      if (section.kind === "panes") this.root.append(this.buildPanes(section as PanesSection));
      else if (section.kind === "fusions") {
        this.fusions = new FusionTable(section as FusionsSection, (row) => this.hoverRow(row), (row) => this.clickRow(row));
        this.root.append(this.fusions.el);
      } else if (section.kind === "numerics") {
        this.numericsSection = section as NumericsSection;
        this.numerics = new NumericsTable(
          this.numericsSection,
          (row) => this.hoverOutput(row),
          (row) => this.clickOutput(row),
          !view.sections.some((s) => s.kind === "panes"),
        );
        this.root.append(this.numerics.el);
      } else if (section.kind === "precision") {
        this.precisionSection = section as PrecisionSection;
        const div = document.createElement("div");
        div.className = "jl-section jl-numerics jl-precision";
        div.innerHTML = this.precisionSection.html; // built and escaped by jaxlab's static renderer
        this.root.append(div);
      } else if (section.kind === "profile") {
        this.root.append(this.buildProfile(section as ProfileSection));
      } else if (section.kind === "graph") {
        this.graph = new GraphPane(section as GraphSection, request);
        this.root.append(this.graph.el);
      } else if ("html" in section) {
        const div = document.createElement("div");
        div.className = `jl-section jl-${section.kind}`;
        div.innerHTML = section.html; // built and escaped by jaxlab's static renderer
        this.root.append(div);
      }
    }
  }

  private buildPanes(section: PanesSection): HTMLElement {
    const wrap = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = "jl-bar";
    const input = document.createElement("input");
    input.className = "jl-search";
    input.placeholder = "search all panes";
    input.type = "search";
    const prev = button("↑", () => this.go(false));
    const next = button("↓", () => this.go(true));
    const count = document.createElement("span");
    count.className = "jl-muted jl-count";
    const hint = document.createElement("span");
    hint.className = "jl-muted";
    hint.textContent = "hover a line to see what it became; click to pin";
    input.addEventListener("input", () => this.search(input.value, count));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.go(!e.shiftKey);
    });
    bar.append(input, prev, next, count, hint);
    const grid = document.createElement("div");
    grid.className = "jl-panes";
    const events = {
      hover: (pane: CodePane, line: number | null) => {
        if (this.pinned) return;
        this.setActive(line === null ? [] : pane.index.groups(line), pane);
      },
      click: (pane: CodePane, line: number) => {
        const groups = pane.index.groups(line);
        this.pinned = groups.length > 0 && !(this.pinned && groups.every((g) => this.active.has(g)));
        this.setActive(groups, pane);
      },
    };
    this.panes = section.panes.map((p) => new CodePane(p, events));
    for (const p of this.panes) grid.append(p.el);
    wrap.append(bar, grid);
    return wrap;
  }

  // Measured kernel times: a timeline of one call, a time column in the fusion explorer and
  // heat on the source and HLO lines.
  private buildProfile(section: ProfileSection): HTMLElement {
    const wrap = document.createElement("div");
    wrap.className = "jl-section jl-profile-live";
    const summary = document.createElement("div");
    summary.className = "jl-title";
    summary.textContent = `Measured: ${section.summary}`;
    this.timeline = new Timeline(section.timeline, (groups) => {
      if (this.pinned) return;
      this.setActive(groups ?? [], null);
    });
    const tables = document.createElement("div");
    tables.innerHTML = section.tables_html; // built and escaped by jaxlab's static renderer
    wrap.append(summary, this.timeline.el, tables);
    this.fusions?.setTimes(new Map(Object.entries(section.kernel_times)));
    const heat = (id: string, values: Record<string, number>) => {
      const pane = this.panes.find((p) => p.pane.id === id);
      pane?.setHeat(new Map(Object.entries(values).map(([k, v]) => [Number(k), v])));
    };
    heat("source", section.heat.source);
    heat("hlo", section.heat.hlo);
    return wrap;
  }

  private pane(id: string): CodePane | undefined {
    return this.panes.find((p) => p.pane.id === id);
  }

  start(): void {
    const numerics = this.numericsSection;
    const precision = this.precisionSection;
    const lines = (record: Record<string, unknown>) => new Map(Object.entries(record).map(([k, v]) => [Number(k), v]));
    if (numerics && this.panes.length) {
      const origin = numerics.origin_lines;
      this.pane("jaxpr")?.setNumerics(lines(numerics.values) as Map<number, never>, new Map(), origin.jaxpr ?? -1);
      this.pane("source")?.setNumerics(null, lines(numerics.source_marks) as Map<number, string>, origin.source ?? -1);
    }
    if (precision && this.panes.length) {
      const top = precision.origin_lines;
      this.pane("jaxpr")?.setErrors(lines(precision.values) as Map<number, never>, new Map(), top.jaxpr ?? -1);
      this.pane("source")?.setErrors(null, lines(precision.source_heat) as Map<number, number>, top.source ?? -1);
    }
    for (const p of this.panes) p.render();
    this.timeline?.draw();
    if (numerics && numerics.origin_lines.jaxpr !== undefined) this.showOrigin(numerics);
    else if (precision) this.showLines(precision.origin_lines);
  }

  // Open on the first NaN or Inf: its jaxpr line and source line in view and linked (the
  // origin keeps its outline after the pointer moves on).
  private showOrigin(numerics: NumericsSection): void {
    if (this.showLines(numerics.origin_lines)) this.numerics?.setActive(numerics.origin_row);
  }

  // Bring a jaxpr line and its source line into view, linked (the first NaN's origin, or the
  // equation that makes the most error); false when there is no such jaxpr line.
  private showLines(lines: Record<string, number>): boolean {
    const { jaxpr, source } = lines;
    const pane = this.pane("jaxpr");
    if (jaxpr === undefined || !pane) return false;
    this.setActive(pane.index.groups(jaxpr), null);
    pane.reveal(jaxpr);
    if (source !== undefined) this.pane("source")?.reveal(source);
    return true;
  }

  private hoverOutput(row: NumericsRow | null): void {
    if (this.pinned) return;
    const pane = this.pane("jaxpr");
    if (!row || !pane || row.jaxpr_line < 0) {
      this.setActive([], null);
      return;
    }
    this.setActive(pane.index.groups(row.jaxpr_line), null);
    pane.reveal(row.jaxpr_line);
  }

  private clickOutput(row: NumericsRow): void {
    this.pinned = false;
    this.hoverOutput(row);
    this.pinned = true;
    this.numerics?.setActive(row.row);
  }

  private setActive(groups: number[], from: CodePane | null): void {
    this.active = new Set(groups);
    for (const p of this.panes) {
      p.setActive(this.active);
      if (p !== from && groups.length) p.revealActive();
    }
    this.fusions?.setActive(this.active);
    this.graph?.setActive(this.active);
    this.timeline?.setActive(this.active);
  }

  private hoverRow(row: FusionRow | null): void {
    if (this.pinned) return;
    this.setActive(row ? row.groups : [], null);
    const hlo = this.panes.find((p) => p.pane.id === "hlo");
    if (row && hlo && row.hlo_line > 0) hlo.reveal(row.hlo_line - 1);
  }

  private clickRow(row: FusionRow): void {
    this.pinned = true;
    this.hoverRow(row);
    this.pinned = true;
  }

  private search(query: string, count: HTMLElement): void {
    this.matches = [];
    const parts: string[] = [];
    this.panes.forEach((p, k) => {
      const lines = findLines(p.pane.lines, query);
      for (const l of lines) this.matches.push([k, l]);
      p.setMatches(new Set(lines), -1);
      if (query.trim()) parts.push(`${p.pane.title} ${lines.length.toLocaleString()}`);
    });
    this.current = -1;
    count.textContent = parts.join(" · ");
    if (this.matches.length) this.go(true);
  }

  private go(forward: boolean): void {
    this.current = step(this.matches.length, this.current, forward);
    if (this.current < 0) return;
    const [k, line] = this.matches[this.current];
    this.panes.forEach((p, j) => {
      const own = new Set(this.matches.filter(([pk]) => pk === j).map(([, l]) => l));
      p.setMatches(own, j === k ? line : -1);
    });
    this.panes[k].reveal(line);
  }
}

function button(text: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.className = "jl-button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

async function render({ model, el, signal }: RenderProps<Props>): Promise<() => void> {
  el.classList.add("jl-inspector-host");
  try {
    const view = await decode(model.get("payload"));
    const inspector = new Inspector(view, requester(model, signal));
    el.replaceChildren(inspector.root);
    inspector.start();
    hideStatic(model.get("static_id"));
    el.dataset.ready = "1";
  } catch (err) {
    const box = document.createElement("div");
    box.className = "jaxlab jl-live jl-error";
    box.textContent = `jaxlab inspector could not start: ${(err as Error).message}`;
    el.replaceChildren(box);
  }
  return () => el.replaceChildren();
}

export default { render };
