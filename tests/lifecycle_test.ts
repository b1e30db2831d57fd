/**
 * A connection's life in the core, over an in-memory transport that never
 * answers unless told to (a stalled peer, a silent TLS peer, a socket that
 * dies while nobody reads): every wait ends by its deadline or by `abort()`,
 * the same on every runtime. Real sockets: tests/faults_test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Conn,
  ConnectionClosedError,
  ConnectionResetError,
  LineCodec,
  type RawConn,
  type ReadHandler,
  TimeoutError,
  TlsError,
} from "../mod.ts";
import type { CloseWatcher } from "../src/transport.ts";
import { within } from "./_helpers.ts";
import { scripted } from "./_scripted.ts";

const ADDR = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
const never = () => new Promise<never>(() => {});

/** A connection whose calls wait until the test settles them; it records what the core did. */
function stalled(overrides: Partial<RawConn> = {}) {
  const log = { aborted: 0, unrefTimers: 0, sent: [] as Uint8Array[] };
  let reader: ReadHandler | undefined;
  let watcher: CloseWatcher | undefined;
  const raw: RawConn = {
    localAddr: ADDR,
    remoteAddr: ADDR,
    read: (handler) => void (reader = handler),
    write: () => false, // never written
    closeWrite: never,
    close: never,
    abort: () => void log.aborted++,
    watch: (w) => void (watcher = w),
    setNoDelay() {},
    setKeepAlive() {},
    ref() {},
    unref() {},
    unrefTimer: () => void log.unrefTimers++,
    ...overrides,
  };
  return {
    raw,
    log,
    /** Delivers bytes (or the end) to the read that waits, if any. */
    deliver(bytes: Uint8Array | null) {
      const r = reader;
      reader = undefined;
      r?.chunk(bytes);
    },
    get reading() {
      return reader !== undefined;
    },
    socketClosed: (error?: Error) => watcher!.socketClosed(error),
  };
}

const settled = (promise: Promise<unknown>) =>
  promise.then(() => "resolved", (error) => error?.constructor?.name ?? "rejected");

