// The fusion explorer: every kernel, sortable by any column; hovering a row links it.
import { type FusionColumn, type FusionRow, type FusionsSection, rowsOf } from "./model";
import { formatBytes, formatCount, sortRows } from "./sort";
import { PagedTable, textCell } from "./table";
import { formatUs } from "./timeline";

function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
}
type Key = FusionColumn["key"];

function cell(row: FusionRow, key: Key): string {
  if (key === "flops") return formatCount(row.flops);
  if (key === "bytes") return formatBytes(row.bytes);
  return String(row[key]);
}

export class FusionTable extends PagedTable<FusionRow, Key> {
  readonly el: HTMLElement;
  private sortColumn: Key | null = null;
  private descending = true;
  private active: ReadonlySet<number> = new Set();
  private times: ReadonlyMap<string, number> | null = null;
  private byTime = false;

  constructor(
    private readonly section: FusionsSection,
    onHover: (row: FusionRow | null) => void,
    onClick: (row: FusionRow) => void,
  ) {
    super(rowsOf(section.kernels), section.columns, "jl-table", section.total_rows, (c) => this.sortBy(c), onHover, onClick);
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
    this.el.append(summary, note, this.table, this.more);
    this.el.addEventListener("toggle", () => this.draw(), { once: true });
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
    this.addHead("measured time/call", "num jl-time", () => this.sortByTime());
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
    this.redecorate();
  }

  protected redecorate(): void {
    for (const tr of this.tbody.children) {
      const row = this.shown(tr);
      tr.classList.toggle("jl-hl", !!row && row.groups.some((g) => this.active.has(g)));
    }
  }

  protected fill(tr: HTMLTableRowElement, row: FusionRow): void {
    for (const c of this.section.columns) tr.append(textCell(cell(row, c.key), c.numeric ? "num" : ""));
    if (this.times) {
      const t = this.times.get(row.kernel);
      tr.append(textCell(t === undefined ? "" : formatUs(t * 1e6), "num jl-time"));
    }
  }
}
