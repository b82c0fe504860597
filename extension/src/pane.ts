// A virtualised code pane: only the lines in view are in the page, so a pane of 100,000 lines
// costs what a pane of 50 does.
import { tokenize } from "./highlight";
import { LinkIndex } from "./links";
import { PALETTE, type Pane, paneTitle, shownAs, type ValueCell, visibleLines } from "./model";

export const LINE_HEIGHT = 16;
const OVERSCAN = 20;

export interface PaneEvents {
  hover(pane: CodePane, line: number | null): void;
  click(pane: CodePane, line: number): void;
}

export class CodePane {
  readonly el: HTMLElement;
  readonly scroller: HTMLElement;
  readonly index: LinkIndex;
  private readonly body: HTMLElement;
  private readonly rendered = new Map<number, HTMLElement>();
  private active: ReadonlySet<number> = new Set();
  private matches: ReadonlySet<number> = new Set();
  private current = -1;
  private frame = 0;
  private heat: ReadonlyMap<number, number> = new Map();
  /** the values column (inspect with numerics=True), marked lines and the origin's line */
  private values: ReadonlyMap<number, ValueCell> | null = null;
  private marks: ReadonlyMap<number, string> = new Map();
  private origin = -1;
  /** the error column (inspect with compare=...), the source lines' heat by the error made on
   * them, and the line that makes the most error */
  private errors: ReadonlyMap<number, ValueCell> | null = null;
  private errorHeat: ReadonlyMap<number, number> = new Map();
  private creator = -1;
  /** headers of the folds that are closed (all of them at first) */
  private readonly closed: Set<number>;
  private readonly folds: Map<number, { last: number }>;
  /** pane line of each row shown, and the row of each shown line */
  private rows: number[] = [];
  private rowOf = new Map<number, number>();

  constructor(readonly pane: Pane, private readonly events: PaneEvents) {
    this.index = new LinkIndex(pane);
    this.el = document.createElement("div");
    this.el.className = "jl-pane";
    const title = document.createElement("div");
    title.className = "jl-pane-title";
    title.textContent = paneTitle(pane);
    this.scroller = document.createElement("div");
    this.scroller.className = "jl-scroll jl-code";
    this.body = document.createElement("div");
    this.body.className = "jl-body";
    this.folds = new Map((pane.folds ?? []).map((f) => [f.header, f]));
    this.closed = new Set(this.folds.keys());
    this.layout();
    this.scroller.append(this.body);
    this.el.append(title, this.scroller);
    this.scroller.addEventListener("scroll", () => this.schedule());
    this.scroller.addEventListener("mouseover", (e) => {
      const line = this.lineOf(e.target);
      if (line !== null) this.events.hover(this, line);
    });
    this.scroller.addEventListener("mouseleave", () => this.events.hover(this, null));
    this.scroller.addEventListener("click", (e) => {
      const toggle = (e.target as HTMLElement | null)?.closest?.(".jl-fold-toggle");
      if (toggle) {
        e.stopPropagation();
        const line = this.lineOf(e.target);
        if (line !== null) this.toggle(line);
        return;
      }
      const line = this.lineOf(e.target);
      if (line !== null) this.events.click(this, line);
    });
  }

  /** Recompute the rows shown after a fold opened or closed. */
  private layout(): void {
    this.rows = visibleLines(this.pane.lines.length, this.pane.folds ?? [], this.closed);
    this.rowOf = new Map(this.rows.map((line, row) => [line, row]));
    this.body.style.height = `${this.rows.length * LINE_HEIGHT + 8}px`;
    this.scroller.style.height = `${Math.min(340, this.rows.length * LINE_HEIGHT + 26)}px`;
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
  }

  /** Open or close the fold whose header is `header`. */
  toggle(header: number): void {
    if (!this.folds.has(header)) return;
    if (this.closed.has(header)) this.closed.delete(header);
    else this.closed.add(header);
    this.layout();
    this.render();
  }

  isOpen(header: number): boolean {
    return this.folds.has(header) && !this.closed.has(header);
  }

