import assert from "node:assert/strict";
import { test } from "node:test";
import { type FusionColumns, rowsOf } from "../src/model";

test("rowsOf reads a table kept one list per field as rows", () => {
  const kernels: FusionColumns = {
    kernel: ["fusion.1", "dot.2"], kind: ["loop", "unfused"], ops: [3, 1],
    fused_ops: ["sine, multiply×2", "dot"], sources: ["f.py:3", "f.py:4"], equations: ["sin@3", "dot_general@4"],
    output: ["f32[8]", "f32[8,8]"], flops: [24, 1024], bytes: [64, 768], hlo_line: [7, 0], groups: [[1], []],
  };
  const rows = rowsOf(kernels);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1], {
    kernel: "dot.2", kind: "unfused", ops: 1, fused_ops: "dot", sources: "f.py:4", equations: "dot_general@4",
    output: "f32[8,8]", flops: 1024, bytes: 768, hlo_line: 0, groups: [],
  });
  assert.deepEqual(rowsOf({ a: [] as number[] }), []);
});
