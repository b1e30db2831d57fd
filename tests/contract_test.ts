/**
 * The transport contract's synchronous paths (src/transport.ts): a read of
 * bytes already received calls its handler before `read()` returns, and a
 * write the runtime takes whole returns `undefined`. The core must behave the
 * same as when both settle later: checked here over an in-memory transport
 * that can do either, then on real sockets with a write queue that the
 * transport takes one synchronous write at a time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  Conn,
  connect,
  FrameTooLargeError,
  LineCodec,
  type RawConn,
  serve,
  ShutdownSignal,
  type Transport,
  TruncatedFrameError,
} from "../mod.ts";
import { concat, RUNTIME } from "./_helpers.ts";
import { ADDR, scripted } from "./_scripted.ts";

const text = (data: Uint8Array | null) => data === null ? null : new TextDecoder().decode(data);

for (const sync of [true, false]) {
  describe(`Conn over a transport that answers ${sync ? "at once" : "later"}`, () => {
    test("chunks, lines and exact reads share one buffer; the end is null", async () => {
      const conn = new Conn(scripted(["ab", "c\nde", "f\n", "xyz"], sync));
      assert.equal(text(await conn.readExact(1)), "a");
      assert.equal(await conn.readLine(), "bc");
      assert.equal(text(await conn.read()), "de");
      assert.equal(await conn.readLine(), "f");
      assert.equal(text(await conn.readExact(3)), "xyz");
      assert.equal(await conn.read(), null);
      assert.equal(await conn.readLine(), null);
      assert.equal(conn.bytesRead, 11);
    });

    test("frames() and for await end at the end of the stream", async () => {
      const codec = new LineCodec();
      const lines: string[] = [];
      for await (const line of new Conn(scripted(["a\nb", "\n", "c\n"], sync)).frames(codec)) {
        lines.push(line);
      }
      assert.deepEqual(lines, ["a", "b", "c"]);
      const chunks: string[] = [];
      for await (const chunk of new Conn(scripted(["x", "y"], sync))) chunks.push(text(chunk)!);
      assert.deepEqual(chunks, ["x", "y"]);
    });

    test("a frame cut by the end, or past maxReadBuffer, is a typed error", async () => {
      await assert.rejects(new Conn(scripted(["ab"], sync)).readExact(3), TruncatedFrameError);
      const conn = new Conn(scripted(["aaaa", "aaaa", "aaaa"], sync), { maxReadBuffer: 8 });
      await assert.rejects(conn.readUntil("\n", { maxLength: 100 }), FrameTooLargeError);
    });

    test("a line that arrives as 100,000 one-byte chunks (no recursion per chunk)", async () => {
      const conn = new Conn(scripted([..."x".repeat(100_000), "\n"], sync));
      assert.equal((await conn.readLine({ maxLength: 200_000 }))?.length, 100_000);
    });

    test("a second read while one waits is a TypeError; the first is unharmed", async () => {
      const raw = scripted(["a", "b\n"], sync);
      const conn = new Conn(raw);
      const line = conn.readLine();
      if (!sync) await assert.rejects(conn.read(), TypeError);
      assert.equal(await line, "ab");
    });

    test("forEach(): buffered bytes first, then each chunk once, in order; then reads again", async () => {
      const conn = new Conn(scripted(["ab\ncd", "ef", "gh"], sync));
      assert.equal(await conn.readLine(), "ab");
      const seen: string[] = [];
      await conn.forEach((chunk) => void seen.push(text(chunk)!));
      assert.deepEqual(seen, ["cd", "ef", "gh"]);
      assert.equal(conn.bytesRead, 9);
      assert.equal(await conn.read(), null);
    });

    test("forEach() over 100,000 one-byte chunks (no recursion per chunk)", async () => {
      let n = 0;
      await new Conn(scripted([..."x".repeat(100_000)], sync)).forEach(() => void n++);
      assert.equal(n, 100_000);
    });

    test("forEach(): fn's promise holds the next chunk back; what fn throws ends the loop", async () => {
      const conn = new Conn(scripted(["a", "b", "c", "d"], sync));
      const seen: string[] = [];
      let running = 0;
      let most = 0;
      const loop = conn.forEach(async (chunk) => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        seen.push(text(chunk)!);
        if (seen.length === 3) throw new Error("enough");
      });
      await assert.rejects(conn.read(), TypeError); // no other read meanwhile
      await assert.rejects(loop, /enough/);
      assert.equal(most, 1);
      assert.deepEqual(seen, ["a", "b", "c"]);
      assert.equal(text(await conn.read()), "d");
      await assert.rejects(conn.forEach(null as never), TypeError);
    });

    test("forEachFrame(): buffered bytes first, frames across chunks, in order; then reads again", async () => {
      const conn = new Conn(scripted(["xa\nb", "c\n", "d\ne\n", "f"], sync));
      assert.equal(text(await conn.readExact(1)), "x");
      const lines: string[] = [];
      const loop = conn.forEachFrame(new LineCodec(), (line) => void lines.push(line));
      await assert.rejects(loop, TruncatedFrameError); // "f" has no newline
      assert.deepEqual(lines, ["a", "bc", "d", "e"]);
      const ends = new Conn(scripted(["1\n2", "\n"], sync));
      const all: string[] = [];
      await ends.forEachFrame(new LineCodec(), (line) => void all.push(line));
      assert.deepEqual(all, ["1", "2"]);
      assert.equal(await ends.read(), null);
    });

    test("forEachFrame(): fn's promise holds the next frame back, frames of one chunk too", async () => {
      const conn = new Conn(scripted(["a\nb\nc\n", "d\n"], sync));
      const seen: string[] = [];
      let running = 0;
      let most = 0;
      await conn.forEachFrame(new LineCodec(), async (line) => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        seen.push(line);
      });
      assert.equal(most, 1);
      assert.deepEqual(seen, ["a", "b", "c", "d"]);
    });

    test("forEachFrame(): 100,000 one-byte chunks; past maxReadBuffer is FrameTooLargeError", async () => {
      let n = 0;
      const chunks = [..."123456789\n".repeat(10_000)];
      await new Conn(scripted(chunks, sync)).forEachFrame(new LineCodec(), () => void n++);
      assert.equal(n, 10_000);
      const conn = new Conn(scripted(["aaaa", "aaaa", "aaaa"], sync), { maxReadBuffer: 8 });
      const codec = new LineCodec({ maxLength: 100 });
      await assert.rejects(conn.forEachFrame(codec, () => {}), FrameTooLargeError);
    });

    for (const readsInto of [false, true]) {
      const how = readsInto ? "a transport that reads into it" : "copies";
      test(`readInto() (${how}): buffered bytes first, as much as fits, null at the end`, async () => {
        const conn = new Conn(scripted(["ab\ncdefg", "hi"], sync, readsInto));
        assert.equal(await conn.readLine(), "ab");
        const buffer = new Uint8Array(3);
        const got: string[] = [];
        for (let n; (n = await conn.readInto(buffer)) !== null;) {
          got.push(text(buffer.subarray(0, n))!);
        }
        assert.deepEqual(got, ["cde", "fg", "hi"]);
        assert.equal(await conn.readInto(buffer), null);
        assert.equal(conn.bytesRead, 10);
        await assert.rejects(conn.readInto(new Uint8Array(0)), TypeError);
      });

      test(`readInto() (${how}) of any buffer sizes yields the stream's bytes in order`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 12 }),
            fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
            async (chunks, sizes) => {
              const conn = new Conn(scripted(chunks, sync, readsInto));
              const got: number[] = [];
              for (let i = 0;; i++) {
                const buffer = new Uint8Array(sizes[i % sizes.length]);
                const n = await conn.readInto(buffer);
                if (n === null) break;
                assert.ok(n > 0 && n <= buffer.length);
                got.push(...buffer.subarray(0, n));
              }
              assert.deepEqual(got, chunks.flatMap((chunk) => [...chunk]));
            },
          ),
          { numRuns: 100 },
        );
      });
    }

    test("writes go out whole and in order; write() resolves at once", async () => {
      const raw = scripted([], sync);
      const conn = new Conn(raw);
      await Promise.all(["one", "two", "three"].map((word) => conn.write(word)));
      await conn.close();
      assert.equal(text(concat(raw.sent)), "onetwothree");
      assert.equal(conn.bytesWritten, 11);
    });
  });
}

test("serve(): a connection accepted in the turn shutdown() begins is told to end, and counted", async () => {
  let accepted!: (raw: RawConn | null) => void;
  let closed = false;
  const transport: Transport = {
    name: "scripted",
    caps: {
      halfClose: "native",
      reset: "unsupported",
      peerReset: "unsupported",
      reusePort: "unsupported",
      unix: "unsupported",
      startTlsClient: "unsupported",
      startTlsServer: "unsupported",
      acceptRecovery: "unsupported",
      keepAliveDelay: "unsupported",
    },
    connect: () => Promise.reject(new Error("not here")),
    listen: () =>
      Promise.resolve({
        addr: ADDR,
        accept: () => closed ? Promise.resolve(null) : new Promise((r) => (accepted = r)),
        close() {
          closed = true;
          accepted(null);
          return Promise.resolve();
        },
        ref() {},
        unref() {},
      }),
  };
  let reason: unknown;
  const server = await serve({
    transport,
    handler: async (conn) => {
      if (!conn.signal.aborted) {
        await new Promise((resolve) => conn.signal.addEventListener("abort", resolve));
      }
      reason = conn.signal.reason;
    },
  });
  // The accept resolves in the same turn as shutdown() starts: the connection
  // is open by the time the shutdown tells the open ones to end.
  accepted(scripted([], true));
  // Done as soon as the last connection is: not at the deadline (an hour away; 30 s of slack).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    server.shutdown({ deadlineMs: 3_600_000 }),
    new Promise((resolve) => (timer = setTimeout(resolve, 30_000, "waited for the deadline"))),
  ]);
  clearTimeout(timer);
  assert.ok(reason instanceof ShutdownSignal, `the handler ended for ${reason}`);
  assert.deepEqual(result, { finished: 1, aborted: 0 });
});

test(`100,000 one-byte writes queued behind 8 MiB arrive in order (${RUNTIME}: no recursion per write)`, async () => {
  const BLOCK = 8 * 1024 * 1024;
  const COUNT = 100_000;
  await using server = await serve({
    port: 0,
    handler: async (conn) => {
      // The block cannot be taken at once, so every small write queues behind it; once it
      // is out, the queue is sent in one go, mostly synchronously.
      const writes = [conn.write(new Uint8Array(BLOCK))];
      for (let i = 0; i < COUNT; i++) writes.push(conn.write(new Uint8Array([i % 251])));
      await Promise.all(writes);
    },
  });
  await using conn = await connect({ port: server.addr.port });
  const received: Uint8Array[] = [];
  for await (const chunk of conn) received.push(chunk);
  const all = concat(received);
  assert.equal(all.length, BLOCK + COUNT);
  for (let i = 0; i < COUNT; i++) {
    if (all[BLOCK + i] !== i % 251) assert.fail(`byte ${i} is ${all[BLOCK + i]}, not ${i % 251}`);
  }
});
