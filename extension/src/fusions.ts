// The fusion explorer: every kernel, sortable by any column; hovering a row links it.
import { type FusionColumn, type FusionRow, type FusionsSection, rowsOf } from "./model";
import { formatBytes, formatCount, sortRows } from "./sort";
import { formatUs } from "./timeline";

const PAGE = 200;

function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
}
type Key = FusionColumn["key"];

function cell(row: FusionRow, key: Key): string {
  if (key === "flops") return formatCount(row.flops);
  if (key === "bytes") return formatBytes(row.bytes);
  return String(row[key]);
}

export class FusionTable {
  readonly el: HTMLElement;
  private readonly all: FusionRow[];
  private rows: FusionRow[];
  private limit = PAGE;
  private sortColumn: Key | null = null;
  private descending = true;
  private readonly tbody: HTMLElement;
  private readonly more: HTMLButtonElement;
  private active: ReadonlySet<number> = new Set();
  private times: ReadonlyMap<string, number> | null = null;
  private byTime = false;
  private readonly head: HTMLElement;

  constructor(
    private readonly section: FusionsSection,
    private readonly onHover: (row: FusionRow | null) => void,
    private readonly onClick: (row: FusionRow) => void,
  ) {
    this.all = rowsOf(section.kernels);
    this.rows = this.all;
    this.el = document.createElement("details");
    this.el.className = "jl-fusions";
    const summary = document.createElement("summary");
    const t = section.totals;
    summary.textContent = `fusion explorer: ${plural(Number(t.kernels), "kernel")} (${plural(Number(t.fusions), "fusion")})`;
    const note = document.createElement("div");
    note.className = "jl-muted";
    note.textContent =
      `estimated from shapes: ${formatCount(Number(t.est_flops))} FLOPs, ${formatBytes(Number(t.est_bytes))} read and written` +
      ` · XLA's estimates: ${t.xla_flops_text} FLOPs, ${t.xla_bytes_text} accessed`;
    const table = document.createElement("table");
    table.className = "jl-table";
    const head = document.createElement("tr");
    for (const c of section.columns) {
      const th = document.createElement("th");
      th.textContent = c.title;
      th.title = "sort";
      if (c.numeric) th.className = "num";
      th.addEventListener("click", () => this.sortBy(c));
      head.append(th);
    }
    this.head = head;
    const thead = document.createElement("thead");
    thead.append(head);
    this.tbody = document.createElement("tbody");
    table.append(thead, this.tbody);
    this.tbody.addEventListener("mouseover", (e) => this.onHover(this.rowOf(e.target)));
    this.tbody.addEventListener("mouseleave", () => this.onHover(null));
    this.tbody.addEventListener("click", (e) => {
      const row = this.rowOf(e.target);
      if (row) this.onClick(row);
    });
    this.more = document.createElement("button");
    this.more.className = "jl-button";
    this.more.addEventListener("click", () => {
      this.limit += PAGE * 5;
      this.draw();
    });
    this.el.append(summary, note, table, this.more);
    this.el.addEventListener("toggle", () => this.draw(), { once: true });
  }

  private rowOf(target: EventTarget | null): FusionRow | null {
    const tr = (target as HTMLElement | null)?.closest?.("tr") as HTMLElement | null;
    if (!tr || tr.dataset.r === undefined) return null;
    return this.rows[Number(tr.dataset.r)] ?? null;
  }

  sortBy(column: FusionColumn): void {
    this.descending = this.sortColumn === column.key ? !this.descending : column.numeric;
    this.sortColumn = column.key;
    this.byTime = false;
    this.rows = sortRows(this.all, column.key, this.descending);
    this.draw();
  }

  /** Add the measured time per call of each kernel as a sortable column (from a profile). */
  setTimes(times: ReadonlyMap<string, number>): void {
    this.times = times;
    const th = document.createElement("th");
    th.textContent = "measured time/call";
    th.title = "sort";
    th.className = "num jl-time";
    th.addEventListener("click", () => this.sortByTime());
    this.head.append(th);
    this.sortByTime();
  }

  private sortByTime(): void {
    const times = this.times;
    if (!times) return;
    this.descending = this.byTime ? !this.descending : true;
    this.byTime = true;
    this.sortColumn = null;
    const sign = this.descending ? -1 : 1;
    const time = (row: FusionRow) => times.get(row.kernel) ?? -1;
    this.rows = [...this.all].sort((a, b) => sign * (time(a) - time(b)));
    this.draw();
  }

  setActive(active: ReadonlySet<number>): void {
    this.active = active;
    for (const tr of this.tbody.children) {
      const row = this.rows[Number((tr as HTMLElement).dataset.r)];
      tr.classList.toggle("jl-hl", !!row && row.groups.some((g) => active.has(g)));
    }
  }

  draw(): void {
    const frag = document.createDocumentFragment();
    this.rows.slice(0, this.limit).forEach((row, r) => {
      const tr = document.createElement("tr");
      tr.dataset.r = String(r);
      for (const c of this.section.columns) {
        const td = document.createElement("td");
        td.textContent = cell(row, c.key);
        if (c.numeric) td.className = "num";
        tr.append(td);
      }
      if (this.times) {
        const td = document.createElement("td");
        const t = this.times.get(row.kernel);
        td.className = "num jl-time";
        td.textContent = t === undefined ? "" : formatUs(t * 1e6);
        tr.append(td);
      }
      frag.append(tr);
    });
    this.tbody.replaceChildren(frag);
    const left = this.rows.length - this.limit;
    this.more.hidden = left <= 0;
    this.more.textContent = `show more (${left.toLocaleString()} left of ${this.section.total_rows.toLocaleString()})`;
    this.setActive(this.active);
  }
}
