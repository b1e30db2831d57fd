/**
 * Pipelined requests (issue 18 item 2): the answers `forEachFrame()` gets to
 * the frames of one chunk go to the transport together, one write instead
 * of one per frame, in order, with the write limits kept. Counted over the
 * in-memory transport: how many writes it was asked for.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Conn, LineCodec } from "../mod.ts";
import { concat } from "./_helpers.ts";
import { scripted } from "./_scripted.ts";

const lines = new LineCodec();
const requests = (n: number) => Array.from({ length: n }, (_, i) => `req ${i}\n`).join("");
const text = (parts: Uint8Array[]) => new TextDecoder().decode(concat(parts));

for (const sync of [true, false]) {
  describe(`forEachFrame() answers pipelined requests (transport answering ${sync ? "at once" : "later"})`, () => {
    test("64 requests in one chunk: their 64 answers are one write, in order", async () => {
      const raw = scripted([requests(64)], sync);
      const conn = new Conn(raw);
      await conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `ok ${line}`));
      await conn.close();
      assert.equal(raw.sent.length, 1);
      assert.equal(
        text(raw.sent),
        Array.from({ length: 64 }, (_, i) => `ok req ${i}\n`).join(""),
      );
    });

    test("three chunks of 16 requests: one write per chunk", async () => {
      const raw = scripted([requests(16), requests(16), requests(16)], sync);
      const conn = new Conn(raw);
      await conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `ok ${line}`));
      await conn.close();
      assert.equal(raw.sent.length, 3);
      assert.equal(text(raw.sent).split("\n").length - 1, 48);
    });

    test("answers past 64 KiB go out in more writes, every byte in order", async () => {
      const raw = scripted([requests(64)], sync);
      const conn = new Conn(raw);
      const big = "x".repeat(2047);
      await conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `${line} ${big}`));
      await conn.close();
      assert.ok(raw.sent.length >= 2 && raw.sent.length <= 4, `${raw.sent.length} writes`);
      const expected = Array.from({ length: 64 }, (_, i) => `req ${i} ${big}\n`).join("");
      assert.equal(text(raw.sent), expected);
    });

    test("past the high-water mark, each write waits its turn and nothing is lost", async () => {
      const raw = scripted([requests(64)], sync);
      const conn = new Conn(raw, { writeHighWaterMark: 16 });
      await conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `ok ${line}`));
      await conn.close();
      assert.equal(
        text(raw.sent),
        Array.from({ length: 64 }, (_, i) => `ok req ${i}\n`).join(""),
      );
    });

    test("maxWriteBuffer counts what really waits, as without batching", async () => {
      const raw = scripted([requests(4)], sync);
      const conn = new Conn(raw, { maxWriteBuffer: 20 });
      const outcomes: string[] = [];
      await conn.forEachFrame(lines, (line) => {
        conn.write(`ok ${line}\n`).then(() => outcomes.push("ok"), (e) => outcomes.push(e.name));
      });
      await conn.close();
      // 9 bytes each. Taken at once, none waits: all four go. Taken later, two wait, the rest fail.
      if (sync) {
        assert.deepEqual(outcomes, ["ok", "ok", "ok", "ok"]);
        assert.equal(text(raw.sent), "ok req 0\nok req 1\nok req 2\nok req 3\n");
      } else {
        assert.deepEqual(outcomes, ["ok", "ok", "BufferFullError", "BufferFullError"]);
        assert.equal(text(raw.sent), "ok req 0\nok req 1\n");
      }
    });
  });
}
