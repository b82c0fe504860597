// The view model built by jaxlab.views.inspector.model: its types are generated from the Python
// classes (generated/model.ts); this module adds what the widget does with them.
import type { Fold, LineLinks, Pane, RowOf } from "./generated/model";

export * from "./generated/model";

/** A pane's title with the lines it shows: `source (23 lines; 262 more in 4 folded library
 * frames)`, not the 285 lines it holds (the same words as the static HTML's). */
export function paneTitle(pane: Pane): string {
  const folds = pane.folds ?? [];
  const hidden = folds.reduce((n, f) => n + f.last - f.first + 1, 0);
  const shown = `${pane.title} (${(pane.lines.length - hidden).toLocaleString("en-US")} lines`;
  if (!folds.length) return `${shown})`;
  const frames = folds.length === 1 ? "folded library frame" : "folded library frames";
  return `${shown}; ${hidden.toLocaleString("en-US")} more in ${folds.length} ${frames})`;
}

/** The pane lines shown, in order: every line but those inside a closed fold. */
export function visibleLines(count: number, folds: readonly Fold[], closed: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const ends = new Map<number, number>();
  for (const f of folds) if (closed.has(f.header)) ends.set(f.first, f.last);
  for (let i = 0; i < count; i++) {
    const end = ends.get(i);
    if (end !== undefined) {
      i = end;
      continue;
    }
    out.push(i);
  }
  return out;
}

/** The line standing for `line` when it is hidden: its fold's header (else itself). */
export function shownAs(line: number, folds: readonly Fold[], closed: ReadonlySet<number>): number {
  for (const f of folds) if (closed.has(f.header) && line >= f.first && line <= f.last) return f.header;
  return line;
}

/** The groups of one line as a list. */
export function groupsOf(value: LineLinks | undefined): number[] {
  if (value === undefined || value === -1) return [];
  return typeof value === "number" ? [value] : value;
}

/** The rows of a table kept one list per field (row i holds item i of every list). */
export function rowsOf<T extends { [K in keyof T]: readonly unknown[] }>(columns: T): RowOf<T>[] {
  const keys = Object.keys(columns) as (keyof T)[];
  const count = keys.length ? columns[keys[0]].length : 0;
  const rows: RowOf<T>[] = [];
  for (let i = 0; i < count; i++) {
    const row = {} as RowOf<T>;
    for (const key of keys) row[key] = columns[key][i] as RowOf<T>[keyof T];
    rows.push(row);
  }
  return rows;
}