describe("a connection's life over a transport that stalls", () => {
  test("abort() cuts a close() stalled on a peer that takes nothing", async () => {
    const t = stalled();
    const conn = new Conn(t.raw, { closeTimeout: 0 });
    void conn.write(new Uint8Array(1024)).catch(() => {});
    const closing = conn.close();
    conn.abort();
    assert.equal(await within(settled(closing), 2000, "close"), "ConnectionClosedError");
    assert.equal(await within(settled(conn.closed), 2000, "closed"), "resolved");
    assert.equal(t.log.aborted, 1);
    await assert.rejects(conn.write("more"), ConnectionClosedError);
  });

  test("close() gives up at closeTimeout: TimeoutError, the socket aborted", async () => {
    const t = stalled();
    const conn = new Conn(t.raw, { closeTimeout: 50 });
    void conn.write(new Uint8Array(1024)).catch(() => {});
    const error = await within(conn.close().catch((e) => e), 2000, "close");
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.timeout, "close");
    await assert.rejects(conn.closed, TimeoutError);
    assert.equal(t.log.aborted, 1);
  });

  test("a socket that resets while nobody reads settles closed", async () => {
    const t = stalled();
    const conn = new Conn(t.raw);
    t.socketClosed(new ConnectionResetError("reset by peer"));
    await within(assert.rejects(conn.closed, ConnectionResetError), 2000, "closed");
    await assert.rejects(conn.read(), ConnectionResetError);
  });

  test("a socket that ends cleanly while nobody reads settles closed; its bytes are still read", async () => {
    const t = stalled();
    const conn = new Conn(t.raw);
    t.socketClosed();
    assert.equal(await within(settled(conn.closed), 2000, "closed"), "resolved");
    const read = conn.read();
    t.deliver(new TextEncoder().encode("last"));
    assert.equal(new TextDecoder().decode((await read)!), "last");
    const end = conn.read();
    t.deliver(null);
    assert.equal(await end, null);
    await conn.close();
    assert.equal(t.log.aborted, 1, "the socket is released");
  });

  test("abort() rejects a read the transport never answers", async () => {
    const t = stalled();
    const conn = new Conn(t.raw);
    const read = conn.read();
    conn.abort();
    assert.equal(await within(settled(read), 2000, "read"), "ConnectionClosedError");
    // A late answer from the transport changes nothing.
    t.deliver(new Uint8Array(3));
    assert.equal(conn.bytesRead, 0);
  });

  test("a TLS handshake that never answers ends when the connection is cut", async () => {
    const t = stalled({ handshake: never });
    const conn = new Conn(t.raw);
    const handshake = conn.handshake();
    conn.abort(new TimeoutError("no TLS handshake in time", { timeout: "handshake" }));
    assert.equal(await within(settled(handshake), 2000, "handshake"), "TimeoutError");
  });

  test("a failed startTls leaves the connection failed with TlsError, not half-upgraded", async () => {
    const t = stalled({ startTls: () => Promise.reject(new Error("wrong version number")) });
    const conn = new Conn(t.raw);
    await assert.rejects(conn.startTls(), TlsError);
    await within(assert.rejects(conn.closed, TlsError), 2000, "closed");
    await assert.rejects(conn.read(), TlsError);
    await assert.rejects(conn.write("x"), TlsError);
    assert.equal(t.log.aborted, 1);
  });

  test("readTimeout bounds a whole frame under forEachFrame, not each chunk of it", async () => {
    const t = stalled();
    const conn = new Conn(t.raw, { readTimeout: 200 });
    const lines: string[] = [];
    const loop = conn.forEachFrame(new LineCodec(), (line) => void lines.push(line));
    // One byte every 40 ms, never a newline: each chunk alone is well within the timeout.
    const drip = setInterval(() => t.reading && t.deliver(new Uint8Array([0x61])), 40);
    try {
      const error = await within(loop.catch((e) => e), 5000, "forEachFrame");
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.timeout, "read");
      assert.deepEqual(lines, []);
    } finally {
      clearInterval(drip);
    }
  });

  test("the core's timers never keep the process alive by themselves", () => {
    const t = stalled();
    const conn = new Conn(t.raw, {
      idleTimeout: 60_000,
      readTimeout: 60_000,
      closeTimeout: 60_000,
    });
    void conn.read().catch(() => {});
    void conn.close().catch(() => {});
    assert.ok(t.log.unrefTimers >= 2, `${t.log.unrefTimers} timers unref'd`);
    conn.abort();
  });

  test("a pipe stopped by its signal while a write waits leaves the source free to read on", async () => {
    for (const readsInto of [false, true]) {
      const source = new Conn(scripted(["one", "two"], true, readsInto));
      const to = new Conn(stalled().raw, { writeHighWaterMark: 0 }); // takes nothing
      const controller = new AbortController();
      const piped = source.readable.pipeTo(to.writable, {
        signal: controller.signal,
        preventAbort: true,
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(piped, (error) => error === reason);
      // "one" waits in the destination's queue; the source's loop is over, its next read is free.
      assert.equal(
        new TextDecoder().decode((await source.read())!),
        "two",
        `readsInto ${readsInto}`,
      );
      assert.equal(await source.read(), null);
      source.abort();
      to.abort();
    }
  });

  test("cancelling readable stops reading only: queued writes still go out", async () => {
    const sent: Uint8Array[] = [];
    const t = stalled({ write: (bytes) => (sent.push(bytes.slice()), true) });
    const conn = new Conn(t.raw);
    await conn.write("queued");
    await conn.readable.cancel();
    assert.equal(t.log.aborted, 0);
    assert.equal(new TextDecoder().decode(sent[0]), "queued");
    await conn.write("after");
    assert.equal(sent.length, 2);
  });
});
