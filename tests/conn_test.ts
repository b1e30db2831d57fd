/**
 * The conformance suite for connections, run on every runtime with the
 * runtime's own transport: echo, half-close, backpressure, concurrency,
 * addresses and typed errors.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import {
  AddressInUseError,
  type Conn,
  connect,
  ConnectionRefusedError,
  ConnectionResetError,
  type Handler,
  LineCodec,
  nativeTransport,
  serve,
  TimeoutError,
  type Transport,
  UnsupportedError,
} from "../mod.ts";
import { concat, pseudoRandomBytes, rss, RUNTIME, sha256, sleep, within } from "./_helpers.ts";
import { transportsHere } from "./_transports.ts";
import { spawnPython } from "./_python.ts";

const echo = (conn: Conn) => conn.readable.pipeTo(conn.writable);

async function readAll(conn: Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return concat(chunks);
}

/** Sends `size` pseudo-random bytes to a server with this handler; checks what comes back. */
async function assertEchoes(handler: Handler, size: number, seed = size): Promise<void> {
  await using server = await serve({ port: 0, handler });
  await using conn = await connect({ port: server.addr.port });
  const data = pseudoRandomBytes(size, seed);
  const [, received] = await Promise.all([
    conn.write(data).then(() => conn.closeWrite()),
    readAll(conn),
  ]);
  assert.equal(received.length, size);
  assert.equal(sha256(received), sha256(data));
}

describe(`echo over ${RUNTIME}'s transport`, () => {
  test("nativeTransport() picks the runtime's own", () => {
    assert.equal(nativeTransport().name, RUNTIME);
  });

  for (const size of [1, 64 * 1024, 16 * 1024 * 1024]) {
    test(`serve() echoes ${size} bytes intact (sha-256)`, () => assertEchoes(echo, size));
  }

  test("half-close: the server reads to EOF, then replies in full", async () => {
    const reply = pseudoRandomBytes(1024 * 1024, 7);
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        const request = await readAll(conn);
        await conn.write(new TextEncoder().encode(`got ${request.length} bytes\n`));
        await conn.write(reply);
      },
    });
    await using conn = await connect({ port: server.addr.port });
    await conn.write("a request of some length");
    await conn.closeWrite();
    const received = await readAll(conn);
    const header = "got 24 bytes\n";
    assert.equal(new TextDecoder().decode(received.subarray(0, header.length)), header);
    assert.equal(sha256(received.subarray(header.length)), sha256(reply));
  });

  test("backpressure: 64 MiB to a slow reader arrives whole, memory stays flat", async () => {
    const blocks = Array.from({ length: 16 }, (_, i) => pseudoRandomBytes(64 * 1024, i + 1));
    const total = 1024;
    let peak = 0;
    const before = rss();
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        for (let i = 0; i < total; i++) {
          await conn.write(blocks[i % blocks.length]);
          if (i % 64 === 0) peak = Math.max(peak, rss());
        }
      },
    });
    await using conn = await connect({ port: server.addr.port });
    const hash = sha256(Array.from({ length: total }, (_, i) => blocks[i % blocks.length]));
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of conn) {
      chunks.push(chunk);
      received += chunk.length;
      if (received % (4 * 1024 * 1024) < chunk.length) await sleep(20);
    }
    assert.equal(received, total * 64 * 1024);
    assert.equal(sha256(chunks), hash);
    const growth = peak - before;
    console.log(
      `backpressure: peak RSS growth while writing 64 MiB: ${(growth / 1048576).toFixed(1)} MiB`,
    );
    // The received chunks are kept (64 MiB): growth beyond them means the writer buffered too.
    assert.ok(growth < 64 * 1024 * 1024 + 48 * 1024 * 1024, `RSS grew ${growth} bytes`);
  });

  test("200 concurrent clients each get their own bytes back", async () => {
    await using server = await serve({ port: 0, handler: echo });
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      await using conn = await connect({ port: server.addr.port });
      const data = pseudoRandomBytes(4096 + i, i + 1);
      const [, received] = await Promise.all([
        conn.write(data).then(() => conn.closeWrite()),
        readAll(conn),
      ]);
      return sha256(received) === sha256(data);
    }));
    assert.equal(results.filter(Boolean).length, 200);
  });
});

