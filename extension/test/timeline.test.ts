import assert from "node:assert/strict";
import { test } from "node:test";
import { boxAt, layout, type TimelineModel } from "../src/timeline";

function model(n: number, dur: number): TimelineModel {
  const events: [number, number, number, number][] = [];
  for (let i = 0; i < n; i++) events.push([i % 2, i * dur, dur, i % 7]);
  return {
    call: 0,
    duration_us: n * dur,
    tracks: ["device 0", "device 1"],
    events,
    kernels: Array.from({ length: 7 }, (_, k) => ({ name: `k${k}`, kind: "loop fusion", groups: [k], lines: [], scope: "", collective: false })),
    fills: ["#000"],
  };
}

test("kernels at least a pixel wide keep a box each", () => {
  const m = model(10, 10);
  const boxes = layout(m, 1); // 10 px per kernel
  assert.equal(boxes[0].length + boxes[1].length, 10);
  assert.ok(boxes.flat().every((b) => b.count === 1 && b.kernel >= 0));
});

test("thousands of sub-pixel kernels merge into at most a few boxes per pixel", () => {
  const m = model(20000, 0.01);
  const width = 800;
  const boxes = layout(m, width / m.duration_us);
  for (const track of boxes) assert.ok(track.length <= width + 1, `${track.length} boxes`);
  const merged = boxes.flat().reduce((s, b) => s + b.count, 0);
  assert.equal(merged, 20000);
  assert.ok(boxes.flat().some((b) => b.kernel === -1));
});

test("boxAt finds the box under the pointer", () => {
  const m = model(10, 10);
  const track = layout(m, 1)[0];
  const hit = boxAt(track, track[2].x0 + 3);
  assert.equal(hit, track[2]);
  assert.equal(boxAt(track, -50), null);
});
