/**
 * The packed npm package, installed into a fresh project and imported by
 * this runtime: an echo round trip through `import ... from "tcpkit"`, and
 * the `tcpkit` bin; its `.d.ts` files under the compiler settings of a Node
 * 20/22 user; and the lock file of the dev toolchain, complete for every
 * platform.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { ROOT, run, RUNTIME } from "./_helpers.ts";

const tarball = (() => {
  try {
    return readdirSync(join(ROOT, ".build")).find((f) => /^tcpkit-.*\.tgz$/.test(f));
  } catch {
    return undefined;
  }
})();

const SCRIPT = `
import { connect, serve, nativeTransport } from "tcpkit";
import { serve as pinned } from "tcpkit/${RUNTIME}";
const server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
const conn = await connect({ port: server.addr.port });
await conn.write("round trip");
await conn.closeWrite();
const reply = await new Response(conn.readable).text();
await conn.close();
await server.shutdown();
console.log(nativeTransport().name, typeof pinned, reply);
`;

test(
  `the packed npm package installs and echoes on ${RUNTIME}`,
  {
    skip: tarball
      ? false
      : "no packed tarball in .build/ (scripts/run_tests.mjs packs it after the build)",
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpkit-package-"));
    try {
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      writeFileSync(join(dir, "main.mjs"), SCRIPT);
      const npm = await run(
        [
          "npm",
          "install",
          "--no-audit",
          "--no-fund",
          "--prefix",
          dir,
          join(ROOT, ".build", tarball!),
        ],
        "",
        120_000,
      );
      assert.equal(npm.code, 0, npm.stderr);
      const command = RUNTIME === "deno"
        ? [process.execPath, "run", "-A", join(dir, "main.mjs")]
        : RUNTIME === "bun"
        ? [process.execPath, "run", join(dir, "main.mjs")]
        : [process.execPath, join(dir, "main.mjs")];
      const result = await run(command);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(new TextDecoder().decode(result.stdout), `${RUNTIME} function round trip\n`);
      const help = await run([
        ...(RUNTIME === "node" ? [process.execPath] : ["node"]),
        join(dir, "node_modules/.bin/tcpkit"),
        "--version",
      ]);
      assert.equal(new TextDecoder().decode(help.stdout), "0.1.0\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** A consumer of every entry point, type-checked against the built `.d.ts` files. */
const CONSUMER = `
import { connect, type Conn, serve, type Server } from "tcpkit";
import { nodeTransport } from "tcpkit/node";
const server: Server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
const conn: Conn = await connect({ port: server.addr.port, transport: nodeTransport });
await conn[Symbol.asyncDispose]();
await server.shutdown();
`;

/** What a Node 20/22 TypeScript user compiles with (tsconfig/bases' node20 and node22, strict). */
const USER_SETTINGS: [string, Record<string, unknown>][] = [
  ["lib es2022 with @types/node", { lib: ["es2022"], types: ["node"] }],
  ["lib es2022, dom and esnext.disposable, no @types/node", {
    lib: ["es2022", "dom", "esnext.disposable"],
    types: [],
  }],
];

for (const [name, settings] of USER_SETTINGS) {
  test(`the npm package's .d.ts files compile with target es2022, ${name}, skipLibCheck false`, {
    skip: existsSync(join(ROOT, "npm/esm/mod.d.ts")) ? false : "the npm build is missing",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpkit-types-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(join(ROOT, "npm"), join(dir, "node_modules/tcpkit"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(join(dir, "main.ts"), CONSUMER);
      const compilerOptions = {
        noEmit: true,
        strict: true,
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        skipLibCheck: false,
        typeRoots: [join(ROOT, "node_modules/@types")],
        ...settings,
      };
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions, files: ["main.ts"] }),
      );
      const tsc = await run(
        [node(), join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
        "",
        60_000,
      );
      assert.equal(tsc.code, 0, new TextDecoder().decode(tsc.stdout) + tsc.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("package-lock.json locks every platform package of the toolchain, each with its integrity", () => {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const packages: Record<
    string,
    { optionalDependencies?: Record<string, string>; integrity?: string }
  > = lock.packages;
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(packages)) {
    if (path === "") continue;
    if (!entry.integrity) missing.push(`${path}: no integrity`);
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!packages[`node_modules/${name}`]) missing.push(`${path}: ${name} is not locked`);
    }
  }
  assert.deepEqual(missing, []);
});

/** A Node to run tools with: this one on Node, the machine's on Deno and Bun. */
function node(): string {
  return RUNTIME === "node" ? process.execPath : "node";
}