describe("forEach(): each chunk from the runtime's own callback", () => {
  test("an echo with forEach returns 16 MiB intact (sha-256)", () =>
    assertEchoes((conn) => conn.forEach((chunk) => conn.write(chunk)), 16 * 1024 * 1024, 5));

  test("forEachFrame(): a line server answers 2,000 pipelined lines in order", async () => {
    const lines = new LineCodec();
    await using server = await serve({
      port: 0,
      handler: (conn) => conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `re: ${line}`)),
    });
    await using conn = await connect({ port: server.addr.port });
    const count = 2000;
    // All in one write, and no end of stream before the replies: frames that came
    // in one chunk are answered without waiting for more bytes.
    await conn.write(Array.from({ length: count }, (_, i) => `line ${i}\n`).join(""));
    for (let i = 0; i < count; i++) assert.equal(await conn.readLine(), `re: line ${i}`);
  });

  test("a readTimeout while forEach waits rejects it with TimeoutError", async () => {
    let failure: unknown;
    await using server = await serve({
      port: 0,
      readTimeout: 100,
      handler: async (conn) => {
        await conn.forEach(() => {}).catch((error) => (failure = error));
      },
    });
    await using conn = await connect({ port: server.addr.port });
    await conn.write("one chunk, then nothing");
    assert.equal(await conn.read().catch(() => null), null);
    for (let i = 0; i < 100 && failure === undefined; i++) await sleep(10);
    assert.ok(failure instanceof TimeoutError, String(failure));
    assert.equal(failure.timeout, "read");
  });
});

describe("reusing memory: readInto() and flush()", () => {
  test("an echo loop over one buffer (readInto, write, flush) returns 16 MiB intact", () =>
    assertEchoes(
      async (conn) => {
        const buffer = new Uint8Array(64 * 1024);
        for (let n; (n = await conn.readInto(buffer)) !== null;) {
          await conn.write(buffer.subarray(0, n));
          await conn.flush();
        }
      },
      16 * 1024 * 1024,
      7,
    ));

  test("after flush() the runtime is done with the bytes: refilling the buffer changes nothing sent", async () => {
    // Small writes into a peer that does not read yet: once the kernel's buffers are
    // full, a runtime that keeps a reference to the bytes (Node) must hold flush() back.
    const BLOCK = 1024;
    const COUNT = 16 * 1024;
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        const buffer = new Uint8Array(BLOCK);
        for (let i = 0; i < COUNT; i++) {
          buffer.fill(i % 251);
          await conn.write(buffer);
          await conn.flush();
        }
      },
    });
    await using conn = await connect({ port: server.addr.port });
    await sleep(300); // 16 MiB is more than loopback buffers hold: the writer blocks
    const received = await readAll(conn);
    assert.equal(received.length, BLOCK * COUNT);
    for (let i = 0; i < COUNT; i++) {
      const block = received.subarray(i * BLOCK, (i + 1) * BLOCK);
      if (!block.every((b) => b === i % 251)) assert.fail(`block ${i} was changed after flush()`);
    }
  });
});

describe("flush() beside closeWrite()", () => {
  test("flush() while closeWrite() waits for 8 MiB settles once they are out, and the peer gets them all", async () => {
    const data = pseudoRandomBytes(8 * 1024 * 1024, 3);
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        void conn.write(data);
        const closing = conn.closeWrite();
        await conn.flush();
        await closing;
      },
    });
    await using conn = await connect({ port: server.addr.port });
    await sleep(100); // the writer is blocked on full loopback buffers
    assert.equal(sha256(await readAll(conn)), sha256(data));
  });
});

