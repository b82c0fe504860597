// A table of rows shown a page at a time, sorted by clicking a column's title; hovering or
// clicking a row is reported. The fusion explorer and the numerics table draw their own cells.

const PAGE = 200;

export interface Column<K> {
  key: K;
  title: string;
  numeric: boolean;
}

export abstract class PagedTable<R, K> {
  readonly table: HTMLTableElement;
  readonly more: HTMLButtonElement;
  protected readonly head: HTMLTableRowElement;
  protected readonly tbody: HTMLElement;
  protected rows: R[];
  private limit = PAGE;

  constructor(
    protected readonly all: R[],
    columns: readonly Column<K>[],
    className: string,
    private readonly total: number,
    onSort: (column: Column<K>) => void,
    onHover: (row: R | null) => void,
    onClick: (row: R) => void,
  ) {
    this.rows = all;
    this.table = document.createElement("table");
    this.table.className = className;
    this.head = document.createElement("tr");
    for (const c of columns) this.addHead(c.title, c.numeric ? "num" : "", () => onSort(c));
    const thead = document.createElement("thead");
    thead.append(this.head);
    this.tbody = document.createElement("tbody");
    this.table.append(thead, this.tbody);
    this.tbody.addEventListener("mouseover", (e) => onHover(this.rowOf(e.target)));
    this.tbody.addEventListener("mouseleave", () => onHover(null));
    this.tbody.addEventListener("click", (e) => {
      const row = this.rowOf(e.target);
      if (row) onClick(row);
    });
    this.more = document.createElement("button");
    this.more.className = "jl-button";
    this.more.addEventListener("click", () => {
      this.limit += PAGE * 5;
      this.draw();
    });
  }

  /** A column title; `onSort` (if any) runs when it is clicked. */
  protected addHead(title: string, className: string, onSort?: () => void): void {
    const th = document.createElement("th");
    th.textContent = title;
    if (className) th.className = className;
    if (onSort) {
      th.title = "sort";
      th.addEventListener("click", onSort);
    }
    this.head.append(th);
  }

  private rowOf(target: EventTarget | null): R | null {
    const tr = (target as HTMLElement | null)?.closest?.("tr") as HTMLElement | null;
    if (!tr || tr.dataset.r === undefined) return null;
    return this.rows[Number(tr.dataset.r)] ?? null;
  }

  /** The row shown as `tr` (null for none). */
  protected shown(tr: Element): R | undefined {
    return this.rows[Number((tr as HTMLElement).dataset.r)];
  }

  /** Fill one table row with the cells of `row`. */
  protected abstract fill(tr: HTMLTableRowElement, row: R): void;

  /** Marks that depend on state (highlighted rows), redone after every draw. */
  protected abstract redecorate(): void;

  draw(): void {
    const frag = document.createDocumentFragment();
    this.rows.slice(0, this.limit).forEach((row, r) => {
      const tr = document.createElement("tr");
      tr.dataset.r = String(r);
      this.fill(tr, row);
      frag.append(tr);
    });
    this.tbody.replaceChildren(frag);
    const left = this.rows.length - this.limit;
    this.more.hidden = left <= 0;
    this.more.textContent = `show more (${left.toLocaleString()} left of ${this.total.toLocaleString()})`;
    this.redecorate();
  }
}

/** A table cell holding `text`. */
export function textCell(text: string, className = ""): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}
