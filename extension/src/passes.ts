// The live pass explorer (anywidget): the list of XLA passes that changed a module, and the
// selected pass's before/after diff, each instruction coloured by the source line it came from;
// hovering one lights up that line's instructions on both sides. Unchanged regions are folded
// and fetched from the kernel when opened. Every string from the program is set as text
// (textContent), never as markup; colours come from jaxlab (the model and the widget's CSS).
import type { AnyModel, RenderProps } from "@anywidget/types";

// [kind, before, after, before line, after line, before source, after source]
export type Row = ["same" | "removed" | "added" | "changed", string | null, string | null, number, number, string, string];
export type Item = ["row", ...Row] | ["fold", number, number];

export interface Step {
  index: number;
  pass: string;
  pipeline: string;
  renumbering_only: boolean;
  removed: number;
  added: number;
  items: Item[];
}

export interface PassModel {
  fn: string;
  module: string;
  notes: string[];
  steps: Step[];
  colours: Record<string, string>; // source line ("file:line") -> its colour, chosen by jaxlab
}

/** The source lines ("file:line") of the rows, each once, in order of first appearance. */
export function sourcePlaces(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) {
    for (const place of [row[5], row[6]]) if (place) seen.add(place);
  }
  return [...seen];
}

interface Props {
  payload: string;
  static_id: string;
}

/** The steps the list shows: passes that only renumbered names are hidden unless asked. */
export function visibleSteps(steps: Step[], showRenumbering: boolean): Step[] {
  return steps.filter((s) => showRenumbering || !s.renumbering_only);
}

export function rowsOf(items: Item[]): Row[] {
  return items.filter((i) => i[0] === "row").map((i) => i.slice(1) as Row);
}

type Fetch = (step: number, start: number, end: number) => Promise<Row[]>;

class PassExplorer {
  readonly root: HTMLElement;
  private list = document.createElement("div");
  private view = document.createElement("div");
  private showRenumbering = false;
  private selected = 0;