describe("addresses", () => {
  test("serve() listens on 127.0.0.1 by default", async () => {
    await using server = await serve({ port: 0, handler: echo });
    assert.equal(server.addr.hostname, "127.0.0.1");
    assert.ok(server.addr.port > 0);
  });

  for (const hostname of ["localhost", "::1"]) {
    test(`serve() and connect() work with hostname "${hostname}"`, async () => {
      await using server = await serve({ hostname, port: 0, handler: echo });
      await using conn = await connect({ hostname, port: server.addr.port });
      await conn.write("ping");
      await conn.closeWrite();
      assert.equal(new TextDecoder().decode(await readAll(conn)), "ping");
    });
  }

  for (const hostname of ["127.0.0.1", "::1", "0.0.0.0", "::"]) {
    test(`accepted and connected ends agree on their addresses (listening on ${hostname})`, async () => {
      let accepted!: (addrs: [Conn["localAddr"], Conn["remoteAddr"]]) => void;
      const seen = new Promise<[Conn["localAddr"], Conn["remoteAddr"]]>((r) => (accepted = r));
      await using server = await serve({
        hostname,
        port: 0,
        handler: (conn) => accepted([conn.localAddr, conn.remoteAddr]),
      });
      const loopback = hostname.includes(":") ? "::1" : "127.0.0.1";
      await using conn = await connect({ hostname: loopback, port: server.addr.port });
      const [local, remote] = await seen;
      assert.deepEqual(local, { transport: "tcp", hostname: loopback, port: server.addr.port });
      assert.deepEqual(remote, conn.localAddr);
      assert.deepEqual(conn.remoteAddr, local);
    });
  }

  test("a bad port is a RangeError naming the value", async () => {
    await assert.rejects(
      serve({ port: 70000, handler: echo }),
      /port must be a number between 0 and 65535 \(got 70000\)/,
    );
    await assert.rejects(connect({ port: -1 }), RangeError);
  });
});

describe("typed errors", () => {
  test("connecting to a closed port is ConnectionRefusedError", async () => {
    const server = await serve({ port: 0, handler: echo });
    const { port } = server.addr;
    await server.shutdown();
    const error = await connect({ port }).then(() => null, (e) => e);
    assert.ok(error instanceof ConnectionRefusedError, String(error));
    assert.equal(error.code, "ECONNREFUSED");
    assert.equal(error.message, `Cannot connect to 127.0.0.1:${port}: connection refused`);
    assert.ok(error.cause !== undefined);
  });

  test("listening on a used port is AddressInUseError", async () => {
    await using server = await serve({ port: 0, handler: echo });
    const error = await serve({ port: server.addr.port, handler: echo }).then(() => null, (e) => e);
    assert.ok(error instanceof AddressInUseError, String(error));
    assert.equal(error.code, "EADDRINUSE");
  });

  test("a peer reset is ConnectionResetError for the client", async () => {
    // Python accepts, reads a line, then resets (SO_LINGER 0).
    await using peer = await spawnPython("reset_server");
    await using conn = await connect({ port: peer.port });
    await conn.write("hello\n");
    const error = await readAll(conn).then(() => null, (e) => e);
    assert.ok(error instanceof ConnectionResetError, String(error));
    await assert.rejects(conn.closed, ConnectionResetError);
  });

  const { peerReset } = nativeTransport().caps;
  test("a peer reset is ConnectionResetError in the server's handler", {
    skip: peerReset === "unsupported"
      ? `caps.peerReset is unsupported on ${RUNTIME}: a reset reads as EOF`
      : false,
  }, async () => {
    let resolve!: (error: unknown) => void;
    const promise = new Promise<unknown>((r) => (resolve = r));
    await using server = await serve({
      port: 0,
      handler: (conn) =>
        conn.write("hi\n").then(() => readAll(conn)).then(() => resolve(null), resolve),
    });
    await using peer = await spawnPython("reset_client", { port: server.addr.port });
    await peer.exited;
    const error = await promise;
    assert.ok(error instanceof ConnectionResetError, String(error));
  });
});

