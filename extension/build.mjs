// Bundles the widget front end into ../jaxlab/static/ (and, with --tests, the unit tests into
// build/tests/ for `node --test`).
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
const out = `${here}../jaxlab/static`;

if (process.argv.includes("--tests")) {
  const tests = readdirSync(`${here}test`).filter((f) => f.endsWith(".test.ts"));
  await build({
    entryPoints: tests.map((f) => `${here}test/${f}`),
    outdir: `${here}build/tests`,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: { inspector: `${here}src/index.ts`, viz: `${here}src/viz.ts`, passes: `${here}src/passes.ts` },
    outdir: out,
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    logLevel: "warning",
  });
}