  constructor(private readonly data: PassModel, private readonly fetchRows: Fetch) {
    this.root = document.createElement("div");
    this.root.className = "jaxlab jl-passes-live";
    const title = document.createElement("div");
    title.className = "jl-title";
    title.textContent = `HLO passes of ${data.fn} (module ${data.module})`;
    this.root.append(title);
    for (const note of data.notes) {
      const n = document.createElement("div");
      n.className = "jl-note";
      n.textContent = note;
      this.root.append(n);
    }
    const hidden = data.steps.filter((s) => s.renumbering_only).length;
    if (hidden) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.addEventListener("change", () => {
        this.showRenumbering = box.checked;
        this.drawList();
      });
      label.append(box, ` show ${hidden} pass${hidden === 1 ? "" : "es"} that only renumbered names`);
      this.root.append(label);
    }
    const body = document.createElement("div");
    body.className = "jl-passes";
    this.list.className = "jl-list";
    this.view.className = "jl-view";
    body.append(this.list, this.view);
    this.root.append(body);
    const first = visibleSteps(data.steps, false)[0];
    this.selected = first ? data.steps.indexOf(first) : 0;
    this.drawList();
    this.drawStep();
  }

  private drawList(): void {
    this.list.replaceChildren();
    for (const step of visibleSteps(this.data.steps, this.showRenumbering)) {
      const i = this.data.steps.indexOf(step);
      const item = document.createElement("div");
      item.className = "jl-item" + (i === this.selected ? " jl-sel" : "");
      item.dataset.step = String(i);
      item.title = step.pipeline;
      const name = document.createElement("span");
      name.className = "jl-pass";
      name.textContent = step.pass;
      const count = document.createElement("span");
      count.className = "jl-count";
      count.textContent = `−${step.removed} +${step.added}`;
      item.append(name, count);
      item.addEventListener("click", () => {
        this.selected = i;
        this.drawList();
        this.drawStep();
      });
      this.list.append(item);
    }
  }

  private drawStep(): void {
    const step = this.data.steps[this.selected];
    this.view.replaceChildren();
    if (!step) {
      this.view.textContent = "no pass changed the module";
      return;
    }
    const head = document.createElement("div");
    head.className = "jl-muted";
    head.textContent = `${step.pass} in ${step.pipeline}: before → after`;
    const table = document.createElement("table");
    const tbody = document.createElement("tbody");
    table.append(tbody);
    for (const item of step.items) {
      if (item[0] === "row") tbody.append(this.rowEl(item.slice(1) as Row));
      else tbody.append(this.foldEl(item[1], item[2]));
    }
    this.view.append(head, table);
  }

  private foldEl(start: number, end: number): HTMLElement {
    const tr = document.createElement("tr");
    tr.className = "jl-fold";
    const td = document.createElement("td");
    td.colSpan = 6;
    td.textContent = `${end - start} unchanged lines (click to show)`;
    tr.append(td);
    tr.addEventListener("click", async () => {
      td.textContent = "loading…";
      try {
        const rows = await this.fetchRows(this.data.steps[this.selected].index, start, end);
        tr.replaceWith(...rows.map((r) => this.rowEl(r)));
      } catch (err) {
        td.textContent = `could not load: ${(err as Error).message}`;
      }
    });
    return tr;
  }

  private rowEl(row: Row): HTMLElement {
    const [kind, a, b, na, nb, pa, pb] = row;
    const tr = document.createElement("tr");
    tr.className = `jl-${kind}`;
    tr.dataset.src = pa || pb || "";
    const cell = (cls: string, text: string): HTMLElement => {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      td.title = text;
      return td;
    };
    const tag = (place: string): HTMLElement => {
      const td = document.createElement("td");
      td.className = "src";
      if (place) {
        const span = document.createElement("span");
        span.className = "jl-tag";
        span.style.background = this.data.colours[place] ?? "";
        span.textContent = `L${place.slice(place.lastIndexOf(":") + 1)}`;
        span.title = place;
        td.append(span);
      }
      return td;
    };
    tr.append(cell("n", na ? String(na) : ""), tag(pa), cell("a", a ?? ""));
    tr.append(cell("n", nb ? String(nb) : ""), tag(pb), cell("b", b ?? ""));
    tr.addEventListener("mouseenter", () => this.light(tr.dataset.src ?? "", true));
    tr.addEventListener("mouseleave", () => this.light(tr.dataset.src ?? "", false));
    return tr;
  }

  private light(place: string, on: boolean): void {
    if (!place) return;
    for (const tr of this.view.querySelectorAll<HTMLElement>("tr[data-src]")) {
      if (tr.dataset.src === place) tr.classList.toggle("jl-lit", on);
    }
  }
}

function fetcher(model: AnyModel<Props>): Fetch {
  let next = 0;
  const waiting = new Map<number, (rows: Row[]) => void>();
  model.on("msg:custom", (msg: Record<string, unknown>) => {
    const resolve = waiting.get(Number(msg.req));
    if (resolve) {
      waiting.delete(Number(msg.req));
      resolve((msg.rows as Row[]) ?? []);
    }
  });
  return (step, start, end) =>
    new Promise((resolve, reject) => {
      const req = ++next;
      waiting.set(req, resolve);
      model.send({ type: "rows", req, step, start, end });
      setTimeout(() => {
        if (waiting.delete(req)) reject(new Error("the kernel did not answer (is it running?)"));
      }, 60000);
    });
}

function hideStatic(id: string): void {
  if (!id) return;
  for (const el of document.querySelectorAll<HTMLElement>(`[data-jaxlab-static="${CSS.escape(id)}"]`)) {
    const output = el.closest<HTMLElement>(".jp-OutputArea-child, .output_area") ?? el;
    output.style.display = "none";
  }
}

function render({ model, el }: RenderProps<Props>): () => void {
  try {
    const data = JSON.parse(model.get("payload")) as PassModel;
    const explorer = new PassExplorer(data, fetcher(model));
    el.replaceChildren(explorer.root);
    hideStatic(model.get("static_id"));
    el.dataset.ready = "1";
  } catch (err) {
    const box = document.createElement("div");
    box.className = "jaxlab jl-error";
    box.textContent = `jaxlab pass explorer could not start: ${(err as Error).message}`;
    el.replaceChildren(box);
  }
  return () => el.replaceChildren();
}

export default { render };
