/**
 * The packed npm package, installed into a fresh project and imported by
 * this runtime: an echo round trip through `import ... from "tcpkit"`, and
 * the `tcpkit` bin.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
