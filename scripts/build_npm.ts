/**
 * Builds the npm package into `npm/` (what dnt does, with `tsc`): ESM and
 * `.d.ts` files, a generated `package.json` with `exports` and `bin`, README
 * and LICENSE. Tests are compiled too, so that `node --test` runs the suite on
 * the built files; the published package leaves them out.
 *
 * Run: `deno run -A scripts/build_npm.ts`
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "npm");
const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));

rmSync(out, { recursive: true, force: true });
const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ESNext", "DOM", "DOM.Iterable"],
    types: ["node"],
    strict: true,
    declaration: true,
    rewriteRelativeImportExtensions: true,
    skipLibCheck: true,
    outDir: "npm/esm",
    rootDir: ".",
  },
  include: ["mod.ts", "src/**/*.ts", "tests/**/*.ts"],
};
writeFileSync(join(root, "tsconfig.build.json"), JSON.stringify(tsconfig, null, 2));
try {
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
} finally {
  rmSync(join(root, "tsconfig.build.json"));
}

const entry = (path: string) => ({ types: `./esm/${path}.d.ts`, default: `./esm/${path}.js` });
const exports: Record<string, unknown> = {};
for (const [name, path] of Object.entries(deno.exports as Record<string, string>)) {
  exports[name] = entry(path.replace(/^\.\//, "").replace(/\.ts$/, ""));
}
const pkg = {
  name: "tcpkit",
  version: deno.version,
  description:
    "TCP servers and clients that behave the same on Deno, Bun and Node: framing, limits, a netcat-like CLI",
  license: deno.license,
  type: "module",
  exports,
  bin: { tcpkit: "./bin/tcpkit.js" },
  files: ["esm/mod.*", "esm/src/", "!esm/**/*_test.*", "bin/"],
  engines: { node: ">=20" },
  keywords: ["tcp", "socket", "server", "netcat", "deno", "bun", "framing"],
};
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
mkdirSync(join(out, "bin"));
writeFileSync(
  join(out, "bin/tcpkit.js"),
  `#!/usr/bin/env node\nimport { main } from "../esm/src/cli/main.js";\nawait main();\n`,
);
chmodSync(join(out, "bin/tcpkit.js"), 0o755);
for (const file of ["README.md", "LICENSE"]) copyFileSync(join(root, file), join(out, file));
console.log(`built ${pkg.name}@${pkg.version} into npm/`);
