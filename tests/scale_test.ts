/**
 * Scaling out on every runtime: reusePort in the library, `serve --workers`,
 * `--unix` and `--proxy-protocol` in the command line.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Conn, connect, nativeTransport, serve, UnsupportedError } from "../mod.ts";
import { cliCommand, run, RUNTIME, start } from "./_helpers.ts";

const echo = (conn: Conn) => conn.readable.pipeTo(conn.writable);
const { reusePort } = nativeTransport().caps;
// The CLI starts Deno workers with --unstable-net, which Deno's reusePort needs.
const cliReusePort = RUNTIME === "deno" ? "native" : reusePort;

/** Opens `count` connections, `batch` at a time, each echoing one line. */
async function echoMany(port: number, count: number, batch = 100): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i += batch) {
    const done = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
        await using conn = await connect({ port });
        await conn.write(`hello ${i + j}\n`);
        return (await conn.readLine()) === `hello ${i + j}`;
      }),
    );
    ok += done.filter(Boolean).length;
  }
  return ok;
}

describe(`scaling out on ${RUNTIME}`, () => {
  test(`serve({ reusePort: true }) ${reusePort === "native" ? "shares a port" : "is a clear UnsupportedError"}`, async () => {
    if (reusePort !== "native") {
      await assert.rejects(serve({ port: 0, reusePort: true, handler: echo }), (error: unknown) => {
        assert.ok(error instanceof UnsupportedError);
        assert.match(error.message, /reusePort/);
        return true;
      });
      return;
    }
    await using a = await serve({ port: 0, reusePort: true, handler: echo });
    await using b = await serve({ port: a.addr.port, reusePort: true, handler: echo });
    assert.equal(await echoMany(a.addr.port, 200), 200);
    assert.equal(a.stats.accepted + b.stats.accepted, 200);
    assert.ok(
      a.stats.accepted > 0 && b.stats.accepted > 0,
      `${a.stats.accepted} / ${b.stats.accepted}`,
    );
  });

  test("serve --workers 2: 1000 connections spread over both processes; SIGTERM drains both", {
    skip: cliReusePort === "native" ? false : `caps.reusePort is ${cliReusePort} on ${RUNTIME}`,
  }, async () => {
    // Workers need a known port: take a free one from the kernel, then free it.
    const probe = await serve({ port: 0, handler: echo });
    const port = probe.addr.port;
    await probe.shutdown();
    const workers = await start(
      [...cliCommand(RUNTIME), "serve", "--port", String(port), "--workers", "2"],
      /tcpkit\[\d\]: echo server listening[\s\S]*tcpkit\[\d\]: echo server listening/,
    );
    assert.equal(await echoMany(port, 1000), 1000);
    const result = await workers.stop("SIGTERM");
    assert.equal(result.code, 0, result.stderr);
    const served = [
      ...result.stderr.matchAll(/tcpkit\[(\d)\]: stopped: (\d+) connections? in all/g),
    ]
      .map((m) => Number(m[2]));
    console.log(`--workers 2: ${served.join(" + ")} connections`);
    assert.equal(served.length, 2);
    assert.equal(served[0] + served[1], 1000);
    for (const n of served) assert.ok(n >= 250, `a worker served only ${n} of 1000`);
    assert.match(result.stderr, /all 2 workers stopped \(exit codes 0, 0\)/);
  });

  test("serve --unix and connect --unix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpkit-cli-unix-"));
    const path = join(dir, "cli.sock");
    const server = await start([...cliCommand(RUNTIME), "serve", "--unix", path], /listening on /);
    try {
      const result = await run(
        [...cliCommand(RUNTIME), "connect", "--unix", path],
        "over a unix socket\n",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(new TextDecoder().decode(result.stdout), "over a unix socket\n");
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("serve --proxy-protocol --trusted prints the real client address", async () => {
    const server = await start([
      ...cliCommand(RUNTIME),
      "serve",
      "--port",
      "0",
      "--handler",
      "reply",
      "--close",
      "--proxy-protocol",
      "--trusted",
      "127.0.0.1/32",
    ], /listening on 127\.0\.0\.1:(\d+)/);
    try {
      const port = Number(server.line.match(/:(\d+)$/)![1]);
      await using conn = await connect({
        port,
        proxyHeader: {
          version: 2,
          command: "PROXY",
          family: "TCP4",
          source: { hostname: "203.0.113.7", port: 40001 },
          destination: { hostname: "127.0.0.1", port },
        },
      });
      await conn.write("hello\n");
      assert.equal(await conn.readLine({ allowUnterminatedLast: true }), "ok");
    } finally {
      const result = await server.stop();
      assert.equal(new TextDecoder().decode(result.stdout), "203.0.113.7:40001: hello\n");
      assert.match(result.stderr, /open 203\.0\.113\.7:40001/);
    }
  });
});
