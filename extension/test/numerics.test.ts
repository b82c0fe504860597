import assert from "node:assert/strict";
import { test } from "node:test";
import { type NumericsColumns, rowsOf } from "../src/model";
import { SPARK_HEIGHT, SPARK_WIDTH, cellText, formatPercent, formatValue, sortNumerics, sparkBars } from "../src/numerics";

function columns(): NumericsColumns {
  return {
    row: [0, 1, 2], equation: [0, 1, 2], primitive: ["log", "mul", "exp"], phase: ["forward", "forward", "backward"],
    where: ["In [3], line 2", "In [3], line 3", "In [3], line 4"], scope: ["", "", ""],
    value: ["f32[3]", "f32[3]", "f32[]"], nonfinite: [1, 0, 0], nonfinite_text: ["-Inf 1", "", ""],
    min: [0, -2.5, null], max: [0.6931, 12345.6, null], absmin_nonzero: [0.6931, 1e-8, null],
    zero_frac: [0.3333, 0, null], subnormal_frac: [0, 0, null], overflow_bf16: [0, 0, null],
    overflow_f16: [0, 0.5, null], underflow_f16: [0, 0.25, null], overflow_fp8_e4m3: [0, 0.5, null],
    underflow_fp8_e4m3: [0, 0.5, null], hist_low: [-1, -27, 0], hist: [[1], [1, 0, 2], []],
    eqn_path: ["0", "1", "2/jaxpr/0"], jaxpr_line: [1, 2, -1],
  };
}

test("values and fractions are written as the Python views write them", () => {
  assert.equal(formatValue(null), "–");
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(0.693147), "0.6931");
  assert.equal(formatValue(12345.6), "1.23e4");
  assert.equal(formatValue(-3.1e-8), "-3.1e-8");
  assert.equal(formatPercent(0), "");
  assert.equal(formatPercent(0.3333), "33.3 %");
  assert.equal(formatPercent(1e-6), "<0.01 %");
  assert.equal(formatPercent(1), "100 %");
  const rows = rowsOf(columns());
  assert.equal(cellText(rows[0], "nonfinite"), "-Inf 1");
  assert.equal(cellText(rows[1], "overflow_f16"), "50 %");
  assert.equal(cellText(rows[1], "max"), "1.23e4");
  assert.equal(cellText(rows[2], "min"), "–");
  assert.equal(cellText(rows[2], "equation"), "2");
});

test("sorting keeps blanks last in both directions", () => {
  const rows = rowsOf(columns());
  assert.deepEqual(sortNumerics(rows, "max", true).map((r) => r.row), [1, 0, 2]);
  assert.deepEqual(sortNumerics(rows, "max", false).map((r) => r.row), [0, 1, 2]);
  assert.deepEqual(sortNumerics(rows, "min", false).map((r) => r.row), [1, 0, 2]);
  assert.deepEqual(sortNumerics(rows, "primitive", false).map((r) => r.primitive), ["exp", "log", "mul"]);
  assert.deepEqual(rows.map((r) => r.row), [0, 1, 2]); // the input is not changed
});

test("sparkline bars sit at their binade on the shared axis", () => {
  const bars = sparkBars([1, 0, 100], -27, [-30, 9]);
  assert.equal(bars.length, 2);
  const per = SPARK_WIDTH / 40;
  assert.ok(Math.abs(bars[0].x - 3 * per) < 1e-9);
  assert.ok(Math.abs(bars[1].x - 5 * per) < 1e-9);
  assert.equal(bars[1].height, SPARK_HEIGHT - 2); // the fullest binade is full height
  assert.ok(bars[0].height < bars[1].height);
  assert.deepEqual(sparkBars([], 0, [-30, 9]), []);
  assert.deepEqual(sparkBars([5], 40, [-30, 9]), []); // off the axis
});
