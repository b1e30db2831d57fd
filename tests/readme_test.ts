/**
 * Every ```ts block of README.md runs on this runtime, as a reader would run
 * it: in a child process of its own, with `@tcpkit/tcpkit` (and its subpaths)
 * mapped onto this checkout, and it must exit 0 by itself within a bound (a
 * server left open keeps the child alive and fails the test). Examples listen
 * on port 0 and print what they get. A block marked ```ts ignore is a fragment
 * and is counted as a skip.
 *
 * On Node the suite runs the built JavaScript in npm/, and Node 20 cannot strip
 * types, so the block is turned into JavaScript here with TypeScript's
 * `transpileModule` (types removed, syntax kept: target ESNext, so that a
 * block using syntax a Node lacks, such as `await using` on Node 20 and 22,
 * fails there as it would for a reader). The README is read at test time, so
 * the examples checked are always the current ones.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT, run, RUNTIME } from "./_helpers.ts";

/** How long one example may run. */
const EXAMPLE_TIMEOUT_MS = 20_000;

/** A fenced TypeScript block of README.md. */
export interface ReadmeBlock {
  /** The line of its opening fence, from 1. */
  line: number;
  /** The section it is in (the last `## ` heading before it). */
  section: string;
  /** Marked ```ts ignore. */
  ignored: boolean;
  code: string;
}

/**
 * The ```ts blocks of a Markdown text.
 *
 * @param markdown The text.
 * @returns Each block, in order.
 */
export function tsBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split("\n");
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("## ")) section = lines[i].slice(3);
    const open = /^```(ts|typescript)(\s+ignore)?\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    while (++i < lines.length && lines[i] !== "```");
    blocks.push({
      line: start + 1,
      section,
      ignored: open[2] !== undefined,
      code: lines.slice(start + 1, i).join("\n"),
    });
  }
  return blocks;
}

/** `@tcpkit/tcpkit` and its subpaths, mapped onto this checkout's files for this runtime. */
function importMap(): Map<string, string> {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const map = new Map<string, string>();
  for (const [name, path] of Object.entries(deno.exports as Record<string, string>)) {
    const file = RUNTIME === "node"
      ? join(ROOT, "npm/esm", path.replace(/\.ts$/, ".js"))
      : join(ROOT, path);
    map.set(name === "." ? deno.name : `${deno.name}${name.slice(1)}`, pathToFileURL(file).href);
  }
  return map;
}

/** The block as a module this runtime runs: imports mapped, and on Node types stripped. */
async function toModule(code: string, map: Map<string, string>): Promise<string> {
  const mapped = code.replace(
    /(from\s+|import\s*\(\s*)"(@tcpkit\/tcpkit(?:\/[\w-]+)?)"/g,
    (whole, head, name) => map.has(name) ? `${head}"${map.get(name)}"` : whole,
  );
  if (RUNTIME !== "node") return mapped;
  const ts = (await import("typescript")).default;
  return ts.transpileModule(mapped, {
    compilerOptions: { target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.ESNext },
  }).outputText;
}

/** The command that runs a module file on this runtime. */
function runCommand(file: string): string[] {
  if (RUNTIME === "deno") return [process.execPath, "run", "-A", file];
  if (RUNTIME === "bun") return [process.execPath, "run", file];
  return [process.execPath, file];
}

/**
 * Runs one example to its end.
 *
 * @param code The block's TypeScript.
 * @param timeoutMs Killed after this long.
 * @returns The exit code and output.
 */
export async function runExample(
  code: string,
  timeoutMs = EXAMPLE_TIMEOUT_MS,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "tcpkit-readme-"));
  try {
    const file = join(dir, RUNTIME === "node" ? "example.mjs" : "example.ts");
    writeFileSync(file, await toModule(code, importMap()));
    const result = await run(runCommand(file), "", timeoutMs);
    return { ...result, stdout: new TextDecoder().decode(result.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const blocks = tsBlocks(README);

test(`README.md has runnable TypeScript examples, and says how many are fragments`, () => {
  const ignored = blocks.filter((b) => b.ignored);
  assert.ok(blocks.length - ignored.length >= 2, "at least the Quick start and Framing examples");
  for (const block of ignored) {
    assert.match(block.code, /^\/\/ A fragment: /, `README.md:${block.line} says why it is one`);
  }
});

/**
 * What an example says it prints: each `console.log(...); // "text"` line's text.
 *
 * @param code The block.
 * @returns The lines it prints, in order.
 */
export function expectedOutput(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);\s*\/\/ "(.*)"$/gm)].map((m) => m[1]);
}

for (const block of blocks) {
  test(
    `README.md:${block.line} (${block.section}) runs on ${RUNTIME}, ends by itself and prints what it says`,
    {
      skip: block.ignored
        ? `README.md:${block.line} is marked \`\`\`ts ignore (a fragment)`
        : false,
    },
    async () => {
      const result = await runExample(block.code);
      assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}${result.stderr}`);
      const expected = expectedOutput(block.code);
      assert.ok(expected.length > 0, "an example says what it prints");
      assert.deepEqual(result.stdout.split("\n").slice(0, -1), expected);
    },
  );
}

test("runExample() fails for an example that throws or never ends", async () => {
  const thrown = await runExample(`throw new Error("broken example");`);
  assert.notEqual(thrown.code, 0);
  assert.match(thrown.stderr, /broken example/);
  const hanging = await runExample(
    `import { serve } from "@tcpkit/tcpkit";\nawait serve({ port: 0, handler: () => {} });\nconsole.log("left open");`,
    3000,
  );
  assert.notEqual(hanging.code, 0, "a server left open is killed at the bound");
});

test("the README's command for Node, npx tcpkit, runs the CLI in this clone", async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const version = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version;
  assert.equal(pkg.bin?.tcpkit, "scripts/tcpkit.mjs");
  const result = await run(
    ["npx", "--offline", "--prefix", ROOT, "tcpkit", "--version"],
    "",
    60_000,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(new TextDecoder().decode(result.stdout), `${version}\n`);
});
