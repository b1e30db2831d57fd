#!/usr/bin/env node
/**
 * Runs the whole suite on every target and prints one summary line:
 *   1. builds the npm package (scripts/build_npm.ts) and packs it;
 *   2. `deno test`, `bun test`, and `node --test` over the built files on
 *      Node 20 (the machine's), 22, 24 and 26 (from node_modules);
 *   3. prints the counts per target and `N passed, N failed, N skipped`.
 *
 * Plain JavaScript so that the machine's own Node runs it with no build step.
 * Usage: node scripts/run_tests.mjs [--only checks,deno,bun,node20,node22,node24,node26] [-- test files]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules/.bin", name);
const TIMEOUT_MS = 20 * 60 * 1000;
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1].split(",") : null;
const files = args.includes("--") ? args.slice(args.indexOf("--") + 1) : [];

/** The machine's Node (the one running npm), not the node_modules/.bin one. */
const systemNode = process.env.npm_node_execpath || process.execPath;

function run(label, command, commandArgs, options = {}) {
  console.log(
    `\n=== ${label}: ${[command, ...commandArgs].map((a) => relative(root, a) || a).join(" ")}`,
  );
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    ...options,
  });
  process.stdout.write(result.stdout ?? "");
  process.stderr.write(result.stderr ?? "");
  if (result.error) console.log(`${label}: ${result.error.message}`);
  return result;
}

function testFiles(dir, suffix) {
  const found = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(suffix)) found.push(path);
    }
  };
  for (const sub of ["src", "tests"]) if (existsSync(join(dir, sub))) walk(join(dir, sub));
  return found.sort();
}

function countDeno(junitPath) {
  if (!existsSync(junitPath)) return null;
  const xml = readFileSync(junitPath, "utf8");
  const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)]
    .map(([, name, body]) => ({ name, body }));
  const names = cases.map((c) => c.name);
  const leaves = cases.filter((c) => !names.some((n) => n.startsWith(`${c.name} &gt; `)));
  const failed = leaves.filter((c) => c.body.includes("<failure")).length;
  const skipped = leaves.filter((c) => c.body.includes("<skipped")).length;
  // A failing suite (describe) whose steps all passed still fails the run.
  const suiteFailures =
    cases.filter((c) => !leaves.includes(c) && c.body.includes("<failure")).length;
  return {
    passed: leaves.length - failed - skipped,
    failed: failed + (failed ? 0 : suiteFailures),
    skipped,
  };
}

function countBun(output) {
  const get = (word) => Number(output.match(new RegExp(`^\\s*(\\d+) ${word}$`, "m"))?.[1] ?? 0);
  if (!/Ran \d+ tests?/.test(output)) return null;
  return { passed: get("pass"), failed: get("fail"), skipped: get("skip") + get("todo") };
}

function countNode(output) {
  const get = (word) => Number(output.match(new RegExp(`^# ${word} (\\d+)$`, "m"))?.[1] ?? 0);
  if (!/^# tests \d+$/m.test(output)) return null;
  return {
    passed: get("pass"),
    failed: get("fail") + get("cancelled"),
    skipped: get("skipped") + get("todo"),
  };
}

const results = [];
function record(label, counts, result) {
  const ok = result.status === 0;
  if (!counts) counts = { passed: 0, failed: 1, skipped: 0 };
  else if (!ok && counts.failed === 0) counts.failed = 1; // crashed or timed out after its tests
  results.push({ label, ...counts });
}

const want = (label) => !only || only.includes(label);

// 1. The npm build, which the Node targets test.
const build = run("build", bin("deno"), ["run", "-A", "scripts/build_npm.ts"]);
if (build.status !== 0) results.push({ label: "build", passed: 0, failed: 1, skipped: 0 });
else {
  mkdirSync(join(root, ".build"), { recursive: true });
  run("pack", "npm", ["pack", "./npm", "--pack-destination", ".build", "--silent"]);
}

// 2. Static checks, each counted as one test: format, lint, the JSR package, the doc examples.
if (want("checks")) {
  const docs = [
    "mod.ts",
    ...testFiles(root, ".ts").filter((f) => f.includes("/src/") && !f.endsWith("_test.ts")),
  ];
  const checks = [
    ["deno fmt --check", ["fmt", "--check"]],
    ["deno lint", ["lint"]],
    ["deno publish --dry-run", ["publish", "--dry-run", "--allow-dirty"]],
    ["doc examples", ["test", "--doc", "-A", "--unstable-net", ...docs]],
  ];
  let passed = 0;
  for (const [name, checkArgs] of checks) {
    const result = run(`check: ${name}`, bin("deno"), checkArgs);
    if (result.status === 0) passed++;
    else console.log(`check failed: ${name}`);
  }
  results.push({ label: "checks", passed, failed: checks.length - passed, skipped: 0 });
}

// 3. Deno and Bun run the TypeScript sources.
if (want("deno")) {
  const junit = join(root, ".build/deno-junit.xml");
  rmSync(junit, { force: true });
  const result = run("deno", bin("deno"), [
    "test",
    "-A",
    "--unstable-net", // Deno's reusePort needs it
    "--reporter=dot",
    `--junit-path=${junit}`,
    ...files,
  ]);
  record("deno", countDeno(junit), result);
}
if (want("bun")) {
  const result = run("bun", bin("bun"), [
    "test",
    "--timeout=120000",
    ...(files.length ? files : ["./src", "./tests"]),
  ]);
  record("bun", countBun(`${result.stdout}\n${result.stderr}`), result);
}

// 4. Node runs the built JavaScript in npm/esm.
const nodes = [
  ["node20", systemNode],
  ["node22", join(root, "node_modules/node22/bin/node")],
  ["node24", join(root, "node_modules/node24/bin/node")],
  ["node26", join(root, "node_modules/node26/bin/node")],
];
const built = build.status === 0
  ? (files.length
    ? files.map((f) => join(root, "npm/esm", f.replace(/\.ts$/, ".js")))
    : testFiles(join(root, "npm/esm"), "_test.js"))
  : [];
for (const [label, node] of nodes) {
  if (!want(label) || build.status !== 0) continue;
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim();
  const result = run(`${label} (${version})`, node, ["--test", "--test-reporter=tap", ...built]);
  record(label, countNode(result.stdout), result);
}

console.log("\n=== summary");
for (const r of results) {
  console.log(`${r.label}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
}
const total = (key) => results.reduce((n, r) => n + r[key], 0);
console.log(`${total("passed")} passed, ${total("failed")} failed, ${total("skipped")} skipped`);
process.exitCode = total("failed") > 0 ? 1 : 0;
