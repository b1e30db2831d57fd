/**
 * Unix domain sockets on every runtime: echo, the socket file's life, and a
 * stale file left by a crashed server.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  AddressInUseError,
  type Conn,
  connect,
  nativeTransport,
  serve,
  UnsupportedError,
} from "../mod.ts";
import { pseudoRandomBytes, RUNTIME, sha256 } from "./_helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "tcpkit-unix-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const echo = (conn: Conn) => conn.readable.pipeTo(conn.writable);
const { unix } = nativeTransport().caps;

describe(`unix sockets on ${RUNTIME}`, {
  skip: unix === "unsupported" ? "caps.unix is unsupported" : false,
}, () => {
  test("serve({ path }) and connect({ path }) echo 1 MiB intact; the file goes at shutdown", async () => {
    const path = join(dir, "echo.sock");
    const server = await serve({ path, handler: echo });
    assert.deepEqual(server.addr, { transport: "unix", path });
    const conn = await connect({ path });
    const data = pseudoRandomBytes(1024 * 1024, 4);
    const chunks: Uint8Array[] = [];
    await Promise.all([
      conn.write(data).then(() => conn.closeWrite()),
      (async () => {
        for await (const chunk of conn) chunks.push(chunk);
      })(),
    ]);
    assert.equal(sha256(chunks), sha256(data));
    assert.equal(conn.remoteAddr.transport, "unix");
    await conn.close();
    await server.shutdown();
    assert.equal(existsSync(path), false);
  });

  test("TLS on a unix socket is a clear UnsupportedError, never plaintext", async () => {
    const path = join(dir, "tls.sock");
    const tls = { cert: "unused", key: "unused" };
    await assert.rejects(serve({ path, tls, handler: echo }), UnsupportedError);
    assert.equal(existsSync(path), false);
    await using _server = await serve({ path, handler: echo });
    await assert.rejects(connect({ path, tls: true }), /unix socket .* with TLS/);
  });

  test("a live server at the path: AddressInUseError saying so", async () => {
    const path = join(dir, "live.sock");
    await using _server = await serve({ path, handler: echo });
    await assert.rejects(serve({ path, handler: echo }), (error: unknown) => {
      assert.ok(error instanceof AddressInUseError);
      assert.match(error.message, /another server is listening on it/);
      return true;
    });
  });

  test("a stale socket file: a clear AddressInUseError, or replaced with removeStaleSocket", async () => {
    const path = join(dir, "stale.sock");
    // A socket file nobody listens on, as a crashed server leaves it.
    const made = spawnSync("python3", [
      "-c",
      `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`,
    ]);
    assert.equal(made.status, 0, String(made.stderr));
    await assert.rejects(serve({ path, handler: echo }), /a stale socket file is in the way/);
    await using server = await serve({ path, handler: echo, removeStaleSocket: true });
    await using conn = await connect({ path });
    await conn.write("still works");
    await conn.closeWrite();
    assert.equal(new TextDecoder().decode((await conn.read())!), "still works");
    assert.equal(server.stats.accepted, 1);
  });
});
