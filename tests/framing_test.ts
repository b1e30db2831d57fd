/**
 * Framing over real sockets on every runtime: buffered reads keep bytes past
 * a frame, oversized and truncated frames get typed errors without
 * unbounded buffering, and other connections are not disturbed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type Conn,
  connect,
  FrameTooLargeError,
  LengthFieldCodec,
  LineCodec,
  serve,
  TruncatedFrameError,
} from "../mod.ts";
import { rss, RUNTIME } from "./_helpers.ts";

const text = (bytes: Uint8Array | null) => bytes && new TextDecoder().decode(bytes);

/** Runs `handler` on one connection to a server that sends `input` and half-closes. */
async function withPeerSending(input: Uint8Array | string, handler: (conn: Conn) => Promise<void>) {
  await using server = await serve({
    port: 0,
    handler: async (conn) => {
      await conn.write(input);
      await conn.closeWrite();
      await conn.read();
    },
  });
  await using conn = await connect({ port: server.addr.port });
  await handler(conn);
}

describe(`buffered reads on ${RUNTIME}`, () => {
  test("readLine(), readExact() and readUntil() share one buffer: nothing is lost between them", async () => {
    await withPeerSending("HELLO 3\r\nabcDATA|rest of it", async (conn) => {
      assert.equal(await conn.readLine(), "HELLO 3");
      assert.equal(text(await conn.readExact(3)), "abc");
      assert.equal(text(await conn.readUntil("|")), "DATA");
      assert.equal(text(await conn.read()), "rest of it");
      assert.equal(await conn.read(), null);
    });
  });

  test("frames() yields each frame of a codec, then ends at EOF", async () => {
    const codec = new LengthFieldCodec({ lengthFieldLength: 2 });
    const frames = ["one", "two", "", "three"].map((s) => new TextEncoder().encode(s));
    const wire = new Uint8Array(frames.reduce((n, f) => n + f.length + 2, 0));
    let offset = 0;
    for (const frame of frames) {
      wire.set(codec.encode(frame), offset);
      offset += frame.length + 2;
    }
    await withPeerSending(wire, async (conn) => {
      const got: string[] = [];
      for await (const frame of conn.frames(codec)) got.push(text(frame)!);
      assert.deepEqual(got, ["one", "two", "", "three"]);
    });
  });

  test("readExact() at EOF inside the frame is TruncatedFrameError", async () => {
    await withPeerSending("abc", async (conn) => {
      await assert.rejects(conn.readExact(10), TruncatedFrameError);
    });
  });

  test('readLine({ encoding: "gbk" }) decodes Chinese text', async () => {
    const gbk = new Uint8Array([0xc4, 0xe3, 0xba, 0xc3, 0x0a]); // 你好\n
    await withPeerSending(gbk, async (conn) => {
      assert.equal(await conn.readLine({ encoding: "gbk" }), "你好");
    });
  });

  test("a length header announcing 2^32-1 bytes, then EOF: a typed error, no allocation", async () => {
    await withPeerSending(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), async (conn) => {
      const codec = new LengthFieldCodec({ lengthFieldLength: 4, maxFrameLength: 2 ** 32 + 3 });
      const before = rss();
      const error = await conn.readFrame(codec.createDecoder()).then(() => null, (e) => e);
      assert.ok(error instanceof TruncatedFrameError, String(error));
      assert.ok(rss() - before < 64 * 1024 * 1024);
    });
  });

  test("an HTTP request sent to a length-prefixed server names HTTP in the error", async () => {
    let error: unknown;
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        for await (
          const _ of conn.frames(
            new LengthFieldCodec({ lengthFieldLength: 4, maxFrameLength: 65536 }),
          )
        );
      },
      onError: (e) => (error = e),
    });
    await using conn = await connect({ port: server.addr.port });
    await conn.write("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    assert.equal(await conn.read().catch(() => null), null);
    await server.shutdown();
    assert.ok(error instanceof FrameTooLargeError, String(error));
    assert.match(error.message, /exceeds maxFrameLength 65536/);
    assert.match(error.message, /look like an HTTP request/);
  });
});

describe(`a 1 GiB line against LineCodec({ maxLength: 1024 }) on ${RUNTIME}`, () => {
  test("the sender gets cut off early, others keep working, memory stays flat", async () => {
    const errors: { error: unknown; buffered: number }[] = [];
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        try {
          for await (const line of conn.frames(new LineCodec({ maxLength: 1024 }))) {
            await conn.write(`${line}\n`);
          }
        } catch (error) {
          errors.push({ error, buffered: conn.buffered });
          throw error;
        }
      },
    });
    const before = rss();
    const chunk = new Uint8Array(64 * 1024).fill(0x61); // "aaaa...", never a newline
    await using flooder = await connect({ port: server.addr.port });
    const flood = (async () => {
      let sent = 0;
      try {
        while (sent < 1024 ** 3) {
          await flooder.write(chunk);
          sent += chunk.length;
        }
      } catch {
        // The server closed the connection: that is the point.
      }
      return sent;
    })();
    // Well-behaved clients at the same time.
    const replies = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await using conn = await connect({ port: server.addr.port });
      await conn.write(`hello ${i}\n`);
      return await conn.readLine();
    }));
    assert.deepEqual(replies, Array.from({ length: 20 }, (_, i) => `hello ${i}`));
    const sent = await flood;
    const growth = rss() - before;
    console.log(
      `1 GiB line: sender cut off after ${(sent / 1024).toFixed(0)} KiB sent, ` +
        `${errors[0]?.buffered} bytes buffered at the error, RSS growth ${
          (growth / 1048576).toFixed(1)
        } MiB`,
    );
    assert.ok(sent < 1024 ** 3, "the sender was never cut off");
    assert.equal(errors.length, 1);
    assert.ok(errors[0].error instanceof FrameTooLargeError, String(errors[0].error));
    // One read's worth past the limit at most (runtimes read up to 64-512 KiB at a time).
    assert.ok(errors[0].buffered <= 1024 + 512 * 1024, `${errors[0].buffered} bytes buffered`);
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${growth} bytes`);
  });
});
