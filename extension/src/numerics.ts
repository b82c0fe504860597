// The values of every equation output (jaxlab.numerics, inspect with numerics=True): the
// answer as jaxlab wrote it, then every output in a table sortable by any column, each with its
// exponent histogram drawn as a sparkline with the narrower formats' ranges marked. Program
// strings reach the page as text; only `head_html`, built and escaped by jaxlab, is markup.
import { type BinadeEdge, type NumericsColumn, type NumericsRow, type NumericsSection, rowsOf } from "./model";
import { PagedTable, textCell } from "./table";
const SVG = "http://www.w3.org/2000/svg";
export const SPARK_WIDTH = 132;
export const SPARK_HEIGHT = 22;

type Key = NumericsColumn["key"];

/** A value in at most four significant digits, as the Python views write it. */
export function formatValue(x: number | null): string {
  if (x === null) return "–";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(4)));
  const [mantissa, exponent] = x.toExponential(2).split("e");
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/** A fraction (0..1) as a percentage; "" for none or zero. */
export function formatPercent(f: number | null): string {
  if (!f) return "";
  const p = f * 100;
  if (p < 0.01) return "<0.01 %";
  if (p >= 99.95 && p !== 100) return ">99.9 %";
  return `${Number(p.toPrecision(3))} %`;
}

const FLOATS = new Set<Key>(["min", "max", "absmin_nonzero"]);

export function cellText(row: NumericsRow, key: Key): string {
  if (key === "nonfinite") return row.nonfinite_text;
  const value = row[key];
  if (FLOATS.has(key)) return formatValue(value as number | null);
  if (typeof value === "number" && key !== "equation") return formatPercent(value);
  return value === null || value === undefined ? "" : String(value);
}

/** Rows sorted by one field; blanks (null) last whichever the direction. */
export function sortNumerics(rows: readonly NumericsRow[], key: Key, descending: boolean): NumericsRow[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    if (typeof x === "number" && typeof y === "number") return sign * (x - y) || a.row - b.row;
    return sign * String(x).localeCompare(String(y), undefined, { numeric: true }) || a.row - b.row;
  });
}

export interface Bar {
  x: number;
  width: number;
  height: number;
}

/** The bars of one sparkline: one per used binade, height by the logarithm of its count. */
export function sparkBars(hist: readonly number[], low: number, axis: readonly number[]): Bar[] {
  const [first, last] = axis;
  const span = last + 1 - first;
  const top = Math.max(0, ...hist);
  if (!top) return [];
  const width = Math.max(1, SPARK_WIDTH / span);
  const bars: Bar[] = [];
  hist.forEach((n, k) => {
    const binade = low + k;
    if (!n || binade < first || binade > last) return;
    const height = Math.max(1.5, ((SPARK_HEIGHT - 2) * Math.log1p(n)) / Math.log1p(top));
    bars.push({ x: ((binade - first) / span) * SPARK_WIDTH, width, height });
  });
  return bars;
}

function sparkline(row: NumericsRow, axis: readonly number[], edges: readonly BinadeEdge[]): SVGSVGElement | null {
  const bars = sparkBars(row.hist, row.hist_low, axis);
  if (!bars.length) return null;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(SPARK_WIDTH));
  svg.setAttribute("height", String(SPARK_HEIGHT));
  svg.setAttribute("class", "jl-spark");
  const title = document.createElementNS(SVG, "title");
  title.textContent = `${row.primitive} at ${row.where}: binades of |x|`;
  svg.append(title);
  const [first, last] = axis;
  const span = last + 1 - first;
  for (const edge of edges) {
    for (const [binade, what] of [[edge.low, "flushes to 0 below"], [edge.high + 1, "overflows from"]] as const) {
      if (binade < first || binade > last + 1) continue;
      const x = (((binade - first) / span) * SPARK_WIDTH).toFixed(1);
      const line = document.createElementNS(SVG, "line");
      for (const [k, v] of [["x1", x], ["x2", x], ["y1", "0"], ["y2", String(SPARK_HEIGHT)], ["stroke", edge.colour], ["stroke-dasharray", "2 2"]])
        line.setAttribute(k, v);
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = `${edge.name} ${what} 2^${binade}`;
      line.append(tip);
      svg.append(line);
    }
  }
  for (const bar of bars) {
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", bar.x.toFixed(1));
    rect.setAttribute("y", (SPARK_HEIGHT - bar.height).toFixed(1));
    rect.setAttribute("width", bar.width.toFixed(1));
    rect.setAttribute("height", bar.height.toFixed(1));
    rect.setAttribute("class", "jl-bar");
    svg.append(rect);
  }
  return svg;
}

export class NumericsTable extends PagedTable<NumericsRow, Key> {
  readonly el: HTMLElement;
  private sortKey: Key | null = null;
  private descending = true;
  private active = -1;

  constructor(
    private readonly section: NumericsSection,
    onHover: (row: NumericsRow | null) => void,
    onClick: (row: NumericsRow) => void,
    open: boolean,
  ) {
    super(rowsOf(section.rows), section.columns, "jl-table jl-numerics-table", section.total_rows, (c) => this.sortBy(c), onHover, onClick);
    this.addHead("binades", "");
    this.el = document.createElement("div");
    this.el.className = "jl-section jl-numerics";
    const head = document.createElement("div");
    head.innerHTML = section.head_html; // built and escaped by jaxlab's static renderer
    const details = document.createElement("details");
    details.open = open;
    const summary = document.createElement("summary");
    summary.textContent = `values of every equation output (${section.total_rows.toLocaleString()}; click a column to sort)`;
    const scroll = document.createElement("div");
    scroll.className = "jl-table-scroll";
    scroll.append(this.table);
    details.append(summary, scroll, this.more);
    this.el.append(head, details);
    if (open) this.draw();
    else details.addEventListener("toggle", () => this.draw(), { once: true });
  }

  sortBy(column: NumericsColumn): void {
    this.descending = this.sortKey === column.key ? !this.descending : column.numeric;
    this.sortKey = column.key;
    this.rows = sortNumerics(this.all, column.key, this.descending);
    this.draw();
  }

  /** Highlight the output at `row` (an index in Numerics.rows; -1: none). */
  setActive(row: number): void {
    this.active = row;
    this.redecorate();
  }

  protected redecorate(): void {
    for (const tr of this.tbody.children) tr.classList.toggle("jl-hl", this.shown(tr)?.row === this.active);
  }

  protected fill(tr: HTMLTableRowElement, row: NumericsRow): void {
    if (row.row === this.section.origin_row) tr.classList.add("jl-origin-row");
    for (const c of this.section.columns) {
      const bad = c.key === "nonfinite" && row.nonfinite > 0;
      tr.append(textCell(cellText(row, c.key), [c.numeric ? "num" : "", bad ? "jl-nonfinite" : ""].filter(Boolean).join(" ")));
    }
    const td = document.createElement("td");
    const svg = sparkline(row, this.section.axis, this.section.edges);
    if (svg) td.append(svg);
    tr.append(td);
  }
}
