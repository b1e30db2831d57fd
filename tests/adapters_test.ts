/**
 * Adapter-level behaviour of the node transport on every runtime (it is the
 * native one on Node): what `connect()` is given bounds the attempt only.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { nodeTransport } from "../src/adapters/node.ts";
import type { RawConn } from "../mod.ts";
import { writeRaw } from "../src/transport.ts";

/** A plain TCP server on loopback: echoes, or (`silent`) accepts and never speaks. */
async function server(silent: boolean): Promise<net.Server & AsyncDisposable> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    if (!silent) socket.pipe(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return Object.assign(srv, {
    [Symbol.asyncDispose]: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  });
}

const portOf = (srv: net.Server) => (srv.address() as net.AddressInfo).port;

/** One read, bounded by 5 s. */
function readOnce(conn: RawConn): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reply within 5 s")), 5000);
    conn.read({
      chunk: (bytes) => {
        clearTimeout(timer);
        resolve(bytes && new TextDecoder().decode(bytes));
      },
      error: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

test("nodeTransport.connect leaves the connection alive when its signal aborts after connecting", async () => {
  await using srv = await server(false);
  const controller = new AbortController();
  const conn = await nodeTransport.connect({
    hostname: "127.0.0.1",
    port: portOf(srv),
    signal: controller.signal,
  });
  try {
    controller.abort(new Error("the attempt's deadline passed"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeRaw(conn, new TextEncoder().encode("hi"));
    assert.equal(await readOnce(conn), "hi");
  } finally {
    conn.abort();
  }
});

test("nodeTransport.connect with tls rejects at once when its signal aborts during the handshake", async () => {
  await using srv = await server(true);
  const controller = new AbortController();
  const reason = new Error("the attempt's deadline passed");
  const attempt = nodeTransport.connect({
    hostname: "127.0.0.1",
    port: portOf(srv),
    tls: {},
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(reason), 100);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<"pending">((resolve) =>
    timer = setTimeout(() => resolve("pending"), 3000)
  );
  const outcome = await Promise.race([attempt.then(() => "connected", (error) => error), bound]);
  clearTimeout(timer);
  assert.equal(outcome, reason);
});