  private lineOf(target: EventTarget | null): number | null {
    const el = (target as HTMLElement | null)?.closest?.(".jl-l") as HTMLElement | null;
    if (!el || !this.scroller.contains(el)) return null;
    return Number(el.dataset.i);
  }

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draw the lines in view (and a few around), drop the others. */
  render(): void {
    const height = this.scroller.clientHeight || 340;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / LINE_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((this.scroller.scrollTop + height) / LINE_HEIGHT) + OVERSCAN);
    const wanted = new Set(this.rows.slice(first, last));
    for (const [i, el] of this.rendered) {
      if (!wanted.has(i)) {
        el.remove();
        this.rendered.delete(i);
      }
    }
    for (let row = first; row < last; row++) {
      const i = this.rows[row];
      let el = this.rendered.get(i);
      if (!el) {
        el = this.line(i, row);
        this.rendered.set(i, el);
        this.body.append(el);
      }
      this.decorate(i, el);
    }
  }

  private line(i: number, row: number): HTMLElement {
    const el = document.createElement("div");
    el.className = "jl-l";
    el.dataset.i = String(i);
    el.style.top = `${row * LINE_HEIGHT + 4}px`;
    const headers = this.pane.headers;
    if (this.pane.numbers) {
      const num = document.createElement("span");
      num.className = "jl-num";
      const n = this.pane.numbers[i];
      num.textContent = n ? String(n) : "";
      el.append(num);
    }
    if (this.values) el.append(valueCell(this.values.get(i)));
    if (this.errors) el.append(valueCell(this.errors.get(i), "jl-err"));
    if (headers && headers.includes(i)) {
      el.classList.add("jl-hdr");
      if (this.folds.has(i)) {
        const toggle = document.createElement("span");
        toggle.className = "jl-fold-toggle";
        toggle.textContent = this.closed.has(i) ? "▸ " : "▾ ";
        toggle.title = this.closed.has(i) ? "show this library frame" : "fold this library frame";
        el.dataset.fold = this.closed.has(i) ? "closed" : "open";
        el.append(toggle);
      }
      el.append(document.createTextNode(this.pane.lines[i]));
      return el;
    }
    for (const [cls, text] of tokenize(this.pane.lines[i], this.pane.dialect)) {
      if (cls) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;
        el.append(span);
      } else {
        el.append(document.createTextNode(text));
      }
    }
    if (!el.textContent) el.append(document.createTextNode(" "));
    return el;
  }

  private decorate(i: number, el: HTMLElement): void {
    const groups = this.index.groups(i);
    const colour = groups.length ? `jl-c${groups[0] % PALETTE}` : "";
    el.className = [
      "jl-l",
      colour,
      this.pane.headers?.includes(i) ? "jl-hdr" : "",
      this.index.isActive(i, this.active) ? "jl-hl" : "",
      this.matches.has(i) ? "jl-match" : "",
      i === this.current ? "jl-current" : "",
      this.marks.has(i) ? `jl-mark-${this.marks.get(i)}` : "",
      i === this.origin ? "jl-origin" : "",
      i === this.creator ? "jl-origin jl-creator" : "",
      this.errorHeat.has(i) ? "jl-err-heat" : "",
    ].filter(Boolean).join(" ");
    const made = this.errorHeat.get(i);
    if (made !== undefined) el.style.setProperty("--jl-err", String(made));
    if (groups.length) el.dataset.g = groups.join(" ");
    const heat = this.heat.get(i);
    el.classList.toggle("jl-hot", !!heat);
    if (heat) el.style.setProperty("--jl-heat", (0.15 + 0.85 * heat).toFixed(2));
  }

  /** The values column beside every line (`values`, null for none), lines marked for the
   * NaN or Inf they made, and the line of the first one's origin (-1: none). */
  setNumerics(values: ReadonlyMap<number, ValueCell> | null, marks: ReadonlyMap<number, string>, origin: number): void {
    this.values = values;
    this.marks = marks;
    this.origin = origin;
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
    this.render();
  }

  /** The error column beside every line (`errors`, null for none), the heat of the error
   * made on each line (0..1), and the line that makes the most (-1: none). */
  setErrors(errors: ReadonlyMap<number, ValueCell> | null, heat: ReadonlyMap<number, number>, creator: number): void {
    this.errors = errors;
    this.errorHeat = heat;
    this.creator = creator;
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
    this.render();
  }

  /** Measured time per line (0..1 of the hottest), drawn as a red bar at the line's left. */
  setHeat(heat: ReadonlyMap<number, number>): void {
    this.heat = heat;
    for (const [i, el] of this.rendered) this.decorate(i, el);
  }

  setActive(active: ReadonlySet<number>): void {
    this.active = active;
    for (const [i, el] of this.rendered) this.decorate(i, el);
  }

  setMatches(matches: ReadonlySet<number>, current: number): void {
    this.matches = matches;
    this.current = current;
    for (const [i, el] of this.rendered) this.decorate(i, el);
  }

  isVisible(line: number): boolean {
    const row = this.rowOf.get(shownAs(line, this.pane.folds ?? [], this.closed));
    if (row === undefined) return false;
    const top = row * LINE_HEIGHT;
    return top >= this.scroller.scrollTop && top + LINE_HEIGHT <= this.scroller.scrollTop + this.scroller.clientHeight;
  }

  /** Scroll so that `line` is in view (centred), unless it already is. */
  reveal(line: number): void {
    if (this.isVisible(line)) return;
    const row = this.rowOf.get(shownAs(line, this.pane.folds ?? [], this.closed)) ?? 0;
    this.scroller.scrollTop = Math.max(0, row * LINE_HEIGHT - this.scroller.clientHeight / 2);
    this.render();
  }

  /** Bring the first linked line into view when none of them is visible. */
  revealActive(): void {
    const lines = this.index.linesOf(this.active);
    if (lines.length && !lines.some((l) => this.isVisible(l))) this.reveal(lines[0]);
  }
}

function valueCell(cell: ValueCell | undefined, extra = ""): HTMLElement {
  const span = document.createElement("span");
  span.className = extra ? `jl-val ${extra}` : "jl-val";
  if (!cell) return span;
  span.classList.add(`jl-val-${cell.state}`);
  span.textContent = cell.text;
  span.title = cell.tip;
  span.style.setProperty("--jl-heat", String(cell.heat));
  return span;
}
