import assert from "node:assert/strict";
import { test } from "node:test";
import { type Item, type Step, rowsOf, sourcePlaces, visibleSteps } from "../src/passes";

const step = (pass: string, renumbering_only: boolean, items: Item[] = []): Step => ({
  index: 0, pass, pipeline: "p", renumbering_only, removed: 1, added: 1, items,
});

test("passes that only renumbered names are hidden unless asked", () => {
  const steps = [step("fusion", false), step("cse", true), step("copy-insertion", false)];
  assert.deepEqual(visibleSteps(steps, false).map((s) => s.pass), ["fusion", "copy-insertion"]);
  assert.equal(visibleSteps(steps, true).length, 3);
});

test("the source lines of the rows, each once, on both sides", () => {
  const items: Item[] = [
    ["row", "removed", "%a = add", null, 3, 0, "f.py:2", ""],
    ["fold", 1, 9],
    ["row", "added", null, "%b = fusion", 0, 4, "", "f.py:2"],
    ["row", "changed", "%c", "%c", 5, 5, "f.py:3", "f.py:3"],
  ];
  const rows = rowsOf(items);
  assert.equal(rows.length, 3);
  assert.deepEqual(sourcePlaces(rows), ["f.py:2", "f.py:3"]);
});