describe("server lifecycle", () => {
  test("shutdown() stops new connections at once; open ones keep working", async () => {
    const server = await serve({ port: 0, handler: echo });
    const conn = await connect({ port: server.addr.port });
    await conn.write("before");
    assert.equal(new TextDecoder().decode((await conn.read())!), "before");
    const stopped = server.shutdown({ deadlineMs: 10_000 });
    await sleep(50);
    await assert.rejects(connect({ port: server.addr.port }), ConnectionRefusedError);
    await conn.write("after");
    assert.equal(new TextDecoder().decode((await conn.read())!), "after");
    await conn.closeWrite();
    assert.equal(await conn.read(), null);
    await conn.close();
    assert.deepEqual(await stopped, { finished: 1, aborted: 0 });
  });

  test("shutdown() aborts connections still open at the deadline", async () => {
    const server = await serve({ port: 0, handler: echo });
    await using conn = await connect({ port: server.addr.port });
    await conn.write("x");
    await conn.read();
    assert.deepEqual(await server.shutdown({ deadlineMs: 100 }), { finished: 0, aborted: 1 });
    assert.equal(await conn.read().catch(() => null), null);
  });

  test("shutdown(): a forEach handler that ends on the signal finishes; one that ignores it is aborted", async () => {
    const server = await serve({
      port: 0,
      handler: (conn) => {
        let first = true;
        return conn.forEach((chunk) => {
          if (first && new TextDecoder().decode(chunk) === "polite") {
            conn.signal.addEventListener("abort", () => void conn.close());
          }
          first = false;
          return conn.write(chunk);
        }).catch(() => {});
      },
    });
    await using polite = await connect({ port: server.addr.port });
    await using stubborn = await connect({ port: server.addr.port });
    for (const [conn, word] of [[polite, "polite"], [stubborn, "stubborn"]] as const) {
      await conn.write(word);
      assert.equal(new TextDecoder().decode((await conn.read())!), word);
    }
    assert.deepEqual(await server.shutdown({ deadlineMs: 300 }), { finished: 1, aborted: 1 });
    for (const conn of [polite, stubborn]) {
      assert.equal(await conn.read().catch(() => null), null);
    }
  });

  test("maxConnectionsPerAddress refuses one address's extra connections with the busy reply", async () => {
    await using server = await serve({
      port: 0,
      handler: echo,
      maxConnectionsPerAddress: 2,
      busyReply: "busy\n",
    });
    await using a = await connect({ port: server.addr.port });
    await using b = await connect({ port: server.addr.port });
    for (const conn of [a, b]) {
      await conn.write("x");
      await conn.read();
    }
    await using c = await connect({ port: server.addr.port });
    assert.equal(await c.readLine(), "busy");
    assert.equal(server.stats.rejected, 1);
    await a.close();
    await sleep(50);
    await using d = await connect({ port: server.addr.port });
    await d.write("served again");
    assert.equal(new TextDecoder().decode((await d.read())!), "served again");
  });

  test("a handler that throws closes only its own connection", async () => {
    const errors: unknown[] = [];
    let n = 0;
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        if (n++ === 0) throw new Error("boom");
        await echo(conn);
      },
      onError: (error) => errors.push(error),
    });
    // The failed connection is aborted: a reset, which may even beat the client's connect.
    const first = await connect({ port: server.addr.port }).catch(() => null);
    assert.equal(await first?.read().catch(() => null) ?? null, null);
    await using second = await connect({ port: server.addr.port });
    await second.write("still here");
    assert.equal(new TextDecoder().decode((await second.read())!), "still here");
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, "boom");
  });
});

