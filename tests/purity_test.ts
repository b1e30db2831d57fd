/**
 * The core stays portable: outside `src/adapters/` and `src/cli/`, no file
 * touches `Deno`, `Bun`, `node:*` modules or `process` (comments aside: doc
 * examples may import `node:assert/strict`).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { ROOT } from "./_helpers.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return ["adapters", "cli"].includes(entry.name) && dir.endsWith("src") ? [] : sources(path);
    }
    return entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") ? [path] : [];
  });
}

/** The code of a file without its comments. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

test("the core uses no runtime API outside src/adapters and src/cli", () => {
  const files = sources(join(ROOT, "src"));
  assert.ok(files.length > 20, `only ${files.length} files found`);
  const offenders = files.flatMap((file) => {
    const matches = code(readFileSync(file, "utf8")).match(
      /\b(Deno|Bun)\.\w+|from "node:[^"]+"|\bprocess\.\w+/g,
    );
    return matches ? [`${relative(ROOT, file)}: ${[...new Set(matches)].join(", ")}`] : [];
  });
  assert.deepEqual(offenders, []);
});
