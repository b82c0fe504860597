import assert from "node:assert/strict";
import { test } from "node:test";
import { type Fold, type Pane, paneTitle, shownAs, visibleLines } from "../src/model";

const folds: Fold[] = [
  { header: 3, first: 4, last: 6, equations: 5, kernels: 2 },
  { header: 7, first: 8, last: 9, equations: 1, kernels: 1 },
];

test("closed folds show only their header line", () => {
  assert.deepEqual(visibleLines(10, folds, new Set([3, 7])), [0, 1, 2, 3, 7]);
  assert.deepEqual(visibleLines(10, folds, new Set([7])), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(visibleLines(10, folds, new Set()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("a line inside a closed fold is shown as its header", () => {
  const closed = new Set([3]);
  assert.equal(shownAs(5, folds, closed), 3);
  assert.equal(shownAs(8, folds, closed), 8);
  assert.equal(shownAs(2, folds, closed), 2);
});

test("a pane's title counts the lines it shows, and what its folds hold", () => {
  const lines = Array.from({ length: 285 }, (_, i) => `line ${i}`);
  const pane = {
    id: "source", title: "source", dialect: "python", lines, links: [],
    folds: [
      { header: 22, first: 23, last: 140, equations: 5, kernels: 2 },
      { header: 141, first: 142, last: 284, equations: 1, kernels: 1 },
    ],
  } as unknown as Pane;
  assert.equal(paneTitle(pane), "source (24 lines; 261 more in 2 folded library frames)");
  assert.equal(paneTitle({ ...pane, folds: [] }), "source (285 lines)");
});
