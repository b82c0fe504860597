// The view model built by jaxlab.views.inspector.model: its types are generated from the Python
// classes (generated/model.ts); this module adds what the widget does with them.
import type { LineLinks } from "./generated/model";

export * from "./generated/model";

/** The groups of one line as a list. */
export function groupsOf(value: LineLinks | undefined): number[] {
  if (value === undefined || value === -1) return [];
  return typeof value === "number" ? [value] : value;
}