for (const transport of transportsHere()) {
  describe(`pipeTo() between connections with a signal (${transport.name} transport)`, () => {
    /**
     * A server whose handler echoes through `pipeTo()` until the test aborts
     * the pipe, then says "bye" and closes, if it can.
     */
    async function pipeServer(options: { preventAbort?: boolean; preventCancel?: boolean }) {
      const controller = new AbortController();
      let ended!: (outcome: unknown) => void;
      const outcome = new Promise<unknown>((resolve) => (ended = resolve));
      const server = await serve({
        transport,
        port: 0,
        handler: async (conn) => {
          await conn.readable.pipeTo(conn.writable, { signal: controller.signal, ...options })
            .then(() => ended("resolved"), ended);
          await conn.write("bye");
        },
      });
      return { server, controller, outcome };
    }

    test("an abort while the pipe waits on a read rejects with the reason and aborts the connection", async () => {
      const { server, controller, outcome } = await pipeServer({});
      await using _ = server;
      await using conn = await connect({ transport, port: server.addr.port });
      await conn.write("one");
      assert.equal(new TextDecoder().decode((await conn.read())!), "one");
      const reason = new Error("stop piping");
      controller.abort(reason);
      assert.equal(await within(outcome, 5000, "the pipe to settle"), reason);
      // The destination was aborted: no "bye", the connection ends.
      const rest = await within(readAll(conn).catch(() => new Uint8Array(0)), 5000, "the end");
      assert.equal(new TextDecoder().decode(rest), "");
    });

    test("with preventAbort and preventCancel the connection stays usable after the abort", async () => {
      const { server, controller, outcome } = await pipeServer({
        preventAbort: true,
        preventCancel: true,
      });
      await using _ = server;
      await using conn = await connect({ transport, port: server.addr.port });
      await conn.write("one");
      assert.equal(new TextDecoder().decode((await conn.read())!), "one");
      const reason = new Error("stop piping");
      controller.abort(reason);
      assert.equal(await within(outcome, 5000, "the pipe to settle"), reason);
      const rest = await within(readAll(conn), 5000, "bye and the end");
      assert.equal(new TextDecoder().decode(rest), "bye");
    });

    /**
     * A server that pipes until the test aborts the pipe (preventAbort,
     * preventCancel), then reads on with `readOn(conn)` and answers what it got.
     */
    async function readOnServer(readOn: (conn: Conn) => Promise<string>) {
      const controller = new AbortController();
      let ended!: (outcome: unknown) => void;
      const outcome = new Promise<unknown>((resolve) => (ended = resolve));
      const server = await serve({
        transport,
        port: 0,
        handler: async (conn) => {
          await conn.readable.pipeTo(conn.writable, {
            signal: controller.signal,
            preventAbort: true,
            preventCancel: true,
          }).then(() => ended("resolved"), ended);
          await conn.write(`after: ${await readOn(conn)}`);
        },
      });
      return { server, controller, outcome };
    }

    /**
     * Aborts the pipe, waits for it to settle, reads what the handler said
     * meanwhile (`said`), then sends "two": the handler's next read must get it.
     */
    async function afterAbort(
      conn: Conn,
      controller: AbortController,
      outcome: Promise<unknown>,
      said?: string,
    ): Promise<void> {
      controller.abort(new Error("stop piping"));
      await within(outcome, 5000, "the pipe to settle");
      if (said) assert.equal(new TextDecoder().decode(await conn.readExact(said.length)), said);
      await conn.write("two");
      await conn.closeWrite();
      const rest = await within(readAll(conn), 10_000, "the answer");
      assert.equal(new TextDecoder().decode(rest), "after: two");
    }

    // 64 KiB first: on Deno the pipe then reads into a buffer of its own.
    for (const size of [3, 64 * 1024]) {
      test(`bytes that arrive after the abort are the connection's next read: read() waiting for them (first ${size} B)`, async () => {
        const { server, controller, outcome } = await readOnServer(async (conn) => {
          const next = conn.read();
          await conn.write("ready");
          const chunk = await next;
          return chunk === null ? "the end" : new TextDecoder().decode(chunk);
        });
        await using _ = server;
        await using conn = await connect({ transport, port: server.addr.port });
        await conn.write(new Uint8Array(size).fill(120));
        assert.equal((await within(conn.readExact(size), 5000, "the echo")).length, size);
        await afterAbort(conn, controller, outcome, "ready");
      });
    }

    test("bytes that arrive after the abort are the connection's next read: buffered until read", async () => {
      const { server, controller, outcome } = await readOnServer(async (conn) => {
        for (let i = 0; conn.buffered < 3 && i < 500; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return new TextDecoder().decode((await conn.read())!);
      });
      await using _ = server;
      await using conn = await connect({ transport, port: server.addr.port });
      await conn.write("one");
      assert.equal(new TextDecoder().decode((await conn.read())!), "one");
      await afterAbort(conn, controller, outcome);
    });

    test("bytes that arrive after the abort are the connection's next read: forEach() waiting for them", async () => {
      const { server, controller, outcome } = await readOnServer(async (conn) => {
        let got = "";
        const loop = conn.forEach((chunk) => void (got += new TextDecoder().decode(chunk)));
        await conn.write("ready");
        await loop;
        return got;
      });
      await using _ = server;
      await using conn = await connect({ transport, port: server.addr.port });
      await conn.write("one");
      assert.equal(new TextDecoder().decode((await conn.read())!), "one");
      await afterAbort(conn, controller, outcome, "ready");
    });

    test("a signal aborted before the pipe starts rejects at once and writes nothing", async () => {
      await using server = await serve({
        transport,
        port: 0,
        handler: async (conn) => {
          const signal = AbortSignal.abort(new Error("too late"));
          const error = await conn.readable.pipeTo(conn.writable, {
            signal,
            preventAbort: true,
            preventCancel: true,
          }).catch((e) => e);
          await conn.write(error === signal.reason ? "rejected" : `unexpected: ${error}`);
        },
      });
      await using conn = await connect({ transport, port: server.addr.port });
      await conn.write("one");
      const rest = await within(readAll(conn), 5000, "the reply");
      assert.equal(new TextDecoder().decode(rest), "rejected");
    });
  });
}

/** Whether `ss` (iproute2) is here, to read a socket's timers from the kernel. */
const HAS_SS = spawnSync("sh", ["-c", "command -v ss"]).status === 0;

/** The kernel's keep-alive timer of the connection from local `port`, as `ss` shows it ("4.9sec"). */
function keepAliveTimer(port: number): string | undefined {
  const out = execFileSync("ss", ["-tnoH", "state", "established", `( sport = :${port} )`]);
  return /timer:\(keepalive,([^,]+),/.exec(out.toString())?.[1];
}

/** `transport`, with each accepted connection's `setNoDelay()` calls recorded in `calls`. */
function recordingNoDelay(transport: Transport, calls: boolean[]): Transport {
  return {
    ...transport,
    async listen(options) {
      const listener = await transport.listen(options);
      const accept = listener.accept.bind(listener);
      listener.accept = async () => {
        const raw = await accept();
        if (raw) {
          const set = raw.setNoDelay.bind(raw);
          raw.setNoDelay = (on) => (calls.push(on), set(on));
        }
        return raw;
      };
      return listener;
    },
  };
}

for (const transport of transportsHere()) {
  describe(`socket options (${transport.name} transport)`, () => {
    test("an accepted connection sends small writes at once (noDelay), unless told not to", async () => {
      for (const noDelay of [undefined, false]) {
        const calls: boolean[] = [];
        await using server = await serve({
          transport: recordingNoDelay(transport, calls),
          port: 0,
          noDelay,
          handler: echo,
        });
        await using conn = await connect({ transport, port: server.addr.port });
        await conn.write("x");
        assert.equal(new TextDecoder().decode(await conn.readExact(1)), "x");
        assert.deepEqual(calls, noDelay === false ? [] : [true], `noDelay: ${noDelay}`);
      }
    });

    test(
      "setKeepAlive(true, 5000) sets the kernel's timer, or is UnsupportedError (caps.keepAliveDelay)",
      {
        skip: !HAS_SS && "needs ss (iproute2) to read the kernel's timer",
      },
      async () => {
        await using server = await serve({ transport, port: 0, handler: echo });
        await using conn = await connect({ transport, port: server.addr.port });
        const port = conn.localAddr.transport === "tcp" ? conn.localAddr.port : 0;
        assert.equal(keepAliveTimer(port), undefined);
        if (transport.caps.keepAliveDelay === "unsupported") {
          assert.throws(() => conn.setKeepAlive(true, 5000), UnsupportedError);
          // On/off still works: the system's delay (2 h on Linux) applies.
          conn.setKeepAlive(true);
          assert.match(keepAliveTimer(port) ?? "none", /min$/);
          return;
        }
        conn.setKeepAlive(true, 5000);
        const timer = keepAliveTimer(port) ?? "none";
        // ss prints a few seconds as "4.9sec" (some versions "4.9ms"); the 2 h default as "119min".
        assert.match(timer, /^[0-5](\.\d+)?(ms|sec)$/, `keep-alive timer ${timer}`);
      },
    );
  });
}
