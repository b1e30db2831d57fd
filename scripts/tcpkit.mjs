#!/usr/bin/env node
/**
 * The clone's `tcpkit` command on Node (`npx tcpkit serve` after `npm install`):
 * builds the npm package into `npm/` when it is missing or older than the
 * sources, then runs its CLI in this process.
 *
 * Plain JavaScript so that the machine's own Node runs it with no build step.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "npm/esm/src/cli/main.js");

/** The newest modification time of mod.ts, deno.json and every file under src/. */
function newestSource() {
  let newest = Math.max(
    statSync(join(root, "mod.ts")).mtimeMs,
    statSync(join(root, "deno.json")).mtimeMs,
  );
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, "src"));
  return newest;
}

if (!existsSync(cli) || statSync(cli).mtimeMs < newestSource()) {
  process.stderr.write("tcpkit: building the npm package into npm/ (once per change)\n");
  const build = spawnSync(join(root, "node_modules/.bin/deno"), [
    "run",
    "-A",
    "scripts/build_npm.ts",
  ], {
    cwd: root,
    stdio: ["ignore", process.stderr, "inherit"],
  });
  if (build.status !== 0) {
    process.stderr.write("tcpkit: the build failed (run npm install first)\n");
    process.exit(1);
  }
}
const { main } = await import(pathToFileURL(cli).href);
await main();
